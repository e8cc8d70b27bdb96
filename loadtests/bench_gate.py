#!/usr/bin/env python3
"""What the board gate costs: the same note workload with validation and roles off, then on.

Issue 3's acceptance: "delivered messages per second with validation and roles on
stays within 15% of the figures measured without them". Every measurement starts a
fresh Candor server pinned to CPU 0 (``taskset -c 0``) with a fresh data directory,
and runs the load generator (this file, ``--generate``) pinned to CPU 1, as the
shared harness (``../shared/bench``) does:

* **off**: ``candor serve --open-rooms``; free-form rooms outside any event, so no
  gate and no roles. Clients write the same board notes as below.
* **on**: ``candor serve``; an event from the ``blank`` template with R breakout
  rooms (section ``notes``), C participants per room who joined with the code
  (``POST /api/events/{id}/join``), each connected with its token (``?token=``) and
  writing notes as itself. Every update passes the gate (shape and role checks).

Every client connects, syncs (sends sync step 1, answers the server's step 1 with
step 2, is synced when the server's step 2 arrives), then writes open loop at
``rate`` notes per second: each update adds one note in one transaction, a nested
``Y.Map`` with the fields of schemas/board.md (``section``, ``text`` of 100
characters starting with the send time, ``colour``, ``x``, ``y``, ``author`` = the
participant's pseudonym, ``author_name``/``cluster`` null, ``scope`` room,
``created_ms``). Client 0 of every room also observes: it applies every broadcast
update to a pycrdt document and records, for each note that appears, arrival time
minus send time. Measured as in the harness's ``ywsbench.py``: delivered msg/s = sync
updates received by all clients per second in the window; server CPU = utime+stime
from ``/proc/PID/stat`` over the window; vCPU steal from ``/proc/stat``; errors =
failed connects, closes, permission-denied frames, protocol and send errors (must be 0);
lost notes = sent but never seen by their room's observer.

  .venv/bin/python loadtests/bench_gate.py                        # 3 scenarios x 3 repeats x off/on, ~15 min
  .venv/bin/python loadtests/bench_gate.py --repeats 1 --scenarios busy-room
  .venv/bin/python loadtests/bench_gate.py --report loadtests/reports/gate-*.jsonl

Results go to ``loadtests/reports/gate-<time>.jsonl`` (one JSON object per run, git-ignored),
server and generator logs to ``loadtests/reports/logs/``; the table is printed at the end.
Loopback only; every loop is bounded by time or count; only processes started here are
stopped, by PID; the data directories live in one temporary directory, removed at the end.
Needs Candor installed in ``.venv`` (websockets, pycrdt; uvloop is used when present).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchkit import fmt, load_jsonl, med, port_open, snapshot_code, tree_fingerprint, wait_for_quiet_machine
from pycrdt import Doc, Map
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from candor.protocol import SyncStep1, SyncStep2, SyncUpdate, encode_sync_step1, encode_sync_step2, encode_update
from candor.protocol.codec import PermissionDenied, decode_server_message
from candor.protocol.lib0 import write_any, write_text, write_uint
from candor.protocol.update import read_update

try:  # optional, faster event loop (uvicorn[standard] brings it)
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "loadtests" / "reports"
SRC = REPO / "server"
TOOL = "candor-bench-gate/1"

# rooms x clients per room, notes/s per client, measured window and warm-up (s)
SCENARIOS: dict[str, dict[str, Any]] = {
    "busy-room": {"rooms": 10, "clients": 30, "rate": 1.0, "duration": 30.0, "warmup": 5.0},
    "saturation-5": {"rooms": 20, "clients": 10, "rate": 5.0, "duration": 15.0, "warmup": 3.0},
    "saturation-10": {"rooms": 20, "clients": 10, "rate": 10.0, "duration": 15.0, "warmup": 3.0},
}
DEFAULT_SCENARIOS = tuple(SCENARIOS)
# a few seconds' check that everything works (not run unless named)
SCENARIOS["smoke"] = {"rooms": 2, "clients": 3, "rate": 2.0, "duration": 3.0, "warmup": 1.0}
MODES = ("off", "on")
TARGET_RATIO = 0.85  # delivered msg/s on / off: "within 15 %"
TEMPLATE = "blank"
SECTION = "notes"
TEXT_CHARS = 100
# the harness's definition of a quiet run (bench/report.py), plus other processes' CPU
QUIET_STEAL_PCT = 10.0
QUIET_STALL_MS = 100.0
OTHER_LOAD_PCT = 10.0
NA = "\u2013"

# ====================================================================== wire protocol
# Frames are read and written by candor.protocol's codec, notes written by its lib0 writers.

EMPTY_UPDATE = b"\x00\x00"

monotonic = time.monotonic


# ====================================================================== notes

FILLER = "Sticky note: what helped, what got in the way, and what we would try next time around. " * 2


def note_text(t: float) -> str:
    """Exactly TEXT_CHARS characters, starting with the send time (time.monotonic())."""
    return (f"{t:.6f} " + FILLER)[:TEXT_CHARS]


def note_fields(author: str, gidx: int, k: int, t: float) -> list[tuple[str, Any]]:
    """A note's fields in the order the client sets them (schemas/board.md)."""
    return [
        ("section", SECTION),
        ("text", note_text(t)),
        ("colour", "yellow"),
        ("x", (gidx * 37 + k * 11) % 1000),
        ("y", (gidx * 53 + k * 7) % 1000),
        ("author", author),
        ("author_name", None),
        ("cluster", None),
        ("scope", "room"),
        ("created_ms", int(time.time() * 1000)),
    ]


