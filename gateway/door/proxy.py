"""The one door: ``/api/v1/*`` routed by prefix to the owning service, as a plain ASGI layer.

This sits outside FastAPI (the outermost middleware of the gateway app), so a proxied request
pays for no routing, validation or dependency layers: one dict lookup for the route, a cached
token check, a token bucket, then httpx's transport on the shared client (aiohttp underneath)
with both bodies streamed. The gateway's own paths fall through to FastAPI.

Why a transport and not ``client.send``: the client's layers (auth flow, redirects, cookie jar,
event hooks, per-request logging) cost about as much as the transport itself here and a proxy
needs none of them; requests and responses are still httpx's (see door/transport.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import structlog
from httpx_aiohttp import AiohttpTransport
from prometheus_client.metrics import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.door.ratelimit import RateLimiter
from gateway.door.transport import ProxyTransport
from gateway.settings import GatewaySettings
from gateway.state import GatewayState
from owkernel.errors import Unauthorized, problem_body
from owkernel.guard import BASELINE_RESPONSE_HEADERS, NO_STORE, refusal
from owkernel.logs import new_request_id
from owkernel.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("gateway.door")

# RFC 9110 7.6.1 hop-by-hop fields, plus Host (the upstream's is set by the client) and the
# X-Forwarded-* fields the door writes itself.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The server in front (uvicorn) writes its own Date and Server fields.
RESPONSE_DROP = HOP_BY_HOP | {b"date", b"server"}
# Expect: the server in front has answered 100-continue already, when the door read the body.
REQUEST_DROP = HOP_BY_HOP | {
    b"host",
    b"expect",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-request-id",
}
SMALL_BODY = 64 * 1024
# The console and the cashier are HTML the gateway serves itself: no inline script or style, no
# framing (clickjacking the pay button), nothing loaded from elsewhere. FastAPI's /docs pages load
# Swagger UI from a CDN with an inline script, so they get only frame-ancestors.
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    b"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = b"frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
URL_CACHE_SIZE = 4096


class BodyTooLargeError(Exception):
    """The streamed request body passed the size limit."""


class ClientGoneError(Exception):
    """The caller disconnected while sending its body."""


def _problem_message(status: int, detail: str, request_id: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    body = json.dumps(
        problem_body(status, detail, request_id=request_id), ensure_ascii=False, separators=(",", ":")
    ).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *BASELINE_RESPONSE_HEADERS,
                NO_STORE,
                *headers,
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


def _with_page_policy(send: Send, *, docs: bool) -> Send:
    """``send`` that adds the Content-Security-Policy header to an HTML page the gateway serves."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            html = any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
            if html and not any(n.lower() == b"content-security-policy" for n, _ in headers):
                headers.append((b"content-security-policy", DOCS_POLICY if docs else CONTENT_SECURITY_POLICY))
                message = {**message, "headers": headers}
        await send(message)

    return sender


