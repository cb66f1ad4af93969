"""The one door: routing, header hygiene, streamed uploads, limits, dead and slow services, OpenAPI."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.tests.harness import Stack, running_stack
from owtest import bearer, fresh_database_url


async def test_proxies_with_request_id_and_token_and_strips_hop_by_hop(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    r = await stack.client.get(
        "/api/v1/tasks/echo",
        headers=bearer(tokens["access_token"])
        | {
            "X-Request-ID": "req-door-1",
            "Connection": "keep-alive, X-Hop-Secret",
            "X-Hop-Secret": "must not pass",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Custom": "passes",
        },
    )
    assert r.status_code == 200, r.text
    seen = r.json()["headers"]
    assert seen["authorization"] == f"Bearer {tokens['access_token']}"
    assert seen["x-request-id"] == "req-door-1" and r.headers["x-request-id"] == "req-door-1"
    assert seen["x-custom"] == "passes" and seen["x-forwarded-for"] == "127.0.0.1"
    assert "x-hop-secret" not in seen and "proxy-authorization" not in seen
    assert r.json()["subject"]  # the service verified the token itself
    assert len(r.headers.get_list("date")) == 1 and len(r.headers.get_list("server")) == 1

    anonymous = await stack.client.get("/api/v1/catalog/items/ITEM-1")  # no token is fine at the door
    assert anonymous.status_code == 200 and anonymous.json()["code"] == "ITEM-1"
    assert anonymous.headers["x-request-id"]
    assert (await stack.client.get("/api/v1/tasks/echo")).status_code == 401  # the service wants one


async def test_the_gateway_keeps_no_cookies(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    r = await stack.client.get("/api/v1/tasks/cookie")
    assert "upstream_session" in r.headers["set-cookie"]  # passed on to the caller it was meant for
    async with httpx.AsyncClient(base_url=stack.gateway_url) as other_caller:
        seen = (await other_caller.get("/api/v1/tasks/echo", headers=bearer(tokens["access_token"]))).json()
    assert "cookie" not in seen["headers"]  # and never sent along for somebody else


async def test_roles_are_checked_by_the_service_behind(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    r = await stack.client.get("/api/v1/supervision/cards", headers=bearer(tokens["access_token"]))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    supervisor = await stack.staff("supervisor")
    assert (await stack.client.get("/api/v1/supervision/cards", headers=bearer(supervisor))).status_code == 200


def _multipart(boundary: str, content: bytes, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="plan.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        for start in range(0, len(content), chunk):
            yield content[start : start + chunk]
        yield f"\r\n--{boundary}--\r\n".encode()

    return body()


async def test_streamed_upload_is_proxied(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    content = os.urandom(3 * 1024 * 1024 + 17)
    boundary = "owtestboundary"
    # chunked (no Content-Length): streamed through in both directions
    r = await stack.client.put(
        "/api/v1/applications/A1/materials/M1",
        content=_multipart(boundary, content),
        headers=bearer(tokens["access_token"]) | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 201, r.text
    assert r.json() == {"size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "filename": "plan.pdf"}
    # with Content-Length, as browsers send files
    r = await stack.client.put(
        "/api/v1/applications/A1/materials/M2",
        files={"file": ("m2.pdf", content[:100_000], "application/pdf")},
        headers=bearer(tokens["access_token"]),
    )
    assert r.status_code == 201 and r.json()["size"] == 100_000


async def test_request_size_limit(stack: Stack) -> None:
    limit = stack.settings.max_request_bytes
    big = b"x" * (limit + 1)
    r = await stack.client.put("/api/v1/applications/A1/materials/M1", content=big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    # the gateway's own routes take small bodies only, with or without a length
    own = b'{"id_number": "' + b"1" * (stack.settings.own_max_request_bytes + 1) + b'"}'
    r = await stack.client.post("/api/v1/auth/register", content=own, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    async def own_stream() -> AsyncIterator[bytes]:
        yield own

    r = await stack.client.post(
        "/api/v1/auth/register", content=own_stream(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    # streamed without a length: cut off once it passes the limit, while the service is reading it
    _, tokens = await stack.citizen()
    r = await stack.client.put(
        "/api/v1/applications/A1/materials/M1",
        content=_multipart("b0undary", big, chunk=1024 * 1024),
        headers=bearer(tokens["access_token"]) | {"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert r.status_code == 413, r.text


async def test_dead_and_slow_services(stack: Stack) -> None:
    dead = await stack.client.get("/api/v1/shipments", headers={"X-Request-ID": "req-dead"})
    assert dead.status_code == 502 and dead.headers["content-type"] == "application/problem+json"
    assert dead.json()["request_id"] == "req-dead"
    assert (await stack.client.post("/api/v1/ratings", json={"score": 5})).status_code == 502
    slow = await stack.client.get("/api/v1/clocks/slow", params={"seconds": 3})
    assert slow.status_code == 504 and slow.json()["status"] == 504


async def test_posts_are_sent_once(stack: Stack) -> None:
    before = stack.upstream.posts
    for _ in range(3):
        assert (await stack.client.post("/api/v1/tasks/count")).status_code == 200
    assert stack.upstream.posts == before + 3


async def test_merged_openapi_and_docs(stack: Stack) -> None:
    doc = (await stack.client.get("/openapi.json")).json()
    assert "/api/v1/auth/login" in doc["paths"] and "/api/v1/payments" in doc["paths"]
    assert "/api/v1/tasks/echo" in doc["paths"] and "/api/v1/catalog/items/{code}" in doc["paths"]
    assert "/healthz" not in doc["paths"]
    assert doc["x-unavailable"] == ["delivery", "rating"]  # down, and the document still comes
    docs = await stack.client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


@pytest.fixture(scope="module")
async def limited(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("limited")
    async with running_stack(
        database_url=fresh_database_url("gateway_limited", tmp),
        upstream_database_url=fresh_database_url("upstream_limited", tmp),
        nats_url=nats_url,
        rate_limit=5.0,
        rate_limit_burst_seconds=1.0,
        login_address_max_failures=3,
    ) as running:
        yield running


async def test_rate_limit_per_identity(limited: Stack) -> None:
    _, tokens = await limited.citizen()
    # At once, so that a slow machine cannot refill the bucket between them (5/s, bursts of 5).
    replies = await asyncio.gather(*(limited.client.get("/api/v1/catalog/items/X") for _ in range(20)))
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) >= 1 and statuses.count(429) >= 10, statuses
    refused = next(r for r in replies if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    # another identity has its own bucket
    r = await limited.client.get("/api/v1/catalog/items/X", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200


async def test_login_throttled_per_address(limited: Stack) -> None:
    async def attempt(account: str) -> httpx.Response:
        # The door's own rate limit may answer first on this slow-paced stack: wait it out.
        while True:
            r = await limited.client.post("/api/v1/auth/login", json={"account": account, "password": "wrong-pass"})
            if r.status_code != 429 or "failed logins" in r.json()["detail"]:
                return r
            await asyncio.sleep(0.25)

    for _ in range(limited.settings.login_address_max_failures):
        assert (await attempt("nobody_here")).status_code == 401
    r = await attempt("admin")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


# --- ambiguous requests (issue 17: a second Authorization header, dot segments) -----------------


async def _raw(base_url: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict[str, str], bytes]:
    """Send a GET exactly as written (httpx would normalise the path and fold the headers)."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    lines = [f"GET {path} HTTP/1.1", f"Host: {url.host}:{url.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), fields, body


