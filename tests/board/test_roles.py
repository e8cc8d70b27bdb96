"""The server keeps every board valid and enforces roles, checked with real clients in an event's room.

A rejected update reaches the sender as a permission-denied frame and a close
(4403 for a role rule, 4422 for an invalid board); the other peers see nothing
of it, a later update still reaches them, and the log has no trace of it.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from pycrdt import Array, Doc, Map

from boards import BoardClient, Event, board_client, create_event, custom_template
from candor.errors import WS_4403_FORBIDDEN, WS_4422_INVALID_UPDATE

VOTES_PER_PERSON = 3
NOTE_MAX_CHARS = 100
WELL, CHANGE = "went-well", "to-change"


@pytest.fixture(scope="module")
def server(make_module_server: Any) -> Any:
    return make_module_server(open_rooms=False)


@dataclass
class Scene:
    """One breakout room with a facilitator, Alice (who may offend) and Bob (who watches)."""

    event: Event
    room: str
    facilitator: BoardClient
    alice: BoardClient
    bob: BoardClient
    stack: AsyncExitStack
    extra: list[BoardClient] = field(default_factory=list)

    async def connect(self, token: str, author: str, name: str | None = None) -> BoardClient:
        client = await self.stack.enter_async_context(board_client(self.event, self.room, token, author, name))
        self.extra.append(client)
        return client

    async def join(self, name: str | None = None) -> BoardClient:
        participant = self.event.join(name)
        return await self.connect(participant.token, participant.subject, name)

    def seq(self) -> int:
        return self.event.seq(self.room)

    def peers(self) -> list[BoardClient]:
        """Every client of the scene still connected (a rejected one is closed)."""
        return [c for c in (self.facilitator, self.alice, self.bob, *self.extra) if c.y.ws.close_code is None]


@pytest.fixture
async def scene(server: Any) -> AsyncIterator[Scene]:
    template = custom_template(votes_per_person=VOTES_PER_PERSON, note_max_chars=NOTE_MAX_CHARS)
    event = create_event(server, template=template, rooms=1)
    room = event.breakouts[0]
    async with AsyncExitStack() as stack:
        facilitator = await stack.enter_async_context(board_client(event, room, event.facilitator, "facilitator"))
        alice_p, bob_p = event.join("Alice"), event.join("Bob")
        alice = await stack.enter_async_context(board_client(event, room, alice_p.token, alice_p.subject, "Alice"))
        bob = await stack.enter_async_context(board_client(event, room, bob_p.token, bob_p.subject, "Bob"))
        yield Scene(event, room, facilitator, alice, bob, stack)


async def accepted(scene: Scene, writer: BoardClient, change: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``change`` from ``writer``: it is logged once and every peer converges on it."""
    seq = scene.seq()
    result = await change()
    try:
        for peer in scene.peers():
            await peer.wait_for_confirmed(lambda board: board == writer.board())
    except TimeoutError:
        pytest.fail(
            f"the update was not accepted: denied {writer.y.denied_reasons()}, closed with {writer.y.ws.close_code}"
            f" ({writer.y.ws.close_reason!r}), the log went from seq {seq} to {scene.seq()}"
        )
    assert writer.y.denied == []
    assert writer.y.ws.close_code is None
    assert scene.seq() == seq + 1
    assert scene.event.board(scene.room)["board"] == writer.board()
    return result


