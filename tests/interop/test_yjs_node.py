"""Interoperability: the stock npm `yjs` + `y-websocket` client against a real Candor server.

Each test starts a server (the `server` fixture), runs one scenario of scenario.mjs under
Node with a bounded timeout, and asserts on the JSON it prints. The board the server
logged (read back over the HTTP API) must equal what the clients converged to.

Node and the npm packages are required: a missing `node` or `node_modules` fails the
test instead of skipping it (`scripts/setup --test` installs both).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from yclient import yclient

if TYPE_CHECKING:
    from conftest import ServerProcess

HERE = Path(__file__).parent
SCRIPT = HERE / "scenario.mjs"
NODE_TIMEOUT = 30  # the script bounds every wait (15 s) and itself (25 s); this is the backstop


def node_command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH; the interop tests need Node.js (scripts/setup --test installs it)")
    for package in ("yjs", "y-websocket", "ws"):
        if not (HERE / "node_modules" / package / "package.json").is_file():
            pytest.fail(
                f"npm package {package!r} is not installed in tests/interop; "
                "run `npm ci` there (scripts/setup --test does)"
            )
    return [node, str(SCRIPT)]


def provider_args(server: ServerProcess, room: str) -> list[str]:
    """serverUrl and room name as a WebsocketProvider takes them (it joins them with '/')."""
    url = server.ws_url(room)
    assert url.endswith(f"/{room}")
    return [url.removesuffix(f"/{room}"), room]


def failure_report(what: str, stdout: str | bytes | None, stderr: str | bytes | None, server: ServerProcess) -> str:
    def text(value: str | bytes | None) -> str:
        return (value.decode(errors="replace") if isinstance(value, bytes) else value or "").strip()

    return (
        f"{what}\n--- node stderr ---\n{text(stderr)}\n--- node stdout ---\n{text(stdout)}"
        f"\n--- server log ---\n{server.log().strip()}"
    )


def parse_result(stdout: str, stderr: str, server: ServerProcess) -> dict[str, Any]:
    lines = stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(failure_report("the Node scenario printed no JSON result", stdout, stderr, server))
    assert result["incidents"] == [], failure_report(
        f"unexpected closes/errors: {result['incidents']}", stdout, stderr, server
    )
    return result


def run_scenario(server: ServerProcess, scenario: str, room: str, *args: str) -> dict[str, Any]:
    cmd = [*node_command(), scenario, *provider_args(server, room), *args]
    try:
        done = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(failure_report(f"scenario {scenario} hung for {NODE_TIMEOUT} s", exc.stdout, exc.stderr, server))
    if done.returncode != 0:
        pytest.fail(
            failure_report(f"scenario {scenario} failed (exit {done.returncode})", done.stdout, done.stderr, server)
        )
    return parse_result(done.stdout, done.stderr, server)


def logged_notes(server: ServerProcess, room: str) -> dict[str, Any]:
    answer = server.get(f"/api/rooms/{room}/board")
    assert answer["room"] == room
    assert answer["seq"] > 0
    notes: dict[str, Any] = answer["board"]["notes"]
    return notes


def assert_all_equal(notes_by_client: dict[str, dict[str, Any]]) -> dict[str, Any]:
    first_name, first = next(iter(notes_by_client.items()))
    for name, notes in notes_by_client.items():
        assert notes == first, f"{name} differs from {first_name}:\n{name}: {notes}\n{first_name}: {first}"
    return first


def test_three_providers_converge(server: ServerProcess) -> None:
    room = "interop-converge"
    result = run_scenario(server, "converge", room)

    converged = assert_all_equal(result["notes"])
    assert sorted(converged) == sorted(result["expectedKeys"])
    assert len(converged) == 3 * 5 + 1
    assert converged["A-4"] == {"text": "A note 4", "author": "A", "x": 160, "y": 14, "votes": ["A"]}
    # three concurrent writes of one key: one of them wins, the same one everywhere
    assert converged["shared"] in [{"text": f"written by {n}", "author": n} for n in "ABC"]
    assert logged_notes(server, room) == converged


def test_late_joiner_gets_full_state(server: ServerProcess) -> None:
    room = "interop-late-joiner"
    result = run_scenario(server, "late-joiner", room)

    converged = result["converged"]
    assert sorted(converged) == sorted(result["expectedKeys"])
    assert "A-3" not in converged  # deleted before D joined
    # D's sync step 2 from the server already carried everything ...
    assert result["dAtSync"] == converged
    assert result["d"] == converged
    # ... and so did E's, with no other client left in the room to help.
    assert result["eAtSync"] == converged
    assert result["e"] == converged
    assert logged_notes(server, room) == converged


def test_offline_edits_survive_reconnect(server: ServerProcess) -> None:
    room = "interop-offline"
    result = run_scenario(server, "offline", room)

    # really offline: neither side saw the other's edits before the reconnect
    assert "A-offline-1" not in result["bWhileAOffline"]
    assert "B-online" not in result["aWhileOffline"]
    converged = assert_all_equal(result["notes"])
    assert sorted(converged) == sorted(result["expectedKeys"])
    for key in result["removedKeys"]:
        assert key not in converged
    assert converged["A-offline-1"] == {"text": "A note 2", "author": "A", "x": 80, "y": 12, "votes": ["A"]}
    assert converged["B-base"]["text"] == "B base, edited by A offline"
    assert converged["C-base"]["text"] == "C base, edited by C online"
    assert converged["contested"] in ({"text": "A, offline", "author": "A"}, {"text": "B, online", "author": "B"})
    assert logged_notes(server, room) == converged


def test_awareness_relayed_and_removed(server: ServerProcess) -> None:
    room = "interop-awareness"
    result = run_scenario(server, "awareness", room)

    assert result["bSawA"] == result["aState"]
    assert result["cSaw"] == {"A": result["aMoved"], "B": {"user": {"name": "Bob", "color": "#0066ff"}}}
    assert result["bRemovedA"] is True
    assert result["bStillConnected"] is True  # removed because A left, not because B lost its connection
    assert str(result["aId"]) not in result["bStatesAfter"]
    assert str(result["bId"]) in result["bStatesAfter"]


def test_awareness_removed_when_socket_dies(server: ServerProcess) -> None:
    room = "interop-awareness-vanish"
    result = run_scenario(server, "awareness-vanish", room)

    assert result["bStillConnected"] is True
    assert str(result["aId"]) not in result["bStatesAfter"]


class NodeProcess:
    """A scenario running in the background; its output is collected as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process, server: ServerProcess) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.server = server
        self.stdout = asyncio.create_task(proc.stdout.read())
        self.stderr = asyncio.create_task(proc.stderr.read())

    @classmethod
    async def start(cls, server: ServerProcess, scenario: str, room: str, *args: str) -> NodeProcess:
        cmd = [*node_command(), scenario, *provider_args(server, room), *args]
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=HERE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        return cls(proc, server)

    async def stop(self) -> tuple[str, str]:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        return (await self.stdout).decode(errors="replace"), (await self.stderr).decode(errors="replace")

    async def fail(self, what: str) -> NoReturn:
        stdout, stderr = await self.stop()
        pytest.fail(failure_report(what, stdout, stderr, self.server))

    async def result(self) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self.proc.wait(), NODE_TIMEOUT)
        except TimeoutError:
            await self.fail(f"the Node scenario hung for {NODE_TIMEOUT} s")
        stdout, stderr = await self.stop()
        if self.proc.returncode != 0:
            what = f"the Node scenario failed (exit {self.proc.returncode})"
            pytest.fail(failure_report(what, stdout, stderr, self.server))
        return parse_result(stdout, stderr, self.server)


