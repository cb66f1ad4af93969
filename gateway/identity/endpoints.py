"""Identity API: register, login, refresh, logout, me, staff accounts, key rotation, JWKS; and
identity assurance: passwords of verified holders, window verification and activation, enterprise
agents and acting for an enterprise (docs/api.md "Identity assurance")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from gateway.identity import agents, logins, proof, repository, service, staff
from gateway.identity.schemas import (
    ActAsIn,
    ActivateIn,
    ActorOut,
    AgentIn,
    AgentOut,
    EnterpriseRef,
    KeyRotationOut,
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    StaffIn,
    StaffOut,
    TokenOut,
    VerificationIn,
    VerificationOut,
)
from gateway.state import StateDep
from gateway.tokens import service as tokens
from owkernel.app import KernelDep, SessionDep
from owkernel.auth import CurrentPrincipal, Principal, bearer_token, require_roles
from owkernel.errors import Unauthorized, problem_response
from owkernel.halls import CITY_HALL
from owkernel.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor

router = APIRouter(tags=["identity"])
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
ClerkDep = Annotated[Principal, Depends(require_roles("clerk", "admin"))]

REFRESH_REFUSALS = {
    "unknown": "The refresh token is not valid.",
    "expired": "The refresh token has expired; log in again.",
    "ended": "This login has ended; log in again.",
    "reused": "This refresh token was already used: the whole login has been ended for safety; log in again.",
}


@router.post("/api/v1/auth/register", status_code=201, response_model=RegisterOut)
async def register(body: RegisterIn, session: SessionDep, state: StateDep) -> RegisterOut:
    """Register a person (resident ID number) or an enterprise (unified social credit code)."""
    account = await service.register(
        session,
        id_number=body.id_number,
        name=body.name,
        password=body.password,
        phone=body.phone,
        passwords=state.passwords,
    )
    return RegisterOut(subject_id=account.id, kind=account.kind)


@router.post("/api/v1/auth/login", response_model=TokenOut, responses={401: {}, 429: {}})
async def login(body: LoginIn, request: Request, kernel: KernelDep, state: StateDep) -> Any:
    """Log in with an identity number or staff username and a password."""
    address = (request.client.host if request.client else "unknown")[:64]  # an IPv6 address fits
    # Two short transactions around the password check: Argon2 takes tens of milliseconds and
    # no database connection is held meanwhile. The first counts the attempt (committed even when
    # it refuses), so parallel guesses cannot all be checked before one failure is recorded.
    async with kernel.db.transaction() as session:
        candidate = await logins.login_candidate(
            session,
            account_name=body.account,
            address=address,
            throttle=state.login_throttle,
            settings=state.settings,
        )
    if candidate.locked_seconds is not None:
        return _locked(candidate.locked_seconds)
    ok = await state.passwords.verify(candidate.password_hash, body.password)
    new_hash = None
    if ok and candidate.password_hash and state.passwords.needs_rehash(candidate.password_hash):
        new_hash = await state.passwords.hash(body.password)
    async with kernel.db.transaction() as session:
        outcome = await logins.finish_login(
            session,
            candidate=candidate,
            password_ok=ok,
            new_hash=new_hash,
            throttle=state.login_throttle,
            keys=state.keys,
            settings=state.settings,
        )
    if outcome.locked_seconds is not None:
        return _locked(outcome.locked_seconds)
    if outcome.pair is None:
        return problem_response(
            401, "The account or the password is wrong.", code="login_failed", headers={"WWW-Authenticate": "Bearer"}
        )
    return outcome.pair.body()


def _locked(seconds: int) -> JSONResponse:
    return problem_response(
        429,
        f"This account is locked after repeated failed logins; try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
        title="Account locked",
        code="account_locked",
        locked=True,
    )


@router.post("/api/v1/auth/refresh", response_model=TokenOut, responses={401: {}})
async def refresh(body: RefreshIn, session: SessionDep, state: StateDep) -> Any:
    """Spend a refresh token for a new pair (each refresh token works once)."""
    outcome = await tokens.rotate(
        session,
        refresh_token=body.refresh_token,
        keys=state.keys,
        settings=state.settings,
        revocations=state.revocations,
    )
    if outcome.pair is None:
        # Returned, not raised: ending a login on reuse must be committed.
        refused = outcome.refused or "unknown"
        return problem_response(401, REFRESH_REFUSALS[refused], code=f"refresh_token_{refused}")
    return outcome.pair.body()


@router.post("/api/v1/auth/logout", status_code=204, responses={401: {}})
async def logout(request: Request, session: SessionDep, state: StateDep, body: LogoutIn | None = None) -> Response:
    """End the caller's login: its access and refresh tokens stop working."""
    ended = False
    token = bearer_token(request)
    if token is not None:
        try:
            verified = await state.verifier.check(token)
        except Unauthorized:
            if body is None or body.refresh_token is None:
                raise
        else:
            claims = verified.claims
            await tokens.revoke_access_token(
                session, jti=str(claims["jti"]), exp=verified.exp, revocations=state.revocations
            )
            if claims.get("sid"):
                await tokens.end_login(
                    session,
                    sid=str(claims["sid"]),
                    reason="logout",
                    settings=state.settings,
                    revocations=state.revocations,
                )
            ended = True
    if body is not None and body.refresh_token is not None:
        sid = await tokens.login_of_refresh_token(session, body.refresh_token)
        if sid is not None:
            await tokens.end_login(
                session, sid=sid, reason="logout", settings=state.settings, revocations=state.revocations
            )
            ended = True
    if not ended:
        raise Unauthorized("Nothing to log out: send the access token or the refresh token.", code="nothing_to_log_out")
    return Response(status_code=204)


