"""Several replicas behind one service name: round-robin over the healthy ones, health learnt two ways.

In Kubernetes the gateway's ``GATEWAY_<SVC>_URL`` is the Service's one address and kube-proxy
balances; run as plain processes (tools/scale) the gateway is given every replica's URL,
comma-separated, and balances itself the way a Service with a readiness probe would:

- round-robin over the replicas not marked down;
- passive health: a replica that refuses the connection, breaks it, answers 503 or says it is
  closing (``Connection: close``: uvicorn's graceful shutdown) is marked down for a short time;
- the request is then sent to another replica when that is safe: the connection was never
  established, or the method is idempotent, or the caller sent an ``Idempotency-Key`` (the
  service answers a repeat with the first answer); otherwise the failure is the caller's answer;
- active health: a prober asks each replica's ``/readyz`` every second; a replica comes back only
  when it answers 200 (and one that stops answering 200 is taken out before a request fails);
- when every replica is down the next is tried anyway: passive marks must not turn one bad
  answer into a total outage (Envoy's "panic" mode).

One URL (the Kubernetes form) keeps the door as it was: no prober, nothing retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import httpx
import structlog
from starlette.types import Message, Receive

log = structlog.get_logger("gateway.door.upstreams")

# RFC 9110 9.2.2: a repeat of these has the effect of one.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
IDEMPOTENCY_KEY = b"idempotency-key"
Clock = Callable[[], float]
# What a replica's failure looks like through the door's transport (its own, or the socket's);
# anything else (the caller's body too large, the caller gone) is no replica's fault.
UPSTREAM_FAILURES = (httpx.TransportError, OSError, TimeoutError)


def parse_urls(value: str) -> tuple[str, ...]:
    """The replicas' base URLs of a ``GATEWAY_<SVC>_URL`` value: one URL or a comma-separated list."""
    urls = tuple(dict.fromkeys(part.strip().rstrip("/") for part in value.split(",") if part.strip()))
    if not urls:
        raise ValueError("an upstream needs at least one URL")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"an upstream URL must be http(s): {url!r}")
    return urls


@dataclass
class Replica:
    """One replica of a service: its base URL and whether the door sends it requests now."""

    url: str
    down: bool = False
    # Not probed before this (monotonic seconds): a replica just marked down gets a short rest.
    down_until: float = 0.0
    reason: str = ""
    # Probes in a row this replica failed while up (a busy replica may be slow to answer once).
    missed: int = 0


@dataclass
class UpstreamPool:
    """The replicas of one service, chosen round-robin among those not marked down."""

    service: str
    replicas: tuple[Replica, ...]
    down_seconds: float = 2.0
    clock: Clock = time.monotonic
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def of(
        cls, service: str, urls: Sequence[str], *, down_seconds: float = 2.0, clock: Clock = time.monotonic
    ) -> UpstreamPool:
        """A pool of ``urls`` (all up)."""
        return cls(service, tuple(Replica(url) for url in urls), down_seconds=down_seconds, clock=clock)

    @property
    def balanced(self) -> bool:
        """True with several replicas: the door balances, marks and retries only then."""
        return len(self.replicas) > 1

    def choose(self, tried: Collection[Replica] = ()) -> Replica | None:
        """The next replica to send to: round-robin over the up ones not tried yet; when all of those
        are down, the untried one whose rest ends first; None when every replica was tried."""
        untried = [r for r in self.replicas if r not in tried]
        if not untried:
            return None
        up = [r for r in untried if not r.down]
        if up:
            return up[next(self._turn) % len(up)]
        return min(untried, key=lambda r: r.down_until)

    def mark_down(self, replica: Replica, reason: str) -> None:
        """Take ``replica`` out of the rotation until a probe finds it ready again."""
        if not self.balanced:
            return
        if not replica.down:
            log.warning("upstream_down", service=self.service, upstream=replica.url, reason=reason)
        replica.down, replica.reason = True, reason
        replica.down_until = self.clock() + self.down_seconds

    def mark_up(self, replica: Replica) -> None:
        """Put ``replica`` back in the rotation."""
        if replica.down:
            log.info("upstream_up", service=self.service, upstream=replica.url, was=replica.reason)
        replica.down, replica.reason, replica.down_until = False, "", 0.0

    def due_for_probe(self) -> list[Replica]:
        """Replicas to ask ``/readyz`` now: every up one, and each down one whose rest is over."""
        now = self.clock()
        return [r for r in self.replicas if not r.down or r.down_until <= now]


