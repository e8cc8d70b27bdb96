#!/usr/bin/env python3
"""Run one load scenario headless against a Candor this script starts; one summary line, exit 1 past a threshold.

  .venv/bin/python loadtests/run_scenario.py unconference                          # 100 rooms x 10, one process
  .venv/bin/python loadtests/run_scenario.py unconference --mode redis --processes 2
  .venv/bin/python loadtests/run_scenario.py unconference --mode redis-cluster --processes 3 --shards 3
  .venv/bin/python loadtests/run_scenario.py plenary-surge                         # 500 join one room in 30 s
  .venv/bin/python loadtests/run_scenario.py facilitator-sweep                     # one facilitator, every room in turn
  .venv/bin/python loadtests/run_scenario.py unconference --rooms 2 --per-room 3 --duration 4   # a smoke run

What it does, in order:

1. starts the server it measures on free loopback ports, pinned with taskset
   (``--server-cpus``, default CPU 0): one ``candor serve`` (SQLite), or in
   Redis mode a ``redis-server`` plus ``--processes`` candor processes sharing
   it (and one data directory, for the token secret and the events store);
2. creates the event over the REST API (``POST /api/events``, template
   ``blank``), joins the participants with the join code (one token each;
   plenary-surge users join themselves, inside the surge), and, where the
   scenario votes, moves every room to the vote phase (``POST
   /api/events/{id}/broadcast``);
3. writes the plan (``loadtests/locustfile.py`` reads it) assigning each user
   slot its room, token and server; in Redis mode the users of every room are
   spread over the processes, so fan-out crosses processes;
4. runs ``locust --headless`` pinned to ``--locust-cpus`` (default CPU 1) for
   a bounded time, while sampling CPU time and RSS of every process it
   started from ``/proc/PID`` (and vCPU steal and the rest of the machine's
   load from ``/proc/stat``);
5. writes ``loadtests/reports/<scenario>-<mode>-<time>.{csv,html,json}`` (locust's
   stats, its HTML report, and everything measured), prints ONE summary line,
   and exits 1 when the edits' delivery p99 exceeds ``--max-p99-ms``, the
   presence p99 exceeds ``--max-presence-p99-ms`` (presence is gathered by the
   server, one frame per ``--presence-interval``, so it is judged apart), or
   the error rate exceeds ``--max-error-rate`` (2 when the run itself broke).

Everything listens on and talks to 127.0.0.1 only. Every process started here
is stopped by its PID at the end, also on Ctrl-C or SIGTERM; the temporary
data directory is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis_cluster import start_redis_cluster  # beside this script, which runs as one

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A load shape: who connects where, how fast they arrive, what they do and for how long."""

    name: str
    user_classes: tuple[str, ...]
    rooms: int  # breakout rooms
    per_room: int  # participants per breakout room
    plenary_users: int  # participants who join the plenary (with the code, inside the run)
    spawn_rate: float  # users started per second
    warmup_s: float  # after the last user started, before measuring
    duration_s: float  # measured
    drain_s: float  # writing stops this long before the end; late echoes still count
    measure_after_spawn: bool
    phase: str | None  # set on every room before the run (the vote phase allows votes)
    behaviour: dict[str, float] = field(default_factory=dict)

    @property
    def participants(self) -> int:
        return self.rooms * self.per_room + self.plenary_users

    @property
    def users(self) -> int:
        return self.participants + (1 if "Facilitator" in self.user_classes else 0)

    @property
    def run_time_s(self) -> int:
        spawn_s = self.users / self.spawn_rate
        if self.measure_after_spawn:
            return math.ceil(spawn_s + self.warmup_s + self.duration_s + self.drain_s)
        return math.ceil(max(spawn_s, 0) + self.duration_s + self.drain_s)


