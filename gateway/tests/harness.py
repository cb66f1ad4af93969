"""The gateway's test harness: real servers on real ports (uvicorn in this process) and a real upstream
service built on the kernel. (Identity numbers and headers come from owtest.)"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import MetaData

from gateway.app import create_app
from gateway.settings import GatewaySettings
from owkernel import CurrentPrincipal, Forbidden, NotFound, Principal, create_service_app, kernel_tables, new_metadata
from owkernel.auth import TokenVerifier, require_roles
from owkernel.db import Database
from owkernel.migrations import upgrade
from owkernel.settings import PlatformSettings, ServiceSettings
from owtest import bearer, free_port, resident_id, serving, wait_ready

GATEWAY_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
ADMIN_PASSWORD = "Admin-Pass-123!"
PASSWORD = "Citizen-Pass-123!"


# --- the upstream service --------------------------------------------------------------------


@dataclass
class UpstreamState:
    """What the test upstream serves; tests set it directly (it runs in this process)."""

    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: int = 0


upstream_metadata: MetaData = new_metadata()
upstream_tables = kernel_tables(upstream_metadata)


def upstream_router(state: UpstreamState) -> APIRouter:
    """Endpoints under prefixes the gateway routes to intake and approval."""
    router = APIRouter()

    @router.get("/api/v1/catalog/items/{code}")
    async def item(code: str) -> dict[str, Any]:
        return {"code": code, "name": "营业执照", "fee_fen": 0}

    @router.get("/api/v1/applications/{no}")
    async def application(no: str, principal: CurrentPrincipal) -> dict[str, Any]:
        app = state.applications.get(no)
        if app is None:
            raise NotFound("There is no such application.")
        if not principal.is_staff and principal.id_number != app["applicant"]:
            raise Forbidden("Not yours.")
        return {
            "application_no": no,
            "status": "accepted",
            "fee_fen": app["fee_fen"],
            "payment": {"status": app["payment_status"]},
        }

    @router.put("/api/v1/applications/{no}/materials/{code}", status_code=201)
    async def upload(no: str, code: str, file: UploadFile, principal: CurrentPrincipal) -> dict[str, Any]:
        digest = hashlib.sha256()
        size = 0
        while chunk := await file.read(64 * 1024):
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest(), "filename": file.filename}

    @router.get("/api/v1/tasks/echo")
    async def echo(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
        return {"headers": dict(request.headers), "subject": principal.subject_id, "roles": sorted(principal.roles)}

    @router.get("/api/v1/tasks/cookie")
    async def cookie() -> JSONResponse:
        response = JSONResponse({"set": True})
        response.set_cookie("upstream_session", "for-this-caller-only")
        return response

    @router.post("/api/v1/tasks/count")
    async def count() -> dict[str, int]:
        state.posts += 1
        return {"posts": state.posts}

    @router.get("/api/v1/supervision/cards")
    async def cards(principal: Annotated[Principal, Depends(require_roles("supervisor"))]) -> dict[str, Any]:
        return {"items": [], "next_cursor": None}

    @router.get("/api/v1/clocks/slow")
    async def slow(seconds: float) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "late"}

    return router


def create_upstream(settings: ServiceSettings, state: UpstreamState, client: httpx.AsyncClient) -> FastAPI:
    """A small service on the kernel that verifies tokens against the gateway's JWKS over HTTP."""

    async def fetch() -> dict[str, Any]:
        response = await client.get(settings.jwks_url)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    # The kernel's verifier, refetching on an unknown kid after 0.5 s instead of 5 s (test pace).
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, fetch_keys=fetch, min_refetch_seconds=0.5
    )
    return create_service_app(
        settings=settings,
        tables=upstream_tables,
        routers=[upstream_router(state)],
        title="test upstream",
        verifier=verifier,
    )


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Stack:
    """A gateway in front of a real upstream service, both on real ports."""

    gateway_url: str
    upstream_url: str
    client: httpx.AsyncClient
    upstream: UpstreamState
    app: FastAPI
    settings: GatewaySettings
    namespace: str

    async def register(self, id_number: str | None = None, password: str = PASSWORD) -> str:
        """Register a person; returns the number."""
        number = id_number or resident_id()
        r = await self.client.post(
            "/api/v1/auth/register",
            json={"id_number": number, "name": "测试居民", "password": password, "phone": "13800000000"},
        )
        assert r.status_code == 201, r.text
        return number

    async def login(self, account: str, password: str = PASSWORD) -> dict[str, Any]:
        """Log in; returns the token pair."""
        r = await self.client.post("/api/v1/auth/login", json={"account": account, "password": password})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def citizen(self) -> tuple[str, dict[str, Any]]:
        """A registered, logged-in person: (number, tokens)."""
        number = await self.register()
        return number, await self.login(number)

    async def verified_citizen(self) -> tuple[str, dict[str, Any]]:
        """A person verified at a window (a clerk's check, then the activation code): (number, tokens)."""
        number = await self.register()
        clerk = await self.staff("clerk")
        r = await self.client.post(
            "/api/v1/auth/verifications", json={"id_number": number, "name": "测试居民"}, headers=bearer(clerk)
        )
        assert r.status_code == 201, r.text
        r = await self.client.post(
            "/api/v1/auth/activate",
            json={"id_number": number, "activation_code": r.json()["activation_code"], "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        tokens: dict[str, Any] = r.json()
        return number, tokens

    async def admin(self) -> str:
        """The admin's access token."""
        return str((await self.login("admin", ADMIN_PASSWORD))["access_token"])

    async def staff(self, *roles: str, department: str | None = None) -> str:
        """A new staff member's access token."""
        username = f"st_{uuid.uuid4().hex[:8]}"
        body: dict[str, Any] = {"username": username, "password": PASSWORD, "name": username, "roles": list(roles)}
        if department:
            body["department"] = department
        r = await self.client.post("/api/v1/admin/staff", json=body, headers=bearer(await self.admin()))
        assert r.status_code == 201, r.text
        return str((await self.login(username))["access_token"])


def gateway_settings(
    *, database_url: str, nats_url: str, namespace: str, port: int, upstream_url: str, **overrides: Any
) -> GatewaySettings:
    """Gateway settings for tests: cheap Argon2, fast jobs, intake and approval on the upstream."""
    dead = f"http://127.0.0.1:{free_port()}"
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "nats_namespace": namespace,
        "port": port,
        "outbox_poll_seconds": 0.2,
        "log_json": False,
        "log_level": "WARNING",
        # By name, not by address: a client cookie jar would keep cookies for a name (not for an IP).
        "intake_url": upstream_url.replace("127.0.0.1", "localhost"),
        "approval_url": upstream_url.replace("127.0.0.1", "localhost"),
        "delivery_url": dead,
        "rating_url": dead,
        "jwks_url": f"http://127.0.0.1:{port}/.well-known/jwks.json",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "proxy_read_timeout_seconds": 2.0,
        "payment_sweep_seconds": 0.2,
        "revocation_sync_seconds": 0.5,
        "key_activation_delay_seconds": 1.0,
        "public_url": f"http://127.0.0.1:{port}",
    }
    values.update(overrides)
    return GatewaySettings(**values)


@contextlib.asynccontextmanager
async def running_stack(
    *,
    database_url: str,
    upstream_database_url: str,
    nats_url: str,
    rate_limit: float = 0.0,
    gateway_port: int | None = None,
    province_issuer: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Stack]:
    """Migrate, start the upstream and the gateway on free ports, yield a client on the gateway.

    ``gateway_port`` chosen by the caller lets a provider know the gateway's redirect URI first;
    ``province_issuer`` is the province's OpenID Connect provider (ONEWINDOW_PROVINCE_ISSUER).
    """
    namespace = "t" + uuid.uuid4().hex[:10]
    gateway_port, upstream_port = gateway_port or free_port(), free_port()
    gateway_url, upstream_url = f"http://127.0.0.1:{gateway_port}", f"http://127.0.0.1:{upstream_port}"
    settings = gateway_settings(
        database_url=database_url,
        nats_url=nats_url,
        namespace=namespace,
        port=gateway_port,
        upstream_url=upstream_url,
        **overrides,
    )
    await asyncio.to_thread(upgrade, GATEWAY_INI, database_url)
    db = Database(upstream_database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(upstream_metadata.create_all)
    await db.dispose()
    up_state = UpstreamState()
    jwks_client = httpx.AsyncClient(timeout=5.0)
    upstream_app = create_upstream(
        ServiceSettings(
            service_name="upstream",
            database_url=upstream_database_url,
            nats_url=nats_url,
            nats_namespace=namespace,
            jwks_url=f"{gateway_url}/.well-known/jwks.json",
            log_json=False,
            log_level="WARNING",
        ),
        up_state,
        jwks_client,
    )
    platform = PlatformSettings(
        admin_password=ADMIN_PASSWORD, rate_limit_per_second=rate_limit, province_issuer=province_issuer
    )
    gateway_app = create_app(settings, platform=platform)
    async with (
        jwks_client,
        serving(upstream_app, upstream_port),
        serving(gateway_app, gateway_port),
        httpx.AsyncClient(base_url=gateway_url, timeout=15.0) as client,
    ):
        await wait_ready(client)
        yield Stack(
            gateway_url=gateway_url,
            upstream_url=upstream_url,
            client=client,
            upstream=up_state,
            app=gateway_app,
            settings=settings,
            namespace=namespace,
        )
