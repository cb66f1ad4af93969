"""Password login with throttling: the attempt counted before the password check, locks after it.

Service module (rules only; the route owns the two short transactions around the slow check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.numbers import normalize_account
from gateway.identity.throttle import AddressThrottle
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from owkernel.errors import TooManyRequests
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.identity")


@dataclass(frozen=True)
class LoginOutcome:
    """A login's result: the pair, or a refusal to answer (after committing the failure count)."""

    pair: TokenPair | None = None
    locked_seconds: int | None = None


@dataclass(frozen=True)
class LoginCandidate:
    """The account a login names, read (and the attempt counted) before the slow password check."""

    account_id: str | None
    password_hash: str | None
    address: str
    # Counted against the account as a whole too: the address is not one the owner logged in from.
    counted_for_account: bool = False
    locked_seconds: int | None = None


# The throttle row of an account that counts attempts from every address it does not know.
EVERY_ADDRESS = "*"


# A known address (one the owner logged in from) is forgotten after this long without a login.
KNOWN_ADDRESS_DAYS = 90


def _seconds(until: datetime, now: datetime) -> int:
    return int((until - now).total_seconds()) + 1


async def _lock_if_reached(
    session: AsyncSession, *, account_id: str, address: str, limit: int, now: datetime, settings: GatewaySettings
) -> int | None:
    """Seconds the row stays locked, locking it now when ``limit`` attempts are counted; None if open."""
    row = await repository.throttle_state(session, account_id=account_id, address=address)
    if row.locked_until is not None and row.locked_until > now:
        return _seconds(row.locked_until, now)
    if row.attempts < limit:
        return None
    # Each lock doubles the one before, unless the last one ended long enough ago to be forgiven.
    forgive = timedelta(seconds=settings.login_lock_max_seconds)
    recent = row.locked_until is not None and now - row.locked_until < forgive
    locks = min(row.locks, 16) if recent else 0
    seconds = min(settings.login_lock_seconds * 2**locks, settings.login_lock_max_seconds)
    until = now + timedelta(seconds=seconds)
    if await repository.lock(
        session, account_id=account_id, address=address, limit=limit, until=until, locks=locks + 1, now=now
    ):
        log.warning("login.locked", account=account_id, every_address=address == EVERY_ADDRESS, seconds=seconds)
        return _seconds(until, now)
    # Another replica locked it (or a success reset it) between the read and the update.
    row = await repository.throttle_state(session, account_id=account_id, address=address)
    return _seconds(row.locked_until, now) if row.locked_until is not None and row.locked_until > now else None


async def _claim(
    session: AsyncSession, *, account_id: str, address: str, limit: int, now: datetime, settings: GatewaySettings
) -> int | None:
    """Count the attempt on one row; or the seconds it is locked for (None: counted)."""
    for _ in range(2):
        if await repository.claim_attempt(session, account_id=account_id, address=address, limit=limit, now=now):
            return None
        wait = await _lock_if_reached(
            session, account_id=account_id, address=address, limit=limit, now=now, settings=settings
        )
        if wait is not None:
            return wait
    return 1  # refused, then reset by a success in between: try again in a moment


async def login_candidate(
    session: AsyncSession, *, account_name: str, address: str, throttle: AddressThrottle, settings: GatewaySettings
) -> LoginCandidate:
    """Who is logging in, with the attempt counted before its password is checked.

    OWASP's authentication guidance asks for throttles per address and per account that an
    attacker cannot turn against the owner. Three hold here:

    - per address, across accounts (``AddressThrottle``, in memory): a sprayer of many accounts;
    - per (account, address), in the database: ``login_max_failures`` attempts, then that address
      alone is locked out of that account, each lock twice as long as the last. An attacker's
      guesses lock out the attacker's address, never the owner logging in from another one;
    - per account, from every address the owner has not logged in from, in the database:
      ``login_account_max_failures`` attempts, then every unknown address is locked out of it
      (doubling too), which bounds a guesser with many addresses. The addresses the owner has
      logged in from are not held by it, as the device cookies of OWASP's guidance are not; an
      owner at a new address waits like a stranger, for a lock that ends.

    Every attempt is counted from its start (each count one conditional UPDATE, so replicas and
    parallel requests cannot overrun a limit) and a success takes its own count back, so only as
    many guesses as a limit allows are ever checked, however many arrive at once.
    """
    wait = throttle.attempt(address)
    if wait is not None:
        raise TooManyRequests(
            "Too many failed logins from this address; try again later.",
            code="login_throttled",
            headers={"Retry-After": str(wait)},
        )
    account = await repository.by_login(session, normalize_account(account_name))
    if account is None:
        return LoginCandidate(account_id=None, password_hash=None, address=address)
    now = clock_of(session).now()
    await repository.ensure_throttles(session, account_id=account.id, addresses=[address, EVERY_ADDRESS], now=now)
    known = (await repository.throttle_state(session, account_id=account.id, address=address)).succeeded_at
    wait = await _count_attempt(
        session, account_id=account.id, address=address, known=known is not None, now=now, settings=settings
    )
    if wait is not None:
        return LoginCandidate(account_id=account.id, password_hash=None, address=address, locked_seconds=wait)
    return LoginCandidate(
        account_id=account.id,
        password_hash=account.password_hash,
        address=address,
        counted_for_account=known is None,
    )


