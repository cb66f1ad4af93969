"""What the door forwards: the caller's request read once from the ASGI scope, and its body.

``Outbound`` is the one object the forward path passes between its steps (see ``Door._forward``):
the fields the door acts on are picked out of the headers in a single pass, and the rest are
kept as they came, minus the hop-by-hop ones. A step that refuses the request raises ``RefusedError``
and the door answers it with a problem (``problem_messages``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

from starlette.types import Message, Receive, Scope, Send

from owkernel.errors import problem_body
from owkernel.guard import BASELINE_RESPONSE_HEADERS, NO_STORE

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


class BodyTooLargeError(Exception):
    """The streamed request body passed the size limit."""


class ClientGoneError(Exception):
    """The caller disconnected while sending its body."""


class RefusedError(Exception):
    """A step of the forward path refuses the request: the door answers this problem instead."""

    def __init__(self, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or []


def too_large(limit: int) -> RefusedError:
    """The 413 for a body over ``limit`` bytes."""
    return RefusedError(413, f"The request body is larger than {limit} bytes.")


def problem_messages(status: int, detail: str, request_id: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """The ASGI messages of a problem+json answer the door writes itself."""
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


class Outbound:
    """One proxied call: the caller's side (scope, receive, send) and what is forwarded upstream."""

    __slots__ = (
        "address",
        "answering",
        "auth",
        "base",
        "chunked",
        "connection",
        "forwarded_for",
        "headers",
        "host",
        "length",
        "method",
        "receive",
        "rid",
        "scope",
        "send",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send, base: str) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.base = base  # the upstream's base URL
        # True once the upstream's answer has begun to go back: a failure after that cannot be
        # answered with a problem any more.
        self.answering = False
        self.method: str = scope["method"]
        self.auth: bytes | None = None
        self.length: bytes | None = None
        self.chunked = False
        self.connection: bytes | None = None
        self.forwarded_for: bytes | None = None
        self.host: bytes | None = None
        client = scope.get("client")
        self.address: str = client[0] if client else "unknown"
        self.headers = self._read_headers(scope["headers"])

    def _read_headers(self, raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The headers to forward (hop-by-hop and the door's own dropped); the fields it acts on noted."""
        request_id: str | None = None
        headers: list[tuple[bytes, bytes]] = []
        for name, value in raw:
            if name in REQUEST_DROP:
                if name == b"x-request-id":
                    candidate = value.decode("latin-1")
                    if 0 < len(candidate) <= 128 and candidate.isprintable():
                        request_id = candidate
                elif name == b"transfer-encoding":
                    self.chunked = True
                elif name == b"connection":
                    self.connection = value
                elif name == b"host":
                    self.host = value
                elif name == b"x-forwarded-for":
                    self.forwarded_for = value
                continue
            if name == b"authorization":
                self.auth = value
            elif name == b"content-length":
                self.length = value
            headers.append((name, value))
        self.rid: str = request_id or os.urandom(16).hex()  # what new_request_id() makes, without the UUID
        return headers

    def declared_size(self, limit: int) -> int | None:
        """Content-Length as a number (None without one), refused when malformed or over ``limit``."""
        if self.length is None:
            return None
        try:
            size = int(self.length)
        except ValueError:
            raise RefusedError(400, "Content-Length is not a number.") from None
        if size < 0:
            raise RefusedError(400, "Content-Length is not a number.")
        if size > limit:
            raise too_large(limit)
        return size

    def forwarded_headers(self) -> list[tuple[str, str]]:
        """The headers sent upstream, as text (what aiohttp takes): the caller's, less those its
        Connection names, plus the door's."""
        headers = self.headers
        if self.connection is not None:
            # Fields named in Connection are hop-by-hop too (RFC 9110 7.6.1).
            named = {t.strip().lower().encode() for t in self.connection.decode("latin-1").split(",") if t.strip()}
            headers = [(n, v) for n, v in headers if n not in named]
        out = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]
        forwarded_for = (
            self.forwarded_for.decode("latin-1") + ", " + self.address if self.forwarded_for else self.address
        )
        out.append(("x-request-id", self.rid))
        out.append(("x-forwarded-for", forwarded_for))
        out.append(("x-forwarded-proto", self.scope.get("scheme", "http")))
        if self.host is not None:
            out.append(("x-forwarded-host", self.host.decode("latin-1")))
        return out

    async def read_body(self, limit: int) -> bytes:
        """The whole (small) body at once; ``ClientGoneError`` or a 413 ``RefusedError`` on the way."""
        buffer = bytearray()
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGoneError()
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
            if len(buffer) > limit:
                raise too_large(limit)
        return bytes(buffer)


class BodyStream:
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
