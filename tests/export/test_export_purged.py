"""After the facilitator purges a withdrawn note, exports of earlier moments show "[withdrawn]" in its place."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from boards import call
from candor.export.model import WITHDRAWN_TEXT
from workshop import Workshop, fetch, run_workshop


@pytest.fixture(scope="module")
def purged(make_module_server: Any) -> Workshop:
    shop = asyncio.run(run_workshop(make_module_server(open_rooms=False)))
    reply = call(shop.event.server, "POST", f"/api/rooms/{shop.room1}/purge", {}, token=shop.event.facilitator)
    assert reply.status == 200, reply
    assert reply.body["purged"] == [shop.note("A3").id]
    return shop


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_a_purged_note_is_a_placeholder_in_an_export_of_an_earlier_moment(purged: Workshop, fmt: str) -> None:
    path = f"/api/rooms/{purged.room1}/export?format={fmt}&at={purged.midpoint}"
    status, _, body = fetch(purged.event.server, path, purged.event.facilitator)
    assert status == 200
    text = body.decode()
    assert WITHDRAWN_TEXT in text
    assert purged.note("A3").text not in text
    assert "#" * len(purged.note("A3").text) not in text  # nor the filler the purge wrote


def test_the_placeholder_carries_no_name_and_no_votes(purged: Workshop) -> None:
    path = f"/api/rooms/{purged.room1}/export?format=json&at={purged.midpoint}"
    export = json.loads(fetch(purged.event.server, path, purged.event.facilitator)[2])
    notes = {n["id"]: n for s in export["sections"] for n in s["notes"]}
    placeholder = notes[purged.note("A3").id]
    assert placeholder == {
        **placeholder,
        "text": WITHDRAWN_TEXT,
        "author": "anonymous",
        "signed": False,
        "votes": 0,
        "withdrawn": True,
        "created_at": None,
    }


def test_a_purged_note_is_absent_from_exports_after_its_withdrawal(purged: Workshop) -> None:
    status, _, body = fetch(
        purged.event.server, f"/api/rooms/{purged.room1}/export?format=md", purged.event.facilitator
    )
    assert status == 200
    assert WITHDRAWN_TEXT not in body.decode()
