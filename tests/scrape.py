"""A running test server's /metrics, as {"name{labels}": value}."""

from __future__ import annotations

import urllib.request
from typing import Any


def metrics_of(server: Any) -> dict[str, float]:
    with urllib.request.urlopen(server.http_url + "/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values
