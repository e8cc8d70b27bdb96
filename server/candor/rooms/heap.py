"""Gives the memory of evicted rooms back to the operating system.

A board's Yjs document lives in many small native allocations. When its room
is evicted they are freed, but glibc keeps freed heap pages for later, so the
process stays as large as it was at its busiest: after 100 documents of 6,000
updates each were freed, 56 of their 82 MB were still resident; after
``malloc_trim`` 9 MB were. A server that hosts one workshop after another
would otherwise never shrink back between them.

Evictions come in bursts (a session ends, its rooms go idle together), so one
trim follows a burst after a short delay. It runs on a worker thread (ctypes
releases the GIL) and takes a few milliseconds. Where the C library has no
``malloc_trim`` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("candor.heap")

TRIM_DELAY_S = 5.0


def _libc_function(name: str) -> Any:
    """A function of the C library, or None where it has none by that name (musl, macOS)."""
    library = ctypes.util.find_library("c")
    return None if library is None else getattr(ctypes.CDLL(library), name, None)


def _malloc_trim() -> Callable[[int], int] | None:
    trim = _libc_function("malloc_trim")
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (field, ctypes.c_size_t)
        for field in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


@dataclass(frozen=True)
class HeapUsage:
    """What the C allocator holds: handed out (Yjs documents, SQLite's caches, large Python objects) and kept free."""

    in_use_bytes: int
    free_bytes: int


def _heap_reader() -> Callable[[], HeapUsage] | None:
    mallinfo2 = _libc_function("mallinfo2")  # glibc 2.33 and later
    if mallinfo2 is None:
        return None
    mallinfo2.argtypes = []
    mallinfo2.restype = _MallInfo2

    def read() -> HeapUsage:
        info = mallinfo2()
        # Blocks in arenas plus those mmap'd on their own; free chunks the arenas keep for later.
        return HeapUsage(info.uordblks + info.hblkhd, info.fordblks)

    return read


heap_usage = _heap_reader()
"""This process's C heap right now; None where the C library cannot say (not glibc)."""


def resident_mb() -> float:
    """This process's resident memory in MB (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class HeapTrimmer:
    """Call :meth:`room_freed` whenever a room has stopped; a trim follows each burst of them.

    The trims are made by :meth:`run`, a task of the registry's task group.
    """

    def __init__(self, on_trimmed: Callable[[], object] | None = None, delay_s: float = TRIM_DELAY_S) -> None:
        self.delay_s = delay_s
        self._on_trimmed = on_trimmed
        self._trim = _malloc_trim()
        self._freed = asyncio.Event()

    def room_freed(self) -> None:
        self._freed.set()

    async def run(self) -> None:
        """Trim ``delay_s`` after the first room of each burst was freed, until cancelled."""
        if self._trim is None:
            return
        while True:
            await self._freed.wait()
            await asyncio.sleep(self.delay_s)
            self._freed.clear()  # rooms freed from now on call for the next trim
            before = resident_mb()
            await asyncio.get_running_loop().run_in_executor(None, self._trim, 0)
            after = resident_mb()
            if self._on_trimmed is not None:
                self._on_trimmed()
            logger.info("freed memory returned to the system: resident %.0f -> %.0f MB", before, after)
