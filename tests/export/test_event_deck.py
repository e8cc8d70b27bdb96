"""The event deck by theme, checked point by point on the seed's own session spread over four rooms and a plenary:
the frame first, each theme once and in order, every shareable note exactly once, nothing private, slides that
LibreOffice renders without a box overflowing."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt
from pptx import Presentation
from pptx.util import Pt
from rendered import contact_sheet, overlaps, words_of
from seed_session import (
    CLOSING,
    DETAILS,
    HTML_NOTE,
    INTERVIEW,
    LATE_NOTE,
    MOVED,
    SECTIONS_IN_ORDER,
    STORIES,
    TITLE,
    WITHDRAWN,
    SeedSession,
    run_seed_session,
)

from candor.board.templates import builtin_templates
from candor.export.markdown import inline
from workshop import fetch

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "export.schema.json").read_text())
ARTIFACTS = ROOT / "test-artifacts"
FOOTER_TOP = 540 - 39.6
AGREEMENT = builtin_templates()["beyond-hero-stories"].agreement
assert AGREEMENT is not None


@pytest.fixture(scope="module")
def shop(make_module_server: Any) -> SeedSession:
    return asyncio.run(run_seed_session(make_module_server(open_rooms=False)))


@pytest.fixture(scope="module")
def files(shop: SeedSession) -> dict[str, bytes]:
    """The event export in every format, asked for once."""
    out = {}
    for fmt in ("md", "html", "json", "pptx"):
        status, _, body = fetch(
            shop.event.server, f"/api/events/{shop.event.id}/export?format={fmt}", shop.event.facilitator
        )
        assert status == 200, body
        out[fmt] = body
    return out


def exported_notes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for s in document["sections"] for n in s["notes"] + [m for c in s["clusters"] for m in c["notes"]]]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts), parser.tags


def pptx_slides(body: bytes) -> list[tuple[str, str, str]]:
    """Each slide's title, its other text, and its speaker notes."""
    out = []
    for slide in Presentation(io.BytesIO(body)).slides:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s != slide.shapes.title]
        out.append((slide.shapes.title.text, "\n".join(texts), slide.notes_slide.notes_text_frame.text))
    return out


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_opens_with_the_frame_then_one_heading_per_theme_in_the_templates_order(
    files: dict[str, bytes],
) -> None:
    lines = files["md"].decode().splitlines()
    assert lines[0] == f"# {inline(TITLE)}"
    headings = [line for line in lines if line.startswith("## ")]
    frame = ["## Who we are", "## What we did", "## Relational agreement", "## A framework for sharing failure stories"]
    assert headings[:4] == frame
    themes = [
        line for line in lines if re.match(r"#{2,3} ", line) and line.lstrip("# ") in dict(SECTIONS_IN_ORDER).values()
    ]
    framework_end = lines.index("## Define and reverse the problem")
    in_body = [line.lstrip("# ") for line in lines[framework_end:] if line in themes]
    assert in_body == [title for _, title in SECTIONS_IN_ORDER]  # each theme once, in order
    assert headings[-1] == f"## {CLOSING[1]}"  # what next closes the export


def test_markdown_shows_every_shareable_note_exactly_once(shop: SeedSession, files: dict[str, bytes]) -> None:
    text = files["md"].decode()
    for note in shop.shareable:
        assert text.count(inline(note.text)) == 1, note.text


def test_markdown_holds_the_agreement_in_full_and_who_ran_the_session(files: dict[str, bytes]) -> None:
    text = files["md"].decode()
    assert AGREEMENT is not None
    for item in AGREEMENT.items:
        assert f"- {inline(item)}" in text
    for person in DETAILS["facilitators"]:
        assert f"**{inline(person['name'])}**" in text
    assert inline("with 45 public engagement and research impact professionals") in text


