"""Signed access tokens (HMAC-SHA256 with a server secret), scoped to an event, a role and optionally a room."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from candor.errors import Unauthorized
from candor.ids import Access, Role

TOKEN_PREFIX = "c1"
DEFAULT_LIFETIME_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Claims:
    event: str
    role: Role
    subject: str
    expires_at: int
    name: str | None = None
    room: str | None = None  # None: every room of the event
    epoch: int = 0  # bumped by the facilitator to revoke earlier participant tokens
    # When the event was made: a token of an erased event never opens a later event given the same id.
    # None in tokens issued before it was a claim.
    made_ms: int | None = None

    @property
    def access(self) -> Access:
        return Access(self.role, self.subject, self.name, self.event)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_secret(data_dir: Path) -> bytes:
    """The server secret in ``data_dir/secret``, created on first start, readable by the owner only."""
    path = data_dir / "secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


class TokenSigner:
    """Issues and verifies tokens; a token is ``c1.<claims>.<mac>``, both parts base64url."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{TOKEN_PREFIX}.{payload}".encode(), hashlib.sha256).digest())

    def issue(self, claims: Claims) -> str:
        body = {
            "e": claims.event,
            "r": claims.role.value,
            "s": claims.subject,
            "x": claims.expires_at,
            "n": claims.name,
            "m": claims.room,
            "p": claims.epoch,
            "k": claims.made_ms,
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}.{payload}.{self._mac(payload)}"

    def verify(self, token: str, now: float | None = None) -> Claims:
        """The token's claims; Unauthorized when it is malformed, forged or expired."""
        parts = token.split(".")
        if not token.isascii() or len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise Unauthorized("the token is not a Candor token")
        _, payload, mac = parts
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise Unauthorized("the token's signature does not match")
        try:
            body = json.loads(_unb64(payload))
            claims = Claims(
                event=str(body["e"]),
                role=Role(body["r"]),
                subject=str(body["s"]),
                expires_at=int(body["x"]),
                name=body.get("n"),
                room=body.get("m"),
                epoch=int(body.get("p", 0)),
                made_ms=int(body["k"]) if body.get("k") is not None else None,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("the token is malformed") from exc
        if claims.role is Role.SERVER:
            raise Unauthorized("the token is malformed")
        if claims.expires_at < (now if now is not None else time.time()):
            raise Unauthorized("the token has expired; ask the facilitator for a new link")
        return claims
