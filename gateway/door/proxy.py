"""The one door: ``/api/v1/*`` routed by prefix to the owning service, as a plain ASGI layer.

This is the outermost layer of the gateway app's stack (gateway/app.py builds it so), outside
even Starlette's ServerErrorMiddleware and FastAPI's exception-telemetry and body-limit wrappers,
so a proxied request pays for no routing, validation, dependency or error-handling layers: one
dict lookup for the route, the guard, a cached token check, a token bucket, then the shared
client's aiohttp session (door/transport.py) with both bodies streamed. The door therefore answers
its own failures, an unexpected exception included (a problem+json 500 naming the request id).
Only FastAPI's own entry is in front of it: its server span (when tracing) covers the proxied
call. The gateway's own paths fall through to the rest of the stack (the kernel's request
middleware: request ids, access log, metrics, the guard, its own last-resort 500).

A proxied call is an ``Outbound`` (door/outbound.py) taken through named steps in ``_forward``:
guard, admit (token, rate limit), declared size, body, request, send, relay; a step that refuses
raises ``RefusedError`` and the door answers its problem.

Why not ``client.send``: the client's layers (auth flow, redirects, cookie jar, event hooks,
per-request logging) cost about as much as the transport itself here and a proxy needs none of
them; nor does it need httpx's request and response models (see door/transport.py).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx
import structlog
import yarl
from httpx_aiohttp import AiohttpTransport
from opentelemetry import trace
from prometheus_client.metrics import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.door.outbound import (
    RESPONSE_DROP,
    SMALL_BODY,
    BodyStream,
    BodyTooLargeError,
    ClientGoneError,
    Outbound,
    RefusedError,
    problem_messages,
    too_large,
)
from gateway.door.ratelimit import RateLimiter
from gateway.door.transport import Answer, HttpxSender, ProxyTransport
from gateway.door.upstreams import HealthProber, NoReplicaError, UpstreamPool, send_balanced
from gateway.settings import GatewaySettings
from gateway.state import GatewayState
from owkernel.errors import Unauthorized
from owkernel.guard import refusal
from owkernel.logs import new_request_id
from owkernel.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("gateway.door")

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
UNEXPECTED = "An unexpected error occurred; quote the request id when reporting it."


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


async def _answer(
    send: Send, status: int, detail: str, request_id: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a problem+json answer the door writes itself."""
    for message in problem_messages(status, detail, request_id, headers or []):
        await send(message)


async def _unexpected(send: Send, exc: Exception, request_id: str) -> None:
    """The last-resort 500 for an exception of the door's own (what ServerErrorMiddleware and the
    kernel's problem handler gave when the door sat inside them, now with the request id)."""
    log.exception("unhandled_error", request_id=request_id, error=repr(exc))
    # FastAPI's exception-telemetry wrapper noted it on the request's server span; so does the door.
    trace.get_current_span().record_exception(exc)
    await _answer(send, 500, UNEXPECTED, request_id)