_NOTES_ROOT = b"\x27\x01" + write_text("notes")  # Item, ContentType, parentSub; parent = root "notes"


def encode_note(client_id: int, clock: int, note_id: str, fields: list[tuple[str, Any]]) -> bytes:
    """Yjs v1 update: ``notes[note_id] = Y.Map(fields)`` by ``client_id`` from ``clock``, in one transaction.

    One Item holding a new Y.Map (typeRef 1), then one ContentAny Item per field whose
    parent is that map's ID; no origins (new keys), empty delete set.
    """
    cid = write_uint(client_id)
    parent = b"\x28\x00" + cid + write_uint(clock)
    out = [b"\x01", write_uint(1 + len(fields)), cid, write_uint(clock), _NOTES_ROOT, write_text(note_id), b"\x01"]
    for key, value in fields:
        out += (parent, write_text(key), b"\x01", write_any(value))
    out.append(b"\x00")
    return b"".join(out)


def fast_encoder_matches_pycrdt() -> bool:
    """The direct encoding makes the same note as pycrdt does, and passes Candor's update reader.

    Not byte for byte: lib0 writes whole numbers as integers, as Yjs does, where Yrs writes floats.
    """
    for cid, n in ((1, 3), (0x7FFFFFFF, 15), (123456789, 2)):
        doc: Doc[Any] = Doc(client_id=cid)
        notes = doc.get("notes", type=Map)
        direct: Doc[Any] = Doc()
        clock = 0
        for k in range(n):
            fields = note_fields("u-" + secrets.token_urlsafe(8), cid % 1000, k, 1234.5 + k * 1001.123)
            fields.append(("z", 1.5e300 if k % 2 else -3))
            note_id = f"n-{cid}-{k}"
            notes[note_id] = Map(dict(fields))
            update = encode_note(cid, clock, note_id, fields)
            read_update(update)
            direct.apply_update(update)
            clock += 1 + len(fields)
        if direct.get("notes", type=Map).to_py() != notes.to_py() or direct.get_state() != doc.get_state():
            return False
    return True


# ====================================================================== /proc


def proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a process (all its threads), seconds."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def stat_ticks() -> dict[str, list[int]]:
    """/proc/stat cpu lines: name -> [user, nice, system, idle, iowait, irq, softirq, steal]."""
    out: dict[str, list[int]] = {}
    with open("/proc/stat") as fh:
        for line in fh:
            if line.startswith("cpu"):
                parts = line.split()
                out[parts[0]] = [int(x) for x in parts[1:9]]
    return out


def machine_busy_s(ticks: dict[str, list[int]]) -> float:
    """CPU seconds all CPUs spent in processes (user, nice, system)."""
    return sum(ticks["cpu"][0:3]) / os.sysconf("SC_CLK_TCK")


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


# ====================================================================== statistics


def pct(sorted_vals: list[float], q: float) -> float | None:
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(q * len(sorted_vals) + 0.5) - 1))
    return sorted_vals[i]


def summary_ms(vals: list[float]) -> dict[str, Any]:
    s = sorted(vals)

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000.0, 3)

    return {
        "n": len(s),
        "p50": ms(pct(s, 0.5)),
        "p95": ms(pct(s, 0.95)),
        "p99": ms(pct(s, 0.99)),
        "max": ms(s[-1] if s else None),
    }


# ====================================================================== the generator


class Bench:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.closing = False
        self.fast = False
        self.t0 = float("inf")  # window [t0, t1), set once every client is synced
        self.t1 = float("inf")
        self.cur_recv = 0.0
        self.sent = self.win_sent = self.win_sent_bytes = 0
        self.observed = self.win_observed = 0
        self.win_recv_msgs = self.win_update_msgs = self.win_update_bytes = 0
        self.latencies: list[float] = []
        self.send_lags: list[float] = []
        self.connect_errors = self.disconnects = self.permission_denied = 0
        self.send_errors = self.protocol_errors = self.observer_errors = 0
        self.close_codes: dict[str, int] = {}
        self.other_msgs: dict[str, int] = {}
        self.first_error: str | None = None
        self.all_observed = asyncio.Event()

    def error(self, what: str) -> None:
        if self.first_error is None:
            self.first_error = what[:300]

    def check_drained(self) -> None:
        if self.closing or self.observed >= self.sent:
            self.all_observed.set()


