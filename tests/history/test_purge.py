"""Withdrawal that really erases: after a purge the text is nowhere in storage; the note's existence stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from boards import board_client, call, create_event

FIRST = "The pilot failed because I ignored the community partner"
SECOND = "Our pilot failed: we did not listen to the community partner"


def storage_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


async def test_purged_text_is_gone_from_every_byte_of_storage(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="blank", rooms=1)
    ada = event.join("Ada")
    room = event.breakouts[0]
    async with board_client(event, room, ada.token, ada.subject, "Ada") as writer:
        note = await writer.add_note(FIRST, "notes")
        await writer.set_note(note, text=SECOND)
        keep = await writer.add_note("A note that stays", "notes")
        await writer.wait_for_confirmed(lambda board: keep in board["notes"])
        before_withdrawal = event.seq(room)
        await writer.set_note(note, withdrawn=True)
        await writer.wait_for_confirmed(lambda board: board["notes"][note].get("withdrawn"))

    assert FIRST.encode() in storage_bytes(server.data_dir)
    reply = call(server, "POST", f"/api/rooms/{room}/purge", token=event.facilitator)
    assert reply.status == 200, reply
    assert reply.body["purged"] == [note]

    stored = storage_bytes(server.data_dir)
    assert FIRST.encode() not in stored
    assert SECOND.encode() not in stored
    assert b"A note that stays" in stored

    # History is intact: the note existed at the earlier moment; its text is blank now.
    earlier = call(server, "GET", f"/api/rooms/{room}/board?at={before_withdrawal}&token={event.facilitator}").body
    notes = earlier["board"]["notes"]
    assert notes[note]["text"] == ""
    assert notes[keep]["text"] == "A note that stays"

    # The room reloads from the rewritten log and carries on.
    async with board_client(event, room, ada.token, ada.subject, "Ada") as again:
        assert again.confirmed()["notes"][note]["text"] == ""
        await again.add_note("After the purge", "notes")
        await again.wait_for_confirmed(lambda board: len(board["notes"]) == 3)


async def test_only_a_facilitator_can_purge(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="blank", rooms=1)
    ada = event.join("Ada")
    reply = call(server, "POST", f"/api/rooms/{event.breakouts[0]}/purge", token=ada.token)
    assert reply.status == 403


async def test_a_purge_removes_only_the_withdrawn_notes_own_words_whatever_else_is_equal(make_server: Any) -> None:
    """Ada withdraws "Agree" signed "Bob"... (her name here is Bob): Bo's note "Agree", his signature "Bob",
    and the facilitator's cluster label "Agree" are other items with equal strings, and stay."""
    server = make_server(open_rooms=False)
    event = create_event(server, template="blank", rooms=1)
    room = event.breakouts[0]
    ada, bo = event.join("Bob"), event.join("Bob")  # two people who joined with the same name
    async with (
        board_client(event, room, ada.token, ada.subject, "Bob") as withdrawer,
        board_client(event, room, bo.token, bo.subject, "Bob") as other,
        board_client(event, room, event.facilitator, "facilitator") as host,
    ):
        regret = await withdrawer.add_note("Agree", "notes", author_name="Bob")
        kept = await other.add_note("Agree", "notes", author_name="Bob")
        cluster = await host.add_cluster("notes", "Agree")
        await host.wait_for_confirmed(lambda board: {regret, kept} <= set(board["notes"]))
        await host.set_note(kept, cluster=cluster)
        await withdrawer.set_note(regret, withdrawn=True)
        await host.wait_for_confirmed(lambda board: board["notes"].get(regret, {}).get("withdrawn") is True)

    reply = call(server, "POST", f"/api/rooms/{room}/purge", token=event.facilitator)
    assert reply.status == 200, reply
    board = event.board(room)["board"]
    assert (board["notes"][regret]["text"], board["notes"][regret].get("author_name")) == ("", None)
    assert (board["notes"][kept]["text"], board["notes"][kept]["author_name"]) == ("Agree", "Bob")
    assert board["clusters"][cluster]["label"] == "Agree"
    # And so at every earlier moment: the history of the others is theirs.
    first = event.board(room)["seq"]
    for seq in range(1, first + 1):
        earlier = call(server, "GET", f"/api/rooms/{room}/board?at={seq}&token={event.facilitator}").body["board"]
        if kept in earlier["notes"]:
            assert earlier["notes"][kept]["text"] == "Agree"
        if regret in earlier["notes"]:
            assert earlier["notes"][regret]["text"] == ""
