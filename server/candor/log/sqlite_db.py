"""One SQLite (WAL) file shared by the log, its snapshots and redaction: group commit, reads off the loop.

Appends from every room are queued and written together in a single
transaction, and then each caller's future is resolved: a burst of updates
shares one commit. Each append runs in its own savepoint, so a conflicting
append fails alone.

Where the commit runs depends on the durability. With ``process`` (no fsync:
a commit is a write into the WAL file, page cache speed) appends and snapshots
are committed on the event loop itself: no hop to a thread and back, and no
wait for the GIL on every statement. An append after a quiet millisecond
commits at once; in a busier moment it waits for the end of the loop turn and
shares one commit with the others queued in it.
A locked database does not stall the loop: the batch is retried a little later,
up to the same busy timeout. Checkpoints (which fsync) run on the writer thread.
With ``machine`` every commit is fsync'd, so every write goes to the writer
thread; purges and other long writes always do.

SQLite's errors become Candor's in one place, :func:`translated`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from candor.errors import CandorError, LogConflict, LogUnavailable
from candor.ids import RoomId

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
-- Times never go backwards within a room (see candor.log.base.numbered): a search by time bisects
-- the primary key. A second index on (room, time_ms) doubled the cost of every commit.
DROP INDEX IF EXISTS log_time;
CREATE TABLE IF NOT EXISTS purged_notes (
    room TEXT NOT NULL,
    note_id TEXT NOT NULL,
    purged_ms INTEGER NOT NULL,
    PRIMARY KEY (room, note_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
"""

MAX_BATCH = 512
BUSY_TIMEOUT_MS = 5000
# How long an inline commit waits before trying a locked database again (a restart checkpoint
# holds it for a few ms; trying costs next to nothing).
BUSY_RETRY_S = 0.002
# An inline append commits at once when the loop has not committed for this long, and otherwise
# waits for the end of the loop turn to share one commit with every append queued in it: a lone
# update is not held up by a turn of the loop, and a burst still pays for one commit, not one each.
GROUP_WINDOW_S = 0.001
# Inline commits between two checkpoints on the writer thread (SQLite's own default is ~1000 pages).
CHECKPOINT_EVERY = 200
CHECKPOINT = "checkpoint"  # a writer-thread job of its own: no transaction around it
# A passive checkpoint never waits for the loop's commits, but the WAL file only starts over once
# one has caught up with all of them; past this many frames (8 MiB) the next one makes them wait.
WAL_RESTART_FRAMES = 2048

WriteJob = Callable[[sqlite3.Connection], Any]
_AnyFuture = ThreadFuture[Any] | asyncio.Future[Any]


# How far an accepted update is safe before it is broadcast (``candor serve --durability``).
DURABILITY_PROCESS = "process"  # in the WAL file: survives the server crashing or being killed
DURABILITY_MACHINE = "machine"  # fsync'd by each group commit: also survives an OS crash or power loss
DURABILITY = (DURABILITY_PROCESS, DURABILITY_MACHINE)


def _connect(path: Path, durability: str = DURABILITY_PROCESS) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL writes each commit to the WAL file and syncs only at checkpoints.
    conn.execute("PRAGMA synchronous = " + ("FULL" if durability == DURABILITY_MACHINE else "NORMAL"))
    return conn


