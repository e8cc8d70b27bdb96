"""Pacing of the broker's loops while Redis fails: longer sleeps after each failure in a row, said once."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from candor.errors import CandorError

logger = logging.getLogger("candor.broker")

BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 2.0


class Backoff:
    """Sleeps longer after each failure in a row; says so once when failing starts and once when it ends."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.delay_s: float | None = None

    def succeeded(self) -> None:
        if self.delay_s is not None:
            logger.info("broker %s: Redis answers again", self.what)
            self.delay_s = None

    async def failed(self, exc: Exception) -> None:
        if self.delay_s is None:
            expected = isinstance(exc, (RedisError, CandorError))
            logger.warning("broker %s failed, retrying: %s", self.what, exc, exc_info=None if expected else exc)
            self.delay_s = BACKOFF_MIN_S
        else:
            self.delay_s = min(self.delay_s * 2, BACKOFF_MAX_S)
        await asyncio.sleep(self.delay_s)
