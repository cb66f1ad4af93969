"""The operators' routes of every service: ``/healthz``, ``/readyz``, ``/metrics`` and ``/ops/dead-letters``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from owkernel import deadletters
from owkernel.consumer import ConsumerGroup
from owkernel.errors import problem_body
from owkernel.kernel import KernelDep, get_kernel
from owkernel.pagination import CursorParam, LimitParam, Page, decode_id_cursor, page_of
from owkernel.roles import Admin


class DeadLetterOut(BaseModel):
    """A parked event, without its payload (which may hold personal data)."""

    id: int
    consumer: str
    event_id: str | None
    subject: str
    error: str
    deliveries: int
    created_at: datetime


class ReplayOut(BaseModel):
    id: int
    event_id: str
    subject: str
    outcome: Literal["handled", "already handled"]


def _dead_letter_out(row: Any) -> DeadLetterOut:
    return DeadLetterOut.model_validate(row, from_attributes=True)


def ops_router(group: ConsumerGroup) -> APIRouter:
    """``/ops/dead-letters``: what a service's consumers gave up on, and a replay for each.

    Admin only and not in the OpenAPI: operators call one service's pod (``kubectl port-forward``)
    with an admin token from the gateway, as they read its ``/metrics``.
    """
    router = APIRouter(prefix="/ops/dead-letters", include_in_schema=False)

    @router.get("", response_model=Page[DeadLetterOut])
    async def list_dead_letters(
        kernel: KernelDep, _: Admin, limit: LimitParam = 50, cursor: CursorParam = None
    ) -> Page[DeadLetterOut]:
        after = decode_id_cursor(cursor)
        async with kernel.db.transaction() as session:
            rows = await deadletters.page(session, kernel.tables, after=after, limit=limit + 1)
        return page_of(rows, limit, key=lambda row: [row.id], item=_dead_letter_out)

    @router.post("/{letter_id}/replay", response_model=ReplayOut)
    async def replay_dead_letter(letter_id: int, kernel: KernelDep, principal: Admin) -> ReplayOut:
        done = await deadletters.replay(kernel.db, kernel.tables, group, letter_id, by=principal.display)
        return ReplayOut(id=done.id, event_id=done.event_id, subject=done.subject, outcome=done.outcome)

    return router


def health_router() -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> Response:
        kernel = get_kernel(request)
        checks: dict[str, str] = {}
        for name, check in (("database", kernel.db.ping), ("nats", kernel.bus.ping)):
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"unavailable: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse(
            problem_body(503, "Not ready.", checks=checks), status_code=503, media_type="application/problem+json"
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
