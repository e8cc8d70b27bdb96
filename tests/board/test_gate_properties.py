"""Property: whatever sequence of edits anyone sends, an admitted update keeps the board valid and every role rule,
and a refused one leaves the board exactly as it was.

Edits come from random actors (facilitator, two participants, a viewer, the
server) on every root, with random shapes and types: plain values of every
kind, lists and objects, nested Y.Maps and Y.Arrays, Y.Text, values nested
deep, huge strings, crafted bytes. No server: the gate runs in-process as a
room runs it (tests/gatekit.py). ``loadtests/gate_properties.py`` runs the
same properties for as long as it is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from candor.board import model
from candor.ids import SERVER_ACCESS, Access, Role
from gatekit import ADA, BO, FACILITATOR, REFUSALS, SECTION, VIEWER, Room, Writer
from ycraft import any_item, map_chain, nested_array, nested_object, update

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "board.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

ACTORS = {"facilitator": FACILITATOR, "ada": ADA, "bo": BO, "viewer": VIEWER, "server": SERVER_ACCESS}
SENTENCES = [
    "Felt safe, but there are not very many safe spaces to do this.",
    "Nice to not feel like you had to be positive.",
    "Not being judged or blamed.",
    "If you're not failing, you're not innovating.",
]
NOTE_IDS = ["m0", "m1", "m2", "n1", "s-1"]
KEYS = sorted(model.NOTE_FIELDS | {"bogus", ""})

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([*SENTENCES, "", "x" * 6_000, *model.COLOURS, *model.SCOPES, *model.PHASES, SECTION]),
    st.sampled_from(["u-ada", "u-bo", "facilitator", "Ada", "Bo", "ev1-r2", "n1"]),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
)


@st.composite
def values(draw: st.DrawFn) -> Any:
    """A value to put in the board: plain, or a shared type (built fresh each time, as pycrdt needs)."""
    kind = draw(st.sampled_from(["plain", "plain", "plain", "json", "map", "array", "text"]))
    if kind == "plain":
        return draw(scalars)
    if kind == "json":
        return draw(json_values)
    if kind == "map":
        return Map(draw(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3)))
    if kind == "array":
        return Array(draw(st.lists(scalars, max_size=3)))
    return Text(draw(st.sampled_from(SENTENCES)))


@st.composite
def notes(draw: st.DrawFn, writer: str) -> dict[str, Any]:
    """A note's fields: mostly a plausible note by its writer, with random fields changed, added or left out."""
    someone = st.sampled_from(["u-ada", "u-bo", "facilitator", "server"])
    fields: dict[str, Any] = {
        "section": SECTION,
        "text": draw(st.sampled_from(SENTENCES)),
        "author": draw(st.one_of(st.just(writer), st.just(writer), someone)),
        "scope": "room",
        "colour": "yellow",
        "x": 10,
        "y": 20,
        "created_ms": 1_765_000_000_000,
    }
    if draw(st.booleans()):
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=3)):
            fields[key] = draw(values())
        for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=2)):
            fields.pop(key, None)
    return fields


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(actor, what, payload): one edit of one root, or crafted bytes."""
    actor = draw(st.sampled_from(["ada", "bo", "facilitator", "ada", "bo", "facilitator", "viewer", "server"]))
    what = draw(
        st.sampled_from(
            [
                *["add", "add", "replace", "field", "field", "delete", "meta", "phase"],
                *["section", "cluster", "vote", "vote", "crafted"],
            ]
        )
    )
    note_id = draw(st.sampled_from(NOTE_IDS))
    if what == "add":  # mostly as a Y.Map; sometimes as a plain object, which has no place on a board
        fields = draw(notes(ACTORS[actor].subject))
        return actor, what, (note_id, fields, draw(st.sampled_from([Map, Map, Map, dict])))
    if what == "replace":  # the note put again in its own place: changed a little, as a map or a plain object
        changes = draw(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=1))
        return actor, what, (ACTORS[actor].subject, changes, draw(st.sampled_from([Map, dict])))
    if what == "field":
        return actor, what, (note_id, draw(st.sampled_from(KEYS)), draw(values()))
    if what == "delete":
        return actor, what, note_id
    if what == "meta":
        return actor, what, (draw(st.sampled_from(sorted(model.META_FIELDS | {"bogus"}))), draw(values()))
    if what == "phase":
        return "facilitator", "meta", ("phase", draw(st.sampled_from(model.PHASES)))
    if what == "section":
        return actor, what, draw(st.one_of(json_values, st.builds(dict, id=st.just("new"), title=st.just("New"))))
    if what == "cluster":
        fields = draw(st.dictionaries(st.sampled_from(["section", "label", "x", "y", "bogus"]), scalars, max_size=4))
        return actor, what, (draw(st.sampled_from(["c1", "c2"])), fields)
    if what == "vote":
        counts = st.one_of(st.integers(0, 6), st.integers(0, 6), scalars)
        ballot = draw(st.dictionaries(st.sampled_from(["u-ada", "u-bo", "facilitator"]), counts, max_size=2))
        return actor, what, (note_id, ballot, draw(st.booleans()))
    depth = draw(st.sampled_from([3, 5, 33, 1_300, 25_000]))
    root = draw(st.sampled_from(["notes", "meta", "votes", "elsewhere"]))
    crafted = draw(
        st.sampled_from(
            [
                update(9_999, [any_item(root, "k", nested_array(depth))]),
                update(9_999, [any_item(root, "k", nested_object(min(depth, 40)))]),
                map_chain(9_999, root, "k", min(depth, 2_000)),
            ]
        )
    )
    return actor, what, crafted


def apply_edit(doc: Doc[Any], what: str, payload: Any) -> None:
    notes_root = doc.get("notes", type=Map)
    if what == "add":
        note_id, fields, container = payload
        notes_root[note_id] = container(fields)
    elif what == "replace":  # the writer's own note if there is one: the likeliest to get through
        writer, changes, container = payload
        own = [k for k, v in notes_root.items() if isinstance(v, Map) and v.get("author") == writer]
        current = notes_root.get(own[0]) if own else None
        if isinstance(current, Map):
            notes_root[own[0]] = container({**current.to_py(), **changes})
    elif what == "field":
        note_id, key, value = payload
        target = notes_root.get(note_id)
        if isinstance(target, Map) and key:
            target[key] = value
        else:  # the note itself, whatever it was
            notes_root[note_id] = value
    elif what == "delete":
        if payload in notes_root:
            del notes_root[payload]
    elif what == "meta":
        key, value = payload
        doc.get("meta", type=Map)[key] = value
    elif what == "section":
        doc.get("sections", type=Array).append(payload)
    elif what == "cluster":
        cluster_id, fields = payload
        doc.get("clusters", type=Map)[cluster_id] = Map(fields)
    elif what == "vote":
        note_id, ballot, whole = payload
        votes = doc.get("votes", type=Map)
        current = votes.get(note_id)
        if whole or not isinstance(current, Map):
            votes[note_id] = Map(ballot)
        else:
            for voter, count in ballot.items():
                current[voter] = count


def check_shapes(doc: Doc[Any]) -> None:
    """What the JSON projection cannot show: each entry is a Y.Map of plain values; no shared type elsewhere."""
    for root in model.ENTRY_ROOTS:
        for entry_id, entry in doc.get(root, type=Map).items():
            assert isinstance(entry, Map), f"{root}[{entry_id!r}] is a {type(entry).__name__}, not a Y.Map"
            for key, value in entry.items():
                assert not isinstance(value, (Map, Array, Text)), f"{root}[{entry_id!r}][{key!r}] is shared"
    for key, value in doc.get("meta", type=Map).items():
        assert not isinstance(value, (Map, Array, Text)), f"meta[{key!r}] is shared"
    for value in doc.get("sections", type=Array):
        assert not isinstance(value, (Map, Array, Text)), "a section is shared"


def check_roles(access: Access, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every role rule, read off the board before and after an admitted update."""
    meta = before["meta"]
    role = access.role
    if after == before:
        return
    assert role is not Role.VIEWER, "a viewer changed the board"
    if role is Role.PARTICIPANT:
        assert after["meta"] == meta and after["sections"] == before["sections"]
        assert after["clusters"] == before["clusters"]
        if meta.get("locked"):
            assert after == before, "a participant changed a locked board"
    for note_id, note in after["notes"].items():
        old = before["notes"].get(note_id)
        if old is None:  # a new note
            if role is not Role.SERVER:
                assert note.get("author") == access.subject, "a note written as someone else"
                assert note.get("author_name") in (None, access.name), "a note signed with another name"
                assert not any(note.get(k) is not None for k in model.NOTE_FIELDS_PROVENANCE)
                assert not note_id.startswith(model.SERVER_NOTE_PREFIX)
                assert meta.get("phase") != "done", "a note added once the session was done"
            if role is Role.PARTICIPANT:
                assert note.get("cluster") is None
            continue
        for key in model.NOTE_FIELDS_FIXED - {"author"}:
            replaced_by_author = old.get("author") == access.subject and role is not Role.SERVER
            if not replaced_by_author:
                assert note.get(key) == old.get(key), f"{key} of note {note_id} changed"
        assert note.get("author") == old.get("author"), f"the author of note {note_id} changed"
        if note.get("author_name") != old.get("author_name"):
            assert old.get("author") == access.subject or role is Role.SERVER, "someone else signed a note"
        if role is Role.PARTICIPANT and old.get("author") != access.subject:
            changed = {k for k in set(old) | set(note) if old.get(k) != note.get(k)}
            assert changed <= model.NOTE_FIELDS_ANYONE, f"someone else's note changed: {changed}"
        if role is Role.PARTICIPANT:
            assert note.get("cluster") == old.get("cluster")
    for note_id in set(before["notes"]) - set(after["notes"]):
        if role is Role.PARTICIPANT:
            assert before["notes"][note_id].get("author") == access.subject, "someone else's note deleted"
    voters = {
        (note_id, voter)
        for note_id in set(before["votes"]) | set(after["votes"])
        for voter in set(before["votes"].get(note_id, {})) | set(after["votes"].get(note_id, {}))
        if before["votes"].get(note_id, {}).get(voter) != after["votes"].get(note_id, {}).get(voter)
    }
    for note_id, voter in voters:
        if role is Role.PARTICIPANT:
            assert voter == access.subject and meta.get("phase") == "vote", "a vote for someone else or out of time"
        elif role is Role.FACILITATOR:
            assert voter == access.subject or voter not in after["votes"].get(note_id, {}), "a facilitator's vote"
    if role is Role.PARTICIPANT and voters:
        spent = sum(ballot.get(access.subject, 0) for ballot in after["votes"].values())
        assert spent <= meta.get("votes_per_person", 5)


