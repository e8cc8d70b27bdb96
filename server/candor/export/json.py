"""JSON export: the export value as described by schemas/export.schema.json."""

from __future__ import annotations

import json
from typing import Final, Literal, TypedDict

from candor.export.model import Audience, Export, ExportCluster, ExportNote, ExportRoom, ExportSection, IdeaGroup
from candor.history.rebuild import format_moment

FORMAT: Final = "candor-export"
VERSION: Final = 1


class NoteJson(TypedDict):
    id: str
    text: str
    author: str  # the signed name, else "anonymous"
    signed: bool
    votes: float
    scope: str
    colour: str | None
    created_at: str | None
    from_room: str | None
    withdrawn: bool


class ClusterJson(TypedDict):
    id: str
    label: str
    votes: float
    notes: list[NoteJson]


class SectionJson(TypedDict):
    id: str
    title: str
    group: str | None
    description: str | None
    prompts: list[str]
    notes: list[NoteJson]
    clusters: list[ClusterJson]


class RoomJson(TypedDict):
    id: str
    label: str
    kind: str
    board_title: str
    seq: int
    time: str | None
    sections: list[SectionJson]


class RoomRefJson(TypedDict):
    id: str
    label: str


class IdeaJson(TypedDict):
    note: NoteJson
    room: RoomRefJson


class IdeaGroupJson(TypedDict):
    label: str | None
    votes: float
    ideas: list[IdeaJson]


class ExportJson(TypedDict):
    format: str
    version: int
    kind: Literal["room", "event"]
    audience: Audience
    title: str
    description: str | None
    event_id: str | None
    requested_at: str | None
    generated_at: str
    rooms: list[RoomJson]
    practical_ideas: list[IdeaGroupJson]


def note_json(note: ExportNote) -> NoteJson:
    return {
        "id": note.id,
        "text": note.text,
        "author": note.attribution,
        "signed": note.author_name is not None,
        "votes": note.votes,
        "scope": note.scope,
        "colour": note.colour,
        "created_at": format_moment(note.created_ms) if note.created_ms > 0 and not note.purged else None,
        "from_room": note.from_room,
        "withdrawn": note.purged,
    }


def _cluster(cluster: ExportCluster) -> ClusterJson:
    return {
        "id": cluster.id,
        "label": cluster.label,
        "votes": cluster.votes,
        "notes": [note_json(n) for n in cluster.notes],
    }


def _section(section: ExportSection) -> SectionJson:
    return {
        "id": section.id,
        "title": section.title,
        "group": section.group,
        "description": section.description,
        "prompts": list(section.prompts),
        "notes": [note_json(n) for n in section.notes],
        "clusters": [_cluster(c) for c in section.clusters],
    }


def _room(room: ExportRoom) -> RoomJson:
    return {
        "id": room.id,
        "label": room.label,
        "kind": room.kind,
        "board_title": room.board_title,
        "seq": room.seq,
        "time": format_moment(room.time_ms) if room.time_ms is not None else None,
        "sections": [_section(s) for s in room.sections],
    }


def _ideas(group: IdeaGroup) -> IdeaGroupJson:
    return {
        "label": group.label,
        "votes": group.votes,
        "ideas": [
            {"note": note_json(item.note), "room": {"id": item.room_id, "label": item.room_label}}
            for item in group.items
        ],
    }


def export_json(export: Export) -> ExportJson:
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": export.kind,
        "audience": export.audience,
        "title": export.title,
        "description": export.description,
        "event_id": export.event_id,
        "requested_at": export.requested_at,
        "generated_at": format_moment(export.generated_ms),
        "rooms": [_room(r) for r in export.rooms],
        "practical_ideas": [_ideas(g) for g in export.ideas],
    }


def render_json(export: Export) -> str:
    return json.dumps(export_json(export), indent=2, ensure_ascii=False) + "\n"
