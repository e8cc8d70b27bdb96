#!/usr/bin/env python3
"""How much memory the boards of a data directory take once loaded, as the server holds them.

  .venv/bin/python loadtests/board_memory.py DATA_DIR            # every room in DATA_DIR/candor.sqlite3
  .venv/bin/python loadtests/board_memory.py DATA_DIR --rooms 10

Loads every room's board the way a room loads (latest snapshot, then the log
after it) and keeps them all, in this process, measuring the native heap in use
before and after (glibc's ``mallinfo2``; ``/metrics`` does not report it, as
reading it walks the whole heap). A Yjs document lives in native memory and keeps
a record of every item it ever held, so this tells what a server holding these
rooms needs for the documents alone; set beside a run's RSS, it shows
whether anything else grew. Prints one line; reads the log, writes nothing.

Copy a live server's log first (``sqlite3 candor.sqlite3 ".backup copy.sqlite3"``)
rather than reading it while it is written, and pass the copy's directory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

from candor.history.rebuild import rebuild
from candor.log.sqlite import SqliteLog
from candor.rooms.heap import heap_usage

MIB = 2**20


async def measure(data: Path, limit: int | None) -> dict[str, Any]:
    if heap_usage is None:
        raise SystemExit("this C library does not report its heap (glibc 2.33 or later does)")
    log = SqliteLog(data / "candor.sqlite3")
    try:
        rooms = (await log.rooms())[:limit]
        gc.collect()
        before = heap_usage().in_use_bytes
        boards = []
        records = 0
        for room in rooms:
            board = await rebuild(log, room, await log.head(room))
            records += board.seq
            boards.append(board.doc)
        gc.collect()
        in_use = heap_usage().in_use_bytes - before
        encoded = sum(len(doc.get_update()) for doc in boards)
    finally:
        await log.close()
    return {"rooms": len(rooms), "records": records, "in_use_bytes": in_use, "encoded_bytes": encoded}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="a data directory (holding candor.sqlite3)")
    p.add_argument("--rooms", type=int, help="only the first N rooms")
    args = p.parse_args(argv)
    if not (args.data / "candor.sqlite3").is_file():
        print(f"no candor.sqlite3 in {args.data}", file=sys.stderr)
        return 2
    m = asyncio.run(measure(args.data, args.rooms))
    rooms, records = max(m["rooms"], 1), max(m["records"], 1)
    print(
        f"{m['rooms']} boards, {m['records']:,} log records: native heap in use {m['in_use_bytes'] / MIB:.1f} MB"
        f" ({m['in_use_bytes'] / rooms / MIB:.2f} MB per board, {m['in_use_bytes'] / records:.0f} B per record);"
        f" encoded state {m['encoded_bytes'] / MIB:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
