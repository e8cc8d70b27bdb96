"""Settings travel to `--workers` processes as JSON in the environment and come back equal."""

from __future__ import annotations

from pathlib import Path

from candor.rooms.limits import PeerLimits
from candor.rooms.room import RoomSettings
from candor.settings import Settings, settings_from_json, settings_to_json


def test_settings_survive_the_trip_to_a_worker_process() -> None:
    settings = Settings(
        data_dir=Path("/srv/candor"),
        open_rooms=True,
        rooms=RoomSettings(snapshot_every=7, idle_timeout_s=1.5),
        limits=PeerLimits(max_peers_per_room=12),
        allowed_origins=("https://a.example", "https://b.example"),
        redis_url="redis://:secret@127.0.0.1:6379/2",
        direct_io=False,
    )
    assert settings_from_json(settings_to_json(settings)) == settings
    assert settings_from_json(settings_to_json(Settings())) == Settings()
