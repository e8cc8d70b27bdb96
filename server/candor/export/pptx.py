"""PowerPoint export (python-pptx): the deck plan drawn on 16:9 slides at the measured sizes, provenance in the notes.

Text boxes never shrink or grow their text (auto-size off): the plan already
fits every box, and a test renders the deck with LibreOffice to prove it.
"""

from __future__ import annotations

import io
from typing import Final, cast

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide as PptxSlide
from pptx.text.text import TextFrame, _Paragraph
from pptx.util import Emu, Pt

from candor.export import layout
from candor.export.deck import plan_slides
from candor.export.model import Export
from candor.export.slides import (
    BODY_BOTTOM,
    BULLETED,
    COLOURS,
    FOOTER_PT,
    FOOTER_TOP,
    SUBTITLE_PT,
    Line,
    Slide,
    space_before,
)

TITLE_ONLY_LAYOUT: Final = 5
INK: Final = RGBColor.from_string("1B1B1B")  # type: ignore[no-untyped-call]
ACCENT: Final = RGBColor.from_string("123A5A")  # type: ignore[no-untyped-call]
MUTED: Final = RGBColor.from_string("5F5F5F")  # type: ignore[no-untyped-call]
GREY: Final = "9A9A9A"
COLOUR_OF: Final = {"heading": ACCENT, "meta": MUTED}
DETAIL_PT: Final = 18


def _pt(points: float) -> Emu:
    return Emu(int(points * 12700))


def _add_paragraph(frame: TextFrame) -> _Paragraph:
    # python-pptx leaves add_paragraph unannotated.
    return cast("_Paragraph", frame.add_paragraph())  # type: ignore[no-untyped-call]


def _run(paragraph: _Paragraph, text: str, size: float, colour: RGBColor, *, bold: bool = False,
         italic: bool = False) -> None:  # fmt: skip
    """Runs of ``text`` at ``size``; its line breaks become line breaks within the paragraph."""
    for n, part in enumerate(text.split("\n")):
        if n:
            paragraph.add_line_break()  # type: ignore[no-untyped-call]
        run = paragraph.add_run()
        run.text = part
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.italic = italic
        run.font.color.rgb = colour


def _frame(slide: PptxSlide, top: float, height: float) -> tuple[TextFrame, etree._Element]:
    shape = slide.shapes.add_textbox(_pt(layout.MARGIN), _pt(top), _pt(layout.BOX_W), _pt(height))
    frame: TextFrame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = MSO_ANCHOR.TOP
    return frame, shape.element


def _bullets(element: etree._Element, lines: tuple[Line, ...]) -> None:
    """Hanging bullets (wrapped lines align with the text), coloured like the note; no public API sets these."""
    paragraphs = element.findall(f".//{qn('a:p')}")
    for p, line in zip(paragraphs, lines, strict=True):
        if line.kind not in BULLETED:
            continue
        p_pr = p.find(qn("a:pPr"))
        if p_pr is None:
            p_pr = etree.Element(qn("a:pPr"))
            p.insert(0, p_pr)
        indent = str(int(layout.BULLET_INDENT * 12700))
        p_pr.set("marL", indent)
        p_pr.set("indent", f"-{indent}")
        colour = COLOURS.get(line.note.colour or "", "") if line.note else ""
        bu_clr = etree.SubElement(p_pr, qn("a:buClr"))
        etree.SubElement(bu_clr, qn("a:srgbClr")).set("val", (colour or f"#{GREY}").lstrip("#").upper())
        etree.SubElement(p_pr, qn("a:buChar")).set("char", "\u2022")


def _body(slide: PptxSlide, plan: Slide) -> None:
    frame, element = _frame(slide, plan.body_top, BODY_BOTTOM - plan.body_top)
    for n, line in enumerate(plan.lines):
        paragraph = frame.paragraphs[0] if n == 0 else _add_paragraph(frame)
        paragraph.space_before = Pt(space_before(line, n == 0))
        purged = line.note is not None and line.note.purged
        colour = MUTED if purged else COLOUR_OF.get(line.kind, INK)
        _run(paragraph, line.text, line.size, colour, bold=line.bold, italic=purged or line.kind == "meta")
        if line.detail:
            _run(paragraph, f"  ({line.detail})", min(DETAIL_PT, line.size), MUTED)
    _bullets(element, plan.lines)


def _slide(deck: Deck, plan: Slide, number: int, total: int) -> PptxSlide:
    out: PptxSlide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    title = out.shapes.title
    assert title is not None  # the title-only layout has one
    title.left, title.top = _pt(layout.MARGIN), _pt(plan.title_top)
    title.width, title.height = _pt(layout.BOX_W), _pt(plan.title_h)
    frame = title.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.margin_left = frame.margin_right = _pt(layout.INSET_X)
    frame.margin_top = frame.margin_bottom = _pt(layout.INSET_Y)
    frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _run(frame.paragraphs[0], plan.title, plan.title_pt, ACCENT, bold=True)
    if plan.subtitle:
        sub, _ = _frame(out, plan.title_top + plan.title_h + 4, plan.subtitle_h)
        _run(sub.paragraphs[0], plan.subtitle, SUBTITLE_PT, MUTED, italic=True)
    if plan.lines:
        _body(out, plan)
    if plan.footer:
        footer, _ = _frame(out, FOOTER_TOP, layout.SLIDE_H - FOOTER_TOP - 8)
        _run(footer.paragraphs[0], plan.footer, FOOTER_PT, MUTED)
        page, _ = _frame(out, FOOTER_TOP, layout.SLIDE_H - FOOTER_TOP - 8)
        page.paragraphs[0].alignment = PP_ALIGN.RIGHT
        _run(page.paragraphs[0], f"{number} / {total}", FOOTER_PT, MUTED)
    return out


def render_pptx(export: Export) -> bytes:
    deck = Presentation()
    deck.slide_width = _pt(layout.SLIDE_W)
    deck.slide_height = _pt(layout.SLIDE_H)
    deck.core_properties.title = export.title
    deck.core_properties.author = "Candor"
    plans = plan_slides(export)
    for number, plan in enumerate(plans, 1):
        out = _slide(deck, plan, number, len(plans))
        notes = out.notes_slide.notes_text_frame
        assert notes is not None  # the default template's notes master has a body placeholder
        notes.text = plan.notes
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
