"""What happened on a board, record by record: domain events derived from the log, a page at a time.

Each log record is applied to a document with deep observers on the board's
roots; what the observers saw becomes events such as ``note_added`` or
``phase_changed``. A page starts from the nearest snapshot at or before
``after`` and replays only the records between it and ``after`` unobserved,
so a page costs O(snapshot interval + page), never O(log).

Events carry ids and kinds, never note text (text lives in exports, which
apply the consent rules). ``actor`` is the log record's origin: a random id
per websocket connection (``p-…``, new on every reconnect, naming no person)
or ``server`` for changes the server made itself (the template, reveals,
facilitator broadcasts). ``author`` says whose note an event concerns: the
name its author signed it with, else ``anonymous``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from pycrdt import Array, Doc, Map, MapEvent

from candor.board import model
from candor.board.safe import EntryIndex, apply_stored
from candor.history.rebuild import format_moment
from candor.ids import RoomId, Seq
from candor.log.base import LogRecord
from candor.log.snapshots import SnapshottedLog

ANONYMOUS = "anonymous"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Records read from the log at a time while filling a page.
READ_BATCH = 200

# Note fields whose change is an edit (moves, clustering and withdrawal have their own kinds).
EDITED_FIELDS = frozenset({"text", "colour", "scope", "author_name", "section", "from_room"})

TimelineEvent = TypedDict(
    "TimelineEvent",
    {
        "seq": int,
        "time": str,
        "kind": str,
        "actor": str,
        "note": NotRequired[str],
        "cluster": NotRequired[str | None],
        "author": NotRequired[str],
        "fields": NotRequired[list[str]],
        "count": NotRequired[float],
        "from": NotRequired[Any],
        "to": NotRequired[Any],
        "duration_s": NotRequired[float | None],
    },
)


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """Events of records after ``after``; ``next`` is the ``after`` of the following page (None: the end)."""

    events: list[TimelineEvent]
    next: Seq | None


@dataclass(frozen=True, slots=True)
class _Seen:
    """One observed change, copied out of pycrdt's transaction: root, path below it, and changed keys."""

    root: str
    path: tuple[str | int, ...]
    keys: dict[str, tuple[str, Any]]  # key -> (action, new value as plain JSON)


def _plain(value: Any) -> Any:
    to_py = getattr(value, "to_py", None)
    return to_py() if to_py is not None else value


class _Observer:
    """Deep observers on every board root; ``take()`` hands over what the last update changed."""

    def __init__(self, doc: Doc[Any]) -> None:
        self._seen: list[_Seen] = []
        # The root objects must outlive this call: pycrdt drops a root's observers with it.
        self._roots: list[Any] = []
        roots: dict[str, Any] = {
            model.META: Map,
            model.SECTIONS: Array,
            model.NOTES: Map,
            model.CLUSTERS: Map,
            model.VOTES: Map,
        }
        for name, kind in roots.items():
            try:
                root = doc.get(name, type=kind)
            except (TypeError, ValueError):
                continue  # a free-form room holds this root as another type: nothing to derive
            root.observe_deep(self._recorder(name))
            self._roots.append(root)

    def _recorder(self, root: str) -> Callable[..., None]:
        # pycrdt passes the transaction after the events; only the events matter.
        def record(events: list[Any], *_: Any) -> None:
            for event in events:
                keys: dict[str, tuple[str, Any]] = {}
                if isinstance(event, MapEvent):
                    # Sorted: pycrdt hands keys over in hash order, which differs between two replays.
                    for key, change in sorted(event.keys.items()):  # type: ignore[attr-defined]
                        action = change["action"]
                        keys[key] = (action, None if action == "delete" else _plain(change.get("newValue")))
                self._seen.append(_Seen(root, tuple(event.path), keys))

        return record

    def take(self) -> list[_Seen]:
        """What the last update changed, in a stable order (root, then path)."""
        seen, self._seen = self._seen, []
        return sorted(seen, key=lambda s: (s.root, [str(part) for part in s.path]))


