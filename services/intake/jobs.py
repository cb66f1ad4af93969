"""Everything intake runs besides its routes and handlers: its periodic jobs.

Each round's work lives with its domain (``applications/jobs.py``); they claim rows with
``FOR UPDATE SKIP LOCKED`` or per-file locks, so several replicas share the work without a
job-wide lock.
"""

from __future__ import annotations

import structlog

from owkernel.jobs import PeriodicJob
from services.intake.applications.jobs import publish_overdue, release_files, sweep_storage
from services.intake.common import local_today
from services.intake.deps import IntakeKernel
from services.intake.settings import IntakeSettings

log = structlog.get_logger("intake.jobs")


async def overdue_materials(kernel: IntakeKernel) -> None:
    """Publish deferred materials past their supplement deadline as overdue, once each."""
    count = await publish_overdue(kernel.db, today=local_today(kernel.settings, kernel.clock.now()))
    if count:
        log.info("materials.overdue", count=count)


async def file_releases(kernel: IntakeKernel) -> None:
    """Delete released files no material uses any more."""
    count = await release_files(kernel.db, kernel.state.storage)
    if count:
        log.info("files.released", count=count)


async def storage_sweeps(kernel: IntakeKernel) -> None:
    """Reconcile the storage with the database (files a rolled-back upload left behind)."""
    storage, grace = kernel.state.storage, kernel.settings.storage_sweep_grace_seconds
    count = await sweep_storage(kernel.db, storage, grace_seconds=grace)
    if count:
        log.info("files.swept", count=count)


def jobs(settings: IntakeSettings) -> list[PeriodicJob]:
    """Intake's periodic jobs, paced by its settings."""
    return [
        PeriodicJob("overdue_materials", settings.overdue_scan_seconds, overdue_materials),
        PeriodicJob("file_releases", settings.file_release_seconds, file_releases),
        PeriodicJob("storage_sweeps", settings.storage_sweep_seconds, storage_sweeps),
    ]
