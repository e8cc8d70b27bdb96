"""Locust users that speak y-websocket to Candor: breakout participants, a plenary crowd, a sweeping facilitator.

Run it through ``run_scenario.py``, which starts the server, creates the event
over the REST API and writes the *plan* this file reads (``--plan``): the
server URLs, the event, the rooms, one token per participant slot (each user
takes the next slot: its room, its server, its pseudonym) and the behaviour
(how often each user writes).

What a user does: connects to ``/ws/{room}?token=…``, sends sync step 1,
answers the server's step 1 with step 2, and is *synced* when the server's
step 2 arrives (reported as ``WS connect+sync``). Then, on its own open-loop
schedule (each action at a fixed interval from a random phase; a late action
is sent as soon as possible and its lateness kept as ``send lag``):

* ``note``: adds a note in one transaction, a nested map with the fields of
  schemas/board.md, written as itself; in the vote phase the author opens the
  note's ballot (an empty ``votes[note]``) in the same transaction, so nobody
  else ever creates it;
* ``move``: moves a random note of the room (anyone's);
* ``vote``: adds one of its dots to a random note, within
  ``meta.votes_per_person``; with the budget spent it takes one back;
* ``presence``: sends its awareness state (name, colour, cursor).

Every user keeps a pycrdt replica of the board and reports what the others
did as it appears there: ``deliver <kind>`` = arrival time - send time, for
every (write, receiving user) pair — the end-to-end latency, sent → seen by
the others. The send time travels with the change, as in the shared bench's
``ywsbench.py``: in a note's text, in a moved note's ``y`` (milliseconds
modulo 10⁶: positions are numbers within ±10⁶), in an awareness state's
``t``. A vote count or a timer cannot carry it, so their senders note the
send time in a ledger the receivers read — every user of a run lives in this
one process. Times are ``time.monotonic()``.

The server echoes every logged update to its sender too: ``ack <kind>`` is
sent -> echoed (the update is logged and broadcast). A write not echoed within
``ack_timeout_s``, or still unechoed when the run ends, is a failure (lost);
so are failed connects, unexpected closes and permission-denied messages.

At the end the file writes a JSON summary (exact percentiles from
unrounded samples, message rates over the measurement window, errors) to the
plan's ``summary_path``; run_scenario.py turns it into the report.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event
from locust import User, events, task
from locust.env import Environment
from pycrdt import Array, Map
from ywire import BoardReplica, Closed, YSocket

from candor.errors import CandorError
from candor.protocol import AwarenessUpdate, SyncStep2, SyncUpdate
from candor.protocol.codec import PermissionDenied

monotonic = time.monotonic
STAMP = " |t="
MOVE_STAMP_MODULUS_MS = 1_000_000.0
COLOURS = ("yellow", "pink", "blue", "green", "orange", "purple")

# -- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """How often a user acts (seconds between actions; 0 = never) and how long it waits for things."""

    note_every_s: float = 5.0
    move_every_s: float = 10.0
    vote_every_s: float = 20.0
    presence_every_s: float = 5.0
    # 0: notes pile up. N: with each new note a user deletes its oldest beyond N, so a long
    # (soak) run keeps boards at a workshop's size instead of growing into the size limit.
    keep_notes: int = 0
    ack_timeout_s: float = 10.0
    connect_timeout_s: float = 30.0
    sweep_dwell_s: float = 0.5
    timer_s: int = 300
    # Locust starts users in batches (floor(rate) at once, once a second); people arrive one by one.
    arrival_jitter_s: float = 0.0


@dataclass(frozen=True)
class Slot:
    """One participant's place in the run: their token, pseudonym, room and server."""

    index: int
    token: str | None  # None: the user joins with the code itself
    subject: str | None
    room: str
    server: str  # http://127.0.0.1:PORT
    # Observers keep a full replica of the room and measure deliveries (a few per room, as the
    # shared harness's client 0 does); the others only count what arrives and see their own
    # writes echoed, so the generator's CPU goes to load rather than to 10 copies of every board.
    observer: bool = True


@dataclass(frozen=True)
class Plan:
    scenario: str
    event_id: str
    join_code: str
    facilitator_token: str
    rooms: list[str]
    servers: list[str]
    slots: list[Slot]
    behaviour: Behaviour
    warmup_s: float
    drain_s: float
    measure_after_spawn: bool
    expected_syncs: int
    summary_path: str

    @classmethod
    def load(cls, path: str) -> Plan:
        with open(path) as f:
            data = json.load(f)
        data["slots"] = [Slot(**slot) for slot in data["slots"]]
        data["behaviour"] = Behaviour(**data["behaviour"])
        return cls(**data)


