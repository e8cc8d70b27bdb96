"""What a room checks each update against before it is logged; the admission owns the room's live document.

Two kinds, told apart by the room's name alone (:func:`candor.ids.is_event_room`):
an event's board passes every update through its :class:`~candor.board.gate.BoardGate`
(the board's shape and the sender's role); a free-form room (``--open-rooms``)
takes any Yjs update within the bounds of any document. Only the room's writer
calls an admission, and only it reads :attr:`Admission.doc`.
"""

from __future__ import annotations

from typing import Any, Protocol

from pycrdt import Doc

from candor.board.gate import BoardGate
from candor.board.safe import apply_stored
from candor.errors import InvalidBoard, InvalidUpdate
from candor.ids import Access
from candor.protocol.update import OPEN_BOUNDS, read_update


class Admission(Protocol):
    """The rules a room's updates pass, and the document they apply to.

    The document runs ahead of the log by the updates admitted and not yet
    logged; the writer broadcasts nothing before they are logged.
    """

    @property
    def doc(self) -> Doc[Any]:
        """The live document (replaced by :meth:`take_back`): read it in the writer only."""
        ...

    @property
    def size_bytes(self) -> int:
        """An estimate of the document's encoded size: its last snapshot plus every update since."""
        ...

    def admit(self, access: Access, update: bytes) -> None:
        """Apply ``update`` to the document, or raise Forbidden, InvalidBoard or InvalidUpdate to refuse it.

        After a refusal the document may hold part of the refused update: call :meth:`take_back`.
        """
        ...

    def take_back(self, pending: list[bytes]) -> None:
        """After a refusal: the document as logged, plus ``pending`` (admitted, not yet logged)."""
        ...

    def apply_logged(self, update: bytes, where: str) -> None:
        """Apply an update another process admitted and logged (one outside the bounds is left out)."""
        ...

    def logged(self, update: bytes) -> None:
        """``update`` (admitted here or applied by :meth:`apply_logged`) is now in the log."""
        ...

    def snapshot_taken(self, state: bytes) -> None:
        """The document as logged is now ``state``."""
        ...

    def take_collect_ended(self) -> bool:
        """True once after an admitted update moved the board out of its collect phase."""
        ...

    def close(self) -> None:
        """Let go of the document (the room has stopped)."""
        ...


def _measured(doc: Doc[Any], size_bytes: int, update: bytes, max_bytes: int) -> int:
    """The size estimate to check ``update`` against.

    The running sum counts every update ever applied, moves and deletions too;
    near the limit, what the document really takes is measured before refusing.
    """
    return len(doc.get_update()) if size_bytes + len(update) > max_bytes else size_bytes


class OpenAdmission:
    """A free-form room: any Yjs update within the bounds every document keeps, from anyone."""

    def __init__(self, doc: Doc[Any], *, size_bytes: int, max_bytes: int) -> None:
        self._doc = doc
        self._size = size_bytes
        self._max_bytes = max_bytes

    @property
    def doc(self) -> Doc[Any]:
        return self._doc

    @property
    def size_bytes(self) -> int:
        return self._size

    def admit(self, access: Access, update: bytes) -> None:
        self._size = _measured(self._doc, self._size, update, self._max_bytes)
        if self._size + len(update) > self._max_bytes:
            raise InvalidBoard(f"the document would grow past its {self._max_bytes}-byte limit")
        read_update(update, OPEN_BOUNDS)  # before pycrdt decodes a byte of it
        try:
            self._doc.apply_update(update)
        except ValueError as exc:
            raise InvalidUpdate(f"update rejected: {exc}") from exc
        self._size += len(update)

    def take_back(self, pending: list[bytes]) -> None:
        pass  # an open room refuses only updates that did not apply

    def apply_logged(self, update: bytes, where: str) -> None:
        apply_stored(self._doc, update, None, where=where)
        self._size += len(update)

    def logged(self, update: bytes) -> None:
        pass  # nothing to rebuild from: a refusal never leaves a trace here

    def snapshot_taken(self, state: bytes) -> None:
        pass

    def take_collect_ended(self) -> bool:
        return False  # no phases

    def close(self) -> None:
        pass


class BoardAdmission:
    """An event's board: every update through its gate, which holds the document (and replaces it after a refusal)."""

    def __init__(self, gate: BoardGate, *, size_bytes: int) -> None:
        self._gate = gate
        self._size = size_bytes

    @property
    def doc(self) -> Doc[Any]:
        return self._gate.doc

    @property
    def size_bytes(self) -> int:
        return self._size

    def admit(self, access: Access, update: bytes) -> None:
        self._size = _measured(self._gate.doc, self._size, update, self._gate.max_board_bytes)
        self._gate.admit(access, update, self._size)
        self._size += len(update)

    def take_back(self, pending: list[bytes]) -> None:
        self._gate.take_back(pending)

    def apply_logged(self, update: bytes, where: str) -> None:
        self._gate.apply_trusted(update, where)
        self._size += len(update)

    def logged(self, update: bytes) -> None:
        self._gate.logged.add(update)

    def snapshot_taken(self, state: bytes) -> None:
        self._gate.logged.rebase(state)

    def take_collect_ended(self) -> bool:
        return self._gate.take_collect_ended()

    def close(self) -> None:
        # The gate's observers hold it from the native side: without this a stopped room is never freed.
        self._gate.close()
