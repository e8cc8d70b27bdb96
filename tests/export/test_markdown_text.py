"""Whatever people write stays text in the Markdown export: rendered by a CommonMark renderer (with GitHub's
tables and strike-through), a note comes out as exactly its words, never as markup."""

from __future__ import annotations

import html
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from candor.export.markdown import block, inline
from candor.export.model import clean_text

RENDERER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
# Text made of Markdown's own characters, so every construct gets tried.
MARKUP = st.text(alphabet=st.sampled_from(list("<>[]()!*_`~#&;|\\-+=.:/ \"'0123456789aZé\n")), max_size=60)


def rendered(markdown: str) -> tuple[str, list[str]]:
    out = RENDERER.render(markdown)
    tags = re.findall(r"</?([a-z0-9]+)", out)
    return html.unescape(re.sub(r"<[^>]+>", "", out)), tags


@settings(max_examples=200, deadline=None)
@given(st.one_of(MARKUP, st.text(max_size=60)))
@example("<img src=x onerror=alert(1)>")
@example("[click](javascript:alert(1))")
@example("1. first\n---\n# heading\n> quote\n    code")
@example("&lt;b&gt; &amp; &#60;script&#62;")
def test_a_note_renders_as_exactly_its_words(raw: str) -> None:
    text = clean_text(raw)  # as every note reaches a renderer
    words = " ".join(" ".join(line.split()) for line in text.split("\n") if line.strip())
    out, tags = rendered(f"- {block(text)}")
    assert set(tags) <= {"ul", "li", "p", "br"}, (text, tags)
    assert " ".join(out.split()) == words


@settings(max_examples=100, deadline=None)
@given(MARKUP)
def test_a_heading_renders_as_exactly_its_words(raw: str) -> None:
    text = clean_text(raw)
    out, tags = rendered(f"## {inline(text)}")
    if text.split():
        assert set(tags) <= {"h2"}, (text, tags)
    assert " ".join(out.split()) == " ".join(text.split())
