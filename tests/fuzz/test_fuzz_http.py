"""Every operation of schemas/openapi.json, with hostile path, query, token and body: never a 5xx.

Requests reach a real server holding a real event, so a good share of them
carries a valid token and gets past authorisation to the parsing behind it.
"""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boards import Event, create_event

SPEC = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "openapi.json").read_text())
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in SPEC["paths"].items()
    for method in item
    if method in {"get", "post", "patch", "put", "delete"}
)
QUERY_NAMES = ["at", "after", "limit", "format", "audience", "code", "token"]

HOSTILE_TEXT = [
    "9" * 5000, "9" * 20, "12345678901234567890", "-1", "\u00b2", "\u0663", "1e400", "NaN", "Infinity",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0000-01-01", "2026-13-45", "2026-11-23T14:32:00Z",
    "\x00", "\ud800", "\u00e6\u00bd", "..", "~", "%", "a" * 300, "", " ", "md", "json", "pptx", "public", "event",
]  # fmt: skip
texts = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30), st.from_regex(r"[0-9]{1,25}", fullmatch=True))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(HOSTILE_TEXT),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=15,
)
FIELDS = ["title", "template", "rooms", "code", "agree", "name", "label", "phase", "locked", "timer"]
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
HOSTILE_BODIES = [
    b"[" * 50_000 + b"]" * 50_000, b'{"title": NaN}', b'{"rooms": 1e400}', b'{"title": "a", "title": "b"}',
    b'{"title": "\\ud800"}', b"\xff\xfe\x00", b"", b"null", b'{"rooms": ' + b"9" * 5000 + b"}",
    b'{"timer": {"duration_s": 1e308}}', b'{"template": ' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}",
]  # fmt: skip
bodies = st.one_of(
    objects.map(lambda body: json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")),
    st.sampled_from(HOSTILE_BODIES),
    st.binary(max_size=60),
)


@pytest.fixture(scope="module")
def event(make_module_server: Any) -> Event:
    # Join-code guesses are the fuzzer's daily bread here: the ban would hide what lies behind it.
    server = make_module_server("--join-failures-per-minute", "1000000", open_rooms=False)
    return create_event(server, template="beyond-hero-stories", rooms=1)


def request(event: Event, method: str, path: str, body: bytes | None, token: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", event.server.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


@st.composite
def calls(draw: st.DrawFn, event: Event) -> tuple[str, str, bytes | None, str | None]:
    path, method = draw(st.sampled_from(OPERATIONS))
    real = {
        "event_id": event.id,
        "room": event.breakouts[0],
        "room_id": event.breakouts[0],
        "code": event.data["join_code"],
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        # DELETE never names the real event: erasing it would leave nothing behind the doors to fuzz.
        value = draw(texts) if method == "DELETE" or draw(st.booleans()) else real[name]
        return quote(value.encode("utf-8", "surrogatepass"), safe="")

    target = re.sub(r"\{(\w+)\}", fill, path)
    query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), texts, max_size=3))
    if query:
        encoded = {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()}
        target += "?" + urlencode(encoded)
    body = draw(bodies) if method in {"POST", "PATCH"} else None
    token = draw(st.sampled_from([event.facilitator, event.viewer, None, "c1.x.y"]))
    return method, target, body, token


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_request_to_any_operation_gets_a_5xx(event: Event, data: st.DataObject) -> None:
    method, target, body, token = data.draw(calls(event))
    status, raw = request(event, method, target, body, token)
    assert status < 500, (method, target, body, status, raw[:300])
    if status >= 400 and target.startswith("/api"):
        error = json.loads(raw)["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]


def test_the_event_survived_the_fuzzing(event: Event) -> None:
    status, _ = request(event, "GET", f"/api/events/{event.id}", None, event.facilitator)
    assert status == 200
    status, _ = request(event, "GET", "/healthz", None, None)
    assert status == 200
