"""The y-websocket wire protocol: frames in, typed messages out, and back."""

from candor.protocol.codec import (
    AwarenessUpdate,
    Message,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_awareness,
    encode_permission_denied,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)

__all__ = [
    "AwarenessUpdate",
    "Message",
    "QueryAwareness",
    "SyncStep1",
    "SyncStep2",
    "SyncUpdate",
    "decode_message",
    "encode_awareness",
    "encode_permission_denied",
    "encode_query_awareness",
    "encode_sync_step1",
    "encode_sync_step2",
    "encode_update",
]
