"""One exception tree; each error carries its websocket close code and HTTP status."""

from __future__ import annotations

# Websocket close codes (RFC 6455 plus application codes in the 4000 range).
WS_1000_NORMAL = 1000
WS_1001_GOING_AWAY = 1001
WS_1002_PROTOCOL_ERROR = 1002
WS_1003_UNSUPPORTED_DATA = 1003
WS_1008_POLICY_VIOLATION = 1008
WS_1009_MESSAGE_TOO_BIG = 1009
WS_1011_INTERNAL_ERROR = 1011
WS_1013_TRY_AGAIN_LATER = 1013
WS_4400_BAD_ROOM = 4400
WS_4401_UNAUTHORIZED = 4401
WS_4403_FORBIDDEN = 4403
WS_4404_ROOM_NOT_FOUND = 4404
WS_4408_TOO_SLOW = 4408
WS_4422_INVALID_UPDATE = 4422


class CandorError(Exception):
    """Base of every error Candor raises on purpose."""

    ws_close_code: int = WS_1011_INTERNAL_ERROR
    http_status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProtocolError(CandorError):
    """A frame that does not follow the y-websocket protocol."""

    ws_close_code = WS_1002_PROTOCOL_ERROR
    http_status = 400
    code = "protocol_error"


class UnsupportedMessage(ProtocolError):
    """A well-formed frame of a message type Candor does not speak."""

    ws_close_code = WS_1003_UNSUPPORTED_DATA
    code = "unsupported_message"


class MessageTooBig(ProtocolError):
    ws_close_code = WS_1009_MESSAGE_TOO_BIG
    http_status = 413
    code = "message_too_big"


class InvalidUpdate(ProtocolError):
    """A Yjs update that the document cannot decode."""

    ws_close_code = WS_4422_INVALID_UPDATE
    http_status = 422
    code = "invalid_update"


class BadRoomName(CandorError):
    ws_close_code = WS_4400_BAD_ROOM
    http_status = 400
    code = "bad_room_name"


class BadRequest(CandorError):
    ws_close_code = WS_1008_POLICY_VIOLATION
    http_status = 400
    code = "bad_request"


class BodyTooLarge(BadRequest):
    """An HTTP request body over ``--max-http-body-bytes``."""

    http_status = 413
    code = "body_too_large"


class TooManyRequests(CandorError):
    """An address that tried too often: it may try again after ``retry_after_s`` (HTTP 429 + Retry-After)."""

    ws_close_code = WS_1013_TRY_AGAIN_LATER
    http_status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class PolicyViolation(CandorError):
    """A connection that breaks a server policy (idle, never syncing, sending too fast)."""

    ws_close_code = WS_1008_POLICY_VIOLATION
    http_status = 429
    code = "policy_violation"


class Unauthorized(CandorError):
    ws_close_code = WS_4401_UNAUTHORIZED
    http_status = 401
    code = "unauthorized"


class CreateTokenRequired(Unauthorized):
    """Creating an event needs the server's creation token (``candor serve --create-token``), missing or wrong."""

    code = "create_token_required"


class Forbidden(CandorError):
    ws_close_code = WS_4403_FORBIDDEN
    http_status = 403
    code = "forbidden"


class RoomNotFound(CandorError):
    ws_close_code = WS_4404_ROOM_NOT_FOUND
    http_status = 404
    code = "room_not_found"


class EventNotFound(RoomNotFound):
    code = "event_not_found"


class WrongJoinCode(Forbidden):
    """A join code that opens no event: a failed attempt, counted against the address that made it."""

    code = "wrong_join_code"


class UnknownJoinCode(EventNotFound):
    """No event has this join code: a failed attempt as well."""

    code = "unknown_join_code"


class InvalidBoard(CandorError):
    ws_close_code = WS_4422_INVALID_UPDATE
    http_status = 422
    code = "invalid_board"


class PeerTooSlow(CandorError):
    """The peer's outbox overflowed: it is closed and resyncs on reconnect."""

    ws_close_code = WS_4408_TOO_SLOW
    http_status = 503
    code = "peer_too_slow"


class StorageError(CandorError):
    """Storage (the event log, its snapshots, the event store) failed; not the client's doing."""

    ws_close_code = WS_1011_INTERNAL_ERROR
    http_status = 500
    code = "storage_error"


class CorruptRecord(StorageError):
    """A stored record, snapshot or archive chunk that cannot be decoded: the room cannot be loaded as it is."""

    code = "corrupt_record"


class LogUnavailable(StorageError):
    """The event log cannot accept or serve records right now."""

    ws_close_code = WS_1013_TRY_AGAIN_LATER
    http_status = 503
    code = "log_unavailable"


class RoomClosing(CandorError):
    """The room is shutting down; the client should reconnect."""

    ws_close_code = WS_1013_TRY_AGAIN_LATER
    http_status = 503
    code = "room_closing"


class ExportUnavailable(CandorError):
    """An export format this server cannot make (a PDF without LibreOffice), or whose converter failed."""

    ws_close_code = WS_1011_INTERNAL_ERROR
    http_status = 501
    code = "export_unavailable"


class RoomOutdated(RoomClosing):
    """The room was rewritten in storage (a purge) since this process loaded it: it must load again."""

    code = "room_outdated"


class LogConflict(StorageError):
    """A record with this room and seq is already stored (a second writer?)."""

    ws_close_code = WS_1011_INTERNAL_ERROR
    http_status = 409
    code = "log_conflict"


class InvalidTemplate(CandorError):
    """A board template that does not follow schemas/template.schema.json.

    ``problems`` lists every problem found, each as ``{"path": ..., "message": ...}``
    with ``path`` a JSON pointer into the template.
    """

    ws_close_code = WS_1008_POLICY_VIOLATION
    http_status = 422
    code = "invalid_template"

    def __init__(self, message: str, problems: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.problems = problems
