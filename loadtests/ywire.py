"""y-websocket for gevent load users: a websocket-client connection whose frames candor.protocol decodes once, here.

Everything above this module works on typed messages (``SyncStep1``,
``SyncUpdate``, ``AwarenessUpdate``, ``PermissionDenied``, ``Closed``), never on
bytes. The socket is websocket-client's, which blocks only the calling
greenlet once gevent has patched the standard library (locust does that at
import). Encoding goes through ``candor.protocol`` and pycrdt too: no varint
is written by hand.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import websocket
from pycrdt import Awareness, Doc, Map

from candor.board.transact import transact
from candor.protocol import (
    AwarenessUpdate,
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from candor.protocol.codec import ServerMessage, decode_server_message

NORMAL_CLOSE = 1000


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection ended: the server's close code and reason (1006 when it just dropped)."""

    code: int
    reason: str


class _ReadAhead:
    """A connected socket whose small reads are served from one large read.

    websocket-client reads a frame in three or four ``recv`` calls (header,
    length, payload); under load many frames wait in the kernel at once, so
    one 64 KiB read serves dozens of them. Everything else goes to the socket.
    """

    READ_BYTES = 65536

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        if self._at >= len(self._buffer):
            self._buffer, self._at = self._sock.recv(self.READ_BYTES), 0
            if not self._buffer:
                return b""
        chunk = self._buffer[self._at : self._at + size]
        self._at += len(chunk)
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class YSocket:
    """One websocket to ``/ws/{room}``; ``receive`` blocks only the calling greenlet."""

    def __init__(self, url: str, connect_timeout_s: float) -> None:
        parts = urlsplit(url)
        sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=connect_timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ws = websocket.create_connection(
            url,
            socket=_ReadAhead(sock),
            timeout=connect_timeout_s,
            enable_multithread=True,  # the sending and the receiving greenlet share the socket
            skip_utf8_validation=True,
            suppress_origin=True,
        )
        self._ws.settimeout(None)  # after the handshake, a read waits as long as the connection lives

    def send(self, frame: bytes) -> None:
        self._ws.send_bytes(frame)

    def receive(self) -> ServerMessage | Closed:
        """The next message, or ``Closed`` once the connection has ended (pings are answered on the way)."""
        try:
            opcode, data = self._ws.recv_data()
        except (websocket.WebSocketException, OSError) as exc:
            return Closed(1006, f"connection lost: {exc}")
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            if len(data) < 2:
                return Closed(1005, "")
            return Closed(int.from_bytes(data[:2], "big"), data[2:].decode(errors="replace"))
        if opcode != websocket.ABNF.OPCODE_BINARY:
            return Closed(1003, "the server sent a text frame")
        return decode_server_message(data)

    def close(self) -> None:
        """Start a clean close; the receiving greenlet sees the server's answer as ``Closed``."""
        try:
            self._ws.send_close(NORMAL_CLOSE)
        except (websocket.WebSocketException, OSError):
            self._ws.shutdown()

    def abort(self) -> None:
        self._ws.shutdown()


class BoardReplica:
    """A client's copy of one board: the Yjs document, its awareness, and the sync handshake.

    ``handle`` applies what the server sends and returns the frame to answer
    with, if any; ``change`` runs a local edit in one transaction and returns
    the sync-update frame carrying it. Observers see remote changes only when
    registered with ``observe`` (local edits are not reported).
    """

    def __init__(self) -> None:
        self.doc: Doc[Any] = Doc()
        self.notes = self.doc.get("notes", type=Map)
        self.votes = self.doc.get("votes", type=Map)
        self.meta = self.doc.get("meta", type=Map)
        self.awareness = Awareness(self.doc)
        self.synced = False
        self._local = False
        self._subscriptions: list[Any] = []

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    def sync_step1(self) -> bytes:
        return encode_sync_step1(self.doc.get_state())

    def handle(self, message: Message) -> bytes | None:
        """Apply one message from the server; the reply to send, if any."""
        if isinstance(message, SyncStep1):
            return encode_sync_step2(self.doc.get_update(message.state_vector))
        if isinstance(message, SyncStep2):
            self.doc.apply_update(message.update)
            self.synced = True
        elif isinstance(message, AwarenessUpdate):
            self.awareness.apply_awareness_update(message.payload, origin="remote")
        elif isinstance(message, SyncUpdate):
            self.doc.apply_update(message.update)
        return None

    def change(self, edit: Callable[[BoardReplica], None]) -> tuple[bytes, bytes]:
        """Run ``edit`` in one transaction: (the Yjs update, the frame that carries it)."""
        self._local = True
        try:
            # The transaction's own update, as a Yjs client sends it (see candor.board.transact).
            update = transact(self.doc, lambda _: edit(self))
        finally:
            self._local = False
        return update, encode_update(update)

    def presence(self, state: dict[str, Any]) -> bytes:
        """Set this client's awareness state; the frame that announces it."""
        self.awareness.set_local_state(state)
        return encode_awareness(self.awareness.encode_awareness_update([self.client_id]))

    def observe(self, root: Map[Any], callback: Callable[[list[Any]], None]) -> None:
        """Call ``callback(events)`` for remote changes below ``root`` once synced."""

        def remote_only(events: list[Any]) -> None:
            if self.synced and not self._local:
                callback(events)

        self._subscriptions.append(root.observe_deep(remote_only))

    def observe_presence(self, callback: Callable[[int, dict[str, Any]], None]) -> None:
        """Call ``callback(client_id, state)`` for every other client's new or updated state once synced."""

        def on_update(topic: str, change: tuple[dict[str, list[int]], Any]) -> None:
            if topic != "update" or not self.synced:
                return
            changes, origin = change
            if origin != "remote":
                return
            states = self.awareness.states
            for client_id in (*changes["added"], *changes["updated"]):
                state = states.get(client_id)
                if state is not None and client_id != self.client_id:
                    callback(client_id, state)

        self.awareness.observe(on_update)
