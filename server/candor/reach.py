"""Where people on other devices reach this server: the address that join links and QR codes carry."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

# Binding to these means every interface of the machine, so the LAN address works.
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})
# What to run instead when the server only listens on this computer.
OPEN_TO_ROOM = "./scripts/serve --host 0.0.0.0"


@dataclass(frozen=True, slots=True)
class Reach:
    """The base URL links should carry when the request's own address would not do, and whether
    only this computer can open the server at all (it listens on loopback only)."""

    url: str | None = None
    loopback_only: bool = False


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This machine's address on its network, as another device there would use it, or None.

    Connecting a UDP socket sends nothing: it only asks the kernel which
    interface would carry traffic towards another network, and that
    interface's address is the one phones in the room can reach.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere, and no packet is sent
            address = str(probe.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            return address
    except OSError:
        pass
    try:
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(sockaddr[0])
            if not ipaddress.ip_address(address).is_loopback:
                return address
    except OSError:
        pass
    return None


def check_public_url(url: str) -> str:
    """``url`` without its trailing slash; ValueError unless it is an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an http:// or https:// address like https://candor.example.org")
    return url.strip().rstrip("/")


def reach_for(host: str, port: int, public_url: str | None) -> Reach:
    """What links should use for a server listening on ``host``:``port``."""
    if public_url:
        return Reach(check_public_url(public_url), loopback_only=False)
    if is_loopback(host):
        return Reach(None, loopback_only=True)
    address = lan_address() if host in ALL_INTERFACES else host
    if address is None:
        return Reach(None, loopback_only=False)
    shown = f"[{address}]" if ":" in address else address
    return Reach(f"http://{shown}:{port}", loopback_only=False)
