"""What the benchmarks in loadtests/ share: the code they measure, quiet-machine checks, and table helpers.

Stdlib only, so that any of them runs with the interpreter that runs Candor.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


# -- the code a run measures --------------------------------------------------------------


def snapshot_code(dest: Path) -> Path:
    """Copy server/candor (and the schemas/ it reads at run time) under ``dest``; the directory for PYTHONPATH.

    Every run of a pass then measures the same code, even while someone edits the working tree.
    The layout mirrors the repository's (``dest/code/candor`` beside ``dest/schemas``), as
    candor.schemas finds the schemas two levels above the package.
    """
    code = dest / "code"
    shutil.copytree(REPO / "server" / "candor", code / "candor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "schemas", dest / "schemas")
    return code


def tree_fingerprint(root: Path) -> str | None:
    """sha256 (12 hex digits) of every .py file under ``root``: which server code a run measured."""
    if not root.is_dir():
        return None
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# -- is the machine quiet? ----------------------------------------------------------------


def machine_busy_s() -> float:
    """CPU seconds all CPUs spent in processes (user, nice, system; not irq/softirq, idle, iowait, steal)."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:4]]
    return sum(v) / os.sysconf("SC_CLK_TCK")


def own_tree_cpu_s() -> float:
    """CPU seconds of this process plus every descendant it (transitively) waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def other_load_pct(seconds: float) -> float:
    """CPU used by processes outside this benchmark over ``seconds``, in % of one core."""
    busy0, own0 = machine_busy_s(), own_tree_cpu_s()
    time.sleep(seconds)
    return max(0.0, 100.0 * ((machine_busy_s() - busy0) - (own_tree_cpu_s() - own0)) / seconds)


def wait_for_quiet_machine(max_pct: float, max_wait: float) -> tuple[float, float]:
    """Wait (at most ``max_wait`` s) until other processes use less than ``max_pct`` % of a core.

    The developer's test suite may run on the same 2-vCPU machine; returns (load %, seconds waited).
    """
    t0 = time.monotonic()
    load = other_load_pct(2.0)
    while load >= max_pct and time.monotonic() - t0 < max_wait:
        time.sleep(3.0)
        load = other_load_pct(2.0)
    return load, time.monotonic() - t0


# -- tables -------------------------------------------------------------------------------


def med(vals: Iterable[float | None]) -> float | None:
    """The median of the values that are there."""
    present = [v for v in vals if v is not None]
    return statistics.median(present) if present else None


def fmt(v: float | None, nd: int = 1) -> str:
    if v is None:
        return "\u2013"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def load_jsonl(paths: Iterable[Path], *, tag_source: bool = False) -> list[dict[str, Any]]:
    """Every JSON line of every file; with ``tag_source`` each row says which file it came from."""
    rows = []
    for path in paths:
        with open(path) as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    rows.append(dict(row, _source=str(path)) if tag_source else row)
    return rows
