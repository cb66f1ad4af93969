"""The door's last resort. gateway/app.py builds the door outside the app's whole stack (outside
Starlette's ServerErrorMiddleware and FastAPI's wrappers), so an unexpected exception of the door's
own is the door's to answer: a problem+json 500 naming the request id, with the security headers,
counted in the metrics; one raised after the answer began is left to the server (which closes the
connection), as ServerErrorMiddleware left it before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yarl
from fastapi import FastAPI
from prometheus_client import REGISTRY
from starlette.types import Receive, Scope, Send

from gateway.app import create_app
from gateway.door.proxy import Door
from gateway.door.transport import Answer, Body
from gateway.settings import GatewaySettings


class BrokenSender:
    """A sender with a bug: it raises before answering, or (``midway``) while the body streams."""

    def __init__(self, *, midway: bool = False) -> None:
        self.midway = midway

    async def send(self, method: str, url: yarl.URL, headers: list[tuple[str, str]], body: Body) -> Answer:
        if not self.midway:
            raise RuntimeError("a bug in the door")

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"items": ['
            raise RuntimeError("a bug in the door, midway")

        return Answer(200, [(b"content-type", b"application/json")], None, chunks=chunks())


@pytest.fixture
def gateway(tmp_path: Path) -> tuple[FastAPI, Door]:
    """The gateway app as uvicorn serves it (no lifespan: only the door is called) and its door."""
    settings = GatewaySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        intake_url="http://127.0.0.1:9",
        log_json=False,
    )
    app = create_app(settings)
    door = app.middleware_stack
    assert isinstance(door, Door)  # the outermost layer, in front of ServerErrorMiddleware
    return app, door


def _served(status: str) -> float:
    labels = {"service": "gateway", "method": "GET", "route": "/api/v1/applications", "status": status}
    return REGISTRY.get_sample_value("onewindow_http_requests_total", labels) or 0.0


async def test_an_unexpected_exception_is_a_problem_naming_the_request_id(gateway: tuple[FastAPI, Door]) -> None:
    app, door = gateway
    door._transport = BrokenSender()  # type: ignore[assignment]  # a stand-in sender
    before = _served("500")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        r = await client.get("/api/v1/applications/A1", headers={"X-Request-ID": "req-door-bug"})
        anonymous = await client.get("/api/v1/applications/A1")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["request_id"] == "req-door-bug" and r.headers["x-request-id"] == "req-door-bug"
    assert r.json()["code"] == "internal_server_error" and "request id" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert anonymous.status_code == 500 and anonymous.json()["request_id"] == anonymous.headers["x-request-id"]
    assert _served("500") == before + 2


async def test_an_exception_after_the_answer_began_is_left_to_the_server(gateway: tuple[FastAPI, Door]) -> None:
    app, door = gateway
    door._transport = BrokenSender(midway=True)  # type: ignore[assignment]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        with pytest.raises(RuntimeError, match="midway"):
            await client.get("/api/v1/applications/A1")


async def test_a_guard_refusal_is_counted_and_names_the_callers_request_id(gateway: tuple[FastAPI, Door]) -> None:
    app, _ = gateway
    before = _served("400")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        r = await client.get("/api/v1/applications/A1", params={"q": "\x00"}, headers={"X-Request-ID": "req-nul"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["request_id"] == "req-nul" and "NUL" in r.json()["detail"]
    assert _served("400") == before + 1


async def test_a_failing_check_before_the_gateways_own_routes_is_a_problem() -> None:
    async def check(token: str) -> Any:
        raise RuntimeError("a bug in the verifier")

    own_calls = 0

    async def own(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal own_calls
        own_calls += 1

    state: Any = SimpleNamespace(rate_limit=100.0, verifier=SimpleNamespace(check=check))
    door = Door(own, settings=GatewaySettings(log_json=False), state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=door), base_url="http://gateway") as client:
        r = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x.y.z"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["request_id"] == r.headers["x-request-id"] and own_calls == 0
