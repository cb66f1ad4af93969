"""Staff accounts: created by an admin, and the first admin made (or aligned) at start-up.

Service module (rules only; never commits).
"""

from __future__ import annotations

import secrets
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account
from gateway.identity.numbers import is_identity_number
from gateway.identity.passwords import Passwords
from owkernel.errors import Conflict, Unprocessable, field_error
from owkernel.halls import CITY_HALL
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.identity")


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
        created_at=clock_of(session).now(),
    )
    return await repository.add(session, account)


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
                created_at=clock_of(session).now(),
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
