"""The rules of the merge by theme, over boards hypothesis makes: each note once whatever copies, the narrowest
consent of a note and its copies, the template's privacy, clusters merged by label, most voted first."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from seed_session import SEED_NOTES

from candor.export.model import VISIBLE_SCOPES, Audience, RoomInfo
from candor.export.themes import RoomBoard, SectionRule, build_sections, label_key, placed_notes

SENTENCES = [text for texts in SEED_NOTES.values() for text in texts]
SECTIONS = ["define-the-problem", "practical-ideas", "what-did-you-do"]
LABELS = ["Culture", " culture", "CULTURE ", "Funders", "funders", ""]
VOTERS = ["u-ada", "u-ben", "facilitator"]
ROOMS = [RoomInfo("ev-r1", "Room 1"), RoomInfo("ev-r2", "Room 2"), RoomInfo("ev-plenary", "Plenary", "plenary")]

note_fields = st.fixed_dictionaries(
    {
        "section": st.sampled_from(SECTIONS),
        "scope": st.sampled_from(["room", "event", "event", "public"]),
        "withdrawn": st.sampled_from([False, False, False, True]),
        "author_name": st.sampled_from([None, "Ada"]),
        "cluster": st.sampled_from([None, *range(len(LABELS))]),
        "ballot": st.dictionaries(st.sampled_from(VOTERS), st.integers(0, 3), max_size=3),
    }
)
copy_fields = st.fixed_dictionaries(
    {
        "scope": st.sampled_from(["room", "event", "event", "public"]),
        "withdrawn": st.sampled_from([False, False, False, True]),
        "author_name": st.sampled_from([None, "Ada"]),
        "cluster": st.sampled_from([None, *range(len(LABELS))]),
        "ballot": st.dictionaries(st.sampled_from(VOTERS), st.integers(0, 3), max_size=3),
        "move": st.booleans(),
    }
)


@st.composite
def event(draw: Any) -> tuple[list[RoomBoard], list[dict[str, Any]]]:
    """Two breakouts and a plenary; ``groups`` is what the test knows: each source with its copy."""
    texts = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=10, unique=True))
    boards: list[dict[str, Any]] = [{"notes": {}, "clusters": {}, "votes": {}} for _ in ROOMS]
    for n, board in enumerate(boards):
        board["clusters"] = {f"c{k}": {"section": s, "label": label, "x": k, "y": 0}
                             for k, label in enumerate(LABELS) for s in SECTIONS[:1]}  # fmt: skip
        for k, label in enumerate(LABELS):
            for s in SECTIONS:
                board["clusters"][f"c{k}-{s}"] = {"section": s, "label": label, "x": k + n, "y": 0}
    groups = []
    for i, text in enumerate(texts):
        room = draw(st.sampled_from([0, 1]))
        fields = draw(note_fields)
        note_id = f"n{i}"
        members = [(room, note_id, fields)]
        if draw(st.sampled_from([True, True, False])):
            copy = draw(copy_fields)
            members.append((2, f"{ROOMS[room].id}.{note_id}", {**copy, "section": fields["section"]}))
            if copy["move"]:
                members.pop(0)
        for where, member_id, f in members:
            cluster = f["cluster"]
            boards[where]["notes"][member_id] = {
                "section": f["section"],
                "text": text,
                "scope": f["scope"],
                "withdrawn": f["withdrawn"],
                "author_name": f["author_name"],
                "cluster": None if cluster is None else f"c{cluster}-{f['section']}",
                "created_ms": 1000 + i,
                "from_room": ROOMS[room].id if where == 2 else None,
            }
            boards[where]["votes"][member_id] = f["ballot"]
        groups.append({"text": text, "members": [(w, f) for w, _, f in members]})
    rooms = [RoomBoard(info, board, 1, None) for info, board in zip(ROOMS, boards, strict=True)]
    return rooms, groups


def rules(privacy: dict[str, str]) -> list[SectionRule]:
    return [SectionRule(s, s.title(), outside_room=privacy[s]) for s in SECTIONS]


privacy_of = st.fixed_dictionaries({s: st.sampled_from(["notes", "notes", "counts", "nothing"]) for s in SECTIONS})


@settings(max_examples=60, deadline=None)
@given(event(), st.sampled_from(["event", "public"]), privacy_of)
def test_each_note_once_under_the_narrowest_consent_of_it_and_its_copies(
    made: tuple[list[RoomBoard], list[dict[str, Any]]], audience: Audience, privacy: dict[str, str]
) -> None:
    rooms, groups = made
    template = rules(privacy)
    sections = build_sections(placed_notes(rooms, template, audience, {}), template, audience)
    shown = [note for section in sections for note in section.all_notes]
    counted = sum(section.count for section in sections)
    assert len({note.id for note in shown}) == len(shown)  # once each
    expected_shown, expected_counted = [], 0
    for group in groups:
        members = [f for _, f in group["members"]]
        visible = all(not f["withdrawn"] and f["scope"] in VISIBLE_SCOPES[audience] for f in members)
        policy = privacy[members[0]["section"]]
        if not visible or policy == "nothing":
            assert group["text"] not in [n.text for n in shown]
            continue
        if policy == "counts":
            expected_counted += 1
            continue
        expected_shown.append(group["text"])
        [note] = [n for n in shown if n.text == group["text"]]
        names = {f["author_name"] for f in members}
        assert note.author_name == (names.pop() if len(names) == 1 else None)
        voters: dict[str, int] = {}
        for f in members:
            for voter, dots in f["ballot"].items():
                voters[voter] = max(voters.get(voter, 0), dots)
        assert note.votes == sum(voters.values())
        assert note.rooms[0] in ("Room 1", "Room 2") and (len(members) == 1 or note.rooms[-1] == "Plenary")
    assert sorted(n.text for n in shown) == sorted(expected_shown)
    assert counted == expected_counted
    for section in sections:
        assert section.shown == ("counts" if privacy.get(section.id) == "counts" else "notes")
        keys = [label_key(c.label) for c in section.clusters if c.label != "Untitled"]
        assert len(keys) == len(set(keys))  # one cluster per label, case and spacing aside
        votes = [c.votes for c in section.clusters]
        if any(votes):
            assert votes == sorted(votes, reverse=True)  # most voted first
        for cluster in section.clusters:
            assert cluster.notes  # no empty cluster hints at notes nobody may see
    assert not any(s.id == sid for s in sections for sid, p in privacy.items() if p == "nothing")


@settings(max_examples=30, deadline=None)
@given(event())
def test_the_room_itself_sees_every_note_that_was_not_withdrawn(
    made: tuple[list[RoomBoard], list[dict[str, Any]]],
) -> None:
    rooms, _ = made
    template = rules({s: "nothing" for s in SECTIONS})  # the template's privacy is for outside the room
    for room in rooms:
        sections = build_sections(placed_notes([room], template, "room", {}), template, "room")
        shown = sorted(n.id for s in sections for n in s.all_notes)
        expected = sorted(i for i, n in room.root("notes").items() if not n["withdrawn"])
        assert shown == expected


def test_a_voter_counts_once_across_a_note_and_its_copy() -> None:
    """A ballot that travelled with a copy to the plenary is not counted twice; another voter's is added."""
    source = {"section": "practical-ideas", "text": SENTENCES[0], "scope": "event"}
    room = RoomBoard(ROOMS[0], {"notes": {"n0": source}, "votes": {"n0": {"u-ada": 2}}}, 1, None)
    copy = {**source, "from_room": ROOMS[0].id}
    plenary = RoomBoard(
        ROOMS[2], {"notes": {"ev-r1.n0": copy}, "votes": {"ev-r1.n0": {"u-ada": 3, "u-ben": 1}}}, 1, None
    )
    [placed] = placed_notes([room, plenary], rules({s: "notes" for s in SECTIONS}), "event", {})
    assert placed.note.votes == 3 + 1
    assert placed.note.rooms == ("Room 1", "Plenary")
