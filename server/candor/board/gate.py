"""Checks every incoming update against the board's shape and the sender's role, before it is accepted.

Three steps, each failing closed:

1. The update's bytes are read (:func:`candor.protocol.update.read_update`)
   within the board's bounds before pycrdt decodes anything: only maps, plain
   values and deletions, values nested a few levels at most, known roots with
   the right kind of entries. pycrdt never sees what it could not survive.
2. It is applied to the room's live document, whose deep observers record what
   it changed: which keys, from what to what, and whether each new value is a
   shared type or a plain value.
3. The changes are checked: every entry keeps its one allowed shape, and the
   sender's role allows each change. A value the gate cannot read is a refusal.

Refused: :meth:`BoardGate.take_back` gives the room a new document, rebuilt as
logged (:class:`LoggedState`), and watches that one, so a refused update
leaves no trace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent, Subscription, get_update

from candor.board import model
from candor.board.checks import check_cluster, check_meta, check_note, check_sections, check_votes
from candor.board.roles import check_role
from candor.board.safe import EntryIndex, apply_stored, read_board_update
from candor.errors import Forbidden, InvalidBoard, InvalidUpdate
from candor.ids import Access, Role

_ROOT_TYPES: dict[str, type[Map[Any]] | type[Array[Any]]] = {
    model.META: Map,
    model.SECTIONS: Array,
    model.NOTES: Map,
    model.CLUSTERS: Map,
    model.VOTES: Map,
}

# What a value was when the observers saw it.
PLAIN = "plain"  # a JSON value (text, number, true/false, null, or a plain list or object)
MAP = "map"  # a Y.Map
OTHER = "other"  # any other shared type: it has no place on a board
UNREADABLE = "unreadable"  # the gate could not read it: refused wherever it matters


class _Unreadable:
    """Stands for a value the gate could not read; it equals nothing a rule allows."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE_VALUE: Any = _Unreadable()


@dataclass(frozen=True, slots=True)
class KeyChange:
    action: str  # "add" | "update" | "delete"
    old: Any
    new: Any
    new_kind: str  # PLAIN, MAP, OTHER or UNREADABLE (PLAIN for a deletion)


@dataclass(frozen=True, slots=True)
class Change:
    """One observed change: which root, where below it, and which keys (maps) changed."""

    root: str
    path: tuple[str | int, ...]
    keys: dict[str, KeyChange]
    kind: str  # "map" | "array" | "other" (text and xml types have no place on a board)
    shared_inserted: bool = False  # an array change inserted a shared type


def read_value(value: Any) -> tuple[Any, str]:
    """A value as plain JSON values, and what it was; never raises (an unreadable one is marked so).

    Nesting is bounded before anything is applied, so rendering cannot recurse deep.
    """
    if isinstance(value, Map):
        kind = MAP
    elif isinstance(value, Array) or hasattr(value, "observe_deep"):
        kind = OTHER
    else:
        return value, PLAIN
    try:
        # pycrdt renders a shared type as JSON in one call; several times faster than to_py().
        return json.loads(str(value)), kind
    except (ValueError, TypeError, RecursionError, RuntimeError):  # e.g. a deleted type: no content left
        return UNREADABLE_VALUE, UNREADABLE


def plain(value: Any) -> Any:
    """A shared type as plain JSON values; InvalidBoard when it cannot be read (never a skip)."""
    read, kind = read_value(value)
    if kind == UNREADABLE:
        raise InvalidBoard("a part of the board could not be read")
    return read


class LoggedState:
    """A gated room's document as logged, kept encoded: its last snapshot and the updates after it.

    The gate checks an update on the live document itself; when it refuses
    one, the document is rebuilt from this at once, without a trip to the log.
    The room keeps it current: each record it delivers, each snapshot it takes.
    Encoded, a busy board takes a few hundred KB here against several MB as a
    live document (which also keeps every value it ever held).
    """

    def __init__(self, base: bytes, since: list[bytes]) -> None:
        self._base = base
        self._since = since

    def add(self, update: bytes) -> None:
        self._since.append(update)

    def rebase(self, state: bytes) -> None:
        """The document as logged is now ``state`` (a snapshot was just taken)."""
        self._base = state
        self._since = []

    def rebuild(self, pending: list[bytes]) -> tuple[Doc[Any], EntryIndex]:
        """A fresh document and its entries: what is logged, then ``pending`` (admitted, not yet logged)."""
        doc: Doc[Any] = Doc()
        index = EntryIndex()
        for update in (self._base, *self._since, *pending):
            if update:
                apply_stored(doc, update, index)  # one refused now was refused when it came, too
        return doc, index


