"""Fixtures: clusters of three Candor processes and one redis-server, for the scale-out and fault tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster, start_cluster


@pytest.fixture
def cluster(make_server: Any, tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of its own, for a test that kills parts of it; stopped by PID (the servers by ``make_server``)."""
    yield from start_cluster(make_server, tmp_path)


@pytest.fixture(scope="module")
def shared_cluster(make_module_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for a whole module whose tests break nothing (each keeps to its own rooms)."""
    yield from start_cluster(make_module_server, tmp_path_factory.mktemp("cluster"))
