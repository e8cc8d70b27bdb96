"""The broker tests run against a real redis-server."""

from redis_server import flushed_redis, redis_server

__all__ = ["flushed_redis", "redis_server"]