class _Deriver:
    """Turns observed changes into events, remembering each note's signature across records."""

    def __init__(self, notes: dict[str, Any]) -> None:
        self._names: dict[str, str | None] = {
            note_id: _signed(note) for note_id, note in notes.items() if isinstance(note, dict)
        }

    def derive(self, record: LogRecord, seen: list[_Seen], meta_before: dict[str, Any]) -> list[TimelineEvent]:
        base: TimelineEvent = {
            "seq": record.seq,
            "time": format_moment(record.time_ms),
            "kind": "",
            "actor": record.origin,
        }
        out: list[TimelineEvent] = []

        def emit(kind: str, **fields: Any) -> None:
            out.append({**base, **fields, "kind": kind})  # type: ignore[typeddict-item]

        if any(c.root == model.META and c.keys.get("title", ("", None))[0] == "add" for c in seen):
            emit("board_created")  # the template's first record: its sections and settings are not news
            return out
        for change in seen:
            if change.root == model.META:
                self._meta(change, meta_before, emit)
            elif change.root == model.SECTIONS:
                emit("sections_changed")
            elif change.root == model.NOTES:
                self._notes(change, emit)
            elif change.root == model.CLUSTERS:
                self._clusters(change, emit)
            elif change.root == model.VOTES:
                self._votes(change, emit)
        return out

    def _author(self, note_id: str) -> str:
        return self._names.get(note_id) or ANONYMOUS

    def _meta(self, change: _Seen, before: dict[str, Any], emit: Callable[..., None]) -> None:
        for key, (_, new) in change.keys.items():
            if key == "phase":
                emit("phase_changed", **{"from": before.get("phase"), "to": new})
            elif key == "locked":
                emit("locked" if new else "unlocked")
            elif key == "timer":
                emit("timer_set", duration_s=_number(new.get("duration_s")) if isinstance(new, dict) else None)
            else:
                emit("settings_changed", fields=[key])

    def _notes(self, change: _Seen, emit: Callable[..., None]) -> None:
        if not change.path:
            for note_id, (action, new) in change.keys.items():
                if action == "delete":
                    emit("note_deleted", note=note_id, author=self._author(note_id))
                    self._names.pop(note_id, None)
                    continue
                self._names[note_id] = _signed(new)
                emit("note_added" if action == "add" else "note_edited", note=note_id, author=self._author(note_id))
            return
        note_id = str(change.path[0])
        keys = change.keys
        if "author_name" in keys:
            self._names[note_id] = _signed({"author_name": keys["author_name"][1]})
        author = self._author(note_id)
        edited = sorted(EDITED_FIELDS & set(keys))
        if edited:
            emit("note_edited", note=note_id, author=author, fields=edited)
        if "x" in keys or "y" in keys:
            emit("note_moved", note=note_id, author=author)
        if "cluster" in keys:
            emit("note_clustered", note=note_id, author=author, cluster=keys["cluster"][1])
        if "withdrawn" in keys:
            emit("note_withdrawn" if keys["withdrawn"][1] else "note_restored", note=note_id, author=author)

    def _clusters(self, change: _Seen, emit: Callable[..., None]) -> None:
        if not change.path:
            for cluster_id, (action, _) in change.keys.items():
                kind = {"add": "cluster_created", "delete": "cluster_deleted"}.get(action, "cluster_labelled")
                emit(kind, cluster=cluster_id)
            return
        cluster_id = str(change.path[0])
        if "label" in change.keys or "section" in change.keys:
            emit("cluster_labelled", cluster=cluster_id)
        if "x" in change.keys or "y" in change.keys:
            emit("cluster_moved", cluster=cluster_id)

    def _votes(self, change: _Seen, emit: Callable[..., None]) -> None:
        if not change.path:
            for note_id, (_, ballot) in change.keys.items():
                counts = ballot.values() if isinstance(ballot, dict) else [0]
                for count in counts:
                    emit("vote_cast", note=note_id, author=self._author(note_id), count=_number(count))
            return
        note_id = str(change.path[0])
        for _, count in change.keys.values():
            emit("vote_cast", note=note_id, author=self._author(note_id), count=_number(count))


def _number(value: Any) -> float:
    """A ballot's dots as JSON shows them (Yjs numbers arrive as floats); 0 for a removed ballot."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if float(value).is_integer() else float(value)


def _signed(note: Any) -> str | None:
    name = note.get("author_name") if isinstance(note, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _meta_of(doc: Doc[Any]) -> dict[str, Any]:
    try:
        meta = doc.get(model.META, type=Map).to_py()
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _notes_of(doc: Doc[Any]) -> dict[str, Any]:
    try:
        notes = doc.get(model.NOTES, type=Map).to_py()
    except (TypeError, ValueError):
        return {}
    return notes if isinstance(notes, dict) else {}


async def timeline(log: SnapshottedLog, room: RoomId, after: Seq, limit: int = DEFAULT_LIMIT) -> TimelinePage:
    """The events of records after ``after``: at most ``limit`` of them, unless one record alone holds more.

    A page holds whole records, so ``next`` (the last seq it covers) is a
    clean place to continue from.
    """
    doc: Doc[Any] = Doc()
    index = EntryIndex()
    snapshot = await log.latest_snapshot(room, at_or_before=after)
    start = Seq(0)
    if snapshot is not None:
        apply_stored(doc, snapshot.state, index, where=f"(room {room} snapshot {snapshot.seq})")
        start = snapshot.seq
    for record in await log.read(room, after=start, upto=after):
        apply_stored(doc, record.update, index, where=f"(room {room}, seq {record.seq})")
    observer = _Observer(doc)
    deriver = _Deriver(_notes_of(doc))
    events: list[TimelineEvent] = []
    cursor = after
    while True:
        batch = await log.read(room, after=cursor, upto=Seq(cursor + READ_BATCH))
        if not batch:
            return TimelinePage(events, None)
        for record in batch:
            meta_before = _meta_of(doc)
            apply_stored(doc, record.update, index, where=f"(room {room}, seq {record.seq})")
            derived = deriver.derive(record, observer.take(), meta_before)
            if events and len(events) + len(derived) > limit:
                return TimelinePage(events, cursor)
            events.extend(derived)
            cursor = record.seq
            if len(events) >= limit:
                more = await log.head(room) > cursor
                return TimelinePage(events, cursor if more else None)