class Door:
    """ASGI middleware: proxy the services' prefixes, rate-limit, pass the rest to the app."""

    def __init__(self, app: ASGIApp, *, settings: GatewaySettings, state: GatewayState) -> None:
        self.app = app
        self.settings = settings
        self.state = state
        upstreams = settings.upstreams()
        unknown = {svc for svc in settings.routes.values() if svc not in upstreams}
        if unknown:
            raise ValueError(f"routes name services without an upstream URL: {sorted(unknown)}")
        # prefix -> (service, upstream base URL)
        self.routes: dict[str, tuple[str, str]] = {
            prefix.rstrip("/"): (svc, upstreams[svc]) for prefix, svc in settings.routes.items()
        }
        rate = state.rate_limit
        self.limiter = RateLimiter(rate=rate, burst_seconds=settings.rate_limit_burst_seconds) if rate > 0 else None
        self.max_body = settings.max_request_bytes
        self.own_max_body = settings.own_max_request_bytes
        self.timeout = {
            "connect": settings.proxy_connect_timeout_seconds,
            "read": settings.proxy_read_timeout_seconds,
            "write": settings.proxy_read_timeout_seconds,
            "pool": settings.proxy_connect_timeout_seconds,
        }
        self.access_log = settings.proxy_access_log
        self._transport: httpx.AsyncBaseTransport | None = None
        self._urls: dict[str, httpx.URL] = {}
        self._metrics: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    # --- entry ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        refused = refusal(scope["headers"], path, scope.get("raw_path"), scope.get("query_string", b""))
        if refused is not None:
            for message in _problem_message(400, refused, new_request_id(), []):
                await send(message)
            return
        if not path.startswith("/api/v1/"):
            await self._own(scope, receive, _with_page_policy(send, docs=path.startswith(DOCS_PATHS)))
            return
        end = path.find("/", 8)
        prefix = path if end == -1 else path[:end]
        route = self.routes.get(prefix)
        if route is None:
            # The gateway's own API (or an unknown path: FastAPI answers 404).
            if self.limiter is not None and not await self._own_route_allowed(scope, send):
                return
            await self._own(scope, receive, send)
            return
        await self._proxy(scope, receive, send, prefix, route[1])

    async def _own(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The gateway's own routes take small bodies only (JSON, forms): a big one is refused unread,
        one without a length is read here up to the limit and handed on."""
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        too_big = False
        if length is not None:
            try:
                too_big = int(length) > self.own_max_body
            except ValueError:
                too_big = False  # the server in front has refused it already
        elif chunked:
            body = bytearray()
            more = True
            while more and not too_big:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                too_big = len(body) > self.own_max_body
            if not too_big:
                buffered: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

                async def replay() -> Message:
                    return buffered.pop() if buffered else await receive()

                await self.app(scope, replay, send)
                return
        if too_big:
            for message in _problem_message(
                413, f"The request body is larger than {self.own_max_body} bytes.", new_request_id(), []
            ):
                await send(message)
            return
        await self.app(scope, receive, send)

    async def _own_route_allowed(self, scope: Scope, send: Send) -> bool:
        assert self.limiter is not None
        key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    try:
                        key = "s:" + (await self.state.verifier.check(token.strip())).principal.subject_id
                    except Unauthorized:
                        key = None  # the route itself answers 401 where a token is needed
                break
        if key is None:
            client = scope.get("client")
            key = "a:" + (client[0] if client else "unknown")
        wait = self.limiter.take(key)
        if wait > 0:
            for message in _problem_message(
                429, "Too many requests; slow down.", new_request_id(), [(b"retry-after", str(int(wait) + 1).encode())]
            ):
                await send(message)
            return False
        return True

    # --- the proxy -----------------------------------------------------------------------------
    def _transport_of(self, scope: Scope) -> httpx.AsyncBaseTransport:
        if self._transport is None:
            client: httpx.AsyncClient = scope["app"].state.kernel.http
            shared = client._transport
            # The shared client's aiohttp session (one connection pool), through the lean transport.
            self._transport = (
                ProxyTransport(shared, connect=self.timeout["connect"], read=self.timeout["read"])
                if isinstance(shared, AiohttpTransport)
                else shared
            )
        return self._transport

    def _url(self, base: str, scope: Scope) -> httpx.URL:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        text = base + raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        url = self._urls.get(text)
        if url is None:
            # Parsing a URL costs tens of microseconds; recent ones are reused.
            url = httpx.URL(text)
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[text] = url
        return url

    async def _proxy(self, scope: Scope, receive: Receive, send: Send, prefix: str, base: str) -> None:
        started = time.perf_counter()
        status = 500
        method: str = scope["method"]
        request_id: str | None = None
        auth: bytes | None = None
        length: bytes | None = None
        chunked = False
        connection: bytes | None = None
        forwarded_for: bytes | None = None
        host: bytes | None = None
        headers: list[tuple[bytes, bytes]] = []
        for name, value in scope["headers"]:
            if name in REQUEST_DROP:
                if name == b"x-request-id":
                    candidate = value.decode("latin-1")
                    if 0 < len(candidate) <= 128 and candidate.isprintable():
                        request_id = candidate
                elif name == b"transfer-encoding":
                    chunked = True
                elif name == b"connection":
                    connection = value
                elif name == b"host":
                    host = value
                elif name == b"x-forwarded-for":
                    forwarded_for = value
                continue
            if name == b"authorization":
                auth = value
            elif name == b"content-length":
                length = value
            headers.append((name, value))
        rid = request_id or os.urandom(16).hex()  # what new_request_id() makes, without the UUID object
        try:
            status = await self._forward(
                scope, receive, send, base, method, rid, auth, length, chunked, connection, forwarded_for, host, headers
            )
        finally:
            elapsed = time.perf_counter() - started
            key = (method, prefix, status)
            metric = self._metrics.get(key)
            if metric is None:
                metric = self._metrics[key] = (
                    HTTP_REQUESTS.labels("gateway", method, prefix, str(status)),
                    HTTP_LATENCY.labels("gateway", prefix),
                )
            metric[0].inc()
            metric[1].observe(elapsed)
            if self.access_log or status >= 500:
                client = scope.get("client")
                log.log(
                    30 if status >= 500 else 20,
                    "proxied",
                    request_id=rid,
                    method=method,
                    path=scope["path"],
                    upstream=base,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                    client=client[0] if client else None,
                )

    async def _reply_problem(
        self, send: Send, status: int, detail: str, rid: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> int:
        for message in _problem_message(status, detail, rid, headers or []):
            await send(message)
        return status

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        method: str,
        rid: str,
        auth: bytes | None,
        length: bytes | None,
        chunked: bool,
        connection: bytes | None,
        forwarded_for: bytes | None,
        host: bytes | None,
        headers: list[tuple[bytes, bytes]],
    ) -> int:
        # 1. A token that is present must be valid (services check it again themselves).
        subject = None
        if auth is not None:
            scheme, _, token = auth.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                try:
                    subject = (await self.state.verifier.check(token.strip())).principal.subject_id
                except Unauthorized as exc:
                    return await self._reply_problem(
                        send, 401, exc.detail, rid, [(b"www-authenticate", b'Bearer error="invalid_token"')]
                    )
        client = scope.get("client")
        address = client[0] if client else "unknown"
        # 2. Rate limit per identity (per address when anonymous).
        if self.limiter is not None:
            wait = self.limiter.take("s:" + subject if subject else "a:" + address)
            if wait > 0:
                return await self._reply_problem(
                    send, 429, "Too many requests; slow down.", rid, [(b"retry-after", str(int(wait) + 1).encode())]
                )
        # 3. Size limit, before reading anything.
        size: int | None = None
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                return await self._reply_problem(send, 400, "Content-Length is not a number.", rid)
            if size < 0:
                return await self._reply_problem(send, 400, "Content-Length is not a number.", rid)
            if size > self.max_body:
                return await self._reply_problem(
                    send, 413, f"The request body is larger than {self.max_body} bytes.", rid
                )
        if connection is not None:
            # Fields named in Connection are hop-by-hop too (RFC 9110 7.6.1).
            named = {t.strip().lower().encode() for t in connection.decode("latin-1").split(",") if t.strip()}
            headers = [(n, v) for n, v in headers if n not in named]
        headers.append((b"x-request-id", rid.encode()))
        headers.append(
            (b"x-forwarded-for", forwarded_for + b", " + address.encode() if forwarded_for else address.encode())
        )
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
        if host is not None:
            headers.append((b"x-forwarded-host", host))

        # 4. The body: none, small (read at once), or streamed with a running size check.
        content: bytes | _BodyStream | None = None
        if size is not None and size <= SMALL_BODY:
            if size > 0 or chunked:
                buffer = bytearray()
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return 499
                    buffer += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(buffer) > self.max_body:
                        return await self._reply_problem(
                            send, 413, f"The request body is larger than {self.max_body} bytes.", rid
                        )
                content = bytes(buffer)
        elif size is not None or chunked:
            content = self._stream_body(receive)
        try:
            request = httpx.Request(
                method, self._url(base, scope), headers=headers, content=content, extensions={"timeout": self.timeout}
            )
        except (httpx.InvalidURL, ValueError, UnicodeError):
            return await self._reply_problem(send, 400, "The request's path or headers cannot be forwarded.", rid)

        # 5. Send once: never retried here (the transport only retries an idempotent request
        #    whose pooled connection turned out to be closed before anything was sent).
        try:
            response = await self._transport_of(scope).handle_async_request(request)
        except BodyTooLargeError:
            return await self._reply_problem(send, 413, f"The request body is larger than {self.max_body} bytes.", rid)
        except ClientGoneError:
            return 499
        except (httpx.HTTPError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            if isinstance(content, _BodyStream) and content.too_large:
                return await self._reply_problem(
                    send, 413, f"The request body is larger than {self.max_body} bytes.", rid
                )
            if isinstance(content, _BodyStream) and content.gone:
                return 499
            timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError | asyncio.TimeoutError) or isinstance(
                exc.__cause__, TimeoutError | asyncio.TimeoutError
            )
            log.warning("upstream_failed", request_id=rid, upstream=base, error=repr(exc), cause=repr(exc.__cause__))
            if timed_out:
                return await self._reply_problem(send, 504, "The service did not answer in time.", rid)
            return await self._reply_problem(send, 502, "The service is not reachable right now.", rid)

        # 6. The response, streamed back as it comes.
        try:
            out: list[tuple[bytes, bytes]] = []
            has_rid = False
            for name, value in response.headers.raw:
                lowered = name.lower()
                if lowered in RESPONSE_DROP:
                    continue
                if lowered == b"x-request-id":
                    has_rid = True
                out.append((lowered, value))
            if not has_rid:
                out.append((b"x-request-id", rid.encode()))
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            pending: bytes | None = None
            stream: Any = response.stream
            async for chunk in stream:
                if pending is not None:
                    await send({"type": "http.response.body", "body": pending, "more_body": True})
                pending = chunk
            await send({"type": "http.response.body", "body": pending or b""})
        finally:
            await response.aclose()
        return response.status_code

    def _stream_body(self, receive: Receive) -> _BodyStream:
        return _BodyStream(receive, self.max_body)


class _BodyStream:
    """The caller's body as an async iterator for the upstream request, counting bytes."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.seen = 0
        self.too_large = False
        self.gone = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.gone = True
                raise ClientGoneError()
            chunk: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            self.seen += len(chunk)
            if self.seen > self.limit:
                self.too_large = True
                raise BodyTooLargeError()
            if chunk:
                yield chunk