SCENARIOS = {
    "unconference": Scenario(
        name="unconference",
        user_classes=("Participant",),
        rooms=100,
        per_room=10,
        plenary_users=0,
        spawn_rate=100,
        warmup_s=5,
        duration_s=90,
        drain_s=5,
        measure_after_spawn=True,
        phase="vote",
        behaviour={"note_every_s": 5, "move_every_s": 10, "vote_every_s": 20, "presence_every_s": 5},
    ),
    "plenary-surge": Scenario(
        name="plenary-surge",
        user_classes=("PlenaryParticipant",),
        rooms=0,
        per_room=0,
        plenary_users=500,
        spawn_rate=500 / 30,
        warmup_s=0,
        duration_s=10,  # after the last one started
        drain_s=5,
        measure_after_spawn=False,
        phase=None,
        # Presence once, on joining (y-protocols renews it every 15 s: 500²/15 messages/s more; see docs/scaling.md).
        behaviour={
            "note_every_s": 60,
            "move_every_s": 0,
            "vote_every_s": 0,
            "presence_every_s": 0,
            "arrival_jitter_s": 1.0,
        },
    ),
    "facilitator-sweep": Scenario(
        name="facilitator-sweep",
        user_classes=("Participant", "Facilitator"),
        rooms=100,
        per_room=3,
        plenary_users=0,
        spawn_rate=100,
        warmup_s=2,
        duration_s=60,
        drain_s=3,
        measure_after_spawn=True,
        phase="vote",
        behaviour={
            "note_every_s": 5,
            "move_every_s": 10,
            "vote_every_s": 20,
            "presence_every_s": 5,
            "sweep_dwell_s": 0.4,
        },
    ),
}


# -- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


class Children:
    """Every process this script starts; ``stop_all`` ends each by its PID (TERM, then KILL)."""

    def __init__(self) -> None:
        self.started: list[Child] = []

    def start(self, name: str, cmd: list[str], log: Path, cpus: str | None) -> Child:
        if cpus and shutil.which("taskset"):
            cmd = ["taskset", "-c", cpus, *cmd]  # taskset execs the command: the PID is the program's
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
        child = Child(name, proc, log)
        self.started.append(child)
        return child

    def stop(self, child: Child, timeout_s: float = 20.0) -> None:
        if child.proc.poll() is not None:
            return
        child.proc.send_signal(signal.SIGTERM)
        try:
            child.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            child.proc.send_signal(signal.SIGKILL)
            child.proc.wait(10)

    def stop_all(self) -> None:
        for child in reversed(self.started):
            self.stop(child)


