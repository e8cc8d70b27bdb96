"""A room's presence (y-protocols awareness): each state owned by the connection that set it, within caps.

A connection shows itself with one awareness client id (y-websocket uses the
document's); it may set and remove only the states it owns: the ids it
claimed first, at most ``per_owner`` of them. Stock y-websocket clients echo
every state they hear back to the server, so an entry for someone else's id
is dropped, not refused; an entry that would set or move someone else's
state never reaches the others. A room holds at most ``per_room`` states.
A connection's states go when it leaves; memory kept for states gone is
handed back once it outgrows the live ones (pycrdt keeps a clock per id ever
seen). Presence is relayed, never logged: to the room's peers and, with
several processes, through the broker; presence relayed from another process
that stops being renewed (that process may have died) is dropped.

A room's peers get its presence on a budget: the first change after a quiet
moment goes at once, later ones are gathered and sent together, one frame per
interval to everyone, each client's last change only. Without it every peer's
presence went to every other peer, so a room's presence traffic grew with the
square of its size (500 joining a plenary: 10,000 frames a second).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pycrdt import Awareness, Decoder, Doc, Encoder

from candor.errors import PolicyViolation, ProtocolError, RoomClosing
from candor.ids import RoomId
from candor.metrics import Metrics
from candor.protocol import encode_awareness
from candor.rooms.peer import Peer, send_all

logger = logging.getLogger("candor.room")

# The owner of states relayed from another process sharing the room.
REMOTE = "remote"
# Ids remembered beyond the live states before the memory is handed back.
SPARE_IDS = 256
# Frames sent lately, recognised when a stock client echoes one back whole.
RECENT_FRAMES = 4


@dataclass(frozen=True, slots=True)
class Entry:
    """One client's part of an awareness update: its clock and its state as JSON text (empty: removed)."""

    client: int
    clock: int
    state: str

    @property
    def removed(self) -> bool:
        return self.state in ("", "null")


@dataclass(frozen=True, slots=True)
class Change:
    """A change to a room's presence: its entries, and the same encoded as an awareness update."""

    payload: bytes
    entries: list[Entry]


