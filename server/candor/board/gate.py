"""Checks every incoming update against the board's shape and the sender's role, before it is accepted.

The gate watches the room's live document with deep observers. An update is
applied to it, the observers record what it changed, and the changes are
checked before anything is logged or broadcast. Refused: :meth:`BoardGate.take_back`
gives the room a new document, rebuilt as logged (:class:`LoggedState`), and
watches that one, so a refused update leaves no trace. (An earlier design kept a
second, trial copy of every board: twice the memory, and a Yjs document's
memory grows with its history.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent, Subscription, get_update

from candor.board import model
from candor.board.checks import check_cluster, check_meta, check_note, check_sections, check_votes
from candor.errors import Forbidden, InvalidBoard, InvalidUpdate
from candor.ids import Access, Role

_ROOT_TYPES: dict[str, type[Map[Any]] | type[Array[Any]]] = {
    model.META: Map,
    model.SECTIONS: Array,
    model.NOTES: Map,
    model.CLUSTERS: Map,
    model.VOTES: Map,
}


@dataclass(frozen=True, slots=True)
class KeyChange:
    action: str  # "add" | "update" | "delete"
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One observed change: which root, where below it, and which keys (maps) changed."""

    root: str
    path: tuple[str | int, ...]
    keys: dict[str, KeyChange]
    kind: str  # "map" | "array" | "other" (text and xml types have no place on a board)


def _plain(value: Any) -> Any:
    """A shared type as plain JSON values; other values as they are."""
    if not isinstance(value, (Map, Array)):
        return value
    try:
        # pycrdt renders a shared type as JSON in one call; several times faster than to_py().
        return json.loads(str(value))
    except Exception:  # a deleted shared type has no content left to read
        return None


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

    def rebuild(self, pending: list[bytes]) -> Doc[Any]:
        """A fresh document: what is logged, then ``pending`` (admitted, not yet logged)."""
        doc: Doc[Any] = Doc()
        for update in (self._base, *self._since, *pending):
            if update:
                with contextlib.suppress(ValueError):  # an unreadable record was skipped when it came, too
                    doc.apply_update(update)
        return doc


