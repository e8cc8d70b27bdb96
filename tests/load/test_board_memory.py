"""loadtests/board_memory.py loads a data directory's boards and reports the native memory they take."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map

from candor.ids import PeerId, RoomId
from candor.log.base import Entry
from candor.log.sqlite import SqliteLog

SCRIPT = Path(__file__).resolve().parents[2] / "loadtests" / "board_memory.py"
LINE = re.compile(
    r"^(?P<rooms>\d+) boards, (?P<records>[\d,]+) log records: native heap in use (?P<mb>[\d.]+) MB "
    r"\([\d.]+ MB per board, \d+ B per record\); encoded state [\d.]+ MB$"
)


def board_updates(room: int, notes: int) -> list[bytes]:
    """One board's updates as a client sends them: one per note added."""
    doc: Doc[Any] = Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    doc["notes"] = board = Map()
    for n in range(notes):
        board[f"n{n}"] = Map({"text": f"note {n} in room {room}", "x": n, "y": n})
    return updates


async def write_log(path: Path, boards: list[list[bytes]]) -> None:
    log = SqliteLog(path)
    try:
        for room, updates in enumerate(boards):
            await log.append(RoomId(f"room-{room}"), [Entry(n, PeerId("p-1"), u) for n, u in enumerate(updates)])
    finally:
        await log.close()


def test_the_boards_of_a_data_directory_are_measured(tmp_path: Path) -> None:
    asyncio.run(write_log(tmp_path / "candor.sqlite3", [board_updates(room, 2000) for room in range(3)]))
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    match = LINE.match(result.stdout.strip())
    assert match is not None, result.stdout
    assert (match["rooms"], match["records"]) == ("3", "6,000")
    assert float(match["mb"]) > 3  # 6,000 notes of three fields each, as live Yjs items


def test_a_directory_without_a_log_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no candor.sqlite3" in result.stderr
