"""Reads a room from storage, its last snapshot then the log after it, into the value a Room is built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from candor.board.gate import BoardGate, LoggedState
from candor.board.safe import EntryIndex, apply_stored
from candor.ids import RoomId, Seq
from candor.log.snapshots import SnapshottedLog
from candor.rooms.admission import Admission, BoardAdmission, OpenAdmission


@dataclass(frozen=True, slots=True)
class LoadedRoom:
    """A room as storage holds it: its admission (which owns the document), and where the log and snapshot stand."""

    id: RoomId
    admission: Admission
    head: Seq
    snapshot_seq: Seq
    records_read: int  # after the snapshot
    refused: int  # stored updates left out: outside the bounds (written before a check, or damaged)


async def load_room(log: SnapshottedLog, room_id: RoomId, *, board: bool, max_board_bytes: int) -> LoadedRoom:
    """Read ``room_id``; a ``board`` is checked by its gate from then on, any other room is free-form.

    Raises what the log raises (LogUnavailable, ...), and ValueError for a
    record pycrdt cannot read at all.
    """
    doc: Doc[Any] = Doc()
    index = EntryIndex() if board else None
    snapshot = await log.latest_snapshot(room_id)
    start = Seq(0)
    size = 0
    refused = 0
    if snapshot is not None:
        refused += not apply_stored(doc, snapshot.state, index, where=f"(room {room_id} snapshot)")
        start = snapshot.seq
        size = len(snapshot.state)
    records = await log.read(room_id, after=start)
    for record in records:
        refused += not apply_stored(doc, record.update, index, where=f"(room {room_id}, seq {record.seq})")
        size += len(record.update)
    head = records[-1].seq if records else start
    admission: Admission
    if index is not None:
        logged = LoggedState(snapshot.state if snapshot else b"", [r.update for r in records])
        gate = BoardGate(logged, max_board_bytes, (doc, index))
        admission = BoardAdmission(gate, size_bytes=size)
    else:
        admission = OpenAdmission(doc, size_bytes=size, max_bytes=max_board_bytes)
    return LoadedRoom(room_id, admission, head, start, records_read=len(records), refused=refused)
