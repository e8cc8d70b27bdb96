"""SQLite (WAL) event log with group commit.

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
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import mmap
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from candor.errors import CandorError, LogConflict, LogUnavailable
from candor.ids import RoomId, Seq
from candor.log.base import Entry, LogRecord, SnapshotRecord, UpdateRewrite, numbered
from candor.log.codec import decode_record, encode_record

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


def _is_busy(error: Exception) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, extended codes included)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database without holding up writers; hold them up when the WAL grew too long."""
    with contextlib.suppress(sqlite3.Error):  # best effort: the next one catches up
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= WAL_RESTART_FRAMES:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")


def _attempt(conn: sqlite3.Connection, job: WriteJob) -> tuple[Any, CandorError | None]:
    """Run one job: its result, or the error it alone fails with (a conflict); anything else fails the batch."""
    try:
        return job(conn), None
    except sqlite3.IntegrityError as exc:
        return None, LogConflict(f"record already stored: {exc}")
    except CandorError as exc:
        return None, exc


def _last_record(conn: sqlite3.Connection, room: RoomId) -> tuple[int, int]:
    """(seq, time_ms) of the room's last record; (0, 0) when it has none."""
    row = conn.execute("SELECT seq, time_ms FROM log WHERE room = ? ORDER BY seq DESC LIMIT 1", (room,)).fetchone()
    return (row[0], row[1]) if row is not None else (0, 0)


def _time_of(conn: sqlite3.Connection, room: RoomId, seq: int) -> int:
    row = conn.execute("SELECT time_ms FROM log WHERE room = ? AND seq = ?", (room, seq)).fetchone()
    if row is None:
        raise LogUnavailable(f"room {room} has no record {seq} below its head")
    return int(row[0])


