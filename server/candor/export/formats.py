"""The export formats: each one's name, file extension, media type and renderer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from candor.errors import BadRequest
from candor.export.html import render_html
from candor.export.json import render_json
from candor.export.markdown import render_markdown
from candor.export.model import Export
from candor.export.moments import parse_moment
from candor.export.pdf import render_pdf
from candor.export.pptx import render_pptx
from candor.history.rebuild import format_moment


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    extension: str
    media_type: str
    render: Callable[[Export], bytes]


FORMATS: Final = {
    fmt.name: fmt
    for fmt in (
        Format("md", "md", "text/markdown; charset=utf-8", lambda e: render_markdown(e).encode()),
        Format("html", "html", "text/html; charset=utf-8", lambda e: render_html(e).encode()),
        Format(
            "pptx",
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            render_pptx,
        ),
        Format("json", "json", "application/json", lambda e: render_json(e).encode()),
        Format("pdf", "pdf", "application/pdf", render_pdf),
    )
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def format_named(name: str | None) -> Format:
    """The format called ``name``; BadRequest naming the choices otherwise."""
    found = FORMATS.get(name or "")
    if found is None:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not {name!r}")
    return found


def export_filename(export: Export, fmt: Format) -> str:
    """``ROOM-seq42.md``, ``EVENT-20261123T1432Z.pptx``, ``EVENT-end-of-vote.pdf`` (``-public`` for a public export):
    safe in any header."""
    moment = parse_moment(export.requested_at)
    if export.kind == "room" and export.rooms:
        room = export.rooms[0]
        stem = f"{room.id}-seq{room.seq}"
    elif moment is not None and moment.phase_end is not None:
        stem = f"{export.event_id or 'export'}-end-of-{moment.phase_end}"
    else:
        point = moment.point if moment else None
        when = format_moment(point.time_ms if point and point.time_ms is not None else export.generated_ms)
        stem = f"{export.event_id or 'export'}-{re.sub(r'[-:]', '', when)[:13]}Z"
    if export.audience == "public":
        stem += "-public"
    return _UNSAFE.sub("_", stem) + "." + fmt.extension
