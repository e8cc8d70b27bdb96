"""Join codes cannot be guessed from one address; events cannot be created without limit, or without the token."""

from __future__ import annotations

import math
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boards import call, create_event
from candor.cli import build_parser, is_loopback, settings_from_args
from candor.errors import TooManyRequests
from candor.http.throttle import AttemptThrottle, RateLimit, address_key

# -- the rules, without a server ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ADDRESSES = ["203.0.113.7", "203.0.113.8", "2001:db8::1", "2001:db8::2", "2001:db8:0:1::1"]


def banned_until(times: list[float], limit: int) -> float:
    """When the ban of an address whose counted failures are ``times`` ends (0: never banned)."""
    starts = [t for i, t in enumerate(times) if i + 1 >= limit and times[i + 1 - limit] > t - 60]
    return max(starts) + 300 if starts else 0.0


@settings(max_examples=300)
@given(
    steps=st.lists(st.tuples(st.floats(0, 90), st.sampled_from(ADDRESSES), st.booleans()), min_size=1, max_size=80),
    limit=st.integers(1, 6),
)
def test_a_handful_of_failures_a_minute_then_a_ban_each_address_on_its_own(
    steps: list[tuple[float, str, bool]], limit: int
) -> None:
    clock = Clock()
    throttle = AttemptThrottle(limit, window_s=60, ban_s=300, clock=clock)
    counted: dict[str, list[float]] = {}
    for pause, host, fails in steps:
        clock.now += pause
        times = counted.setdefault(address_key(host), [])
        ends = banned_until(times, limit)
        try:
            throttle.check(host)
        except TooManyRequests as refused:
            assert clock.now < ends  # refused only while banned, and told for how long
            assert refused.retry_after_s == max(1, math.ceil(ends - clock.now))
            continue
        assert clock.now >= ends  # never refused otherwise, whatever other addresses did
        if fails:
            throttle.failed(host)
            times.append(clock.now)
    for times in counted.values():
        for start in times:  # at most ``limit`` failures were ever checked in any minute
            assert sum(1 for t in times if start <= t < start + 60) <= limit


