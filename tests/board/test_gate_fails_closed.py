"""The gate fails closed: every shape it does not allow, and every value it cannot read, is a refusal.

The attacks found against the earlier gate, each as the class it belongs to.
"""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from candor.board.gate import LoggedState
from candor.board.projection import board_to_json
from candor.errors import Forbidden, InvalidBoard, InvalidUpdate
from candor.ids import SERVER_ACCESS
from candor.protocol.lib0 import write_uint
from candor.protocol.update import ANY, TYPE
from gatekit import ADA, BO, BOARD, FACILITATOR, SECTION, VIEWER, Room, Writer
from ycraft import any_item, item, map_chain, nested_array, update, values

TEXT = "We don't talk about failure and learn from it."


def note(author: str, text: str = TEXT, **fields: Any) -> dict[str, Any]:
    return {"section": SECTION, "text": text, "author": author, "scope": "room", "colour": "yellow", **fields}


def add(note_id: str, fields: dict[str, Any]) -> Any:
    return lambda doc: doc.get("notes", type=Map).__setitem__(note_id, Map(fields))


def set_field(note_id: str, key: str, value: Any) -> Any:
    return lambda doc: doc.get("notes", type=Map)[note_id].__setitem__(key, value)


@pytest.fixture
def room() -> Room:
    return Room()


def refused(room: Room, error: type[Exception], write: Any) -> None:
    """``write()`` is refused with ``error`` and the board is byte for byte what it was."""
    before = room.fingerprint()
    with pytest.raises(error):
        write()
    assert room.fingerprint() == before


# -- what pycrdt could not survive never reaches it --------------------------------------------


@pytest.mark.parametrize("depth", [5, 1_200, 20_000, 30_000])
def test_a_value_nested_deep_is_refused_before_pycrdt_decodes_it(room: Room, depth: int) -> None:
    crafted = update(5, [any_item("meta", "title", nested_array(depth))])
    refused(room, InvalidUpdate, lambda: room.admit(FACILITATOR, crafted))


def test_maps_nested_in_maps_are_refused_before_pycrdt_decodes_them(room: Room) -> None:
    refused(room, InvalidUpdate, lambda: room.admit(ADA, map_chain(5, "notes", "n1", 50_000)))
    refused(room, (InvalidUpdate, InvalidBoard), lambda: room.admit(ADA, map_chain(5, "notes", "n1", 3)))


def test_a_note_field_nested_deep_cannot_carry_a_forged_note_past_the_gate(room: Room) -> None:
    # The earlier gate could not read a field nested past json's recursion limit, and skipped the note.
    entry = item(TYPE, write_uint(1), parent="notes", key="forged")
    fields = [
        item(ANY, values(nested_array(1_200)), parent=(5, 0), key="padding"),
        item(ANY, values(b"\x77\x05u-bob"), parent=(5, 0), key="author"),
        item(ANY, values(b"\x77\x03Bob"), parent=(5, 0), key="author_name"),
        item(ANY, values(b"\x77\x07unknown"), parent=(5, 0), key="section"),
    ]
    refused(room, InvalidUpdate, lambda: room.admit(ADA, update(5, [entry, *fields])))
    assert "forged" not in room.board()["notes"]


# -- one shape per entry -----------------------------------------------------------------------


def test_a_note_whose_text_is_a_shared_text_is_refused(room: Room) -> None:
    ada = Writer(room, ADA, 11)
    refused(room, InvalidUpdate, lambda: ada.write(add("n1", {**note("u-ada"), "text": Text(TEXT)})))


def test_a_note_that_is_a_plain_object_not_a_map_is_refused(room: Room) -> None:
    ada = Writer(room, ADA, 11)
    refused(
        room, InvalidBoard, lambda: ada.write(lambda doc: doc.get("notes", type=Map).__setitem__("n1", note("u-ada")))
    )


