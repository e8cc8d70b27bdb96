"""``candor serve --durability``: how far an accepted update is safe before it is broadcast."""

from __future__ import annotations

from pathlib import Path

import pytest

from candor.cli import build_parser, settings_from_args
from candor.log.sqlite import DURABILITY_MACHINE, DURABILITY_PROCESS, SqliteLog


def test_an_unknown_durability_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability must be one of process, machine"):
        SqliteLog(tmp_path / "log.sqlite3", "sometimes")
    assert not (tmp_path / "log.sqlite3").exists()


@pytest.mark.parametrize(
    ("flag", "expected"), [([], DURABILITY_PROCESS), (["--durability", "machine"], DURABILITY_MACHINE)]
)
def test_serve_takes_the_durability_to_the_settings(flag: list[str], expected: str) -> None:
    args = build_parser().parse_args(["serve", *flag])
    assert settings_from_args(args).durability == expected


def test_serve_refuses_a_durability_it_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--durability", "never"])
    assert "invalid choice: 'never'" in capsys.readouterr().err
