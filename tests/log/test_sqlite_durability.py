"""``candor serve --durability``: how far an accepted update is safe before it is broadcast."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from candor.cli import build_parser, settings_from_args
from candor.errors import LogUnavailable
from candor.ids import PeerId, RoomId
from candor.log.base import Entry
from candor.log.sqlite import DURABILITY_MACHINE, DURABILITY_PROCESS, SqliteLog


def test_an_unknown_durability_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability must be one of process, machine"):
        SqliteLog(tmp_path / "log.sqlite3", "sometimes")
    assert not (tmp_path / "log.sqlite3").exists()


@pytest.mark.parametrize(
    ("flag", "expected"), [([], DURABILITY_PROCESS), (["--durability", "machine"], DURABILITY_MACHINE)]
)
def test_serve_takes_the_durability_to_the_settings(flag: list[str], expected: str) -> None:
    args = build_parser().parse_args(["serve", *flag])
    assert settings_from_args(args).durability == expected


def test_serve_refuses_a_durability_it_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--durability", "never"])
    assert "invalid choice: 'never'" in capsys.readouterr().err


async def test_commits_on_the_loop_keep_the_journal_bounded(tmp_path: Path) -> None:
    """With ``process`` appends commit on the event loop, which never checkpoints; the writer thread does.

    Without those checkpoints the WAL file would grow by every commit, forever.
    """
    log = SqliteLog(tmp_path / "log.sqlite3", DURABILITY_PROCESS)
    try:
        for i in range(3000):
            await log.append(RoomId(f"room-{i % 7}"), [Entry(i, PeerId("p-1"), bytes(300))])
            if i % 100 == 99:
                await asyncio.sleep(0.005)  # a busy server's loop still has moments between bursts
        wal = tmp_path / "log.sqlite3-wal"
        assert wal.stat().st_size < 16 * 1024 * 1024, f"the WAL grew to {wal.stat().st_size} bytes"
        assert await log.head(RoomId("room-0")) == 429
    finally:
        await log.close()


@pytest.mark.parametrize("durability", [DURABILITY_PROCESS, DURABILITY_MACHINE])
async def test_a_write_that_fails_unexpectedly_fails_its_caller_and_the_log_goes_on(
    tmp_path: Path, durability: str
) -> None:
    """A bug in a job fails its batch, on the loop or on the writer thread, and the next write goes through."""
    log = SqliteLog(tmp_path / "log.sqlite3", durability)
    try:
        unencodable = Entry(object(), PeerId("p-1"), b"\x00\x00")  # type: ignore[arg-type]
        with pytest.raises(LogUnavailable, match="could not commit"):
            await asyncio.wait_for(log.append(RoomId("room"), [unencodable]), 5)
        appended = await log.append(RoomId("room"), [Entry(1, PeerId("p-1"), b"\x00\x00")])
        assert [record.seq for record in appended] == [1]
    finally:
        await log.close()
