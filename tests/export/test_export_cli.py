"""`candor export`: reads the data directory directly, writes the file, shows its progress, and fails clearly."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pptx import Presentation
from pycrdt import Doc, Map

from candor.board.initial import initial_board
from candor.board.templates import builtin_templates, template_to_json
from candor.ids import PeerId, RoomId
from candor.log.base import Entry
from candor.log.sqlite import SqliteLog
from workshop import IDEAS, Workshop, fetch, run_workshop

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "export.schema.json").read_text())


@pytest.fixture(scope="module")
def shop(make_module_server: Any) -> Workshop:
    return asyncio.run(run_workshop(make_module_server(open_rooms=False)))


def candor_export(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "candor", "export", *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def without_export_time(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if "Exported" not in line]


def test_cli_exports_a_room_as_the_api_does(shop: Workshop, tmp_path: Path) -> None:
    out = tmp_path / "room.md"
    done = candor_export(
        shop.event.server.data_dir, shop.room1, "--format", "md", "--at", str(shop.midpoint), "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    _, _, api = fetch(
        shop.event.server, f"/api/rooms/{shop.room1}/export?format=md&at={shop.midpoint}", shop.event.facilitator
    )
    assert without_export_time(out.read_text()) == without_export_time(api.decode())
    assert f"rebuilding Room 1 [{'#' * 30}] {shop.midpoint}/{shop.midpoint} records" in done.stderr
    assert f"wrote {out}" in done.stderr


def test_cli_exports_an_event_to_pptx_and_json(shop: Workshop, tmp_path: Path) -> None:
    data = shop.event.server.data_dir
    deck = tmp_path / "event.pptx"
    done = candor_export(data, shop.event.id, "--format", "pptx", "-o", str(deck))
    assert done.returncode == 0, done.stderr
    titles = [slide.shapes.title.text for slide in Presentation(io.BytesIO(deck.read_bytes())).slides]
    assert titles[0] == "Engage unconference" and "Practical ideas for moving beyond hero stories" in titles
    assert "rebuilding Room 1" in done.stderr and "rebuilding Room 2" in done.stderr
    document = tmp_path / "event.json"
    done = candor_export(data, shop.event.id, "--format", "json", "--audience", "public", "-o", str(document))
    assert done.returncode == 0, done.stderr
    exported = json.loads(document.read_text())
    assert list(Draft202012Validator(SCHEMA).iter_errors(exported)) == []
    assert exported["kind"] == "event" and exported["audience"] == "public"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nobody-here", "--format", "md"], "no room or event 'nobody-here'"),
        (["{event}", "--format", "md", "--at", "5"], "ISO 8601"),
        (["{event}", "--format", "md", "--audience", "room"], "audience"),
        (["{room1}", "--format", "md", "--at", "soon"], "ISO 8601"),
        (["{room1}~u-someone", "--format", "md"], "drafts"),
    ],
)
def test_cli_refuses_what_it_cannot_export_with_a_reason(
    shop: Workshop, tmp_path: Path, args: list[str], words: str
) -> None:
    filled = [a.format(event=shop.event.id, room1=shop.room1) for a in args]
    done = candor_export(shop.event.server.data_dir, *filled, "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert words in done.stderr
    assert not (tmp_path / "out").exists()


def test_cli_exports_an_event_as_it_stood_at_the_end_of_a_phase(shop: Workshop, tmp_path: Path) -> None:
    out = tmp_path / "vote.md"
    done = candor_export(
        shop.event.server.data_dir, shop.event.id, "--format", "md", "--at", "end-of-cluster", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "as it stood at the end of clustering" in text
    assert "### Culture\n" in text and "vote" not in text  # clustered, and the vote had not begun


def test_cli_says_clearly_that_a_pdf_needs_libreoffice(shop: Workshop, tmp_path: Path) -> None:
    out = tmp_path / "deck.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "candor", "export", shop.event.id, "--format", "pdf", "-o", str(out),
         "--data", str(shop.event.server.data_dir)],
        capture_output=True, text=True, timeout=60, env={"PATH": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "needs LibreOffice" in done.stderr and "pptx" in done.stderr
    assert not out.exists()


def test_cli_needs_an_event_log(tmp_path: Path) -> None:
    done = candor_export(tmp_path / "empty", "room", "--format", "md", "-o", str(tmp_path / "out.md"))
    assert done.returncode == 2 and "no event log" in done.stderr


def _long_log(data: Path, room: str, updates: int) -> None:
    """A board room with ``updates`` note edits after its template, written straight to the log, no snapshot."""

    async def write() -> None:
        log = SqliteLog(data / "candor.sqlite3")
        template = template_to_json(builtin_templates()["beyond-hero-stories"])
        doc: Doc[Any] = Doc()
        first = initial_board(template, event_id="none", kind="breakout")
        doc.apply_update(first)
        entries = [Entry(int(time.time() * 1000), PeerId("server"), first)]
        notes = doc.get("notes", type=Map)
        for n in range(updates):
            before = doc.get_state()
            with doc.transaction():
                if n % 10 == 0:
                    notes[f"n{n}"] = Map({"section": IDEAS, "text": f"idea {n}", "scope": "public", "author": "u-x"})
                else:
                    notes[f"n{n - n % 10}"]["text"] = f"idea {n - n % 10}, edited {n % 10} times"
            entries.append(Entry(int(time.time() * 1000), PeerId("p-writer"), doc.get_update(before)))
        await log.append(RoomId(room), entries)
        await log.close()

    asyncio.run(write())


def test_cli_shows_progress_while_it_replays_a_long_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _long_log(data, "long-room", 2_499)
    out = tmp_path / "long.md"
    done = candor_export(data, "long-room", "--format", "md", "-o", str(out))
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("rebuilding")]
    assert [line.split("] ")[1] for line in progress] == [
        "1000/2500 records",
        "2000/2500 records",
        "2500/2500 records",
    ]
    assert "idea 2490, edited 8 times" in out.read_text()
