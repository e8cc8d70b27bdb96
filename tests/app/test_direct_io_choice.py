"""How websockets are served, chosen at start-up: Candor's protocol class only with the versions it was tested with."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from candor.cli import build_parser, settings_from_args
from candor.http.direct import ASGI_WS, TESTED, fast_path_problem, installed_versions, ws_protocol
from candor.http.ws_protocol import DirectWebSocketProtocol
from candor.settings import Settings

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

releases = st.tuples(st.integers(0, 30), st.integers(0, 70), st.integers(0, 9))


def dotted(release: tuple[int, ...]) -> str:
    return ".".join(map(str, release))


def within(package: str, release: tuple[int, ...]) -> bool:
    lowest, below = (tuple(int(part) for part in bound.split(".")) for bound in TESTED[package])
    return lowest <= release < below


@given(uvicorn=releases, websockets=releases, suffix=st.sampled_from(["", ".post1", "rc1", "+local"]))
def test_the_fast_path_runs_only_with_versions_in_the_tested_ranges(
    uvicorn: tuple[int, ...], websockets: tuple[int, ...], suffix: str
) -> None:
    problem = fast_path_problem({"uvicorn": dotted(uvicorn) + suffix, "websockets": dotted(websockets) + suffix})
    assert (problem is None) == (within("uvicorn", uvicorn) and within("websockets", websockets))
    if problem is not None:
        assert "outside the tested range" in problem


def test_a_missing_package_is_a_problem_too() -> None:
    assert fast_path_problem({"uvicorn": "0.55.0", "websockets": None}) == "websockets is not installed"


def test_the_installed_versions_run_the_fast_path() -> None:
    assert fast_path_problem(installed_versions()) is None
    assert ws_protocol(direct_io=True) is DirectWebSocketProtocol


def test_falling_back_to_asgi_says_why_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        chosen = ws_protocol(direct_io=True, versions={"uvicorn": "0.56.0", "websockets": "17.4"})
    assert chosen == ASGI_WS
    assert [r.getMessage() for r in caplog.records] == [
        "direct websocket I/O is off, websockets go through ASGI: "
        "uvicorn 0.56.0 is outside the tested range >=0.55,<0.56"
    ]


def test_turned_off_it_is_asgi_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert ws_protocol(direct_io=False) == ASGI_WS
    assert not caplog.records


def test_pyproject_pins_the_tested_ranges() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for package, (lowest, below) in TESTED.items():
        pins = [d for d in dependencies if re.match(rf"{package}(\[[a-z,]+\])?[<>=]", d)]
        assert pins == [f"{package}{'[standard]' if package == 'uvicorn' else ''}>={lowest},<{below}"]


@pytest.mark.parametrize(
    ("argument", "direct_io"), [([], True), (["--direct-io", "on"], True), (["--direct-io", "off"], False)]
)
def test_serve_takes_direct_io_on_or_off_defaulting_to_the_settings(argument: list[str], direct_io: bool) -> None:
    args = build_parser().parse_args(["serve", *argument])
    assert settings_from_args(args).direct_io is direct_io
    assert Settings().direct_io is True  # the one default
