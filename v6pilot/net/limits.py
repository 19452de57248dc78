"""Rate and concurrency limits per key: in one process (`LocalLimiter`) or shared by every
scanning process and machine through Redis (`RedisLimiter`), so per-destination politeness
holds however a scan is spread out."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from v6pilot.errors import V6PilotError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

PRUNE_AT = 10_000
"""Local rate keys kept before the ones whose turn has passed are forgotten."""
DEFAULT_PREFIX = "v6pilot:polite"
DEFAULT_LEASE_SECONDS = 10.0
FIRST_POLL_SECONDS = 0.005


class PolitenessError(V6PilotError):
    """A limit is invalid, or the shared limiter cannot be reached."""


class Limiter(Protocol):
    """Turns and slots per key; keys are opaque strings chosen by the caller."""

    async def pace(self, key: str, per_second: float) -> float:
        """Wait for `key`'s next turn, `per_second` turns a second at most; the seconds waited."""
        ...

    def hold(self, key: str, limit: int) -> AbstractAsyncContextManager[float]:
        """Hold one of `limit` slots of `key` for the block, entered with the seconds waited."""
        ...

    async def close(self) -> None: ...


@dataclass
class _LocalSlots:
    """A key's semaphore and how many callers use it (the key is forgotten at zero)."""

    semaphore: asyncio.Semaphore
    users: int = 0


class LocalLimiter:
    """Limits within one event loop: a schedule of turns and a semaphore per key.

    Each `pace` reserves the key's next free turn at once (turns `1/per_second` apart) and
    sleeps until it, so waiters go in arrival order and no turn is given twice.
    """

    def __init__(self) -> None:
        self._next_turn: dict[str, float] = {}
        self._slots: dict[str, _LocalSlots] = {}

    async def pace(self, key: str, per_second: float) -> float:
        now = time.monotonic()
        turn = max(now, self._next_turn.get(key, now))
        self._next_turn[key] = turn + 1.0 / per_second
        if len(self._next_turn) > PRUNE_AT:
            self._next_turn = {k: t for k, t in self._next_turn.items() if t > now}
        wait = turn - now
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    @asynccontextmanager
    async def hold(self, key: str, limit: int) -> AsyncIterator[float]:
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = _LocalSlots(asyncio.Semaphore(limit))
        slots.users += 1
        started = time.monotonic()
        try:
            async with slots.semaphore:
                yield time.monotonic() - started
        finally:
            slots.users -= 1
            if not slots.users:
                del self._slots[key]

    async def close(self) -> None:
        """Nothing to release."""


_NOW_MS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
"""

_PACE = (
    _NOW_MS
    + """
local interval = tonumber(ARGV[1])
local turn = math.max(now, tonumber(redis.call('GET', KEYS[1])) or now)
local ttl = math.ceil(turn + interval - now) + 1000
redis.call('SET', KEYS[1], string.format('%.3f', turn + interval), 'PX', ttl)
return string.format('%.3f', turn - now)
"""
)
"""Reserve the key's next turn (GCRA with no burst) on Redis' clock; returns ms to wait."""

_TAKE = (
    _NOW_MS
    + """
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(lease))
return 1
"""
)
"""Take a slot (a lease expiring on its own) when fewer than the limit are live; 1 if taken."""

_RENEW = (
    _NOW_MS
    + """
local lease = tonumber(ARGV[1])
for index, key in ipairs(KEYS) do
  if redis.call('ZSCORE', key, ARGV[index + 1]) then
    redis.call('ZADD', key, now + lease, ARGV[index + 1])
    redis.call('PEXPIRE', key, math.ceil(lease))
  end
end
return 1
"""
)
"""Push the expiry of the given leases (key i holds token i) one lease period further."""


def shown_url(url: str) -> str:
    """`url` without credentials, for messages."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


class RedisLimiter:
    """Limits shared by every process using the same Redis (and `prefix`).

    Turns are reserved atomically on Redis' clock, so machines' clocks do not matter. A slot is
    a lease in a sorted set: held leases are renewed every third of `lease_seconds`, and the
    leases of a process that dies unrenewed expire by themselves within `lease_seconds`.
    Callers of one process first queue locally (a process never needs more than `limit`
    slots of a key), so only a few of them poll Redis. One Redis server is assumed
    (renewals touch several keys in one script).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_poll_seconds: float = 0.05,
    ) -> None:
        from redis.asyncio import Redis

        self.url = url
        self.prefix = prefix
        self.lease_ms = lease_seconds * 1000.0
        self.max_poll_seconds = max_poll_seconds
        self._redis: Redis = Redis.from_url(url)
        self._pace: AsyncScript = self._redis.register_script(_PACE)
        self._take: AsyncScript = self._redis.register_script(_TAKE)
        self._renew: AsyncScript = self._redis.register_script(_RENEW)
        self._local = LocalLimiter()
        self._held: dict[str, str] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def _call(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import RedisError

        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise PolitenessError(f"shared limiter {shown_url(self.url)}: {exc}") from exc

    async def pace(self, key: str, per_second: float) -> float:
        interval_ms = 1000.0 / per_second
        wait = float(await self._call(self._pace, [f"{self.prefix}:rate:{key}"], [interval_ms]))
        seconds = wait / 1000.0
        if seconds > 0:
            await asyncio.sleep(seconds)
        return seconds

    @asynccontextmanager
    async def hold(self, key: str, limit: int) -> AsyncIterator[float]:
        started = time.monotonic()
        async with self._local.hold(key, limit):
            slots_key = f"{self.prefix}:slots:{key}"
            token = uuid.uuid4().hex
            delay = FIRST_POLL_SECONDS
            while not await self._call(self._take, [slots_key], [limit, self.lease_ms, token]):
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self.max_poll_seconds)
            self._held[token] = slots_key
            self._keep_renewing()
            try:
                yield time.monotonic() - started
            finally:
                del self._held[token]
                await self._release(slots_key, token)

    async def _release(self, slots_key: str, token: str) -> None:
        """Give the slot back; if Redis cannot be told, the lease expires by itself."""
        from redis.exceptions import RedisError

        with suppress(RedisError):
            await self._redis.zrem(slots_key, token)

    def _keep_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.ensure_future(self._renew_held())

    async def _renew_held(self) -> None:
        """Renew every held lease each third of a lease period, until none is held; a failed
        renewal is retried next period (the limiter's other calls report an outage)."""
        while self._held:
            await asyncio.sleep(self.lease_ms / 3000.0)
            held = list(self._held.items())
            if held:
                keys = [slots_key for _, slots_key in held]
                tokens = [token for token, _ in held]
                with suppress(PolitenessError):
                    await self._call(self._renew, keys, [self.lease_ms, *tokens])

    async def close(self) -> None:
        """Stop renewing and disconnect; leases still held expire by themselves."""
        if self._renewer is not None:
            self._renewer.cancel()
        await self._redis.aclose()


def check_limiter_url(url: str) -> str:
    """`url` if it names a Redis server (redis://, rediss:// or unix://), else PolitenessError."""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise PolitenessError(f"{shown_url(url)} is not a Redis URL (redis://HOST:PORT/DB)")
    return url


def open_limiter(url: str | None) -> Limiter:
    """A `RedisLimiter` on `url` (redis://...), or a `LocalLimiter` when None."""
    return LocalLimiter() if url is None else RedisLimiter(check_limiter_url(url))
