"""GET /api/rooms/{room}/history: what happened, derived from the log, in pages that start from a snapshot."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from boards import call
from candor.board.initial import initial_board
from candor.board.templates import builtin_templates, template_to_json
from candor.history.timeline import timeline
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, LogRecord, SnapshotRecord
from candor.log.sqlite import SqliteLog
from workshop import IDEAS, Workshop, run_workshop

SNAPSHOT_EVERY = 4


@pytest.fixture(scope="module")
def shop(make_module_server: Any) -> Workshop:
    server = make_module_server("--snapshot-every", str(SNAPSHOT_EVERY), open_rooms=False)
    return asyncio.run(run_workshop(server))


def history(shop: Workshop, query: str = "") -> dict[str, Any]:
    reply = call(shop.event.server, "GET", f"/api/rooms/{shop.room1}/history{query}", token=shop.event.facilitator)
    assert reply.status == 200, reply
    return reply.body  # type: ignore[no-any-return]


def test_history_tells_what_happened_in_log_order(shop: Workshop) -> None:
    page = history(shop, "?limit=1000")
    events = page["events"]
    assert page["next"] is None
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[-1]["seq"] == shop.end
    note = {key: shop.note(key).id for key in shop.notes}

    def about(kind: str, **fields: Any) -> list[dict[str, Any]]:
        return [e for e in events if e["kind"] == kind and all(e.get(k) == v for k, v in fields.items())]

    assert events[0]["kind"] == "board_created" and events[0]["actor"] == "server"
    assert about("note_added", note=note["A1"], author="Ada")
    assert about("note_added", note=note["A2"], author="anonymous")  # Ada's, but unsigned
    assert about("note_deleted", note=note["C2"], author="anonymous")
    assert about("note_withdrawn", note=note["A3"], author="Ada")
    assert about("note_moved", note=note["A1"])
    assert about("note_clustered", note=note["B1"], cluster=shop.clusters["Funding"])
    assert about("cluster_created", cluster=shop.clusters["Culture"])
    assert about("cluster_labelled", cluster=shop.clusters["Funding"])
    assert about("phase_changed", **{"from": "collect", "to": "vote"})
    assert about("phase_changed", **{"from": "vote", "to": "done"})
    assert about("timer_set", duration_s=300)
    assert about("locked") and about("unlocked")
    assert sorted(e["count"] for e in about("vote_cast")) == [1, 1, 2, 3]
    for event in events:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])


def test_history_shows_no_text_and_no_pseudonym(shop: Workshop) -> None:
    events = history(shop, "?limit=1000")["events"]
    dumped = json.dumps(events)
    for written in shop.notes.values():
        assert written.text not in dumped
        assert written.author not in dumped
    assert all(re.fullmatch(r"p-[\w-]+|server", e["actor"]) for e in events)


def test_history_pages_join_up(shop: Workshop) -> None:
    whole = history(shop, "?limit=1000")["events"]
    pages: list[list[dict[str, Any]]] = []
    after: int | None = 0
    while after is not None:
        page = history(shop, f"?after={after}&limit=3")
        pages.append(page["events"])
        after = page["next"]
        assert len(pages) < 100
    assert [e for page in pages for e in page] == whole
    for page in pages:  # at most 3, unless one record alone holds more
        assert len(page) <= 3 or len({e["seq"] for e in page}) == 1
    assert all(page for page in pages)


def test_history_starts_where_asked(shop: Workshop) -> None:
    page = history(shop, f"?after={shop.midpoint}&limit=1")
    assert [e["seq"] for e in page["events"]] == [shop.midpoint + 1]
    assert page["next"] == shop.midpoint + 1
    assert history(shop, f"?after={shop.end}") == {"room": shop.room1, "events": [], "next": None}


@pytest.mark.parametrize("query", ["?limit=0", "?limit=1001", "?limit=ten", "?after=-1"])
def test_history_refuses_bad_paging(shop: Workshop, query: str) -> None:
    reply = call(shop.event.server, "GET", f"/api/rooms/{shop.room1}/history{query}", token=shop.event.facilitator)
    assert reply.status == 400 and "whole number" in reply.error["message"]


def test_history_needs_the_facilitator(shop: Workshop) -> None:
    path = f"/api/rooms/{shop.room1}/history"
    assert call(shop.event.server, "GET", path, token=shop.event.join("Eve").token).status == 403
    assert call(shop.event.server, "GET", path, token=shop.event.viewer).status == 403
    assert call(shop.event.server, "GET", path).status == 401


class CountingLog(SqliteLog):
    """Counts the records a reader asks for."""

    read_count = 0

    async def read(self, room: RoomId, after: Seq, upto: Seq | None = None) -> list[LogRecord]:
        records = await super().read(room, after, upto)
        self.read_count += len(records)
        return records


async def test_a_late_page_replays_only_from_the_nearest_snapshot(tmp_path: Path) -> None:
    log = CountingLog(tmp_path / "log.sqlite3")
    room = RoomId("long")
    doc: Doc[Any] = Doc()
    doc.apply_update(
        initial_board(template_to_json(builtin_templates()["beyond-hero-stories"]), event_id="e", kind="breakout")
    )
    entries = [Entry(int(time.time() * 1000), PeerId("server"), doc.get_update())]
    notes = doc.get("notes", type=Map)
    for n in range(1, 2000):
        before = doc.get_state()
        notes[f"n{n}"] = Map({"section": IDEAS, "text": f"idea {n}", "author": "u-x", "author_name": None})
        entries.append(Entry(int(time.time() * 1000), PeerId("p-x"), doc.get_update(before)))
        if n == 1499:
            snapshot = doc.get_update()
    await log.append(room, entries)
    await log.write_snapshot(SnapshotRecord(room, Seq(1500), 0, snapshot))
    page = await timeline(log, room, Seq(1700), limit=10)
    assert [e["note"] for e in page.events] == [f"n{n}" for n in range(1700, 1710)]
    assert page.next == 1710
    assert log.read_count <= 200 + 200  # records 1501..1700 to catch up, then one batch
    await log.close()
