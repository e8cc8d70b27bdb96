"""Reading a Yjs update without applying it: what pycrdt writes reads back; what it cannot survive is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from candor.errors import InvalidUpdate
from candor.protocol.lib0 import value_spans, write_any, write_text, write_uint
from candor.protocol.update import ANY, DELETED, OPEN_BOUNDS, TYPE, UpdateBounds, read_update
from ycraft import any_item, item, map_chain, nested_array, nested_object, update, values

SENTENCES = [
    "Need institutional incentives, modelled by leaders, to share failures openly to improve organisational learning.",
    "Mainly positive examples of impact are shared.",
    "'Normal' (awful word I know) - it isn't brave or notable, it's just obvious to do.",
    "Failure is only really a failure when we don't learn!",
]


def updates_of(edit: Any) -> list[bytes]:
    doc: Doc[Any] = Doc()
    made: list[bytes] = []
    doc.observe(lambda event: made.append(event.update))
    edit(doc)
    return made


def clocks(data: bytes) -> dict[int, int]:
    """Each client's next clock after the update, from its structs."""
    read = read_update(data, UpdateBounds(OPEN_BOUNDS.contents, OPEN_BOUNDS.type_refs, max_item_depth=10**6))
    ends: dict[int, int] = {}
    for struct in read.structs:
        ends[struct.client] = max(ends.get(struct.client, 0), struct.clock + struct.length)
    return ends


