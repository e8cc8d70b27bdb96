"""Purging withdrawn notes: their text is overwritten everywhere in storage; the fact they existed stays.

A note's text is stored in a Yjs update as a msgpack-free lib0 "any" string:
the byte 119, the UTF-8 length as a varuint, then the bytes. Every text a
withdrawn note ever had is found by replaying its room's log, and each
occurrence is replaced, in place, by as many '#' — the same length, so every
update, snapshot and log record stays readable and the board rebuilds with the
note present but its text gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map, write_var_uint

from candor.board import model
from candor.events.reveal import DRAFTS_SEPARATOR
from candor.ids import RoomId
from candor.log.base import EventLog
from candor.rooms.registry import RoomRegistry

LIB0_ANY_STRING = 119
FILLER = b"#"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    room: RoomId
    notes: list[str]
    rewritten: int


def encoded_text(text: str) -> bytes:
    data = text.encode()
    return bytes([LIB0_ANY_STRING]) + write_var_uint(len(data)) + data


def _filler_for(text: str) -> bytes:
    size = len(text.encode())
    return bytes([LIB0_ANY_STRING]) + write_var_uint(size) + FILLER * size


async def _texts_of(log: EventLog, rooms: list[RoomId]) -> tuple[set[str], set[str]]:
    """(withdrawn note ids, every text those notes ever had), from the full logs of ``rooms``."""
    histories: list[list[dict[str, Any]]] = []
    withdrawn: set[str] = set()
    for room in rooms:
        doc: Doc[Any] = Doc()
        notes = doc.get(model.NOTES, type=Map)
        states: list[dict[str, Any]] = []
        for record in await log.read(room, after=0):  # type: ignore[arg-type]
            doc.apply_update(record.update)
            states.append({k: v.get("text") for k, v in (notes.to_py() or {}).items() if isinstance(v, dict)})
        final = notes.to_py() or {}
        withdrawn |= {k for k, v in final.items() if isinstance(v, dict) and v.get("withdrawn")}
        histories.append(states)
    texts = {
        text
        for states in histories
        for state in states
        for note_id, text in state.items()
        if note_id in withdrawn and isinstance(text, str) and text
    }
    return withdrawn, texts


async def purge_withdrawn(log: EventLog, registry: RoomRegistry, room: RoomId) -> PurgeResult:
    """Overwrite the text of every withdrawn note of ``room`` (and of its drafts) in storage."""
    prefix = room + DRAFTS_SEPARATOR
    rooms = [room, *(r for r in await log.rooms() if r.startswith(prefix))]
    async with registry.paused(rooms, "the facilitator is purging withdrawn notes; reconnect in a moment"):
        withdrawn, texts = await _texts_of(log, rooms)
        rewritten = await log.redact(rooms, {encoded_text(t): _filler_for(t) for t in texts})
        if withdrawn:
            await log.mark_purged(room, sorted(withdrawn), int(time.time() * 1000))
    return PurgeResult(room, sorted(withdrawn), rewritten)
