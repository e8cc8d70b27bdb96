"""./scripts/serve on a second run: nothing is installed again, so it starts in seconds without a package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from webtools import ROOT

# Stands in for the virtual environment's Python: records each call, and "installs" the candor command.
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
case "$*" in *"pip install"*" -e "*) touch "$(dirname "$0")/candor"; chmod +x "$(dirname "$0")/candor";; esac
"""


def run_setup(project: Path) -> list[str]:
    calls = project / ".venv" / "bin" / "calls"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}
    done = subprocess.run([str(project / "scripts" / "setup")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def test_serve_installs_once_then_only_when_pyproject_changes(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'candor'\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    assert any("install -q -e ." in call for call in run_setup(tmp_path))  # the first run installs
    started = time.monotonic()
    assert run_setup(tmp_path) == []  # the second touches neither pip nor the package index
    assert time.monotonic() - started < 2
    installed = time.time() - 10  # pyproject.toml changed after the last install
    os.utime(tmp_path / ".venv" / ".candor-installed", (installed, installed))
    assert any("install -q -e ." in call for call in run_setup(tmp_path))  # a changed project installs again
    assert run_setup(tmp_path) == []
