"""Candor: an event-sourced collaborative whiteboard server speaking the y-websocket protocol."""

__version__ = "0.1.0"
