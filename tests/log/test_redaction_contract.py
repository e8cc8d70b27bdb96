"""The Redaction contract, over every backend: only the given rooms rewritten, in place; purged notes remembered."""

from __future__ import annotations

from log_records import put, rec

from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, SnapshotRecord
from candor.log.redaction import PurgeableLog

ROOM = RoomId("room-a")
OTHER = RoomId("room-b")
SECRET = b"\x77\x0bsecret text"


def scrub(update: bytes) -> bytes:
    """A rewrite that removes the secret (and changes the length, as blanking a note's text does)."""
    return update.replace(SECRET, b"-")


async def test_redact_rewrites_every_record_and_snapshot_its_rewrite_changes(redaction: PurgeableLog) -> None:
    updates = [b"a" + SECRET + b"z" if seq % 4 == 0 else b"plain %d" % seq for seq in range(1, 31)]
    await redaction.append(ROOM, [Entry(1000 * seq, PeerId("p-x"), u) for seq, u in enumerate(updates, 1)])
    await redaction.write_snapshot(SnapshotRecord(ROOM, Seq(20), 20_000, b"state" + SECRET))
    await redaction.write_snapshot(SnapshotRecord(ROOM, Seq(28), 28_000, b"state without it"))

    rewritten = await redaction.redact([ROOM], scrub)

    assert rewritten == 7 + 1  # seqs 4, 8, ... 28 and one snapshot
    records = await redaction.read(ROOM, after=Seq(0))
    assert [r.update for r in records] == [scrub(u) for u in updates]
    assert [r.seq for r in records] == list(range(1, 31))
    assert [r.time_ms for r in records] == [1000 * seq for seq in range(1, 31)]
    snapshot = await redaction.latest_snapshot(ROOM, at_or_before=Seq(25))
    assert snapshot == SnapshotRecord(ROOM, Seq(20), 20_000, b"state-")
    # The room goes on: the next record follows the last one.
    assert [r.seq for r in await put(redaction, ROOM, 31)] == [31]
    assert await redaction.read(ROOM, after=Seq(0)) == [*records, rec(31)]
    assert await redaction.redact([ROOM], scrub) == 0


async def test_redact_leaves_every_other_room_as_it_was(redaction: PurgeableLog) -> None:
    await redaction.append(ROOM, [Entry(1000, PeerId("p-x"), SECRET)])
    await put(redaction, OTHER, 1)
    await redaction.append(OTHER, [Entry(2000, PeerId("p-x"), SECRET)])
    await redaction.write_snapshot(SnapshotRecord(OTHER, Seq(2), 2000, b"state" + SECRET))
    before = await redaction.read(OTHER, after=Seq(0))

    assert await redaction.redact([ROOM], scrub) == 1

    assert await redaction.read(OTHER, after=Seq(0)) == before
    assert (await redaction.read(OTHER, after=Seq(1)))[0].update == SECRET
    assert await redaction.latest_snapshot(OTHER) == SnapshotRecord(OTHER, Seq(2), 2000, b"state" + SECRET)


async def test_redacting_no_rooms_rewrites_nothing(redaction: PurgeableLog) -> None:
    await redaction.append(ROOM, [Entry(1000, PeerId("p-x"), SECRET)])
    assert await redaction.redact([], scrub) == 0
    assert (await redaction.read(ROOM, after=Seq(0)))[0].update == SECRET


async def test_purged_notes_are_remembered_with_their_first_time(redaction: PurgeableLog) -> None:
    assert await redaction.purged_notes(ROOM) == {}
    await redaction.mark_purged(ROOM, ["n1", "n2"], 100)
    await redaction.mark_purged(ROOM, ["n2", "n3"], 200)
    assert await redaction.purged_notes(ROOM) == {"n1": 100, "n2": 100, "n3": 200}
    assert await redaction.purged_notes(OTHER) == {}
