"""Revoking access: a new join code, old participant tokens refused, connected participants closed; join by code."""

from __future__ import annotations

from typing import Any

from boards import board_client, call, create_event
from candor.errors import WS_4401_UNAUTHORIZED


async def test_revoking_closes_participants_and_refuses_their_tokens(make_server: Any) -> None:
    server = make_server(open_rooms=False)
    event = create_event(server, template="blank", rooms=1)
    ada = event.join("Ada")
    room = event.breakouts[0]
    async with (
        board_client(event, room, ada.token, ada.subject) as participant,
        board_client(event, room, event.facilitator, "facilitator") as host,
    ):
        reply = call(server, "POST", f"/api/events/{event.id}/revoke", token=event.facilitator)
        assert reply.status == 200 and reply.body["participants_closed"] == 1
        code, reason = await participant.y.closed_by_server()
        assert code == WS_4401_UNAUTHORIZED and "revoked" in reason
        await host.add_note("the facilitator stays", "notes")
        await host.wait_for_confirmed(lambda board: len(board["notes"]) == 1)

    new_code = reply.body["join_code"]
    assert new_code != event.data["join_code"]
    assert call(server, "GET", f"/api/events/{event.id}", token=ada.token).status == 401
    old = call(server, "POST", f"/api/events/{event.id}/join", {"code": event.data["join_code"], "agree": True})
    assert old.status == 403
    fresh = call(server, "POST", f"/api/events/{event.id}/join", {"code": new_code, "agree": True})
    assert fresh.status == 200


def test_an_event_is_found_by_its_join_code_alone(server: Any) -> None:
    event = create_event(server, template="beyond-hero-stories", rooms=1)
    found = call(server, "GET", f"/api/join/{event.data['join_code'].lower()}")
    assert found.status == 200 and found.body["event_id"] == event.id
    assert found.body["agreement"]["items"]
    assert call(server, "GET", "/api/join/ZZZZZZ").status == 404


def test_only_a_facilitator_sees_the_links_to_share(server: Any) -> None:
    event = create_event(server, template="blank", rooms=1)
    ada = event.join("Ada")
    host_view = call(server, "GET", f"/api/events/{event.id}", token=event.facilitator).body
    assert host_view["join_code"] == event.data["join_code"] and "viewer_url" in host_view
    participant_view = call(server, "GET", f"/api/events/{event.id}", token=ada.token).body
    assert "join_code" not in participant_view and "viewer_token" not in participant_view