def test_an_ipv6_network_counts_as_one_address() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff") == "2001:db8::/64"
    assert address_key("2001:db8:0:1::1") != address_key("2001:db8::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("testclient") == "testclient"


@settings(max_examples=200)
@given(pauses=st.lists(st.floats(0, 600), max_size=60), per_hour=st.integers(1, 30))
def test_the_creation_limit_never_lets_more_than_its_burst_plus_its_rate_through(
    pauses: list[float], per_hour: int
) -> None:
    clock = Clock()
    limit = RateLimit(per_hour, per_hour, clock=clock)
    start, taken = clock.now, 0
    for pause in pauses:
        clock.now += pause
        try:
            limit.take("203.0.113.7", "creating events")
            taken += 1
        except TooManyRequests as refused:
            assert 1 <= refused.retry_after_s <= 3600 / per_hour + 1
    assert taken <= per_hour + (clock.now - start) * per_hour / 3600 + 1e-9


def test_tables_stay_bounded_whatever_the_number_of_addresses() -> None:
    clock = Clock()
    throttle = AttemptThrottle(3, clock=clock, max_addresses=100)
    limit = RateLimit(10, 10, clock=clock, max_addresses=100)
    for n in range(5000):
        throttle.failed(f"198.51.{n // 256}.{n % 256}")
        limit.take(f"198.51.{n // 256}.{n % 256}", "creating events")
    assert len(throttle) == 100 and len(limit) == 100


# -- on a real server ----------------------------------------------------------------------------


def test_guessing_join_codes_gets_the_address_banned_with_retry_after(make_server: Any) -> None:
    server = make_server("--join-failures-per-minute", "5", "--join-ban-s", "120", open_rooms=False)
    event = create_event(server, template="blank")
    right = event.data["join_code"]
    wrong = ["ZZZZZZ", "YYYYYY", "XXXXXX"]
    attempts = [
        ("POST", f"/api/events/{event.id}/join", {"code": wrong[0], "agree": True}),
        ("GET", f"/api/events/{event.id}/join?code={wrong[1]}", None),
        ("GET", f"/api/join/{wrong[2]}", None),
        ("POST", "/api/events/evnosuch0/join", {"code": right, "agree": True}),
        ("GET", f"/api/join/{wrong[0]}", None),
    ]
    for method, path, body in attempts:  # every way of guessing counts
        assert call(server, method, path, body).status in (403, 404)
    for method, path, body in [
        ("POST", f"/api/events/{event.id}/join", {"code": right, "agree": True}),  # even the right code
        ("GET", f"/api/join/{right}", None),
    ]:
        reply = call(server, method, path, body)
        assert reply.status == 429, reply
        assert reply.error["code"] == "too_many_requests"
        assert "try again in 2 minutes" in reply.error["message"]
    raw = call_with_headers(server, f"/api/join/{right}")
    assert raw[0] == 429 and 110 <= int(raw[1]["retry-after"]) <= 120


def call_with_headers(server: Any, path: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(server.http_url + path, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def test_right_codes_and_refusals_that_are_no_guess_do_not_count(make_server: Any) -> None:
    server = make_server("--join-failures-per-minute", "2", open_rooms=False)
    event = create_event(server, template="beyond-hero-stories")
    for _ in range(4):
        assert call(server, "POST", f"/api/events/{event.id}/join", {"code": event.data["join_code"]}).status == 403
        assert call(server, "POST", f"/api/events/{event.id}/join", raw=b"{").status == 400
        assert call(server, "GET", f"/api/join/{event.data['join_code']}").status == 200
    assert call(server, "POST", f"/api/events/{event.id}/join", {"code": event.data["join_code"], "agree": True})


def test_creating_events_is_limited_per_address(make_server: Any) -> None:
    server = make_server("--max-events-per-hour", "3", open_rooms=False, creation_limit=True)
    for _ in range(3):
        create_event(server, template="blank", rooms=0)
    reply = call(server, "POST", "/api/events", {"title": "One too many", "template": "blank", "rooms": 0})
    assert reply.status == 429 and reply.error["code"] == "too_many_requests"
    assert "creating events" in reply.error["message"]


def test_with_a_create_token_only_its_holder_creates_events(make_server: Any) -> None:
    server = make_server("--create-token", "workshop-2026-token", open_rooms=False)
    assert server.get("/api/info")["create_token_required"] is True
    body = {"title": "Beyond hero stories", "template": "blank", "rooms": 1}
    missing = call(server, "POST", "/api/events", body)
    assert missing.status == 401 and missing.error["code"] == "create_token_required"
    wrong = call(server, "POST", "/api/events", body, token="workshop-2026-tokeN")
    assert wrong.status == 401 and "not this server's" in wrong.error["message"]
    made = call(server, "POST", "/api/events", body, token="workshop-2026-token")
    assert made.status == 201, made
    # The token creates events; it opens none.
    assert call(server, "GET", f"/api/events/{made.body['event_id']}", token="workshop-2026-token").status == 401


def test_without_a_create_token_anyone_on_loopback_creates_events(server: Any) -> None:
    assert server.get("/api/info") == {"create_token_required": False, "retain_days": None, "retention": None}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.0.2.10", False), ("candor.example.org", False)],
)  # fmt: skip
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_create_token_and_limits_reach_the_settings() -> None:
    options = "serve --create-token t0ken --max-events-per-hour 7 --join-failures-per-minute 4 --join-ban-s 60"
    args = build_parser().parse_args([*options.split(), "--retain-days", "30"])
    chosen = settings_from_args(args)
    assert (chosen.create_token, chosen.max_events_per_hour, chosen.join_failures_per_minute) == ("t0ken", 7, 4)
    assert (chosen.join_ban_s, chosen.retain_days) == (60.0, 30.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--retain-days", "0"])
