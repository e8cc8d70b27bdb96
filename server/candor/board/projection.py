"""The JSON projection of a board document (see schemas/ for its shape)."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from candor.errors import InvalidBoard

# The board's root types and the shared type each one is.
BOARD_ROOTS: dict[str, type[Map[Any]] | type[Array[Any]]] = {
    "meta": Map,
    "sections": Array,
    "notes": Map,
    "clusters": Map,
    "votes": Map,
}

# A free-form document (--open-rooms) may nest shared types as deep as its size allows; its
# projection stops here rather than recurse (pycrdt's own renderers recurse natively).
MAX_PROJECTED_DEPTH = 32


def to_plain(value: Any, depth: int = 0) -> Any:
    """A shared type as plain JSON values, walked level by level; InvalidBoard past :data:`MAX_PROJECTED_DEPTH`."""
    if isinstance(value, (Map, Array)):
        if depth >= MAX_PROJECTED_DEPTH:
            raise InvalidBoard(f"this document nests shared types more than {MAX_PROJECTED_DEPTH} deep")
        if isinstance(value, Map):
            return {key: to_plain(item, depth + 1) for key, item in value.items()}
        return [to_plain(item, depth + 1) for item in value]
    if isinstance(value, Text):
        return str(value)
    if hasattr(value, "observe_deep"):  # XML types: not part of a board's projection
        return None
    return value


def board_to_json(doc: Doc[Any]) -> dict[str, Any]:
    """Every board root present in ``doc``, as plain JSON values.

    Roots a client never wrote are projected as empty; a root written with a
    different shared type than the board uses is reported under ``"invalid"``
    rather than guessed at.
    """
    present = set(doc.keys())
    board: dict[str, Any] = {}
    invalid: list[str] = []
    for name, kind in BOARD_ROOTS.items():
        empty: Any = [] if kind is Array else {}
        if name not in present:
            board[name] = empty
            continue
        try:
            board[name] = to_plain(doc.get(name, type=kind)) or empty
        except (TypeError, ValueError):
            board[name] = empty
            invalid.append(name)
    if invalid:
        board["invalid"] = invalid
    return board
