"""The request middleware every component runs: request ids, access log, metrics, the guard, a last-resort 500."""

from __future__ import annotations

import time
from typing import Any

import structlog
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from owkernel.errors import problem_body
from owkernel.guard import refusal, with_response_headers
from owkernel.logs import new_request_id
from owkernel.metrics import HTTP_LATENCY, HTTP_REQUESTS
from owkernel.tracing import log_context

log = structlog.get_logger("owkernel.app")


class RequestContextMiddleware:
    """Request id in and out, bound to every log line; access log and metrics; last-resort 500."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        # The metric children of each (method, route, status) seen: labels() looks its child up
        # under a lock and checks every label value, twice a request (~5 us); a dict hit is cheap.
        # It holds no more than the metrics themselves do: one entry per child they keep.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        clear_contextvars()
        # FastAPI's server span is current here (traced): its trace id joins the log context.
        bind_contextvars(service=self.service, request_id=request_id, **log_context())
        started = time.perf_counter()
        status = 500
        response_started = False
        api = scope.get("path", "").startswith("/api/")

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = with_response_headers(list(message.get("headers", [])), api=api)
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            refused = refusal(
                scope.get("headers", []), scope.get("path", ""), scope.get("raw_path"), scope.get("query_string", b"")
            )
            if refused is not None:
                # Before routing: the request is ambiguous, so no route may read it (see owkernel.guard).
                await _problem(400, refused, request_id=request_id)(scope, receive, send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.exception("unhandled_error", error=repr(exc))
            if not response_started:
                detail = "An unexpected error occurred; quote the request id when reporting it."
                await _problem(500, detail)(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            clear_contextvars()

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        """Metrics and the access log line (not for the probes and the scrapes)."""
        path = scope.get("path", "")
        if path.startswith(("/healthz", "/readyz", "/metrics")):
            return
        template = getattr(scope.get("route"), "path", None) or "unmatched"
        key = (scope.get("method", ""), template, str(status))
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                HTTP_REQUESTS.labels(self.service, *key),
                HTTP_LATENCY.labels(self.service, template),
            )
        children[0].inc()
        children[1].observe(elapsed)
        log.info(
            "request",
            method=scope.get("method"),
            path=path,
            status=status,
            ms=round(elapsed * 1000, 2),
            **{k: v for k, v in get_contextvars().items() if k == "application_no"},
        )


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when it is sane (printable, at most 128 characters), else a new one."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if 0 < len(candidate) <= 128 and candidate.isprintable():
                return candidate
            break
    return new_request_id()


def _problem(status: int, detail: str, *, request_id: str | None = None) -> JSONResponse:
    body = problem_body(status, detail, request_id=request_id) if request_id else problem_body(status, detail)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