def run(edits_: list[tuple[str, str, Any]], phase: str = "collect") -> tuple[int, int]:
    """Play the edits against one room in ``phase``; (admitted, refused)."""
    room = Room()
    writers = {name: Writer(room, access, 100 + i) for i, (name, access) in enumerate(sorted(ACTORS.items()))}
    for number, name in enumerate(["ada", "bo", "facilitator"]):  # a board with a note of each to work on
        fields = {"section": SECTION, "text": SENTENCES[number], "author": ACTORS[name].subject, "scope": "event"}
        writers[name].write(lambda doc, n=number, f=fields: doc.get("notes", type=Map).__setitem__(f"m{n}", Map(f)))
    writers["facilitator"].write(lambda doc: doc.get("meta", type=Map).__setitem__("phase", phase))
    if phase == "vote":  # empty ballots, as the web client opens them when the vote starts
        writers["facilitator"].write(
            lambda doc: [doc.get("votes", type=Map).__setitem__(f"m{n}", Map()) for n in range(3)]
        )
    try:
        return _play(room, writers, edits_)
    finally:
        room.gate.close()  # its observers hold the document from the native side


def _play(room: Room, writers: dict[str, Writer], edits_: list[tuple[str, str, Any]]) -> tuple[int, int]:
    admitted = refused = 0
    for actor, what, payload in edits_:
        access = ACTORS[actor]
        before_board, before = room.board(), room.fingerprint()
        try:
            if what == "crafted":
                room.admit(access, payload)
            else:
                writers[actor].write(lambda doc, what=what, payload=payload: apply_edit(doc, what, payload))
        except REFUSALS:
            refused += 1
            assert room.fingerprint() == before, "a refused update left a trace"
            continue
        admitted += 1
        after = room.board()
        errors = sorted(VALIDATOR.iter_errors(after), key=str)
        assert not errors, f"{actor} {what} {payload!r}: {errors[0].message} at {list(errors[0].absolute_path)}"
        check_shapes(room.gate.doc)
        check_roles(access, before_board, after)
    return admitted, refused


PROPERTIES = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@PROPERTIES
@given(st.lists(edits(), min_size=1, max_size=10), st.sampled_from(["collect", "vote", "vote", "done"]))
def test_an_admitted_update_keeps_the_board_valid_and_the_roles_and_a_refused_one_leaves_no_trace(
    edits_: list[tuple[str, str, Any]], phase: str
) -> None:
    run(edits_, phase)
