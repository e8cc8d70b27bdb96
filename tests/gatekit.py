"""A board's gate driven in-process, without a server: writers with their own replicas, as a room would run it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from candor.board.gate import BoardGate, LoggedState
from candor.board.initial import initial_board
from candor.board.projection import board_to_json
from candor.board.templates import builtin_templates, template_to_json
from candor.board.transact import EMPTY_UPDATE, transact
from candor.errors import Forbidden, InvalidBoard, InvalidUpdate
from candor.ids import Access, Role
from candor.protocol.update import OPEN_BOUNDS, UpdateBounds, read_update

TEMPLATE = template_to_json(builtin_templates()["beyond-hero-stories"])
BOARD = initial_board(TEMPLATE, event_id="ev1", kind="breakout")
SECTION = "define-the-problem"
MAX_BOARD_BYTES = 2 * 1024 * 1024

FACILITATOR = Access(Role.FACILITATOR, "facilitator")
ADA = Access(Role.PARTICIPANT, "u-ada", "Ada")
BO = Access(Role.PARTICIPANT, "u-bo", "Bo")
VIEWER = Access(Role.VIEWER, "viewer")

REFUSALS = (Forbidden, InvalidBoard, InvalidUpdate)
EVERYTHING = UpdateBounds(OPEN_BOUNDS.contents, OPEN_BOUNDS.type_refs, max_item_depth=2**31)


class Room:
    """One gated board and what it logged, the way rooms/admission.py runs a gate."""

    def __init__(self) -> None:
        self.logged = LoggedState(BOARD, [])
        self.gate = BoardGate(self.logged, MAX_BOARD_BYTES)
        self.size = len(BOARD)

    def admit(self, access: Access, update: bytes) -> None:
        """Admit ``update`` as ``access``, or raise the refusal after taking it back as the room does."""
        if update == EMPTY_UPDATE:
            return
        try:
            self.gate.admit(access, update, self.size)
        except REFUSALS:
            self.gate.take_back([])
            raise
        self.logged.add(update)
        self.size += len(update)

    def board(self) -> dict[str, Any]:
        return board_to_json(self.gate.doc)

    def state(self) -> bytes:
        return self.gate.doc.get_update()

    def fingerprint(self) -> tuple[Any, ...]:
        """The document, exactly: every struct (id, length, kind, place), what is deleted, and what it reads as.

        Yrs writes clients and the keys of plain objects in no fixed order, so
        the encoded bytes are compared struct by struct and the values as sorted JSON.
        """
        read = read_update(self.state(), EVERYTHING)
        structs = sorted(
            (s.client, s.clock, s.length, s.kind, repr(s.parent), s.parent_sub, repr(s.origin)) for s in read.structs
        )
        return tuple(structs), tuple(sorted(read.deletes)), json.dumps(self.board(), sort_keys=True)


class Writer:
    """A client's replica of the room: edits become updates the room admits (or refuses)."""

    def __init__(self, room: Room, access: Access, client_id: int) -> None:
        self.room = room
        self.access = access
        self.client_id = client_id
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.doc.apply_update(room.state())

    def resync(self) -> None:
        """Start over from the room's document with a new client id, as a refused client does when it reconnects."""
        self.client_id += 1_000_003
        self.doc = Doc(client_id=self.client_id)
        self.doc.apply_update(self.room.state())

    def write(self, edit: Callable[[Doc[Any]], object]) -> None:
        """Make the edit here and send it; on a refusal the replica starts over and the refusal is raised."""
        self.doc.apply_update(self.room.state())  # what the others did meanwhile
        update = transact(self.doc, edit)
        try:
            self.room.admit(self.access, update)
        except REFUSALS:
            self.resync()
            raise
