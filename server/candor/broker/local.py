"""The broker of a single process: there is nobody else to tell, so it does nothing."""

from __future__ import annotations

from candor.broker.base import AwarenessCallback, AwarenessSource, RecordsCallback
from candor.ids import RoomId


class LocalBroker:
    """``candor serve`` without ``--redis-url``: every peer of a room is in this process."""

    async def start(self) -> None:
        return None

    async def subscribe(
        self,
        room: RoomId,
        on_records: RecordsCallback,
        on_awareness: AwarenessCallback,
        local_awareness: AwarenessSource | None = None,
    ) -> None:
        return None

    def unsubscribe(self, room: RoomId) -> None:
        return None

    def publish_awareness(self, room: RoomId, payload: bytes) -> None:
        return None

    async def close(self) -> None:
        return None