def state_of(data: bytes) -> dict[int, int]:
    doc: Doc[Any] = Doc()
    doc.apply_update(data)
    state = doc.get_state()
    # a state vector: count, then (client, clock) pairs
    pos, numbers = 0, []
    while pos < len(state):
        value, shift = 0, 0
        while True:
            byte = state[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        numbers.append(value)
    return dict(zip(numbers[1::2], numbers[2::2], strict=True))


def test_every_kind_pycrdt_writes_reads_back_with_its_clocks() -> None:
    doc: Doc[Any] = Doc()
    with doc.transaction():
        notes = doc.get("notes", type=Map)
        notes["n1"] = Map({"text": SENTENCES[0], "x": 1.5, "y": -3, "done": True, "none": None, "big": 2**40})
        doc.get("sections", type=Array).append({"id": "define", "prompts": ["why is it difficult?"]})
        text = doc.get("t", type=Text)
        text += "héllo 🎉 " + SENTENCES[1]
        text.format(0, 3, {"bold": True})
        fragment = doc.get("x", type=XmlFragment)
        fragment.children.append(XmlElement("p", {"class": "note"}, [XmlText(SENTENCES[2])]))
    notes["n1"]["text"] = SENTENCES[3]
    del notes["n1"]["x"]
    data = doc.get_update()
    read = read_update(data)
    assert clocks(data) == state_of(data)
    assert read.deletes  # the overwritten text and the deleted x
    root_items = [s for s in read.structs if s.parent == "notes"]
    assert root_items[0].kind == TYPE and root_items[0].depth == 1 and root_items[0].root == "notes"
    fields = [s for s in read.structs if s.parent == (root_items[0].client, root_items[0].clock)]
    assert {s.parent_sub for s in fields} >= {"text", "y", "done", "none", "big"}
    assert all(s.depth == 2 and s.root == "notes" for s in fields)


def test_incremental_updates_place_their_items_relative_to_ones_they_do_not_hold() -> None:
    def edit(doc: Doc[Any]) -> None:
        notes = doc.get("notes", type=Map)
        notes["a"] = Map({"text": SENTENCES[0]})
        notes["a"]["text"] = SENTENCES[1]
        notes["a"]["x"] = 3

    created, replaced, added = (read_update(u) for u in updates_of(edit))
    assert [s.depth for s in created.structs] == [1, 2]
    (overwrite,) = replaced.structs
    assert overwrite.parent is None and overwrite.origin is not None  # sits next to the value it replaces
    assert overwrite.depth == OPEN_BOUNDS.outside_depth  # unknown: what the caller says the document may hold
    (new_field,) = added.structs
    assert new_field.parent == (created.structs[0].client, 0) and new_field.depth == OPEN_BOUNDS.outside_depth + 1


def test_value_spans_find_each_value() -> None:
    encoded = [write_any(SENTENCES[0]), write_any(None), nested_array(3), write_any(7)]
    data = update(9, [item(ANY, values(*encoded), parent="sections")])
    (struct,) = read_update(data).structs
    assert [data[a:b] for a, b in value_spans(data, struct.content_start)] == encoded


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (update(7, [any_item("meta", "x", nested_array(30_000))]), "nested more than"),
        (update(7, [any_item("meta", "x", nested_object(33))]), "nested more than"),
        (map_chain(7, "notes", "k", 100_000), "nested more than"),
        (update(7, [item(ANY, write_uint(2**40) + b"\x7e", parent="m", key="k")]), "more parts than it holds"),
        (update(7, [any_item("m", "k", bytes([117]) + write_uint(10**9))]), "more parts than it holds"),
        (update(7, [any_item("m", "k", write_any("x"))])[:-3], "ends in the middle"),
        (update(7, [any_item("m", "k", write_any("x"))]) + b"\x00", "bytes after its end"),
        (update(7, [any_item("m", "k", bytes([99]))]), "unknown value tag"),
        (update(7, [any_item("m", "k", bytes([200]))]), "unknown value tag"),
        (update(7, [item(2, write_uint(0) + write_text("1"), parent="m", key="k")]), "json"),
        (update(7, [item(9, write_text("guid") + write_any(None), parent="m", key="k")]), "doc"),
        (update(7, [item(ANY, write_uint(0), parent="m", key="k")]), "empty item"),
        (update(7, [item(DELETED, write_uint(0), parent="m", key="k")]), "empty item"),
        (update(7, [item(ANY | 0x10, values(write_any(1)), parent="m", key="k")]), "no place here"),
        (update(7, [item(TYPE, write_uint(12), parent="m", key="k")]), "no place here"),
        (update(7, [any_item("m", "k", write_any(1))], clock=2**31), "out of range"),
        (update(2**53, [any_item("m", "k", write_any(1))]), "out of range"),
        (write_uint(2) + update(7, [any_item("m", "k", write_any(1))])[1:-1] + update(7, [])[1:], "twice"),
        (update(7, [any_item("m", "k", bytes([119]) + write_uint(2) + b"\xff\xfe")]), "not UTF-8"),
        (
            update(7, [item(ANY, values(write_any(1)), origin=(7, 1)), item(ANY, values(write_any(2)), origin=(7, 0))]),
            "loop",
        ),
    ],
    ids=[
        "value-30000-deep",
        "object-33-deep",
        "maps-100000-deep",
        "huge-count",
        "huge-array",
        "truncated",
        "trailing",
        "tag-99",
        "tag-200",
        "json-content",
        "subdocument",
        "empty-any",
        "empty-deleted",
        "unused-info-bit",
        "type-12",
        "clock-2^31",
        "client-2^53",
        "client-twice",
        "not-utf8",
        "origin-loop",
    ],
)
def test_what_pycrdt_could_not_survive_or_read_alike_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidUpdate, match=reason):
        read_update(data)


def test_a_60_kb_update_nested_30000_deep_is_refused_in_microseconds_not_decoded() -> None:
    data = update(7, [any_item("meta", "x", nested_array(30_000))])
    assert 55_000 < len(data) < 65_000
    with pytest.raises(InvalidUpdate):
        read_update(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_read_or_are_refused_as_an_invalid_update(data: bytes) -> None:
    try:
        read_update(data)
    except InvalidUpdate:
        return


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.floats(allow_nan=False), st.text())
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["map", "array", "text", "delete"]), st.text(max_size=6), json_value)))
def test_whatever_pycrdt_writes_reads_back_and_its_clocks_match_its_state(ops: list[tuple[str, str, Any]]) -> None:
    doc: Doc[Any] = Doc()
    for kind, key, value in ops:
        with doc.transaction():
            if kind == "map":
                doc.get("m", type=Map)[key or "k"] = Map({"v": value}) if isinstance(value, dict) else value
            elif kind == "array":
                doc.get("a", type=Array).append(value)
            elif kind == "text":
                doc.get("t", type=Text).insert(0, key)
            elif kind == "delete" and (key or "k") in doc.get("m", type=Map):
                del doc.get("m", type=Map)[key or "k"]
    data = doc.get_update()
    assert clocks(data) == state_of(data)
