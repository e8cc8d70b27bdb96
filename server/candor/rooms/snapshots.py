"""A room's snapshots: when one is due, and writing it (a missing snapshot only makes the next load slower)."""

from __future__ import annotations

import logging
import time

from candor.errors import CandorError, RoomOutdated
from candor.ids import RoomId, Seq
from candor.log.base import SnapshotRecord
from candor.log.snapshots import SnapshottedLog
from candor.metrics import Metrics

logger = logging.getLogger("candor.room")


class Snapshots:
    """Snapshots of one room, written by its writer every ``every`` records and when it stops."""

    def __init__(self, room_id: RoomId, log: SnapshottedLog, *, every: int, seq: Seq, metrics: Metrics) -> None:
        self.seq = seq  # the last snapshot's position in the log
        self._room_id = room_id
        self._log = log
        self._every = every
        self._metrics = metrics

    def due(self, head: Seq) -> bool:
        return head - self.seq >= self._every

    def behind(self, head: Seq) -> bool:
        """Records were logged since the last snapshot."""
        return head > self.seq

    async def write(self, head: Seq, state: bytes) -> None:
        """Store ``state`` (the document holding exactly records 1..``head``).

        Raises RoomOutdated when storage was rewritten under this copy of the
        room (a purge another process ran); any other failure is logged.
        """
        snapshot = SnapshotRecord(self._room_id, head, int(time.time() * 1000), state)
        try:
            await self._log.write_snapshot(snapshot)
        except RoomOutdated:
            raise
        except CandorError as exc:
            logger.warning(
                "room %s: snapshot at seq %d failed: %s",
                self._room_id,
                head,
                exc,
                extra={"room": self._room_id, "seq": head, "reason": exc.code},
            )
            return
        self._metrics.snapshots.inc()
        self.seq = head
