"""Every default of ``candor serve`` is the settings dataclasses' own: written once, read everywhere."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from candor.cli import build_parser, settings_from_args
from candor.options import OPTIONS
from candor.settings import Settings

# Fields the CLI sets from options of its own (reach, roles, modes) rather than from the table.
OTHER_FIELDS = {
    "open_rooms",
    "allowed_origins",
    "redis_url",
    "create_token",
    "public_url",
    "lan_url",
    "loopback_only",
    "direct_io",
}
# Tuning that stays in code: no one running a workshop needs to change it.
FIXED_FIELDS = {"limits.burst_s", "rooms.remote_presence_timeout_s"}


def leaf_paths(value: Any, prefix: str = "") -> list[str]:
    paths = []
    for f in dataclasses.fields(value):
        inner = getattr(value, f.name)
        if dataclasses.is_dataclass(inner):
            paths += leaf_paths(inner, f"{prefix}{f.name}.")
        else:
            paths.append(prefix + f.name)
    return paths


def serve_settings(*argv: str) -> Settings:
    return settings_from_args(build_parser().parse_args(["serve", *argv]))


def test_serve_without_options_runs_with_the_settings_defaults() -> None:
    settings = serve_settings()
    assert dataclasses.replace(settings, lan_url=None, loopback_only=False) == Settings()


def test_every_settings_field_is_an_option_or_set_by_the_cli() -> None:
    in_table = [option.path for option in OPTIONS]
    assert len(in_table) == len(set(in_table)), "two options set one field"
    assert set(leaf_paths(Settings())) == set(in_table) | OTHER_FIELDS | FIXED_FIELDS


@pytest.mark.parametrize("option", OPTIONS, ids=[option.flag for option in OPTIONS])
def test_each_option_sets_its_field(option: Any) -> None:
    default = Settings()
    for name in option.path.split("."):
        default = getattr(default, name)
    if option.choices:
        given = next(choice for choice in option.choices if choice != default)
        expected: Any = given
    elif isinstance(default, Path):
        given, expected = "elsewhere", Path("elsewhere")
    else:
        given, expected = "7", 7
    value: Any = serve_settings(option.flag, given)
    for name in option.path.split("."):
        value = getattr(value, name)
    assert value == expected


def test_a_float_field_takes_a_fraction_even_when_its_default_is_whole() -> None:
    assert serve_settings("--max-bytes-per-s", "1.5").limits.bytes_per_s == 1.5


def test_a_wrong_value_is_refused_with_the_option_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        serve_settings("--snapshot-every", "many")
    assert "--snapshot-every" in capsys.readouterr().err
