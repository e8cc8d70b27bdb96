"""The gate's property suite for as long as it is given: counts of updates generated, admitted and refused.

    python loadtests/gate_properties.py --examples 20000

Runs the same generator and invariants as tests/board/test_gate_properties.py
(every admitted update keeps the board valid against schemas/board.schema.json
and every role rule; every refused one leaves the board exactly as it was), in
this process, with no server. Prints one summary line per phase and a total;
exits 1 on the first broken invariant (printed, with the edits that broke it).
A crash of the process itself (what a segfault in pycrdt would be) ends it
without the summary: that is the "crashes" figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path[:0] = [str(Path(__file__).parents[1] / "tests"), str(Path(__file__).parents[1] / "tests" / "board")]

import test_gate_properties as properties  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="sequences of edits to play (default 20000)")
    parser.add_argument("--max-edits", type=int, default=12, help="edits per sequence at most (default 12)")
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    started = time.monotonic()

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.lists(properties.edits(), min_size=1, max_size=args.max_edits),
        st.sampled_from(["collect", "vote", "done"]),
    )
    def play(edits: list[tuple[str, str, object]], phase: str) -> None:
        admitted, refused = properties.run(edits, phase)
        counts["sequences"] += 1
        counts["updates"] += admitted + refused
        counts["admitted"] += admitted
        counts["refused"] += refused
        counts[f"{phase}:updates"] += admitted + refused

    try:
        play()
    except AssertionError as exc:
        print(f"BROKEN INVARIANT: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(
        f"gate properties: {counts['sequences']} sequences, {counts['updates']} updates generated, "
        f"{counts['admitted']} admitted, {counts['refused']} refused, 0 broken invariants, 0 crashes, "
        f"{elapsed:.0f} s ({counts['updates'] / max(elapsed, 1e-9):.0f} updates/s)"
    )
    for phase in ("collect", "vote", "done"):
        print(f"  board in phase {phase}: {counts[f'{phase}:updates']} updates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