class Door:
    """ASGI middleware: proxy the services' prefixes, rate-limit, pass the rest to the app."""

    def __init__(self, app: ASGIApp, *, settings: GatewaySettings, state: GatewayState) -> None:
        self.app = app
        self.settings = settings
        self.state = state
        pools = {
            svc: UpstreamPool.of(svc, urls, down_seconds=settings.upstream_down_seconds)
            for svc, urls in settings.upstream_replicas().items()
        }
        unknown = {svc for svc in settings.routes.values() if svc not in pools}
        if unknown:
            raise ValueError(f"routes name services without an upstream URL: {sorted(unknown)}")
        # prefix -> (service, its replicas)
        self.routes: dict[str, tuple[str, UpstreamPool]] = {
            prefix.rstrip("/"): (svc, pools[svc]) for prefix, svc in settings.routes.items()
        }
        self.prober = HealthProber(pools.values(), self._probe, interval=settings.upstream_probe_seconds)
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
        self._transport: ProxyTransport | HttpxSender | None = None
        self._urls: dict[str, yarl.URL] = {}
        self._metrics: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    # --- entry ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # The replicas' prober (started by the first proxied call) stops with the server.
            wrapped = self.prober.until_shutdown(receive) if scope["type"] == "lifespan" else receive
            await self.app(scope, wrapped, send)
            return
        path: str = scope["path"]
        if path.startswith("/api/v1/"):
            end = path.find("/", 8)
            prefix = path if end == -1 else path[:end]
            route = self.routes.get(prefix)
            if route is not None:
                await self._proxy(scope, receive, send, prefix, route[1])
                return
        # The gateway's own paths (or an unknown one: FastAPI answers 404). The door's checks here
        # are the door's to answer for; what the app raises, the stack inside answers.
        try:
            handed = await self._admit_own(scope, receive, send, path)
        except Exception as exc:  # noqa: BLE001 - the last-resort 500, logged there
            await _unexpected(send, exc, new_request_id())
            return
        if handed is not None:
            page = not path.startswith("/api/v1/")
            await self.app(scope, handed, _with_page_policy(send, docs=path.startswith(DOCS_PATHS)) if page else send)

    async def _admit_own(self, scope: Scope, receive: Receive, send: Send, path: str) -> Receive | None:
        """The ``receive`` to hand the gateway's own app, or None when the door answered (429, 413)
        or the caller left: its API is rate-limited like the services' (its pages are not)."""
        if path.startswith("/api/v1/") and self.limiter is not None and not await self._own_route_allowed(scope, send):
            return None
        return await self._own_body(scope, receive, send)

    async def _own_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
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
                    return None
                body += message.get("body", b"")
                more = message.get("more_body", False)
                too_big = len(body) > self.own_max_body
            if not too_big:
                buffered: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

                async def replay() -> Message:
                    return buffered.pop() if buffered else await receive()

                return replay
        if too_big:
            await _answer(send, 413, f"The request body is larger than {self.own_max_body} bytes.", new_request_id())
            return None
        return receive

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
            retry = [(b"retry-after", str(int(wait) + 1).encode())]
            await _answer(send, 429, "Too many requests; slow down.", new_request_id(), retry)
            return False
        return True

    # --- the proxy -----------------------------------------------------------------------------
    def _transport_of(self, scope: Scope) -> ProxyTransport | HttpxSender:
        if self._transport is None:
            client: httpx.AsyncClient = scope["app"].state.kernel.http
            shared = client._transport
            # The shared client's aiohttp session (one connection pool), through the lean transport.
            self._transport = (
                ProxyTransport(shared, connect=self.timeout["connect"], read=self.timeout["read"])
                if isinstance(shared, AiohttpTransport)
                else HttpxSender(shared, timeout=self.timeout)
            )
        return self._transport

    def _url(self, base: str, scope: Scope) -> yarl.URL:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        text = base + raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        url = self._urls.get(text)
        if url is None:
            # Parsing a URL costs tens of microseconds; recent ones are reused. httpx's parser
            # first, as before: it refuses what cannot be forwarded and normalises the rest; aiohttp
            # is then handed that text parsed, as it parsed it itself before.
            try:
                url = yarl.URL(str(httpx.URL(text)))
            except (httpx.InvalidURL, ValueError, UnicodeError):
                raise RefusedError(400, "The request's path or headers cannot be forwarded.") from None
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[text] = url
        return url

    async def _proxy(self, scope: Scope, receive: Receive, send: Send, prefix: str, pool: UpstreamPool) -> None:
        started = time.perf_counter()
        call = Outbound(scope, receive, send, pool.replicas[0].url)
        status = 500
        try:
            status = await self._forward(call, pool)
        except Exception as exc:
            if call.answering:
                # The answer is cut short: nothing to say now but to let the server close the connection.
                log.exception("unhandled_error", request_id=call.rid, error=repr(exc))
                raise
            await _unexpected(send, exc, call.rid)
        finally:
            self._observe(call, prefix, status, time.perf_counter() - started)

    def _observe(self, call: Outbound, prefix: str, status: int, elapsed: float) -> None:
        """Metrics for every proxied call; a log line for each when asked, and for every 5xx."""
        key = (call.method, prefix, status)
        metric = self._metrics.get(key)
        if metric is None:
            metric = self._metrics[key] = (
                HTTP_REQUESTS.labels("gateway", call.method, prefix, str(status)),
                HTTP_LATENCY.labels("gateway", prefix),
            )
        metric[0].inc()
        metric[1].observe(elapsed)
        if self.access_log or status >= 500:
            log.log(
                30 if status >= 500 else 20,
                "proxied",
                request_id=call.rid,
                method=call.method,
                path=call.scope["path"],
                upstream=call.base,
                status=status,
                ms=round(elapsed * 1000, 2),
                client=call.address if call.scope.get("client") else None,
            )

    async def _forward(self, call: Outbound, pool: UpstreamPool) -> int:
        """Forward one call; the status answered (499 when the caller left first)."""
        try:
            self._guard(call)
            await self._admit(call)
            size = call.declared_size(self.max_body)  # before reading anything
            content = await self._body(call, size)
            response = await self._send(call, pool, content)
        except RefusedError as refused:
            await _answer(call.send, refused.status, refused.detail, call.rid, refused.headers)
            return refused.status
        except ClientGoneError:
            return 499
        return await self._relay(call, response)

    @staticmethod
    def _guard(call: Outbound) -> None:
        """The guard (owkernel.guard) before anything is read or forwarded: an ambiguous request is
        refused (the gateway's own paths are guarded once, by the kernel's request middleware)."""
        scope = call.scope
        refused = refusal(scope["headers"], scope["path"], scope.get("raw_path"), scope.get("query_string", b""))
        if refused is not None:
            raise RefusedError(400, refused)

    async def _admit(self, call: Outbound) -> None:
        """A token that is present must be valid (services check it again themselves); then the
        rate limit, per identity (per address when anonymous)."""
        subject = None
        if call.auth is not None:
            scheme, _, token = call.auth.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                try:
                    subject = (await self.state.verifier.check(token.strip())).principal.subject_id
                except Unauthorized as exc:
                    challenge = [(b"www-authenticate", b'Bearer error="invalid_token"')]
                    raise RefusedError(401, exc.detail, challenge) from None
        if self.limiter is not None:
            wait = self.limiter.take("s:" + subject if subject else "a:" + call.address)
            if wait > 0:
                retry = [(b"retry-after", str(int(wait) + 1).encode())]
                raise RefusedError(429, "Too many requests; slow down.", retry)

    async def _body(self, call: Outbound, size: int | None) -> bytes | BodyStream | None:
        """The body: none, small (read at once), or streamed with a running size check."""
        if size is not None and size <= SMALL_BODY:
            return await call.read_body(self.max_body) if size > 0 or call.chunked else None
        if size is not None or call.chunked:
            return BodyStream(call.receive, self.max_body)
        return None

    async def _send(self, call: Outbound, pool: UpstreamPool, content: bytes | BodyStream | None) -> Answer:
        """Send to a replica of ``pool``; to another only where door/upstreams.py says it is safe
        (one replica: sent once, as the transport only retries an idempotent request whose pooled
        connection turned out to be closed before anything was sent)."""
        transport = self._transport_of(call.scope)
        self.prober.start()
        headers = call.forwarded_headers()  # the same for every replica tried
        body = content or None  # an empty body is no body

        async def to(base: str) -> Answer:
            call.base = base
            return await transport.send(call.method, self._url(base, call.scope), headers, body)

        replayable = not isinstance(content, BodyStream)
        try:
            return await send_balanced(pool, to, method=call.method, headers=call.headers, replayable=replayable)
        except NoReplicaError as failed:
            raise self._failed(call, content, failed.last) from None
        except BodyTooLargeError:
            raise too_large(self.max_body) from None
        except (httpx.HTTPError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise self._failed(call, content, exc) from None

    def _failed(self, call: Outbound, content: bytes | BodyStream | None, exc: BaseException) -> Exception:
        """What to answer when no replica answered: 413 or the caller gone when it was the body, else 504/502."""
        # The transport may report the body stream's own failure as an upstream one.
        if isinstance(content, BodyStream) and content.too_large:
            return too_large(self.max_body)
        if isinstance(content, BodyStream) and content.gone:
            return ClientGoneError()
        timed_out = isinstance(exc, httpx.TimeoutException | TimeoutError | asyncio.TimeoutError) or isinstance(
            exc.__cause__, TimeoutError | asyncio.TimeoutError
        )
        log.warning(
            "upstream_failed", request_id=call.rid, upstream=call.base, error=repr(exc), cause=repr(exc.__cause__)
        )
        if timed_out:
            return RefusedError(504, "The service did not answer in time.")
        return RefusedError(502, "The service is not reachable right now.")

    async def _probe(self, base: str) -> bool:
        """True when a replica's /readyz answers 200 (the prober's question)."""
        if self._transport is None:
            return False
        response = await self._transport.send("GET", yarl.URL(base + "/readyz"), [], None)
        await response.aclose()
        return response.status_code == 200

    async def _relay(self, call: Outbound, response: Answer) -> int:
        """The response: at once when it was read whole, else streamed back as it comes."""
        try:
            out: list[tuple[bytes, bytes]] = []
            has_rid = False
            for name, value in response.raw_headers:
                lowered = name.lower()
                if lowered in RESPONSE_DROP:
                    continue
                if lowered == b"x-request-id":
                    has_rid = True
                out.append((lowered, value))
            if not has_rid:
                out.append((b"x-request-id", call.rid.encode()))
            call.answering = True
            await call.send({"type": "http.response.start", "status": response.status_code, "headers": out})
            if response.body is not None:
                await call.send({"type": "http.response.body", "body": response.body})
                return response.status_code
            pending: bytes | None = None
            async for chunk in response.stream():
                if pending is not None:
                    await call.send({"type": "http.response.body", "body": pending, "more_body": True})
                pending = chunk
            await call.send({"type": "http.response.body", "body": pending or b""})
        finally:
            await response.aclose()
        return response.status_code
