"""Identity assurance API: window verification and its activation code, enterprise agents and
acting for an enterprise (docs/api.md "Identity assurance")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from gateway.identity import agents, proof, repository
from gateway.identity.schemas import ActAsIn, ActivateIn, AgentIn, AgentOut, TokenOut, VerificationIn, VerificationOut
from gateway.state import StateDep
from owkernel.app import KernelDep, SessionDep
from owkernel.auth import CurrentPrincipal
from owkernel.errors import problem_response
from owkernel.pagination import CursorParam, LimitParam, Page, decode_text_cursor, page_of
from owkernel.roles import ClerkOrAdmin

router = APIRouter()  # tagged "identity" by endpoints.router, which carries it


@router.post(
    "/api/v1/auth/verifications", status_code=201, response_model=VerificationOut, responses={403: {}, 422: {}}
)
async def verify_at_window(body: VerificationIn, session: SessionDep, state: StateDep, clerk: ClerkOrAdmin) -> Any:
    """A clerk who checked the ID card verifies the person; the answer's code sets a new password."""
    code, expires_at = await proof.verify_at_window(
        session,
        id_number=body.id_number,
        name=body.name,
        clerk=clerk.username or clerk.subject_id,
        revocations=state.revocations,
        settings=state.settings,
    )
    return VerificationOut(activation_code=code, expires_at=expires_at)


@router.post("/api/v1/auth/activate", response_model=TokenOut, responses={401: {}, 422: {}})
async def activate(body: ActivateIn, kernel: KernelDep, state: StateDep) -> Any:
    """Set a password with the window's one-time activation code, and log in."""
    password_hash = await state.passwords.hash(body.password)
    # The try is committed even when refused: it counts against the code.
    async with kernel.db.transaction() as session:
        pair = await proof.activate(
            session,
            id_number=body.id_number,
            code=body.activation_code,
            password_hash=password_hash,
            keys=state.keys,
            settings=state.settings,
        )
    if pair is None:
        return problem_response(
            401,
            "The activation code is wrong or no longer valid; a clerk can verify you again at a window.",
            code="activation_code_invalid",
        )
    return pair.body()


def _agent_out(account: Any, named_at: Any) -> AgentOut:
    return AgentOut(subject_id=account.id, id_number=account.login, name=account.name, named_at=named_at)


@router.post(
    "/api/v1/auth/agents", status_code=201, response_model=AgentOut, responses={403: {}, 404: {}, 409: {}, 422: {}}
)
async def name_agent(body: AgentIn, principal: CurrentPrincipal, session: SessionDep) -> AgentOut:
    """A verified enterprise names a verified person who may act for it (经办人)."""
    agent, named_at = await agents.name_agent(session, principal=principal, id_number=body.id_number)
    return _agent_out(agent, named_at)


@router.get("/api/v1/auth/agents", response_model=Page[AgentOut], responses={403: {}})
async def list_agents(
    principal: CurrentPrincipal, session: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[AgentOut]:
    """The enterprise's agents, by identity number."""
    enterprise = await agents.enterprise_holder(session, principal)
    after = decode_text_cursor(cursor)
    rows = await repository.agents_page(session, enterprise_id=enterprise.id, after=after, limit=limit + 1)
    return page_of(rows, limit, key=lambda row: [row[0].login], item=lambda row: _agent_out(*row))


@router.delete("/api/v1/auth/agents/{id_number}", status_code=204, responses={403: {}, 404: {}})
async def revoke_agent(id_number: str, principal: CurrentPrincipal, session: SessionDep, state: StateDep) -> Response:
    """Revoke an agent: its logins acting for the enterprise end at once."""
    await agents.revoke_agent(session, principal=principal, id_number=id_number, revocations=state.revocations)
    return Response(status_code=204)


@router.post("/api/v1/auth/act-as", response_model=TokenOut, responses={403: {}, 422: {}})
async def act_as(body: ActAsIn, principal: CurrentPrincipal, session: SessionDep, state: StateDep) -> Any:
    """A verified agent logs in as the enterprise: the token's subject is it, ``act`` names the agent."""
    pair = await agents.act_as(
        session, principal=principal, id_number=body.id_number, keys=state.keys, settings=state.settings
    )
    return pair.body()
