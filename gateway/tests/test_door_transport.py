"""The door's sending path over real HTTP: answers read whole and streamed, bodies streamed up,
failures as httpx's exceptions; the aiohttp path and the httpx fallback alike; the relay of both
kinds of answer through the door."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yarl
from starlette.types import Message, Receive, Scope, Send

from gateway.door.proxy import Door
from gateway.door.transport import SMALL_ANSWER, Answer, HttpxSender, ProxyTransport
from gateway.door.upstreams import never_connected
from gateway.settings import GatewaySettings
from owkernel.http import make_http_client
from owtest import free_port, serving

BIG = bytes(range(256)) * (SMALL_ANSWER // 256 + 100)  # over the size read at once


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    """/small: a short answer with a length; /big: a long one with a length; /unannounced: no
    length (chunked); /upload: the body's size and digest; /slow: answers after 2 s."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path = scope["path"].rsplit("/", 1)[-1]
    if path == "slow":
        await asyncio.sleep(2)
    seen = dict(scope["headers"])
    headers = [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-seen-request-id", seen.get(b"x-request-id", b""))]
    if path in ("small", "slow"):
        await send({"type": "http.response.start", "status": 201, "headers": [*headers, (b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
    elif path == "upload":
        answer = f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
    else:
        if path == "big":
            headers.append((b"content-length", str(len(BIG)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for start in range(0, len(BIG), 64 * 1024):
            await send({"type": "http.response.body", "body": BIG[start : start + 64 * 1024], "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
async def base() -> AsyncIterator[str]:
    port = free_port()
    async with serving(upstream, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(params=["aiohttp", "httpx"])
async def sender(request: pytest.FixtureRequest) -> AsyncIterator[ProxyTransport | HttpxSender]:
    """The door's sender on the kernel's client (aiohttp), and the fallback on httpx's own transport."""
    if request.param == "aiohttp":
        client = make_http_client()
        async with client:
            yield ProxyTransport(client._transport, connect=1.0, read=1.0)  # type: ignore[arg-type]
    else:
        async with httpx.AsyncHTTPTransport() as transport:
            yield HttpxSender(transport, timeout={"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0})


async def _whole(answer: Answer) -> bytes:
    try:
        return b"".join([chunk async for chunk in answer.stream()])
    finally:
        await answer.aclose()


async def test_answers_small_and_big(sender: ProxyTransport | HttpxSender, base: str) -> None:
    small = await sender.send("GET", yarl.URL(base + "/small"), [("x-request-id", "r-1")], None)
    assert small.status_code == 201 and await _whole(small) == b"ok"
    names = [name.lower() for name, _ in small.raw_headers]
    assert names.count(b"set-cookie") == 2 and (b"x-seen-request-id", b"r-1") in small.raw_headers
    for path in ("/big", "/unannounced"):
        big = await sender.send("GET", yarl.URL(base + path), [], None)
        assert big.status_code == 200 and big.body is None  # streamed, not held whole
        assert await _whole(big) == BIG
    # The connections went back to the pool: the next call is served.
    assert (await sender.send("GET", yarl.URL(base + "/small"), [], None)).status_code == 201


async def test_bodies_sent_whole_and_streamed(sender: ProxyTransport | HttpxSender, base: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(BIG), 100_000):
            yield BIG[start : start + 100_000]

    expected = f"{len(BIG)} {hashlib.sha256(BIG).hexdigest()}".encode()
    for body in (BIG, chunks()):
        answer = await sender.send("PUT", yarl.URL(base + "/upload"), [], body)
        assert await _whole(answer) == expected


async def test_failures_are_httpx_exceptions(sender: ProxyTransport | HttpxSender, base: str) -> None:
    with pytest.raises(httpx.ConnectError) as refused:
        await sender.send("GET", yarl.URL(f"http://127.0.0.1:{free_port()}/small"), [], None)
    assert never_connected(refused.value)
    with pytest.raises(httpx.ReadTimeout):
        await sender.send("GET", yarl.URL(base + "/slow"), [], None)


async def test_the_door_relays_answers_read_whole_and_streamed(base: str) -> None:
    settings = GatewaySettings(intake_url=base, log_json=False)

    async def verifier_check(token: str) -> Any:
        raise AssertionError("no token in these calls")

    state: Any = SimpleNamespace(rate_limit=0.0, verifier=SimpleNamespace(check=verifier_check))

    async def own(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("every call here is proxied")

    door = Door(own, settings=settings, state=state)
    async with make_http_client() as http:
        app = SimpleNamespace(state=SimpleNamespace(kernel=SimpleNamespace(http=http)))

        async def call(path: str) -> list[Message]:
            sent: list[Message] = []
            scope = {
                "type": "http",
                "method": "GET",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "query_string": b"",
                "headers": [(b"host", b"gateway"), (b"x-request-id", b"door-relay-1")],
                "client": ("127.0.0.1", 40000),
                "app": app,
            }

            async def receive() -> Message:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: Message) -> None:
                sent.append(message)

            await door(scope, receive, send)
            return sent

        start, *body = await call("/api/v1/applications/small")
        assert start["status"] == 201 and [m["body"] for m in body] == [b"ok"] and not body[0].get("more_body")
        assert (b"x-request-id", b"door-relay-1") in start["headers"]
        assert (b"x-seen-request-id", b"door-relay-1") in start["headers"]
        for path in ("/api/v1/applications/big", "/api/v1/applications/unannounced"):
            start, *body = await call(path)
            assert start["status"] == 200 and len(body) > 1
            assert all(m["more_body"] for m in body[:-1]) and not body[-1].get("more_body")
            assert b"".join(m["body"] for m in body) == BIG
