"""Identity rules for accounts: registration by the one number and the holder's own password.

The other topics have their own service modules beside this one: ``logins`` (password login and
its throttles), ``proof`` (verification by the province or at a window, activation codes),
``agents`` (enterprise agents) and ``staff`` (staff accounts, the bootstrap admin). Never commits.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account
from gateway.identity.numbers import IdentityNumber, InvalidIdentityNumberError, classify
from gateway.identity.passwords import Passwords
from owkernel.auth import IdentityNotVerified, Principal
from owkernel.errors import Conflict, Forbidden, Unprocessable, field_error
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.identity")


async def register(
    session: AsyncSession, *, id_number: str, name: str, password: str, phone: str, passwords: Passwords
) -> Account:
    """A person or enterprise account for a valid identity number (422 invalid, 409 taken)."""
    number = checked_number(id_number)
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
        created_at=clock_of(session).now(),
        assurance="self_declared",
    )
    return await repository.add(session, account)


def checked_number(id_number: str) -> IdentityNumber:
    """The validated number, or a 422 naming ``body.id_number``."""
    try:
        return classify(id_number)
    except InvalidIdentityNumberError as exc:
        raise Unprocessable(
            str(exc),
            code=exc.code,
            errors=[field_error("body.id_number", str(exc), exc.code)],
        ) from None


async def holder(session: AsyncSession, principal: Principal, *, kind: str, action: str) -> Account:
    """The caller's own verified account of ``kind`` (not an agent acting for it)."""
    if principal.kind != kind or principal.actor is not None:
        raise Forbidden(f"Only {'an enterprise' if kind == 'enterprise' else 'a person'} itself may {action}.")
    account = await repository.by_id(session, principal.subject_id)
    if account is None:
        raise Forbidden(f"This account may not {action}.")
    if account.assurance != "verified":
        raise IdentityNotVerified()
    return account


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
    account = await holder(session, principal, kind=principal.kind, action="set its password")
    account.password_hash = password_hash
    await repository.clear_throttles(session, account.id)
    log.info("identity.password_set", account=account.id)
