"""Private notes: each participant's drafts room, published onto the board when collecting ends.

A note written privately lives in the drafts room ``{room}~{participant}``,
which only its author and the facilitators can open, so its text never
reaches another participant's connection. When the facilitator moves the
board out of the collect phase, the server copies every draft onto the board
(logged like any change) and then removes it from the drafts room.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from candor.board import model
from candor.board.projection import board_to_json
from candor.board.transact import transact
from candor.errors import CandorError
from candor.history.rebuild import rebuild
from candor.ids import SERVER_ACCESS, RoomId
from candor.log.snapshots import SnapshottedLog
from candor.rooms.registry import RoomRegistry

logger = logging.getLogger("candor.reveal")

DRAFTS_SEPARATOR = "~"


def drafts_room(room: str, subject: str) -> str:
    return f"{room}{DRAFTS_SEPARATOR}{subject}"


def split_drafts_room(name: str) -> tuple[str, str] | None:
    """``(board room, participant)`` for a drafts room name, else None."""
    if DRAFTS_SEPARATOR not in name:
        return None
    room, subject = name.split(DRAFTS_SEPARATOR, 1)
    return (room, subject) if room and subject else None


def server_note_id() -> str:
    """A note id only the server hands out (participants cannot add notes under it): nothing collides with it."""
    return model.SERVER_NOTE_PREFIX + secrets.token_hex(8)


def _publishing(drafts: dict[str, dict[str, Any]]) -> Callable[[Doc[Any]], None]:
    """Adds each draft to the board under its own id, or a new id of the server's when the board has that one.

    It runs in the board's writer, on the board as logged, so no note can take
    the id between the look and the write: a draft never replaces a note.
    """

    def publish(doc: Doc[Any]) -> None:
        board_notes = doc.get(model.NOTES, type=Map)
        for draft_id, note in drafts.items():
            note_id = draft_id
            while note_id in board_notes:
                note_id = server_note_id()
            board_notes[note_id] = Map(note)

    return publish


def _removing(state: bytes, note_ids: list[str]) -> bytes:
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    drafts = doc.get(model.NOTES, type=Map)

    def remove(_: Doc[Any]) -> None:
        for note_id in note_ids:
            if note_id in drafts:
                del drafts[note_id]

    return transact(doc, remove, origin="candor-reveal")


class Revealer:
    """Publishes the drafts of each room whose collect phase ended, as rooms announce it on ``collect_ended``.

    :meth:`run` (a task of the app's lifespan) owns one task per reveal, in a task group of its own.
    """

    def __init__(self, log: SnapshottedLog, registry: RoomRegistry, collect_ended: asyncio.Queue[RoomId]) -> None:
        self.log = log
        self.registry = registry
        self._collect_ended = collect_ended

    async def run(self) -> None:
        """Reveal each room announced, each in a task of its own, until cancelled (which cancels them too)."""
        async with asyncio.TaskGroup() as reveals:
            while True:
                room = await self._collect_ended.get()
                reveals.create_task(self._reveal_logged(room), name=f"reveal:{room}")

    async def _reveal_logged(self, room: RoomId) -> None:
        try:
            await self.reveal(room)
        except Exception:  # a reveal's failure is its own room's, not the other reveals'
            logger.exception("reveal failed", extra={"room": room})

    async def _state(self, room: RoomId) -> bytes:
        state = await self.registry.read(room, lambda doc: doc.get_update())
        if state is not None:
            return state
        rebuilt = await rebuild(self.log, room, await self.log.head(room))
        return rebuilt.doc.get_update()

    async def reveal(self, room: RoomId) -> int:
        """Publish every draft of ``room``; returns how many notes moved."""
        prefix = room + DRAFTS_SEPARATOR
        moved = 0
        for drafts in [r for r in await self.log.rooms() if r.startswith(prefix)]:
            state = await self._state(drafts)
            scratch: Doc[Any] = Doc()
            scratch.apply_update(state)
            # A withdrawn draft stays where it is, unpublished (a purge can then remove its words).
            notes = {
                note_id: note
                for note_id, note in board_to_json(scratch)[model.NOTES].items()
                if isinstance(note, dict) and note.get("withdrawn") is not True
            }
            if not notes:
                continue
            try:
                await self.registry.submit(room, _publishing(notes), SERVER_ACCESS)
            except CandorError as exc:
                logger.error("room %s: drafts of %s not revealed, kept: %s", room, drafts, exc.message)
                continue
            await self.registry.submit(drafts, _removing(state, list(notes)), SERVER_ACCESS)
            moved += len(notes)
        logger.info("room %s: revealed %d private notes", room, moved, extra={"room": room, "count": moved})
        return moved