async def rejected(
    scene: Scene,
    offender: BoardClient,
    change: Callable[[], Awaitable[Any]],
    code: int,
    *,
    then: BoardClient | None = None,
) -> str:
    """Run ``change`` from ``offender`` and check it is refused without a trace; the reason it was given.

    ``then`` (the facilitator unless told) writes a legitimate note afterwards,
    which Bob, the witness, must still receive.
    """
    then = then or scene.facilitator
    seq = scene.seq()
    witnessed = scene.bob.confirmed()
    await change()
    try:
        close_code, close_reason = await offender.y.closed_by_server()
    except TimeoutError:
        pytest.fail(
            f"the server did not refuse the update: the sender is still connected, the log went from seq {seq}"
            f" to {scene.seq()}, and Bob sees the notes {scene.bob.confirmed()['notes']}"
        )
    assert close_code == code, f"closed with {close_code} ({close_reason!r}), expected {code}"
    # Bob sees nothing of it; a later update from a third client still reaches him, alone.
    marker = await then.add_note("after the rejection", section=WELL)
    await scene.bob.wait_for_confirmed(lambda board: marker in board["notes"])
    seen = scene.bob.confirmed()
    del seen["notes"][marker]
    assert seen == witnessed
    # A newcomer is synced from the room's live document, which has no trace of it either.
    newcomer = await scene.connect(scene.event.viewer, "newcomer")
    joined = newcomer.confirmed()
    del joined["notes"][marker]
    assert joined == witnessed
    # The log holds the marker and nothing else.
    assert scene.seq() == seq + 1
    logged = scene.event.board(scene.room)["board"]
    del logged["notes"][marker]
    assert logged == witnessed
    # The sender was told why, in y-websocket's own terms, before the close.
    reasons = offender.y.denied_reasons()
    assert len(reasons) == 1, f"expected one permission-denied frame before the close, got {reasons}"
    assert reasons[0].startswith(close_reason)  # the close reason is the same words, cut to 123 bytes
    return reasons[0]


async def note_by(scene: Scene, author: BoardClient, **fields: Any) -> str:
    """A note ``author`` wrote, accepted and seen by everyone."""
    return str(await accepted(scene, author, lambda: author.add_note(fields.pop("text", "a note"), **fields)))


async def open_voting(scene: Scene) -> None:
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(phase="vote"))


# -- viewers ------------------------------------------------------------------------


async def test_viewer_reads_the_board(scene: Scene) -> None:
    viewer = await scene.connect(scene.event.viewer, "viewer")
    assert viewer.section_ids() == [WELL, CHANGE]


async def test_viewer_write_is_forbidden(scene: Scene) -> None:
    viewer = await scene.connect(scene.event.viewer, "viewer")
    reason = await rejected(scene, viewer, lambda: viewer.add_note("from the projector"), WS_4403_FORBIDDEN)
    assert "viewer" in reason


async def test_viewer_cannot_move_a_note(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    viewer = await scene.connect(scene.event.viewer, "viewer")
    await rejected(scene, viewer, lambda: viewer.set_note(note, x=500), WS_4403_FORBIDDEN)


# -- meta, sections and clusters belong to the facilitator ----------------------------

META_CHANGES = {
    "phase": {"phase": "vote"},
    "locked": {"locked": True},
    "timer": {"timer": {"ends_at_ms": 1_900_000_000_000, "duration_s": 300}},
    "title": {"title": "Renamed by a participant"},
    "votes-per-person": {"votes_per_person": 99},
}


@pytest.mark.parametrize("fields", list(META_CHANGES.values()), ids=list(META_CHANGES))
async def test_participant_cannot_change_meta(scene: Scene, fields: dict[str, Any]) -> None:
    reason = await rejected(scene, scene.alice, lambda: scene.alice.set_meta(**fields), WS_4403_FORBIDDEN)
    assert "facilitator" in reason


async def test_a_refusal_keeps_the_updates_admitted_just_before_it(scene: Scene) -> None:
    """Alice's note and her forbidden edit go out back to back, so the room usually takes both in one group.

    The refusal rebuilds the room's document as logged plus what it admitted
    in the same group: the note stays, for Bob, for the log and for a newcomer.
    """
    seq = scene.seq()
    # Corked, the two frames leave in one TCP segment and reach the room in the same loop turn.
    sock = scene.alice.y.ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    note = await scene.alice.add_note("written just before a refused edit", section=WELL)
    await scene.alice.set_meta(title="Alice's board now")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    close_code, _ = await scene.alice.y.closed_by_server()
    assert close_code == WS_4403_FORBIDDEN
    await scene.bob.wait_for_confirmed(lambda board: note in board["notes"])
    assert scene.seq() == seq + 1
    newcomer = await scene.connect(scene.event.viewer, "newcomer")
    for board in (scene.bob.confirmed(), scene.event.board(scene.room)["board"], newcomer.confirmed()):
        assert note in board["notes"]
        assert board["meta"]["title"] != "Alice's board now"


@pytest.mark.parametrize("fields", list(META_CHANGES.values()), ids=list(META_CHANGES))
async def test_facilitator_can_change_meta(scene: Scene, fields: dict[str, Any]) -> None:
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(**fields))
    meta = scene.bob.confirmed()["meta"]
    assert {key: meta[key] for key in fields} == fields


