"""Fan-out between server processes: logged records and awareness of the rooms a process has loaded."""

from candor.broker.base import AwarenessCallback, AwarenessSource, Broker, RecordsCallback
from candor.broker.local import LocalBroker

__all__ = ["AwarenessCallback", "AwarenessSource", "Broker", "LocalBroker", "RecordsCallback"]
