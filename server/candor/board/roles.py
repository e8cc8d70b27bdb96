"""Who may change what on a board: the role rules every admitted change must keep (see schemas/board.md)."""

from __future__ import annotations

from typing import Any, Protocol

from candor.board import model
from candor.errors import Forbidden
from candor.ids import Access, Role


class KeyChangeView(Protocol):
    action: str
    old: Any
    new: Any


class ChangeView(Protocol):
    root: str
    path: tuple[str | int, ...]
    keys: Any  # dict[str, KeyChangeView]


class BoardView(Protocol):
    """What the rules need to know of the board and of the update being checked."""

    @property
    def changes(self) -> list[Any]: ...

    def author_of(self, note_id: str) -> Any:
        """Who wrote the note before this update (None when it did not exist)."""
        ...

    def note(self, note_id: str) -> Any:
        """The note as it is after this update, as plain values (None when deleted)."""
        ...


def check_role(board: BoardView, access: Access, meta_before: dict[str, Any]) -> None:
    """Raise Forbidden for the first change of this update that ``access`` may not make."""
    changes = board.changes
    if not changes:
        return
    for change in changes:
        if change.root == model.NOTES:
            _check_authorship(board, access, change)
    if access.role is Role.SERVER:
        return
    if access.role is Role.PARTICIPANT and meta_before.get("locked", False) is not False:
        raise Forbidden("the board is locked by the facilitator")
    for change in changes:
        if access.role is Role.PARTICIPANT and change.root in (model.META, model.SECTIONS, model.CLUSTERS):
            raise Forbidden(f"only a facilitator can change the board's {change.root}")
        if change.root == model.NOTES:
            _check_note_change(board, access, change, meta_before)
        elif change.root == model.VOTES:
            _check_vote_change(access, change, meta_before)


def _check_authorship(board: BoardView, access: Access, change: ChangeView) -> None:
    """Nobody, a facilitator included, rewrites who wrote a note or signs it for its author.

    A whole note added or put in place of another is written as its writer
    (only the server, publishing drafts or copying to the plenary, carries a
    note with its author's authorship).
    """
    if not change.path:
        for note_id, key in change.keys.items():
            if key.action == "delete":
                continue
            if key.action == "update" and access.role is Role.SERVER:
                raise Forbidden(f"the server adds notes under new ids, it never replaces one (note {note_id})")
            # A note put in place of another keeps its author, whoever puts it there.
            if key.action == "update" and (
                not isinstance(key.new, dict) or key.new.get("author") != board.author_of(note_id)
            ):
                raise Forbidden(f"a note put in place of another keeps its author (note {note_id})")
            if access.role is not Role.SERVER:
                _check_written_as_self(access, note_id, key.new)
        return
    changed = set(change.keys)
    if changed & model.NOTE_FIELDS_FIXED:
        raise Forbidden("a note's author and creation time never change")
    if "author_name" in changed and board.author_of(str(change.path[0])) != access.subject:
        raise Forbidden("only its author can sign a note or take the signature off")
    if "author_name" in changed and change.keys["author_name"].new not in (None, access.name):
        raise Forbidden("a note can only be signed with your own name")


def _check_written_as_self(access: Access, note_id: str, note: Any) -> None:
    if not isinstance(note, dict) or note.get("author") != access.subject:
        raise Forbidden(f"a note you add must be written as yourself (note {note_id})")
    if note.get("author_name") not in (None, access.name):
        raise Forbidden("a note can only be signed with your own name")
    if any(note.get(key) is not None for key in model.NOTE_FIELDS_PROVENANCE):
        raise Forbidden("only the server says where a note came from (copies to the plenary are made by the server)")


def _check_note_change(board: BoardView, access: Access, change: ChangeView, meta: dict[str, Any]) -> None:
    me = access.subject
    participant = access.role is Role.PARTICIPANT
    if not change.path:
        for note_id, key in change.keys.items():
            if key.action == "add" and meta.get("phase") == "done":
                raise Forbidden("the session is done: no new notes")
            if key.action == "add" and note_id.startswith(model.SERVER_NOTE_PREFIX):
                raise Forbidden(f"note ids starting with {model.SERVER_NOTE_PREFIX!r} are the server's")
            # Who wrote it comes from the index: a deleted note's content is gone.
            if participant and key.action != "add" and board.author_of(note_id) != me:
                raise Forbidden(f"you can only replace or delete your own notes (note {note_id})")
            if participant and key.new is not None and isinstance(key.new, dict) and key.new.get("cluster") is not None:
                raise Forbidden("only a facilitator can cluster notes")
        return
    if not participant:
        return
    note_id = str(change.path[0])
    changed = set(change.keys)
    if board.author_of(note_id) != me and not changed <= model.NOTE_FIELDS_ANYONE:
        raise Forbidden("you can only move other people's notes, not change them")
    if "cluster" in changed:
        raise Forbidden("only a facilitator can cluster notes")


def _check_vote_change(access: Access, change: ChangeView, meta: dict[str, Any]) -> None:
    """A participant votes only as themselves and only in the vote phase; a facilitator may clear ballots."""
    me = access.subject
    participant = access.role is Role.PARTICIPANT
    if participant and meta.get("phase") != "vote":
        raise Forbidden("voting is open only in the vote phase")
    if not change.path:
        for note_id, key in change.keys.items():
            ballots = (key.old, key.new) if participant else (key.new,)
            for ballot in ballots:
                if ballot is not None and (not isinstance(ballot, dict) or set(ballot) - {me}):
                    raise Forbidden(f"you can only change your own votes (note {note_id})")
        return
    for voter, key in change.keys.items():
        if voter != me and (participant or key.action != "delete"):
            raise Forbidden("you can only change your own votes")