@pytest.mark.parametrize(
    "value",
    [Map({"a": 1}), Array([1, 2]), [TEXT], {"text": TEXT}],
    ids=["map", "array", "list", "object"],
)
def test_a_note_field_holds_a_plain_scalar_only(room: Room, value: Any) -> None:
    ada = Writer(room, ADA, 11)
    ada.write(add("n1", note("u-ada")))
    with pytest.raises((InvalidBoard, InvalidUpdate)):
        ada.write(set_field("n1", "text", value))
    with pytest.raises((InvalidBoard, InvalidUpdate)):
        ada.write(add("n2", {**note("u-ada"), "colour": value}))
    assert room.board()["notes"]["n1"]["text"] == TEXT and "n2" not in room.board()["notes"]


def test_unknown_fields_sections_and_roots_are_refused(room: Room) -> None:
    ada = Writer(room, ADA, 11)
    refused(room, InvalidBoard, lambda: ada.write(add("n1", note("u-ada", bogus=1))))
    refused(room, InvalidBoard, lambda: ada.write(add("n1", {**note("u-ada"), "section": "nowhere"})))
    refused(room, InvalidBoard, lambda: ada.write(add("n1", note("u-ada", "x" * 6_300))))
    refused(room, InvalidBoard, lambda: room.admit(FACILITATOR, update(5, [any_item("elsewhere", "k", b"\x7e")])))
    refused(
        room, InvalidBoard, lambda: room.admit(FACILITATOR, update(5, [item(ANY, values(b"\x7e"), parent="notes")]))
    )


def test_an_item_placed_in_a_map_the_board_does_not_have_is_refused(room: Room) -> None:
    stray = update(5, [item(ANY, values(b"\x77\x01x"), parent=(424242, 7), key="text")])
    refused(room, InvalidUpdate, lambda: room.admit(ADA, stray))


# -- authorship is the server's rules, for everyone -------------------------------------------


def test_a_facilitator_never_writes_a_participants_authorship(room: Room) -> None:
    ada, host = Writer(room, ADA, 11), Writer(room, FACILITATOR, 12)
    ada.write(add("n1", note("u-ada", author_name="Ada")))
    refused(room, Forbidden, lambda: host.write(add("n2", note("u-ada"))))
    refused(room, Forbidden, lambda: host.write(add("n1", note("u-ada", "replaced"))))
    refused(room, Forbidden, lambda: host.write(set_field("n1", "author_name", None)))
    refused(room, Forbidden, lambda: host.write(set_field("n1", "author", "facilitator")))
    host.write(add("n3", note("facilitator")))  # their own note, as themselves
    host.write(set_field("n1", "text", "Moderated"))  # and editing the words of any note
    assert room.board()["notes"]["n1"]["author_name"] == "Ada"


def test_a_participant_writes_only_themselves_and_never_provenance(room: Room) -> None:
    ada = Writer(room, ADA, 11)
    refused(room, Forbidden, lambda: ada.write(add("n1", note("u-bo"))))
    refused(room, Forbidden, lambda: ada.write(add("n1", note("u-ada", author_name="Bo"))))
    refused(room, Forbidden, lambda: ada.write(add("n1", note("u-ada", from_room="ev1-r2"))))
    refused(room, Forbidden, lambda: ada.write(add("n1", note("u-ada", carried_votes=40))))
    refused(room, Forbidden, lambda: ada.write(add("s-1234", note("u-ada"))))  # the server's ids
    ada.write(add("n1", note("u-ada", author_name="Ada")))


def test_the_server_may_carry_authorship_but_never_change_it(room: Room) -> None:
    server = Writer(room, SERVER_ACCESS, 13)
    server.write(add("s-1", note("u-ada", author_name="Ada", from_room="ev1-r2", from_note="n9", carried_votes=3)))
    refused(room, Forbidden, lambda: server.write(set_field("s-1", "author", "u-bo")))
    refused(room, Forbidden, lambda: server.write(set_field("s-1", "carried_votes", 99)))


