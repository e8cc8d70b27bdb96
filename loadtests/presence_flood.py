"""Memory under a presence flood at the limits, and after the flood leaves. Loopback only, bounded.

    python loadtests/presence_flood.py [--connections 20] [--state-bytes 60000] [--flooders 3] [--rounds 20]

Starts its own server (free-form rooms, a temporary data directory), then:

1. ``at the limits``: N connections in one room, each showing as many
   presence states as a connection may (``--max-presence-per-connection``),
   each state as large as a frame allows, renewed three times;
2. ``flood``: as the attack found it, F connections each send frames claiming
   500 new client ids (within the frame and rate limits), reconnecting each
   time the server closes them, for R rounds;
3. ``after``: everyone gone, the room evicted (the server runs with
   ``--idle-timeout 2``) and its memory handed back.

Prints the server's resident memory (VmRSS) at each step, and how many
connections the server closed and with what code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from pycrdt import Encoder
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from candor.protocol import encode_awareness, encode_sync_step1

PER_CONNECTION = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def awareness(states: list[tuple[int, int, object]]) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(len(states))
    for client, clock, state in states:
        encoder.write_var_uint(client)
        encoder.write_var_uint(clock)
        encoder.write_var_string(json.dumps(state))
    return encode_awareness(encoder.to_bytes())


async def drain(ws: ClientConnection) -> None:
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "candor", "serve", "--host", "127.0.0.1", "--port", str(port)]
    options = ["--data", str(data), "--open-rooms", "--idle-timeout", "2", "--log-level", "warning"]
    server = subprocess.Popen([*command, *options])
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


async def flood(args: argparse.Namespace, pid: int, port: int) -> str:
    start = rss_mb(pid)
    url = f"ws://127.0.0.1:{port}/ws/flood"
    sockets = [await connect(url, max_size=None) for _ in range(args.connections)]
    readers = [asyncio.create_task(drain(ws)) for ws in sockets]
    padding = "x" * args.state_bytes
    for clock in range(1, 4):
        for n, ws in enumerate(sockets):
            await ws.send(encode_sync_step1(b"\x00"))
            own = [(1_000_000 + n * PER_CONNECTION + k, clock, {"pad": padding}) for k in range(PER_CONNECTION)]
            for state in own:  # one state a frame: a frame is at most --max-awareness-bytes
                await ws.send(awareness([state]))
    await asyncio.sleep(3)
    at_limits = rss_mb(pid)
    closes: Counter[int | None] = Counter()
    peak = at_limits
    for round_ in range(args.rounds):
        flooders = [await connect(url, max_size=None) for _ in range(args.flooders)]
        for n, ws in enumerate(flooders):
            first = 50_000_000 + (round_ * args.flooders + n) * 1000
            try:
                await ws.send(encode_sync_step1(b"\x00"))
                await ws.send(awareness([(first + k, 1, {"name": "Facilitator", "n": k}) for k in range(500)]))
            except ConnectionClosed:
                pass
        for ws in flooders:
            await drain(ws)
            closes[ws.close_code] += 1
        peak = max(peak, rss_mb(pid))
    await asyncio.sleep(3)
    after_flood = rss_mb(pid)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers)
    await asyncio.sleep(10)  # the room (idle after 2 s) is evicted, its memory handed back 5 s later
    after = rss_mb(pid)
    return (
        f"presence flood: {args.connections} connections x {PER_CONNECTION} states of {args.state_bytes} bytes; "
        f"RSS start {start:.1f} MB, at the limits {at_limits:.1f} MB; {args.flooders} flooders x {args.rounds} "
        f"rounds of 500 new ids: peak {peak:.1f} MB, after {after_flood:.1f} MB; all gone and the room evicted "
        f"{after:.1f} MB; "
        f"flooders closed by the server: {dict(closes)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--state-bytes", type=int, default=60_000)
    parser.add_argument("--flooders", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    server, port = start_server(Path(tempfile.mkdtemp(prefix="candor-presence-")))
    try:
        print(asyncio.run(flood(args, server.pid, port)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