async def test_node_and_pycrdt_converge(server: ServerProcess) -> None:
    room = "interop-mixed"
    node = await NodeProcess.start(server, "mixed", room, "py-1,py-2")
    try:
        async with yclient(server.ws_url(room)) as py:
            # written at once, concurrently with the Node provider's first edits
            await py.edit(
                **{"py-1": {"text": "py note 1", "author": "py"}, "contested": {"text": "py", "author": "py"}}
            )
            try:
                await py.wait_for(lambda: {"node-1", "node-2"} <= set(py.notes_json()), 15)
            except TimeoutError:
                await node.fail(f"the pycrdt client never got the Node provider's notes: {py.notes_json()}")
            await py.edit(**{"py-2": {"text": "py note 2", "author": "py", "after": "node"}})

            node_notes = (await node.result())["notes"]
            try:
                # the pycrdt side, as edited locally and as the server broadcast it
                await py.wait_for(lambda: py.notes_json() == py.confirmed_notes() == node_notes, 15)
            except TimeoutError:
                pytest.fail(
                    failure_report(
                        f"pycrdt did not converge with Node:\nnode: {node_notes}\npy: {py.notes_json()}"
                        f"\npy (confirmed): {py.confirmed_notes()}",
                        None,
                        None,
                        server,
                    )
                )
            converged = py.notes_json()
    finally:
        await node.stop()

    assert set(converged) == {"node-1", "node-2", "py-1", "py-2", "contested"}
    assert converged["node-2"] == {"text": "node note 2", "author": "node", "x": 80, "y": 12, "votes": ["node"]}
    assert converged["py-2"] == {"text": "py note 2", "author": "py", "after": "node"}
    assert converged["contested"] in ({"text": "node", "author": "node"}, {"text": "py", "author": "py"})
    assert await asyncio.to_thread(logged_notes, server, room) == converged
