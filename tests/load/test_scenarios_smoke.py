"""Smoke runs of every load scenario at toy sizes: run_scenario.py starts a server, runs locust, judges, cleans up."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "loadtests" / "run_scenario.py"

# A few users for a few seconds: enough for every action, echo and delivery to happen.
SMALL = {
    "unconference": [
        "--rooms", "2", "--per-room", "3", "--duration", "2.5", "--warmup", "0.5", "--drain", "1.5",
        "--note-every", "0.5", "--move-every", "1", "--vote-every", "1", "--presence-every", "1",
    ],
    "plenary-surge": [
        "--users", "12", "--spawn-rate", "12", "--duration", "2", "--drain", "1.5",
        "--note-every", "1", "--presence-every", "1",
    ],
    "facilitator-sweep": [
        "--rooms", "3", "--per-room", "2", "--duration", "2.5", "--warmup", "0.5", "--drain", "1.5", "--dwell", "0.2",
    ],
}  # fmt: skip

SUMMARY = re.compile(
    r"^(?P<scenario>[\w-]+) single: PASS \| \d+ users \| edits delivered p50 [\d.]+ ms p99 [\d.]+ ms \(n=[\d,]+\) \| "
    r"presence p50 \S+ ms p99 \S+ ms \(n=[\d,]+\) \| "
    r".* errors 0/[\d,]+ \(0\.00%\) \| .*server log errors 0 \| candor:\d+ CPU \d+% RSS \d+ MB \(\d+→\d+\) \| "
    r"locust CPU \d+% .*"
    r"\| report (?P<report>\S+\.json)$"
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scenario", sorted(SMALL))
def test_a_small_run_of_the_scenario_passes_and_prints_one_summary_line(scenario: str, tmp_path: Path) -> None:
    # The suite shares the machine: no pinning, and a latency bound that only catches a broken run.
    shared_machine = ["--server-cpus", "", "--locust-cpus", "", "--max-p99-ms", "2000", "--max-presence-p99-ms", "2000"]
    command = [sys.executable, str(RUNNER), scenario, *SMALL[scenario], *shared_machine, "--out-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=55, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = SUMMARY.match(lines[0])
    assert match is not None, lines[0]
    assert match["scenario"] == scenario
    report = json.loads(Path(match["report"]).read_text())
    measured = report["locust"]
    assert measured["latency_ms"]["n"] > 0
    assert sum(minute["n"] for minute in measured["latency_ms_by_minute"]) == measured["latency_ms"]["n"]
    assert report["server_log_errors"] == {"count": 0, "first": []}
    assert measured["syncs"] >= measured["expected_syncs"]
    assert {"note", "presence"} <= set(measured["latency_ms_by_kind"])
    # Edits are judged by their delivery, presence (gathered by the server on purpose) apart.
    assert measured["presence_latency_ms"]["n"] == measured["latency_ms_by_kind"]["presence"]["n"] > 0
    assert measured["latency_ms"]["n"] == sum(
        kind["n"] for name, kind in measured["latency_ms_by_kind"].items() if name != "presence"
    )
    assert (tmp_path / Path(match["report"]).with_suffix(".csv").name).exists()
    assert (tmp_path / Path(match["report"]).with_suffix(".html").name).exists()
