"""Edits the server makes to a board on a facilitator's behalf, as functions over a copy of its document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from candor.board import model


def set_meta(fields: dict[str, Any]) -> Callable[[Doc[Any]], None]:
    def change(doc: Doc[Any]) -> None:
        meta = doc.get(model.META, type=Map)
        for key, value in fields.items():
            meta[key] = value

    return change
