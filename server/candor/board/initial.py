"""A new board's first update: the template's sections and prompts, and its meta."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map

from candor.board import model


def initial_board(template: dict[str, Any], *, event_id: str, kind: str) -> bytes:
    """The Yjs update that turns an empty document into a board of ``template``.

    Sections are plain JSON values in an array (only a facilitator edits them);
    notes, clusters and votes start as empty maps.
    """
    doc: Doc[Any] = Doc()
    with doc.transaction(origin="candor"):
        doc[model.META] = Map(
            {
                "title": template["title"],
                "template": template["id"],
                "phase": model.PHASES[0],
                "locked": False,
                "timer": None,
                "votes_per_person": template.get("votes_per_person", 5),
                "note_max_chars": template.get("note_max_chars", 500),
                "event": event_id,
                "kind": kind,
            }
        )
        doc[model.SECTIONS] = Array(
            [
                {
                    "id": section["id"],
                    "title": section["title"],
                    "prompts": list(section.get("prompts", [])),
                    "group": section.get("group"),
                    "description": section.get("description"),
                    "private_until_reveal": bool(section.get("private_until_reveal", False)),
                }
                for section in template["sections"]
            ]
        )
        doc[model.NOTES] = Map()
        doc[model.CLUSTERS] = Map()
        doc[model.VOTES] = Map()
    return doc.get_update()
