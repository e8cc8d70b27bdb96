#!/usr/bin/env python3
"""What history costs on a long log: rebuilding a board at any point, a timeline page, and a 10-room pptx export.

Issue 5's acceptance: "rebuilding a board at an arbitrary point of a 100,000-update
log takes well under a second, and exporting a 10-room event to pptx under 5 seconds".

1. **A 100,000-update log** for one room of the beyond-hero-stories template,
   written straight through ``SqliteLog`` (no server): updates are made with
   pycrdt the way a Yjs client makes them (one transaction's update each). About
   one in 250 adds a note (a nested map with every field of schemas/board.md,
   20-400 characters of text, signed or not, scope room/event/public); of the
   rest, 78% drag a note (``x``/``y``), 4% rewrite its text, 6% change its colour
   or scope, 6% cluster it, 6% vote. A snapshot is written every 500 records, as a
   room does (``--snapshot-every``). The board ends near the server's 2 MiB limit.
2. **Rebuild** at ``--samples`` random seqs: nearest snapshot + log after it
   (``candor.history.rebuild``), then the board's JSON projection, as
   ``GET /api/rooms/{room}/board?at=`` does. Prints p50 and max in ms.
3. **Timeline**: one page of 100 events after each of the same seqs
   (``GET /api/rooms/{room}/history``). Prints p50 and max in ms.
4. **Event export**: ``--rooms`` breakout rooms, each a log of ~1,000 updates with
   ``--notes`` notes (clusters, votes, scopes as above), exported at once to pptx
   (rebuild every room, apply the consent rules, plan and render the deck), as
   ``GET /api/events/{id}/export?format=pptx`` does, ``--export-repeats`` times.
   Prints seconds (wall and CPU) and slides.

Wall times suffer from anything else running on the machine; the CPU times say
what the work itself costs.

  .venv/bin/python loadtests/bench_history.py
  .venv/bin/python loadtests/bench_history.py --updates 20000 --samples 10

Everything lives in one temporary directory, removed at the end (``--keep`` to keep it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map

from candor.board.initial import initial_board
from candor.board.projection import board_to_json
from candor.board.templates import builtin_templates, template_to_json
from candor.export.deck import plan_slides
from candor.export.gather import EventInfo, gather_event
from candor.export.model import RoomInfo
from candor.export.pptx import render_pptx
from candor.history.rebuild import rebuild
from candor.history.timeline import timeline
from candor.ids import PeerId, RoomId, Seq
from candor.log.base import Entry, SnapshotRecord
from candor.log.sqlite import SqliteLog

TEMPLATE = template_to_json(builtin_templates()["beyond-hero-stories"])
SECTIONS = [s["id"] for s in TEMPLATE["sections"]]
WORDS = (
    "failure learning funders impact story safe space team meeting culture share open honest leaders model "
    "behaviour reflect partner community project evaluation outcome unintended consequence power trust "
    "solidarity listen debrief normal innovate values accountable institution incentive report"
).split()
COLOURS = ["yellow", "pink", "blue", "green", "orange", "purple"]
NAMES = ["Ada", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal"]


def sentence(rng: random.Random, low: int, high: int) -> str:
    words: list[str] = []
    target = rng.randint(low, high)
    while len(" ".join(words)) < target:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:high].capitalize() + "."


class BoardWriter:
    """One board's document and the updates people make to it, as log entries."""

    def __init__(self, rng: random.Random, room: str, kind: str = "breakout") -> None:
        self.rng = rng
        self.doc: Doc[Any] = Doc()
        self.doc.apply_update(initial_board(TEMPLATE, event_id="ev-bench", kind=kind))
        self.entries = [Entry(0, PeerId("server"), self.doc.get_update())]
        self._updates: list[bytes] = []
        self._subscription = self.doc.observe(lambda event: self._updates.append(event.update))
        self.notes = self.doc.get("notes", type=Map)
        self.clusters = self.doc.get("clusters", type=Map)
        self.votes = self.doc.get("votes", type=Map)
        self.note_ids: list[str] = []
        self.cluster_ids: list[str] = []
        self.people = [f"u-{room}-{n}" for n in range(len(NAMES))]

    def _change(self, origin: str, change: Any) -> None:
        with self.doc.transaction():
            change()
        # The transaction's own update, as a Yjs client sends it: doc.get_update(state_before) would
        # carry the document's whole delete set every time, growing with the log.
        update = self._updates.pop()
        self.entries.append(Entry(int(time.time() * 1000), PeerId(origin), update))

    def add_note(self) -> None:
        rng = self.rng
        who = rng.randrange(len(NAMES))
        note_id = f"n-{len(self.note_ids)}-{rng.getrandbits(24):06x}"
        fields = {
            "section": rng.choice(SECTIONS),
            "text": sentence(rng, 20, 400),
            "colour": rng.choice(COLOURS),
            "x": rng.randint(0, 1200),
            "y": rng.randint(0, 800),
            "author": self.people[who],
            "author_name": NAMES[who] if rng.random() < 0.3 else None,
            "cluster": None,
            "scope": rng.choices(["room", "event", "public"], [2, 5, 3])[0],
            "created_ms": int(time.time() * 1000),
            "from_room": None,
        }
        self._change(f"p-{who}", lambda: self.notes.__setitem__(note_id, Map(fields)))
        self.note_ids.append(note_id)

    def edit(self) -> None:
        rng = self.rng
        if not self.note_ids:
            self.add_note()
            return
        note = self.notes[rng.choice(self.note_ids)]
        roll = rng.random()
        if roll < 0.78:  # a drag: several of these per second while a note moves

            def move() -> None:
                note["x"] = rng.randint(0, 1200)
                note["y"] = rng.randint(0, 800)

            self._change("p-drag", move)
        elif roll < 0.82:
            self._change("p-edit", lambda: note.__setitem__("text", sentence(rng, 20, 400)))
        elif roll < 0.86:
            self._change("p-edit", lambda: note.__setitem__("colour", rng.choice(COLOURS)))
        elif roll < 0.88:
            self._change("p-edit", lambda: note.__setitem__("scope", rng.choice(["room", "event", "public"])))
        elif roll < 0.94:
            self.cluster(note)
        else:
            self.vote()

    def cluster(self, note: Map[Any]) -> None:
        rng = self.rng
        if len(self.cluster_ids) < 12 and rng.random() < 0.3:
            cluster_id = f"c-{len(self.cluster_ids)}"
            label = sentence(rng, 5, 30).rstrip(".")
            section = note["section"]
            fields = {"section": section, "label": label, "x": rng.randint(0, 1200), "y": rng.randint(0, 800)}
            self._change("p-fac", lambda: self.clusters.__setitem__(cluster_id, Map(fields)))
            self.cluster_ids.append(cluster_id)
        if self.cluster_ids:
            self._change("p-fac", lambda: note.__setitem__("cluster", rng.choice(self.cluster_ids)))

    def vote(self) -> None:
        rng = self.rng
        note_id, voter = rng.choice(self.note_ids), rng.choice(self.people)

        def cast() -> None:
            if note_id in self.votes:
                self.votes[note_id][voter] = rng.randint(0, 3)
            else:
                self.votes[note_id] = Map({voter: rng.randint(1, 3)})

        self._change("p-vote", cast)


