"""A self-contained HTML slide deck: one file, inline CSS and script, arrow keys to move, one slide per printed page."""

from __future__ import annotations

import html
from typing import Final

from candor.export.deck import plan_slides
from candor.export.model import Export
from candor.export.slides import COLOURS, Line, Slide

# No url(), @import or external font: the file must open offline, exactly as sent.
STYLE: Final = """
:root { --w: min(100vw, 177.78vh); --h: min(56.25vw, 100vh); }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: #1d1f21; }
body { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1b1b1b; }
.slide { display: none; flex-direction: column; width: var(--w); height: var(--h); margin: 0 auto;
  position: relative; top: calc((100vh - var(--h)) / 2); background: #fff; padding: 4.5% 6% 6%;
  font-size: calc(var(--w) * 0.0175); overflow: hidden; }
.slide.current { display: flex; }
h1 { font-size: 2.4em; margin: 0 0 0.3em; line-height: 1.1; }
h2 { font-size: 1.6em; margin: 0 0 0.25em; line-height: 1.15; color: #123a5a; }
.subtitle { font-size: 0.95em; font-style: italic; color: #555; margin: 0 0 0.8em; white-space: pre-line; }
.title-slide { justify-content: center; }
.title-slide ul.body { flex: 0 0 auto; }
ul.body { list-style: none; margin: 0; padding: 0; flex: 1; overflow: auto; }
ul.body li { margin: 0 0 0.35em; line-height: 1.25; }
li.note, li.item { padding-left: 0.7em; border-left: 0.25em solid #c8c8c8; }
li.heading { font-weight: 600; font-size: 1.1em; margin-top: 0.6em; color: #123a5a; }
li.lead { font-size: 1.3em; margin-bottom: 0.6em; }
li.meta { color: #666; font-size: 0.9em; font-style: italic; }
li.withdrawn { color: #888; font-style: italic; }
.detail { color: #666; font-size: 0.85em; margin-left: 0.4em; white-space: nowrap; }
.rooms { display: inline-block; margin-left: 0.5em; padding: 0 0.45em; border-radius: 0.6em; background: #eef2f6;
  color: #40566b; font-size: 0.7em; vertical-align: 0.15em; white-space: nowrap; }
footer { position: absolute; left: 6%; right: 6%; bottom: 2.5%; font-size: 0.6em; color: #777;
  display: flex; justify-content: space-between; }
aside.notes { display: none; }
body.show-notes aside.notes { display: block; position: absolute; left: 6%; right: 6%; bottom: 7%;
  max-height: 40%; overflow: auto; background: #fffbe6; border: 1px solid #e0d8a8; padding: 0.6em;
  font-size: 0.55em; white-space: pre-line; }
@page { size: 13.333in 7.5in; margin: 0; }
@media print {
  html, body { background: #fff; height: auto; }
  .slide { display: flex !important; width: 13.333in; height: 7.5in; top: 0; margin: 0;
    font-size: 17pt; break-after: page; page-break-after: always; }
  aside.notes, body.show-notes aside.notes { display: none; }
}
"""

SCRIPT: Final = """
(function () {
  var slides = Array.prototype.slice.call(document.querySelectorAll(".slide"));
  var current = 0;
  function show(n) {
    current = Math.max(0, Math.min(slides.length - 1, n));
    slides.forEach(function (slide, k) { slide.classList.toggle("current", k === current); });
    try { history.replaceState(null, "", "#" + (current + 1)); } catch (e) { /* file: pages may refuse */ }
  }
  var forward = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"];
  var back = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (forward.indexOf(e.key) >= 0) { show(current + 1); }
    else if (back.indexOf(e.key) >= 0) { show(current - 1); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(slides.length - 1); }
    else if (e.key === "n" || e.key === "N") { document.body.classList.toggle("show-notes"); return; }
    else { return; }
    e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("aside")) { return; }
    show(e.clientX < window.innerWidth / 3 ? current - 1 : current + 1);
  });
  var start = parseInt(window.location.hash.slice(1), 10);
  show(isNaN(start) ? 0 : start - 1);
})();
"""


def _text(value: str) -> str:
    """User text, escaped, its line breaks kept."""
    return html.escape(value, quote=True).replace("\n", "<br>")


def _line(line: Line) -> str:
    detail = f'<span class="detail">{_text(line.detail)}</span>' if line.detail else ""
    rooms = f'<span class="rooms">{_text(line.rooms)}</span>' if line.rooms else ""
    if line.kind != "note" or line.note is None:
        return f'<li class="{line.kind}">{_text(line.text)}{detail}</li>'
    if line.note.purged:
        return f'<li class="note withdrawn">{_text(line.text)}</li>'
    colour = COLOURS.get(line.note.colour or "", "#c8c8c8")
    return f'<li class="note" style="border-left-color: {colour}">{_text(line.text)}{detail}{rooms}</li>'


def _slide(slide: Slide, number: int, total: int) -> str:
    heading = "h1" if slide.kind == "title" else "h2"
    parts = [
        f'<section class="slide {slide.kind}-slide" id="slide-{number}" aria-label="Slide {number} of {total}">',
        f"<{heading}>{_text(slide.title)}</{heading}>",
    ]
    if slide.subtitle:
        parts.append(f'<p class="subtitle">{_text(slide.subtitle)}</p>')
    if slide.lines:
        parts.append('<ul class="body">' + "".join(_line(line) for line in slide.lines) + "</ul>")
    parts.append(f"<footer><span>{_text(slide.footer)}</span><span>{number} / {total}</span></footer>")
    parts.append(f'<aside class="notes">{_text(slide.notes)}</aside>')
    parts.append("</section>")
    return "\n".join(parts)


def render_html(export: Export) -> str:
    slides = plan_slides(export)
    body = "\n".join(_slide(slide, n, len(slides)) for n, slide in enumerate(slides, 1))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(export.title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f'<body>\n<main id="deck">\n{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n'
    )