def test_a_viewer_writes_nothing(room: Room) -> None:
    viewer = Writer(room, VIEWER, 14)
    refused(room, Forbidden, lambda: viewer.write(add("n1", note("viewer"))))


def test_no_new_notes_once_the_session_is_done(room: Room) -> None:
    ada, host = Writer(room, ADA, 11), Writer(room, FACILITATOR, 12)
    ada.write(add("n1", note("u-ada")))
    host.write(lambda doc: doc.get("meta", type=Map).__setitem__("phase", "done"))
    refused(room, Forbidden, lambda: ada.write(add("n2", note("u-ada"))))
    refused(room, Forbidden, lambda: host.write(add("n3", note("facilitator"))))
    ada.write(set_field("n1", "withdrawn", True))  # taking a note back is always possible


# -- votes -------------------------------------------------------------------------------------


def test_a_ballot_holds_only_the_voters_own_dots_within_the_budget(room: Room) -> None:
    ada, bo, host = Writer(room, ADA, 11), Writer(room, BO, 15), Writer(room, FACILITATOR, 12)
    ada.write(add("n1", note("u-ada")))
    host.write(lambda doc: doc.get("meta", type=Map).__setitem__("phase", "vote"))
    votes = lambda ballot: lambda doc: doc.get("votes", type=Map).__setitem__("n1", Map(ballot))  # noqa: E731
    refused(room, Forbidden, lambda: ada.write(votes({"u-ada": 99, "u-bo": 99})))
    refused(room, Forbidden, lambda: ada.write(votes({"u-ada": 6})))  # the budget is 5
    refused(room, Forbidden, lambda: host.write(votes({"u-ada": 3})))  # nobody votes for someone else
    ada.write(votes({"u-ada": 2}))
    refused(room, Forbidden, lambda: bo.write(lambda doc: doc.get("votes", type=Map)["n1"].__setitem__("u-ada", 0)))
    bo.write(lambda doc: doc.get("votes", type=Map)["n1"].__setitem__("u-bo", 1))
    refused(room, Forbidden, lambda: host.write(lambda doc: doc.get("votes", type=Map)["n1"].__setitem__("u-bo", 5)))
    host.write(lambda doc: doc.get("votes", type=Map)["n1"].pop("u-ada"))  # clearing is the facilitator's
    assert room.board()["votes"]["n1"] == {"u-bo": 1}


# -- what storage already holds ----------------------------------------------------------------


def test_a_stored_update_outside_the_bounds_is_left_out_when_the_board_is_rebuilt() -> None:
    doc: Doc[Any] = Doc()
    doc.apply_update(BOARD)
    doc.get("notes", type=Map)["n1"] = Map(note("u-ada"))
    fine = doc.get_update()
    deadly = update(5, [any_item("meta", "title", nested_array(30_000))])
    chain = map_chain(6, "notes", "n2", 20)
    rebuilt, _ = LoggedState(fine, [deadly, chain]).rebuild([])
    board = board_to_json(rebuilt)
    assert board["notes"]["n1"]["text"] == TEXT and "n2" not in board["notes"]
    assert board["meta"]["title"] != [[1]]


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")], ids=["inf", "-inf", "nan"])
def test_a_number_that_is_not_finite_is_refused(room: Room, number: float) -> None:
    # pycrdt renders it as null in JSON: a check reading JSON would see a value that is not there.
    ada = Writer(room, ADA, 11)
    ada.write(add("n1", note("u-ada")))
    refused(room, InvalidUpdate, lambda: ada.write(set_field("n1", "author_name", number)))
    refused(room, InvalidUpdate, lambda: ada.write(set_field("n1", "x", number)))


@pytest.mark.parametrize(
    "value", [bytes([127]), bytes([116, 2, 1, 2]), bytes([122]) + bytes(8)], ids=["undefined", "bytes", "bigint"]
)
def test_a_value_that_is_not_json_is_refused(room: Room, value: bytes) -> None:
    refused(room, InvalidUpdate, lambda: room.admit(FACILITATOR, update(5, [any_item("meta", "title", value)])))