class BoardGate:
    """The rules every update to one board must pass, and what they need to know of it."""

    def __init__(self, logged: LoggedState, max_board_bytes: int, doc: Doc[Any] | None = None) -> None:
        """Watch ``doc``, the room's document (built from ``logged`` when not given)."""
        self.logged = logged
        self.max_board_bytes = max_board_bytes
        self._changes: list[Change] = []
        self._collect_ended = False
        self._subscriptions: list[tuple[Any, Subscription]] = []
        self._attach(doc if doc is not None else logged.rebuild([]))

    def take_back(self, pending: list[bytes]) -> Doc[Any]:
        """After a refusal: a new document for the room, as logged plus ``pending`` (admitted, not yet logged)."""
        self._attach(self.logged.rebuild(pending))
        return self.doc

    def close(self) -> None:
        """Stop watching the document. Its observers hold the gate from the native side, where Python's
        garbage collector cannot see them: without this a closed room's document and gate are never freed."""
        for root, subscription in self._subscriptions:
            root.unobserve(subscription)
        self._subscriptions = []

    def _attach(self, doc: Doc[Any]) -> None:
        self.close()  # stop watching the document being replaced
        self.doc = doc
        self._roots = {name: doc.get(name, type=kind) for name, kind in _ROOT_TYPES.items()}
        self._refresh_meta()
        self._refresh_sections()
        self._notes_seen: dict[str, Any] = {}
        notes = _plain(self._roots[model.NOTES]) or {}
        # note id -> author, kept up to date, so a deletion can be checked against who wrote it
        self._authors: dict[str, Any] = {k: v.get("author") for k, v in notes.items() if isinstance(v, dict)}
        self._subscriptions = [(root, root.observe_deep(self._recorder(name))) for name, root in self._roots.items()]

    def _recorder(self, root: str) -> Callable[..., None]:
        # pycrdt may pass the transaction after the events; only the events matter here.
        def record(events: list[Any], *_: Any) -> None:
            self._record(root, events)

        return record

    def _record(self, root: str, events: list[Any]) -> None:
        for event in events:
            # Never raise in here: this runs inside pycrdt's transaction.
            keys: dict[str, KeyChange] = {}
            kind = "array" if isinstance(event, ArrayEvent) else "other"
            if isinstance(event, MapEvent):
                kind = "map"
                for key, change in event.keys.items():  # type: ignore[attr-defined]
                    keys[key] = KeyChange(
                        change["action"], _plain(change.get("oldValue")), _plain(change.get("newValue"))
                    )
            self._changes.append(Change(root, tuple(event.path), keys, kind))

    def admit(self, access: Access, update: bytes, board_bytes: int) -> None:
        """Apply ``update`` to the document and check it; raise Forbidden, InvalidBoard or InvalidUpdate to refuse.

        After a refusal the document may hold the refused update: the caller
        must replace it with :meth:`take_back`.
        """
        if not access.can_write:
            raise Forbidden("viewers cannot change the board")
        if board_bytes + len(update) > self.max_board_bytes:
            raise InvalidBoard(f"the board would grow past its {self.max_board_bytes}-byte limit")
        meta_before = self._meta
        self._changes = []
        self._notes_seen = {}
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise InvalidUpdate(f"update rejected: {exc}") from exc
        self._refresh_changed_views()
        if get_update(update, self.doc.get_state())[0] != 0:
            raise InvalidUpdate("update depends on changes the server never received")
        unknown = set(self.doc.keys()) - model.ROOTS
        if unknown:
            raise InvalidBoard(f"unknown part of the board: {', '.join(sorted(unknown))}")
        if any(change.kind == "other" for change in self._changes):
            raise InvalidBoard("the board holds maps, arrays and plain values only")
        self._check_authorship(access)
        if access.role is Role.PARTICIPANT:
            self._check_participant(access, meta_before)
        self._check_shape(access)
        self._index_authors()
        phase = self._meta.get("phase")
        if meta_before.get("phase", "collect") == "collect" and phase not in (None, "collect"):
            self._collect_ended = True

    def _refresh_meta(self) -> None:
        self._meta: dict[str, Any] = _plain(self._roots[model.META]) or {}

    def _refresh_sections(self) -> None:
        self._sections: list[Any] = _plain(self._roots[model.SECTIONS]) or []
        self._section_ids = {s["id"] for s in self._sections if isinstance(s, dict) and "id" in s}

    def _refresh_changed_views(self) -> None:
        """Meta and sections are read once per change to them, not once per update."""
        roots = {change.root for change in self._changes}
        if model.META in roots:
            self._refresh_meta()
        if model.SECTIONS in roots:
            self._refresh_sections()

    def _note(self, note_id: str) -> Any:
        """A note as plain values (None when absent), read at most once per update."""
        if note_id not in self._notes_seen:
            self._notes_seen[note_id] = _plain(self._roots[model.NOTES].get(note_id))
        return self._notes_seen[note_id]

    def _index_authors(self) -> None:
        for change in self._changes:
            if change.root != model.NOTES:
                continue
            ids = change.keys if not change.path else {str(change.path[0]): None}
            for note_id in ids:
                note = self._note(note_id)
                if note is None:
                    self._authors.pop(note_id, None)
                else:
                    self._authors[note_id] = note.get("author") if isinstance(note, dict) else None

    def apply_trusted(self, update: bytes) -> None:
        """Apply an update already checked and logged elsewhere (another process sharing the log)."""
        self._changes = []
        self._notes_seen = {}
        self.doc.apply_update(update)
        self._refresh_changed_views()
        self._index_authors()
        self._changes = []

    def take_collect_ended(self) -> bool:
        """True once after an admitted update moved the board out of the collect phase."""
        ended, self._collect_ended = self._collect_ended, False
        return ended

    # -- roles ----------------------------------------------------------------

    def _check_participant(self, access: Access, meta: dict[str, Any]) -> None:
        if not self._changes:
            return
        if meta.get("locked"):
            raise Forbidden("the board is locked by the facilitator")
        for change in self._changes:
            if change.root in (model.META, model.SECTIONS, model.CLUSTERS):
                raise Forbidden(f"only a facilitator can change the board's {change.root}")
            if change.root == model.NOTES:
                self._check_note_change(access, change)
            elif change.root == model.VOTES:
                self._check_vote_change(access, change, meta)

    def _check_note_change(self, access: Access, change: Change) -> None:
        me = access.subject
        if not change.path:
            for note_id, key in change.keys.items():
                # Who wrote it comes from the index: a deleted note's content is gone.
                if key.action != "add" and self._authors.get(note_id) != me:
                    raise Forbidden(f"you can only replace or delete your own notes (note {note_id})")
                if key.new is not None:
                    self._check_new_note(access, note_id, key.new)
            return
        note_id = str(change.path[0])
        changed = set(change.keys)
        if self._authors.get(note_id) != me and not changed <= model.NOTE_FIELDS_ANYONE:
            raise Forbidden("you can only move other people's notes, not change them")
        if "cluster" in changed:
            raise Forbidden("only a facilitator can cluster notes")
        if "author_name" in changed and change.keys["author_name"].new not in (None, access.name):
            raise Forbidden("a note can only be signed with your own name")

    def _check_authorship(self, access: Access) -> None:
        """Nobody, a facilitator included, rewrites who wrote a note or signs it for its author."""
        for change in self._changes:
            if change.root != model.NOTES or len(change.path) != 1:
                continue
            changed = set(change.keys)
            if changed & model.NOTE_FIELDS_FIXED:
                raise Forbidden("a note's author and creation time never change")
            if "author_name" in changed and self._authors.get(str(change.path[0])) != access.subject:
                raise Forbidden("only its author can sign a note or take the signature off")

    def _check_new_note(self, access: Access, note_id: str, note: Any) -> None:
        if not isinstance(note, dict) or note.get("author") != access.subject:
            raise Forbidden(f"a note you add must be written as yourself (note {note_id})")
        if note.get("cluster") is not None:
            raise Forbidden("only a facilitator can cluster notes")
        if note.get("author_name") not in (None, access.name):
            raise Forbidden("a note can only be signed with your own name")

    def _check_vote_change(self, access: Access, change: Change, meta: dict[str, Any]) -> None:
        if meta.get("phase") != "vote":
            raise Forbidden("voting is open only in the vote phase")
        me = access.subject
        if not change.path:
            for note_id, key in change.keys.items():
                for ballot in (key.old, key.new):
                    if ballot is not None and (not isinstance(ballot, dict) or set(ballot) - {me}):
                        raise Forbidden(f"you can only change your own votes (note {note_id})")
            return
        if set(change.keys) - {me}:
            raise Forbidden("you can only change your own votes")

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
                if len(change.path) > 1:
                    raise InvalidBoard(f"the board's {change.root} hold plain values below each entry")
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
        max_chars = int(meta.get("note_max_chars", 500))
        for note_id in touched[model.NOTES]:
            note = self._note(note_id)
            if note is not None:
                check_note(note_id, note, self._section_ids, max_chars)
        clusters = self._roots[model.CLUSTERS]
        for cluster_id in touched[model.CLUSTERS]:
            cluster = clusters.get(cluster_id)
            if cluster is not None:
                check_cluster(cluster_id, _plain(cluster), self._section_ids)
        if touched[model.VOTES]:
            votes = _plain(self._roots[model.VOTES]) or {}
            budget = int(meta.get("votes_per_person", 5))
            voter = access.subject if access.role is Role.PARTICIPANT else None
            check_votes(votes, touched[model.VOTES], set(self._authors), voter, budget)
