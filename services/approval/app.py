"""Approval's app factory (``uvicorn --factory services.approval.app:create_app``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from fastapi import FastAPI

from owkernel.app import Kernel, create_service_app
from owkernel.auth import TokenVerifier
from services.approval.calendar.endpoints import router as calendar_router
from services.approval.calendar.service import seed_from_package
from services.approval.certificates.endpoints import router as certificates_router
from services.approval.clocks.endpoints import router as clocks_router
from services.approval.clocks.service import end_deferred_suspensions, recompute_for_year
from services.approval.consumers import consumers
from services.approval.db import import_models, tables
from services.approval.reminders.port import make_notifier
from services.approval.reminders.service import dispatch_once, enqueue_digests
from services.approval.runtime import Runtime, attach_runtime
from services.approval.settings import ApprovalSettings, get_settings
from services.approval.supervision.endpoints import router as supervision_router
from services.approval.supervision.service import run_scan
from services.approval.tasks.endpoints import router as tasks_router

log = structlog.get_logger("approval.app")


async def seed_calendar(kernel: Kernel, runtime: Runtime) -> None:
    """Enter the package's years the database lacks; recompute clocks a late seed may move."""
    async with kernel.db.transaction() as session:
        seeded = await seed_from_package(session, now=runtime.now())
        for year in seeded:
            if year >= runtime.today().year - 1:
                await recompute_for_year(session, runtime=runtime, year=year, by="chinesecalendar")


async def fix_deferred_suspensions(kernel: Kernel, runtime: Runtime) -> None:
    """The old rule's 容缺 suspensions ended, once (after the calendar: it counts in working days)."""
    try:
        async with kernel.db.transaction() as session:
            moved = await end_deferred_suspensions(session, runtime=runtime)
    except Exception as exc:  # noqa: BLE001 - another replica ran it at the same time, or the database is away
        log.warning("deferred_fix.failed", error=repr(exc))
        return
    if moved is not None:
        log.info("deferred_fix.applied", clocks_moved=moved)


def create_app(
    settings: ApprovalSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the approval service (``now`` lets tests move time)."""
    import_models()
    settings = settings or get_settings()
    runtime = Runtime.build(settings, now)
    seeded = asyncio.Event()

    async def prepare(kernel: Kernel) -> None:
        attach_runtime(kernel.db, runtime)
        if not settings.calendar_seed:
            seeded.set()
        else:
            try:
                await seed_calendar(kernel, runtime)
                seeded.set()
            except Exception as exc:  # noqa: BLE001 - the scanner job tries again; start anyway
                log.warning("calendar.seed_failed", error=repr(exc))
        await fix_deferred_suspensions(kernel, runtime)

    async def card_scanner(kernel: Kernel) -> None:
        while True:
            try:
                if not seeded.is_set():
                    await seed_calendar(kernel, runtime)
                    seeded.set()
                await run_scan(kernel.db, runtime=runtime)
            except Exception as exc:  # noqa: BLE001 - a failed scan is retried at the next tick
                log.warning("cards.scan_failed", error=repr(exc))
            await asyncio.sleep(settings.card_scan_interval_seconds)

    async def reminder_dispatcher(kernel: Kernel) -> None:
        notifier = make_notifier(
            adapter=settings.notify_adapter,
            url=settings.notify_webhook_url,
            secret=settings.notify_webhook_secret,
            client=kernel.http,
            timeout=settings.notify_timeout_seconds,
        )
        while True:
            tried = 0
            try:
                tried = await dispatch_once(kernel.db, notifier=notifier, settings=settings)
            except Exception as exc:  # noqa: BLE001 - database away: try again after a pause
                log.warning("reminders.dispatch_failed", error=repr(exc))
            if tried < settings.notify_batch:
                await asyncio.sleep(settings.notify_poll_seconds)

    async def daily_digest(kernel: Kernel) -> None:
        while True:
            try:
                async with kernel.db.transaction() as session:
                    await enqueue_digests(session, runtime=runtime)
            except Exception as exc:  # noqa: BLE001 - retried at the next check
                log.warning("reminders.digest_failed", error=repr(exc))
            await asyncio.sleep(settings.digest_check_seconds)

    return create_service_app(
        settings=settings,
        tables=tables,
        routers=[tasks_router, supervision_router, calendar_router, certificates_router, clocks_router],
        consumers=consumers,
        background=[card_scanner, reminder_dispatcher, daily_digest],
        on_startup=[prepare],
        extra_state={"runtime": runtime},
        title="OneWindow approval",
        description="Back-office routing, parallel stages, working-day clocks, cards, reminders, certificates.",
        verifier=verifier,
    )