@pytest.mark.parametrize("fmt", ["md", "html", "json", "pptx"])
def test_nothing_private_leaves_its_room(shop: SeedSession, files: dict[str, bytes], fmt: str) -> None:
    body = files[fmt]
    text = body.decode() if fmt != "pptx" else "\n".join("\n".join(s) for s in pptx_slides(body))
    for story in STORIES:  # the interview sections never leave their room
        assert story[:40] not in text
    for note in shop.notes.values():
        if note.scope == "room" or note.text == WITHDRAWN:
            assert note.text[:40] not in text, note.text
        assert note.author not in text  # pseudonyms never appear
    if fmt == "json":
        assert not set(INTERVIEW) & {s["id"] for s in json.loads(body)["sections"]}


def test_markdown_keeps_a_note_that_is_html_as_text(files: dict[str, bytes]) -> None:
    rendered = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(files["md"].decode())
    assert "<img" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt; is how our survey tool" in rendered


# -- JSON -----------------------------------------------------------------------------------------


def test_json_is_valid_and_merges_rooms_by_theme(shop: SeedSession, files: dict[str, bytes]) -> None:
    document = json.loads(files["json"])
    assert list(Draft202012Validator(SCHEMA).iter_errors(document)) == []
    assert [s["id"] for s in document["sections"]] == [*[s for s, _ in SECTIONS_IN_ORDER], CLOSING[0]]
    notes = exported_notes(document)
    counted = Counter(n["text"] for n in notes)
    assert counted == Counter(n.text for n in shop.shareable)  # each shareable note once, nothing else
    assert document["frame"]["agreement"]["items"] == list(AGREEMENT.items)
    assert document["frame"]["participants"] == 45


def test_a_plenary_copy_and_its_source_are_one_note_with_both_rooms(shop: SeedSession, files: dict[str, bytes]) -> None:
    notes = {n["text"]: n for n in exported_notes(json.loads(files["json"]))}
    copied = notes["Have a 'failure session' at each team meeting"]
    assert copied["rooms"] == ["Room 1", "Plenary"]
    assert copied["votes"] == shop.votes["Have a 'failure session' at each team meeting"]  # room and plenary voters
    moved_from = f"Room {shop.event.breakouts.index(shop.notes[MOVED].room) + 1}"
    assert notes[MOVED]["rooms"] == [moved_from, "Plenary"]  # its source was deleted: the copy keeps both
    assert notes["Reframe failure as learning"]["author"] == "Ben"  # signed, and so is its copy


def test_clusters_with_the_same_label_are_merged_most_voted_first(files: dict[str, bytes]) -> None:
    sections = {s["id"]: s for s in json.loads(files["json"])["sections"]}
    ideas = sections["practical-ideas"]["clusters"]
    assert [c["label"].casefold().strip() for c in ideas] == ["culture", "funders and incentives"]
    votes = [c["votes"] for c in ideas]
    assert votes == sorted(votes, reverse=True)
    problem = sections["define-the-problem"]["clusters"]
    assert len(problem) == 1 and len(problem[0]["notes"]) == 2  # "Incentives" and "incentives"


# -- HTML -----------------------------------------------------------------------------------------


def test_html_deck_shows_each_shareable_note_once_with_a_small_room_tag(
    shop: SeedSession, files: dict[str, bytes]
) -> None:
    html = files["html"].decode()
    text, tags = html_text(html)
    assert "img" not in tags and HTML_NOTE in text
    body = re.sub(r'<aside class="notes">.*?</aside>', "", html, flags=re.S)
    shown, _ = html_text(body)
    for note in shop.shareable:
        assert shown.count(note.text) == 1, note.text
    assert '<span class="rooms">Room 1 \u00b7 Plenary</span>' in html
    assert not re.search(r"\bseq\b", shown)


# -- pptx -----------------------------------------------------------------------------------------