class BoardGate:
    """The rules every update to one board must pass, and what they need to know of it."""

    def __init__(
        self, logged: LoggedState, max_board_bytes: int, loaded: tuple[Doc[Any], EntryIndex] | None = None
    ) -> None:
        """Watch the room's document and its entries (built from ``logged`` when not given)."""
        self.logged = logged
        self.max_board_bytes = max_board_bytes
        self._changes: list[Change] = []
        self._collect_ended = False
        self._subscriptions: list[tuple[Any, Subscription]] = []
        self._attach(*(loaded if loaded is not None else logged.rebuild([])))

    def take_back(self, pending: list[bytes]) -> Doc[Any]:
        """After a refusal: a new document for the room, as logged plus ``pending`` (admitted, not yet logged)."""
        self._attach(*self.logged.rebuild(pending))
        return self.doc

    def close(self) -> None:
        """Stop watching the document. Its observers hold the gate from the native side, where Python's
        garbage collector cannot see them: without this a closed room's document and gate are never freed."""
        for root, subscription in self._subscriptions:
            root.unobserve(subscription)
        self._subscriptions = []

    def _attach(self, doc: Doc[Any], index: EntryIndex) -> None:
        self.close()  # stop watching the document being replaced
        self.doc = doc
        self.index = index
        self._roots = {name: doc.get(name, type=kind) for name, kind in _ROOT_TYPES.items()}
        self._meta: dict[str, Any] = self._read_root(model.META, {})
        self._refresh_sections()
        self._notes_seen: dict[str, Any] = {}
        notes = self._read_root(model.NOTES, {})
        # note id -> author, kept up to date, so a deletion can be checked against who wrote it
        self._authors: dict[str, Any] = {k: v.get("author") for k, v in notes.items() if isinstance(v, dict)}
        self._subscriptions = [(root, root.observe_deep(self._recorder(name))) for name, root in self._roots.items()]

    def _read_root(self, name: str, empty: Any) -> Any:
        value, kind = read_value(self._roots[name])
        return empty if kind == UNREADABLE or not isinstance(value, type(empty)) else value

    def _recorder(self, root: str) -> Callable[..., None]:
        # pycrdt may pass the transaction after the events; only the events matter here.
        def record(events: list[Any], *_: Any) -> None:
            self._record(root, events)

        return record

    def _record(self, root: str, events: list[Any]) -> None:
        for event in events:
            # Never raise in here: this runs inside pycrdt's transaction. A value read
            # here that cannot be read is marked, and refused by the checks after.
            keys: dict[str, KeyChange] = {}
            kind = "other"
            shared_inserted = False
            if isinstance(event, MapEvent):
                kind = "map"
                for key, change in event.keys.items():  # type: ignore[attr-defined]
                    old, _ = read_value(change.get("oldValue"))
                    new, new_kind = read_value(change.get("newValue"))
                    keys[key] = KeyChange(change["action"], old, new, new_kind)
            elif isinstance(event, ArrayEvent):
                kind = "array"
                for step in event.delta:  # type: ignore[attr-defined]
                    inserted = step.get("insert", ()) if isinstance(step, dict) else ()
                    shared_inserted |= any(read_value(value)[1] != PLAIN for value in inserted)
            self._changes.append(Change(root, tuple(event.path), keys, kind, shared_inserted))

    def admit(self, access: Access, update: bytes, board_bytes: int) -> None:
        """Apply ``update`` to the document and check it; raise Forbidden, InvalidBoard or InvalidUpdate to refuse.

        After a refusal the document may hold the refused update: the caller
        must replace it with :meth:`take_back`.
        """
        if not access.can_write:
            raise Forbidden("viewers cannot change the board")
        if board_bytes + len(update) > self.max_board_bytes:
            raise InvalidBoard(f"the board would grow past its {self.max_board_bytes}-byte limit")
        entries = read_board_update(update, self.index)  # before pycrdt decodes a byte of it
        meta_before = self._meta
        self._changes = []
        self._notes_seen = {}
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise InvalidUpdate(f"update rejected: {exc}") from exc
        if get_update(update, self.doc.get_state())[0] != 0:
            raise InvalidUpdate("update depends on changes the server never received")
        # (A root only comes into being named by an item that says so: read_board_update refused any unknown one.)
        self._check_structure()
        self._refresh_changed_views()
        check_role(self, access, meta_before)
        self._check_shape(access)
        self._index_authors()
        self.index.add(entries)
        phase = self._meta.get("phase")
        if meta_before.get("phase", "collect") == "collect" and phase not in (None, "collect"):
            self._collect_ended = True

    def _check_structure(self) -> None:
        """Where each changed value sits and what it is: the one shape every part of the board has."""
        for change in self._changes:
            if change.kind == "other":
                raise InvalidBoard("the board holds maps, arrays and plain values only")
            if change.shared_inserted:
                raise InvalidBoard(f"the board's {change.root} hold plain values only")
            entries = change.root in model.ENTRY_ROOTS
            if len(change.path) > (1 if entries else 0):
                raise InvalidBoard(f"the board's {change.root} hold plain values below each entry")
            for key, value in change.keys.items():
                if value.action == "delete":
                    continue
                if value.new_kind == UNREADABLE:
                    raise InvalidBoard(f"the value of {key!r} in the board's {change.root} could not be read")
                if entries and not change.path and value.new_kind != MAP:
                    raise InvalidBoard(f"each entry of the board's {change.root} is a Y.Map of fields ({key!r})")
                if (change.path or not entries) and value.new_kind != PLAIN:
                    raise InvalidBoard(f"{key!r} in the board's {change.root} must be a plain value")

    def _refresh_changed_views(self) -> None:
        """Meta and sections are read once per change to them, not once per update."""
        roots = {change.root for change in self._changes}
        if model.META in roots:
            meta = plain(self._roots[model.META])
            if not isinstance(meta, dict):
                raise InvalidBoard("the board's meta is a map")
            self._meta = meta
        if model.SECTIONS in roots:
            self._refresh_sections()

    def _refresh_sections(self) -> None:
        sections = plain(self._roots[model.SECTIONS])
        self._sections: list[Any] = sections if isinstance(sections, list) else []
        self._section_ids = {s["id"] for s in self._sections if isinstance(s, dict) and isinstance(s.get("id"), str)}

    @property
    def changes(self) -> list[Change]:
        return self._changes

    @property
    def meta(self) -> dict[str, Any]:
        return self._meta

    def author_of(self, note_id: str) -> Any:
        """Who wrote a note as the board held it before this update (None when it did not exist)."""
        return self._authors.get(note_id)

    def note(self, note_id: str) -> Any:
        """A note as plain values (None when absent), read at most once per update."""
        if note_id not in self._notes_seen:
            self._notes_seen[note_id] = plain(self._roots[model.NOTES].get(note_id))
        return self._notes_seen[note_id]

    def note_ids(self) -> set[str]:
        return set(self._authors)

    def _index_authors(self) -> None:
        for change in self._changes:
            if change.root != model.NOTES:
                continue
            ids = change.keys if not change.path else {str(change.path[0]): None}
            for note_id in ids:
                note = self.note(note_id)
                if note is None:
                    self._authors.pop(note_id, None)
                else:
                    self._authors[note_id] = note.get("author") if isinstance(note, dict) else None

    def apply_trusted(self, update: bytes, where: str = "") -> None:
        """Apply an update already checked and logged elsewhere (another process sharing the log).

        Trusted for its rules, not for its bytes: one outside the board's bounds is left out.
        """
        self._changes = []
        self._notes_seen = {}
        apply_stored(self.doc, update, self.index, where=where)
        self._refresh_changed_views()
        self._index_authors()
        self._changes = []

    def take_collect_ended(self) -> bool:
        """True once after an admitted update moved the board out of the collect phase."""
        ended, self._collect_ended = self._collect_ended, False
        return ended

    # -- shape ----------------------------------------------------------------

    def _check_shape(self, access: Access) -> None:
        touched: dict[str, set[str]] = {model.NOTES: set(), model.CLUSTERS: set(), model.VOTES: set()}
        meta_changed = sections_changed = False
        for change in self._changes:
            if change.root == model.META:
                meta_changed = True
            elif change.root == model.SECTIONS:
                sections_changed = True
            elif change.path:
                touched[change.root].add(str(change.path[0]))
            else:
                touched[change.root].update(k for k, c in change.keys.items() if c.action != "delete")
        if not any(touched.values()) and not meta_changed and not sections_changed:
            return
        meta = self._meta
        if meta_changed:
            check_meta(meta)
        if sections_changed:
            check_sections(self._sections)
        max_chars = meta.get("note_max_chars", 500)
        max_chars = max_chars if isinstance(max_chars, int) and not isinstance(max_chars, bool) else 500
        for note_id in touched[model.NOTES]:
            note = self.note(note_id)
            if note is not None:
                check_note(note_id, note, self._section_ids, max_chars)
        clusters = self._roots[model.CLUSTERS]
        for cluster_id in touched[model.CLUSTERS]:
            cluster = clusters.get(cluster_id)
            if cluster is not None:
                check_cluster(cluster_id, plain(cluster), self._section_ids)
        if touched[model.VOTES]:
            votes = plain(self._roots[model.VOTES])
            budget = meta.get("votes_per_person", 5)
            budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else 5
            voter = access.subject if access.role is Role.PARTICIPANT else None
            check_votes(votes if isinstance(votes, dict) else {}, touched[model.VOTES], self.note_ids(), voter, budget)
