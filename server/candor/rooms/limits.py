"""Per-connection limits: message and byte rates (token buckets), with throttling before closing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from candor.errors import PolicyViolation

KIB = 1024


@dataclass(frozen=True, slots=True)
class PeerLimits:
    """Defaults fit a workshop: far above what a person typing notes sends, far below a flood."""

    messages_per_s: float = 200.0
    bytes_per_s: float = 1024 * KIB
    burst_s: float = 2.0  # a bucket holds this many seconds of its rate
    flood_close_after_s: float = 5.0  # throttled this long without a break: closed
    max_awareness_bytes: int = 64 * KIB
    idle_timeout_s: float = 600.0  # nothing received this long: closed
    sync_timeout_s: float = 30.0  # no sync step 1 this long after connecting: closed
    max_peers_per_room: int = 1000
    max_connections_per_address: int = 500


class Flooding(PolicyViolation):
    code = "flooding"


class TokenBucket:
    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._at = time.monotonic()

    def take(self, amount: float, now: float) -> float:
        """Take ``amount`` at ``now`` (monotonic); the seconds to wait before it is covered (0 when it already is)."""
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= amount
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class Throttle:
    """Slows a fast sender down by not reading from it; closes it if it never lets up."""

    def __init__(self, limits: PeerLimits) -> None:
        self._limits = limits
        self._messages = TokenBucket(limits.messages_per_s, limits.messages_per_s * limits.burst_s)
        self._bytes = TokenBucket(limits.bytes_per_s, limits.bytes_per_s * limits.burst_s)
        self._throttled_since: float | None = None

    def delay(self, size: int) -> float:
        """Seconds to wait before reading on, so a message of ``size`` bytes is within the rates (mostly 0).

        Raises Flooding when the sender has been over them for too long. (Not a
        coroutine: nearly every message passes at once, and this runs for each.)
        """
        now = time.monotonic()
        wait = max(self._messages.take(1, now), self._bytes.take(size, now))
        if wait <= 0:
            self._throttled_since = None
            return 0.0
        if self._throttled_since is None:
            self._throttled_since = now
        elif now - self._throttled_since > self._limits.flood_close_after_s:
            raise Flooding(
                f"sending faster than {self._limits.messages_per_s:g} messages or "
                f"{self._limits.bytes_per_s / KIB:g} KiB per second for too long"
            )
        return wait