async def test_a_second_authorization_header_is_refused_everywhere(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    access = tokens["access_token"]
    logout = await stack.client.post("/api/v1/auth/logout", headers=bearer(access))
    assert logout.status_code == 204
    revived = [("Authorization", f"Bearer {access}"), ("Authorization", "Basic eA==")]
    # Through the door: the revoked token must not come back beside a junk header.
    status, fields, body = await _raw(stack.gateway_url, "/api/v1/tasks/echo", revived)
    assert status == 400, body
    assert fields["content-type"] == "application/problem+json" and b"authorization" in body
    # The gateway's own routes and the service behind refuse it too (a service trusts no door).
    status, _, _ = await _raw(stack.gateway_url, "/api/v1/auth/me", revived)
    assert status == 400
    status, _, body = await _raw(stack.upstream_url, "/api/v1/tasks/echo", list(reversed(revived)))
    assert status == 400, body
    # The same class: every header we authenticate or de-duplicate on is single-valued.
    for name in ("X-Device-Key", "Idempotency-Key", "Webhook-Signature"):
        status, _, _ = await _raw(stack.gateway_url, "/api/v1/catalog/items/ITEM-1", [(name, "a"), (name, "b")])
        assert status == 400, name
    status, _, _ = await _raw(stack.gateway_url, "/api/v1/catalog/items/ITEM-1", [("Idempotency-Key", "a")])
    assert status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/../../../metrics",
        "/api/v1/tasks/echo/../../../metrics",
        "/api/v1/tasks/./echo",
        "/api/v1/tasks/%2e%2e/%2e%2e/%2e%2e/metrics",
        "/api/v1/tasks/%2E%2E%2F%2E%2E%2Fmetrics",
        "/api/v1/tasks/echo%2f..%2f..%2fmetrics",
        "/api/v1/tasks\\..\\..\\metrics",
        "/docs/../metrics",
    ],
)
async def test_dot_segments_and_encoded_separators_are_never_forwarded(stack: Stack, path: str) -> None:
    status, fields, body = await _raw(stack.gateway_url, path, [])
    assert status == 400, (path, body)
    assert b"onewindow_" not in body and b"# HELP" not in body  # no service's metrics page
    assert fields["content-type"] == "application/problem+json"
    # A service refuses them as well when called directly.
    status, _, body = await _raw(stack.upstream_url, path.replace("/docs/", "/api/v1/tasks/"), [])
    assert status == 400, (path, body)


async def test_security_headers_on_pages_and_api(stack: Stack) -> None:
    _, tokens = await stack.citizen()
    api = await stack.client.get("/api/v1/tasks/echo", headers=bearer(tokens["access_token"]))
    own = await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    refused = await stack.client.get("/api/v1/tasks/echo", headers=bearer("not-a-token"))
    for response in (api, own, refused):
        assert response.headers["cache-control"] == "no-store", response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
    console = await stack.client.get("/")
    assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")
    policy = console.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert console.headers["x-frame-options"] == "DENY" and console.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in console.headers.get("cache-control", "")  # static files may be cached
    docs = await stack.client.get("/docs")
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
