"""Everything the gateway runs besides its routes: the start-up step and its periodic jobs."""

from __future__ import annotations

import asyncio
import logging
import sys

import structlog
from sqlalchemy.exc import IntegrityError, OperationalError

from gateway.identity.logins import prune_login_throttles
from gateway.identity.passwords import Passwords
from gateway.identity.staff import ensure_admin
from gateway.payments import service as payments
from gateway.province import service as province
from gateway.settings import GatewaySettings
from gateway.state import GatewayKernel
from gateway.tokens import repository as token_repository
from owkernel.db import Database
from owkernel.jobs import PeriodicJob, Startup

log = structlog.get_logger("gateway.jobs")
# Expired revocations, login throttles and province logins are forgotten every this many syncs.
PRUNE_EVERY_SYNCS = 300
# Start-up writes another replica may race (see bootstrap_admin).
START_ATTEMPTS = 3


async def start_gateway(kernel: GatewayKernel) -> None:
    """Keys and revocations loaded; the admin account aligned with the settings."""
    # httpx logs every request at INFO: once per proxied call is a cost, and the door logs its own.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    state, settings = kernel.state, kernel.settings
    await state.keys.start(kernel.db)
    await state.revocations.sync(kernel.db)
    generated = await bootstrap_admin(
        kernel.db, username=settings.admin_username, password=state.platform.admin_password, passwords=state.passwords
    )
    if generated is not None:
        _tell_generated_password(settings.admin_username, generated)


async def bootstrap_admin(db: Database, *, username: str, password: str | None, passwords: Passwords) -> str | None:
    """The admin account as the settings say, in its own transaction; a generated password or None.

    Replicas starting at the same moment (a rollout, the scale run) all read "no admin yet": the
    one that commits second meets the unique login (PostgreSQL) or the write lock (SQLite). It
    tries again, finds the account and only aligns it, instead of failing its start-up.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            async with db.transaction() as session:
                return await ensure_admin(session, username=username, password=password, passwords=passwords)
        except (IntegrityError, OperationalError) as exc:
            if attempt == START_ATTEMPTS:
                raise
            log.info("admin.bootstrap_retry", attempt=attempt, error=type(exc).__name__)
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _tell_generated_password(username: str, generated: str) -> None:
    # Never into the structured log (it is shipped and kept); shown only on a terminal, to
    # whoever started this gateway by hand. `make run` passes its own password and prints it
    # itself. Elsewhere nobody sees it: setting ONEWINDOW_ADMIN_PASSWORD and restarting replaces
    # it (ensure_admin aligns the admin with settings).
    shown = sys.stderr.isatty()
    log.warning(
        "admin.password_generated",
        username=username,
        shown_on_terminal=shown,
        hint="set ONEWINDOW_ADMIN_PASSWORD and restart to choose the admin's password",
    )
    if shown:
        print(
            f"gateway: admin account '{username}' created with password {generated}"
            " (set ONEWINDOW_ADMIN_PASSWORD to choose it)",
            file=sys.stderr,
            flush=True,
        )


async def sync_revocations(kernel: GatewayKernel) -> None:
    """Revocations other replicas recorded, into this one's list."""
    await kernel.state.revocations.sync(kernel.db)


async def prune_expired(kernel: GatewayKernel) -> None:
    """Forget revocations of tokens expired anyway, idle login throttles, long-expired province logins."""
    async with kernel.db.transaction() as session:
        await token_repository.delete_expired_revocations(session, now=kernel.clock.now())
    async with kernel.db.transaction() as session:
        await prune_login_throttles(session, now=kernel.clock.now(), settings=kernel.settings)
    async with kernel.db.transaction() as session:
        await province.prune(session, now=kernel.clock.now())


async def expire_payments(kernel: GatewayKernel) -> None:
    """Payments past their time expire."""
    await payments.expire_due(kernel.db)


STARTUP = [Startup("gateway", start_gateway)]


def jobs(settings: GatewaySettings) -> list[PeriodicJob]:
    """The gateway's periodic jobs, paced by its settings."""
    sync = settings.revocation_sync_seconds
    prune = sync * PRUNE_EVERY_SYNCS
    return [
        PeriodicJob("revocation_sync", sync, sync_revocations, delay=sync),
        PeriodicJob("prune_expired", prune, prune_expired, delay=prune),
        PeriodicJob("expire_payments", settings.payment_sweep_seconds, expire_payments),
    ]
