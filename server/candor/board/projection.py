"""The JSON projection of a board document (see schemas/ for its shape)."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map

# The board's root types and the shared type each one is.
BOARD_ROOTS: dict[str, type[Map[Any]] | type[Array[Any]]] = {
    "meta": Map,
    "sections": Array,
    "notes": Map,
    "clusters": Map,
    "votes": Map,
}


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
            board[name] = doc.get(name, type=kind).to_py() or empty
        except (TypeError, ValueError):
            board[name] = empty
            invalid.append(name)
    if invalid:
        board["invalid"] = invalid
    return board
