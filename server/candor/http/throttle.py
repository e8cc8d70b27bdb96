"""Per-address limits on guessing join codes and on creating events, in the memory of one process.

Join codes are six characters read aloud: guessable only by trying many.
:class:`AttemptThrottle` lets an address fail a handful of times a minute and
then bans it for some minutes, as Hocuspocus' throttle extension does; a
banned address is not even checked, so a right guess during a ban wins
nothing. :class:`RateLimit` is a token bucket: a burst of event creations, then
a steady rate. Both answer with :class:`~candor.errors.TooManyRequests`
(429 with Retry-After).

An IPv6 address counts by its /64 network, the block one subscriber is
usually given, so hopping between the addresses of one's own network does not
reset the count. Each table holds at most ``max_addresses`` entries, oldest
forgotten first, so a flood of addresses cannot grow memory without bound.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from candor.errors import TooManyRequests

Clock = Callable[[], float]
MAX_ADDRESSES = 100_000


def address_key(host: str) -> str:
    """The key an address counts under: an IPv4 address itself, an IPv6 address its /64 network."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (a test client, a Unix socket): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0


class AttemptThrottle:
    """At most ``failures`` failed attempts per address in any ``window_s``; then a ban of ``ban_s``."""

    def __init__(
        self,
        failures: int,
        window_s: float = 60.0,
        ban_s: float = 300.0,
        *,
        clock: Clock = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.failures = failures
        self.window_s = window_s
        self.ban_s = ban_s
        self._clock = clock
        self._max_addresses = max_addresses
        self._table: dict[str, _Failures] = {}

    def check(self, host: str) -> None:
        """Raise TooManyRequests while ``host`` is banned; otherwise let its attempt be made."""
        entry = self._table.get(address_key(host))
        if entry is None:
            return
        wait = entry.banned_until - self._clock()
        if wait > 0:
            raise TooManyRequests(
                f"too many wrong join codes from your network; try again in {_minutes(wait)}, "
                "or ask the facilitator for the join link",
                math.ceil(wait),
            )

    def failed(self, host: str) -> None:
        """Count a failed attempt of ``host``; the one that reaches the limit starts its ban."""
        key = address_key(host)
        now = self._clock()
        entry = self._table.pop(key, None) or _Failures()
        self._table[key] = entry  # most recent last: the oldest are forgotten first
        while entry.times and entry.times[0] <= now - self.window_s:
            entry.times.popleft()
        entry.times.append(now)
        if len(entry.times) >= self.failures:
            entry.banned_until = now + self.ban_s
            entry.times.clear()
        self._forget_oldest()

    def _forget_oldest(self) -> None:
        while len(self._table) > self._max_addresses:
            del self._table[next(iter(self._table))]

    def __len__(self) -> int:
        return len(self._table)


class RateLimit:
    """A token bucket per address: ``burst`` at once, then one more every ``3600 / per_hour`` seconds."""

    def __init__(
        self, per_hour: float, burst: int, *, clock: Clock = time.monotonic, max_addresses: int = MAX_ADDRESSES
    ) -> None:
        self.per_hour = per_hour
        self.burst = burst
        self._clock = clock
        self._max_addresses = max_addresses
        self._table: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, host: str, what: str) -> None:
        """Spend one token of ``host``; TooManyRequests (saying ``what`` was refused) when none is left."""
        key = address_key(host)
        now = self._clock()
        tokens, at = self._table.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_hour / 3600)
        if tokens < 1:
            self._table[key] = (tokens, now)
            wait = (1 - tokens) * 3600 / self.per_hour
            raise TooManyRequests(f"{what}: too many from your network; try again in {_minutes(wait)}", math.ceil(wait))
        self._table[key] = (tokens - 1, now)
        while len(self._table) > self._max_addresses:
            del self._table[next(iter(self._table))]

    def __len__(self) -> int:
        return len(self._table)


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{math.ceil(seconds)} seconds"
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
