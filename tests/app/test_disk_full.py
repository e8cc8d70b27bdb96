"""A full disk closes writers with 1013 and a clear reason; nothing is half-written, and the room recovers."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from candor.errors import WS_1013_TRY_AGAIN_LATER
from yclient import yclient

DISK_BYTES = 4 * 1024 * 1024
BIG_TEXT = "x" * 400_000  # needs new pages in the log, whatever the WAL file holds already


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own (mounting needs root, as on CI's machines); unmounted at the end."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; the file, to delete for room again."""
    filler = disk / "filler"
    # Unbuffered: a buffered file would try again to write what did not fit when it is closed.
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


async def test_a_full_disk_closes_writers_with_1013_and_the_room_recovers_once_there_is_room(
    make_server: Any, small_disk: Path
) -> None:
    server = make_server(data_dir=small_disk / "data")
    url = server.ws_url("full")
    async with yclient(url) as writer, yclient(url) as witness:
        await writer.edit(before="full")
        await witness.wait_for(lambda: witness.confirmed_notes() == {"before": "full"})
        filler = fill(small_disk)
        await writer.edit(big=BIG_TEXT)
        code, reason = await writer.closed_by_server(within_s=15)
        assert code == WS_1013_TRY_AGAIN_LATER
        assert "log" in reason and "full" in reason, reason
        witness_code, _ = await witness.closed_by_server(within_s=15)
        assert witness_code == WS_1013_TRY_AGAIN_LATER  # it must not go on with a board the log does not hold
    assert server.get("/healthz")["status"] == "ok"  # the server itself carries on
    async with yclient(url) as reader:  # what was logged is all there, and nothing of the refused update
        assert reader.confirmed_notes() == {"before": "full"}
    filler.unlink()
    async with yclient(url) as again:
        await again.edit(after="room again")
        await again.wait_for(lambda: again.confirmed_notes() == {"before": "full", "after": "room again"})