async def test_participant_cannot_add_a_section(scene: Scene) -> None:
    reason = await rejected(
        scene, scene.alice, lambda: scene.alice.add_section("mine", "My own section"), WS_4403_FORBIDDEN
    )
    assert "facilitator" in reason


async def test_participant_cannot_remove_a_section(scene: Scene) -> None:
    async def remove_last() -> None:
        await scene.alice.y.transact(lambda doc: doc.get("sections", type=Array).pop())

    await rejected(scene, scene.alice, remove_last, WS_4403_FORBIDDEN)


async def test_facilitator_can_add_a_section_and_notes_go_in_it(scene: Scene) -> None:
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.add_section("next", "Next steps", ["Who?"]))
    assert scene.bob.confirmed()["sections"][-1] == {"id": "next", "title": "Next steps", "prompts": ["Who?"]}
    await note_by(scene, scene.alice, section="next")


async def test_participant_cannot_create_a_cluster(scene: Scene) -> None:
    reason = await rejected(scene, scene.alice, lambda: scene.alice.add_cluster(WELL), WS_4403_FORBIDDEN)
    assert "facilitator" in reason


async def test_participant_cannot_edit_a_cluster(scene: Scene) -> None:
    cluster = await accepted(scene, scene.facilitator, lambda: scene.facilitator.add_cluster(WELL, "Themes"))
    await rejected(scene, scene.alice, lambda: scene.alice.set_cluster(cluster, label="Mine"), WS_4403_FORBIDDEN)


async def test_participant_cannot_put_a_note_in_a_cluster(scene: Scene) -> None:
    cluster = await accepted(scene, scene.facilitator, lambda: scene.facilitator.add_cluster(WELL, "Themes"))
    note = await note_by(scene, scene.alice, section=WELL)
    reason = await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, cluster=cluster), WS_4403_FORBIDDEN)
    assert "facilitator" in reason


async def test_participant_cannot_create_a_note_already_in_a_cluster(scene: Scene) -> None:
    # Expected: clustering is the facilitator's, whether the note is new or not.
    cluster = await accepted(scene, scene.facilitator, lambda: scene.facilitator.add_cluster(WELL, "Themes"))
    await rejected(scene, scene.alice, lambda: scene.alice.add_note(section=WELL, cluster=cluster), WS_4403_FORBIDDEN)


async def test_facilitator_can_create_clusters_and_cluster_notes(scene: Scene) -> None:
    note = await note_by(scene, scene.alice, section=WELL)
    cluster = await accepted(scene, scene.facilitator, lambda: scene.facilitator.add_cluster(WELL, "Themes", x=5))
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_note(note, cluster=cluster))
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_cluster(cluster, label="Big themes"))
    board = scene.bob.confirmed()
    assert board["notes"][note]["cluster"] == cluster
    assert board["clusters"][cluster] == {"section": WELL, "label": "Big themes", "x": 5, "y": 0}


# -- notes: your own, and other people's ---------------------------------------------


async def test_participant_adds_an_anonymous_note_in_room_scope(scene: Scene) -> None:
    note = await note_by(scene, scene.alice, text="We shipped on time")
    logged = scene.event.board(scene.room)["board"]["notes"][note]
    assert (logged["author"], logged["author_name"], logged["scope"]) == (scene.alice.author, None, "room")


