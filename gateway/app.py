"""Gateway's app factory (``uvicorn --factory gateway.app:create_app``)."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.staticfiles import StaticFiles

from gateway.consumers import consumers
from gateway.db import import_models, tables
from gateway.door.openapi import OpenAPIMerger
from gateway.door.proxy import Door
from gateway.identity import service as identity
from gateway.identity.endpoints import router as identity_router
from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.payments import service as payments
from gateway.payments.endpoints import cashier
from gateway.payments.endpoints import router as payments_router
from gateway.province import service as province
from gateway.province.client import ProvinceClient
from gateway.province.endpoints import router as province_router
from gateway.settings import GatewaySettings, get_settings
from gateway.state import GatewayState
from gateway.tokens import repository as token_repository
from gateway.tokens.keys import KeyStore
from gateway.tokens.verifier import GatewayVerifier, RevocationList
from owkernel.app import Kernel, create_service_app
from owkernel.auth import TokenVerifier
from owkernel.settings import PlatformSettings

log = structlog.get_logger("gateway.app")
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def create_app(
    settings: GatewaySettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    platform: PlatformSettings | None = None,
) -> FastAPI:
    """Build the gateway.

    The gateway verifies tokens with its own key store; a ``verifier`` passed in is trusted in
    addition, for tokens whose key the store does not know (tests signing with SigningKeys).
    """
    import_models()
    settings = settings or get_settings()
    platform = platform or PlatformSettings()
    keys = KeyStore(settings)
    revocations = RevocationList()
    state = GatewayState(
        settings=settings,
        platform=platform,
        keys=keys,
        revocations=revocations,
        verifier=GatewayVerifier(
            keys=keys,
            revocations=revocations,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_seconds=settings.token_cache_seconds,
            fallback=verifier,
        ),
        passwords=Passwords(settings),
        login_throttle=AddressThrottle(
            max_failures=settings.login_address_max_failures, window_seconds=settings.login_address_window_seconds
        ),
    )

    async def start_gateway(kernel: Kernel) -> None:
        # httpx logs every request at INFO: once per proxied call is a cost, and the door logs its own.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        await keys.start(kernel.db)
        await revocations.sync(kernel.db)
        async with kernel.db.transaction() as session:
            generated = await identity.ensure_admin(
                session, username=settings.admin_username, password=platform.admin_password, passwords=state.passwords
            )
        if generated is not None:
            # Never into the structured log (it is shipped and kept); shown only on a terminal,
            # to whoever started this gateway by hand. `make run` passes its own password and
            # prints it itself. Elsewhere nobody sees it: setting ONEWINDOW_ADMIN_PASSWORD and
            # restarting replaces it (ensure_admin aligns the admin with settings).
            shown = sys.stderr.isatty()
            log.warning(
                "admin.password_generated",
                username=settings.admin_username,
                shown_on_terminal=shown,
                hint="set ONEWINDOW_ADMIN_PASSWORD and restart to choose the admin's password",
            )
            if shown:
                print(
                    f"gateway: admin account '{settings.admin_username}' created with password {generated}"
                    " (set ONEWINDOW_ADMIN_PASSWORD to choose it)",
                    file=sys.stderr,
                    flush=True,
                )

    async def sync_revocations(kernel: Kernel) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(settings.revocation_sync_seconds)
            await revocations.sync(kernel.db)
            rounds += 1
            if rounds % 300 == 0:  # now and then, forget revocations of tokens expired anyway
                async with kernel.db.transaction() as session:
                    await token_repository.delete_expired_revocations(session, now=datetime.now(UTC))
                # and login throttles nobody has touched for a long time
                async with kernel.db.transaction() as session:
                    await identity.prune_login_throttles(session, now=datetime.now(UTC), settings=settings)
                # and province logins and login codes long expired
                async with kernel.db.transaction() as session:
                    await province.prune(session, now=datetime.now(UTC))

    async def expire_payments(kernel: Kernel) -> None:
        while True:
            await payments.expire_due(kernel.db)
            await asyncio.sleep(settings.payment_sweep_seconds)

    app = create_service_app(
        settings=settings,
        tables=tables,
        routers=[identity_router, province_router, payments_router, cashier],
        consumers=consumers,
        background=[sync_revocations, expire_payments],
        title="OneWindow API",
        description="The one door to OneWindow: identity and payments (gateway) and every service's API.",
        verifier=state.verifier,
        on_startup=[start_gateway],
        extra_state={"gateway": state, "province": ProvinceClient(issuer=platform.province_issuer, settings=settings)},
    )

    prefixes: dict[str, list[str]] = {}
    for prefix, service in settings.routes.items():
        prefixes.setdefault(service, []).append(prefix.rstrip("/"))
    merger = OpenAPIMerger(
        upstreams=settings.upstreams(), prefixes=prefixes, cache_seconds=settings.openapi_cache_seconds
    )
    # FastAPI's own /openapi.json describes only the gateway; serve the merged document instead.
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != app.openapi_url]

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(await merger.document(app.openapi(), request.app.state.kernel.http))

    # The reference web console (web/: static files, no build step) at /, mounted last so no API
    # or cashier route is shadowed; unknown paths still answer problem+json 404.
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")

    app.add_middleware(Door, settings=settings, state=state)
    return app
