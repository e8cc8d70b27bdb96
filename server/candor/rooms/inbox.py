"""A room's commands, in arrival order, for its one writer: what peers, the server and other processes ask of it.

Commands that wait for an answer carry a future; the writer resolves every
one of them, with a result or an error, also when it stops (:func:`refuse`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from candor.errors import CandorError
from candor.ids import Access, Seq
from candor.log.base import Entry, LogRecord
from candor.protocol import SyncStep1, SyncStep2, SyncUpdate
from candor.rooms.peer import Peer


@dataclass(frozen=True, slots=True)
class Greet:
    """A peer just attached: send it the document's state vector and the presence shown."""

    peer: Peer


@dataclass(frozen=True, slots=True)
class FromPeer:
    peer: Peer
    message: SyncStep1 | SyncStep2 | SyncUpdate


@dataclass(frozen=True, slots=True)
class FromServer:
    """A change the server itself makes (revealing, facilitator broadcasts); ``done`` resolves once logged.

    ``change`` is either a ready update or a function that edits a copy of the
    current document (so it can overwrite existing values correctly).
    """

    change: bytes | Callable[[Doc[Any]], None]
    access: Access
    done: asyncio.Future[Seq | None]


@dataclass(frozen=True, slots=True)
class Read:
    """Run ``read`` on the document as broadcast (nothing admitted and not yet logged); ``done`` gets its result."""

    read: Callable[[Doc[Any]], Any]
    done: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class FromLog:
    """Records another process appended to this room's log."""

    records: list[LogRecord]


@dataclass(frozen=True, slots=True)
class Wake:
    """Re-evaluate idleness (the last peer left)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Finish what is queued, snapshot, and end the writer; peers are closed with ``error``."""

    error: CandorError


Command = Greet | FromPeer | FromServer | Read | FromLog | Wake | Stop


def refuse(command: Command, error: BaseException) -> None:
    """Answer a command the writer will never carry out with ``error`` (if anyone waits for an answer)."""
    if isinstance(command, FromServer | Read) and not command.done.done():
        command.done.set_exception(error)


class Inbox:
    """The room's commands in arrival order, for its one writer.

    What ``asyncio.Queue`` does for one consumer, without looking up the
    running loop on every put and get (each lookup a ``getpid()`` on Python
    3.11), as every update passes through here.
    """

    def __init__(self) -> None:
        self._commands: deque[Command] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, command: Command) -> None:
        self._commands.append(command)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._commands

    def get_nowait(self) -> Command:
        return self._commands.popleft()

    async def get(self) -> Command:
        if not self._commands:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._commands.popleft()

    def refuse_all(self, error: BaseException) -> None:
        """Empty the inbox, answering every command that waits for an answer with ``error``."""
        while self._commands:
            refuse(self._commands.popleft(), error)


class Group:
    """Updates the writer admitted from one batch of commands, to append to the log together.

    A server-made change waits for its seq: given once the group is logged (None for an empty update).
    """

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._waiting: list[tuple[asyncio.Future[Seq | None], int | None]] = []

    def add(self, entry: Entry | None, done: asyncio.Future[Seq | None] | None = None) -> None:
        if entry is not None:
            self.entries.append(entry)
        if done is not None:
            self._waiting.append((done, len(self.entries) - 1 if entry is not None else None))

    def updates(self) -> list[bytes]:
        return [entry.update for entry in self.entries]

    def logged(self, records: list[LogRecord]) -> None:
        """The entries were appended as ``records``, in order."""
        for done, index in self._waiting:
            if not done.done():
                done.set_result(records[index].seq if index is not None else None)

    def failed(self, error: CandorError) -> None:
        for done, _ in self._waiting:
            if not done.done():
                done.set_exception(error)