async def test_participant_cannot_add_a_note_as_someone_else(scene: Scene) -> None:
    await rejected(scene, scene.alice, lambda: scene.alice.add_note(author=scene.bob.author), WS_4403_FORBIDDEN)


@pytest.mark.parametrize(
    "fields",
    [{"text": "Edited"}, {"scope": "event"}, {"colour": "pink"}, {"section": CHANGE}, {"x": 1, "y": 2}],
    ids=["text", "scope", "colour", "section", "position"],
)
async def test_participant_can_edit_own_note(scene: Scene, fields: dict[str, Any]) -> None:
    note = await note_by(scene, scene.alice, section=WELL)
    await accepted(scene, scene.alice, lambda: scene.alice.set_note(note, **fields))
    logged = scene.event.board(scene.room)["board"]["notes"][note]
    assert {key: logged[key] for key in fields} == fields


async def test_participant_can_delete_own_note(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await accepted(scene, scene.alice, lambda: scene.alice.delete_note(note))
    assert note not in scene.event.board(scene.room)["board"]["notes"]


@pytest.mark.parametrize(
    "fields",
    [{"text": "Not what Bob said"}, {"scope": "public"}, {"colour": "purple"}, {"section": CHANGE}],
    ids=["text", "scope", "colour", "section"],
)
async def test_participant_cannot_edit_another_participants_note(scene: Scene, fields: dict[str, Any]) -> None:
    note = await note_by(scene, scene.bob)
    reason = await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, **fields), WS_4403_FORBIDDEN)
    assert "other people's notes" in reason


async def test_participant_cannot_edit_the_facilitators_note(scene: Scene) -> None:
    note = await note_by(scene, scene.facilitator)
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, text="Changed"), WS_4403_FORBIDDEN)


async def test_participant_can_move_another_participants_note(scene: Scene) -> None:
    note = await note_by(scene, scene.bob)
    await accepted(scene, scene.alice, lambda: scene.alice.set_note(note, x=321, y=-45))
    logged = scene.event.board(scene.room)["board"]["notes"][note]
    assert (logged["x"], logged["y"], logged["author"]) == (321, -45, scene.bob.author)


async def test_participant_cannot_delete_another_participants_note(scene: Scene) -> None:
    note = await note_by(scene, scene.bob)
    await rejected(scene, scene.alice, lambda: scene.alice.delete_note(note), WS_4403_FORBIDDEN)


async def test_participant_cannot_replace_another_participants_note_with_their_own(scene: Scene) -> None:
    note = await note_by(scene, scene.bob)
    await rejected(scene, scene.alice, lambda: scene.alice.add_note("Mine now", note_id=note), WS_4403_FORBIDDEN)


async def test_participant_cannot_hand_their_note_to_someone_else(scene: Scene) -> None:
    # Expected: a note's author is fixed once it exists (model.NOTE_FIELDS_FIXED).
    note = await note_by(scene, scene.alice)
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, author=scene.bob.author), WS_4403_FORBIDDEN)


async def test_participant_cannot_backdate_their_note(scene: Scene) -> None:
    # Expected: created_ms is fixed once the note exists (model.NOTE_FIELDS_FIXED).
    note = await note_by(scene, scene.alice)
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, created_ms=0), WS_4403_FORBIDDEN)


# -- signing ----------------------------------------------------------------------------