def decode_entries(payload: bytes) -> list[Entry]:
    """The entries of an encoded awareness update; ProtocolError when it is malformed or has bytes left over."""
    decoder = Decoder(payload)
    try:
        count = decoder.read_var_uint()
        if count > len(payload):
            raise ProtocolError("malformed awareness update: more entries than bytes")
        entries = [
            Entry(decoder.read_var_uint(), decoder.read_var_uint(), decoder.read_var_string()) for _ in range(count)
        ]
    except (IndexError, RuntimeError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed awareness update") from exc
    if decoder.length != 0:
        raise ProtocolError("malformed awareness update: bytes after its end")
    return entries


def encode_entries(entries: list[Entry]) -> bytes:
    """Inverse of :func:`decode_entries`."""
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for entry in entries:
        encoder.write_var_uint(entry.client)
        encoder.write_var_uint(entry.clock)
        encoder.write_var_string(entry.state)
    return encoder.to_bytes()


class Presence:
    """The awareness states of one room and who owns each."""

    def __init__(self, doc: Doc[Any], *, per_owner: int, per_room: int) -> None:
        self._doc = doc
        self.per_owner = per_owner
        self.per_room = per_room
        self._owners: dict[int, Hashable] = {}
        self._owned: dict[Hashable, dict[int, None]] = {}  # the same, by owner (in the order claimed)
        self._version = 0  # counts changes, for the cached encoding of every state
        self._all: tuple[int, bytes | None] = (-1, None)
        self.awareness = self._fresh({})

    def _fresh(self, states: dict[int, Any]) -> Awareness:
        awareness = Awareness(self._doc)
        awareness.set_local_state(None)  # the server itself has no presence
        if states:
            awareness.apply_awareness_update(self._encode(states, self.awareness), origin=None)
        return awareness

    @staticmethod
    def _encode(states: dict[int, Any], awareness: Awareness) -> bytes:
        return awareness.encode_awareness_update(list(states))

    def owned_by(self, owner: Hashable) -> list[int]:
        return list(self._owned.get(owner, ()))

    def _claim(self, client: int, owner: Hashable) -> None:
        self._owners[client] = owner
        self._owned.setdefault(owner, {})[client] = None

    def _unclaim(self, client: int) -> None:
        owner = self._owners.pop(client, None)
        owned = self._owned.get(owner)
        if owned is not None:
            owned.pop(client, None)
            if not owned:
                del self._owned[owner]

    def _kept(self, owner: Hashable, entries: list[Entry], *, strict: bool) -> list[Entry]:
        """The entries ``owner`` may apply; raises (with ``strict``) when it claims past a cap."""
        meta = self.awareness.meta
        kept = []
        claims: list[int] = []  # taken only once the whole frame is within the caps
        owned = len(self._owned.get(owner, ()))
        for entry in entries:
            current = self._owners.get(entry.client)
            if current == owner:
                kept.append(entry)
                continue
            if current is not None:
                continue  # someone else's (a stock client echoes what it hears): never applied
            if entry.removed or entry.clock <= meta.get(entry.client, {}).get("clock", 0):
                continue  # nothing of its own to remove, or an echo that would change nothing
            if owned >= self.per_owner:
                if strict:
                    raise PolicyViolation(f"a connection may show at most {self.per_owner} presences")
                continue
            if len(self._owners) + len(claims) >= self.per_room:
                if strict:
                    raise RoomClosing(f"this room shows {self.per_room} presences already; try again later")
                continue
            owned += 1
            claims.append(entry.client)
            kept.append(entry)
        for client in claims:
            self._claim(client, owner)
        return kept

    def apply(self, owner: Hashable, payload: bytes, *, strict: bool = True) -> Change | None:
        """Apply what ``owner`` may change of an awareness update; the change to relay (None: nothing).

        Raises ProtocolError for a malformed update and, with ``strict`` (a
        connection of this process), PolicyViolation (1008) or RoomClosing (1013)
        for a claim past a cap; entries about others' states are dropped.
        """
        entries = decode_entries(payload)
        kept = self._kept(owner, entries, strict=strict)
        if not kept:
            return None
        relayed = payload if len(kept) == len(entries) else encode_entries(kept)
        self._version += 1
        try:
            self.awareness.apply_awareness_update(relayed, origin=owner)
        except (ValueError, TypeError, RecursionError) as exc:
            for entry in kept:
                if self._owners.get(entry.client) == owner and entry.client not in self.awareness.states:
                    self._unclaim(entry.client)
            raise ProtocolError("malformed awareness state") from exc
        for entry in kept:  # a removal (or a stale one) leaves the state gone, or as it was
            if entry.client not in self.awareness.states:
                self._unclaim(entry.client)
        return Change(relayed, kept)

    def release(self, owner: Hashable, clients: list[int] | None = None) -> Change | None:
        """Remove ``owner``'s states (or only ``clients`` of them); the removal to relay, or None."""
        gone = [c for c in (clients if clients is not None else self.owned_by(owner)) if self._owners.get(c) == owner]
        for client in gone:
            self._unclaim(client)
        gone = [c for c in gone if c in self.awareness.states]
        if not gone:
            return None
        self._version += 1
        self.awareness.remove_awareness_states(gone, origin=owner)
        removal = self.awareness.encode_awareness_update(gone)
        if len(self.awareness.meta) > 2 * len(self.awareness.states) + SPARE_IDS:
            self.awareness = self._fresh(dict(self.awareness.states))
        return Change(removal, decode_entries(removal))

    def encoded(self, clients: list[int] | None = None) -> bytes | None:
        """The states shown (all, or ``clients`` of them), encoded; None when there are none.

        All of them is what every newcomer gets: encoded once for everyone who
        joins before the next change.
        """
        if clients is None and self._all[0] == self._version:
            return self._all[1]
        chosen = [c for c in (clients if clients is not None else self.awareness.states) if c in self.awareness.states]
        encoded = self.awareness.encode_awareness_update(chosen) if chosen else None
        if clients is None:
            self._all = (self._version, encoded)
        return encoded

    def last_updated_ms(self, client: int) -> float:
        return float(self.awareness.meta.get(client, {}).get("lastUpdated", 0))


class PresenceRelay:
    """Passes a room's presence on: between its peers, to and from the other processes sharing it.

    It shares the room's ``peers`` (attached) and sends ``publish`` what the
    other processes must hear (through the broker), each change as it comes.
    The room's peers get changes gathered: at most one frame per
    ``interval_s`` (0: each change at once). It holds nothing that points back
    at the room, so a stopped room is freed by reference counting alone;
    :meth:`close` stops its timer.
    """

    def __init__(
        self,
        room_id: RoomId,
        presence: Presence,
        *,
        peers: set[Peer],
        publish: Callable[[bytes], None],
        metrics: Metrics,
        remote_timeout_s: float,
        interval_s: float,
    ) -> None:
        self.presence = presence
        self._room_id = room_id
        self._peers = peers
        self._publish = publish
        self._metrics = metrics
        self._remote_timeout_s = remote_timeout_s
        self._interval_s = interval_s
        self._next_check = time.monotonic()
        self._remote = False  # set once another process relays presence: only then can it go stale
        self._pending: dict[int, Entry] = {}  # each client's last change not yet sent
        self._timer: asyncio.TimerHandle | None = None  # while set, changes wait for it
        self._recent: deque[bytes] = deque(maxlen=RECENT_FRAMES)

    def local(self, peer: Peer, payload: bytes) -> None:
        """A peer's awareness update; raises as :meth:`Presence.apply` does (strictly)."""
        if payload in self._recent:
            return  # a stock client echoing what it heard from us: nothing of its own in it
        change = self.presence.apply(peer, payload)
        if change is not None:
            self._gather(change)
            self._publish(change.payload)

    def left(self, peer: Peer) -> None:
        """A peer left: its presence is removed for everyone else."""
        removal = self.presence.release(peer)
        if removal is not None:
            self._gather(removal)
            self._publish(removal.payload)

    def remote(self, payload: bytes) -> None:
        """Presence relayed from another process: applied and passed to this room's peers, never logged."""
        try:
            change = self.presence.apply(REMOTE, payload, strict=False)
        except ProtocolError:
            logger.warning(
                "room %s: bad awareness from another process ignored", self._room_id, extra={"room": self._room_id}
            )
            return
        if change is not None:
            self._remote = True
            self._gather(change)

    def close(self) -> None:
        """The room stopped: nothing more is sent."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()

    def _gather(self, change: Change) -> None:
        for entry in change.entries:
            self._pending.pop(entry.client, None)  # (moved to the end: frames keep the order of changes)
            self._pending[entry.client] = entry
        if self._timer is None:  # the first change after a quiet moment goes at once
            self._send_pending()

    def _send_pending(self) -> None:
        self._timer = None
        if not self._pending:
            return  # a quiet interval: the next change goes at once
        payload = encode_entries(list(self._pending.values()))
        self._pending.clear()
        self._recent.append(payload)
        # Every attached peer, synced or not: a newcomer's greeting holds the states
        # shown when it was greeted, and it must hear every change after that.
        self._metrics.messages_out.inc(send_all(self._peers, encode_awareness(payload)))
        if self._interval_s > 0:
            self._timer = asyncio.get_running_loop().call_later(self._interval_s, self._send_pending)

    def local_states(self) -> bytes | None:
        """The presence of this process's own peers, encoded (asked by a process that just loaded the room)."""
        return self.presence.encoded([c for peer in self._peers for c in self.presence.owned_by(peer)])

    def expire(self, now: float) -> float | None:
        """Drop remote presence not renewed in time, when a check is due (``now``: monotonic).

        Returns the seconds until the next check, or None while no state of
        another process can go stale.
        """
        if now >= self._next_check:
            self._drop_stale()
        if not self._remote or not self.presence.owned_by(REMOTE):
            return None
        return max(0.0, self._next_check - now)

    def _drop_stale(self) -> None:
        self._next_check = time.monotonic() + self._remote_timeout_s / 6
        if not self._remote:
            return
        oldest_ms = time.time() * 1000 - self._remote_timeout_s * 1000
        remote = self.presence.owned_by(REMOTE)
        stale = [c for c in remote if self.presence.last_updated_ms(c) <= oldest_ms]
        removal = self.presence.release(REMOTE, stale) if stale else None
        if removal is not None:
            self._gather(removal)
