"""Retention (``candor serve --retain-days N``): events idle longer than N days are erased by a background sweep.

An event's last activity is the time of the newest record in any of its
rooms or drafts rooms (its creation when none is newer). The sweep runs
every ``every_s`` seconds in a task that the app's lifespan starts and stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from candor.errors import CandorError, EventNotFound
from candor.ids import RoomId, Seq
from candor.workshops.erase import Eraser
from candor.workshops.reveal import split_drafts_room

logger = logging.getLogger("candor.retention")

DAY_S = 24 * 3600
MAX_SWEEP_EVERY_S = 3600.0


def retention_notice(retain_days: float | None) -> str | None:
    """The sentence participants read before they join (and the start page shows); None without retention."""
    if retain_days is None:
        return None
    days = "1 day" if retain_days == 1 else f"{retain_days:g} days"
    return (
        f"Everything written on these boards is erased from the server {days} after the event's last activity, "
        "or earlier if the facilitator erases the event."
    )


class Retention:
    """Erases the events whose last activity is more than ``retain_days`` ago."""

    def __init__(self, eraser: Eraser, retain_days: float, *, clock: Callable[[], float] = time.time) -> None:
        self.eraser = eraser
        self.retain_s = retain_days * DAY_S
        # Often enough that an event outlives its retention by a small part of it, at most an hour.
        self.every_s = min(MAX_SWEEP_EVERY_S, max(1.0, self.retain_s / 10))
        self._clock = clock

    async def run(self) -> None:
        """Sweep now and then every ``every_s`` seconds, until cancelled; a failed sweep is retried at the next."""
        while True:
            try:
                await self.sweep()
            except CandorError as exc:
                logger.warning("retention sweep failed, retried in %.0f s: %s", self.every_s, exc.message)
            await asyncio.sleep(self.every_s)

    async def sweep(self) -> list[str]:
        """Erase every event past its retention; the ids erased."""
        store, log = self.eraser.store, self.eraser.log
        cutoff_ms = int((self._clock() - self.retain_s) * 1000)
        drafts: dict[str, list[RoomId]] = {}
        for room in await log.rooms():
            split = split_drafts_room(room)
            if split is not None:
                drafts.setdefault(split[0], []).append(room)
        erased = []
        for event_id in await store.event_ids():
            event = await store.event(event_id)
            if event is None or event.created_ms > cutoff_ms:
                continue
            rooms = [RoomId(room.id) for room in await store.rooms(event_id)]
            rooms += [draft for room in rooms for draft in drafts.get(room, [])]
            if await self._active_after(rooms, cutoff_ms):
                continue
            try:
                await self.eraser.erase(event_id)
            except EventNotFound:
                continue  # another process erased it first
            logger.info("event %s erased after its retention period", event_id)
            erased.append(event_id)
        return erased

    async def _active_after(self, rooms: list[RoomId], cutoff_ms: int) -> bool:
        """Whether any of ``rooms`` has a record newer than ``cutoff_ms``."""
        log = self.eraser.log
        for room in rooms:
            head = await log.head(room)
            last = await log.read(room, after=Seq(head - 1), upto=head) if head else []
            if last and last[-1].time_ms > cutoff_ms:
                return True
        return False
