"""The service app factory: health, readiness, problem+json, request ids, auth, idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Request
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field
from sqlalchemy import MetaData

from owkernel import (
    Conflict,
    CurrentPrincipal,
    Idempotency,
    IdempotencyKey,
    Principal,
    SessionDep,
    create_service_app,
    kernel_tables,
    new_metadata,
    request_hash,
    require_roles,
)
from owkernel.db import Database
from owkernel.errors import Unprocessable, field_error
from owkernel.settings import ServiceSettings
from owtest import RunningService, SigningKeys, wait_ready

metadata: MetaData = new_metadata()
tables = kernel_tables(metadata)
idem = Idempotency(tables)
router = APIRouter()
created: list[str] = []


class Thing(BaseModel):
    name: str
    size: int


class Password(BaseModel):
    password: str = Field(min_length=8)


@router.post("/things", status_code=201)
async def create_thing(
    body: Thing, request: Request, session: SessionDep, principal: CurrentPrincipal, key: IdempotencyKey = None
) -> object:
    fingerprint = request_hash("POST /things", body.model_dump_json())
    replay = await idem.replay(session, owner=principal.subject_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    if body.name == "taken":
        raise Conflict("That name is taken.")
    created.append(body.name)
    result = {"name": body.name, "n": len(created)}
    await idem.remember(
        session, owner=principal.subject_id, key=key, fingerprint=fingerprint, status_code=201, body=result
    )
    return result


@router.get("/admin-only")
async def admin_only(principal: Annotated[Principal, Depends(require_roles("admin"))]) -> dict[str, str]:
    return {"hello": principal.subject_id}


@router.post("/passwords")
async def set_password(body: Password) -> dict[str, bool]:
    return {"ok": bool(body.password)}


@router.get("/coded")
async def coded() -> None:
    raise Unprocessable(
        "Critical materials are missing: HUKOU.",
        code="critical_materials_missing",
        errors=[field_error("materials.HUKOU", "critical material missing", "critical_material_missing", name="x")],
    )


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@pytest.fixture
async def svc(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys, tmp_path: Path
) -> AsyncIterator[RunningService]:
    import httpx

    settings = ServiceSettings(
        service_name="kerneltest",
        database_url=database_url,
        nats_url=nats_url,
        nats_namespace=namespace,
        log_json=False,
    )
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await db.dispose()
    app = create_service_app(
        settings=settings, tables=tables, routers=[router], title="kernel test", verifier=signing_keys.verifier()
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
        ) as client,
    ):
        await wait_ready(client)
        yield RunningService(app=app, client=client, settings=settings)


async def test_health_ready_metrics(svc: RunningService) -> None:
    assert (await svc.client.get("/healthz")).json() == {"status": "ok"}
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "nats": "ok"}
    assert "onewindow_http_requests_total" in (await svc.client.get("/metrics")).text


async def test_errors_are_problem_json_with_request_id(svc: RunningService, signing_keys: SigningKeys) -> None:
    r = await svc.client.get("/nowhere", headers={"X-Request-ID": "req-123"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"] == "req-123"
    assert r.json()["status"] == 404 and r.json()["request_id"] == "req-123"

    token = signing_keys.citizen("110101199003070000")
    r = await svc.client.post("/things", json={"name": 1}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"body.name", "body.size"}

    r = await svc.client.get("/boom")
    assert r.status_code == 500
    assert "secret" not in r.text and r.json()["title"] == "Internal Server Error"


async def test_problems_carry_codes_and_params(svc: RunningService, signing_keys: SigningKeys) -> None:
    missing = await svc.client.get("/nowhere")
    assert missing.json()["code"] == "not_found"

    r = await svc.client.post("/passwords", json={"password": "short"})
    assert r.status_code == 422 and r.json()["code"] == "request_invalid"
    [error] = r.json()["errors"]
    assert error["field"] == "body.password"
    assert error["code"] == "string_too_short" and error["params"] == {"min_length": 8}

    r = await svc.client.get("/coded")
    assert r.json()["code"] == "critical_materials_missing"
    assert r.json()["detail"] == "Critical materials are missing: HUKOU."
    assert r.json()["errors"] == [
        {
            "field": "materials.HUKOU",
            "message": "critical material missing",
            "code": "critical_material_missing",
            "params": {"name": "x"},
        }
    ]

    token = signing_keys.citizen("110101199003070000")
    r = await svc.client.post(
        "/things", json={"name": "taken", "size": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 409 and r.json()["code"] == "conflict"


async def test_authentication_and_roles(svc: RunningService, signing_keys: SigningKeys) -> None:
    assert (await svc.client.get("/admin-only")).status_code == 401
    bad = await svc.client.get("/admin-only", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    citizen = signing_keys.citizen("110101199003070000")
    assert (await svc.client.get("/admin-only", headers={"Authorization": f"Bearer {citizen}"})).status_code == 403
    admin = signing_keys.staff("admin", "admin")
    ok = await svc.client.get("/admin-only", headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200 and ok.json() == {"hello": "s-admin"}


def metric(text: str, name: str) -> float:
    """The value of sample ``name`` for the test service in a /metrics page (0 when absent)."""
    return next(
        (
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and sample.labels.get("service") == "kerneltest"
        ),
        0.0,
    )


async def test_database_work_is_counted(svc: RunningService, signing_keys: SigningKeys) -> None:
    # A create writes its idempotency record: its statements and its commit show in /metrics.
    before = (await svc.client.get("/metrics")).text
    headers = {"Authorization": f"Bearer {signing_keys.citizen('110101199003070000')}", "Idempotency-Key": "m1"}
    assert (await svc.client.post("/things", json={"name": "m", "size": 1}, headers=headers)).status_code == 201
    after = (await svc.client.get("/metrics")).text
    for name in ("onewindow_db_statements_total", "onewindow_db_commits_total"):
        assert metric(after, name) >= metric(before, name) + 1, name
    # the replay reads the stored answer: statements again
    assert (await svc.client.post("/things", json={"name": "m", "size": 1}, headers=headers)).status_code == 201
    again = (await svc.client.get("/metrics")).text
    assert metric(again, "onewindow_db_statements_total") > metric(after, "onewindow_db_statements_total")


async def test_idempotent_create(svc: RunningService, signing_keys: SigningKeys) -> None:
    headers = {"Authorization": f"Bearer {signing_keys.citizen('110101199003070000')}", "Idempotency-Key": "k1"}
    first = await svc.client.post("/things", json={"name": "a", "size": 1}, headers=headers)
    again = await svc.client.post("/things", json={"name": "a", "size": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    other = await svc.client.post("/things", json={"name": "b", "size": 1}, headers=headers)
    assert other.status_code == 422
    conflict = await svc.client.post(
        "/things", json={"name": "taken", "size": 1}, headers=headers | {"Idempotency-Key": "k2"}
    )
    assert conflict.status_code == 409 and conflict.json()["detail"] == "That name is taken."


async def test_event_wire_form_setting_reaches_the_relay(tmp_path: Path) -> None:
    from owkernel.app import build_kernel
    from owkernel.clock import SYSTEM_CLOCK

    for form in ("envelope", "cloudevents"):
        settings = ServiceSettings(
            service_name="wiretest", database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", event_wire_form=form
        )
        kernel = build_kernel(settings, tables, None, state=None, clock=SYSTEM_CLOCK)
        try:
            assert kernel.relay.wire_form == form
        finally:
            await kernel.http.aclose()
            await kernel.db.dispose()
    assert ServiceSettings().event_wire_form == "cloudevents"
