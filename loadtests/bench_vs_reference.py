#!/usr/bin/env python3
"""Candor beside the reference y-websocket server, with the shared benchmark harness.

Runs the harness's own load generator (``ywsbench.py``, through its ``run_peer.py``:
server pinned to CPU 0, generator to CPU 1, a fresh server per run, loopback only)
against Candor and the reference Node server (the harness's ``yws`` peer) on the
"unconference" and "busy room" scenarios, ``--repeats`` times each, interleaving the
peers (their order alternates from one repeat to the next). Every run is appended as
one JSON line to ``--out`` (under ``loadtests/reports/``, git-ignored); at the end a
markdown table of medians is printed.

Candor gets a fresh temporary data directory for every run (removed afterwards); after
the run the number of records in its event log is compared with the notes the
generator sent (``candor_log_records``), as a check that every update was logged.

  python3 loadtests/bench_vs_reference.py                       # 2 scenarios x 3 repeats x 2 peers, ~10 min
  python3 loadtests/bench_vs_reference.py --repeats 1 --scenarios busy-room
  python3 loadtests/bench_vs_reference.py --repeats 1 --scenarios unconference --duration 540   # memory over 9 min
  python3 loadtests/bench_vs_reference.py --report loadtests/reports/vs-reference-*.jsonl

Needs: the harness (``--bench-dir``, default ``../shared/bench`` next to this repository)
installed with its ``peers/install.sh`` (generator venv and peers under ``$BENCH_STATE``,
default ``~/.cache/candor-bench``), and Candor installed in ``.venv`` (``scripts/setup``).
Stdlib only; every run is bounded by time, and only processes started here are stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchkit import (
    fmt,
    load_jsonl,
    machine_busy_s,
    med,
    own_tree_cpu_s,
    port_open,
    snapshot_code,
    tree_fingerprint,
    wait_for_quiet_machine,
)

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "loadtests" / "reports"

# generator arguments, as in the harness's README/run_matrix.py
SCENARIOS: dict[str, list[str]] = {
    "unconference": ["--rooms", "100", "--clients", "10", "--rate", "0.2", "--duration", "30", "--warmup", "5"],
    "busy-room": ["--rooms", "10", "--clients", "30", "--rate", "1", "--duration", "30", "--warmup", "5"],
}
REFERENCE = "yws"
CANDOR = "candor"
P99_TARGET_RATIO = 1.5
# the harness's definition of a quiet run (bench/report.py)
QUIET_STEAL_PCT = 10.0
QUIET_STALL_MS = 100.0
OTHER_LOAD_PCT = 10.0  # CPU used by processes outside the benchmark during the run, % of one core
NA = "\u2013"  # en dash: no value
RUN_TIMEOUT_S = 900  # hard cap on one run_peer.py call (the generator itself is capped at 600 s)
# The harness stops a generator after 600 s, connecting and warming up included.
MAX_DURATION_S = 540


def default_bench_state() -> Path:
    state = os.environ.get("BENCH_STATE")
    if state:
        return Path(state)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "candor-bench"


def log_record_count(data_dir: Path) -> int | None:
    db = data_dir / "candor.sqlite3"
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM log").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def candor_serve_options(prefix: list[str]) -> str:
    try:
        res = subprocess.run([*prefix, "serve", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout


def default_candor_args(serve_help: str) -> list[str]:
    """Options the benchmark needs, for the servers that have them."""
    args = []
    # the generator uses free-form room names (bench-s<seed>-<n>): a server that only serves
    # rooms of registered events needs its generic mode
    if "--open-rooms" in serve_help:
        args.append("--open-rooms")
    # every client of the generator comes from 127.0.0.1: a per-address connection cap meant
    # for the public internet must admit all of them (1,000 in the unconference)
    if "--max-connections-per-address" in serve_help:
        most = max(int(g[g.index("--rooms") + 1]) * int(g[g.index("--clients") + 1]) for g in SCENARIOS.values())
        args += ["--max-connections-per-address", str(2 * most)]
    return args


def preflight(prefix: list[str], extra: list[str], port: int, parent: str | None) -> tuple[bool, str]:
    """Start Candor once, wait (≤ 20 s) for /healthz, stop it by its PID: can it serve at all?"""
    data = Path(tempfile.mkdtemp(prefix="candor-bench-", dir=parent))
    log = data / "server.log"
    cmd = [*prefix, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data / "d"),
           "--log-level", "warning", *extra]  # fmt: skip
    ok = False
    with open(log, "w") as fh:
        server = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    ok = resp.status == 200
                    break
            except OSError:
                time.sleep(0.2)
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        text = log.read_text(errors="replace")
        shutil.rmtree(data, ignore_errors=True)
    return ok, text


def run_peer(
    a: argparse.Namespace, peer: str, scenario: str, repeat: int, order: int, gen_args: list[str], attempt: int = 1
) -> dict[str, Any] | None:
    """One measurement through the harness's run_peer.py; returns its JSON record (augmented)."""
    print(f"== {peer} {scenario} #{repeat}" + (f" (attempt {attempt})" if attempt > 1 else ""), flush=True)
    pre_load, waited = wait_for_quiet_machine(a.max_other_load, a.quiet_wait)
    if pre_load >= a.max_other_load:
        print(f"   (other processes still use {pre_load:.0f} % of a core after {waited:.0f} s; running anyway)")
    data_dir: Path | None = None
    opts = ["--peer", peer]
    url_override: list[str] = []
    if peer == CANDOR:
        data_dir = Path(tempfile.mkdtemp(prefix="candor-bench-", dir=a.data_parent))
        start = [
            *a.candor_prefix, "serve", "--host", "127.0.0.1", "--port", str(a.candor_port),
            "--data", str(data_dir), "--log-level", "warning", *a.candor_args,
        ]  # fmt: skip
        opts += ["--start-cmd", shlex.join(start), "--port", str(a.candor_port), "--protocol", "yws"]
        # run_peer.py puts its own --url (ws://HOST:PORT/{room}) first; a later --url wins in
        # ywsbench's argparse, so this points the generator at Candor's /ws/{room} endpoint.
        url_override = ["--url", f"ws://127.0.0.1:{a.candor_port}/ws/{{room}}"]
    if a.steal_probe is not None:
        opts += ["--steal-probe", str(a.steal_probe), "--quiet-wait", "45"]
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl", dir=REPORTS, delete=False) as tmp:
        tmp_out = Path(tmp.name)
    cmd = [
        str(a.bench_python), str(a.bench_dir / "run_peer.py"), *opts,
        "--scenario", scenario, "--repeat", str(repeat), "--attempt", str(attempt),
        "--out", str(tmp_out), "--logs", str(a.logs),
        "--", *gen_args, *url_override,
    ]  # fmt: skip
    try:
        busy0, own0, t0 = machine_busy_s(), own_tree_cpu_s(), time.monotonic()
        # run_peer.py stops the server it started in a `finally`; on a timeout or an interrupt we
        # send it SIGINT (its KeyboardInterrupt runs that `finally`), and kill it only after that.
        proc = subprocess.Popen(cmd, cwd=REPO)
        try:
            rc = proc.wait(RUN_TIMEOUT_S)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            print(f"!! {peer} {scenario} #{repeat}: stopping run_peer.py", flush=True)
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            if isinstance(exc, KeyboardInterrupt):
                raise
            rc = -1
        # CPU that neither this benchmark nor its servers/generators used during the run
        # (another job on the machine, e.g. a test suite): % of one core, averaged over the run
        elapsed = time.monotonic() - t0
        other_cpu_s = max(0.0, (machine_busy_s() - busy0) - (own_tree_cpu_s() - own0))
        lines = [ln for ln in tmp_out.read_text().splitlines() if ln.strip()]
        rec: dict[str, Any] | None = json.loads(lines[-1]) if (rc == 0 and lines) else None
        if rec is None:
            print(f"!! {peer} {scenario} #{repeat} failed (rc={rc}); logs in {a.logs}", flush=True)
            return None
        rec["run_order"] = order
        rec["bench_script"] = "loadtests/bench_vs_reference.py"
        rec["run_elapsed_s"] = round(elapsed, 1)
        rec["other_cpu_pct"] = round(100.0 * other_cpu_s / elapsed, 1)
        rec["pre_other_cpu_pct"] = round(pre_load, 1)
        rec["other_load_wait_s"] = round(waited, 1)
        rec["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if data_dir is not None:
            rec["candor_tree_sha256"] = a.candor_fingerprint
            rec["candor_source"] = a.candor_source_note
            rec["candor_cmd_extra"] = a.candor_args
            rec["candor_log_records"] = log_record_count(data_dir)
            rec["candor_data_bytes"] = dir_bytes(data_dir)
            rec["candor_url"] = url_override[1]
        return rec
    finally:
        tmp_out.unlink(missing_ok=True)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


# -- report ---------------------------------------------------------------------------


def srv(r: dict[str, Any], key: str) -> float | None:
    value = (r.get("server") or {}).get(key)
    return None if value is None else float(value)


def is_quiet(r: dict[str, Any]) -> bool:
    st: dict[str, float] = r.get("steal_pct") or {}
    stall = (r.get("loop_stall_ms") or {}).get("max")
    return bool(st) and max(st.values()) < QUIET_STEAL_PCT and stall is not None and stall < QUIET_STALL_MS


def is_undisturbed(r: dict[str, Any]) -> bool:
    """Quiet by the harness's definition, and other processes used < OTHER_LOAD_PCT of a core."""
    other = r.get("other_cpu_pct")
    return is_quiet(r) and other is not None and other < OTHER_LOAD_PCT


def p99(r: dict[str, Any]) -> float | None:
    value = r["latency_ms"].get("p99")
    return None if value is None else float(value)


def med_max(vals: Iterable[float | None]) -> str:
    v = [x for x in vals if x is not None]
    return f"{fmt(med(v), 0)} ({fmt(max(v), 0)})" if v else NA


def report(all_rows: list[dict[str, Any]]) -> str:
    rows, dropped = last_attempts(all_rows)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["scenario"], r["peer"])].append(r)
    scen_order = [s for s in SCENARIOS if any(k[0] == s for k in groups)]
    peers = sorted({k[1] for k in groups}, key=lambda p: (p != CANDOR, p))
    out = [
        "| scenario | peer | runs (quiet / undisturbed) | delivered msg/s | p50 ms | p99 ms | p99 ms, undisturbed runs "
        "| server CPU ms / 1k delivered | server CPU % | peak RSS MB | errors | lost notes "
        "| steal % CPU0 / CPU1 | other load, % of a core: median (max) | generator CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scen in scen_order:
        for peer in peers:
            g = groups.get((scen, peer))
            if not g:
                continue
            q = [r for r in g if is_quiet(r)]
            u = [r for r in g if is_undisturbed(r)]
            steal0 = med_max((r.get("steal_pct") or {}).get("cpu0") for r in g)
            steal1 = med_max((r.get("steal_pct") or {}).get("cpu1") for r in g)
            cpu_util = med(srv(r, "cpu_util") for r in g)
            out.append(
                f"| {scen} | {peer} | {len(g)} ({len(q)} / {len(u)}) "
                f"| {fmt(med(r['delivered_msgs_per_s'] for r in g))} "
                f"| {fmt(med(r['latency_ms']['p50'] for r in g), 2)} | {fmt(med(p99(r) for r in g), 2)} "
                f"| {fmt(med(p99(r) for r in u), 2) if u else NA} "
                f"| {fmt(med(srv(r, 'cpu_ms_per_1k_delivered') for r in g))} "
                f"| {fmt(None if cpu_util is None else cpu_util * 100, 0)} "
                f"| {fmt(med(srv(r, 'rss_peak_mb') for r in g), 0)} "
                f"| {sum(r['errors'] for r in g)} | {sum(r['lost_notes'] or 0 for r in g)} "
                f"| {steal0} / {steal1} | {med_max(r.get('other_cpu_pct') for r in g)} "
                f"| {fmt(med(r['generator']['cpu_util'] * 100 for r in g), 0)} |"
            )
    out += [
        "",
        "Medians over all runs (errors and lost notes: totals). Quiet = the harness's definition (vCPU steal "
        f"< {QUIET_STEAL_PCT:.0f} % on both CPUs and no generator event-loop stall > {QUIET_STALL_MS:.0f} ms); "
        f"undisturbed = quiet, and processes outside the benchmark used < {OTHER_LOAD_PCT:.0f} % of a core "
        "during the run (other load).",
    ]
    if dropped:
        out.append(
            f"{dropped} disturbed attempt(s) were repeated; the table uses the last attempt of each run "
            "(all attempts are in the JSON lines file)."
        )
    prints = sorted({r["candor_tree_sha256"] for r in rows if r["peer"] == CANDOR and r.get("candor_tree_sha256")})
    changed = [r for r in rows if r.get("candor_tree_changed_during_run")]
    if len(prints) > 1 or changed:
        out += [
            "",
            f"**Warning:** the Candor source changed between or during runs (fingerprints {', '.join(prints)}; "
            f"{len(changed)} run(s) saw a change while running): these runs did not all measure the same code.",
        ]
    elif prints:
        out += ["", f"Candor source fingerprint (sha256 of server/candor/**/*.py): `{prints[0]}`."]
    # p99 ratio Candor / reference
    if CANDOR in peers and REFERENCE in peers:
        out += [
            "",
            f"| scenario | {CANDOR} p99 / {REFERENCE} p99: medians, all runs | medians, undisturbed runs "
            f"| per repeat (the two runs back to back) | target ≤ {P99_TARGET_RATIO}x (all runs) |",
            "|---|---|---|---|---|",
        ]
        for scen in scen_order:
            c, y = groups.get((scen, CANDOR), []), groups.get((scen, REFERENCE), [])
            if not c or not y:
                continue
            cm, ym = med(p99(r) for r in c), med(p99(r) for r in y)
            ratio = cm / ym if cm is not None and ym else None
            cu = med(p99(r) for r in c if is_undisturbed(r))
            yu = med(p99(r) for r in y if is_undisturbed(r))
            uratio = f"{cu / yu:.2f}x ({fmt(cu, 2)} / {fmt(yu, 2)} ms)" if cu is not None and yu else NA
            by_rep_c = {r["repeat"]: p99(r) for r in c}
            by_rep_y = {r["repeat"]: p99(r) for r in y}
            pairs = []
            for rep in sorted(set(by_rep_c) & set(by_rep_y)):
                cv, yv = by_rep_c[rep], by_rep_y[rep]
                if cv is not None and yv:
                    pairs.append(f"#{rep}: {cv / yv:.1f}x")
            verdict = NA if ratio is None else ("met" if ratio <= P99_TARGET_RATIO else "**missed**")
            out.append(
                f"| {scen} | {fmt(ratio, 2)}x ({fmt(cm, 2)} / {fmt(ym, 2)} ms) | {uratio} "
                f"| {', '.join(pairs) or NA} | {verdict} |"
            )
    # durability check
    logged = [r for r in rows if r["peer"] == CANDOR and "candor_log_records" in r]
    if logged:
        out += ["", "Candor event log after each run (records in its `log` table / notes the generator sent):", ""]
        for scen in scen_order:
            g = sorted((r for r in logged if r["scenario"] == scen), key=lambda r: r["repeat"])
            if g:
                runs = ", ".join(f"#{r['repeat']}: {r['candor_log_records']} / {r['notes_sent']}" for r in g)
                ok = all(r["candor_log_records"] == r["notes_sent"] for r in g)
                out.append(f"* {scen}: {runs}{' (every note logged)' if ok else ' **(mismatch)**'}")
    return "\n".join(out)


def last_attempts(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The last attempt of every (file, scenario, peer, repeat), and how many earlier attempts were dropped."""
    last: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for r in rows:
        key = (r.get("_source", ""), r["scenario"], r["peer"], r["repeat"])
        if key not in last or r.get("attempt", 1) >= last[key].get("attempt", 1):
            last[key] = r
    return list(last.values()), len(rows) - len(last)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--bench-dir",
        type=Path,
        default=REPO.parent / "shared" / "bench",
        help="the harness directory (default: ../shared/bench relative to the repository root)",
    )
    p.add_argument(
        "--bench-python",
        type=Path,
        default=None,
        help="the harness venv's python (default: $BENCH_STATE/.venv/bin/python, "
        "BENCH_STATE defaulting to ~/.cache/candor-bench)",
    )
    p.add_argument(
        "--python",
        type=Path,
        default=REPO / ".venv" / "bin" / "python",
        help="the python of Candor's venv (default .venv/bin/python); it runs a snapshot of server/candor",
    )
    p.add_argument(
        "--no-snapshot",
        action="store_true",
        help="run the installed `candor` command (.venv/bin/candor) instead of a snapshot of server/candor "
        "taken at the start (a snapshot keeps every run of a pass on the same code while the tree is edited)",
    )
    p.add_argument(
        "--wait-for-source",
        type=float,
        default=600.0,
        metavar="S",
        help="if Candor does not start (a tree in the middle of an edit), retry a fresh snapshot for up to S s",
    )
    p.add_argument("--candor-port", type=int, default=1240)
    p.add_argument(
        "--candor-arg",
        dest="candor_args",
        action="append",
        default=None,
        help="option for `candor serve` (repeatable); default: --open-rooms and --max-connections-per-address 2000 "
        "when the server has them",
    )
    p.add_argument("--peers", default=f"{CANDOR},{REFERENCE}")
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds each run measures, for a longer look at memory (default: the scenario's 30; at most 540)",
    )
    p.add_argument("--first-repeat", type=int, default=1, help="first repeat number (= generator --seed)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON lines file to append to (default loadtests/reports/vs-reference-<time>.jsonl)",
    )
    p.add_argument("--logs", type=Path, default=REPORTS / "logs", help="server and generator logs of every run")
    p.add_argument(
        "--data-parent", default=None, help="where Candor's temporary data directories go (default: $TMPDIR)"
    )
    p.add_argument(
        "--steal-probe",
        type=float,
        default=None,
        metavar="PCT",
        help="passed to run_peer.py: wait (≤ 45 s) for a busy probe to show vCPU steal < PCT",
    )
    p.add_argument(
        "--max-other-load",
        type=float,
        default=10.0,
        metavar="PCT",
        help="before each run, wait while processes outside the benchmark use more than PCT %% of a core",
    )
    p.add_argument("--retries", type=int, default=2, help="repeat a disturbed run up to this many times (default 2)")
    p.add_argument("--quiet-wait", type=float, default=180.0, help="... but at most this many seconds (default 180)")
    p.add_argument("--report", type=Path, nargs="+", metavar="JSONL", help="only print the table for these files")
    a = p.parse_args()

    if a.report:
        print(report(load_jsonl(a.report, tag_source=True)))
        return 0

    a.bench_dir = a.bench_dir.resolve()
    if a.bench_python is None:
        a.bench_python = default_bench_state() / ".venv" / "bin" / "python"
    for need in (a.bench_dir / "run_peer.py", a.bench_dir / "ywsbench.py", a.bench_python, a.python):
        if not need.exists():
            p.error(f"{need} not found (see --bench-dir / --bench-python / --python and the harness's install.sh)")
    peers = a.peers.split(",")
    scenarios = a.scenarios.split(",")
    for s in scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    if a.duration is not None and not 1 <= a.duration <= MAX_DURATION_S:
        p.error(f"--duration must be 1-{MAX_DURATION_S} seconds (the harness stops a generator after 600 s)")
    REPORTS.mkdir(parents=True, exist_ok=True)
    a.logs.mkdir(parents=True, exist_ok=True)
    out: Path = a.out or REPORTS / f"vs-reference-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    if CANDOR in peers and port_open(a.candor_port):
        p.error(f"port {a.candor_port} is already in use; pick another with --candor-port")

    signal.signal(signal.SIGTERM, _interrupt)
    snap: Path | None = None
    try:
        if CANDOR in peers:
            ok, snap = prepare_candor(a)
            if not ok:
                return 1
        print(f"results -> {out}", flush=True)
        run_all(a, peers, scenarios, out)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if snap:
            shutil.rmtree(snap, ignore_errors=True)
    print()
    print(report(load_jsonl([out], tag_source=True)) if out.exists() else "no run succeeded")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def prepare_candor(a: argparse.Namespace) -> tuple[bool, Path | None]:
    """Set a.candor_prefix/_args/_fingerprint; returns (Candor starts, the snapshot directory or None)."""
    src = REPO / "server" / "candor"
    deadline = time.monotonic() + a.wait_for_source
    while True:
        snap: Path | None = None
        if a.no_snapshot:
            a.candor_prefix = [str(a.python.parent / "candor")]
            a.candor_fingerprint = tree_fingerprint(src)
            a.candor_source_note = "installed candor command (server/candor as it was at each run)"
        else:
            snap = Path(tempfile.mkdtemp(prefix="candor-bench-src-", dir=a.data_parent))
            code = snapshot_code(snap)
            a.candor_prefix = ["env", f"PYTHONPATH={code}", str(a.python), "-m", "candor"]
            a.candor_fingerprint = tree_fingerprint(code / "candor")
            a.candor_source_note = f"snapshot of server/candor taken {time.strftime('%Y-%m-%dT%H:%M:%S%z')}"
        if a.candor_args is None:
            a.candor_args = default_candor_args(candor_serve_options(a.candor_prefix))
        ok, log = preflight(a.candor_prefix, a.candor_args, a.candor_port, a.data_parent)
        if ok:
            print(f"candor: {a.candor_source_note}, sha256 {a.candor_fingerprint}, options {a.candor_args}")
            return True, snap
        if snap is not None:
            shutil.rmtree(snap, ignore_errors=True)
        if time.monotonic() > deadline:
            print(f"Candor does not start:\n{log[-3000:]}", file=sys.stderr)
            return False, None
        print("candor does not start (yet); trying a fresh snapshot in 20 s", flush=True)
        time.sleep(20)


def generator_args(scenario: str, duration: float | None) -> list[str]:
    """The scenario's generator arguments, measuring ``duration`` seconds instead of its own when given."""
    args = list(SCENARIOS[scenario])
    if duration is not None:
        args[args.index("--duration") + 1] = f"{duration:g}"
    return args


def run_all(a: argparse.Namespace, peers: list[str], scenarios: list[str], out: Path) -> None:
    order = 0
    for scenario in scenarios:
        for rep in range(a.first_repeat, a.first_repeat + a.repeats):
            # interleave the peers, alternating who goes first
            for peer in peers if rep % 2 else list(reversed(peers)):
                # a run disturbed by the host (steal, generator stalls) or by other processes is
                # repeated (up to --retries times); the report keeps the last attempt of each run
                for attempt in range(1, a.retries + 2):
                    order += 1
                    rec = run_peer(a, peer, scenario, rep, order, generator_args(scenario, a.duration), attempt)
                    if rec is None:
                        break
                    with open(out, "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    if is_undisturbed(rec):
                        break
                    if attempt <= a.retries:
                        print(
                            f"   disturbed (steal {rec.get('steal_pct')}, generator stall "
                            f"{rec['loop_stall_ms']['max']} ms, other load {rec.get('other_cpu_pct')} %): again",
                            flush=True,
                        )


if __name__ == "__main__":
    sys.exit(main())