async def write_log(log: SqliteLog, room: RoomId, writer: BoardWriter, snapshot_every: int) -> None:
    """Append the writer's entries in chunks, with a snapshot of the document every ``snapshot_every`` records."""
    replay: Doc[Any] = Doc()
    for start in range(0, len(writer.entries), snapshot_every):
        chunk = writer.entries[start : start + snapshot_every]
        records = await log.append(room, chunk)
        for entry in chunk:
            replay.apply_update(entry.update)
        if len(chunk) == snapshot_every:
            await log.write_snapshot(SnapshotRecord(room, records[-1].seq, records[-1].time_ms, replay.get_update()))


def ms(seconds: list[float]) -> str:
    values = [s * 1000 for s in seconds]
    return f"p50 {statistics.median(values):6.1f} ms   max {max(values):6.1f} ms"


async def bench(a: argparse.Namespace, data: Path) -> None:
    rng = random.Random(a.seed)
    log = SqliteLog(data / "candor.sqlite3")
    try:
        room = RoomId("ev-bench-long")
        t0 = time.perf_counter()
        writer = BoardWriter(rng, "long")
        while len(writer.entries) < a.updates:
            writer.add_note() if rng.random() < 1 / 250 else writer.edit()
        made = time.perf_counter() - t0
        await write_log(log, room, writer, a.snapshot_every)
        written = time.perf_counter() - t0 - made
        state = len(writer.doc.get_update())
        print(
            f"log: {len(writer.entries):,} updates, {len(writer.note_ids)} notes, board {state / 1024:.0f} KiB; "
            f"made in {made:.1f} s, written in {written:.1f} s; snapshot every {a.snapshot_every}"
        )

        seqs = sorted(rng.randint(1, len(writer.entries)) for _ in range(a.samples))
        rebuilds, projections, pages = [], [], []
        cpu = time.process_time()
        for seq in seqs:
            t = time.perf_counter()
            rebuilt = await rebuild(log, room, Seq(seq))
            rebuilds.append(time.perf_counter() - t)
            board_to_json(rebuilt.doc)
            projections.append(time.perf_counter() - t)
            t = time.perf_counter()
            page = await timeline(log, room, Seq(seq), 100)
            pages.append(time.perf_counter() - t)
            assert page.events or seq == len(writer.entries)
        cpu = time.process_time() - cpu
        print(f"rebuild at {a.samples} random seqs:              {ms(rebuilds)}")
        print(f"rebuild + board JSON (as GET /board?at=):   {ms(projections)}")
        print(f"timeline page of 100 after the same seqs:   {ms(pages)}")
        print(f"CPU for all of the above: {cpu:.2f} s ({cpu / a.samples * 1000:.0f} ms per seq)")

        rooms = [RoomInfo(f"ev-bench-r{n}", f"Room {n}") for n in range(1, a.rooms + 1)]
        for info in rooms:
            board = BoardWriter(rng, info.id)
            for _ in range(a.notes):
                board.add_note()
            while len(board.entries) < a.room_updates:
                board.edit()
            await write_log(log, RoomId(info.id), board, a.snapshot_every)
        event = EventInfo("ev-bench", "Beyond hero stories: benchmark", TEMPLATE)
        for attempt in range(1, a.export_repeats + 1):
            t, cpu = time.perf_counter(), time.process_time()
            export = await gather_event(log, event, rooms, "event")
            gathered = time.perf_counter() - t
            deck = render_pptx(export)
            total, total_cpu = time.perf_counter() - t, time.process_time() - cpu
            notes = export.note_count
            print(
                f"event export to pptx #{attempt}: {a.rooms} rooms x {a.room_updates} updates, {notes} notes shown, "
                f"{len(plan_slides(export))} slides, {len(deck) / 1024:.0f} KiB: {total:.2f} s "
                f"(rebuild + consent {gathered:.2f} s, deck {total - gathered:.2f} s; CPU {total_cpu:.2f} s)"
            )
    finally:
        await log.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--updates", type=int, default=100_000, help="records in the long log")
    p.add_argument("--snapshot-every", type=int, default=500)
    p.add_argument("--samples", type=int, default=20, help="random seqs to rebuild at")
    p.add_argument("--rooms", type=int, default=10, help="breakout rooms in the exported event")
    p.add_argument("--notes", type=int, default=60, help="notes per room")
    p.add_argument("--room-updates", type=int, default=1000, help="records per room of the event")
    p.add_argument("--export-repeats", type=int, default=3, help="times the event export is measured")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    a = p.parse_args()
    data = Path(tempfile.mkdtemp(prefix="candor-bench-history-"))
    try:
        asyncio.run(bench(a, data))
    finally:
        if a.keep:
            print(f"data kept in {data}", file=sys.stderr)
        else:
            shutil.rmtree(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
