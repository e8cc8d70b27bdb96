"""Prometheus metrics of one server process: rooms, peers, messages, rejections, log latency, snapshots."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Counters the core updates as it works; gauges are read from the registry at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rooms_loaded = Gauge("candor_rooms_loaded", "Rooms loaded in this process", registry=r)
        self.peers = Gauge("candor_peers", "Open websocket connections to rooms", registry=r)
        self.room_loads = Counter("candor_room_loads", "Rooms loaded from snapshot + log", registry=r)
        self.messages_in = Counter("candor_messages_in", "Websocket messages received, by kind", ["kind"], registry=r)
        self._received: dict[str, Counter] = {}
        self.messages_out = Counter("candor_messages_out", "Websocket messages queued to peers", registry=r)
        self.direct_connections = Counter(
            "candor_direct_connections",
            "Websocket connections served with direct I/O: messages in and out without ASGI (candor.http.direct)",
            registry=r,
        )
        self.rejected = Counter(
            "candor_rejected_updates", "Updates refused before the log, by reason", ["reason"], registry=r
        )
        self.append_seconds = Histogram(
            "candor_log_append_seconds",
            "Time to append a group of updates durably",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.appended = Counter("candor_log_records", "Log records appended", registry=r)
        self.snapshots = Counter("candor_snapshots", "Snapshots written", registry=r)
        self.refused_records = Counter(
            "candor_refused_records",
            "Stored updates left out of a room when it loaded (outside its bounds)",
            registry=r,
        )
        self.heap_trims = Counter(
            "candor_heap_trims", "Times memory freed by evicted rooms was returned to the system", registry=r
        )
        # Resident memory, CPU seconds, open files (process_*): how the whole process is doing.
        # (Not glibc's mallinfo2: it walks every free chunk of the heap, on the loop, on each scrape;
        # a soak's fragmented heap made that a stall of tens of ms that grew by the minute.)
        ProcessCollector(registry=r)

    def received(self, kind: str) -> None:
        """Count a received message of this kind (its labelled counter is looked up once)."""
        counter = self._received.get(kind)
        if counter is None:
            counter = self._received[kind] = self.messages_in.labels(kind)
        counter.inc()

    def watch(self, rooms_loaded: Callable[[], float], peers: Callable[[], float]) -> None:
        """Read these gauges from live state whenever metrics are scraped."""
        self.rooms_loaded.set_function(rooms_loaded)
        self.peers.set_function(peers)

    def render(self) -> bytes:
        return generate_latest(self.registry)
