"""Everything approval runs besides its routes and handlers: start-up steps and periodic jobs."""

from __future__ import annotations

import structlog

from owkernel.jobs import PeriodicJob, Startup
from services.approval.calendar.service import seed_from_package
from services.approval.clocks.deferred_fix import end_deferred_suspensions
from services.approval.clocks.service import recompute_for_year
from services.approval.reminders.port import make_notifier
from services.approval.reminders.service import dispatch_once, enqueue_digests
from services.approval.runtime import ApprovalKernel
from services.approval.settings import ApprovalSettings
from services.approval.supervision.service import run_scan

log = structlog.get_logger("approval.jobs")


async def seed_calendar(kernel: ApprovalKernel) -> None:
    """Enter the package's years the database lacks; recompute clocks a late seed may move."""
    runtime = kernel.state
    async with kernel.db.transaction() as session:
        seeded = await seed_from_package(session, now=runtime.now())
        for year in seeded:
            if year >= runtime.today().year - 1:
                await recompute_for_year(session, runtime=runtime, year=year, by="chinesecalendar")
    runtime.calendar_seeded.set()


async def first_calendar_seed(kernel: ApprovalKernel) -> None:
    """At start: seed the calendar (unless switched off); a failure is retried by the card scan."""
    if not kernel.settings.calendar_seed:
        kernel.state.calendar_seeded.set()
        return
    try:
        await seed_calendar(kernel)
    except Exception as exc:  # noqa: BLE001 - the scanner job tries again; start anyway
        log.warning("calendar.seed_failed", error=repr(exc))


async def fix_deferred_suspensions(kernel: ApprovalKernel) -> None:
    """The old rule's 容缺 suspensions ended, once (after the calendar: it counts in working days)."""
    try:
        async with kernel.db.transaction() as session:
            moved = await end_deferred_suspensions(session, runtime=kernel.state)
    except Exception as exc:  # noqa: BLE001 - another replica ran it at the same time, or the database is away
        log.warning("deferred_fix.failed", error=repr(exc))
        return
    if moved is not None:
        log.info("deferred_fix.applied", clocks_moved=moved)


async def scan_cards(kernel: ApprovalKernel) -> None:
    """Yellow and red cards (seeding the calendar first if start-up could not)."""
    if not kernel.state.calendar_seeded.is_set():
        await seed_calendar(kernel)
    await run_scan(kernel.db, runtime=kernel.state)


async def dispatch_reminders(kernel: ApprovalKernel) -> bool:
    """Deliver due reminders; a full batch means more are waiting."""
    settings = kernel.settings
    notifier = make_notifier(
        adapter=settings.notify_adapter,
        url=settings.notify_webhook_url,
        secret=settings.notify_webhook_secret,
        client=kernel.http,
        timeout=settings.notify_timeout_seconds,
    )
    tried = await dispatch_once(kernel.db, notifier=notifier, settings=settings)
    return tried >= settings.notify_batch


async def daily_digests(kernel: ApprovalKernel) -> None:
    """Each department's daily summary, once a day from the digest hour."""
    async with kernel.db.transaction() as session:
        await enqueue_digests(session, runtime=kernel.state)


STARTUP = [
    Startup("calendar_seed", first_calendar_seed),
    Startup("deferred_fix", fix_deferred_suspensions),
]


def jobs(settings: ApprovalSettings) -> list[PeriodicJob]:
    """Approval's periodic jobs, paced by its settings.

    The scan and the digest are whole-service rounds: one replica at a time (``single``). The
    dispatcher claims reminders with a lease, so every replica shares that work.
    """
    return [
        PeriodicJob("card_scanner", settings.card_scan_interval_seconds, scan_cards, single=True),
        PeriodicJob("reminder_dispatcher", settings.notify_poll_seconds, dispatch_reminders),
        PeriodicJob("daily_digest", settings.digest_check_seconds, daily_digests, single=True),
    ]