@router.get("/api/v1/auth/me", response_model=MeOut)
async def me(principal: CurrentPrincipal, session: SessionDep) -> MeOut:
    """Who the caller is, how well its identity is proven and whom it may act for."""
    actor = (
        ActorOut(subject_id=principal.actor.subject_id, id_number=principal.actor.id_number, name=principal.actor.name)
        if principal.actor is not None
        else None
    )
    account = await repository.by_id(session, principal.subject_id)
    if account is None:
        # A token from a trusted outside signer (tests): answer from its claims.
        return MeOut(
            subject_id=principal.subject_id,
            kind=principal.kind,
            name=principal.name or principal.display,
            roles=sorted(principal.roles),
            department=principal.department,
            id_number=principal.id_number,
            username=principal.username,
            hall=principal.hall,
            assurance=principal.assurance,
            actor=actor,
        )
    is_staff = account.kind == "staff"
    enterprises = [] if actor is not None else await agents.acts_for(session, account)
    return MeOut(
        subject_id=account.id,
        kind=account.kind,
        name=account.name,
        roles=list(account.roles or []) if is_staff else [],
        department=account.department if is_staff else None,
        id_number=None if is_staff else account.login,
        username=account.login if is_staff else None,
        phone=account.phone,
        hall=(account.hall or CITY_HALL) if is_staff else None,
        assurance=None if is_staff else account.assurance,
        verified_by=None if is_staff else account.verified_by,
        acts_for=[EnterpriseRef(id_number=e.login, name=e.name) for e in enterprises],
        actor=actor,
    )


@router.put("/api/v1/auth/password", status_code=204, responses={403: {}})
async def set_password(body: PasswordIn, principal: CurrentPrincipal, kernel: KernelDep, state: StateDep) -> Response:
    """A verified person or enterprise sets the password of its later logins."""
    service.may_set_password(principal)
    # Hashed before the transaction: no database connection waits for Argon2.
    password_hash = await state.passwords.hash(body.password)
    async with kernel.db.transaction() as session:
        await service.set_password(session, principal=principal, password_hash=password_hash)
    return Response(status_code=204)


@router.post(
    "/api/v1/auth/verifications", status_code=201, response_model=VerificationOut, responses={403: {}, 422: {}}
)
async def verify_at_window(body: VerificationIn, session: SessionDep, state: StateDep, clerk: ClerkDep) -> Any:
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
    key = decode_cursor(cursor, size=1)
    after = str(key[0]) if key is not None else None
    rows = await repository.agents_page(session, enterprise_id=enterprise.id, after=after, limit=limit + 1)
    items = [_agent_out(account, named_at) for account, named_at in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1][0].login]) if len(rows) > limit else None
    return Page[AgentOut](items=items, next_cursor=next_cursor)


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


def _staff_out(account: Any) -> StaffOut:
    return StaffOut(
        subject_id=account.id,
        username=account.login,
        name=account.name,
        roles=list(account.roles or []),
        department=account.department,
        hall=account.hall or CITY_HALL,
        created_at=account.created_at,
    )


@router.post("/api/v1/admin/staff", status_code=201, response_model=StaffOut, tags=["admin"])
async def create_staff(body: StaffIn, session: SessionDep, state: StateDep, _: AdminDep) -> StaffOut:
    """Create a staff account (an existing username is 409)."""
    account = await staff.create_staff(
        session,
        username=body.username,
        password=body.password,
        name=body.name,
        roles=list(body.roles),
        department=body.department,
        hall=body.hall,
        passwords=state.passwords,
    )
    return _staff_out(account)


@router.get("/api/v1/admin/staff", response_model=Page[StaffOut], tags=["admin"])
async def list_staff(
    session: SessionDep, _: AdminDep, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[StaffOut]:
    """Staff accounts by username."""
    key = decode_cursor(cursor, size=1)
    after = str(key[0]) if key is not None else None
    rows = await repository.staff_page(session, after=after, limit=limit + 1)
    items = [_staff_out(a) for a in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1].login]) if len(rows) > limit else None
    return Page[StaffOut](items=items, next_cursor=next_cursor)


@router.post("/api/v1/admin/keys/rotate", response_model=KeyRotationOut, tags=["admin"])
async def rotate_keys(kernel: KernelDep, state: StateDep, _: AdminDep) -> KeyRotationOut:
    """Sign new tokens with a new key; the old key stays published, so nobody is logged out."""
    # Its own transaction, committed before the key store reloads what it wrote.
    async with kernel.db.transaction() as session:
        kid, previous = await state.keys.rotate(session)
    await state.keys.reload()
    return KeyRotationOut(kid=kid, previous_kid=previous)


@router.get("/.well-known/jwks.json", tags=["identity"])
async def jwks(state: StateDep) -> JSONResponse:
    """The public keys that verify access tokens."""
    return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