async def test_participant_can_sign_own_note_with_own_name(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await accepted(scene, scene.alice, lambda: scene.alice.set_note(note, author_name="Alice"))
    assert scene.event.board(scene.room)["board"]["notes"][note]["author_name"] == "Alice"


async def test_participant_can_add_a_note_signed_with_own_name(scene: Scene) -> None:
    note = await note_by(scene, scene.alice, author_name="Alice")
    assert scene.event.board(scene.room)["board"]["notes"][note]["author_name"] == "Alice"


async def test_participant_can_unsign_own_note(scene: Scene) -> None:
    note = await note_by(scene, scene.alice, author_name="Alice")
    await accepted(scene, scene.alice, lambda: scene.alice.set_note(note, author_name=None))


async def test_participant_cannot_sign_with_another_name(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    reason = await rejected(
        scene, scene.alice, lambda: scene.alice.set_note(note, author_name="Bob"), WS_4403_FORBIDDEN
    )
    assert "own name" in reason


async def test_participant_cannot_add_a_note_signed_with_another_name(scene: Scene) -> None:
    # Expected: author_name is only ever the participant's own join name, from the note's first write.
    await rejected(scene, scene.alice, lambda: scene.alice.add_note(author_name="Bob"), WS_4403_FORBIDDEN)


async def test_participant_who_joined_without_a_name_cannot_sign(scene: Scene) -> None:
    nameless = await scene.join(None)
    note = await note_by(scene, nameless)
    await rejected(scene, nameless, lambda: nameless.set_note(note, author_name="Someone"), WS_4403_FORBIDDEN)


async def test_facilitator_cannot_sign_a_participants_note(scene: Scene) -> None:
    # Expected: only the author chooses to sign; nobody else may put a name on an anonymous note.
    note = await note_by(scene, scene.alice)
    await rejected(
        scene,
        scene.facilitator,
        lambda: scene.facilitator.set_note(note, author_name="Alice"),
        WS_4403_FORBIDDEN,
        then=scene.alice,
    )


async def test_facilitator_cannot_change_a_notes_author(scene: Scene) -> None:
    # Expected: a note's author is fixed once it exists, for everyone (model.NOTE_FIELDS_FIXED).
    note = await note_by(scene, scene.alice)
    await rejected(
        scene,
        scene.facilitator,
        lambda: scene.facilitator.set_note(note, author=scene.bob.author),
        WS_4403_FORBIDDEN,
        then=scene.alice,
    )


# -- locked boards ----------------------------------------------------------------------


async def test_participant_cannot_write_to_a_locked_board(scene: Scene) -> None:
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(locked=True))
    reason = await rejected(scene, scene.alice, lambda: scene.alice.add_note(), WS_4403_FORBIDDEN)
    assert "locked" in reason


async def test_participant_cannot_move_a_note_on_a_locked_board(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(locked=True))
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, x=99), WS_4403_FORBIDDEN)


async def test_participant_can_write_again_once_unlocked(scene: Scene) -> None:
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(locked=True))
    await accepted(scene, scene.facilitator, lambda: scene.facilitator.set_meta(locked=False))
    await note_by(scene, scene.alice)


# -- votes --------------------------------------------------------------------------


async def test_participant_cannot_vote_outside_the_vote_phase(scene: Scene) -> None:
    note = await note_by(scene, scene.bob)
    reason = await rejected(scene, scene.alice, lambda: scene.alice.vote(note, 1), WS_4403_FORBIDDEN)
    assert "vote phase" in reason


async def test_participant_can_vote_in_the_vote_phase(scene: Scene) -> None:
    first, second = await note_by(scene, scene.bob), await note_by(scene, scene.bob)
    await open_voting(scene)
    await accepted(scene, scene.alice, lambda: scene.alice.vote(first, 2))
    await accepted(scene, scene.bob, lambda: scene.bob.vote(first, 1))
    await accepted(scene, scene.alice, lambda: scene.alice.vote(second, VOTES_PER_PERSON - 2))
    votes = scene.event.board(scene.room)["board"]["votes"]
    assert votes[first] == {scene.alice.author: 2, scene.bob.author: 1}


async def test_participant_cannot_cast_more_votes_than_allowed_on_one_note(scene: Scene) -> None:
    note = await note_by(scene, scene.bob)
    await open_voting(scene)
    reason = await rejected(scene, scene.alice, lambda: scene.alice.vote(note, VOTES_PER_PERSON + 1), WS_4403_FORBIDDEN)
    assert f"{VOTES_PER_PERSON} votes" in reason


async def test_participant_cannot_cast_more_votes_than_allowed_across_notes(scene: Scene) -> None:
    first, second = await note_by(scene, scene.bob), await note_by(scene, scene.bob)
    await open_voting(scene)
    await accepted(scene, scene.alice, lambda: scene.alice.vote(first, VOTES_PER_PERSON))
    await rejected(scene, scene.alice, lambda: scene.alice.vote(second, 1), WS_4403_FORBIDDEN)