def _file_holds(path: Path, needles: Sequence[bytes]) -> bool:
    """Whether any of ``needles`` occurs in the file at ``path``."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return any(data.find(needle) >= 0 for needle in needles)


def _resolve_failed(batch: Sequence[tuple[WriteJob, _AnyFuture]], failure: Exception) -> None:
    error = LogUnavailable(f"the event log could not commit: {failure}")
    error.__cause__ = failure
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


class SqliteLog:
    """The embedded default backend: one file, WAL mode, one write (and with ``machine`` one fsync) per group commit."""

    def __init__(self, path: Path, durability: str = DURABILITY_PROCESS) -> None:
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)}, not {durability!r}")
        self.path = path
        self.durability = durability
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _connect(path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            conn.close()
        except sqlite3.Error as exc:
            raise LogUnavailable(f"cannot open the event log at {path.name}: {exc}") from exc
        self._jobs: queue.SimpleQueue[tuple[WriteJob, ThreadFuture[Any]] | str | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="candor-log-writer", daemon=True)
        self._writer.start()
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="candor-log-reader")
        self._local = threading.local()
        self._closed = False
        self.commits = 0
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

    def _commit(self, conn: sqlite3.Connection, batch: Sequence[tuple[WriteJob, _AnyFuture]]) -> Exception | None:
        """Write ``batch`` in one transaction and resolve its futures; the error if it could not commit.

        Any error, SQLite's or a bug in a job: the batch fails as a whole and the
        caller (the writer thread, the loop) lives on to commit the next one.
        """
        outcomes: list[tuple[_AnyFuture, Any, CandorError | None]] = []
        # A savepoint per job lets one job fail alone; a lone job (most commits) needs none.
        nested = len(batch) > 1
        try:
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
            if nested or outcomes[0][2] is None:
                conn.execute("COMMIT")
                self.commits += 1
            else:
                conn.execute("ROLLBACK")
        except Exception as exc:
            self._heads.clear()  # heads the batch wrote are not in the log after all
            if conn.in_transaction:
                # SQLite may have rolled back already (a full disk); the writer must live on regardless.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            return exc
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
            try:
                return fn(self._reader())
            except sqlite3.Error as exc:
                raise LogUnavailable(f"the event log could not be read: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    # -- EventLog ------------------------------------------------------------

    async def append(self, room: RoomId, entries: Sequence[Entry], expect_head: Seq | None = None) -> list[LogRecord]:
        def insert(conn: sqlite3.Connection, head: int, clock: int) -> list[LogRecord]:
            records = numbered(room, entries, head, clock)
            conn.executemany(
                "INSERT INTO log (room, seq, time_ms, record) VALUES (?, ?, ?, ?)",
                [(r.room, r.seq, r.time_ms, encode_record(r)) for r in records],
            )
            if records:
                self._heads[room] = (records[-1].seq, records[-1].time_ms)
            return records

        def job(conn: sqlite3.Connection) -> list[LogRecord]:
            # A conditional append (a room's first records) asks the file itself, never the cache.
            known = self._heads.get(room) if expect_head is None else None
            if known is not None:
                try:
                    return insert(conn, *known)
                except sqlite3.IntegrityError:
                    # Another process appended to the room since. Seqs have no gaps, so the first
                    # record was the one refused and nothing of this append is stored yet.
                    del self._heads[room]
            head, clock = _last_record(conn, room)
            if expect_head is not None and head != expect_head:
                raise LogConflict(f"room {room} is at seq {head}, not {expect_head}")
            return insert(conn, head, clock)

        if not entries and expect_head is None:
            return []
        records: list[LogRecord] = await self._write(job, inline=True)
        return records

    async def head(self, room: RoomId) -> Seq:
        return await self._read(lambda conn: Seq(_last_record(conn, room)[0]))

    async def read(self, room: RoomId, after: Seq, upto: Seq | None = None) -> list[LogRecord]:
        limit = upto if upto is not None else 2**62

        def q(conn: sqlite3.Connection) -> list[LogRecord]:
            cur = conn.execute(
                "SELECT record FROM log WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (room, after, limit),
            )
            return [decode_record(row[0]) for row in cur]

        return await self._read(q)

    async def seq_at_time(self, room: RoomId, time_ms: int) -> Seq:
        def q(conn: sqlite3.Connection) -> Seq:
            head, _ = _last_record(conn, room)
            # Records 1..head in order of time (they never go backwards): how many are not after it.
            return Seq(bisect.bisect_right(range(1, head + 1), time_ms, key=lambda seq: _time_of(conn, room, seq)))

        return await self._read(q)

    async def write_snapshot(self, snapshot: SnapshotRecord) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO snapshots (room, seq, time_ms, state) VALUES (?, ?, ?, ?)",
                (snapshot.room, snapshot.seq, snapshot.time_ms, snapshot.state),
            )

        await self._write(job, inline=True)

    async def latest_snapshot(self, room: RoomId, at_or_before: Seq | None = None) -> SnapshotRecord | None:
        limit = at_or_before if at_or_before is not None else 2**62

        def q(conn: sqlite3.Connection) -> SnapshotRecord | None:
            row = conn.execute(
                "SELECT seq, time_ms, state FROM snapshots WHERE room = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
                (room, limit),
            ).fetchone()
            if row is None:
                return None
            return SnapshotRecord(room, Seq(row[0]), row[1], row[2])

        return await self._read(q)

    async def redact(self, rooms: Sequence[RoomId], rewrite: UpdateRewrite, forget: Collection[bytes] = ()) -> int:
        if not rooms:
            return 0
        marks = ",".join("?" * len(rooms))

        def job(conn: sqlite3.Connection) -> int:
            # Freed and overwritten pages are zeroed, not left behind in the file.
            conn.execute("PRAGMA secure_delete = ON")
            changed = 0
            rows = conn.execute(f"SELECT record FROM log WHERE room IN ({marks})", tuple(rooms)).fetchall()
            for (blob,) in rows:
                record = decode_record(blob)
                update = rewrite(record.update)
                if update != record.update:
                    scrubbed = encode_record(LogRecord(record.room, record.seq, record.time_ms, record.origin, update))
                    conn.execute(
                        "UPDATE log SET record = ? WHERE room = ? AND seq = ?", (scrubbed, record.room, record.seq)
                    )
                    changed += 1
            snapshots = conn.execute(f"SELECT room, seq, state FROM snapshots WHERE room IN ({marks})", tuple(rooms))
            for room, seq, state in snapshots.fetchall():
                scrubbed = rewrite(state)
                if scrubbed != state:
                    conn.execute("UPDATE snapshots SET state = ? WHERE room = ? AND seq = ?", (scrubbed, room, seq))
                    changed += 1
            return changed

        changed: int = await self._write(job)
        await self._checkpoint()
        # An interior page of the b-tree may keep a whole row it was rewritten out of as a divider: when
        # what was removed is still found in the file, it is rebuilt (other rooms' writes wait meanwhile).
        needles = list(forget)
        stray: bool = bool(needles) and await self._read(lambda _: _file_holds(self.path, needles))
        if stray:
            await self._read(lambda conn: conn.execute("VACUUM"))
            await self._checkpoint()
        return changed

    async def erase_rooms(self, rooms: Sequence[RoomId]) -> int:
        """Delete the rooms' rows with secure_delete on, then empty the WAL (see ``RoomEraser``)."""
        if not rooms:
            return 0
        marks = ",".join("?" * len(rooms))

        def job(conn: sqlite3.Connection) -> int:
            # Freed pages and cells are zeroed, not left behind in the file.
            conn.execute("PRAGMA secure_delete = ON")
            held = conn.execute(f"SELECT COUNT(DISTINCT room) FROM log WHERE room IN ({marks})", tuple(rooms))
            count = int(held.fetchone()[0])
            for table in ("log", "snapshots", "purged_notes"):
                conn.execute(f"DELETE FROM {table} WHERE room IN ({marks})", tuple(rooms))
            for room in rooms:
                self._heads.pop(room, None)
            return count

        erased: int = await self._write(job)
        await self._checkpoint()
        # Deleted rows are zeroed, but an interior page of the b-tree may keep a deleted key (the whole
        # row, in a WITHOUT ROWID table) as the divider between two of its children. Every key starts with
        # its room's name, so a name found nowhere in the file means no such copy is left; otherwise the
        # file is rebuilt (other rooms' writes wait meanwhile, for as long as that takes).
        if await self._read(lambda _: _file_holds(self.path, [room.encode() for room in rooms])):
            await self._read(lambda conn: conn.execute("VACUUM"))
            await self._checkpoint()
        return erased

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it, so no old page survives in the journal."""

        def run(conn: sqlite3.Connection) -> bool:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return bool(busy)

        for _ in range(50):  # other rooms keep writing: retry until the WAL could be emptied
            if not await self._read(run):
                return
            await asyncio.sleep(0.05)
        raise LogUnavailable("the journal could not be emptied; try the purge again")

    async def mark_purged(self, room: RoomId, note_ids: Sequence[str], time_ms: int) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR IGNORE INTO purged_notes (room, note_id, purged_ms) VALUES (?, ?, ?)",
                [(room, note_id, time_ms) for note_id in note_ids],
            )

        await self._write(job)

    async def purged_notes(self, room: RoomId) -> dict[str, int]:
        def q(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT note_id, purged_ms FROM purged_notes WHERE room = ?", (room,))
            return {row[0]: row[1] for row in rows}

        return await self._read(q)

    async def rooms(self) -> list[RoomId]:
        def q(conn: sqlite3.Connection) -> list[RoomId]:
            return [RoomId(r[0]) for r in conn.execute("SELECT DISTINCT room FROM log ORDER BY room")]

        return await self._read(q)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        self._readers.shutdown(wait=True)
        if self._loop_conn is not None:
            self._loop_conn.close()
