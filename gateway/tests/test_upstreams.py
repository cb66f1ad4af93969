"""Balancing over a service's replicas: round-robin, passive marks, safe retries, the /readyz prober."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.door.transport import Answer
from gateway.door.upstreams import (
    HealthProber,
    NoReplicaError,
    UpstreamPool,
    never_connected,
    parse_urls,
    repeatable,
    send_balanced,
)

A, B, C = "http://10.0.0.1:8001", "http://10.0.0.2:8001", "http://10.0.0.3:8001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pool(*urls: str, clock: FakeClock | None = None) -> UpstreamPool:
    return UpstreamPool.of("intake", urls, down_seconds=2.0, clock=clock or FakeClock())


def answer(status: int, headers: list[tuple[bytes, bytes]] | None = None) -> Answer:
    return Answer(status, headers or [], b"")


class Replicas:
    """What each replica does with a request: answer a status, or raise; records where requests went."""

    def __init__(self, behaviour: dict[str, int | BaseException]) -> None:
        self.behaviour = behaviour
        self.sent: list[str] = []

    async def send(self, base: str) -> Answer:
        self.sent.append(base)
        what = self.behaviour.get(base, 200)
        if isinstance(what, BaseException):
            raise what
        return answer(what)


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def test_parse_urls() -> None:
    assert parse_urls("http://a:1/") == ("http://a:1",)
    assert parse_urls(" http://a:1 , http://b:2,http://a:1 ") == ("http://a:1", "http://b:2")
    with pytest.raises(ValueError):
        parse_urls(" , ")
    with pytest.raises(ValueError):
        parse_urls("a:1")


def test_round_robin_skips_replicas_marked_down() -> None:
    p = pool(A, B, C)
    assert [p.choose().url for _ in range(6)] == [A, B, C, A, B, C]  # type: ignore[union-attr]
    p.mark_down(p.replicas[1], "test")
    assert {p.choose().url for _ in range(6)} == {A, C}  # type: ignore[union-attr]
    p.mark_up(p.replicas[1])
    assert {p.choose().url for _ in range(6)} == {A, B, C}  # type: ignore[union-attr]


def test_all_down_still_tries_the_one_whose_rest_ends_first() -> None:
    clock = FakeClock()
    p = pool(A, B, clock=clock)
    p.mark_down(p.replicas[0], "test")
    clock.now += 1
    p.mark_down(p.replicas[1], "test")
    chosen = p.choose()
    assert chosen is not None and chosen.url == A
    assert p.choose(tried=[p.replicas[0]]) is p.replicas[1]
    assert p.choose(tried=p.replicas) is None


def test_one_url_is_never_marked_down() -> None:
    p = pool(A)
    p.mark_down(p.replicas[0], "test")
    assert not p.replicas[0].down and not p.balanced


def test_safety_of_a_retry() -> None:
    assert repeatable("GET", []) and repeatable("PUT", []) and repeatable("DELETE", [])
    assert not repeatable("POST", [(b"content-type", b"application/json")])
    assert repeatable("POST", [(b"idempotency-key", b"k1")])
    assert never_connected(httpx.ConnectError("refused")) and never_connected(httpx.ConnectTimeout("slow"))
    assert never_connected(ConnectionRefusedError())
    assert not never_connected(httpx.RemoteProtocolError("server disconnected"))
    assert not never_connected(httpx.ReadTimeout("slow answer"))


async def test_requests_take_turns_over_the_replicas() -> None:
    replicas = Replicas({})
    for _ in range(6):
        await send_balanced(pool(A, B, C), replicas.send, method="GET", headers=[], replayable=True)
    p = pool(A, B)
    for _ in range(6):
        await send_balanced(p, replicas.send, method="GET", headers=[], replayable=True)
    assert replicas.sent[6:] == [A, B, A, B, A, B]


async def test_a_refused_connection_goes_to_the_next_replica_whatever_the_method() -> None:
    p = pool(A, B)
    replicas = Replicas({A: refused()})
    response = await send_balanced(p, replicas.send, method="POST", headers=[], replayable=True)
    assert response.status_code == 200 and replicas.sent == [A, B]
    assert p.replicas[0].down and not p.replicas[1].down
    # Marked down: the next requests go straight to B.
    await send_balanced(p, replicas.send, method="POST", headers=[], replayable=True)
    assert replicas.sent[-1] == B


async def test_a_stream_being_read_is_not_sent_twice() -> None:
    replicas = Replicas({A: refused()})
    with pytest.raises(NoReplicaError):
        await send_balanced(pool(A, B), replicas.send, method="PUT", headers=[], replayable=False)
    assert replicas.sent == [A]


async def test_a_broken_connection_is_retried_only_when_repeating_is_harmless() -> None:
    broken = httpx.RemoteProtocolError("server disconnected")
    replicas = Replicas({A: broken})
    with pytest.raises(httpx.RemoteProtocolError):
        await send_balanced(pool(A, B), replicas.send, method="POST", headers=[], replayable=True)
    assert replicas.sent == [A]
    for method, headers in (("GET", []), ("POST", [(b"idempotency-key", b"k1")])):
        replicas = Replicas({A: broken})
        response = await send_balanced(pool(A, B), replicas.send, method=method, headers=headers, replayable=True)
        assert response.status_code == 200 and replicas.sent == [A, B]


async def test_a_503_marks_down_and_is_retried_when_safe() -> None:
    p = pool(A, B)
    replicas = Replicas({A: 503})
    response = await send_balanced(p, replicas.send, method="GET", headers=[], replayable=True)
    assert response.status_code == 200 and replicas.sent == [A, B] and p.replicas[0].down
    # A POST without a key gets the replica's own 503 (with its Retry-After) rather than a second try.
    p = pool(A, B)
    replicas = Replicas({A: 503})
    response = await send_balanced(p, replicas.send, method="POST", headers=[], replayable=True)
    assert response.status_code == 503 and replicas.sent == [A] and p.replicas[0].down


async def test_every_replica_unreachable() -> None:
    replicas = Replicas({A: refused(), B: refused()})
    with pytest.raises(NoReplicaError) as caught:
        await send_balanced(pool(A, B), replicas.send, method="GET", headers=[], replayable=True)
    assert isinstance(caught.value.last, httpx.ConnectError) and replicas.sent == [A, B]


async def test_one_url_is_sent_once_and_failures_are_the_callers() -> None:
    replicas = Replicas({A: refused()})
    with pytest.raises(httpx.ConnectError):
        await send_balanced(pool(A), replicas.send, method="GET", headers=[], replayable=True)
    replicas = Replicas({A: 503})
    assert (await send_balanced(pool(A), replicas.send, method="GET", headers=[], replayable=True)).status_code == 503
    assert replicas.sent == [A]


async def test_a_draining_replica_is_taken_out_after_its_answer() -> None:
    p = pool(A, B)

    async def send(base: str) -> Answer:
        return answer(200, [(b"connection", b"close")] if base == A else [])

    response = await send_balanced(p, send, method="POST", headers=[], replayable=True)
    assert response.status_code == 200 and p.replicas[0].down


async def test_the_prober_brings_a_replica_back_when_ready() -> None:
    clock = FakeClock()
    p = pool(A, B, clock=clock)
    ready = {A: False, B: True}
    asked: list[str] = []

    async def probe(url: str) -> bool:
        asked.append(url)
        if url == B and not ready[B]:
            raise httpx.ConnectError("refused")
        return ready[url]

    prober = HealthProber([p, pool(C)], probe, interval=0.1, misses=2)
    await prober.check_once()
    assert not p.replicas[0].down and sorted(asked) == [A, B]  # one miss is not an outage
    await prober.check_once()
    assert p.replicas[0].down and not p.replicas[1].down
    # Resting: not asked again until its rest is over; an up replica that stops answering goes
    # down at its second miss in a row.
    asked.clear()
    ready[A], ready[B] = True, False
    await prober.check_once()
    assert asked == [B] and not p.replicas[1].down
    await prober.check_once()
    assert p.replicas[1].down and p.replicas[0].down
    clock.now += 5
    await prober.check_once()
    assert not p.replicas[0].down and p.replicas[1].down


async def test_the_prober_runs_until_the_lifespan_shuts_down() -> None:
    p = pool(A, B)
    seen = asyncio.Event()

    async def probe(url: str) -> bool:
        seen.set()
        return True

    prober = HealthProber([p], probe, interval=0.01)
    assert not HealthProber([pool(A)], probe).needed
    prober.start()
    await asyncio.wait_for(seen.wait(), 2)
    messages = [{"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, str]:
        return messages.pop()

    assert (await prober.until_shutdown(receive)())["type"] == "lifespan.shutdown"
    assert prober._task is None


async def test_a_failure_of_the_caller_is_no_replicas_fault() -> None:
    p = pool(A, B)

    class CallerGoneError(Exception):
        pass

    async def send(base: str) -> Answer:
        raise CallerGoneError()

    with pytest.raises(CallerGoneError):
        await send_balanced(p, send, method="GET", headers=[], replayable=True)
    assert not any(r.down for r in p.replicas)