class Client:
    def __init__(self, bench: Bench, room: int, idx: int, gidx: int, url: str, author: str, client_id: int) -> None:
        self.b = bench
        self.room = room
        self.idx = idx
        self.gidx = gidx
        self.url = url
        self.author = author
        self.client_id = client_id
        self.clock = 0
        self.sent = 0
        self.dead = False
        self.ws: WSConn | None = None
        self.synced = asyncio.Event()
        self.writer: Doc[Any] | None = None  # only with the pycrdt encoder
        self.view: Doc[Any] | None = None
        if idx == 0:  # the room's observer: a real document that integrates every broadcast
            self.view = Doc(client_id=(client_id ^ 0x5A5A5A5A) & 0xFFFFFFFF or 1)
            self.vnotes = self.view.get("notes", type=Map)
            self._sub = self.vnotes.observe(self._on_notes)  # keep the subscription alive

    def _on_notes(self, event: Any) -> None:
        """Called inside view.apply_update(): one latency per note that appeared."""
        b = self.b
        now = b.cur_recv
        for change in event.keys.values():
            if change.get("action") != "add":
                continue
            try:
                t = float(change["newValue"]["text"].split(" ", 1)[0])
            except Exception as exc:
                b.observer_errors += 1
                b.error(f"observer could not read a note: {exc!r}")
                continue
            b.observed += 1
            if b.t0 <= t < b.t1:
                b.win_observed += 1
                b.latencies.append(now - t)
        b.check_drained()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        uri = parse_uri(self.url)
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(lambda: WSConn(self, uri), uri.host, uri.port)
        await self.handshake
        doc = self.view if self.view is not None else self.writer
        self.send(encode_sync_step1(doc.get_state() if doc is not None else b"\x00"))
        await self.synced.wait()

    def send(self, data: bytes) -> None:
        ws = self.ws
        if self.dead or ws is None:
            raise ConnectionError("connection closed")
        ws.proto.send_binary(data)
        ws.flush()

    async def close(self) -> None:
        ws = self.ws
        if ws is None or self.dead:
            return
        try:
            ws.proto.send_close(1000)
            ws.flush()
            await asyncio.wait_for(asyncio.shield(self.closed), 2)
        except Exception:
            pass
        finally:
            if ws.transport is not None:
                ws.transport.abort()

    def on_lost(self, exc: BaseException | None) -> None:
        b = self.b
        was_dead, self.dead = self.dead, True
        if not was_dead and not b.closing and self.synced.is_set():
            b.disconnects += 1
            close = self.ws.proto.close_rcvd if self.ws is not None else None
            code = str(close.code) if close is not None else "none"
            b.close_codes[code] = b.close_codes.get(code, 0) + 1
            detail = f"{close.code} {close.reason}" if close is not None else repr(exc)
            b.error(f"client {self.room}/{self.idx} closed: {detail}")
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError(f"connection lost during the handshake: {exc!r}"))
        if not self.closed.done():
            self.closed.set_result(None)
        self.synced.set()  # unblock a handshake still waiting

    def on_message(self, msg: bytes, now: float) -> None:
        b = self.b
        inwin = b.t0 <= now < b.t1
        if inwin:
            b.win_recv_msgs += 1
        view = self.view
        try:
            message = decode_server_message(msg)
            if isinstance(message, SyncUpdate):
                if inwin:
                    b.win_update_msgs += 1
                    b.win_update_bytes += len(msg)
                if view is not None:
                    b.cur_recv = now
                    view.apply_update(message.update)
            elif isinstance(message, SyncStep1):
                doc = view if view is not None else self.writer
                update = doc.get_update(message.state_vector) if doc is not None else EMPTY_UPDATE
                self.send(encode_sync_step2(update))
            elif isinstance(message, SyncStep2):
                if view is not None:
                    b.cur_recv = now
                    view.apply_update(message.update)
                self.synced.set()
            elif isinstance(message, PermissionDenied):
                b.permission_denied += 1
                b.error(f"permission denied: {message.reason}")
            else:
                key = type(message).__name__
                b.other_msgs[key] = b.other_msgs.get(key, 0) + 1
        except Exception as exc:  # a malformed message: count it, keep going
            b.protocol_errors += 1
            b.error(f"decode error: {exc!r}")

    def note_frame(self, now: float) -> bytes:
        """This client's next note as a y-websocket sync-update message."""
        k = self.sent
        note_id = f"n-{self.gidx}-{k}"
        fields = note_fields(self.author, self.gidx, k, now)
        if self.b.fast:
            update = encode_note(self.client_id, self.clock, note_id, fields)
            self.clock += 1 + len(fields)
        else:
            if self.writer is None:
                self.writer = Doc(client_id=self.client_id)
            sv = self.writer.get_state()
            self.writer.get("notes", type=Map)[note_id] = Map(dict(fields))
            update = self.writer.get_update(sv)
        return encode_update(update)


class WSConn(asyncio.Protocol):
    """asyncio transport <-> websockets' sans-I/O client; frames handled in data_received() (as ywsbench does)."""

    def __init__(self, client: Client, uri: Any) -> None:
        self.client = client
        self.proto = ClientProtocol(uri, max_size=None)
        self.transport: Any = None
        self.fragments: list[bytes] = []

    def connection_made(self, transport: Any) -> None:  # uvloop's transports are not asyncio.Transport
        self.transport = transport
        self.client.ws = self
        request = self.proto.connect()
        request.headers["User-Agent"] = TOOL
        self.proto.send_request(request)
        self.flush()

    def flush(self) -> None:
        t = self.transport
        if t is None:
            return
        for chunk in self.proto.data_to_send():
            if chunk:
                t.write(chunk)
            elif t.can_write_eof():
                t.write_eof()

    def data_received(self, data: bytes) -> None:
        proto = self.proto
        proto.receive_data(data)
        now = monotonic()
        client = self.client
        for ev in proto.events_received():
            if isinstance(ev, Response):
                if proto.handshake_exc is not None:
                    if not client.handshake.done():
                        client.handshake.set_exception(proto.handshake_exc)
                elif not client.handshake.done():
                    client.handshake.set_result(None)
                continue
            op = ev.opcode
            if op is Opcode.BINARY or op is Opcode.TEXT or op is Opcode.CONT:
                if not ev.fin:
                    self.fragments.append(ev.data)
                    continue
                payload = ev.data
                if self.fragments:
                    self.fragments.append(payload)
                    payload = b"".join(self.fragments)
                    self.fragments.clear()
                if op is Opcode.TEXT:
                    client.b.protocol_errors += 1
                    client.b.error("text frame received")
                    continue
                client.on_message(bytes(payload), now)
        self.flush()
        if proto.close_expected() and self.transport is not None:
            self.transport.close()

    def eof_received(self) -> bool:
        self.proto.receive_eof()
        self.flush()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.on_lost(exc)


