"""The update one local transaction makes, as a Yjs client sends it (``doc.on('update')``).

``doc.get_update(state_before)`` is not the same thing: it carries the new
structs but the document's *whole* delete set, which grows with every note
ever deleted or value ever overwritten, so such updates grow without bound and
cost more to apply each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc, TransactionEvent

EMPTY_UPDATE = b"\x00\x00"


def transact(doc: Doc[Any], edit: Callable[[Doc[Any]], object], origin: object = None) -> bytes:
    """Run ``edit(doc)`` in one transaction; the update it made (EMPTY_UPDATE if it changed nothing)."""
    made: list[bytes] = []

    def keep(event: TransactionEvent) -> None:
        made.append(event.update)

    subscription = doc.observe(keep)
    try:
        with doc.transaction(origin=origin):
            edit(doc)
    finally:
        doc.unobserve(subscription)
    return made[0] if made else EMPTY_UPDATE
