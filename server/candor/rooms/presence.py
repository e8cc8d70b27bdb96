"""A room's presence (y-protocols awareness): each state owned by the connection that set it, within caps.

A connection shows itself with one awareness client id (y-websocket uses the
document's); it may set and remove only the states it owns: the ids it
claimed first, at most ``per_owner`` of them. Stock y-websocket clients echo
every state they hear back to the server, so an entry for someone else's id
is dropped, not refused; an entry that would set or move someone else's
state never reaches the others. A room holds at most ``per_room`` states.
A connection's states go when it leaves; memory kept for states gone is
handed back once it outgrows the live ones (pycrdt keeps a clock per id ever
seen). Presence is relayed, never logged.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from pycrdt import Awareness, Decoder, Doc, Encoder

from candor.errors import PolicyViolation, ProtocolError, RoomClosing

# The owner of states relayed from another process sharing the room.
REMOTE = "remote"
# Ids remembered beyond the live states before the memory is handed back.
SPARE_IDS = 256


@dataclass(frozen=True, slots=True)
class Entry:
    """One client's part of an awareness update: its clock and its state as JSON text (empty: removed)."""

    client: int
    clock: int
    state: str

    @property
    def removed(self) -> bool:
        return self.state in ("", "null")


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
        return [client for client, who in self._owners.items() if who == owner]

    def _kept(self, owner: Hashable, entries: list[Entry], *, strict: bool) -> list[Entry]:
        """The entries ``owner`` may apply; raises (with ``strict``) when it claims past a cap."""
        meta = self.awareness.meta
        kept = []
        claims: list[int] = []  # taken only once the whole frame is within the caps
        owned = len(self.owned_by(owner))
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
            self._owners[client] = owner
        return kept

    def apply(self, owner: Hashable, payload: bytes, *, strict: bool = True) -> bytes | None:
        """Apply what ``owner`` may change of an awareness update; the update to relay (None: nothing).

        Raises ProtocolError for a malformed update and, with ``strict`` (a
        connection of this process), PolicyViolation (1008) or RoomClosing (1013)
        for a claim past a cap; entries about others' states are dropped.
        """
        entries = decode_entries(payload)
        kept = self._kept(owner, entries, strict=strict)
        if not kept:
            return None
        relayed = payload if len(kept) == len(entries) else encode_entries(kept)
        try:
            self.awareness.apply_awareness_update(relayed, origin=owner)
        except (ValueError, TypeError, RecursionError) as exc:
            for entry in kept:
                if self._owners.get(entry.client) == owner and entry.client not in self.awareness.states:
                    del self._owners[entry.client]
            raise ProtocolError("malformed awareness state") from exc
        for entry in kept:  # a removal (or a stale one) leaves the state gone, or as it was
            if entry.client not in self.awareness.states:
                self._owners.pop(entry.client, None)
        return relayed

    def release(self, owner: Hashable, clients: list[int] | None = None) -> bytes | None:
        """Remove ``owner``'s states (or only ``clients`` of them); the removal to relay, or None."""
        gone = [c for c in (clients if clients is not None else self.owned_by(owner)) if self._owners.get(c) == owner]
        for client in gone:
            del self._owners[client]
        gone = [c for c in gone if c in self.awareness.states]
        if not gone:
            return None
        self.awareness.remove_awareness_states(gone, origin=owner)
        removal = self.awareness.encode_awareness_update(gone)
        if len(self.awareness.meta) > 2 * len(self.awareness.states) + SPARE_IDS:
            self.awareness = self._fresh(dict(self.awareness.states))
        return removal

    def encoded(self, clients: list[int] | None = None) -> bytes | None:
        """The states shown (all, or ``clients`` of them), encoded; None when there are none."""
        chosen = [c for c in (clients if clients is not None else self.awareness.states) if c in self.awareness.states]
        return self.awareness.encode_awareness_update(chosen) if chosen else None

    def last_updated_ms(self, client: int) -> float:
        return float(self.awareness.meta.get(client, {}).get("lastUpdated", 0))
