"""A Hypothesis example database shared by hosts: Redis behind the local directory database.

``shared_database(local, url)`` is Hypothesis's ``MultiplexedDatabase`` of the local
``DirectoryBasedExampleDatabase`` and a ``RedisExampleDatabase`` (``hypothesis.extra.redis``; the ``redis``
client of the ``[ray]`` extra), so a counterexample saved on one host is replayed first on every host of the
next campaign.  The Redis side is wrapped so an outage during a run only loses sharing: its errors are
caught, reported once on stderr, and Redis is left alone for a while; the local database goes on.
``check_url`` is the up-front check (a bad or unreachable URL is bad input).
"""
from __future__ import annotations

import sys
import time

from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase, MultiplexedDatabase

ENV_VAR = "LORA_CLAIMS_EXAMPLE_DB"
TIMEOUT = 2.0          # seconds to connect to / answer from Redis
RETRY_AFTER = 30.0     # seconds Redis is left alone after an error


class SharedDatabaseError(ValueError):
    """The shared example database's URL is malformed or its server does not answer (bad input)."""


def _client(url: str):
    try:
        import redis
    except ImportError:
        raise SharedDatabaseError("--example-db needs the redis client: pip install 'lora-claims[ray]'") from None
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    except ValueError as exc:
        raise SharedDatabaseError(f"--example-db {url!r} is not a Redis URL ({exc})") from None


def check_url(url: str) -> None:
    """Raise :class:`SharedDatabaseError` unless ``url`` names a Redis server that answers PING."""
    client = _client(url)
    try:
        client.ping()
    except Exception as exc:               # redis.ConnectionError, TimeoutError, AuthenticationError...
        raise SharedDatabaseError(f"--example-db {url}: the Redis server does not answer "
                                  f"({type(exc).__name__}: {exc})") from None
    finally:
        client.close()


class TolerantDatabase(ExampleDatabase):
    """``inner`` whose errors (a Redis outage) are swallowed: a failed call saves nothing and fetches nothing,
    and the database is not called again for ``RETRY_AFTER`` seconds."""

    def __init__(self, inner: ExampleDatabase, name: str):
        super().__init__()
        self.inner, self.name = inner, name
        self.down_until = 0.0
        self.errors = 0

    def _up(self) -> bool:
        return time.monotonic() >= self.down_until

    def _failed(self, exc: Exception) -> None:
        if self.errors == 0:
            print(f"lora-claims: the shared example database {self.name} failed ({type(exc).__name__}: {exc}); "
                  "going on with the local one (nothing is shared meanwhile)", file=sys.stderr)
        self.errors += 1
        self.down_until = time.monotonic() + RETRY_AFTER

    def fetch(self, key: bytes):
        if not self._up():
            return
        try:
            values = list(self.inner.fetch(key))
        except Exception as exc:
            self._failed(exc)
            return
        yield from values

    def _call(self, method: str, *args) -> None:
        if not self._up():
            return
        try:
            getattr(self.inner, method)(*args)
        except Exception as exc:
            self._failed(exc)

    def save(self, key: bytes, value: bytes) -> None:
        self._call("save", key, value)

    def delete(self, key: bytes, value: bytes) -> None:
        self._call("delete", key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self._call("move", src, dest, value)

    def __repr__(self) -> str:
        return f"TolerantDatabase({self.name})"


def shared_database(local: str, url: str) -> ExampleDatabase:
    """The local directory database ``local`` multiplexed with the Redis database at ``url`` (not checked
    here: see :func:`check_url`)."""
    from hypothesis.extra.redis import RedisExampleDatabase
    redis_db = TolerantDatabase(RedisExampleDatabase(_client(url)), url)
    return MultiplexedDatabase(DirectoryBasedExampleDatabase(local), redis_db)