async def _count_attempt(
    session: AsyncSession, *, account_id: str, address: str, known: bool, now: datetime, settings: GatewaySettings
) -> int | None:
    """Count the attempt on the (account, address) row, and on the account's row for an address
    the owner never logged in from; or the seconds one of them is locked for (None: counted)."""
    wait = await _claim(
        session, account_id=account_id, address=address, limit=settings.login_max_failures, now=now, settings=settings
    )
    if wait is None and not known:
        limit = settings.login_account_max_failures
        wait = await _claim(
            session, account_id=account_id, address=EVERY_ADDRESS, limit=limit, now=now, settings=settings
        )
        if wait is not None:  # refused before its check: it does not count against this address
            await repository.release_attempt(session, account_id=account_id, address=address, now=now)
    return wait


async def finish_login(
    session: AsyncSession,
    *,
    candidate: LoginCandidate,
    password_ok: bool,
    new_hash: str | None,
    throttle: AddressThrottle,
    keys: KeyStore,
    settings: GatewaySettings,
) -> LoginOutcome:
    """Record the password check: lock what a failure filled up, or start the login unless locked."""
    account = await repository.by_id_locked(session, candidate.account_id) if candidate.account_id else None
    if account is None:
        return LoginOutcome()
    if account.password_hash != candidate.password_hash:
        # The password changed while this one was checked (a takeover by the proven holder, or
        # a new password, which also forgot the throttle rows): the old one opens no login.
        return LoginOutcome()
    now = clock_of(session).now()
    limits = {candidate.address: settings.login_max_failures}
    if candidate.counted_for_account:
        limits[EVERY_ADDRESS] = settings.login_account_max_failures
    waits = []
    for address, limit in limits.items():
        if password_ok:  # the right password locks nothing, but is refused while a lock holds
            row = await repository.throttle_state(session, account_id=account.id, address=address)
            held = row.locked_until is not None and row.locked_until > now
            waits.append(_seconds(row.locked_until, now) if held else None)
        else:
            waits.append(
                await _lock_if_reached(
                    session, account_id=account.id, address=address, limit=limit, now=now, settings=settings
                )
            )
    locked = max((w for w in waits if w is not None), default=None)
    if not password_ok or locked is not None:
        # Even the right password waits while a lock holds: a guess that was in flight when the
        # lock came cannot be the one let through.
        return LoginOutcome(locked_seconds=locked)
    throttle.succeeded(candidate.address)
    await repository.login_succeeded(session, account_id=account.id, address=candidate.address, now=now)
    if candidate.counted_for_account:
        await repository.release_attempt(session, account_id=account.id, address=EVERY_ADDRESS, now=now)
    if new_hash is not None and account.password_hash == candidate.password_hash:
        account.password_hash = new_hash
    pair = await tokens.start_login(session, account=account, keys=keys, settings=settings)
    return LoginOutcome(pair=pair)


async def prune_login_throttles(session: AsyncSession, *, now: datetime, settings: GatewaySettings) -> None:
    """Forget throttle rows nobody has touched for the longest lock (known addresses: 90 days)."""
    idle_before = now - timedelta(seconds=settings.login_lock_max_seconds)
    known_before = now - timedelta(days=KNOWN_ADDRESS_DAYS)
    await repository.prune_throttles(session, idle_before=idle_before, known_before=known_before)
