"""Identity rules: registration by the one number, staff accounts, password login with throttling."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account, ActivationCode
from gateway.identity.numbers import IdentityNumber, InvalidIdentityNumberError, classify, is_identity_number
from gateway.identity.passwords import Passwords
from gateway.identity.throttle import AddressThrottle
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from gateway.tokens.verifier import RevocationList
from owkernel.auth import IdentityNotVerified, Principal
from owkernel.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable, field_error
from owkernel.halls import CITY_HALL

log = structlog.get_logger("gateway.identity")


async def register(
    session: AsyncSession, *, id_number: str, name: str, password: str, phone: str, passwords: Passwords
) -> Account:
    """A person or enterprise account for a valid identity number (422 invalid, 409 taken)."""
    number = _classify(id_number)
    # Hashed first: the slow part runs before this request holds a database connection.
    password_hash = await passwords.hash(password)
    if await repository.by_login(session, number.number) is not None:
        raise Conflict("An account with this identity number already exists.", code="account_exists")
    account = Account(
        id=str(uuid.uuid4()),
        kind=number.kind,
        login=number.number,
        name=name.strip(),
        phone=phone.strip(),
        password_hash=password_hash,
        roles=[],
        department=None,
        created_at=datetime.now(UTC),
        assurance="self_declared",
    )
    return await repository.add(session, account)


def _classify(id_number: str) -> IdentityNumber:
    """The validated number, or a 422 naming ``body.id_number``."""
    try:
        return classify(id_number)
    except InvalidIdentityNumberError as exc:
        raise Unprocessable(
            str(exc),
            code=exc.code,
            errors=[
                {
                    "field": "body.id_number",
                    "message": str(exc),
                    "type": "identity_number",
                    "code": exc.code,
                    "params": {},
                }
            ],
        ) from None


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
    number = _classify(id_number)
    now = datetime.now(UTC)
    # Locked: a password login finishing at the same time waits and then sees the takeover.
    account = await repository.by_login_locked(session, number.number)
    if account is None:
        account = Account(
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
        return await repository.add(session, account)
    if account.kind == "staff":  # cannot happen: a username is never an identity number
        raise Conflict("This number is a staff account's username.", code="number_is_staff_username")
    take_over = account.assurance != "verified" or by == "window"
    account.assurance = "verified"
    account.verified_by = by
    account.verified_at = now
    account.name = name.strip()
    if take_over:
        account.password_hash = None
        # A squatter's guesses must not keep the holder out, and a squatter (never verified)
        # cannot have named agents, but an old list must not survive a takeover either.
        await repository.clear_throttles(session, account.id)
        await repository.delete_agents_of(session, account.id)
        ended = await tokens.end_account_logins(
            session, account_id=account.id, reason=f"identity_proven_{by}", revocations=revocations
        )
        log.info("identity.taken_over", account=account.id, by=by, logins_ended=ended)
    await session.flush()
    return account


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
    number = _classify(id_number)
    if number.kind != "person":
        raise Unprocessable(
            "An enterprise is verified only through the province's unified login, "
            "where its legal representative's login stands behind it.",
            code="enterprise_verified_by_province_only",
            errors=[field_error("body.id_number", "is a credit code", "enterprise_verified_by_province_only")],
        )
    account = await prove_identity(session, id_number=number.number, name=name, by="window", revocations=revocations)
    code = f"{secrets.randbelow(10**8):08d}"
    now = datetime.now(UTC)
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
    number = _classify(id_number)
    account = await repository.by_login(session, number.number)
    if account is None:
        return None
    now = datetime.now(UTC)
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


async def _holder(session: AsyncSession, principal: Principal, *, kind: str, action: str) -> Account:
    """The caller's own verified account of ``kind`` (not an agent acting for it)."""
    if principal.kind != kind or principal.actor is not None:
        raise Forbidden(f"Only {'an enterprise' if kind == 'enterprise' else 'a person'} itself may {action}.")
    account = await repository.by_id(session, principal.subject_id)
    if account is None:
        raise Forbidden(f"This account may not {action}.")
    if account.assurance != "verified":
        raise IdentityNotVerified()
    return account


async def enterprise_holder(session: AsyncSession, principal: Principal) -> Account:
    """The caller's own verified enterprise account (403 otherwise)."""
    return await _holder(session, principal, kind="enterprise", action="manage its agents")


def may_set_password(principal: Principal) -> None:
    """Refuse, from the token alone, whoever may not set a password (before hashing it)."""
    if principal.is_staff:
        raise Forbidden("Staff passwords are set by an admin.", code="staff_password_by_admin")
    if principal.actor is not None:
        raise Forbidden("An agent cannot set the enterprise's password.", code="agent_cannot_set_password")
    if not principal.is_verified:
        raise IdentityNotVerified()


async def set_password(session: AsyncSession, *, principal: Principal, password_hash: str) -> None:
    """A verified person or enterprise sets the password of its later logins."""
    may_set_password(principal)
    account = await _holder(session, principal, kind=principal.kind, action="set its password")
    account.password_hash = password_hash
    await repository.clear_throttles(session, account.id)
    log.info("identity.password_set", account=account.id)


