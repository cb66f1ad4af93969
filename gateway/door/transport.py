"""How the door sends: straight on the shared client's aiohttp session, with no httpx objects.

The door sends on the same aiohttp session (so the same connection pool) as the shared client
that ``owkernel.http.make_http_client`` made. A proxy needs none of httpx's request or response
models: building an ``httpx.Request`` (its URL, its ``Headers``, Host and length fields that aiohttp
adds again anyway) and an ``httpx.Response`` per call, then turning the headers back into text
pairs for aiohttp, cost about a fifth of the door's CPU. So a call goes in as method, a parsed
``yarl.URL`` (the door caches them) and text header pairs, and comes back as an ``Answer``: the
status, the raw header pairs and either the whole body (an answer that announces a small length
is read at once: the connection goes back to the pool straight away) or the open response to
stream from. Failures are still httpx's exceptions (door/upstreams.py judges retries by them).

A kernel client on another httpx transport (none is made so today) is served through that
transport instead (``HttpxSender``), with the same ``Answer`` out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport

SMALL_ANSWER = 256 * 1024
Body = bytes | AsyncIterable[bytes] | None


class Answer:
    """An upstream's answer: status, raw headers, and the body whole (``body``) or still to stream."""

    __slots__ = ("_chunks", "_close", "body", "raw_headers", "status_code")

    def __init__(
        self,
        status_code: int,
        raw_headers: tuple[tuple[bytes, bytes], ...] | list[tuple[bytes, bytes]],
        body: bytes | None = b"",
        *,
        chunks: AsyncIterable[bytes] | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = body  # None while the body is still to be streamed from ``chunks``
        self._chunks = chunks
        self._close = close

    def stream(self) -> AsyncIterable[bytes]:
        """The body chunk by chunk (a body read whole is one chunk)."""
        if self._chunks is None:
            return _once(self.body or b"")
        return self._chunks

    async def aclose(self) -> None:
        """Release the connection (nothing to do for an answer read whole)."""
        if self._close is not None:
            await self._close()


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def _aiohttp_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise mapped(exc) from exc


def mapped(exc: BaseException) -> httpx.HTTPError:
    """httpx's exception for an aiohttp (or socket) failure."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc))
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return httpx.ReadTimeout(str(exc) or "timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(str(exc))
    return httpx.RemoteProtocolError(str(exc) or type(exc).__name__)


class ProxyTransport:
    """Sends on the session of the shared client's ``AiohttpTransport``."""

    def __init__(self, shared: AiohttpTransport, *, connect: float, read: float) -> None:
        self.shared = shared
        self.timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=connect)

    def _session(self) -> aiohttp.ClientSession:
        if not isinstance(self.shared.client, aiohttp.ClientSession):
            self.shared.client = self.shared.get_client()
        return self.shared.client

    async def send(self, method: str, url: yarl.URL, headers: list[tuple[str, str]], body: Body) -> Answer:
        """Send once (aiohttp retries only an idempotent request whose pooled connection had closed).

        aiohttp adds Host, and a length for a bytes body (0 for no body where a body is expected),
        as httpx did for the door before."""
        try:
            response = await self._session().request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                auto_decompress=False,
                timeout=self.timeout,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise mapped(exc) from exc
        length = response.content_length
        if length is not None and length <= SMALL_ANSWER:
            try:
                content = await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                response.release()
                raise mapped(exc) from exc
            return Answer(response.status, response.raw_headers, content)

        async def release() -> None:
            response.release()

        return Answer(response.status, response.raw_headers, None, chunks=_aiohttp_chunks(response), close=release)


class HttpxSender:
    """The same ``send`` through any other httpx transport (httpx's request and response models)."""

    def __init__(self, transport: httpx.AsyncBaseTransport, *, timeout: dict[str, float]) -> None:
        self.transport = transport
        self.timeout = timeout

    async def send(self, method: str, url: yarl.URL, headers: list[tuple[str, str]], body: Body) -> Answer:
        """Send once through the transport."""
        # Back to the bytes the caller sent (httpx would encode text as ASCII, refusing the rest).
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        request = httpx.Request(method, str(url), headers=raw, content=body, extensions={"timeout": self.timeout})
        response = await self.transport.handle_async_request(request)
        stream: AsyncIterable[bytes] = response.stream  # type: ignore[assignment]
        return Answer(response.status_code, response.headers.raw, None, chunks=stream, close=response.aclose)