def test_slides_are_titled_by_theme_with_footers_in_words_and_close_on_what_next(files: dict[str, bytes]) -> None:
    slides = pptx_slides(files["pptx"])
    titles = [title for title, _, _ in slides]
    assert titles[0] == TITLE
    assert titles[1:5] == [
        "Who we are",
        "What we did",
        "Relational agreement",
        "A framework for sharing failure stories",
    ]
    assert titles[-1] == "What next?"
    for title in titles:
        assert not re.match(r"(Room \d|Plenary)\b", title) and not re.search(r"\bseq\b", title)
    bases = [t.removesuffix(" (continued)") for t in titles]
    themes = [t for t in dict.fromkeys(bases) if t in dict(SECTIONS_IN_ORDER).values()]
    assert themes == [title for _, title in SECTIONS_IN_ORDER]
    for _, text, _ in slides[1:]:
        assert f"{TITLE} \u00b7 23 November 2026" in text
        assert not re.search(r"\bseq\b", text)


def test_body_text_is_never_below_18_pt_and_speaker_notes_say_where_notes_came_from(files: dict[str, bytes]) -> None:
    deck = Presentation(io.BytesIO(files["pptx"]))
    for slide in deck.slides:
        for shape in slide.shapes:
            if (
                not shape.has_text_frame
                or "November 2026" in shape.text_frame.text
                or re.fullmatch(r"\d+ / \d+", shape.text_frame.text)
            ):
                continue  # the footer and page number
            for paragraph in shape.text_frame.paragraphs:
                for run in paragraph.runs:
                    assert run.font.size >= Pt(18), (run.text, run.font.size)
    notes = "\n".join(n for _, _, n in pptx_slides(files["pptx"]))
    assert (
        "\u201cHave a 'failure session' at each team meeting\u201d: Room 1 \u2192 Plenary; 5 votes; anonymous" in notes
    )


# -- LibreOffice --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf(shop: SeedSession) -> bytes:
    """The PDF download: the same deck as LibreOffice renders it (once for this module)."""
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice (soffice) is missing: scripts/setup --test installs it")
    status, headers, body = fetch(
        shop.event.server, f"/api/events/{shop.event.id}/export?format=pdf", shop.event.facilitator
    )
    assert status == 200, body
    assert headers["content-type"] == "application/pdf"
    return body


def test_libreoffice_renders_every_slide_16_9_without_a_text_box_overflowing(
    pdf: bytes, files: dict[str, bytes]
) -> None:
    sizes, words = words_of(pdf)
    assert len(sizes) == len(Presentation(io.BytesIO(files["pptx"])).slides)
    assert all(abs(w / h - 16 / 9) < 0.01 for w, h in sizes)
    for word in words:
        assert 0 <= word.x0 and word.x1 <= 960.5 and 0 <= word.top and word.bottom <= 540, word
        if word.size > 13:  # body text stays above the footer
            assert word.bottom <= FOOTER_TOP, word
    for page in range(1, len(sizes) + 1):
        on_page = [w for w in words if w.page == page]
        clashes = [(a, b) for n, a in enumerate(on_page) for b in on_page[n + 1 :] if overlaps(a, b)]
        assert clashes == [], clashes[:3]
    assert min(w.size for w in words if w.size > 13) >= 17.9


def test_a_contact_sheet_of_the_rendered_deck(pdf: bytes) -> None:
    count = contact_sheet(pdf, ARTIFACTS / "event-deck.png")
    assert count >= 12 and (ARTIFACTS / "event-deck.png").stat().st_size > 10_000


# -- moments ----------------------------------------------------------------------------------------


def test_an_export_at_the_end_of_the_vote_leaves_out_what_came_after(shop: SeedSession) -> None:
    path = f"/api/events/{shop.event.id}/export?format=md&at=end-of-vote"
    status, headers, body = fetch(shop.event.server, path, shop.event.facilitator)
    assert status == 200, body
    text = body.decode()
    assert inline(LATE_NOTE) not in text and inline("Reframe failure as learning") in text
    assert "as it stood at the end of the vote" in text
    assert headers["content-disposition"] == f'attachment; filename="{shop.event.id}-end-of-vote.md"'
    now = fetch(shop.event.server, f"/api/events/{shop.event.id}/export?format=md", shop.event.facilitator)[2]
    assert inline(LATE_NOTE) in now.decode()
