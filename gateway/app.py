"""Gateway's app factory (``uvicorn --factory gateway.app:create_app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.staticfiles import StaticFiles

from gateway import jobs
from gateway.asyncapi import router as asyncapi_router
from gateway.consumers import consumers
from gateway.db import import_models, tables
from gateway.door.openapi import OpenAPIMerger
from gateway.door.proxy import Door
from gateway.identity.endpoints import router as identity_router
from gateway.payments.endpoints import cashier
from gateway.payments.endpoints import router as payments_router
from gateway.province.endpoints import router as province_router
from gateway.settings import GatewaySettings, get_settings
from gateway.state import GatewayState
from owkernel.app import create_service_app, get_kernel
from owkernel.auth import TokenVerifier
from owkernel.clock import Clock
from owkernel.settings import PlatformSettings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def create_app(
    settings: GatewaySettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    clock: Clock | None = None,
    platform: PlatformSettings | None = None,
) -> FastAPI:
    """Build the gateway.

    The gateway verifies tokens with its own key store; a ``verifier`` passed in is trusted in
    addition, for tokens whose key the store does not know (tests signing with SigningKeys).
    """
    import_models()
    settings = settings or get_settings()
    state = GatewayState.build(settings, platform or PlatformSettings(), verifier)
    app = create_service_app(
        settings=settings,
        state=state,
        clock=clock,
        tables=tables,
        routers=[identity_router, province_router, payments_router, cashier, asyncapi_router],
        consumers=consumers,
        jobs=jobs.jobs(settings),
        startup=jobs.STARTUP,
        title="OneWindow API",
        description="The one door to OneWindow: identity and payments (gateway) and every service's API.",
        verifier=state.verifier,
    )
    serve_merged_openapi(app, settings)
    # The reference web console (web/: static files, no build step) at /, mounted last so no API
    # or cashier route is shadowed; unknown paths still answer problem+json 404.
    if WEB_DIR.is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    # The door goes outside the whole stack FastAPI builds, not into its user middleware (which
    # sits inside Starlette's ServerErrorMiddleware and FastAPI's exception-telemetry and body-limit
    # wrappers): a proxied call, most of the gateway's work, needs none of them, as the door
    # answers its own failures; each wrapped every call and every message sent. Only FastAPI's
    # entry (its server span when tracing) stays in front. Built here, so the app takes no
    # middleware and no exception handler after this (Starlette refuses the former).
    app.middleware_stack = Door(app.build_middleware_stack(), settings=settings, state=state)
    return app


def serve_merged_openapi(app: FastAPI, settings: GatewaySettings) -> None:
    """``/openapi.json``: the gateway's own document merged with every service's."""
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
        return JSONResponse(await merger.document(app.openapi(), get_kernel(request).http))
