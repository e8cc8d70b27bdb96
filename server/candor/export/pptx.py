"""PowerPoint export (python-pptx): a 16:9 deck, readable sizes, provenance in every slide's speaker notes."""

from __future__ import annotations

import io
from typing import Final, cast

from lxml import etree
from pptx import Presentation
from pptx.enum.text import MSO_ANCHOR
from pptx.opc.package import OpcPackage
from pptx.opc.packuri import PackURI
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide as PptxSlide
from pptx.text.text import TextFrame, _Paragraph
from pptx.util import Emu, Inches, Pt

from candor.export.model import Export
from candor.export.slides import COLOURS, SUBTITLE_LINES_FREE, Line, Slide, plan_slides, subtitle_lines


def _add_paragraph(frame: TextFrame) -> _Paragraph:
    # python-pptx leaves add_paragraph unannotated.
    return cast("_Paragraph", frame.add_paragraph())  # type: ignore[no-untyped-call]


SLIDE_WIDTH: Final = Inches(13.333)
SLIDE_HEIGHT: Final = Inches(7.5)
MARGIN: Final = Inches(0.6)
TITLE_LAYOUT: Final = 0
TITLE_ONLY_LAYOUT: Final = 5

TITLE_SLIDE_PT: Final = 40
TITLE_PT: Final = 32
SUBTITLE_PT: Final = 18
HEADING_PT: Final = 22
BODY_PT: Final = 20
DETAIL_PT: Final = 18
FOOTER_PT: Final = 12

INK: Final = "1B1B1B"
ACCENT: Final = "123A5A"
MUTED: Final = "666666"
BULLET_INDENT: Final = Emu(Inches(0.3))


class _PartNames:
    """Names for new parts of the package, handed out in order.

    python-pptx finds the next free name by walking every part of the package,
    so a deck with speaker notes on each slide costs O(slides²): 250 slides took
    seconds. Only this renderer adds parts to its deck, so counting is enough.
    """

    def __init__(self, package: OpcPackage) -> None:
        self._scan = package.next_partname
        self._next: dict[str, int] = {}

    def __call__(self, template: str) -> PackURI:
        n = self._next.get(template)
        if n is None:
            first = str(self._scan(template))
            prefix, suffix = template.split("%d")
            n = int(first[len(prefix) : len(first) - len(suffix)])
        self._next[template] = n + 1
        return PackURI(template % n)


def _place(shape: object, left: int, top: int, width: int, height: int) -> None:
    """Move a placeholder off its (4:3) layout position onto the 16:9 slide."""
    shape.left, shape.top, shape.width, shape.height = left, top, width, height  # type: ignore[attr-defined]


def _run(paragraph: _Paragraph, text: str, size: int, colour: str, *, bold: bool = False, italic: bool = False) -> None:
    """A run of text; its properties written as XML directly (python-pptx's font proxies cost ~0.5 ms a run)."""
    run = paragraph.add_run()
    run.text = text
    properties = run._r.get_or_add_rPr()
    properties.set("sz", str(size * 100))
    if bold:
        properties.set("b", "1")
    if italic:
        properties.set("i", "1")
    fill = etree.SubElement(properties, qn("a:solidFill"))
    etree.SubElement(fill, qn("a:srgbClr")).set("val", colour)


def _bullet(paragraph: _Paragraph, colour: str | None) -> None:
    """A real hanging bullet (wrapped lines align with the text), coloured like the note."""
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", str(BULLET_INDENT))
    p_pr.set("indent", str(-BULLET_INDENT))
    if colour:
        bu_clr = etree.SubElement(p_pr, qn("a:buClr"))
        etree.SubElement(bu_clr, qn("a:srgbClr")).set("val", colour.lstrip("#").upper())
    etree.SubElement(p_pr, qn("a:buChar")).set("char", "\u2022")


