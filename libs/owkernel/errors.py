"""One error shape everywhere: application/problem+json (RFC 9457).

Business code raises ``Problem`` (or a subclass); the handlers installed by ``install_problem_handlers``
turn it, FastAPI's validation errors, Starlette's HTTP errors and anything unexpected into the
same JSON body. Every body carries a stable snake_case ``code`` (what a console translates; ``detail``
stays English prose for API users) and each field error its own ``code`` and ``params`` (the names a
message needs). An unexpected error is a 500 that names the request id and nothing internal; a
database that cannot be reached is a 503 with ``Retry-After`` (the client did nothing wrong and
may simply try again), never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from owkernel.logs import current_request_id

PROBLEM_JSON = "application/problem+json"
# SQLSTATE 22021, character_not_in_repertoire: PostgreSQL refusing a NUL inside a text value.
UNREPRESENTABLE_TEXT = "22021"
DATABASE_RETRY_AFTER_SECONDS = 5
log = structlog.get_logger("owkernel.errors")


# Python renamed some phrases (413 and 422 in 3.13); a code must not change with the interpreter.
_STABLE_CODES = {413: "payload_too_large", 422: "unprocessable", 416: "range_not_satisfiable"}


def status_code_name(status: int) -> str:
    """The default problem code of ``status``: its phrase in snake_case ("not_found", "conflict")."""
    if status in _STABLE_CODES:
        return _STABLE_CODES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "error"
    return "_".join(phrase.lower().replace("-", " ").replace("'", "").split())


def field_error(field: str, message: str, code: str, **params: Any) -> dict[str, Any]:
    """One entry of a problem's ``errors``: where, in English, and a code with the names a console shows."""
    return {"field": field, "message": message, "code": code, "params": params}


class Problem(Exception):  # noqa: N818 - RFC 9457 calls it a problem
    """An error a client can act on; rendered as problem+json."""

    status: int = 400
    title: str | None = None
    code: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        type_: str = "about:blank",
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.title = title or self.title or HTTPStatus(self.status).phrase
        self.code = code or self.code or status_code_name(self.status)
        self.type = type_
        self.errors = errors
        self.headers = headers
        self.extra = extra


class BadRequest(Problem):
    status = 400


class Unauthorized(Problem):
    status = 401


class Forbidden(Problem):
    status = 403


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409


class PayloadTooLarge(Problem):
    status = 413


class Unprocessable(Problem):
    status = 422


class TooManyRequests(Problem):
    status = 429


class ServiceUnavailable(Problem):
    status = 503


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The problem+json document."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code or status_code_name(status),
    }
    if errors is not None:
        body["errors"] = errors
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return body


def problem_response(status: int, detail: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> JSONResponse:
    """A problem+json response."""
    return JSONResponse(
        problem_body(status, detail, **kwargs), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def _plain(value: Any) -> Any:
    # pydantic's ctx may hold an exception or a pattern object; a console needs only text and numbers.
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def validation_field_errors(errors: Iterable[Mapping[str, Any]], *, prefix: str = "") -> list[dict[str, Any]]:
    """A problem's ``errors`` from pydantic's (``exc.errors()`` of a ValidationError or a
    RequestValidationError): the field is the error's location joined by dots, after ``prefix``
    (a file's row, say), the code pydantic's error type and the params its context."""
    out = []
    for err in errors:
        where = [prefix] if prefix else []
        kind = str(err.get("type", ""))
        params = {str(k): _plain(v) for k, v in (err.get("ctx") or {}).items()}
        out.append(
            {
                "field": ".".join(where + [str(p) for p in err.get("loc", ())]),
                "message": str(err.get("msg", "")),
                "type": kind,
                "code": kind or "invalid",
                "params": params,
            }
        )
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response."""
    app.exception_handler(Problem)(_problem)
    app.exception_handler(RequestValidationError)(_validation)
    app.exception_handler(StarletteHTTPException)(_http)
    app.exception_handler(IntegrityError)(_integrity)
    # Connection refused or reset, a pool with no connection to give, SQLite's "unable to open" or
    # "locked": none says anything about the request. OSError is what asyncpg raises, unwrapped,
    # when it cannot connect at all (and what a full or missing upload volume raises).
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.exception_handler(DBAPIError)(_dbapi)
    app.exception_handler(Exception)(_unexpected)


async def _problem(_: Request, exc: Problem) -> JSONResponse:
    return problem_response(
        exc.status,
        exc.detail,
        title=exc.title,
        type_=exc.type,
        code=exc.code,
        errors=exc.errors,
        headers=exc.headers,
        **exc.extra,
    )


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    return problem_response(
        422, "The request is not valid.", code="request_invalid", errors=validation_field_errors(exc.errors())
    )


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
    # Services check for duplicates first; this is the race two requests lose at commit.
    log.info("integrity_conflict", error=str(exc.orig)[:200])
    return problem_response(409, "The request conflicts with data saved at the same moment; try again.")


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database_unavailable", error=repr(exc)[:300])
    return problem_response(
        503,
        "The service cannot reach its database or storage just now; try again shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
    if exc.connection_invalidated:
        return await _database_unavailable(request, exc)
    if getattr(exc.orig, "sqlstate", None) == UNREPRESENTABLE_TEXT:
        # PostgreSQL's text cannot hold a NUL character (SQLite's can): what the client sent
        # cannot be stored or compared, which is the client's to fix, not a server error.
        return problem_response(
            422, "A text value holds a character that cannot be stored (a NUL).", code="text_not_storable"
        )
    return await _unexpected(request, exc)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=repr(exc))
    return problem_response(500, "An unexpected error occurred; quote the request id when reporting it.")
