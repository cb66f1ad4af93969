"""Background work: deferred materials past their supplement deadline are published as overdue;
stored files no material refers to any more are deleted. One round each; ``services/intake/jobs.py``
lists them as the kernel's periodic jobs."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.intake import MaterialOverdue
from owkernel.db import Database
from owkernel.kernel import clock_of
from services.intake.applications import repository
from services.intake.db import outbox
from services.intake.storage import FileStorage

BATCH = 200


async def publish_overdue(db: Database, *, today: date) -> int:
    """Report every deferred material due before ``today`` and still missing, once. Returns how many."""
    reported = 0
    while True:
        async with db.transaction() as session:
            waiting = await repository.waiting_overdue(session, today=today, limit=BATCH)
            if not waiting:
                return reported
            apps = await repository.get_by_ids(session, list({m.application_id for m in waiting}))
            now = clock_of(session).now()
            for material in waiting:
                app = apps[material.application_id]
                assert material.due_date is not None
                await repository.mark_overdue(session, material.id, now)
                await outbox.add(
                    session,
                    MaterialOverdue(
                        application_no=app.application_no, material_code=material.code, due_date=material.due_date
                    ),
                )
                await repository.add_timeline(
                    session,
                    app.id,
                    at=now,
                    event="intake.material.overdue",
                    detail={"material_code": material.code, "due_date": material.due_date.isoformat()},
                )
            reported += len(waiting)
        if len(waiting) < BATCH:
            return reported


async def _delete_unused(session: AsyncSession, storage: FileStorage, sha256s: list[str]) -> int:
    """Delete those of ``sha256s`` no material refers to, each checked under its lock. How many went.

    Deleted before the commit, under the lock: should the commit fail, a release stays and the
    next round finds the file gone, which is what it wanted.
    """
    # In one order, so two replicas handling the same files never wait on each other in a cycle.
    for sha256 in sorted(sha256s):
        await repository.lock_file(session, sha256)
    # Read after the locks: an upload of the same content either committed its material (seen
    # here) or has not written its file yet (and writes it again after this).
    used = await repository.referenced(session, sha256s)
    deleted = 0
    for sha256 in sha256s:
        if sha256 not in used and await storage.delete(sha256):
            deleted += 1
    return deleted


async def release_files(db: Database, storage: FileStorage) -> int:
    """Handle every recorded release: delete the file unless a material still uses it. Returns how many went."""
    deleted = 0
    while True:
        async with db.transaction() as session:
            rows = await repository.pending_releases(session, limit=BATCH)
            if not rows:
                return deleted
            deleted += await _delete_unused(session, storage, sorted({r.sha256 for r in rows}))
            await repository.delete_releases(session, [r.id for r in rows])
        if len(rows) < BATCH:
            return deleted


async def sweep_storage(db: Database, storage: FileStorage, *, grace_seconds: float) -> int:
    """Delete every stored file older than ``grace_seconds`` that no material refers to.

    What releases cannot see: a file written by a transaction that then rolled back, or before a
    crash that came ahead of its commit. Returns how many went.
    """
    deleted = 0
    for prefix in (f"{i:02x}" for i in range(256)):
        now = time.time()
        old = [sha256 for sha256, written in await storage.listing(prefix) if now - written >= grace_seconds]
        for start in range(0, len(old), BATCH):
            chunk = old[start : start + BATCH]
            async with db.transaction() as session:
                used = await repository.referenced(session, chunk)
            # Most files are in use: only the few that look unused are locked and checked again.
            unused = [sha256 for sha256 in chunk if sha256 not in used]
            if unused:
                async with db.transaction() as session:
                    deleted += await _delete_unused(session, storage, unused)
    return deleted
