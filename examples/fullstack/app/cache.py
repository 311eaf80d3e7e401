"""A Redis/Valkey cache (ElastiCache, over TLS) in front of Postgres reads.

fargo injects REDIS_URL (``rediss://host:6379``). The cache is an optimisation, never a
source of truth: when REDIS_URL is unset or the cache fails, reads go to Postgres.
"""

import logging
import os
import threading

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# A slow cache must cost a request less than the database read it stands in for:
# give up quickly and without retries, then read through.
_TIMEOUT_S = 0.5
_NO_RETRY = Retry(NoBackoff(), 0)

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis | None:
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return None
    # One client (and so one connection pool) per URL and process, shared by threads.
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(
                url,
                socket_connect_timeout=_TIMEOUT_S,
                socket_timeout=_TIMEOUT_S,
                retry=_NO_RETRY,
            )
        return _clients[url]


def get(key: str) -> bytes | None:
    """The cached value, or None on a miss, with no cache, or when the cache fails."""
    client = _client()
    if client is None:
        return None
    try:
        value = client.get(key)
    except redis.RedisError:
        log.warning("cache read of %s failed; reading through", key, exc_info=True)
        return None
    # redis-py types replies loosely (sync or async); a sync GET answers bytes or None.
    return value if isinstance(value, bytes) else None


def put(key: str, value: str, ttl_s: int) -> None:
    """Store ``value`` for ``ttl_s`` seconds; a failure only costs the next read a miss."""
    client = _client()
    if client is None:
        return
    try:
        client.set(key, value, ex=ttl_s)
    except redis.RedisError:
        log.warning("cache write of %s failed", key, exc_info=True)
