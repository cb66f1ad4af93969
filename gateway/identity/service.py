"""Identity rules: registration by the one number, staff accounts, password login with throttling."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account
from gateway.identity.numbers import InvalidIdentityNumberError, classify, is_identity_number
from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from owkernel.errors import Conflict, TooManyRequests, Unprocessable

log = structlog.get_logger("gateway.identity")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def register(
    session: AsyncSession, *, id_number: str, name: str, password: str, phone: str, passwords: Passwords
) -> Account:
    """A person or enterprise account for a valid identity number (422 invalid, 409 taken)."""
    try:
        number = classify(id_number)
    except InvalidIdentityNumberError as exc:
        raise Unprocessable(
            str(exc), errors=[{"field": "body.id_number", "message": str(exc), "type": "identity_number"}]
        ) from None
    # Hashed first: the slow part runs before this request holds a database connection.
    password_hash = await passwords.hash(password)
    if await repository.by_login(session, number.number) is not None:
        raise Conflict("An account with this identity number already exists.")
    account = Account(
        id=str(uuid.uuid4()),
        kind=number.kind,
        login=number.number,
        name=name.strip(),
        phone=phone.strip(),
        password_hash=password_hash,
        roles=[],
        department=None,
        failed_logins=0,
        locked_until=None,
        created_at=datetime.now(UTC),
    )
    return await repository.add(session, account)


async def create_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    name: str,
    roles: list[str],
    department: str | None,
    passwords: Passwords,
) -> Account:
    """A staff account (admin only); an approver needs a department; an existing username is 409."""
    if "approver" in roles and not department:
        raise Unprocessable(
            "An approver needs a department.",
            errors=[{"field": "body.department", "message": "required for approvers", "type": "missing"}],
        )
    if is_identity_number(username):
        raise Unprocessable(
            "A username cannot be an identity number.",
            errors=[{"field": "body.username", "message": "is an identity number", "type": "value_error"}],
        )
    password_hash = await passwords.hash(password)
    if await repository.by_login(session, username) is not None:
        raise Conflict("A staff account with this username already exists.")
    account = Account(
        id=str(uuid.uuid4()),
        kind="staff",
        login=username,
        name=name.strip(),
        phone=None,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        department=department,
        failed_logins=0,
        locked_until=None,
        created_at=datetime.now(UTC),
    )
    return await repository.add(session, account)


@dataclass(frozen=True)
class LoginOutcome:
    """A login's result: the pair, or a refusal to answer (after committing the failure count)."""

    pair: TokenPair | None = None
    locked_seconds: int | None = None


@dataclass(frozen=True)
class LoginCandidate:
    """The account a login names, read before the (slow) password check."""

    account_id: str | None
    password_hash: str | None
    locked_seconds: int | None


def normalize_account(raw: str) -> str:
    """An identity number in its canonical form, or the username as typed."""
    value = raw.strip()
    try:
        return classify(value).number
    except InvalidIdentityNumberError:
        return value


async def login_candidate(
    session: AsyncSession, *, account_name: str, address: str, throttle: AddressThrottle
) -> LoginCandidate:
    """Who is logging in, refused early when the address or the account is throttled."""
    wait = throttle.retry_after(address)
    if wait is not None:
        raise TooManyRequests(
            "Too many failed logins from this address; try again later.", headers={"Retry-After": str(wait)}
        )
    account = await repository.by_login(session, normalize_account(account_name))
    if account is None:
        return LoginCandidate(account_id=None, password_hash=None, locked_seconds=None)
    now = datetime.now(UTC)
    locked = None
    if account.locked_until is not None and _aware(account.locked_until) > now:
        locked = int((_aware(account.locked_until) - now).total_seconds()) + 1
    return LoginCandidate(account_id=account.id, password_hash=account.password_hash, locked_seconds=locked)


async def finish_login(
    session: AsyncSession,
    *,
    candidate: LoginCandidate,
    password_ok: bool,
    new_hash: str | None,
    address: str,
    throttle: AddressThrottle,
    keys: KeyStore,
    settings: GatewaySettings,
) -> LoginOutcome:
    """Record the password check: count a failure (locking after too many) or start the login."""
    account = await repository.by_id(session, candidate.account_id) if candidate.account_id else None
    if not password_ok or account is None:
        throttle.failed(address)
        if account is None:
            return LoginOutcome()
        now = datetime.now(UTC)
        if account.locked_until is not None and _aware(account.locked_until) > now:
            return LoginOutcome(locked_seconds=int((_aware(account.locked_until) - now).total_seconds()) + 1)
        account.failed_logins = (account.failed_logins or 0) + 1
        if account.failed_logins >= settings.login_max_failures:
            account.failed_logins = 0
            account.locked_until = now + timedelta(seconds=settings.login_lock_seconds)
            log.warning("login.account_locked", account=account.id)
            return LoginOutcome(locked_seconds=settings.login_lock_seconds)
        return LoginOutcome()
    account.failed_logins = 0
    account.locked_until = None
    if new_hash is not None and account.password_hash == candidate.password_hash:
        account.password_hash = new_hash
    pair = await tokens.start_login(session, account=account, keys=keys, settings=settings)
    return LoginOutcome(pair=pair)


async def ensure_admin(
    session: AsyncSession, *, username: str, password: str | None, passwords: Passwords
) -> str | None:
    """Create the first admin (or align its password with settings). Returns a generated password."""
    generated = None
    account = await repository.by_login(session, username)
    if account is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        await repository.add(
            session,
            Account(
                id=str(uuid.uuid4()),
                kind="staff",
                login=username,
                name="Administrator",
                phone=None,
                password_hash=await passwords.hash(password),
                roles=["admin"],
                department=None,
                failed_logins=0,
                locked_until=None,
                created_at=datetime.now(UTC),
            ),
        )
        log.info("admin.created", username=username)
        return generated
    if "admin" not in (account.roles or []):
        account.roles = sorted({*(account.roles or []), "admin"})
    # Settings are the truth for the bootstrap admin's password: a restart with a new one applies it.
    if password is not None and not await passwords.verify(account.password_hash, password):
        account.password_hash = await passwords.hash(password)
        account.failed_logins = 0
        account.locked_until = None
        log.info("admin.password_reset_from_settings", username=username)
    return None