async def name_agent(session: AsyncSession, *, principal: Principal, id_number: str) -> tuple[Account, datetime]:
    """A verified enterprise names a verified person as its agent (经办人)."""
    enterprise = await _holder(session, principal, kind="enterprise", action="name its agents")
    number = _classify(id_number)
    if number.kind != "person":
        raise Unprocessable(
            "An agent is a person: give a resident ID number.",
            code="agent_must_be_person",
            errors=[field_error("body.id_number", "is not a resident ID number", "agent_must_be_person")],
        )
    agent = await repository.by_login(session, number.number)
    if agent is None:
        raise NotFound(
            "No account has this number: the person logs in through the province's unified login first.",
            code="account_not_found",
        )
    if agent.assurance != "verified":
        raise Unprocessable(
            "This person's identity is not verified: they prove it through the province's unified login "
            "or at a window first.",
            code="agent_not_verified",
            errors=[field_error("body.id_number", "not verified", "identity_not_verified")],
        )
    now = datetime.now(UTC)
    if not await repository.add_agent(session, enterprise_id=enterprise.id, agent_id=agent.id, now=now):
        raise Conflict("This person is already an agent of this enterprise.", code="agent_exists")
    log.info("identity.agent_named", enterprise=enterprise.login, agent=agent.login)
    return agent, now


async def revoke_agent(
    session: AsyncSession, *, principal: Principal, id_number: str, revocations: RevocationList
) -> None:
    """A verified enterprise revokes an agent; the agent's logins acting for it end."""
    enterprise = await _holder(session, principal, kind="enterprise", action="revoke its agents")
    agent = await repository.by_login(session, normalize_account(id_number))
    if agent is None or not await repository.remove_agent(session, enterprise_id=enterprise.id, agent_id=agent.id):
        raise NotFound("This person is not an agent of this enterprise.", code="agent_not_found")
    ended = await tokens.end_act_as_logins(
        session, enterprise_id=enterprise.id, agent_id=agent.id, reason="agent_revoked", revocations=revocations
    )
    log.info("identity.agent_revoked", enterprise=enterprise.login, agent=agent.login, logins_ended=ended)


async def act_as(
    session: AsyncSession, *, principal: Principal, id_number: str, keys: KeyStore, settings: GatewaySettings
) -> TokenPair:
    """A verified agent starts a login acting for the enterprise (subject: it; ``act``: the agent)."""
    agent = await _holder(session, principal, kind="person", action="act for an enterprise")
    enterprise = await repository.by_login(session, normalize_account(id_number))
    if (
        enterprise is None
        or enterprise.kind != "enterprise"
        or enterprise.assurance != "verified"
        # Locked: a revocation at the same time either waits for this login (and ends it) or
        # is seen here.
        or not await repository.is_agent(session, enterprise_id=enterprise.id, agent_id=agent.id, lock=True)
    ):
        raise Forbidden("You are not an agent of this enterprise.", code="not_an_agent")
    log.info("identity.act_as", enterprise=enterprise.login, agent=agent.login)
    return await tokens.start_login(session, account=enterprise, keys=keys, settings=settings, actor=agent)


async def acts_for(session: AsyncSession, account: Account) -> list[Account]:
    """The verified enterprises a verified person may act for."""
    if account.kind != "person" or account.assurance != "verified":
        return []
    return list(await repository.enterprises_of(session, account.id))


async def create_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    name: str,
    roles: list[str],
    department: str | None,
    passwords: Passwords,
    hall: str = CITY_HALL,
) -> Account:
    """A staff account (admin only) at ``hall``; an approver needs a department; an existing username is 409."""
    if "approver" in roles and not department:
        raise Unprocessable(
            "An approver needs a department.",
            code="approver_department_required",
            errors=[field_error("body.department", "required for approvers", "missing")],
        )
    if is_identity_number(username):
        raise Unprocessable(
            "A username cannot be an identity number.",
            code="username_is_identity_number",
            errors=[field_error("body.username", "is an identity number", "username_is_identity_number")],
        )
    password_hash = await passwords.hash(password)
    if await repository.by_login(session, username) is not None:
        raise Conflict("A staff account with this username already exists.", code="username_taken")
    account = Account(
        id=str(uuid.uuid4()),
        kind="staff",
        login=username,
        name=name.strip(),
        phone=None,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        department=department,
        hall=hall,
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


def normalize_account(raw: str) -> str:
    """An identity number in its canonical form, or the username as typed."""
    value = raw.strip()
    try:
        return classify(value).number
    except InvalidIdentityNumberError:
        return value


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
    now = datetime.now(UTC)
    await repository.ensure_throttles(session, account_id=account.id, addresses=[address, EVERY_ADDRESS], now=now)
    known = (await repository.throttle_state(session, account_id=account.id, address=address)).succeeded_at
    wait = await _claim(
        session, account_id=account.id, address=address, limit=settings.login_max_failures, now=now, settings=settings
    )
    if wait is None and known is None:
        wait = await _claim(
            session,
            account_id=account.id,
            address=EVERY_ADDRESS,
            limit=settings.login_account_max_failures,
            now=now,
            settings=settings,
        )
        if wait is not None:  # refused before its check: it does not count against this address
            await repository.release_attempt(session, account_id=account.id, address=address, now=now)
    if wait is not None:
        return LoginCandidate(account_id=account.id, password_hash=None, address=address, locked_seconds=wait)
    return LoginCandidate(
        account_id=account.id,
        password_hash=account.password_hash,
        address=address,
        counted_for_account=known is None,
    )


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
    now = datetime.now(UTC)
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
                hall=CITY_HALL,
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
        await repository.clear_throttles(session, account.id)
        log.info("admin.password_reset_from_settings", username=username)
    return None
