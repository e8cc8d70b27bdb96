"""A long fuzz run against a real server: N random and mutated frames, bounded, loopback only.

    python loadtests/fuzz_long.py --frames 100000

Starts its own server (free-form rooms, a temporary data directory), sends each
frame on a connection of its own or on a shared one, checks every close code is
a documented one, checks a well-behaved client still works every 1,000 frames,
and prints one summary line. Exits 1 on an undocumented answer or a dead server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from pycrdt import Doc, Map
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from candor.protocol import encode_awareness, encode_sync_step1, encode_update

DOCUMENTED = {1000, 1002, 1003, 1008, 1009, 1011, 4422}
# An error or an unhandled exception, in the server's JSON log lines (the default) or its text ones.
ERROR_MARKS = ('"level": "error"', '"level": "critical"', "Traceback", " ERROR ", " CRITICAL ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seeds() -> list[bytes]:
    doc: Doc[Map[str]] = Doc()
    doc["notes"] = notes = Map()
    notes["a"] = "hello"
    update = doc.get_update()
    return [encode_update(update), encode_sync_step1(b"\x00"), encode_awareness(b"\x01\x05\x01\x02{}"), b"\x03"]


def mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(0, 4)):
        op = rng.choice("fcad")
        if op == "f" and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == "c" and data:
            del data[rng.randrange(len(data)) :]
        elif op == "a":
            data += rng.randbytes(rng.randint(1, 16))
        elif op == "d":
            data += data[: rng.randint(0, len(data))]
    return bytes(data)


async def run(url: str, frames: int, seed: int) -> Counter[str]:
    """Each frame is followed by a sync step 1 probe: its step 2 answer proves the frame was processed."""
    rng = random.Random(seed)
    base = seeds()
    outcomes: Counter[str] = Counter()
    probe = encode_sync_step1(b"\x00")
    sent = 0
    while sent < frames:
        async with connect(url) as ws:
            while sent < frames:
                frame = mutate(rng, rng.choice(base)) if rng.random() < 0.8 else rng.randbytes(rng.randint(0, 64))
                sent += 1
                try:
                    await ws.send(frame)
                    await ws.send(probe)
                    async with asyncio.timeout(5):
                        while (await ws.recv())[:2] != b"\x00\x01":
                            pass
                    outcomes["kept open"] += 1
                except ConnectionClosed:
                    code = ws.close_code or 0
                    outcomes[str(code)] += 1
                    if code not in DOCUMENTED:
                        raise SystemExit(f"undocumented close {code} after frame {frame!r}") from None
                    break
                if sent % 1000 == 0:
                    await check_alive(url)
    return outcomes


async def check_alive(url: str) -> None:
    async with connect(url.replace("fuzz-room", "fuzz-check")) as ws:
        await ws.send(encode_sync_step1(b"\x00"))
        async with asyncio.timeout(5):
            while (await ws.recv())[:2] != b"\x00\x01":
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        log = open(Path(data) / "server.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "candor", "serve", "--port", str(port), "--data", data, "--open-rooms",
             "--log-level", "warning", "--max-messages-per-s", "100000"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            started = time.monotonic()
            outcomes = asyncio.run(run(f"ws://127.0.0.1:{port}/ws/fuzz-room", args.frames, args.seed))
            elapsed = time.monotonic() - started
            alive = server.poll() is None
            logged = (Path(data) / "server.log").read_text(errors="replace").splitlines()
            errors = sum(1 for line in logged if any(mark in line for mark in ERROR_MARKS))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(20)
            log.close()
    print(
        f"fuzz: {args.frames} frames in {elapsed:.1f} s ({args.frames / elapsed:.0f}/s), server alive: {alive}, "
        f"server errors logged: {errors}, outcomes: {dict(outcomes)}"
    )
    return 0 if alive and errors == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
