"""What a room's writer sends one peer: its greeting, the answer to its sync step 1, and why its update was refused.

Each is called by the writer alone, with the document as broadcast. The
greeting and the answer are the same for everyone who asks at the same
document state with the same state vector (500 people joining a plenary as
the QR code goes up, each with an empty document): :class:`Answers` makes each
frame once for all of them, and a broadcast frames the same bytes once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from candor.errors import CandorError, ProtocolError
from candor.protocol import (
    SyncStep1,
    encode_awareness,
    encode_permission_denied,
    encode_sync_step1,
    encode_sync_step2,
)
from candor.rooms.peer import Peer, PeerState

# Answers to different state vectors kept for one document state. Newcomers all ask with
# the empty one; each answer may be as large as the board, so a few at most.
KEPT = 4


class Answers:
    """The frames a room's writer answers with, made once per document state and shared."""

    def __init__(self) -> None:
        # The document's version these frames are for: the room's head. (Not its state vector:
        # a deletion changes the document and leaves the state vector as it was.)
        self._version = -1
        self._step1: bytes | None = None
        self._step2: dict[bytes, bytes] = {}

    def _at(self, version: int) -> None:
        if version != self._version:
            self._version, self._step1 = version, None
            self._step2.clear()

    def step1(self, doc: Doc[Any], version: int) -> bytes:
        """Sync step 1: the document's state vector, at ``version``."""
        self._at(version)
        if self._step1 is None:
            self._step1 = encode_sync_step1(doc.get_state())
        return self._step1

    def step2(self, doc: Doc[Any], version: int, state_vector: bytes) -> bytes:
        """Sync step 2: what a peer at ``state_vector`` lacks; ValueError when it is malformed."""
        self._at(version)
        frame = self._step2.get(state_vector)
        if frame is None:
            frame = encode_sync_step2(doc.get_update(state_vector))
            if len(self._step2) >= KEPT:
                self._step2.clear()
            self._step2[state_vector] = frame
        return frame


def greet(peer: Peer, step1: bytes, presence: bytes | None) -> None:
    """A new connection gets the document's state vector (``step1``, framed) and the presence shown (encoded)."""
    peer.send(step1)
    if presence is not None:
        peer.send(encode_awareness(presence))


def answer_step1(peer: Peer, step2: Callable[[bytes], bytes], message: SyncStep1) -> bool:
    """Send what the peer lacks (``step2`` of its state vector, framed); True when it has just synced.

    A peer joins the broadcast set once synced, not before.
    """
    try:
        frame = step2(message.state_vector)
    except ValueError:
        peer.fail(ProtocolError("sync step 1 carries a malformed state vector"))
        return False
    peer.send(frame)
    if peer.state is not PeerState.CONNECTED:
        return False
    peer.mark_synced()
    return True


def refuse_update(peer: Peer, error: CandorError) -> None:
    """Tell the sender why, and close it: its copy now holds a change nobody else has.

    y-websocket logs the permission-denied reason; the close code says the
    same to any client. On reconnect a client must start from a fresh document.
    """
    peer.send(encode_permission_denied(error.message))
    peer.fail(error, drain=True)