def wait_http(url: str, child: Child, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited early:\n{child.log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not answer {url} within {timeout_s:.0f} s")


def wait_redis(port: int, child: Child, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited early:\n{child.log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            if conn.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.1)
    raise RuntimeError("redis-server did not answer PING")


def serve_options() -> str:
    """``candor serve --help``: which options this version of the server has."""
    out = subprocess.run([str(BIN / "candor"), "serve", "--help"], capture_output=True, text=True, check=False)
    return out.stdout


# Every simulated user connects from 127.0.0.1; a per-address cap meant for one
# household or office would turn the run into a test of that cap.
LOAD_GENERATOR_LIMITS = {"--max-connections-per-address": "100000"}
# Setting the phase loads every room on the process that takes the API call; with room affinity,
# rooms whose members are elsewhere must be let go before measuring, not a minute into the run.
IDLE_TIMEOUT_S = "5"


@dataclass
class Servers:
    urls: list[str]  # http://127.0.0.1:PORT, one per candor process
    children: list[Child]  # what is measured: the candor processes (and redis-server)
    metrics_urls: dict[str, str]  # candor process name -> its URL, for /metrics


def start_servers(args: argparse.Namespace, children: Children, work: Path, logs: Path) -> Servers:
    data = work / "data"
    options = serve_options()
    common = ["--host", LOOPBACK, "--data", str(data), "--log-level", "warning", "--idle-timeout", IDLE_TIMEOUT_S]
    for flag, value in LOAD_GENERATOR_LIMITS.items():
        if flag in options:
            common += [flag, value]
    measured: list[Child] = []
    redis_args: list[str] = []
    if args.mode == "redis-cluster":
        nodes, node_urls = start_redis_cluster(
            children.start, args.redis_server, args.shards, args.redis_fsync, work, logs, args.server_cpus
        )
        measured += nodes
        if args.wait_replicas:
            common += ["--redis-wait-replicas", str(args.wait_replicas)]
    elif args.mode == "redis":
        if "--redis-url" not in options:
            raise RuntimeError("this candor has no --redis-url yet (candor serve --help)")
        redis_port = free_port()
        redis_cmd = [
            args.redis_server,
            "--bind", LOOPBACK, "--port", str(redis_port), "--dir", str(work),
            "--save", "", "--appendonly", "yes", "--appendfsync", args.redis_fsync,
        ]  # fmt: skip
        redis = children.start("redis-server", redis_cmd, logs / "redis.log", args.server_cpus)
        wait_redis(redis_port, redis)
        measured.append(redis)
        redis_args = ["--redis-url", f"redis://{LOOPBACK}:{redis_port}"]
    count = args.processes if args.mode != "single" else 1
    urls = []
    for n in range(count):
        port = free_port()
        if args.mode == "redis-cluster":  # each process is given another node: any node will do
            redis_args = ["--redis-url", node_urls[n % len(node_urls)]]
        cmd = [str(BIN / "candor"), "serve", "--port", str(port), *common, *redis_args]
        child = children.start(f"candor:{port}", cmd, logs / f"candor-{n}.log", args.server_cpus)
        url = f"http://{LOOPBACK}:{port}"
        wait_http(url + "/healthz", child)
        measured.append(child)
        urls.append(url)
    return Servers(urls, measured, {child.name: url for child, url in zip(measured[-count:], urls, strict=True)})


# -- the event over the REST API --------------------------------------------------------


def call(url: str, body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url}: HTTP {exc.code} {exc.read()[:300]!r}") from exc


# Members of each room that keep a full replica and measure delivery latency; in Redis mode
# without affinity the first two of a room are on different processes, so both paths are measured.
OBSERVERS_PER_ROOM = 2


def make_plan(scenario: Scenario, servers: Servers, summary_path: Path, *, affinity: bool) -> dict[str, Any]:
    """Create the event, join the participants, and assign every user slot a room, a token and a server."""
    first = servers.urls[0]
    event = call(
        f"{first}/api/events", {"title": f"Load: {scenario.name}", "template": "blank", "rooms": scenario.rooms}
    )
    breakouts = [r["id"] for r in event["rooms"] if r["kind"] == "breakout"]
    plenary = next(r["id"] for r in event["rooms"] if r["kind"] == "plenary")
    slots = []
    n_servers = len(servers.urls)
    for i in range(scenario.rooms * scenario.per_room):
        # Room i % R; the k-th member of a room goes to process k % N, so every room spans the processes;
        # with affinity (a balancer hashing the room name) all of room r's members go to process r % N.
        room, k = breakouts[i % scenario.rooms], i // scenario.rooms
        server = servers.urls[(i % scenario.rooms if affinity else k) % n_servers]
        joined = call(f"{server}/api/events/{event['event_id']}/join", {"code": event["join_code"], "agree": True})
        slot = {"index": i, "token": joined["token"], "subject": joined["participant"], "room": room, "server": server}
        slots.append({**slot, "observer": k < OBSERVERS_PER_ROOM})
    for j in range(scenario.plenary_users):
        i = len(slots)
        slot = {"index": i, "token": None, "subject": None, "room": plenary, "server": servers.urls[j % n_servers]}
        slots.append({**slot, "observer": j < OBSERVERS_PER_ROOM})
    if scenario.phase is not None:
        call(f"{first}/api/events/{event['event_id']}/broadcast", {"phase": scenario.phase}, event["facilitator_token"])
    return {
        "scenario": scenario.name,
        "event_id": event["event_id"],
        "join_code": event["join_code"],
        "facilitator_token": event["facilitator_token"],
        "rooms": breakouts,
        "servers": servers.urls,
        "slots": slots,
        "behaviour": scenario.behaviour,
        "warmup_s": scenario.warmup_s,
        "drain_s": scenario.drain_s,
        "measure_after_spawn": scenario.measure_after_spawn,
        "expected_syncs": scenario.participants,
        "summary_path": str(summary_path),
    }


# -- sampling /proc ---------------------------------------------------------------------


def proc_sample(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS KiB) of a process, all threads."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    except (OSError, StopIteration):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, rss


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per CPU: (busy ticks, steal ticks) from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3:4].isdigit():
                v = [int(x) for x in line.split()[1:]]
                # user nice system idle iowait irq softirq steal
                out[line.split()[0]] = (v[0] + v[1] + v[2] + v[5] + v[6], v[7])
    return out


def scrape_metrics(url: str) -> dict[str, float]:
    """The server's /metrics (Prometheus text) as {"name{labels}": value}; empty when it does not answer."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[name] = float(value)
    return values


@dataclass
class Sample:
    t: float  # time.time()
    procs: dict[str, tuple[float, int]]  # name -> (CPU seconds, RSS KiB)
    cpus: dict[str, tuple[int, int]]  # cpu -> (busy ticks, steal ticks)
    metrics: dict[str, dict[str, float]]  # server name -> its /metrics (every few samples)


class Sampler:
    """Samples every watched process and the machine every ``interval_s`` in a thread; scrapes servers' /metrics."""

    METRICS_EVERY = 4  # samples

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.watched: dict[str, int] = {}
        self.servers: dict[str, str] = {}  # name -> http URL
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, name: str, pid: int, url: str | None = None) -> None:
        self.watched[name] = pid
        if url is not None:
            self.servers[name] = url

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            now = time.time()
            procs = {name: s for name, pid in list(self.watched.items()) if (s := proc_sample(pid)) is not None}
            scraped = {}
            if n % self.METRICS_EVERY == 0:
                scraped = {name: m for name, url in list(self.servers.items()) if (m := scrape_metrics(url))}
            self.samples.append(Sample(now, procs, cpu_times(), scraped))
            n += 1
            self._stop.wait(self.interval_s)

    def window(self, start: float, end: float) -> dict[str, Any]:
        """CPU use and RSS of every process, server counters, steal and the rest of the machine over [start, end]."""
        inside = [s for s in self.samples if start <= s.t <= end] or self.samples[-2:]
        if len(inside) < 2:
            return {}
        first, last = inside[0], inside[-1]
        span = last.t - first.t
        procs: dict[str, Any] = {}
        ours = 0.0
        for name in last.procs:
            if name not in first.procs:
                continue
            cpu_s = last.procs[name][0] - first.procs[name][0]
            ours += cpu_s
            rss = [s.procs[name][1] for s in inside if name in s.procs]
            before = next((s.procs[name][1] for s in self.samples if name in s.procs), rss[0])
            settled = rss[len(rss) // 10]  # a tenth into the window: rooms loaded, caches warm
            procs[name] = {
                "cpu_util": round(cpu_s / span, 3),
                "cpu_s": round(cpu_s, 2),
                "rss_start_mb": round(before / 1024, 1),
                "rss_settled_mb": round(settled / 1024, 1),
                "rss_peak_mb": round(max(rss) / 1024, 1),
                "rss_end_mb": round(rss[-1] / 1024, 1),
            }
        steal = {c: round(100 * (last.cpus[c][1] - first.cpus[c][1]) / CLK_TCK / span, 1) for c in last.cpus}
        busy = sum(last.cpus[c][0] - first.cpus[c][0] for c in last.cpus) / CLK_TCK
        return {
            "seconds": round(span, 2),
            "processes": procs,
            "servers": self._server_counters(inside),
            "steal_pct": steal,
            "others_cpu_util": round(max(0.0, busy - ours) / span, 3),
            "timeline": self._timeline(inside, step_s=5.0),
        }

    def _server_counters(self, inside: list[Sample]) -> dict[str, Any]:
        """Per server, from its /metrics: messages in (by kind) and out per second, log appends and their time."""
        scraped = [s for s in inside if s.metrics]
        if len(scraped) < 2:
            return {}
        first, last = scraped[0], scraped[-1]
        span = last.t - first.t
        out: dict[str, Any] = {}
        for name in last.metrics:
            a, b = first.metrics.get(name, {}), last.metrics[name]

            def rate(key: str, a: dict[str, float] = a, b: dict[str, float] = b) -> float:
                return round((b.get(key, 0.0) - a.get(key, 0.0)) / span, 1)

            appends = b.get("candor_log_append_seconds_count", 0.0) - a.get("candor_log_append_seconds_count", 0.0)
            append_s = b.get("candor_log_append_seconds_sum", 0.0) - a.get("candor_log_append_seconds_sum", 0.0)
            out[name] = {
                "messages_in_per_s": {
                    key.split('kind="')[1].split('"')[0]: rate(key)
                    for key in b
                    if key.startswith("candor_messages_in_total{")
                },
                "messages_out_per_s": rate("candor_messages_out_total"),
                "log_records_per_s": rate("candor_log_records_total"),
                "log_appends_per_s": round(appends / span, 1),
                "log_append_mean_ms": round(1000 * append_s / appends, 2) if appends else None,
                "snapshots": int(b.get("candor_snapshots_total", 0.0) - a.get("candor_snapshots_total", 0.0)),
                "peers": b.get("candor_peers"),
                "rooms_loaded": b.get("candor_rooms_loaded"),
            }
        return out

    def _timeline(self, inside: list[Sample], step_s: float) -> list[dict[str, Any]]:
        """Every ``step_s``: CPU use per process, the rest of the machine, steal; to see when a run went wrong."""
        rows: list[dict[str, Any]] = []
        mark = inside[0]
        for sample in inside[1:]:
            if sample.t - mark.t < step_s and sample is not inside[-1]:
                continue
            span = sample.t - mark.t
            cpu = {
                name: round((sample.procs[name][0] - mark.procs[name][0]) / span, 2)
                for name in sample.procs
                if name in mark.procs
            }
            rss = {name: round(sample.procs[name][1] / 1024, 1) for name in sample.procs}
            busy = sum(sample.cpus[c][0] - mark.cpus[c][0] for c in sample.cpus) / CLK_TCK / span
            steal = [round(100 * (sample.cpus[c][1] - mark.cpus[c][1]) / CLK_TCK / span) for c in sorted(sample.cpus)]
            rows.append(
                {
                    "t": round(sample.t - inside[0].t, 1),
                    "cpu": cpu,
                    "rss_mb": rss,
                    "others": round(max(0.0, busy - sum(cpu.values())), 2),
                    "steal_pct": steal,
                }
            )
            mark = sample
        return rows


# An error or an unhandled exception, in JSON log lines (candor's default) or text ones (locust's).
ERROR_MARKS = ('"level": "error"', '"level": "critical"', "Traceback", " ERROR ", " CRITICAL ")


def server_errors(logs: Path, pattern: str = "candor-*.log") -> dict[str, Any]:
    """Lines of the candor processes' logs (or others') that report an error or an unhandled exception."""
    found = [
        line.strip()
        for log in sorted(logs.glob(pattern))
        for line in log.read_text(errors="replace").splitlines()
        if any(mark in line for mark in ERROR_MARKS)
    ]
    return {"count": len(found), "first": found[:5]}


def wait_for_quiet(max_wait_s: float, max_busy: float) -> tuple[float, float]:
    """Wait (bounded) until the machine's CPUs are busy less than ``max_busy`` cores for 5 s.

    Other people's tests and benchmarks share this machine; a run measured on
    top of them measures them. Returns (seconds waited, busy cores at the start).
    """
    start = time.monotonic()
    while True:
        before = cpu_times()
        time.sleep(5.0)
        after = cpu_times()
        busy = sum(after[c][0] - before[c][0] for c in after if c in before) / CLK_TCK / 5.0
        waited = time.monotonic() - start
        if busy < max_busy or waited >= max_wait_s:
            return round(waited, 1), round(busy, 2)


# -- the run ----------------------------------------------------------------------------


def scenario_from(args: argparse.Namespace) -> Scenario:
    base = SCENARIOS[args.scenario]
    behaviour = dict(base.behaviour)
    for key in ("note_every_s", "move_every_s", "vote_every_s", "presence_every_s", "sweep_dwell_s", "keep_notes"):
        value = getattr(args, key)
        if value is not None:
            behaviour[key] = value
    overrides = {
        "rooms": args.rooms,
        "per_room": args.per_room,
        "plenary_users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "drain_s": args.drain,
    }
    return dataclasses.replace(base, behaviour=behaviour, **{k: v for k, v in overrides.items() if v is not None})


def locust_command(scenario: Scenario, plan_path: Path, base: Path) -> list[str]:
    return [
        str(BIN / "locust"),
        "-f", str(HERE / "locustfile.py"),
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "-u", str(scenario.users), "-r", f"{scenario.spawn_rate:g}", "-t", f"{scenario.run_time_s}s",
        "--csv", str(base), "--html", f"{base}.html",
        "--plan", str(plan_path),
        *scenario.user_classes,
    ]  # fmt: skip


def summary_line(scenario: Scenario, mode: str, result: dict[str, Any], verdict: str, report: Path) -> str:
    s = result["locust"]
    lat = s["latency_ms"]
    pres = s["presence_latency_ms"]
    err = s["errors"]
    parts = [
        f"{scenario.name} {mode}: {verdict}",
        f"{s['users']} users",
        f"edits delivered p50 {lat['p50']} ms p99 {lat['p99']} ms (n={lat['n']:,})",
        f"presence p50 {pres['p50']} ms p99 {pres['p99']} ms (n={pres['n']:,})",
        f"{s['delivered_updates_per_s']:,.0f} updates/s delivered, {s['writes_per_s']:,.1f} writes/s,"
        f" {s['presence_received_per_s']:,.0f} presence/s",
        f"errors {err['count']}/{err['operations']:,} ({100 * err['rate']:.2f}%)",
    ]
    if scenario.plenary_users:
        sync = s["connect_ms"].get("connect+sync", {})
        synced = s["all_synced_s"]
        parts.append(
            f"{s['syncs']}/{s['expected_syncs']} synced"
            + (f" in {synced:.1f} s" if synced is not None else " (not all)")
            + f" (sync p50 {sync.get('p50')} p99 {sync.get('p99')} ms)"
        )
    if "Facilitator" in scenario.user_classes:
        opened = s["connect_ms"].get("open room", {})
        sweeps = s["sweeps_s"]
        parts.append(
            f"{s['rooms_opened']} rooms opened (p50 {opened.get('p50')} p99 {opened.get('p99')} ms)"
            + (f", full sweep {sweeps[0]:.1f} s" if sweeps else "")
        )
    parts.append(f"server log errors {result['server_log_errors']['count']}")
    machine = result.get("machine", {})
    for name, proc in machine.get("processes", {}).items():
        parts.append(
            f"{name} CPU {100 * proc['cpu_util']:.0f}% RSS {proc['rss_peak_mb']:.0f} MB"
            f" ({proc['rss_settled_mb']:.0f}→{proc['rss_end_mb']:.0f})"
        )
    after = result.get("after_load")
    if after:
        rss = ", ".join(f"{name} {mb:.0f} MB" for name, mb in after["rss_mb"].items())
        parts.append(f"{after['linger_s']:g} s after the load: RSS {rss}, rooms loaded {after['rooms_loaded']:g}")
    steal = machine.get("steal_pct", {})
    if steal:
        parts.append("steal " + "/".join(f"{v:.0f}%" for v in steal.values()))
    if "others_cpu_util" in machine:
        parts.append(f"others {100 * machine['others_cpu_util']:.0f}% CPU")
    parts.append(f"report {report.relative_to(REPO) if report.is_relative_to(REPO) else report}")
    return " | ".join(parts)


def linger(seconds: float, sampler: Sampler, servers: Servers) -> dict[str, Any]:
    """Keep the servers up ``seconds`` after the users left (their idle rooms are evicted); what they hold then."""
    time.sleep(seconds)
    last = sampler.samples[-1]
    names = [child.name for child in servers.children if child.name.startswith("candor")]
    rooms = sum(m.get("candor_rooms_loaded", 0.0) for m in map(scrape_metrics, servers.metrics_urls.values()))
    return {
        "linger_s": seconds,
        "rss_mb": {name: round(last.procs[name][1] / 1024, 1) for name in names if name in last.procs},
        "rooms_loaded": rooms,
    }


def run(args: argparse.Namespace, children: Children) -> int:
    scenario = scenario_from(args)
    mode = "single" if args.mode == "single" else f"{args.mode}-{args.processes}p"
    if args.mode == "redis-cluster":
        mode += f"-{args.shards}shards" + (f"-wait{args.wait_replicas}" if args.wait_replicas else "")
    mode += "-affinity" if args.mode != "single" and args.room_affinity else ""
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = out_dir / f"{scenario.name}-{mode}-{stamp}"
    work = Path(tempfile.mkdtemp(prefix="candor-load-"))
    logs = out_dir / "logs" / base.name
    logs.mkdir(parents=True, exist_ok=True)
    sampler = Sampler()
    waited_s, busy_at_start = wait_for_quiet(args.wait_quiet, args.quiet_below) if args.wait_quiet > 0 else (0.0, None)
    try:
        servers = start_servers(args, children, work, logs)
        for child in servers.children:
            sampler.watch(child.name, child.proc.pid, servers.metrics_urls.get(child.name))
        sampler.start()
        setup_start = time.monotonic()
        plan = make_plan(scenario, servers, work / "summary.json", affinity=args.room_affinity)
        setup_s = time.monotonic() - setup_start
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan))
        cmd = locust_command(scenario, plan_path, base)
        locust = children.start("locust", cmd, logs / "locust.log", args.locust_cpus)
        sampler.watch("locust", locust.proc.pid)
        try:
            locust.proc.wait(scenario.run_time_s + 60)
        except subprocess.TimeoutExpired:
            children.stop(locust)
            print(f"{scenario.name} {mode}: locust did not finish in time; see {locust.log}", file=sys.stderr)
            return 2
        summary_path = work / "summary.json"
        if not summary_path.exists():
            print(f"{scenario.name} {mode}: locust wrote no summary; see {locust.log}", file=sys.stderr)
            print(locust.log.read_text(errors="replace")[-3000:], file=sys.stderr)
            return 2
        summary = json.loads(summary_path.read_text())
        window = summary["window"]
        machine = sampler.window(window["start_wall"], window["end_wall"])
        after_load = linger(args.linger, sampler, servers) if args.linger > 0 else {}
        for child in reversed(servers.children):  # the candor processes first: they flush to Redis on the way out
            children.stop(child)
    finally:
        sampler.stop()
        shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.replace(f"{base}_stats.csv", f"{base}.csv")
    errors_logged = server_errors(logs)
    generator_errors = server_errors(logs, "locust.log")  # a task that raised: the run's own bug
    p99 = summary["latency_ms"]["p99"]
    error_rate = summary["errors"]["rate"]
    failures = []
    if p99 is None or p99 > args.max_p99_ms:
        failures.append(f"p99 {p99} ms > {args.max_p99_ms:g} ms")
    presence_p99 = summary["presence_latency_ms"]["p99"]
    if presence_p99 is not None and presence_p99 > args.max_presence_p99_ms:
        failures.append(f"presence p99 {presence_p99} ms > {args.max_presence_p99_ms:g} ms")
    if error_rate > args.max_error_rate:
        failures.append(f"error rate {error_rate:.4f} > {args.max_error_rate:g}")
    if errors_logged["count"]:
        failures.append(f"{errors_logged['count']} errors in the server log, first: {errors_logged['first'][0]}")
    if generator_errors["count"]:
        failures.append(f"{generator_errors['count']} errors in the locust log, first: {generator_errors['first'][0]}")
    verdict = "PASS" if not failures else "FAIL (" + "; ".join(failures) + ")"
    result = {
        "scenario": dataclasses.asdict(scenario),
        "mode": mode,
        "started": stamp,
        "command": sys.argv,
        "locust_command": cmd,
        "setup_s": round(setup_s, 2),
        "run_time_s": scenario.run_time_s,
        "thresholds": {
            "max_p99_ms": args.max_p99_ms,
            "max_presence_p99_ms": args.max_presence_p99_ms,
            "max_error_rate": args.max_error_rate,
        },
        "verdict": verdict,
        "locust": summary,
        "machine": machine,
        "after_load": after_load,
        "server_log_errors": errors_logged,
        "locust_log_errors": generator_errors,
        "cpus": {"server": args.server_cpus, "locust": args.locust_cpus, "online": os.cpu_count()},
        "waited_for_quiet_s": waited_s,
        "others_busy_cores_at_start": busy_at_start,
    }
    report = base.with_suffix(".json")
    report.write_text(json.dumps(result, indent=2))
    print(summary_line(scenario, mode, result, verdict, report), flush=True)
    return 0 if not failures else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--mode", choices=("single", "redis", "redis-cluster"), default="single")
    p.add_argument("--shards", type=int, default=3, help="redis-cluster mode: primaries (each with a replica)")
    p.add_argument(
        "--wait-replicas", type=int, default=0, help="redis-cluster mode: candor serve --redis-wait-replicas N"
    )
    p.add_argument("--processes", type=int, default=2, help="candor processes in Redis mode (default 2)")
    p.add_argument(
        "--room-affinity",
        action="store_true",
        help="Redis mode: every member of a room on the same process (default: each room spread over all)",
    )
    p.add_argument("--rooms", type=int, help="breakout rooms")
    p.add_argument("--per-room", type=int, help="participants per breakout room")
    p.add_argument("--users", type=int, help="plenary participants (plenary-surge)")
    p.add_argument("--spawn-rate", type=float, help="users started per second")
    p.add_argument("--duration", type=float, help="seconds measured (after spawning and warm-up)")
    p.add_argument("--warmup", type=float)
    p.add_argument("--drain", type=float)
    p.add_argument("--note-every", dest="note_every_s", type=float, help="seconds between a user's notes")
    p.add_argument("--move-every", dest="move_every_s", type=float)
    p.add_argument("--vote-every", dest="vote_every_s", type=float)
    p.add_argument("--presence-every", dest="presence_every_s", type=float)
    p.add_argument("--keep-notes", dest="keep_notes", type=int, help="each user deletes its oldest note beyond this")
    p.add_argument("--dwell", dest="sweep_dwell_s", type=float, help="seconds the facilitator stays in a room")
    p.add_argument(
        "--linger",
        type=float,
        default=0.0,
        help="keep the servers up this many seconds after the load and report their RSS then "
        "(longer than candor's --idle-timeout, 60 s, to see the idle rooms evicted)",
    )
    p.add_argument("--max-p99-ms", type=float, default=100.0)
    p.add_argument(
        "--max-presence-p99-ms",
        type=float,
        default=500.0,
        help="presence is gathered by the server (one frame per --presence-interval): judged apart from edits",
    )
    p.add_argument("--max-error-rate", type=float, default=0.01)
    p.add_argument("--server-cpus", default="0", help="taskset CPU list for the server side ('' = no pinning)")
    p.add_argument("--locust-cpus", default="1", help="taskset CPU list for locust ('' = no pinning)")
    p.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--redis-fsync", choices=("always", "everysec", "no"), default="everysec")
    p.add_argument("--out-dir", default=str(HERE / "reports"))
    p.add_argument(
        "--wait-quiet", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    p.add_argument("--quiet-below", type=float, default=0.3, help="idle: fewer busy CPU cores than this (default 0.3)")
    args = p.parse_args(argv)
    if args.processes < 1:
        p.error("--processes must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    children = Children()

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    try:
        return run(args, children)
    except KeyboardInterrupt:
        print(f"{args.scenario}: interrupted; stopping what was started", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"{args.scenario}: {exc}", file=sys.stderr)
        return 2
    finally:
        children.stop_all()


if __name__ == "__main__":
    sys.exit(main())
