"""The story-of-change template (seed 003) exports as a narrative per story: beginning, middle and end, with what
did not go well kept in it."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import pytest

from boards import BoardClient, board_client, create_event
from candor.export.markdown import inline
from workshop import fetch, settle

# Two projects told in one room, each named by a cluster; a third story is a room's unclustered notes.
EXPLORE = [
    ("beginning", "Explore Your Universe started with eight science centres and their community partners."),
    ("middle", "Speed bumps and potholes: two partners left when the funding was cut back."),
    ("end", "Families who had never visited now come back with their neighbours."),
    ("what-could-have-gone-better", "We shared our successes loudly and our mistakes not at all."),
    ("what-went-well", "A safe space conference workshop where centres swapped what went wrong."),
]
LIBRARY = [
    ("beginning", "The library pop-up began as a one-off summer idea."),
    ("end", "It became a weekly fixture run by the residents themselves."),
]
ROOM2 = [("middle", "We trained volunteers as we went, which slowed everything down at first.")]


@pytest.fixture(scope="module")
def story(make_module_server: Any) -> Any:
    server = make_module_server(open_rooms=False)
    event = create_event(server, title="Sharing your practice", template="story-of-change", rooms=2)
    writer = event.join(None)

    async def run() -> None:
        async with AsyncExitStack() as stack:
            rooms = event.breakouts
            fac = await stack.enter_async_context(board_client(event, rooms[0], event.facilitator, "facilitator"))
            one: BoardClient = await stack.enter_async_context(
                board_client(event, rooms[0], writer.token, writer.subject)
            )
            two: BoardClient = await stack.enter_async_context(
                board_client(event, rooms[1], writer.token, writer.subject)
            )
            for label, notes in (("Explore Your Universe", EXPLORE), ("Library pop-up", LIBRARY)):
                clusters = {}
                for section, text in notes:
                    note = await one.add_note(text, section=section, scope="event")
                    await settle(one)
                    if section not in clusters:
                        clusters[section] = await fac.add_cluster(section, label)
                        await settle(fac)
                    await fac.set_note(note, cluster=clusters[section])
                    await settle(fac)
            for section, text in ROOM2:
                await two.add_note(text, section=section, scope="event")
                await settle(two)

    asyncio.run(run())
    return event


def export(event: Any, fmt: str) -> bytes:
    status, _, body = fetch(event.server, f"/api/events/{event.id}/export?format={fmt}", event.facilitator)
    assert status == 200, body
    return body


def test_each_story_is_told_beginning_middle_end_with_what_went_wrong_kept(story: Any) -> None:
    document = json.loads(export(story, "json"))
    stories = {s["title"]: s for s in document["stories"]["stories"]}
    assert list(stories) == ["Explore Your Universe", "Library pop-up", "Room 2"]
    explore = stories["Explore Your Universe"]
    parts = [(p["section"], [n["text"] for n in p["notes"]]) for p in explore["parts"]]
    assert [section for section, _ in parts] == [
        "beginning",
        "middle",
        "end",
        "what-went-well",
        "what-could-have-gone-better",
    ]
    assert dict(parts)["what-could-have-gone-better"] == [EXPLORE[3][1]]
    library = {p["section"]: p["notes"] for p in stories["Library pop-up"]["parts"]}
    assert library["middle"] == [] and library["what-could-have-gone-better"] == []  # kept, empty, in the story
    # The story's sections are told as stories, not repeated as themes; the credits section stays a theme.
    assert [s["id"] for s in document["sections"]] == ["who-should-be-credited"]


def test_the_markdown_reads_as_a_narrative(story: Any) -> None:
    lines = export(story, "md").decode().splitlines()
    start = lines.index("### Explore Your Universe")
    told = lines[start : lines.index("### Library pop-up")]
    headings = [line for line in told if line.startswith("#### ")]
    assert headings == [
        "#### Beginning",
        "#### Middle",
        "#### End",
        "#### What went well?",
        "#### What could have gone better?",
    ]
    for _, text in EXPLORE:
        assert inline(text) in told
    library = lines[lines.index("### Library pop-up") :]
    assert "*Nothing was written here.*" in library  # what could have gone better, not quietly dropped


def test_the_deck_has_a_slide_per_story(story: Any) -> None:
    from io import BytesIO

    from pptx import Presentation

    titles = [s.shapes.title.text for s in Presentation(BytesIO(export(story, "pptx"))).slides]
    assert titles[1:4] == ["Explore Your Universe", "Library pop-up", "Room 2"]
    assert titles[-1] == "What next?"