# --- what a failure means --------------------------------------------------------------------
def never_connected(exc: BaseException) -> bool:
    """True when the request cannot have reached the replica: the connection was refused or never made."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | ConnectionRefusedError):
        return True
    return isinstance(exc.__cause__, ConnectionRefusedError)


def repeatable(method: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """True when sending the request twice has the effect of once (so it may go to another replica
    after the first one failed mid-way, or answered 503)."""
    return method in IDEMPOTENT_METHODS or any(name == IDEMPOTENCY_KEY for name, _ in headers)


class Reply(Protocol):
    """What ``send_balanced`` needs of an answer (door/transport.py's ``Answer``)."""

    @property
    def status_code(self) -> int: ...

    @property
    def raw_headers(self) -> Sequence[tuple[bytes, bytes]]: ...

    async def aclose(self) -> None: ...


R = TypeVar("R", bound=Reply)


def closing(response: Reply) -> bool:
    """True when the replica says it closes the connection: uvicorn does so while draining."""
    return any(name.lower() == b"connection" and value.lower() == b"close" for name, value in response.raw_headers)


class NoReplicaError(Exception):
    """Every replica of the service was tried and none could be reached; ``last`` is the last failure."""

    def __init__(self, last: BaseException) -> None:
        super().__init__(str(last))
        self.last = last


async def send_balanced(
    pool: UpstreamPool,
    send: Callable[[str], Awaitable[R]],
    *,
    method: str,
    headers: Iterable[tuple[bytes, bytes]],
    replayable: bool,
) -> R:
    """``send(base_url)`` to a replica of ``pool``, to another one when that one fails and a retry is
    safe. ``replayable``: the body can be sent again (bytes, not a stream being read).

    Raises what ``send`` raised when no retry is safe (any exception other than a transport
    failure at once), ``NoReplicaError`` when no replica could be reached at all. A 503 is
    returned (the caller's answer) when no other replica is left to try.
    """
    tried: list[Replica] = []
    retry_safe = replayable and repeatable(method, headers)
    while True:
        replica = pool.choose(tried)
        assert replica is not None  # the loop leaves before every replica is tried
        tried.append(replica)
        more = len(tried) < len(pool.replicas)  # (not choose(): that would move the turn on)
        try:
            response = await send(replica.url)
        except UPSTREAM_FAILURES as exc:
            if not pool.balanced:
                raise
            connect = never_connected(exc)
            pool.mark_down(replica, "unreachable" if connect else f"failed: {type(exc).__name__}")
            if more and (retry_safe or (connect and replayable)):
                continue
            if connect:
                raise NoReplicaError(exc) from exc
            raise
        if not pool.balanced:
            return response
        if response.status_code == 503:
            pool.mark_down(replica, "answered 503")
            if more and retry_safe:
                await response.aclose()
                continue
        elif closing(response):
            pool.mark_down(replica, "closing")
        return response


# --- active health ---------------------------------------------------------------------------
Probe = Callable[[str], Awaitable[bool]]


class HealthProber:
    """Asks every replica of the balanced pools ``/readyz`` each ``interval`` seconds, marking them:
    a down one comes back at its first 200; an up one goes down after ``misses`` failed probes in a
    row (Kubernetes' failureThreshold: on two shared cores one slow answer is not an outage, and
    a replica that really fails is taken out at once by the passive marks)."""

    def __init__(
        self,
        pools: Iterable[UpstreamPool],
        probe: Probe,
        *,
        interval: float = 1.0,
        timeout: float = 2.0,
        misses: int = 2,
    ) -> None:
        self.pools = [p for p in pools if p.balanced]
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.misses = misses
        self._task: asyncio.Task[None] | None = None

    @property
    def needed(self) -> bool:
        """True when some service has several replicas."""
        return bool(self.pools)

    async def check_once(self) -> None:
        """Probe each due replica once (all at the same time) and mark it by the answer."""
        due = [(pool, replica) for pool in self.pools for replica in pool.due_for_probe()]
        answers = await asyncio.gather(*(self._ready(replica.url) for _, replica in due))
        for (pool, replica), ready in zip(due, answers, strict=True):
            replica.missed = 0 if ready else replica.missed + 1
            if ready:
                pool.mark_up(replica)
            elif replica.down or replica.missed >= self.misses:
                pool.mark_down(replica, replica.reason or "not ready")

    async def _ready(self, url: str) -> bool:
        try:
            return await asyncio.wait_for(self.probe(url), timeout=self.timeout)
        except Exception:  # noqa: BLE001 - any failure to answer means not ready
            return False

    def start(self) -> None:
        """Begin probing in the background (once; nothing to do with a single replica per service)."""
        if self._task is None and self.needed:
            self._task = asyncio.create_task(self._run(), name="upstream-prober")

    async def _run(self) -> None:
        while True:
            await self.check_once()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop probing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def until_shutdown(self, receive: Receive) -> Receive:
        """The lifespan's ``receive``, stopping the prober when the server announces shutdown."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.stop()
            return message

        return wrapped