async def write_schedule(b: Bench, clients: list[Client], rate: float, t_start: float, t_stop: float) -> None:
    """One open-loop scheduler for all writers: client i sends at t_start + phase_i + k/rate.

    Phases are spread evenly over one interval; a late send goes out as soon as
    possible and its lateness is recorded; receivers get to run every 16 sends.
    Ends at t_stop.
    """
    interval = 1.0 / rate
    n = len(clients)
    heap = [(t_start + (i / n) * interval, i) for i in range(n)]
    heapq.heapify(heap)
    burst = 0
    while heap:
        t_due, i = heap[0]
        if t_due >= t_stop:
            break
        now = monotonic()
        if t_due > now:
            burst = 0
            await asyncio.sleep(max(t_due - now, 0.001))
            continue
        heapq.heappop(heap)
        cl = clients[i]
        if cl.dead:
            continue
        frame = cl.note_frame(now)
        try:
            cl.send(frame)
        except Exception as exc:
            b.send_errors += 1
            b.error(f"send: {exc!r}")
            continue
        cl.sent += 1
        b.sent += 1
        b.all_observed.clear()
        if b.t0 <= now < b.t1:
            b.win_sent += 1
            b.win_sent_bytes += len(frame)
            b.send_lags.append(now - t_due)
        heapq.heappush(heap, (t_due + interval, i))
        burst += 1
        if burst >= 16:
            burst = 0
            await asyncio.sleep(0)


def _mark(server_pid: int | None) -> dict[str, Any]:
    return {
        "t": monotonic(),
        "server_cpu": proc_cpu_s(server_pid) if server_pid else None,
        "gen_cpu": self_cpu_s(),
        "ticks": stat_ticks(),
    }