def ws_url(server: str, room: str, token: str) -> str:
    return f"{server.replace('http://', 'ws://', 1)}/ws/{room}?token={token}"


# -- the run's clock and measurements ---------------------------------------------------


def percentiles_ms(samples_s: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max in ms, nearest-rank, as the shared bench computes them."""
    ordered = sorted(samples_s)

    def rank(q: float) -> float | None:
        if not ordered:
            return None
        index = min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000.0, 3)

    return {
        "n": len(ordered),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1] * 1000.0, 3) if ordered else None,
    }


@dataclass
class Run:
    """The run's timeline and everything measured in its window.

    The window opens ``warmup_s`` after the last user spawned (or at the start,
    for a surge, where the spawning is what is measured) and closes when
    writing stops, ``drain_s`` before the end; deliveries of writes sent in the
    window still count during the drain.
    """

    plan: Plan | None = None
    environment: Environment | None = None
    started: float = 0.0
    window_start: float = float("inf")
    window_start_wall: float = 0.0
    stop_writing: float = float("inf")
    stopping: bool = False
    spawned: Event = field(default_factory=Event)
    slots: Iterator[int] = field(default_factory=itertools.count)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    by_minute: dict[int, list[float]] = field(default_factory=dict)  # minute of the window -> deliveries
    acks: dict[str, list[float]] = field(default_factory=dict)
    connects: dict[str, list[float]] = field(default_factory=dict)
    send_lag_s: list[float] = field(default_factory=list)
    writes: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    operations: int = 0
    first_error: str | None = None
    first_arrival: float | None = None
    peak_users: int = 0
    syncs: int = 0
    all_synced: float | None = None
    sweeps: list[float] = field(default_factory=list)
    rooms_opened: int = 0
    sessions: list[Session] = field(default_factory=list)

    def in_window(self, t: float) -> bool:
        return self.window_start <= t < self.stop_writing

    def open_window(self, now: float) -> None:
        """Start measuring latency and rates; errors and connects count over the whole run."""
        self.window_start = now
        self.window_start_wall = time.time()


RUN = Run()


def report(
    request_type: str, name: str, seconds: float, length: int = 0, exception: BaseException | None = None
) -> None:
    """One locust request event (the CSV and HTML come from these)."""
    assert RUN.environment is not None
    RUN.environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=seconds * 1000.0,
        response_length=length,
        exception=exception,
        context={},
    )


def fail(request_type: str, name: str, what: str, seconds: float = 0.0) -> None:
    RUN.errors[f"{request_type} {name}"] += 1
    if RUN.first_error is None:
        RUN.first_error = f"{request_type} {name}: {what}"[:300]
    report(request_type, name, seconds, exception=RuntimeError(what))


class Ledger:
    """Send times of changes that cannot carry their own (vote counts, timers), keyed by what receivers see."""

    MAX_AGE_S = 60.0

    def __init__(self) -> None:
        self._sent: dict[tuple[Any, ...], float] = {}
        self._pruned = monotonic()

    def record(self, key: tuple[Any, ...], t: float) -> None:
        self._sent[key] = t
        if t - self._pruned > self.MAX_AGE_S:
            self._sent = {k: v for k, v in self._sent.items() if t - v < self.MAX_AGE_S}
            self._pruned = t

    def sent_at(self, key: tuple[Any, ...]) -> float | None:
        return self._sent.get(key)


LEDGER = Ledger()


def stamp_text(text: str, t: float) -> str:
    return f"{text}{STAMP}{t:.6f}"


def text_stamp(text: object) -> float | None:
    if not isinstance(text, str) or STAMP not in text:
        return None
    try:
        return float(text.rpartition(STAMP)[2])
    except ValueError:
        return None


def stamp_position(t: float) -> float:
    return round((t * 1000.0) % MOVE_STAMP_MODULUS_MS, 3)


def position_age_s(y: object, now: float) -> float | None:
    if not isinstance(y, (int, float)):
        return None
    return (((now * 1000.0) - float(y)) % MOVE_STAMP_MODULUS_MS) / 1000.0


# -- one connection ---------------------------------------------------------------------


class Session:
    """One user's websocket to one room, its board replica, and the writes not yet echoed."""

    def __init__(self, room: str, url: str, subject: str, label: str, *, observer: bool = True) -> None:
        self.room = room
        self.observer = observer
        self.url = url
        self.subject = subject
        self.label = label
        self.board = BoardReplica()
        self.socket: YSocket | None = None
        self.synced = Event()
        self.settled = Event()  # synced, or closed before it could be
        self.ended: Closed | None = None
        self.alive = False
        self.closing = False
        self.note_ids: list[str] = []
        self.mine: list[str] = []  # the notes this user wrote, oldest first
        self.my_votes: dict[str, int] = {}
        self.pending: dict[bytes, tuple[str, float]] = {}
        self.section = "notes"
        self._received_at = 0.0
        self._reader: gevent.Greenlet | None = None
        self.board.observe(self.board.notes, self._on_notes)
        self.board.observe(self.board.votes, self._on_votes)
        self.board.observe(self.board.meta, self._on_meta)
        self.board.observe_presence(self._on_presence)

    # connecting

    def connect(self, timeout_s: float, name: str = "connect+sync") -> bool:
        """Connect and sync; reports the time it took (or the failure)."""
        start = monotonic()
        RUN.operations += 1
        try:
            self.socket = YSocket(self.url, timeout_s)
            self.alive = True
            self._reader = gevent.spawn(self._read)
            self.socket.send(self.board.sync_step1())
            if not self.settled.wait(max(0.0, timeout_s - (monotonic() - start))):
                raise TimeoutError(f"not synced within {timeout_s:.0f} s")
            if self.ended is not None:
                raise ConnectionError(f"closed before sync: {self.ended.code} {self.ended.reason}")
        except Exception as exc:  # connection refused, handshake rejected, timeout: all one failure here
            fail("WS", name, f"{type(exc).__name__}: {exc}", monotonic() - start)
            self.close()
            return False
        seconds = monotonic() - start
        report("WS", name, seconds)
        RUN.connects.setdefault(name, []).append(seconds)
        return True

    def close(self) -> None:
        self.closing = True
        if self.socket is not None and self.alive:
            self.socket.close()
            if self._reader is not None:
                self._reader.join(timeout=1.0)
            self.socket.abort()
        if self._reader is not None:
            self._reader.kill(block=False)
        self.alive = False

    # receiving

    def _read(self) -> None:
        assert self.socket is not None
        while True:
            message = self.socket.receive()
            now = monotonic()
            self._received_at = now
            counted = RUN.in_window(now)
            if isinstance(message, Closed):
                self._closed(message)
                return
            if isinstance(message, PermissionDenied):
                fail("WS", "permission denied", message.reason)
                continue
            try:
                if isinstance(message, SyncUpdate):
                    if counted:
                        RUN.received["updates"] += 1
                    sent = self.pending.pop(message.update, None)
                    if sent is not None:
                        kind, t_sent = sent
                        report("ack", kind, now - t_sent, len(message.update))
                        if RUN.in_window(t_sent):
                            RUN.acks.setdefault(kind, []).append(now - t_sent)
                elif isinstance(message, AwarenessUpdate) and counted:
                    RUN.received["presence"] += 1
                observed = self.observer or not isinstance(message, (SyncUpdate, AwarenessUpdate))
                reply = self.board.handle(message) if observed else None
            except (CandorError, ValueError) as exc:
                fail("WS", "protocol error", f"{type(exc).__name__}: {exc}")
                self.close()
                return
            if reply is not None:
                self.socket.send(reply)
            if isinstance(message, SyncStep2):
                self._on_synced()

    def _on_synced(self) -> None:
        if self.synced.is_set():
            return
        self.note_ids = [str(key) for key in self.board.notes.keys()]
        sections = self.board.doc.get("sections", type=Array).to_py() or []
        self.section = str(sections[0]["id"]) if sections else "notes"
        self.synced.set()
        self.settled.set()
        RUN.syncs += 1
        plan = RUN.plan
        if plan is not None and RUN.syncs == plan.expected_syncs and RUN.all_synced is None:
            RUN.all_synced = monotonic()

    def _closed(self, closed: Closed) -> None:
        self.alive = False
        self.ended = closed
        if not self.synced.is_set():
            self.settled.set()  # connect() reports it
        elif not (self.closing or RUN.stopping):
            fail("WS", "closed by server", f"{closed.code} {closed.reason}")

    # what the others did, as it appears in the replica

    def _delivered(self, kind: str, t_sent: float) -> None:
        latency = self._received_at - t_sent
        report("deliver", kind, latency)
        if RUN.in_window(t_sent):
            RUN.latencies.setdefault(kind, []).append(latency)
            if kind != "presence":  # (gathered by the server on purpose: judged apart, see PRESENCE)
                RUN.by_minute.setdefault(int((t_sent - RUN.window_start) // 60), []).append(latency)

    def _on_notes(self, events_: list[Any]) -> None:
        for event in events_:
            path = event.path
            if not path:
                for note_id, change in event.keys.items():
                    if change["action"] == "delete" and note_id in self.note_ids:
                        self.note_ids.remove(str(note_id))
                    if change["action"] != "add":
                        continue
                    self.note_ids.append(str(note_id))
                    note = change.get("newValue")
                    t_sent = text_stamp(note.get("text") if isinstance(note, Map) else None)
                    if t_sent is not None:
                        self._delivered("note", t_sent)
            elif "y" in event.keys:
                age = position_age_s(event.keys["y"].get("newValue"), self._received_at)
                if age is not None:
                    self._delivered("move", self._received_at - age)

    def _on_votes(self, events_: list[Any]) -> None:
        for event in events_:
            if not event.path:
                continue  # a ballot opened with its note
            note_id = str(event.path[0])
            for voter, change in event.keys.items():
                count = change.get("newValue") if change["action"] != "delete" else 0
                t_sent = LEDGER.sent_at((self.room, note_id, voter, count))
                if t_sent is not None:
                    self._delivered("vote", t_sent)

    def _on_meta(self, events_: list[Any]) -> None:
        for event in events_:
            change = event.keys.get("timer")
            timer = change.get("newValue") if change else None
            if isinstance(timer, dict):
                t_sent = LEDGER.sent_at((self.room, timer.get("ends_at_ms")))
                if t_sent is not None:
                    self._delivered("timer", t_sent)

    def _on_presence(self, _client_id: int, state: dict[str, Any]) -> None:
        t_sent = state.get("t")
        if isinstance(t_sent, (int, float)):
            self._delivered("presence", float(t_sent))

    # writing

    def write(self, kind: str, edit: Callable[[BoardReplica], None], t_sent: float) -> None:
        """Send one change made by ``edit``; its echo is awaited as the ack."""
        if not self.alive or self.socket is None:
            return
        update, frame = self.board.change(edit)
        self.pending[update] = (kind, t_sent)
        RUN.operations += 1
        if RUN.in_window(t_sent):
            RUN.writes[kind] += 1
        try:
            self.socket.send(frame)
        except Exception as exc:  # the socket died under us; the reader reports the close
            self.pending.pop(update, None)
            fail("send", kind, f"{type(exc).__name__}: {exc}")

    def announce(self, state: dict[str, Any]) -> None:
        if not self.alive or self.socket is None:
            return
        t_sent = monotonic()
        frame = self.board.presence({**state, "t": t_sent})
        if RUN.in_window(t_sent):
            RUN.writes["presence"] += 1
        try:
            self.socket.send(frame)
        except Exception as exc:
            fail("send", "presence", f"{type(exc).__name__}: {exc}")

    def expire(self, now: float, timeout_s: float) -> None:
        """Writes not echoed within ``timeout_s`` are lost."""
        for update, (kind, t_sent) in list(self.pending.items()):
            if now - t_sent > timeout_s:
                del self.pending[update]
                if RUN.in_window(t_sent):
                    fail("ack", kind, f"not echoed within {timeout_s:.0f} s", now - t_sent)


# -- users ------------------------------------------------------------------------------


@dataclass
class Action:
    name: str
    every_s: float
    due: float
    run: Callable[[], None]


class BoardUser(User):
    """A participant: holds one slot of the plan, connects, and acts on an open-loop schedule."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        assert RUN.plan is not None, "run this through loadtests/run_scenario.py (it writes --plan)"
        self.plan = RUN.plan
        self.behaviour = self.plan.behaviour
        self.slot = self.plan.slots[next(RUN.slots) % len(self.plan.slots)]
        self.session: Session | None = None
        self.actions: list[Action] = []
        self.notes_written = itertools.count()
        self.token = self.slot.token
        self.subject = self.slot.subject
        self.reconnect_at = 0.0
        self.backoff_s = 0.1

    def wait_time(self) -> float:
        if not self.actions:
            return 1.0
        return max(0.0, min(a.due for a in self.actions) - monotonic())

    def on_start(self) -> None:
        if self.behaviour.arrival_jitter_s > 0:
            gevent.sleep(random.uniform(0, self.behaviour.arrival_jitter_s))
        if RUN.first_arrival is None:
            RUN.first_arrival = monotonic()
        if self.token is None:
            self.join()
        self.schedule()
        self.connect()

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()

    def join(self) -> None:
        """POST /api/events/{id}/join with the code, as a participant does: this user's own token."""
        start = monotonic()
        RUN.operations += 1
        body = json.dumps({"code": self.plan.join_code, "agree": True}).encode()
        request = urllib.request.Request(
            f"{self.slot.server}/api/events/{self.plan.event_id}/join",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.behaviour.connect_timeout_s) as response:
                answer = json.loads(response.read())
        except OSError as exc:
            fail("HTTP", "POST join", str(exc), monotonic() - start)
            return
        report("HTTP", "POST join", monotonic() - start)
        self.token, self.subject = answer["token"], answer["participant"]

    def connect(self) -> None:
        if self.token is None or self.subject is None:
            return
        url = ws_url(self.slot.server, self.slot.room, self.token)
        self.session = Session(
            self.slot.room, url, self.subject, f"participant {self.slot.index}", observer=self.slot.observer
        )
        RUN.sessions.append(self.session)
        if self.session.connect(self.behaviour.connect_timeout_s):
            self.backoff_s = 0.1
            self.presence()
        else:
            # As y-websocket does: back off (up to a few seconds) before trying again.
            self.reconnect_at = monotonic() + self.backoff_s
            self.backoff_s = min(self.backoff_s * 2, 5.0)

    def schedule(self) -> None:
        now = monotonic()
        wanted = (
            ("note", self.behaviour.note_every_s, self.add_note),
            ("move", self.behaviour.move_every_s, self.move_note),
            ("vote", self.behaviour.vote_every_s, self.vote),
            ("presence", self.behaviour.presence_every_s, self.presence),
        )
        self.actions = [
            Action(name, every, now + random.uniform(0, every), run) for name, every, run in wanted if every > 0
        ]

    @task
    def act(self) -> None:
        """Do what is due (open loop: late actions go out at once, their lateness is kept)."""
        now = monotonic()
        session = self.session
        if session is None or not session.alive:
            if session is not None:
                session.close()
            if self.reconnect_at <= now < RUN.stop_writing:
                self.connect()  # a real client reconnects with a fresh document
            else:
                gevent.sleep(min(1.0, max(0.0, self.reconnect_at - now)))
            return
        session.expire(now, self.behaviour.ack_timeout_s)
        for action in self.actions:
            if action.due > now:
                continue
            if RUN.in_window(now):
                RUN.send_lag_s.append(now - action.due)
            action.due += action.every_s
            if now < RUN.stop_writing:
                action.run()

    # the actions

    def add_note(self) -> None:
        session = self.session
        assert session is not None
        k = next(self.notes_written)
        note_id = f"n{self.slot.index}-{k}"
        t_sent = monotonic()
        fields = {
            "section": session.section,
            "text": stamp_text(f"Note {k} from {self.slot.index}: what we tried, and what it taught us", t_sent),
            "colour": COLOURS[self.slot.index % len(COLOURS)],
            "x": random.randint(0, 1600),
            "y": random.randint(0, 900),
            "author": session.subject,
            "author_name": None,
            "cluster": None,
            "scope": "room",
            "created_ms": int(time.time() * 1000),
        }

        stale = self._oldest_to_drop(session)

        def edit(board: BoardReplica) -> None:
            board.notes[note_id] = Map(fields)
            if board.meta.get("phase") == "vote":
                board.votes[note_id] = Map()  # the author opens the ballot: no two voters race to create it
            if stale is not None:
                del board.notes[stale]
                if stale in board.votes:
                    del board.votes[stale]

        session.write("note", edit, t_sent)
        session.note_ids.append(note_id)
        session.mine.append(note_id)

    def _oldest_to_drop(self, session: Session) -> str | None:
        """With ``keep_notes``: this user's oldest note that nobody else has voted on, once it has too many."""
        keep = self.behaviour.keep_notes
        if keep <= 0 or len(session.mine) < keep:
            return None
        votes = session.board.votes
        for note_id in session.mine:
            ballot = votes.get(note_id)
            if note_id in session.board.notes and (ballot is None or set(ballot.keys()) <= {session.subject}):
                session.mine.remove(note_id)
                session.my_votes.pop(note_id, None)
                return note_id
        return None

    def move_note(self) -> None:
        session = self.session
        assert session is not None
        if not session.note_ids:
            return
        # An observer's replica holds everyone's notes; the others move their own (still there).
        note_id = random.choice(session.note_ids if session.observer else session.mine or [""])
        if note_id not in session.board.notes:
            return
        t_sent = monotonic()
        x, y = random.randint(0, 1600), stamp_position(t_sent)

        def edit(board: BoardReplica) -> None:
            note = board.notes[note_id]
            note["x"] = x
            note["y"] = y

        session.write("move", edit, t_sent)

    def vote(self) -> None:
        session = self.session
        assert session is not None
        board = session.board
        if board.meta.get("phase") != "vote":
            return
        budget = int(board.meta.get("votes_per_person", 5))
        mine = session.my_votes
        spent = [n for n, c in mine.items() if c > 0]
        if sum(mine.values()) < budget:
            # Each user votes on their own notes: only an observer's replica sees others' votes, and an
            # author who deleted a note holding votes it cannot see would be refused by the server.
            sample = random.sample(session.mine, min(8, len(session.mine)))
            note_id = next((n for n in sample if n in board.votes), None)
            if note_id is None:
                return
            count = mine.get(note_id, 0) + 1
        elif spent:
            note_id = random.choice(spent)
            count = mine[note_id] - 1
        else:
            return
        voter = session.subject
        t_sent = monotonic()

        def edit(board: BoardReplica) -> None:
            ballot = board.votes[note_id]
            if count:
                ballot[voter] = count
            else:
                del ballot[voter]

        LEDGER.record((session.room, note_id, voter, count), t_sent)
        session.write("vote", edit, t_sent)
        mine[note_id] = count

    def presence(self) -> None:
        if self.session is None:
            return
        self.session.announce(
            {
                "user": {"name": f"Participant {self.slot.index}", "colour": COLOURS[self.slot.index % 6]},
                "cursor": {"x": random.randint(0, 1600), "y": random.randint(0, 900)},
            }
        )


class Participant(BoardUser):
    """A breakout participant: notes, moves, votes and presence in their room."""


class PlenaryParticipant(BoardUser):
    """Someone joining the plenary with the code during the surge; writes notes and presence, no votes."""

    def schedule(self) -> None:
        super().schedule()
        self.actions = [a for a in self.actions if a.name in ("note", "presence")]


class Facilitator(User):
    """Opens every room of the event in turn: sync, presence, start the room's timer, stay a moment, leave."""

    fixed_count = 1

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        assert RUN.plan is not None
        self.plan = RUN.plan
        self.rooms = itertools.cycle(enumerate(self.plan.rooms))
        self.sweep_started = 0.0

    def wait_time(self) -> float:
        return 0.0

    def on_start(self) -> None:
        RUN.spawned.wait()  # participants first: the rooms are live when the facilitator walks in

    @task
    def visit_next_room(self) -> None:
        if monotonic() >= RUN.stop_writing:
            gevent.sleep(0.5)
            return
        index, room = next(self.rooms)
        if index == 0:
            self.sweep_started = monotonic()
        server = self.plan.servers[index % len(self.plan.servers)]
        session = Session(room, ws_url(server, room, self.plan.facilitator_token), "facilitator", "facilitator")
        RUN.sessions.append(session)
        behaviour = self.plan.behaviour
        if session.connect(behaviour.connect_timeout_s, name="open room"):
            RUN.rooms_opened += 1
            session.announce({"user": {"name": "Facilitator", "colour": "purple"}})
            t_sent = monotonic()
            ends_at_ms = int(time.time() * 1000) + behaviour.timer_s * 1000
            timer = {"ends_at_ms": ends_at_ms, "duration_s": behaviour.timer_s}
            LEDGER.record((room, ends_at_ms), t_sent)

            def edit(board: BoardReplica) -> None:
                board.meta["timer"] = timer

            session.write("timer", edit, t_sent)
            gevent.sleep(behaviour.sweep_dwell_s)
            session.expire(monotonic(), behaviour.sweep_dwell_s)
        session.close()
        if index == len(self.plan.rooms) - 1 and self.sweep_started:
            seconds = monotonic() - self.sweep_started
            RUN.sweeps.append(seconds)
            report("sweep", f"all {len(self.plan.rooms)} rooms", seconds)


# -- wiring -----------------------------------------------------------------------------


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--plan", type=str, default="", help="plan written by loadtests/run_scenario.py")


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    RUN.environment = environment
    options = environment.parsed_options
    if options is not None and options.plan:
        RUN.plan = Plan.load(options.plan)


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    plan = RUN.plan
    assert plan is not None
    RUN.started = monotonic()
    run_time = environment.parsed_options.run_time if environment.parsed_options else None
    if run_time:
        RUN.stop_writing = RUN.started + run_time - plan.drain_s
    if not plan.measure_after_spawn:
        RUN.open_window(RUN.started)


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_: Any) -> None:
    plan = RUN.plan
    assert plan is not None
    RUN.peak_users = max(RUN.peak_users, user_count)
    RUN.spawned.set()
    if plan.measure_after_spawn:
        # The CSV and HTML keep the whole run (ramp-up included); the summary measures from here.
        gevent.spawn_later(plan.warmup_s, RUN.open_window, monotonic() + plan.warmup_s)


@events.test_stopping.add_listener
def _on_test_stopping(**_: Any) -> None:
    RUN.stopping = True
    now = monotonic()
    # Writes never echoed by the end (at least drain_s after the last one was sent) are lost.
    for session in RUN.sessions:
        session.expire(now, 0.0)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    plan = RUN.plan
    assert plan is not None
    end = min(monotonic(), RUN.stop_writing)
    seconds = max(end - RUN.window_start, 1e-9)
    # Edits (notes, moves, votes, timers) are judged by their delivery; presence apart, since
    # the server gathers it on purpose (one frame per --presence-interval).
    deliveries = [x for kind, samples in RUN.latencies.items() if kind != "presence" for x in samples]
    errors = sum(RUN.errors.values())
    summary = {
        "scenario": plan.scenario,
        "users": RUN.peak_users,
        "window": {
            "start_wall": RUN.window_start_wall,
            "end_wall": RUN.window_start_wall + seconds,
            "seconds": round(seconds, 3),
        },
        "latency_ms": percentiles_ms(deliveries),
        "presence_latency_ms": percentiles_ms(RUN.latencies.get("presence", [])),
        # A long (soak) run is steady when these stay level from the first minute to the last.
        "latency_ms_by_minute": [percentiles_ms(RUN.by_minute[m]) for m in sorted(RUN.by_minute)],
        "latency_ms_by_kind": {kind: percentiles_ms(samples) for kind, samples in sorted(RUN.latencies.items())},
        "ack_ms_by_kind": {kind: percentiles_ms(samples) for kind, samples in sorted(RUN.acks.items())},
        "connect_ms": {name: percentiles_ms(samples) for name, samples in sorted(RUN.connects.items())},
        "send_lag_ms": percentiles_ms(RUN.send_lag_s),
        "writes_per_s": round(sum(v for k, v in RUN.writes.items() if k != "presence") / seconds, 1),
        "writes_per_s_by_kind": {k: round(v / seconds, 2) for k, v in sorted(RUN.writes.items())},
        "delivered_updates_per_s": round(RUN.received["updates"] / seconds, 1),
        "presence_received_per_s": round(RUN.received["presence"] / seconds, 1),
        "received_msgs_per_s": round(sum(RUN.received.values()) / seconds, 1),
        "errors": {
            "count": errors,
            "operations": RUN.operations,
            "rate": round(errors / RUN.operations, 6) if RUN.operations else (1.0 if errors else 0.0),
            "by_kind": dict(RUN.errors),
            "first": RUN.first_error,
        },
        "syncs": RUN.syncs,
        "expected_syncs": plan.expected_syncs,
        "all_synced_s": round(RUN.all_synced - RUN.first_arrival, 3)
        if RUN.all_synced is not None and RUN.first_arrival is not None
        else None,
        "sweeps_s": [round(s, 3) for s in RUN.sweeps],
        "rooms_opened": RUN.rooms_opened,
    }
    with open(plan.summary_path, "w") as f:
        json.dump(summary, f, indent=2)
