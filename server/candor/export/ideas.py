"""The practical-ideas synthesis: the ``practical-ideas`` section of every room, grouped by cluster label.

The section is picked by its id, ``practical-ideas`` (as in the
beyond-hero-stories template); a template without such a section has no
synthesis. Clusters of different rooms with the same label (ignoring case and
spacing) form one group; notes no facilitator clustered form a last group
without a label. Each idea keeps its room as provenance. Plenary notes brought
in from a breakout (``from_room`` set) are left out: they already count in
their own room. The rooms given are already filtered for the audience.
"""

from __future__ import annotations

from typing import Final

from candor.export.model import ExportNote, ExportRoom, IdeaGroup, IdeaItem

PRACTICAL_IDEAS: Final = "practical-ideas"


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _ranked_items(items: list[IdeaItem]) -> tuple[IdeaItem, ...]:
    """As :func:`~candor.export.model.ranked` orders notes, across rooms."""
    voted = any(item.note.votes for item in items)
    return tuple(sorted(items, key=lambda i: (-i.note.votes if voted else 0, i.note.created_ms, i.note.id, i.room_id)))


def practical_ideas(rooms: tuple[ExportRoom, ...]) -> tuple[IdeaGroup, ...]:
    """Groups of ideas, most voted first, the unclustered ones last."""
    labels: dict[str, str] = {}
    grouped: dict[str, list[IdeaItem]] = {}
    loose: list[IdeaItem] = []
    for room in rooms:
        for section in room.sections:
            if section.id != PRACTICAL_IDEAS:
                continue
            loose.extend(IdeaItem(n, room.id, room.label) for n in section.notes if not _brought_in(room, n))
            for cluster in section.clusters:
                key = _key(cluster.label)
                labels.setdefault(key, cluster.label)
                items = grouped.setdefault(key, [])
                items.extend(IdeaItem(n, room.id, room.label) for n in cluster.notes if not _brought_in(room, n))
    groups = [IdeaGroup(labels[key], _ranked_items(items)) for key, items in grouped.items() if items]
    groups.sort(key=lambda group: (-group.votes, _key(group.label or "")))
    if loose:
        groups.append(IdeaGroup(None, _ranked_items(loose)))
    return tuple(groups)


def _brought_in(room: ExportRoom, note: ExportNote) -> bool:
    return room.kind == "plenary" and note.from_room is not None