async def generate(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement against a running server, described by ``spec`` (see run_one())."""
    b = Bench(spec)
    b.fast = spec["encoder"] == "fast" and fast_encoder_matches_pycrdt()
    if spec["encoder"] == "fast" and not b.fast:
        print("fast encoder differs from pycrdt's output: using pycrdt", file=sys.stderr)
    rng = random.Random(spec["seed"])
    clients: list[Client] = []
    for r, room in enumerate(spec["rooms"]):
        for c, member in enumerate(room["members"]):
            url = spec["url"].replace("{room}", room["name"])
            if member.get("token"):
                url += f"?token={member['token']}"
            clients.append(Client(b, r, c, len(clients), url, member["author"], rng.getrandbits(32) or 1))
    server_pid = spec.get("server_pid")
    t_begin = monotonic()

    sem = asyncio.Semaphore(spec["connect_concurrency"])

    async def open_one(cl: Client) -> None:
        async with sem:
            try:
                await asyncio.wait_for(cl.connect(), spec["handshake_timeout"])
                if cl.dead:
                    raise ConnectionError("closed during the handshake")
            except Exception as exc:
                b.error(f"connect {cl.url.split('?')[0]}: {exc!r}")
                cl.dead = True
                if cl.ws is not None and cl.ws.transport is not None:
                    cl.ws.transport.abort()

    async def open_all() -> None:
        # each room is opened by its observer before the others join
        await asyncio.gather(*(open_one(c) for c in clients if c.idx == 0))
        await asyncio.gather(*(open_one(c) for c in clients if c.idx != 0))

    try:
        await asyncio.wait_for(open_all(), spec["connect_timeout"])
    except TimeoutError:
        b.error("connect phase timed out")
    live = [c for c in clients if not c.dead and c.synced.is_set()]
    b.connect_errors = len(clients) - len(live)
    connect_s = monotonic() - t_begin
    print(f"{len(live)}/{len(clients)} clients synced in {connect_s:.1f} s", file=sys.stderr, flush=True)

    t_start = monotonic() + 0.2
    b.t0 = t_start + spec["warmup"]
    b.t1 = b.t0 + spec["duration"]
    marks: dict[str, dict[str, Any]] = {}

    async def mark(at: float, tag: str) -> None:
        await asyncio.sleep(max(0.0, at - monotonic()))
        marks[tag] = _mark(server_pid)

    stalls: list[float] = []

    async def heartbeat() -> None:
        # the generator's event-loop stalls (GC, CPU contention, steal): 10 ms ticks, until closing
        nxt = monotonic()
        while not b.closing:
            nxt += 0.01
            await asyncio.sleep(max(0.0, nxt - monotonic()))
            now = monotonic()
            if b.t0 <= now < b.t1:
                stalls.append(now - nxt)
            if now - nxt > 0.5:
                nxt = now

    hb = asyncio.create_task(heartbeat())
    start_mark = asyncio.create_task(mark(b.t0, "start"))
    end_mark = asyncio.create_task(mark(b.t1, "end"))
    writer = asyncio.create_task(write_schedule(b, live, spec["rate"], t_start, b.t1))
    try:
        await asyncio.wait_for(writer, b.t1 - monotonic() + 10)
    except TimeoutError:
        b.error("the writer schedule overran")
    await start_mark
    await end_mark
    # drain: wait (bounded) until every note sent was seen by its room's observer
    b.check_drained()
    observers = sum(1 for c in live if c.view is not None)
    if observers:
        try:
            await asyncio.wait_for(b.all_observed.wait(), spec["drain"])
        except TimeoutError:
            pass
    drained_s = monotonic() - b.t1
    b.closing = True
    hb.cancel()
    rss = proc_status_kb(server_pid) if server_pid else {}
    try:
        await asyncio.wait_for(asyncio.gather(*(c.close() for c in clients), return_exceptions=True), 10)
    except TimeoutError:
        pass
    for c in clients:
        if c.ws is not None and c.ws.transport is not None:
            c.ws.transport.abort()

    s, e = marks["start"], marks["end"]
    window = max(1e-9, e["t"] - s["t"])
    tck = os.sysconf("SC_CLK_TCK")
    steal = {
        cpu: round(100.0 * (e["ticks"][cpu][7] - v[7]) / tck / window, 1)
        for cpu, v in s["ticks"].items()
        if cpu != "cpu"
    }
    server_cpu = (
        e["server_cpu"] - s["server_cpu"] if s["server_cpu"] is not None and e["server_cpu"] is not None else None
    )
    gen_cpu = e["gen_cpu"] - s["gen_cpu"]
    busy = machine_busy_s(e["ticks"]) - machine_busy_s(s["ticks"])
    other = max(0.0, busy - gen_cpu - (server_cpu or 0.0))
    deliv = b.win_update_msgs
    errors = b.connect_errors + b.disconnects + b.permission_denied + b.send_errors + b.protocol_errors
    return {
        "tool": TOOL,
        "window_s": round(window, 3),
        "clients_connected": len(live),
        "connect_s": round(connect_s, 2),
        "offered_updates_per_s": round(b.win_sent / window, 2),
        "delivered_msgs_per_s": round(deliv / window, 2),
        "fanout": round(deliv / b.win_sent, 3) if b.win_sent else None,
        "recv_msgs_per_s": round(b.win_recv_msgs / window, 2),
        "update_bytes_avg": round(b.win_sent_bytes / b.win_sent, 1) if b.win_sent else None,
        "latency_ms": summary_ms(b.latencies),
        "send_lag_ms": summary_ms(b.send_lags),
        "notes_sent": b.sent,
        "notes_observed": b.observed,
        "lost_notes": max(0, b.sent - b.observed) if observers else None,
        "drain_s": round(drained_s, 2),
        "errors": errors,
        "connect_errors": b.connect_errors,
        "disconnects": b.disconnects,
        "close_codes": b.close_codes,
        "permission_denied": b.permission_denied,
        "send_errors": b.send_errors,
        "protocol_errors": b.protocol_errors,
        "observer_errors": b.observer_errors,
        "first_error": b.first_error,
        "other_msgs": b.other_msgs,
        "server": {
            "pid": server_pid,
            "cpu_s": None if server_cpu is None else round(server_cpu, 3),
            "cpu_util": None if server_cpu is None else round(server_cpu / window, 3),
            "cpu_ms_per_1k_delivered": round(server_cpu * 1e6 / deliv, 2) if server_cpu is not None and deliv else None,
            "cpu_ms_per_1k_offered": round(server_cpu * 1e6 / b.win_sent, 2)
            if server_cpu is not None and b.win_sent
            else None,
            "rss_mb": round(rss["VmRSS"] / 1024, 1) if "VmRSS" in rss else None,
            "rss_hwm_mb": round(rss["VmHWM"] / 1024, 1) if "VmHWM" in rss else None,
        },
        "generator": {
            "cpu_util": round(gen_cpu / window, 3),
            "loop": "uvloop" if uvloop is not None else "asyncio",
            "encoder": "fast" if b.fast else "pycrdt",
        },
        "loop_stall_ms": summary_ms(stalls),
        "steal_pct": steal,
        "other_cpu_pct": round(100.0 * other / window, 1),
    }


def generator_main(spec_path: Path) -> int:
    spec = json.loads(spec_path.read_text())
    result = uvloop.run(generate(spec)) if uvloop is not None else asyncio.run(generate(spec))
    print(json.dumps(result), flush=True)
    return 0


# ====================================================================== the runs


def http(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_healthy(port: int, proc: subprocess.Popen[bytes], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if http(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {within_s:.0f} s")


def stop_server(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM (clean shutdown: final snapshots), then SIGKILL; only this PID."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(10)
    return proc.returncode


def log_records(data_dir: Path, rooms: list[str]) -> int | None:
    db = data_dir / "candor.sqlite3"
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            marks = ",".join("?" * len(rooms))
            return int(conn.execute(f"SELECT COUNT(*) FROM log WHERE room IN ({marks})", rooms).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def setup_rooms(port: int, mode: str, scenario: dict[str, Any], tag: str) -> tuple[list[dict[str, Any]], int]:
    """The rooms and their members (token, author); and how many log records the rooms start with."""
    rooms, clients = scenario["rooms"], scenario["clients"]
    if mode == "off":
        # free-form rooms; authors shaped like real pseudonyms ("u-" + 11 characters)
        return [
            {
                "name": f"gate-off-{tag}-{r}",
                "members": [{"author": "u-" + secrets.token_urlsafe(8)} for _ in range(clients)],
            }
            for r in range(rooms)
        ], 0
    body = {"title": f"gate bench {tag}", "template": TEMPLATE, "rooms": rooms}
    status, event = http(port, "POST", "/api/events", body)
    if status != 201:
        raise RuntimeError(f"creating the event: {status} {event}")
    breakouts = [room["id"] for room in event["rooms"] if room["kind"] == "breakout"]
    out = []
    for name in breakouts:
        members = []
        for _ in range(clients):
            status, joined = http(
                port, "POST", f"/api/events/{event['event_id']}/join", {"code": event["join_code"], "agree": True}
            )
            if status != 200:
                raise RuntimeError(f"joining: {status} {joined}")
            members.append({"token": joined["token"], "author": joined["participant"]})
        out.append({"name": name, "members": members})
    return out, 1  # the template's initial board is each room's first record


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def prepare_code(a: argparse.Namespace) -> None:
    """Which code the servers run: a copy of server/candor taken now (default), or the live tree."""
    head = git("rev-parse", "--short", "HEAD")
    dirty = bool(git("status", "--porcelain", "--", "server/candor"))
    env = dict(os.environ)
    if a.live_code:
        source, root = str(SRC), SRC
    else:
        root = snapshot_code(a.tmp)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        source = f"copy of {SRC / 'candor'}"
    found = subprocess.run(
        [str(a.python), "-c", "import candor; print(candor.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    if not found.startswith(str(root)):
        raise SystemExit(f"the server would import candor from {found!r}, not from {root}")
    a.server_env = env
    a.code = {
        "source": source,
        "git_head": head,
        "server_tree_dirty": dirty,
        "fingerprint": tree_fingerprint(root / "candor"),
    }


def start_py_spy(a: argparse.Namespace, pid: int, tag: str) -> subprocess.Popen[bytes]:
    """Sample the server with py-spy (collapsed stacks, pinned beside the generator) until stop_py_spy()."""
    path = REPORTS / f"profile-{time.strftime('%Y%m%d-%H%M%S')}-{tag}.txt"
    cmd = ["taskset", "-c", str(a.gen_cpu), str(a.py_spy), "record", "--pid", str(pid), "--format", "raw",
           "--rate", "100", "--nonblocking", "-o", str(path)]  # fmt: skip
    print(f"   py-spy -> {path}", flush=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen[bytes]) -> None:
    """SIGINT makes py-spy write its output; only this PID."""
    if spy.poll() is None:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(10)


def run_one(a: argparse.Namespace, scen_name: str, mode: str, rep: int, order: int) -> dict[str, Any] | None:
    scenario = SCENARIOS[scen_name]
    tag = f"{scen_name}-{mode}-r{rep}"
    if port_open(a.port):
        print(f"!! port {a.port} is in use; skipping {tag}", flush=True)
        return None
    pre_load, waited = wait_for_quiet_machine(a.max_other_load, a.quiet_wait)
    if pre_load >= a.max_other_load:
        print(f"   (other processes still use {pre_load:.0f} % of a core after {waited:.0f} s; running anyway)")
    data_dir = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=a.tmp))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    server_log = a.logs / f"gate-{stamp}-{tag}.server.log"
    gen_log = a.logs / f"gate-{stamp}-{tag}.generator.log"
    serve = [str(a.python), "-m", "candor", "serve", "--host", "127.0.0.1", "--port", str(a.port),
             "--data", str(data_dir), "--log-level", "warning"]  # fmt: skip
    if mode == "off":
        serve.append("--open-rooms")
    print(f"== {scen_name} gate {mode} #{rep}", flush=True)
    rec: dict[str, Any] | None = None
    with open(server_log, "wb") as slog:
        live_before = tree_fingerprint(SRC / "candor")
        server = subprocess.Popen(
            ["taskset", "-c", str(a.server_cpu), *serve], stdout=slog, stderr=subprocess.STDOUT, env=a.server_env
        )
        try:
            wait_healthy(a.port, server, 30)
            t_setup = time.monotonic()
            rooms, initial_records = setup_rooms(a.port, mode, scenario, tag)
            setup_s = time.monotonic() - t_setup
            spec = {
                "url": f"ws://127.0.0.1:{a.port}/ws/{{room}}",
                "rooms": rooms,
                "rate": scenario["rate"],
                "duration": scenario["duration"],
                "warmup": scenario["warmup"],
                "drain": a.drain,
                "server_pid": server.pid,
                "seed": rep * 1000 + order,
                "encoder": a.encoder,
                "connect_concurrency": 64,
                "handshake_timeout": 15.0,
                "connect_timeout": 120.0,
            }
            spec_path = data_dir.parent / f"{data_dir.name}.spec.json"
            spec_path.write_text(json.dumps(spec))
            me = str(Path(__file__).resolve())
            gen_cmd = ["taskset", "-c", str(a.gen_cpu), sys.executable, me, "--generate", str(spec_path)]
            limit = 120 + scenario["warmup"] + scenario["duration"] + a.drain + 60
            spy = start_py_spy(a, server.pid, tag) if a.py_spy else None
            with open(gen_log, "wb") as glog:
                gen = subprocess.Popen(gen_cmd, stdout=subprocess.PIPE, stderr=glog)
                try:
                    out, _ = gen.communicate(timeout=limit)
                except subprocess.TimeoutExpired:
                    gen.kill()
                    out, _ = gen.communicate(timeout=10)
                finally:
                    if gen.poll() is None:  # interrupted: stop our generator too
                        gen.kill()
                        gen.wait(10)
                    if spy is not None:
                        stop_py_spy(spy)
            lines = [ln for ln in out.decode().splitlines() if ln.strip()]
            if gen.returncode == 0 and lines:
                rec = json.loads(lines[-1])
            else:
                print(f"!! generator failed (rc={gen.returncode}), see {gen_log}", flush=True)
        except Exception as exc:
            print(f"!! {tag}: {exc!r}", flush=True)
        finally:
            rc = stop_server(server)
    if rec is not None:
        names = [room["name"] for room in rooms]
        logged = log_records(data_dir, names)
        rec.update(
            {
                "scenario": scen_name,
                "mode": mode,
                "gate": mode == "on",
                "repeat": rep,
                "run_order": order,
                "rooms": scenario["rooms"],
                "clients": scenario["clients"],
                "rate": scenario["rate"],
                "duration": scenario["duration"],
                "warmup": scenario["warmup"],
                "server_cmd": ["taskset", "-c", str(a.server_cpu), *serve],
                "server_code": a.code,
                "live_code_changed_during_run": tree_fingerprint(SRC / "candor") != live_before,
                "server_exit": rc,
                "setup_s": round(setup_s, 2),
                "pre_other_cpu_pct": round(pre_load, 1),
                "other_load_wait_s": round(waited, 1),
                "log_note_records": None if logged is None else logged - initial_records * len(names),
                "profiled": bool(a.py_spy),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        print(
            f"   delivered {rec['delivered_msgs_per_s']:.0f} msg/s, p99 {rec['latency_ms']['p99']} ms, "
            f"server CPU {rec['server']['cpu_ms_per_1k_delivered']} ms/1k, errors {rec['errors']}, "
            f"lost {rec['lost_notes']}, steal {rec['steal_pct']}, other {rec['other_cpu_pct']} %",
            flush=True,
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    return rec


# ====================================================================== the report


def cpu_per_k(r: dict[str, Any]) -> float | None:
    value = (r.get("server") or {}).get("cpu_ms_per_1k_delivered")
    return None if value is None else float(value)


def cpu_per_note(r: dict[str, Any]) -> float | None:
    """Server CPU µs per note it handled: every note goes to each of the room's clients (its writer included)."""
    per_k = cpu_per_k(r)
    return None if per_k is None else per_k * r["clients"]


def undisturbed(r: dict[str, Any]) -> bool:
    steal = r.get("steal_pct") or {}
    stall = (r.get("loop_stall_ms") or {}).get("max")
    return (
        bool(steal)
        and max(steal.values()) < QUIET_STEAL_PCT
        and stall is not None
        and stall < QUIET_STALL_MS
        and (r.get("other_cpu_pct") or 0.0) < OTHER_LOAD_PCT
    )


def report(rows: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    n_profiled = sum(1 for r in rows if r.get("profiled"))
    rows = [r for r in rows if not r.get("profiled")]
    for r in rows:
        groups[(r["scenario"], r["mode"])].append(r)
    scens = [s for s in SCENARIOS if any(k[0] == s for k in groups)]
    out = [
        "| scenario | gate | runs (undisturbed) | offered notes/s | delivered msg/s | p50 ms | p99 ms | max ms "
        "| server CPU ms / 1k delivered | server CPU µs / note | server CPU % | generator CPU % | errors "
        "| lost notes | steal % CPU0 / CPU1 (max) | other load % (max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scen in scens:
        for mode in MODES:
            g = groups.get((scen, mode))
            if not g:
                continue
            steal0 = max((r.get("steal_pct") or {}).get("cpu0", 0.0) for r in g)
            steal1 = max((r.get("steal_pct") or {}).get("cpu1", 0.0) for r in g)
            util = med((r["server"] or {}).get("cpu_util") for r in g)
            out.append(
                f"| {scen} | {mode} | {len(g)} ({sum(undisturbed(r) for r in g)}) "
                f"| {fmt(med(r['offered_updates_per_s'] for r in g))} "
                f"| {fmt(med(r['delivered_msgs_per_s'] for r in g))} "
                f"| {fmt(med(r['latency_ms']['p50'] for r in g), 2)} | {fmt(med(r['latency_ms']['p99'] for r in g))} "
                f"| {fmt(med(r['latency_ms']['max'] for r in g))} "
                f"| {fmt(med(cpu_per_k(r) for r in g), 2)} | {fmt(med(cpu_per_note(r) for r in g), 0)} "
                f"| {fmt(None if util is None else util * 100, 0)} "
                f"| {fmt(med(r['generator']['cpu_util'] * 100 for r in g), 0)} "
                f"| {sum(r['errors'] for r in g)} | {sum(r['lost_notes'] or 0 for r in g)} "
                f"| {fmt(med((r.get('steal_pct') or {}).get('cpu0') for r in g))} / "
                f"{fmt(med((r.get('steal_pct') or {}).get('cpu1') for r in g))} ({fmt(max(steal0, steal1))}) "
                f"| {fmt(med(r.get('other_cpu_pct') for r in g))} "
                f"({fmt(max(r.get('other_cpu_pct') or 0 for r in g))}) |"
            )
    out += [
        "",
        "Medians over the runs (errors and lost notes: totals; steal and other load: medians, with the worst "
        f"run in brackets{f'; {n_profiled} profiled run(s) left out' if n_profiled else ''}). "
        "Undisturbed = vCPU steal < "
        f"{QUIET_STEAL_PCT:.0f} % on both CPUs, no generator event-loop stall > {QUIET_STALL_MS:.0f} ms, and "
        f"processes outside the benchmark used < {OTHER_LOAD_PCT:.0f} % of a core during the window.",
        "",
        "| scenario | delivered msg/s on / off (medians) | per repeat (runs back to back) "
        "| server CPU per message on / off (medians) | per repeat | target: delivered on ≥ "
        f"{TARGET_RATIO:.2f} x off |",
        "|---|---|---|---|---|---|",
    ]
    for scen in scens:
        off, on = groups.get((scen, "off"), []), groups.get((scen, "on"), [])
        if not off or not on:
            continue
        d_off, d_on = med(r["delivered_msgs_per_s"] for r in off), med(r["delivered_msgs_per_s"] for r in on)
        c_off, c_on = med(cpu_per_k(r) for r in off), med(cpu_per_k(r) for r in on)
        d_ratio = d_on / d_off if d_on is not None and d_off else None
        c_ratio = c_on / c_off if c_on is not None and c_off else None
        by_off = {r["repeat"]: r for r in off}
        by_on = {r["repeat"]: r for r in on}
        d_pairs, c_pairs = [], []
        for rep in sorted(set(by_off) & set(by_on)):
            ro, rn = by_off[rep], by_on[rep]
            mark = "" if undisturbed(ro) and undisturbed(rn) else "*"
            if ro["delivered_msgs_per_s"]:
                d_pairs.append(f"#{rep}{mark}: {rn['delivered_msgs_per_s'] / ro['delivered_msgs_per_s']:.3f}")
            co, cn = cpu_per_k(ro), cpu_per_k(rn)
            if co and cn is not None:
                c_pairs.append(f"#{rep}{mark}: {cn / co:.2f}")
        verdict = NA if d_ratio is None else ("met" if d_ratio >= TARGET_RATIO else "**missed**")
        out.append(
            f"| {scen} | {fmt(d_ratio, 3)} ({fmt(d_on)} / {fmt(d_off)}) | {', '.join(d_pairs) or NA} "
            f"| {fmt(c_ratio, 2)} ({fmt(c_on, 2)} / {fmt(c_off, 2)} ms per 1k) | {', '.join(c_pairs) or NA} "
            f"| {verdict} |"
        )
    out += ["", "`*` = at least one run of the pair was disturbed (see above)."]
    codes = sorted({json.dumps(r.get("server_code"), sort_keys=True) for r in rows})
    if len(codes) == 1 and codes[0] != "null":
        code = json.loads(codes[0])
        out += [
            "",
            f"Server code: git {code['git_head']}"
            f"{' (server/candor had uncommitted changes)' if code['server_tree_dirty'] else ''}, "
            f"sha256 of server/candor/**/*.py `{code['fingerprint']}` ({code['source']}).",
        ]
    else:
        out += [
            "",
            f"**Warning:** these runs measured {len(codes)} different server code versions: {', '.join(codes)}.",
        ]
    logged = [r for r in rows if r.get("log_note_records") is not None]
    if logged:
        bad = [r for r in logged if r["log_note_records"] != r["notes_sent"]]
        out += [
            "",
            f"Event log check: {len(logged) - len(bad)} of {len(logged)} runs logged exactly the notes sent"
            + (
                "."
                if not bad
                else ": mismatches "
                + ", ".join(
                    f"{r['scenario']} {r['mode']} #{r['repeat']} ({r['log_note_records']} / {r['notes_sent']})"
                    for r in bad
                )
            ),
        ]
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--python", type=Path, default=REPO / ".venv" / "bin" / "python", help="Candor's venv python")
    p.add_argument(
        "--live-code",
        action="store_true",
        help="run the server from server/ as it is at each start (default: from a copy of server/candor taken "
        "once at the start, so that edits made while the benchmark runs do not mix code versions)",
    )
    p.add_argument("--port", type=int, default=1250, help="the server's loopback port (default 1250)")
    p.add_argument(
        "--scenarios",
        default=",".join(DEFAULT_SCENARIOS),
        help=f"comma-separated, from {', '.join(SCENARIOS)} (default: all but smoke)",
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--first-repeat", type=int, default=1)
    p.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for in-flight notes (default 10)")
    p.add_argument(
        "--encoder", choices=["fast", "pycrdt"], default="fast", help="fast = direct, checked against pycrdt"
    )
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--gen-cpu", type=int, default=1)
    p.add_argument(
        "--max-other-load",
        type=float,
        default=OTHER_LOAD_PCT,
        metavar="PCT",
        help="before each run, wait while other processes use more than PCT %% of a core",
    )
    p.add_argument("--quiet-wait", type=float, default=300.0, help="... but at most this many seconds (default 300)")
    p.add_argument(
        "--out", type=Path, default=None, help="JSON lines file to append to (default reports/gate-<time>.jsonl)"
    )
    p.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="EXE",
        help="profile the server with this py-spy while the generator runs (loadtests/reports/profile-*.txt, "
        "collapsed stacks); the runs are marked as profiled and left out of the tables",
    )
    p.add_argument("--report", type=Path, nargs="+", metavar="JSONL", help="only print the tables for these files")
    p.add_argument("--generate", type=Path, metavar="SPEC", help=argparse.SUPPRESS)  # internal: one generator run
    a = p.parse_args()

    if a.generate:
        return generator_main(a.generate)
    if a.report:
        print(report(load_jsonl(a.report)))
        return 0
    if a.repeats < 1:
        p.error("--repeats must be at least 1")
    scenarios = a.scenarios.split(",")
    for s in scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    if not a.python.exists():
        p.error(f"{a.python} not found (install Candor into .venv: scripts/setup)")
    if shutil.which("taskset") is None:
        p.error("taskset (util-linux) is needed to pin the server and the generator")
    if port_open(a.port):
        p.error(f"port {a.port} is already in use; pick another with --port")
    REPORTS.mkdir(parents=True, exist_ok=True)
    a.logs = REPORTS / "logs"
    a.logs.mkdir(parents=True, exist_ok=True)
    out: Path = a.out or REPORTS / f"gate-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    print(f"results -> {out}", flush=True)
    a.tmp = Path(tempfile.mkdtemp(prefix="candor-bench-gate-"))
    order = 0
    try:
        prepare_code(a)
        print(f"server code: {a.code['source']} (git {a.code['git_head']}, sha256 {a.code['fingerprint']})", flush=True)
        for rep in range(a.first_repeat, a.first_repeat + a.repeats):
            for scen in scenarios:
                # off and on back to back; who goes first alternates from one repeat to the next
                for mode in MODES if rep % 2 else tuple(reversed(MODES)):
                    order += 1
                    rec = run_one(a, scen, mode, rep, order)
                    if rec is not None:
                        with open(out, "a") as fh:
                            fh.write(json.dumps(rec) + "\n")
    finally:
        shutil.rmtree(a.tmp, ignore_errors=True)
    print()
    print(report(load_jsonl([out])) if out.exists() else "no run succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
