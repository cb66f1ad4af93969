"""Every operation's OpenAPI entry lists every status it can answer, each with the problem schema.

FastAPI documents the success status and a 422 shaped like its own validation error; the kernel
answers every error as problem+json (RFC 9457), and most operations can answer more than those
two. A front end generated from the document, or a fuzzer checking conformance, must see them all.
What an operation can answer is read from how it is built, because the kernel is what answers:

| status | when | why |
|---|---|---|
| 400 | always | ``owkernel.guard`` refuses ambiguous requests before routing |
| 401 | a token is read | a present token must be valid; the wrong scheme is refused |
| 403 | a token is read | roles, records of someone else, parts of a public answer kept for staff |
| 404 | a path parameter or a body | the record it (or the body, like an `application_no`) names may not exist |
| 409 | the operation writes | a duplicate, a state that no longer allows it, a lost race at commit |
| 413 | a request body | the gateway and upload routes cap the size |
| 422 | a parameter or body | validation |
| 503 | always | the database or storage cannot be reached (with Retry-After) |

A route adds what only it can answer with ``responses={409: {"description": ...}}``; the entry
gets the problem schema and keeps the route's description. The gateway adds what the door itself
answers (429, 502, 504) to the merged document (``gateway/door/openapi.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from owkernel.auth import optional_principal, require_principal
from owkernel.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": (
        "An error (RFC 9457 problem details). `code` is a stable snake_case name of the problem (what a"
        " client translates); `detail` is English prose. `errors` lists field errors, each with its own"
        " `code` and the `params` (names, limits) a message needs."
    ),
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "examples": ["critical_materials_missing"]},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "code": {"type": "string", "examples": ["critical_material_missing", "string_too_short"]},
                    "params": {
                        "type": "object",
                        "additionalProperties": True,
                        "examples": [{"material_code": "HUKOU", "material_name": "居民户口簿"}],
                    },
                },
            },
        },
    },
    "additionalProperties": True,
}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One OpenAPI response entry for a problem+json answer."""
    return {
        "description": description or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def add_problems(operation: dict[str, Any], statuses: Iterable[int]) -> None:
    """Give ``operation`` a problem+json entry for each of ``statuses`` (keeping a route's own wording)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in statuses:
        entry = responses.get(str(status)) or {}
        description = entry.get("description")
        if status == 422 or not description or description == "Validation Error":
            description = None
        responses[str(status)] = problem_response(status, description)


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for dep in dependant.dependencies:
        if dep.call is not None:
            found.add(dep.call)
        found |= _calls(dep)
    return found


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of ``app`` with its effective path and dependencies.

    FastAPI 0.16x keeps included routers lazily (``iter_route_contexts`` resolves them, with the
    prefix and the router's dependencies applied); older versions list the routes themselves.
    """
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if contexts is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def statuses_of(route: Any) -> set[int]:
    """The problem statuses ``route`` can answer, from how it is built (see the module's table)."""
    dependant = route.dependant
    calls = _calls(dependant)
    statuses = {400, 503}
    if optional_principal in calls or require_principal in calls:
        statuses |= {401, 403}
    if dependant.path_params or dependant.body_params:
        statuses.add(404)
    if route.methods & WRITES:
        statuses.add(409)
    if dependant.body_params:
        statuses.add(413)
    if dependant.path_params or dependant.query_params or dependant.header_params or dependant.body_params:
        statuses.add(422)
    statuses |= {int(code) for code in route.responses if str(code).isdigit() and int(code) >= 400}
    return statuses


def complete_document(app: FastAPI) -> dict[str, Any]:
    """``app``'s OpenAPI document with every operation's problem statuses (cached like FastAPI's)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        item = doc.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is not None:
                # FastAPI's 422 (its own shape) is replaced wherever FastAPI put one.
                extra = {422} if "422" in operation.get("responses", {}) else set()
                add_problems(operation, sorted(statuses_of(route) | extra))
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # FastAPI's own 422 shapes are no longer referenced: every 422 is a problem.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = doc
    return doc


def install(app: FastAPI) -> None:
    """Serve the completed document as ``app``'s OpenAPI."""

    def openapi() -> dict[str, Any]:
        return complete_document(app)

    app.openapi = openapi  # type: ignore[method-assign]
