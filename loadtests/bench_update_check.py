"""What reading an update within bounds costs on the hot path, beside what admitting it costs in all.

    python loadtests/bench_update_check.py [--rounds 3000]

For the updates a board sees most (a note added, a note moved, a dot given),
prints the microseconds (best of 7, CPU time) of:

* ``check``: ``read_board_update`` alone, the bounds and shape read before
  pycrdt decodes anything (candor.board.safe);
* ``admit``: the gate's whole admission of it (check, apply, observe, rules),
  each on a gate of its own made beforehand.

Run it on a commit from before the check (where BoardGate has no index) to get
the "before" column: the script adapts to either gate.
"""

from __future__ import annotations

import argparse
import inspect
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

from candor.board.gate import BoardGate, LoggedState
from candor.board.initial import initial_board
from candor.board.templates import builtin_templates, template_to_json
from candor.ids import Access, Role

TEMPLATE = template_to_json(builtin_templates()["beyond-hero-stories"])
BOARD = initial_board(TEMPLATE, event_id="ev1", kind="breakout")
ADA = Access(Role.PARTICIPANT, "u-ada", "Ada")
NOTE = {
    "section": "define-the-problem",
    "text": "Need institutional incentives, modelled by leaders, to share failures openly to improve "
    "organisational learning.",
    "colour": "yellow",
    "x": 120,
    "y": 80,
    "author": "u-ada",
    "author_name": None,
    "cluster": None,
    "scope": "event",
    "created_ms": 1_765_000_000_000,
    "withdrawn": False,
}


def updates() -> dict[str, tuple[bytes, bytes]]:
    """Each update to time, with the board as logged before it."""
    doc: Doc[Any] = Doc(client_id=7_777_777_777)
    doc.apply_update(BOARD)
    made: list[bytes] = []
    doc.observe(lambda event: made.append(event.update))
    notes = doc.get("notes", type=Map)
    notes["n-first"] = Map({**NOTE, "text": "Mainly positive examples of impact are shared."})
    base = doc.get_update()
    made.clear()
    notes["n-second"] = Map(NOTE)
    add = made.pop()
    with_two = doc.get_update()
    notes["n-first"]["x"] = 300
    move = made.pop()
    doc.get("meta", type=Map)["phase"] = "vote"
    voting = doc.get_update()
    made.clear()
    doc.get("votes", type=Map)["n-first"] = Map({"u-ada": 1})
    vote = made.pop()
    return {"note added": (base, add), "note moved": (with_two, move), "dot given": (voting, vote)}


def best_us(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(7):
        started = time.process_time()
        for _ in range(rounds):
            work()
        best = min(best, (time.process_time() - started) / rounds * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    with_index = "loaded" in inspect.signature(BoardGate).parameters
    for name, (state, update) in updates().items():
        # A fresh gate for each admission (made beforehand), as the update is admitted only once.
        best = float("inf")
        for _ in range(7):
            gates = [BoardGate(LoggedState(state, []), 2 * 1024 * 1024) for _ in range(args.rounds // 10)]
            started = time.process_time()
            for gate in gates:
                gate.admit(ADA, update, len(state))
            best = min(best, (time.process_time() - started) / len(gates) * 1e6)
            for gate in gates:
                gate.close()
        line = f"{name:>11}: {len(update):4d} bytes, admit {best:7.1f} us"
        gate = gates[0]
        if with_index:
            from candor.board.safe import read_board_update

            check = best_us(lambda gate=gate, update=update: read_board_update(update, gate.index), args.rounds)
            line += f", check {check:6.1f} us"
        print(line, flush=True)


if __name__ == "__main__":
    main()
