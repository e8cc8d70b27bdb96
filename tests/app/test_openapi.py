"""The HTTP API is described by OpenAPI, and errors have one JSON shape."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from starlette.routing import Route

from candor.http.app import create_app
from candor.settings import Settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def served_operations() -> set[tuple[str, str]]:
    app = create_app(Settings())
    operations = set()
    for route in app.routes:
        if isinstance(route, Route) and (route.path.startswith("/api") or route.path == "/healthz"):
            for method in route.methods or ():
                if method != "HEAD":
                    operations.add((route.path, method.lower()))
    return operations


def test_every_api_route_is_documented_and_nothing_else(server: Any) -> None:
    spec = server.get("/api/openapi.json")
    assert spec == json.loads((SCHEMAS / "openapi.json").read_text())
    documented = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    }
    assert documented == served_operations()


def test_unknown_path_and_wrong_method_answer_in_the_error_shape(server: Any) -> None:
    status, body = server.get_error("/api/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"
    request = urllib.request.Request(server.http_url + "/api/templates", method="DELETE")
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 405
        assert json.loads(exc.read())["error"]["code"] == "method_not_allowed"
    else:
        raise AssertionError("DELETE /api/templates succeeded")
