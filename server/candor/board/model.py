"""The board document's shape: root names, field names and allowed values (see schemas/board.md)."""

from __future__ import annotations

from typing import Final

META: Final = "meta"
SECTIONS: Final = "sections"
NOTES: Final = "notes"
CLUSTERS: Final = "clusters"
VOTES: Final = "votes"
ROOTS: Final = frozenset({META, SECTIONS, NOTES, CLUSTERS, VOTES})

PHASES: Final = ("collect", "reveal", "cluster", "vote", "done")
ROOM_KINDS: Final = ("breakout", "plenary")
SCOPES: Final = ("room", "event", "public")
COLOURS: Final = ("yellow", "pink", "blue", "green", "orange", "purple")

# meta fields only a facilitator may change
META_FIELDS: Final = frozenset(
    {
        "title",
        "template",
        "phase",
        "locked",
        "timer",
        "votes_per_person",
        "note_max_chars",
        "event",
        "kind",
        # false: vote totals show while voting; absent or true: hidden until the vote closes
        "hide_totals",
    }
)
NOTE_FIELDS: Final = frozenset(
    {
        "section",
        "text",
        "colour",
        "x",
        "y",
        "author",
        "author_name",
        "cluster",
        "scope",
        "created_ms",
        "from_room",
        "from_note",
        "carried_votes",
        "withdrawn",
    }
)
# what a participant may change on a note someone else wrote
NOTE_FIELDS_ANYONE: Final = frozenset({"x", "y"})
# where a plenary copy came from and the dots it had there: set by the server alone, when it copies
NOTE_FIELDS_PROVENANCE: Final = frozenset({"from_room", "from_note", "carried_votes"})
# what nobody may change once a note exists
NOTE_FIELDS_FIXED: Final = frozenset({"author", "created_ms"}) | NOTE_FIELDS_PROVENANCE
CLUSTER_FIELDS: Final = frozenset({"section", "label", "x", "y"})
# a section's fields besides its prompts (a list of text), as the template gives them
SECTION_FIELDS: Final = frozenset({"id", "title", "group", "description", "private_until_reveal"})

CLUSTER_LABEL_MAX_CHARS: Final = 200
NAME_MAX_CHARS: Final = 80
TITLE_MAX_CHARS: Final = 200
DESCRIPTION_MAX_CHARS: Final = 2000
POSITION_LIMIT: Final = 1_000_000

# ids of notes the server adds (revealed drafts, copies to the plenary); nobody else may add one
SERVER_NOTE_PREFIX: Final = "s-"

# roots whose entries are maps of plain fields (a note, a cluster, a ballot)
ENTRY_ROOTS: Final = frozenset({NOTES, CLUSTERS, VOTES})
