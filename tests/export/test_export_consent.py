"""Consent in every export, note by note: scope decides who sees a note, only a signature shows a name, and
withdrawn, deleted and purged notes stay out."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import Any

import pytest
from pptx import Presentation

from boards import call
from candor.export.markdown import render_markdown
from candor.export.model import WITHDRAWN_TEXT, Export, RoomInfo
from candor.export.themes import RoomBoard, build_sections, placed_notes, section_rules
from workshop import Workshop, fetch, run_workshop

FORMATS = ["md", "html", "json", "pptx"]
SCOPES = {"room": {"room", "event", "public"}, "event": {"event", "public"}, "public": {"public"}}


@pytest.fixture(scope="module")
def shop(make_module_server: Any) -> Workshop:
    return asyncio.run(run_workshop(make_module_server(open_rooms=False)))


def text_of(fmt: str, body: bytes) -> str:
    """Everything a reader of the file could see (every slide and its speaker notes, for pptx)."""
    if fmt != "pptx":
        return body.decode()
    deck = Presentation(io.BytesIO(body))
    parts = []
    for slide in deck.slides:
        parts += [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def exported(shop: Workshop, path: str, fmt: str) -> str:
    status, _, body = fetch(
        shop.event.server, f"{path}{'&' if '?' in path else '?'}format={fmt}", shop.event.facilitator
    )
    assert status == 200, body
    return text_of(fmt, body)


def export_json(shop: Workshop, path: str) -> dict[str, Any]:
    return json.loads(exported(shop, path, "json"))  # type: ignore[no-any-return]


def notes_of(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every note of a JSON export by id."""
    found = {}
    for section in export["sections"]:
        for note in section["notes"] + [n for c in section["clusters"] for n in c["notes"]]:
            assert note["id"] not in found  # each note once
            found[note["id"]] = note
    return found


def expected(board: dict[str, Any], audience: str) -> dict[str, dict[str, Any]]:
    """The test's own reading of the rules: not withdrawn, and a scope the audience may see."""
    return {
        note_id: note
        for note_id, note in board["notes"].items()
        if not note.get("withdrawn") and note.get("scope", "room") in SCOPES[audience]
    }


def ids(shop: Workshop, *keys: str) -> set[str]:
    return {shop.note(key).id for key in keys}


# -- who sees which note ---------------------------------------------------------------


def test_room_export_holds_every_note_of_the_room_as_the_board_has_it(shop: Workshop) -> None:
    board = shop.event.board(shop.room1)["board"]
    export = export_json(shop, f"/api/rooms/{shop.room1}/export")
    notes = notes_of(export)
    assert set(notes) == set(expected(board, "room")) == ids(shop, "A1", "A2", "B1", "B2", "C1")
    for note_id, note in notes.items():
        assert note["text"] == board["notes"][note_id]["text"]
        assert note["scope"] == board["notes"][note_id]["scope"]


def test_event_export_holds_only_notes_shared_with_the_event(shop: Workshop) -> None:
    export = export_json(shop, f"/api/events/{shop.event.id}/export")
    assert set(notes_of(export)) == ids(shop, "A1", "A2", "B2", "C1", "D1", "D3")
    for fmt in FORMATS:
        text = exported(shop, f"/api/events/{shop.event.id}/export", fmt)
        for key in ("B1", "D2"):  # scoped to their room
            assert shop.note(key).text not in text, (fmt, key)


def test_public_exports_hold_only_public_notes(shop: Workshop) -> None:
    event = export_json(shop, f"/api/events/{shop.event.id}/export?audience=public")
    assert set(notes_of(event)) == ids(shop, "A2", "B2", "D3")
    room = export_json(shop, f"/api/rooms/{shop.room1}/export?audience=public")
    assert set(notes_of(room)) == ids(shop, "A2", "B2")


def test_a_cluster_with_nothing_to_show_is_left_out(shop: Workshop) -> None:
    # "Funding" holds only B1, which is scoped to the room: its label must not hint at it.
    assert "Funding" in exported(shop, f"/api/rooms/{shop.room1}/export", "md")
    for fmt in FORMATS:
        assert "Funding" not in exported(shop, f"/api/events/{shop.event.id}/export", fmt), fmt


# -- names and pseudonyms -----------------------------------------------------------------