@contextlib.contextmanager
def translated(doing: str) -> Iterator[None]:
    """The one place SQLite's errors become Candor's: a key stored twice is a conflict, the rest unavailability."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise LogConflict(f"record already stored: {exc}") from exc
    except sqlite3.Error as exc:
        raise LogUnavailable(f"the event log could not {doing}: {exc}") from exc


def _is_busy(error: Exception) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, extended codes included)."""
    code = getattr(error.__cause__, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database without holding up writers; hold them up when the WAL grew too long."""
    with contextlib.suppress(sqlite3.Error):  # best effort: the next one catches up
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= WAL_RESTART_FRAMES:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")


def _attempt(conn: sqlite3.Connection, job: WriteJob) -> tuple[Any, CandorError | None]:
    """Run one job: its result, or the error it alone fails with (a conflict); a driver failure fails the batch."""
    try:
        with translated("write"):
            return job(conn), None
    except LogUnavailable:
        raise
    except CandorError as exc:
        return None, exc


def _resolve_failed(batch: Sequence[tuple[WriteJob, _AnyFuture]], error: CandorError) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


class SqliteDatabase:
    """The file, its writer thread, the loop's own connection and the readers; the backend's parts build on it."""

    def __init__(self, path: Path, durability: str = DURABILITY_PROCESS) -> None:
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)}, not {durability!r}")
        self.path = path
        self.durability = durability
        path.parent.mkdir(parents=True, exist_ok=True)
        with translated(f"open {path.name}"):
            conn = _connect(path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            conn.close()
        self._jobs: queue.SimpleQueue[tuple[WriteJob, ThreadFuture[Any]] | str | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="candor-log-writer", daemon=True)
        self._writer.start()
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="candor-log-reader")
        self._local = threading.local()
        self._closed = False
        # Inline group commit (process durability): the loop's own connection and what it has queued.
        self._loop_conn: sqlite3.Connection | None = None
        self._queued: list[tuple[WriteJob, asyncio.Future[Any]]] = []
        self._busy_since: float | None = None
        self._uncheckpointed = 0
        self._last_commit = 0.0  # perf_counter() when the loop last committed
        # Each room's last record (seq, time_ms) as written by this process, so an append needs no
        # query first. Set inside the transaction that writes it, forgotten when one fails.
        self._heads: dict[RoomId, tuple[int, int]] = {}

    # -- writer thread -------------------------------------------------------

    def _write_loop(self) -> None:
        conn = _connect(self.path, self.durability)
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                if not isinstance(first, tuple):  # CHECKPOINT
                    _checkpoint(conn)
                    continue
                batch: list[tuple[WriteJob, _AnyFuture]] = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(job, tuple):
                        self._jobs.put(job)  # the stop or a checkpoint: after this batch
                        break
                    batch.append(job)
                failure = self._commit(conn, batch)
                if failure is not None:
                    _resolve_failed(batch, failure)
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: Sequence[tuple[WriteJob, _AnyFuture]]) -> CandorError | None:
        """Write ``batch`` in one transaction and resolve its futures; the error if it could not commit.

        Any error, SQLite's or a bug in a job: the batch fails as a whole and the
        caller (the writer thread, the loop) lives on to commit the next one.
        """
        outcomes: list[tuple[_AnyFuture, Any, CandorError | None]] = []
        # A savepoint per job lets one job fail alone; a lone job (most commits) needs none.
        nested = len(batch) > 1
        try:
            with translated("commit"):
                conn.execute("BEGIN IMMEDIATE")
                for job, future in batch:
                    if nested:
                        conn.execute("SAVEPOINT job")
                    result, failure = _attempt(conn, job)
                    if nested:
                        if failure is not None:
                            conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                    outcomes.append((future, result, failure))
                conn.execute("COMMIT" if nested or outcomes[0][2] is None else "ROLLBACK")
        except Exception as exc:
            self._heads.clear()  # heads the batch wrote are not in the log after all
            if conn.in_transaction:
                # SQLite may have rolled back already (a full disk); the writer must live on regardless.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, CandorError):
                return exc
            bug = LogUnavailable(f"the event log could not commit: {exc}")  # a job that failed unexpectedly
            bug.__cause__ = exc
            return bug
        for future, result, failure in outcomes:
            if future.done():  # its caller gave up waiting (cancelled)
                continue
            if failure is None:
                future.set_result(result)
            else:
                future.set_exception(failure)
        return None

    async def _write(self, job: WriteJob, *, inline: bool = False) -> Any:
        """Commit ``job`` with others queued with it; ``inline`` (short writes) on the loop when durability allows."""
        if self._closed:
            raise LogUnavailable("the event log is closed")
        if inline and self.durability == DURABILITY_PROCESS:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[Any] = loop.create_future()
            self._queued.append((job, waiter))
            if len(self._queued) == 1 and self._busy_since is None:
                if time.perf_counter() - self._last_commit >= GROUP_WINDOW_S:
                    self._commit_queued()  # the log was quiet: commit now, no loop turn to wait for
                else:
                    loop.call_soon(self._commit_queued)  # busy: group with what else this turn appends
            return await waiter
        future: ThreadFuture[Any] = ThreadFuture()
        self._jobs.put((job, future))
        return await asyncio.wrap_future(future)

    def _commit_queued(self) -> None:
        """Commit everything queued this loop turn, on the loop (process durability: no fsync to wait for)."""
        self._last_commit = time.perf_counter()
        batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
        if self._loop_conn is None:
            self._loop_conn = _connect(self.path, self.durability)
            self._loop_conn.execute("PRAGMA busy_timeout = 0")  # never block the loop on a lock: retry instead
            self._loop_conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints fsync: the writer thread's job
        failure = self._commit(self._loop_conn, batch)
        loop = asyncio.get_running_loop()
        if failure is not None and _is_busy(failure):
            now = time.monotonic()
            self._busy_since = self._busy_since or now
            if now - self._busy_since < BUSY_TIMEOUT_MS / 1000:
                self._queued[:0] = batch  # first in line again, in the same order
                loop.call_later(BUSY_RETRY_S, self._commit_queued)
                return
        self._busy_since = None
        if self._queued:
            loop.call_soon(self._commit_queued)
        if failure is not None:
            _resolve_failed(batch, failure)
            return
        self._uncheckpointed += 1
        if self._uncheckpointed >= CHECKPOINT_EVERY:
            self._uncheckpointed = 0
            self._jobs.put(CHECKPOINT)

    # -- reads ---------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise LogUnavailable("the event log is closed")

        def run() -> T:
            with translated("be read"):
                return fn(self._reader())

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    async def _empty_wal(self) -> None:
        """Copy the WAL into the database file and empty it, so no old page survives in the journal."""

        def run(conn: sqlite3.Connection) -> bool:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return bool(busy)

        for _ in range(50):  # other rooms keep writing: retry until the WAL could be emptied
            if not await self._read(run):
                return
            await asyncio.sleep(0.05)
        raise LogUnavailable("the journal could not be emptied; try the purge again")

    async def close(self) -> None:
        """Finish pending writes and release the file (idempotent); later calls raise LogUnavailable."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        self._readers.shutdown(wait=True)
        if self._loop_conn is not None:
            self._loop_conn.close()
