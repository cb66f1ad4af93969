"""The one way to make an outgoing HTTP client: shared, pooled, with timeouts.

httpx's own transport costs a lot per request on a 2-core box (connection-pool bookkeeping in
httpcore); the aiohttp transport keeps httpx's API at close to aiohttp's speed, so every client
of the platform uses it. Make one client per process at start-up and close it at shutdown.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport


def make_http_client(
    *,
    base_url: str = "",
    timeout: float = 10.0,
    connect_timeout: float = 3.0,
    max_connections: int = 200,
    max_keepalive: int = 100,
) -> httpx.AsyncClient:
    """A pooled ``httpx.AsyncClient`` on the aiohttp transport."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=AiohttpTransport(limits=limits, trust_env=False),
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        limits=limits,
        trust_env=False,
    )
