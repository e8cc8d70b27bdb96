"""Every value an HTTP request carries, parsed and bounded in one place: JSON bodies, query values, tokens.

A handler never reads ``request.query_params`` or the body itself: what it
gets from here is well-formed and within bounds, and whatever is not is a
:class:`~candor.errors.BadRequest` (400) in the API's error shape, never an
exception that ends as a 500. The size of a body is bounded once, by
:class:`~candor.http.body_limit.BodyLimit` (413).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from itertools import accumulate
from typing import Any

from starlette.requests import Request

from candor.errors import BadRequest, Unauthorized
from candor.history.rebuild import PointInTime, parse_point

# Deeper than any template (the deepest body the API takes): a template nests four levels.
MAX_JSON_DEPTH = 32
# A JSON number with more digits than a double holds exactly is no count or size the API takes.
MAX_INT_DIGITS = 16
MAX_QUERY_CHARS = 256
MAX_TOKEN_CHARS = 4096

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_NESTING = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_WHOLE = re.compile(r"[0-9]{1,19}", re.ASCII)


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in the JSON text ``raw`` (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    return max(accumulate(map(_NESTING.__getitem__, brackets)), default=0)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        twice = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return obj


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text)} digits is too large")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _check_text(value: Any) -> None:
    """Refuse strings that are not Unicode text (lone surrogates from ``\\ud800`` escapes) anywhere in ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("a string holds a lone surrogate escape, which is not text") from exc
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, nesting within :data:`MAX_JSON_DEPTH`, finite numbers, no key twice; else BadRequest."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not JSON in UTF-8: {exc.reason} at byte {exc.start}") from exc
    if nesting_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_constant=_constant, parse_int=_int, parse_float=_float
        )
        _check_text(value)
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    return value


async def json_body(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object (an empty body counts as none: a 400)."""
    body = parse_json(await request.body() or b"null")
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def query_text(request: Request, name: str, max_chars: int = MAX_QUERY_CHARS) -> str | None:
    """The query parameter ``name`` (None when absent): given at most once, at most ``max_chars`` long."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"give {name!r} once, not {len(values)} times")
    if len(values[0]) > max_chars:
        raise BadRequest(f"{name!r} is longer than {max_chars} characters")
    return values[0]


def query_whole(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` in ASCII digits (``default`` when absent)."""
    text = query_text(request, name)
    if text is None:
        return default
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def query_point(request: Request, name: str = "at") -> tuple[str | None, PointInTime | None]:
    """``at`` as given and as a point in the log (a seq or a time); (None, None) when absent or empty."""
    text = query_text(request, name)
    if not text:
        return None, None
    return text, parse_point(text)


def token_of(request: Request) -> str | None:
    """``Authorization: Bearer <token>`` or ``?token=`` (links carry it in the query); ASCII, bounded."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token: str | None = header[7:].strip()
    else:
        token = query_text(request, "token", MAX_TOKEN_CHARS + 1)
    if token is not None and (len(token) > MAX_TOKEN_CHARS or not token.isascii()):
        raise Unauthorized("the token is not a Candor token")
    return token
