"""Enterprise agents (经办人): named and revoked by a verified enterprise, acting for it.

Service module (rules only; never commits).
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import repository
from gateway.identity.models import Account
from gateway.identity.numbers import normalize_account
from gateway.identity.service import checked_number, holder
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from gateway.tokens.verifier import RevocationList
from owkernel.auth import Principal
from owkernel.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.identity")


async def enterprise_holder(session: AsyncSession, principal: Principal) -> Account:
    """The caller's own verified enterprise account (403 otherwise)."""
    return await holder(session, principal, kind="enterprise", action="manage its agents")


async def name_agent(session: AsyncSession, *, principal: Principal, id_number: str) -> tuple[Account, datetime]:
    """A verified enterprise names a verified person as its agent (经办人)."""
    enterprise = await holder(session, principal, kind="enterprise", action="name its agents")
    number = checked_number(id_number)
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
    now = clock_of(session).now()
    if not await repository.add_agent(session, enterprise_id=enterprise.id, agent_id=agent.id, now=now):
        raise Conflict("This person is already an agent of this enterprise.", code="agent_exists")
    log.info("identity.agent_named", enterprise=enterprise.login, agent=agent.login)
    return agent, now


async def revoke_agent(
    session: AsyncSession, *, principal: Principal, id_number: str, revocations: RevocationList
) -> None:
    """A verified enterprise revokes an agent; the agent's logins acting for it end."""
    enterprise = await holder(session, principal, kind="enterprise", action="revoke its agents")
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
    agent = await holder(session, principal, kind="person", action="act for an enterprise")
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
