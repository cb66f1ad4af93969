"""Identity proof: an account made verified by the province's login or a clerk at a window, and
the one-time code a window verification hands out to set a password with.

Service module (rules only; never commits).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account, ActivationCode
from gateway.identity.numbers import IdentityNumber
from gateway.identity.service import checked_number
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from gateway.tokens.verifier import RevocationList
from owkernel.errors import Conflict, Unprocessable, field_error
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.identity")


async def prove_identity(
    session: AsyncSession,
    *,
    id_number: str,
    name: str,
    by: Literal["province", "window"],
    revocations: RevocationList,
) -> Account:
    """The account of a number whose holder just proved it, made verified (created when missing).

    Proof takes the account over for the one who proved it (as GOV.UK One Login and Login.gov
    treat an identity proven after sign-up): when it was not verified yet, whoever registered the
    number may not be its holder, so the password set then stops working and every login ends; a
    check at the window is a reset in person and does the same. A verified account proving itself
    again through the province keeps its password and logins. Never commits.
    """
    number = checked_number(id_number)
    now = clock_of(session).now()
    # Locked: a password login finishing at the same time waits and then sees the takeover.
    account = await repository.by_login_locked(session, number.number)
    if account is None:
        return await repository.add(session, _verified_account(number, name=name, by=by, now=now))
    if account.kind == "staff":  # cannot happen: a username is never an identity number
        raise Conflict("This number is a staff account's username.", code="number_is_staff_username")
    take_over = account.assurance != "verified" or by == "window"
    account.assurance = "verified"
    account.verified_by = by
    account.verified_at = now
    account.name = name.strip()
    if take_over:
        await _take_over(session, account, by=by, revocations=revocations)
    await session.flush()
    return account


def _verified_account(number: IdentityNumber, *, name: str, by: str, now: datetime) -> Account:
    """A new account, verified from the start, with no password (its holder logs in by proof)."""
    return Account(
        id=str(uuid.uuid4()),
        kind=number.kind,
        login=number.number,
        name=name.strip(),
        phone=None,
        password_hash=None,
        roles=[],
        department=None,
        created_at=now,
        assurance="verified",
        verified_by=by,
        verified_at=now,
    )


async def _take_over(session: AsyncSession, account: Account, *, by: str, revocations: RevocationList) -> None:
    """The proven holder takes the account over: the password, throttles, agents and logins go."""
    account.password_hash = None
    # A squatter's guesses must not keep the holder out, and a squatter (never verified)
    # cannot have named agents, but an old list must not survive a takeover either.
    await repository.clear_throttles(session, account.id)
    await repository.delete_agents_of(session, account.id)
    ended = await tokens.end_account_logins(
        session, account_id=account.id, reason=f"identity_proven_{by}", revocations=revocations
    )
    log.info("identity.taken_over", account=account.id, by=by, logins_ended=ended)


def _activation_hash(account_id: str, code: str) -> str:
    # Bound to the account, so one code's hash says nothing about another account's.
    return hashlib.sha256(f"{account_id}:{code}".encode()).hexdigest()


async def verify_at_window(
    session: AsyncSession,
    *,
    id_number: str,
    name: str,
    clerk: str,
    revocations: RevocationList,
    settings: GatewaySettings,
) -> tuple[str, datetime]:
    """A clerk checked the person's ID card: the account is verified, and a one-time code returned.

    The code (8 digits, read out or printed at the window) lets the person set a password at
    ``POST /api/v1/auth/activate``; it is stored hashed, works once, expires, and
    ``activation_max_attempts`` wrong codes void it.
    """
    number = checked_number(id_number)
    if number.kind != "person":
        raise Unprocessable(
            "An enterprise is verified only through the province's unified login, "
            "where its legal representative's login stands behind it.",
            code="enterprise_verified_by_province_only",
            errors=[field_error("body.id_number", "is a credit code", "enterprise_verified_by_province_only")],
        )
    account = await prove_identity(session, id_number=number.number, name=name, by="window", revocations=revocations)
    code = f"{secrets.randbelow(10**8):08d}"
    now = clock_of(session).now()
    expires_at = now + timedelta(seconds=settings.activation_code_ttl_seconds)
    await repository.replace_activation_code(
        session,
        ActivationCode(
            account_id=account.id,
            code_hash=_activation_hash(account.id, code),
            attempts=0,
            expires_at=expires_at,
            created_by=clerk,
            created_at=now,
        ),
    )
    # The audit trail of who vouched for whom: the clerk answers for the ID card check.
    log.info("identity.verified_at_window", clerk=clerk, id_number=number.number, account=account.id)
    return code, expires_at


async def activate(
    session: AsyncSession,
    *,
    id_number: str,
    code: str,
    password_hash: str,
    keys: KeyStore,
    settings: GatewaySettings,
) -> TokenPair | None:
    """Spend a window verification's code: the password is set and a login starts (None: refused).

    Each try is counted before the code is compared (one conditional UPDATE), so parallel
    guesses cannot compare more than ``activation_max_attempts`` codes; the last wrong one voids
    the code and the clerk must verify again. The caller commits a refusal too.
    """
    number = checked_number(id_number)
    account = await repository.by_login(session, number.number)
    if account is None:
        return None
    now = clock_of(session).now()
    limit = settings.activation_max_attempts
    attempts = await repository.count_activation_try(session, account_id=account.id, limit=limit, now=now)
    if attempts is None:  # no code, an expired one, or one already voided
        await repository.delete_activation_code(session, account.id)
        return None
    if not await repository.spend_activation_code(
        session, account_id=account.id, code_hash=_activation_hash(account.id, code.strip())
    ):
        if attempts >= limit:
            await repository.delete_activation_code(session, account.id)
            log.warning("identity.activation_code_voided", account=account.id)
        return None
    account.password_hash = password_hash
    await repository.clear_throttles(session, account.id)
    log.info("identity.activated", account=account.id)
    return await tokens.start_login(session, account=account, keys=keys, settings=settings)
