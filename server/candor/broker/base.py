"""The interface between the rooms of one process and the other processes serving the same boards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from candor.ids import RoomId
from candor.log.base import LogRecord

# Records another process appended to a room's log, in seq order (they may repeat ones already applied).
RecordsCallback = Callable[[list[LogRecord]], None]
# An awareness update (y-protocols encoding) a peer of another process sent.
AwarenessCallback = Callable[[bytes], None]
# The awareness states of this process's own peers of a room, encoded; None when there are none.
AwarenessSource = Callable[[], bytes | None]


class Broker(Protocol):
    """Delivers what other processes do to the rooms this process has loaded.

    Ordering: for each room, records reach ``on_records`` in seq order, each
    batch after the previous one; a record may be delivered again (a process
    sees its own appends too), never skipped. Awareness is best effort: it is
    relayed, never logged, and lost while the transport is down (clients renew
    their state every 15 s). Callbacks run on the event loop and must not block.
    Transport failures never reach the callbacks: the broker retries by itself.
    """

    async def start(self) -> None:
        """Start the broker's own tasks, in a task group the broker holds; they run until :meth:`close`.

        Its owner (the app's lifespan) calls both, once each.
        """
        ...

    async def subscribe(
        self,
        room: RoomId,
        on_records: RecordsCallback,
        on_awareness: AwarenessCallback,
        local_awareness: AwarenessSource | None = None,
    ) -> None:
        """Register interest in ``room`` first; return once every record appended from now on will be delivered.

        A process joining a room subscribes, then loads snapshot + log up to
        some seq N, and drops deliveries at or below N: nothing is missed and
        nothing is applied twice. ``local_awareness`` answers other processes
        that join the room later and ask who is present here. Raises
        :class:`~candor.errors.LogUnavailable` when the subscription cannot be made.
        """
        ...

    def unsubscribe(self, room: RoomId) -> None:
        """Stop delivering ``room`` (idempotent); deliveries already under way may still arrive."""
        ...

    def publish_awareness(self, room: RoomId, payload: bytes) -> None:
        """Relay an awareness update of one of this process's peers to the other processes; never blocks."""
        ...

    async def close(self) -> None:
        """Stop the broker's tasks, wait until each has ended, and release its connections."""
        ...
