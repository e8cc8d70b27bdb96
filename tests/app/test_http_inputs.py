"""Malformed numbers, dates, nesting and text in any request are a 400 (or 413) in the error shape, never a 500."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boards import Event, call, create_event
from candor.errors import BadRequest
from candor.http.inputs import MAX_JSON_DEPTH, nesting_depth, parse_json


@pytest.fixture(scope="module")
def event(make_module_server: Any) -> Event:
    return create_event(make_module_server(open_rooms=False, creation_limit=False), template="beyond-hero-stories")


def room_of(event: Event) -> str:
    return event.breakouts[0]


NINES = "9" * 5000
BAD_QUERIES = {
    "at-5000-digits": "/api/rooms/{room}/board?at=" + NINES,
    "at-20-digits": "/api/rooms/{room}/board?at=" + "9" * 20,
    "at-past-9999": "/api/rooms/{room}/board?at=9999-12-31T23:59:59-14:00",
    "at-before-1970": "/api/rooms/{room}/board?at=1969-12-31T23:59:59Z",
    "at-year-0": "/api/rooms/{room}/board?at=0000-01-01",
    "at-arabic-digits": "/api/rooms/{room}/board?at=%D9%A3",
    "at-twice": "/api/rooms/{room}/board?at=1&at=2",
    "at-long": "/api/rooms/{room}/board?at=" + "2026-01-01" * 40,
    "export-at-5000-digits": "/api/rooms/{room}/export?format=md&at=" + NINES,
    "event-export-past-9999": "/api/events/{event}/export?format=md&at=9999-12-31T23:59:59-14:00",
    "history-after-superscript": "/api/rooms/{room}/history?after=%C2%B2",
    "history-limit-huge": "/api/rooms/{room}/history?limit=" + NINES,
    "history-after-negative": "/api/rooms/{room}/history?after=-1",
    "format-twice": "/api/rooms/{room}/export?format=md&format=json",
}


@pytest.mark.parametrize("path", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_a_malformed_query_value_is_a_400(event: Event, path: str) -> None:
    reply = call(event.server, "GET", path.format(room=room_of(event), event=event.id), token=event.facilitator)
    assert reply.status == 400, reply
    assert reply.error["code"] == "bad_request"


DEEP = b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BAD_BODIES = {
    "nested-100000": DEEP,
    "nested-33": b'{"title": "x", "template": ' + b'{"a": ' * 33 + b"1" + b"}" * 33 + b"}",
    "nan": b'{"title": "x", "rooms": NaN}',
    "infinity": b'{"title": "x", "rooms": -Infinity}',
    "huge-float": b'{"title": "x", "rooms": 1e400}',
    "5000-digit-number": b'{"title": "x", "rooms": ' + NINES.encode() + b"}",
    "17-digit-number": b'{"title": "x", "rooms": 12345678901234567}',
    "not-utf8": b'{"title": "\xff\xfe"}',
    "utf16": '{"title": "x"}'.encode("utf-16"),
    "duplicate-keys": b'{"title": "x", "title": "y"}',
    "lone-surrogate": b'{"title": "\\ud800 a failure story"}',
    "lone-surrogate-key": b'{"\\udc00": 1, "title": "x"}',
    "empty": b"",
    "array": b"[]",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_malformed_body_is_a_400(event: Event, body: bytes) -> None:
    reply = call(event.server, "POST", "/api/events", raw=body)
    assert reply.status == 400, reply
    assert reply.error["code"] == "bad_request"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/events/{event}/join", b'{"code": "\\ud800", "agree": true}'),
        ("POST", "/api/events/{event}/rooms", b'{"label": "\\udc00"}'),
        ("PATCH", "/api/events/{event}/rooms/{room}", b'{"label": "x", "label": "y"}'),
        ("POST", "/api/events/{event}/broadcast", b'{"timer": {"duration_s": 1e400}}'),
    ],
    ids=["join", "add-room", "rename-room", "broadcast"],
)
def test_every_body_goes_through_the_same_parser(event: Event, method: str, path: str, body: bytes) -> None:
    reply = call(
        event.server, method, path.format(event=event.id, room=room_of(event)), raw=body, token=event.facilitator
    )
    assert reply.status == 400, reply


def test_a_join_code_that_is_not_ascii_is_a_wrong_code_not_a_crash(event: Event) -> None:
    reply = call(event.server, "POST", f"/api/events/{event.id}/join", {"code": "\u00e6\u00bd\u00ac", "agree": True})
    assert reply.status == 403 and reply.error["code"] == "wrong_join_code"


@pytest.mark.parametrize("token", ["c1.abc.\u00e9", "c1.\u00e9.x", "\u00e9" * 10, "x" * 5000])
def test_a_token_that_is_not_ascii_or_too_long_is_a_401(event: Event, token: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", event.server.port, timeout=10)
    connection.request("GET", f"/api/events/{event.id}", headers={"Authorization": f"Bearer {token}".encode("latin-1")})
    response = connection.getresponse()
    assert response.status == 401
    assert json.loads(response.read())["error"]["code"] == "unauthorized"


def send_chunked(port: int, path: str, chunks: list[bytes]) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST", path, body=iter(chunks), headers={"Content-Type": "application/json"}, encode_chunked=True
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_one_body_limit_for_declared_and_chunked_bodies(make_server: Any) -> None:
    server = make_server("--max-http-body-bytes", "1000", open_rooms=False)
    title = json.dumps({"title": "Beyond hero stories " + "x" * 990}).encode()
    declared = call(server, "POST", "/api/events", raw=title)
    assert declared.status == 413 and declared.error["code"] == "body_too_large"
    status, body = send_chunked(server.port, "/api/events", [title[:600], title[600:]])
    assert status == 413 and body["error"]["code"] == "body_too_large"
    status, body = send_chunked(server.port, "/api/events", [b'{"title": "Beyond', b' hero stories"}'])
    assert status == 201, body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15), 10**15) | st.text(alphabet="ab[]{}\\\"'", max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=30,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@settings(max_examples=300)
@given(value=json_values, indent=st.sampled_from([None, 1]))
def test_nesting_depth_is_the_depth_of_the_value_whatever_its_strings_hold(value: Any, indent: int | None) -> None:
    raw = json.dumps(value, indent=indent).encode()
    assert nesting_depth(raw) == depth_of(value)
    assert parse_json(raw) == value


@settings(max_examples=200)
@given(depth=st.integers(MAX_JSON_DEPTH + 1, 5000), kind=st.sampled_from(["[]", "{}"]))
def test_any_nesting_past_the_bound_is_refused_before_parsing(depth: int, kind: str) -> None:
    opening, closing = ('{"k":', "}") if kind == "{}" else ("[", "]")
    raw = (opening * depth + "1" + closing * depth).encode()
    with pytest.raises(BadRequest, match="nests deeper"):
        parse_json(raw)
