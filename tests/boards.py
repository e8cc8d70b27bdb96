"""Test helpers for events and boards: the events API over HTTP, and board edits as a real Yjs client makes them."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map

from candor.board.projection import board_to_json
from yclient import YClient, yclient


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: its status and its JSON body."""

    status: int
    body: Any

    @property
    def error(self) -> dict[str, Any]:
        """The ``{"code", "message"}`` of an error reply (fails the test when the shape is wrong)."""
        assert isinstance(self.body, dict) and set(self.body) == {"error"}, self.body
        error = self.body["error"]
        assert isinstance(error.get("code"), str) and error["code"], error
        assert isinstance(error.get("message"), str) and error["message"], error
        return error  # type: ignore[no-any-return]


def call(
    server: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
) -> Reply:
    """``method path`` with a JSON ``body`` (or ``raw`` bytes); never raises on a 4xx/5xx."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.http_url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return Reply(exc.code, json.loads(text))
        except ValueError:
            return Reply(exc.code, text.decode(errors="replace"))


@dataclass(frozen=True)
class Participant:
    token: str
    subject: str  # the pseudonym written as a note's author
    name: str | None


@dataclass(frozen=True)
class Event:
    """An event created over the API, with what the facilitator got back."""

    server: Any
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["event_id"])

    @property
    def facilitator(self) -> str:
        return str(self.data["facilitator_token"])

    @property
    def viewer(self) -> str:
        return str(self.data["viewer_token"])

    @property
    def rooms(self) -> list[str]:
        return [room["id"] for room in self.data["rooms"]]

    @property
    def plenary(self) -> str:
        return next(room["id"] for room in self.data["rooms"] if room["kind"] == "plenary")

    @property
    def breakouts(self) -> list[str]:
        return [room["id"] for room in self.data["rooms"] if room["kind"] == "breakout"]

    def join(self, name: str | None = None) -> Participant:
        body: dict[str, Any] = {"code": self.data["join_code"], "agree": True}
        if name is not None:
            body["name"] = name
        reply = call(self.server, "POST", f"/api/events/{self.id}/join", body)
        assert reply.status == 200, reply
        return Participant(reply.body["token"], reply.body["participant"], name)

    def ws_url(self, room: str, token: str | None) -> str:
        url = self.server.ws_url(room)
        return f"{url}?token={token}" if token is not None else url

    def board(self, room: str) -> dict[str, Any]:
        """``{"room", "seq", "snapshot_seq", "board"}`` as the HTTP API reads it from the log."""
        reply = call(self.server, "GET", f"/api/rooms/{room}/board?token={self.facilitator}")
        assert reply.status == 200, reply
        return reply.body  # type: ignore[no-any-return]

    def seq(self, room: str) -> int:
        return int(self.board(room)["seq"])


def create_event(
    server: Any, *, title: str = "Test event", template: object = "blank", rooms: int = 1, token: str | None = None
) -> Event:
    """An event made over the API (``token``: the server's creation token, when it asks for one)."""
    body = {"title": title, "template": template, "rooms": rooms}
    reply = call(server, "POST", "/api/events", body, token=token)
    assert reply.status == 201, reply
    return Event(server, reply.body)


def custom_template(**overrides: Any) -> dict[str, Any]:
    """A small valid template with two sections; ``overrides`` replace its top-level fields."""
    template: dict[str, Any] = {
        "id": "retro",
        "title": "Retro",
        "sections": [
            {"id": "went-well", "title": "What went well", "prompts": ["A moment you were proud of"]},
            {"id": "to-change", "title": "What to change"},
        ],
        "votes_per_person": 3,
        "note_max_chars": 100,
    }
    template.update(overrides)
    return template


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class BoardClient:
    """A y-websocket client that edits a board the way Candor's web client does."""

    def __init__(self, client: YClient, author: str, name: str | None = None) -> None:
        self.y = client
        self.author = author
        self.name = name

    # -- reading ----------------------------------------------------------------

    def board(self) -> dict[str, Any]:
        """The board as this client sees it, its own unconfirmed edits included."""
        return _json(board_to_json(self.y.doc))

    def confirmed(self) -> dict[str, Any]:
        """The board as the server has broadcast it to this client."""
        return _json(board_to_json(self.y.confirmed))

    def section_ids(self) -> list[str]:
        return [section["id"] for section in self.board()["sections"]]

    async def wait_for_confirmed(self, predicate: Any, within_s: float = 5.0) -> None:
        await self.y.wait_for(lambda: predicate(self.confirmed()), within_s)

    # -- writing ----------------------------------------------------------------

    async def add_note(self, text: str = "a note", section: str | None = None, **fields: Any) -> str:
        """Create a note in one transaction, as a nested map; its id."""
        note_id = fields.pop("note_id", None) or new_id("n")
        note: dict[str, Any] = {
            "section": section if section is not None else self.section_ids()[0],
            "text": text,
            "colour": "yellow",
            "x": 10,
            "y": 20,
            "author": self.author,
            "author_name": None,
            "cluster": None,
            "scope": "room",
            "created_ms": int(time.time() * 1000),
            "from_room": None,
        }
        note.update(fields)

        def change(doc: Doc[Any]) -> None:
            doc.get("notes", type=Map)[note_id] = Map(note)

        await self.y.transact(change)
        return str(note_id)

    async def set_note(self, note_id: str, **fields: Any) -> None:
        def change(doc: Doc[Any]) -> None:
            note = doc.get("notes", type=Map)[note_id]
            for key, value in fields.items():
                note[key] = value

        await self.y.transact(change)

    async def delete_note(self, note_id: str) -> None:
        await self.y.transact(lambda doc: doc.get("notes", type=Map).pop(note_id))

    async def set_meta(self, **fields: Any) -> None:
        def change(doc: Doc[Any]) -> None:
            meta = doc.get("meta", type=Map)
            for key, value in fields.items():
                meta[key] = value
            if fields.get("phase") == "vote":
                # As the web client does: the facilitator opens every ballot as voting
                # starts, so two voters never both create the same ballot map.
                votes = doc.get("votes", type=Map)
                for note_id in doc.get("notes", type=Map).keys():
                    if note_id not in votes:
                        votes[note_id] = Map()

        await self.y.transact(change)

    async def add_section(self, section_id: str, title: str, prompts: list[str] | None = None) -> None:
        section = {"id": section_id, "title": title, "prompts": prompts or []}
        await self.y.transact(lambda doc: doc.get("sections", type=Array).append(section))

    async def add_cluster(self, section: str, label: str = "a cluster", **fields: Any) -> str:
        cluster_id = fields.pop("cluster_id", None) or new_id("c")
        cluster = {"section": section, "label": label, "x": 0, "y": 0, **fields}

        def change(doc: Doc[Any]) -> None:
            doc.get("clusters", type=Map)[cluster_id] = Map(cluster)

        await self.y.transact(change)
        return str(cluster_id)

    async def set_cluster(self, cluster_id: str, **fields: Any) -> None:
        def change(doc: Doc[Any]) -> None:
            cluster = doc.get("clusters", type=Map)[cluster_id]
            for key, value in fields.items():
                cluster[key] = value

        await self.y.transact(change)

    async def vote(self, note_id: str, count: int, voter: str | None = None) -> None:
        """Set ``voter``'s (by default this client's) votes on a note to ``count``."""
        who = voter if voter is not None else self.author

        def change(doc: Doc[Any]) -> None:
            votes = doc.get("votes", type=Map)
            if note_id in votes:
                votes[note_id][who] = count
            else:
                votes[note_id] = Map({who: count})

        await self.y.transact(change)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@contextlib.asynccontextmanager
async def board_client(
    event: Event, room: str, token: str, author: str, name: str | None = None
) -> AsyncIterator[BoardClient]:
    """A synced board client in ``room`` holding ``token``."""
    async with yclient(event.ws_url(room, token)) as client:
        yield BoardClient(client, author, name)
