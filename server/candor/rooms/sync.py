"""What a room's writer sends one peer: its greeting, the answer to its sync step 1, and why its update was refused.

Each is called by the writer alone, with the document as broadcast.
"""

from __future__ import annotations

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


def greet(peer: Peer, doc: Doc[Any], presence: bytes | None) -> None:
    """A new connection gets the document's state vector and the presence shown (``presence``, encoded)."""
    peer.send(encode_sync_step1(doc.get_state()))
    if presence is not None:
        peer.send(encode_awareness(presence))


def answer_step1(peer: Peer, doc: Doc[Any], message: SyncStep1) -> bool:
    """Send what the peer lacks; True when it has just synced (it joins the broadcast set now, not before)."""
    try:
        update = doc.get_update(message.state_vector)
    except ValueError:
        peer.fail(ProtocolError("sync step 1 carries a malformed state vector"))
        return False
    peer.send(encode_sync_step2(update))
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
