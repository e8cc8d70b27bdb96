"""Stories of change: notes told as a narrative per story (a beginning, middle and end), not as themes.

A template's ``narrative`` lists the sections a story is told through. A
story is a cluster label shared across those sections (a facilitator names
each project's story by clustering its notes), or, for notes in no cluster,
the room they were written in. Each part keeps its notes in the order they
were written; a part nobody wrote stays in the story, empty, so what did not
go well is never quietly dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from candor.export.model import ExportNote, Stories, Story, StoryPart
from candor.export.themes import Placed, SectionRule


def tell_stories(title: str, parts: Sequence[SectionRule], placed: Sequence[Placed]) -> Stories:
    """The stories told through ``parts``, the one whose first note was written first first."""
    wanted = {rule.id for rule in parts}
    names: dict[str, str] = {}
    notes: dict[str, dict[str, list[ExportNote]]] = {}
    for p in placed:
        if p.section not in wanted or p.counted_only:
            continue
        key = p.cluster_key if p.cluster_key is not None else f"\x00room\x00{p.room_label}"
        names.setdefault(key, p.cluster_label if p.cluster_key is not None else p.room_label)
        notes.setdefault(key, {}).setdefault(p.section, []).append(p.note)
    told = []
    for key, by_part in notes.items():
        first = min(_written(n) for part in by_part.values() for n in part)
        story = Story(
            names[key],
            tuple(
                StoryPart(rule.id, rule.title, tuple(sorted(by_part.get(rule.id, []), key=_written))) for rule in parts
            ),
        )
        told.append((first, story))
    told.sort(key=lambda pair: pair[0])
    return Stories(title, tuple(story for _, story in told))


def _written(note: ExportNote) -> tuple[int, str]:
    return (note.created_ms, note.id)