def _line(frame: TextFrame, line: Line, first: bool) -> None:
    paragraph = frame.paragraphs[0] if first else _add_paragraph(frame)
    paragraph.space_before = Pt(10 if line.kind == "heading" and not first else 4)
    if line.kind == "heading":
        _run(paragraph, line.text, HEADING_PT, ACCENT, bold=True)
    elif line.note is not None and line.note.purged:
        _bullet(paragraph, None)
        _run(paragraph, line.text, BODY_PT, MUTED, italic=True)
    else:
        if line.kind == "note":
            _bullet(paragraph, COLOURS.get(line.note.colour or "") if line.note else None)
        _run(paragraph, line.text, BODY_PT, INK)
    if line.detail:
        _run(paragraph, f"  ({line.detail})", DETAIL_PT, MUTED)


def _text_box(slide: PptxSlide, left: int, top: int, width: int, height: int) -> TextFrame:
    frame: TextFrame = slide.shapes.add_textbox(Emu(left), Emu(top), Emu(width), Emu(height)).text_frame
    frame.word_wrap = True
    return frame


def _title_slide(deck: Deck, slide: Slide) -> PptxSlide:
    out: PptxSlide = deck.slides.add_slide(deck.slide_layouts[TITLE_LAYOUT])
    width = SLIDE_WIDTH - 2 * MARGIN
    title, subtitle = out.shapes.title, out.placeholders[1]
    _place(title, MARGIN, Inches(1.6), width, Inches(2.0))
    _place(subtitle, MARGIN, Inches(3.8), width, Inches(2.6))
    assert title is not None
    _run(title.text_frame.paragraphs[0], slide.title, TITLE_SLIDE_PT, ACCENT, bold=True)
    frame = subtitle.text_frame
    for n, part in enumerate(slide.subtitle.split("\n")):
        paragraph = frame.paragraphs[0] if n == 0 else _add_paragraph(frame)
        _run(paragraph, part, SUBTITLE_PT + 2 if n == 0 else SUBTITLE_PT, MUTED)
    return out


def _content_slide(deck: Deck, slide: Slide) -> PptxSlide:
    out: PptxSlide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    width = SLIDE_WIDTH - 2 * MARGIN
    title = out.shapes.title
    assert title is not None
    _place(title, MARGIN, Inches(0.35), width, Inches(1.1))
    title.text_frame.vertical_anchor = MSO_ANCHOR.BOTTOM
    title.text_frame.word_wrap = True
    _run(title.text_frame.paragraphs[0], slide.title, TITLE_PT, ACCENT, bold=True)
    top = Inches(1.5)
    if slide.subtitle:
        lines = max(subtitle_lines(slide.subtitle), SUBTITLE_LINES_FREE)
        sub = _text_box(out, MARGIN, top, width, Inches(0.3 * lines))
        _run(sub.paragraphs[0], slide.subtitle, SUBTITLE_PT, MUTED, italic=True)
        top = Inches(1.55 + 0.3 * lines)
    body = _text_box(out, MARGIN, top, width, SLIDE_HEIGHT - top - Inches(0.7))
    for n, line in enumerate(slide.lines):
        _line(body, line, n == 0)
    footer = _text_box(out, MARGIN, SLIDE_HEIGHT - Inches(0.55), width, Inches(0.4))
    _run(footer.paragraphs[0], slide.footer, FOOTER_PT, MUTED)
    return out


def render_pptx(export: Export) -> bytes:
    deck = Presentation()
    package = deck.part.package
    setattr(package, "next_partname", _PartNames(package))  # noqa: B010 (an instance override, on purpose)
    deck.slide_width = SLIDE_WIDTH
    deck.slide_height = SLIDE_HEIGHT
    deck.core_properties.title = export.title
    deck.core_properties.author = "Candor"
    for slide in plan_slides(export):
        out = _title_slide(deck, slide) if slide.kind == "title" else _content_slide(deck, slide)
        notes = out.notes_slide.notes_text_frame
        assert notes is not None  # the default template's notes master has a body placeholder
        notes.text = slide.notes
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