async def test_participant_cannot_cast_a_vote_for_someone_else_on_a_fresh_ballot(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await open_voting(scene)
    reason = await rejected(
        scene, scene.alice, lambda: scene.alice.vote(note, 1, voter=scene.bob.author), WS_4403_FORBIDDEN
    )
    assert "your own votes" in reason


async def test_participant_cannot_cast_a_vote_for_someone_else_on_an_existing_ballot(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await open_voting(scene)
    await accepted(scene, scene.alice, lambda: scene.alice.vote(note, 1))
    await rejected(scene, scene.alice, lambda: scene.alice.vote(note, 1, voter=scene.bob.author), WS_4403_FORBIDDEN)


async def test_participant_cannot_change_someone_elses_votes(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await open_voting(scene)
    await accepted(scene, scene.bob, lambda: scene.bob.vote(note, 2))
    await rejected(scene, scene.alice, lambda: scene.alice.vote(note, 0, voter=scene.bob.author), WS_4403_FORBIDDEN)


async def test_vote_for_a_note_that_does_not_exist_is_invalid(scene: Scene) -> None:
    await open_voting(scene)
    reason = await rejected(scene, scene.alice, lambda: scene.alice.vote("n-nowhere", 1), WS_4422_INVALID_UPDATE)
    assert "n-nowhere" in reason


# -- the board stays valid -------------------------------------------------------------


async def test_note_in_an_unknown_section_is_invalid(scene: Scene) -> None:
    reason = await rejected(
        scene, scene.alice, lambda: scene.alice.add_note(section="no-such-section"), WS_4422_INVALID_UPDATE
    )
    assert "no-such-section" in reason


async def test_moving_own_note_to_an_unknown_section_is_invalid(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, section="nowhere"), WS_4422_INVALID_UPDATE)


async def test_note_text_at_the_limit_is_accepted(scene: Scene) -> None:
    await note_by(scene, scene.alice, text="x" * NOTE_MAX_CHARS)


async def test_note_text_over_the_limit_is_invalid(scene: Scene) -> None:
    reason = await rejected(
        scene, scene.alice, lambda: scene.alice.add_note("x" * (NOTE_MAX_CHARS + 1)), WS_4422_INVALID_UPDATE
    )
    assert str(NOTE_MAX_CHARS) in reason


async def test_editing_own_note_text_over_the_limit_is_invalid(scene: Scene) -> None:
    note = await note_by(scene, scene.alice)
    await rejected(
        scene, scene.alice, lambda: scene.alice.set_note(note, text="y" * (NOTE_MAX_CHARS + 1)), WS_4422_INVALID_UPDATE
    )


WRONG_NOTE_FIELDS = {
    "x-as-text": {"x": "left"},
    "y-too-far": {"y": 10_000_000},
    "colour-not-in-list": {"colour": "red"},
    "scope-unknown": {"scope": "secret"},
    "text-as-number": {"text": 42},
    "created-negative": {"created_ms": -5},
    "unknown-field": {"mood": "happy"},
}


@pytest.mark.parametrize("fields", list(WRONG_NOTE_FIELDS.values()), ids=list(WRONG_NOTE_FIELDS))
async def test_note_with_a_wrong_field_is_invalid(scene: Scene, fields: dict[str, Any]) -> None:
    await rejected(scene, scene.alice, lambda: scene.alice.add_note(**fields), WS_4422_INVALID_UPDATE)


@pytest.mark.parametrize(
    "fields",
    [{"x": "left"}, {"colour": "red"}, {"scope": "secret"}],
    ids=["x-as-text", "colour-not-in-list", "scope-unknown"],
)
async def test_editing_own_note_to_a_wrong_value_is_invalid(scene: Scene, fields: dict[str, Any]) -> None:
    note = await note_by(scene, scene.alice)
    await rejected(scene, scene.alice, lambda: scene.alice.set_note(note, **fields), WS_4422_INVALID_UPDATE)


@pytest.mark.parametrize(
    "fields",
    [{"phase": "party"}, {"locked": "yes"}, {"timer": {"ends_at_ms": "soon"}}, {"votes_per_person": -1}],
    ids=["phase-unknown", "locked-as-text", "timer-as-text", "negative-votes"],
)
async def test_facilitator_cannot_make_meta_invalid(scene: Scene, fields: dict[str, Any]) -> None:
    await rejected(
        scene,
        scene.facilitator,
        lambda: scene.facilitator.set_meta(**fields),
        WS_4422_INVALID_UPDATE,
        then=scene.alice,
    )


async def test_facilitator_cannot_add_a_note_in_an_unknown_section(scene: Scene) -> None:
    await rejected(
        scene,
        scene.facilitator,
        lambda: scene.facilitator.add_note(section="nowhere"),
        WS_4422_INVALID_UPDATE,
        then=scene.alice,
    )


async def test_facilitator_cannot_add_a_section_with_a_duplicate_id(scene: Scene) -> None:
    await rejected(
        scene,
        scene.facilitator,
        lambda: scene.facilitator.add_section(WELL, "Again"),
        WS_4422_INVALID_UPDATE,
        then=scene.alice,
    )


async def test_rejected_sender_can_reconnect_with_a_fresh_document(scene: Scene) -> None:
    await rejected(scene, scene.alice, lambda: scene.alice.add_note(section="nowhere"), WS_4422_INVALID_UPDATE)
    again = await scene.join("Alice")
    await note_by(scene, again)


# -- the size limit ---------------------------------------------------------------------

BOARD_LIMIT_BYTES = 3000


@pytest.fixture
async def small_scene(make_server: Any) -> AsyncIterator[Scene]:
    server = make_server("--max-board-bytes", str(BOARD_LIMIT_BYTES), open_rooms=False)
    event = create_event(server, template=custom_template(note_max_chars=5000), rooms=1)
    room = event.breakouts[0]
    async with AsyncExitStack() as stack:
        facilitator = await stack.enter_async_context(board_client(event, room, event.facilitator, "facilitator"))
        alice_p, bob_p = event.join("Alice"), event.join("Bob")
        alice = await stack.enter_async_context(board_client(event, room, alice_p.token, alice_p.subject, "Alice"))
        bob = await stack.enter_async_context(board_client(event, room, bob_p.token, bob_p.subject, "Bob"))
        yield Scene(event, room, facilitator, alice, bob, stack)


async def test_board_over_the_size_limit_is_invalid(small_scene: Scene) -> None:
    scene = small_scene
    await note_by(scene, scene.alice, text="small")
    big = "z" * BOARD_LIMIT_BYTES  # valid text (under note_max_chars), but the board cannot hold it
    reason = await rejected(scene, scene.alice, lambda: scene.alice.add_note(big), WS_4422_INVALID_UPDATE)
    assert str(BOARD_LIMIT_BYTES) in reason


async def test_board_under_the_size_limit_takes_a_long_note(small_scene: Scene) -> None:
    await note_by(small_scene, small_scene.alice, text="z" * (BOARD_LIMIT_BYTES // 3))


async def test_the_limit_is_on_the_board_not_on_every_update_it_ever_took(small_scene: Scene) -> None:
    """Moving one note again and again sends far more bytes than the limit; the board itself stays small."""
    scene = small_scene
    note = await note_by(scene, scene.alice, text="moved all session")
    sent = 0
    for step in range(120):

        def move(doc: Doc[Any], x: int = step) -> None:
            doc.get("notes", type=Map)[note]["x"] = x

        sent += len(await scene.alice.y.transact(move))
    assert sent > BOARD_LIMIT_BYTES
    await scene.bob.wait_for_confirmed(lambda board: board["notes"][note]["x"] == 119)
    assert scene.alice.y.denied == []
    await accepted(scene, scene.alice, lambda: scene.alice.set_note(note, y=999))
