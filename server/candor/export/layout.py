"""Text measured before it is placed on a 16:9 slide: widths, wrapped lines and heights, in points.

Widths come from DejaVu Sans, the widest of the fonts a deck meets (LibreOffice
falls back to it where Calibri is missing; Calibri itself is narrower), plus a
margin; lines break at spaces as PowerPoint and LibreOffice do, and a word too
long for a line breaks where it must. A slide planned with these numbers fits
in either program: tests/export render every slide with LibreOffice to check.
"""

from __future__ import annotations

from typing import Final

# Advance widths of ASCII 32..126 in thousandths of an em (DejaVu Sans, then Bold).
_REGULAR: Final = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636,
    636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656,
    557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613,
    635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818,
    592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_BOLD: Final = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696,
    696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775,
    637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675,
    716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924,
    645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip
# Common typography outside ASCII; anything else counts as a full em (bold a little more), as wide as CJK.
_OTHER: Final = {"\u2018": 318, "\u2019": 318, "\u201c": 518, "\u201d": 518, "\u2013": 500, "\u2014": 1000,
                 "\u2026": 1000, "\u2022": 590, "\u00b7": 318, "\u00a0": 318}  # fmt: skip
SAFETY: Final = 1.06
LINE_HEIGHT: Final = 1.22  # of the font size: Calibri's line in PowerPoint, more than DejaVu's 1.16

SLIDE_W: Final = 960.0  # 13.333 in
SLIDE_H: Final = 540.0  # 7.5 in
MARGIN: Final = 43.2  # 0.6 in
INSET_X: Final = 7.2  # a text box's own left and right inset (0.1 in)
INSET_Y: Final = 3.6  # and top and bottom (0.05 in)
BULLET_INDENT: Final = 21.6  # 0.3 in
BOX_W: Final = SLIDE_W - 2 * MARGIN
TEXT_W: Final = BOX_W - 2 * INSET_X


def char_width(char: str, bold: bool = False) -> float:
    """Width of ``char`` in ems."""
    code = ord(char)
    if 32 <= code <= 126:
        return (_BOLD if bold else _REGULAR)[code - 32] / 1000
    if char in _OTHER:
        return _OTHER[char] / 1000 * (1.1 if bold else 1)
    return 1.1 if bold else 1.0


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of one line of ``text`` at ``size`` points, in points, with the safety margin."""
    return sum(char_width(c, bold) for c in text) * size * SAFETY


def _split_word(word: str, width: float, size: float, bold: bool) -> list[str]:
    pieces, piece, used = [], "", 0.0
    for char in word:
        w = char_width(char, bold) * size * SAFETY
        if piece and used + w > width:
            pieces.append(piece)
            piece, used = "", 0.0
        piece += char
        used += w
    return [*pieces, piece] if piece else pieces


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into the lines it takes in a box ``width`` points wide (its own line breaks kept)."""
    lines: list[str] = []
    space = char_width(" ", bold) * size * SAFETY
    for paragraph in text.split("\n") or [""]:
        line, used = "", 0.0
        for word in paragraph.split():
            w = text_width(word, size, bold)
            if line and used + space + w <= width:
                line, used = f"{line} {word}", used + space + w
                continue
            if line:
                lines.append(line)
            if w <= width:
                line, used = word, w
                continue
            *whole, line = _split_word(word, width, size, bold)
            lines += whole
            used = text_width(line, size, bold)
        lines.append(line)
    return lines


def height(lines: int, size: float) -> float:
    return lines * size * LINE_HEIGHT


def fit(text: str, width: float, size: float, max_lines: int, bold: bool = False) -> str:
    """``text`` cut with an ellipsis so that it takes at most ``max_lines`` lines."""
    if len(wrap(text, width, size, bold)) <= max_lines:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        mid = (low + high + 1) // 2
        if len(wrap(text[:mid].rstrip() + "\u2026", width, size, bold)) <= max_lines:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "\u2026"
