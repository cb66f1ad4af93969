"""The one way to make an outgoing HTTP client: shared, pooled, with timeouts, no cookies.

httpx's own transport costs a lot per request on a 2-core box (connection-pool bookkeeping in
httpcore); the aiohttp transport keeps httpx's API at close to aiohttp's speed, so every client
of the platform uses it. Make one client per process at start-up and close it at shutdown.

A shared client must never keep cookies: a Set-Cookie answered to one caller's request would
ride along on the next caller's. Both cookie jars (httpx's and aiohttp's) are disabled.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from owkernel.tracing import http_trace_configs


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing and sends nothing."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


def make_http_client(
    *,
    base_url: str = "",
    timeout: float = 10.0,
    connect_timeout: float = 3.0,
    max_connections: int = 200,
    max_keepalive: int = 100,
) -> httpx.AsyncClient:
    """A pooled, cookie-less ``httpx.AsyncClient`` on the aiohttp transport."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)

    def session() -> aiohttp.ClientSession:
        # Made lazily inside the running loop, on the first request.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=limits.keepalive_expiry),
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=http_trace_configs(),
        )

    return httpx.AsyncClient(
        base_url=base_url,
        transport=AiohttpTransport(limits=limits, trust_env=False, client=session),
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=limits,
        trust_env=False,
        cookies=_NoCookies(),
    )
