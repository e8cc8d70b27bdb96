"""JSON export: the export value as described by schemas/export.schema.json (version 2)."""

from __future__ import annotations

import json
from typing import Any, Final, Literal, TypedDict

from candor.export.model import Audience, Export, ExportCluster, ExportNote, ExportRoom, ExportSection, Frame
from candor.history.rebuild import format_moment

FORMAT: Final = "candor-export"
VERSION: Final = 2


class NoteJson(TypedDict):
    id: str
    text: str
    author: str  # the signed name, else "anonymous"
    signed: bool
    votes: float
    scope: str
    colour: str | None
    created_at: str | None
    rooms: list[str]
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
    shown: Literal["notes", "counts"]
    count: int | None
    closing: bool
    notes: list[NoteJson]
    clusters: list[ClusterJson]


class RoomJson(TypedDict):
    id: str
    label: str
    kind: str
    board_title: str
    seq: int
    time: str | None


class ExportJson(TypedDict):
    format: str
    version: int
    kind: Literal["room", "event"]
    audience: Audience
    title: str
    description: str | None
    event_id: str | None
    requested_at: str | None
    moment: str
    date: str
    generated_at: str
    frame: dict[str, Any] | None
    rooms: list[RoomJson]
    sections: list[SectionJson]
    stories: dict[str, Any] | None


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
        "rooms": list(note.rooms),
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
        "shown": section.shown,
        "count": section.count if section.shown == "counts" else None,
        "closing": section.closing,
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
    }


def _frame(frame: Frame) -> dict[str, Any]:
    return {
        "question": frame.question,
        "date": frame.date,
        "where": frame.where,
        "facilitators": [{"name": p.name, "about": p.about} for p in frame.facilitators],
        "participants": frame.participants,
        "participants_about": frame.participants_about,
        "what_we_did": {
            "intro": frame.what_we_did_intro,
            "steps": [{"title": s.name, "text": s.about} for s in frame.what_we_did],
        },
        "frameworks": [
            {
                "title": f.title,
                "description": f.description,
                "parts": [{"title": p.title, "prompts": list(p.prompts)} for p in f.parts],
            }
            for f in frame.frameworks
        ],
        "agreement": {"title": frame.agreement_title, "intro": frame.agreement_intro, "items": list(frame.agreement)},
        "next_steps": list(frame.next_steps),
    }


def export_json(export: Export) -> ExportJson:
    stories = export.stories
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": export.kind,
        "audience": export.audience,
        "title": export.title,
        "description": export.description,
        "event_id": export.event_id,
        "requested_at": export.requested_at,
        "moment": export.moment,
        "date": export.date,
        "generated_at": format_moment(export.generated_ms),
        "frame": _frame(export.frame) if export.frame is not None else None,
        "rooms": [_room(r) for r in export.rooms],
        "sections": [_section(s) for s in export.sections],
        "stories": None
        if stories is None
        else {
            "title": stories.title,
            "stories": [
                {
                    "title": story.title,
                    "parts": [
                        {"section": p.section_id, "title": p.title, "notes": [note_json(n) for n in p.notes]}
                        for p in story.parts
                    ],
                }
                for story in stories.stories
            ],
        },
    }


def render_json(export: Export) -> str:
    return json.dumps(export_json(export), indent=2, ensure_ascii=False) + "\n"
