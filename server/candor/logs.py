"""Structured logging: one JSON object per line, with the room and seq when a message is about one.

Messages never carry note text or tokens: callers pass ids (room, seq, peer
pseudonym) as ``extra`` fields, and the formatter drops any field it does not
know, so a stray value cannot leak through a log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

# Links carry tokens in their query strings; uvicorn logs websocket request lines.
_TOKEN = re.compile(r"(token=)[^\s&\"']+|\bc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
FIELDS = ("room", "seq", "peer", "event", "code", "reason", "count")


class RedactTokens(logging.Filter):
    """Replace anything that looks like a token by ``[redacted]`` before a line is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN.sub(lambda m: (m.group(1) or "") + "[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """``fmt`` is ``json`` (one object per line) or ``text`` (for a person at a terminal)."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the same handler.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