def test_only_signed_notes_carry_a_name(shop: Workshop) -> None:
    notes = notes_of(export_json(shop, f"/api/events/{shop.event.id}/export"))
    authors = {key: notes[shop.note(key).id]["author"] for key in ("A1", "A2", "B2", "C1", "D1", "D3")}
    assert authors == {"A1": "Ada", "A2": "anonymous", "B2": "Ben", "C1": "anonymous", "D1": "Dee", "D3": "anonymous"}
    assert {key: notes[shop.note(key).id]["signed"] for key in ("A1", "A2")} == {"A1": True, "A2": False}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_public_export_names_only_who_signed_a_public_note(shop: Workshop, fmt: str) -> None:
    text = exported(shop, f"/api/events/{shop.event.id}/export?audience=public", fmt)
    assert re.search(r"\bBen\b", text)  # B2: public and signed
    assert not re.search(r"\bAda\b", text)  # A2 is public but unsigned; A1 is signed but not public
    assert not re.search(r"\bDee\b", text)  # D3 is public but unsigned


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["rooms/{room1}/export?audience=room", "events/{event}/export?audience=event"])
def test_pseudonyms_never_leave_the_board(shop: Workshop, fmt: str, path: str) -> None:
    text = exported(shop, "/api/" + path.format(room1=shop.room1, event=shop.event.id), fmt)
    for note in shop.notes.values():
        assert note.author not in text  # writers' and voters' pseudonyms alike


# -- moments: deletion, withdrawal, purge -------------------------------------------------


def test_an_export_at_the_midpoint_is_the_board_as_it_stood(shop: Workshop) -> None:
    board = call(
        shop.event.server, "GET", f"/api/rooms/{shop.room1}/board?at={shop.midpoint}&token={shop.event.facilitator}"
    )
    export = export_json(shop, f"/api/rooms/{shop.room1}/export?at={shop.midpoint}")
    assert export["rooms"][0]["seq"] == shop.midpoint
    notes = notes_of(export)
    assert set(notes) == set(expected(board.body["board"], "room"))
    assert ids(shop, "A3", "C2") <= set(notes)  # not yet withdrawn, not yet deleted
    assert all(section["clusters"] == [] for section in export["sections"])
    assert all(note["votes"] == 0 for note in notes.values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_deleted_and_withdrawn_notes_stay_out_of_later_exports(shop: Workshop, fmt: str) -> None:
    for path in (f"/api/rooms/{shop.room1}/export", f"/api/events/{shop.event.id}/export"):
        text = exported(shop, path, fmt)
        assert shop.note("C2").text not in text
        assert shop.note("A3").text not in text
        assert shop.note("A3").id not in text


def _room_at(shop: Workshop, seq: int, purged: set[str]) -> Export:
    board = call(shop.event.server, "GET", f"/api/rooms/{shop.room1}/board?at={seq}&token={shop.event.facilitator}")
    room = RoomBoard(RoomInfo(shop.room1, "Room 1"), board.body["board"], seq, None, frozenset(purged))
    rules = section_rules(board.body["board"]["sections"])
    sections = build_sections(placed_notes([room], rules, "room", {}), rules, "room")
    return Export("room", "room", "Room 1", None, None, None, "now", 0, "today", (), sections)


def test_a_purged_note_shows_as_withdrawn_in_exports_of_earlier_moments(shop: Workshop) -> None:
    a3 = shop.note("A3")
    earlier = _room_at(shop, shop.midpoint, {a3.id})
    [placeholder] = [n for s in earlier.sections for n in s.all_notes if n.id == a3.id]
    assert placeholder.text == WITHDRAWN_TEXT and placeholder.purged
    assert placeholder.author_name is None and placeholder.votes == 0
    markdown = render_markdown(earlier)
    assert WITHDRAWN_TEXT in markdown and a3.text not in markdown
    later = _room_at(shop, shop.end, {a3.id})
    assert a3.id not in {n.id for s in later.sections for n in s.all_notes}


# -- votes and the synthesis --------------------------------------------------------------


def test_votes_are_summed_and_order_the_notes_of_a_cluster(shop: Workshop) -> None:
    export = export_json(shop, f"/api/rooms/{shop.room1}/export")
    [ideas] = [s for s in export["sections"] if s["id"] == "practical-ideas"]
    culture = next(c for c in ideas["clusters"] if c["label"] == "Culture")
    assert [(n["id"], n["votes"]) for n in culture["notes"]] == [
        (shop.note("A1").id, 3),
        (shop.note("C1").id, 3),
        (shop.note("B2").id, 1),
    ]
    assert culture["votes"] == 7
    assert ideas["clusters"][0]["label"] == "Culture"  # most voted cluster first


def test_practical_ideas_are_brought_together_across_rooms(shop: Workshop) -> None:
    export = export_json(shop, f"/api/events/{shop.event.id}/export")
    [ideas] = [s for s in export["sections"] if s["id"] == "practical-ideas"]
    clusters = {c["label"]: [(n["id"], n["rooms"]) for n in c["notes"]] for c in ideas["clusters"]}
    assert clusters == {  # "Culture" and "  culture " are one cluster, most voted first
        "Culture": [
            (shop.note("A1").id, ["Room 1"]),
            (shop.note("C1").id, ["Room 1"]),
            (shop.note("B2").id, ["Room 1"]),
            (shop.note("D1").id, ["Room 2"]),
        ],
    }
    assert [(n["id"], n["rooms"]) for n in ideas["notes"]] == [(shop.note("D3").id, ["Room 2"])]
