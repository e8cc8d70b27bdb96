"""Measuring a deck as LibreOffice rendered it (a PDF): every word's box, overflow, and a contact sheet to look at."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
from PIL import Image, ImageDraw

# Where a slide's footer starts, in points from the top of a 540 pt slide (candor.export.slides.FOOTER_TOP).
SLIDE_W, SLIDE_H = 960.0, 540.0


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float


def words_of(pdf: bytes) -> tuple[list[tuple[float, float]], list[Word]]:
    """Each page's size, and every word on every page with its box (points from the top left) and font size."""
    sizes, words = [], []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            sizes.append((float(page.width), float(page.height)))
            for w in page.extract_words(extra_attrs=["size"], keep_blank_chars=False, use_text_flow=True):
                words.append(Word(number, w["text"], w["x0"], w["top"], w["x1"], w["bottom"], float(w["size"])))
    return sizes, words


def overlaps(a: Word, b: Word, slack: float = 0.5) -> bool:
    return a.x0 + slack < b.x1 and b.x0 + slack < a.x1 and a.top + slack < b.bottom and b.top + slack < a.bottom


def contact_sheet(pdf: bytes, path: Path, columns: int = 4, width: int = 480) -> int:
    """Every page, small, in a grid with its number: what a facilitator would flick through. Returns the pages."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        images = [page.to_image(resolution=width / float(page.width) * 72).original.convert("RGB")
                  for page in document.pages]  # fmt: skip
    height = max(image.height for image in images)
    rows = (len(images) + columns - 1) // columns
    gap = 16
    sheet = Image.new("RGB", (columns * (width + gap) + gap, rows * (height + gap + 18) + gap), "#555555")
    draw = ImageDraw.Draw(sheet)
    for n, image in enumerate(images):
        x = gap + (n % columns) * (width + gap)
        y = gap + (n // columns) * (height + gap + 18)
        sheet.paste(image, (x, y + 18))
        draw.text((x, y + 2), f"{n + 1}", fill="#ffffff")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(images)
