"""The broker tests run against a real redis-server and a real Redis Cluster."""

from redis_cluster import flushed_cluster, redis_backend, redis_cluster
from redis_server import flushed_redis, redis_server

__all__ = ["flushed_cluster", "flushed_redis", "redis_backend", "redis_cluster", "redis_server"]
