"""Event details a facilitator fills for the exports: set and read over the API, checked, kept in SQLite (files made
before the column existed included) and in Redis."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boards import call, create_event
from candor.errors import BadRequest
from candor.workshops.details import details_to_json, parse_details
from candor.workshops.redis import RedisEventStore
from candor.workshops.store import EventRecord, SqliteEventStore
from redis_server import RedisServer, flushed_redis, redis_server

__all__ = ["flushed_redis", "redis_server"]

FULL = {
    "question": "How can we move beyond hero stories?",
    "date": "2026-11-23",
    "where": "NCCPE Unconference",
    "facilitators": [{"name": "Sarah Morton", "about": "Matter of Focus"}, {"name": "Peter Lefort"}],
    "participants": 45,
    "participants_about": "public engagement and research impact professionals",
    "next_steps": ["We will take this to the engage conference"],
}


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    return make_module_server(open_rooms=False)


def test_a_facilitator_sets_the_details_and_reads_them_back(server: Any) -> None:
    event = create_event(server, template="beyond-hero-stories")
    path = f"/api/events/{event.id}/details"
    assert call(server, "GET", path, token=event.facilitator).body == {"event_id": event.id, "details": {}}
    reply = call(server, "PUT", path, {**FULL, "where": "  NCCPE Unconference ", "participants_about": "   "},
                 token=event.facilitator)  # fmt: skip
    assert reply.status == 200, reply
    expected = {k: v for k, v in FULL.items() if k != "participants_about"}  # blank counts as not filled
    assert reply.body["details"] == expected
    assert call(server, "GET", path, token=event.facilitator).body["details"] == expected
    assert call(server, "PUT", path, {}, token=event.facilitator).body["details"] == {}  # replaced as a whole


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"date": "2026-02-30"}, "not a day"),
        ({"date": "23/11/2026"}, "date"),
        ({"participants": -1}, "participants"),
        ({"participants": "45"}, "participants"),
        ({"facilitators": [{"about": "no name"}]}, "name"),
        ({"where": "x" * 301}, "where"),
        ({"next_steps": [""]}, "next_steps"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_details_are_checked(server: Any, body: dict[str, Any], words: str) -> None:
    event = create_event(server)
    reply = call(server, "PUT", f"/api/events/{event.id}/details", body, token=event.facilitator)
    assert reply.status == 400, reply
    assert words in reply.error["message"]


def test_only_the_facilitator_may_read_or_set_them(server: Any) -> None:
    event = create_event(server)
    path = f"/api/events/{event.id}/details"
    participant = event.join("Eve")
    for token in (participant.token, event.viewer):
        assert call(server, "GET", path, token=token).status == 403
        assert call(server, "PUT", path, FULL, token=token).status == 403
    assert call(server, "PUT", path, FULL).status == 401
    assert call(server, "GET", path, token=event.facilitator).body["details"] == {}


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "question": st.text(max_size=500),
            "where": st.text(max_size=300),
            "participants": st.integers(0, 100000),
            "facilitators": st.lists(
                st.fixed_dictionaries({"name": st.text(min_size=1, max_size=80).filter(str.strip)}), max_size=12
            ),
            "next_steps": st.lists(st.text(min_size=1, max_size=500).filter(str.strip), max_size=10),
        },
    )
)
def test_details_round_trip_through_json(data: dict[str, Any]) -> None:
    details = parse_details(data)
    assert parse_details(json.loads(json.dumps(details_to_json(details)))) == details


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_anything_but_an_object_is_refused(data: object) -> None:
    with pytest.raises(BadRequest):
        parse_details(data)


OLD_SCHEMA = """
CREATE TABLE events (id TEXT PRIMARY KEY, title TEXT NOT NULL, template TEXT NOT NULL, created_ms INTEGER NOT NULL,
    join_code TEXT NOT NULL, epoch INTEGER NOT NULL DEFAULT 0);
CREATE TABLE rooms (id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events (id), kind TEXT NOT NULL,
    label TEXT NOT NULL, position INTEGER NOT NULL);
INSERT INTO events VALUES ('ev1', 'Before details', '{"id": "blank"}', 1, 'ABCDEF', 0);
"""


def test_an_events_file_made_before_details_gains_them_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)

    async def run() -> None:
        store = SqliteEventStore(path)
        assert (await store.event("ev1")) is not None
        assert await store.details("ev1") == {}
        await store.set_details("ev1", {"participants": 12})
        await store.close()
        again = SqliteEventStore(path)  # opening it again adds nothing twice
        assert await again.details("ev1") == {"participants": 12}
        await again.close()

    asyncio.run(run())


def test_redis_keeps_the_details_beside_the_event(flushed_redis: RedisServer) -> None:
    async def run() -> None:
        store = await RedisEventStore.connect(flushed_redis.url)
        event = EventRecord("ev-redis", "Event", {"id": "blank"}, int(time.time() * 1000), "CODE23", 0)
        await store.create(event, [])
        assert await store.details("ev-redis") == {}
        await store.set_details("ev-redis", FULL)
        assert await store.details("ev-redis") == FULL
        await store.set_details("ev-nowhere", FULL)  # an event that does not exist gets no hash
        assert await store.event("ev-nowhere") is None
        await store.close()

    asyncio.run(run())
