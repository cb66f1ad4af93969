"""Identity API: register, login, refresh, logout, me, the holder's password, JWKS.

This router carries the identity routes of the two beside it: identity assurance
(``assurance_endpoints``: window verification, activation, agents, act-as) and the admin's
(``staff_endpoints``: staff accounts, key rotation); gateway/app.py includes this one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gateway.identity import agents, logins, repository, service
from gateway.identity.assurance_endpoints import router as assurance_router
from gateway.identity.schemas import (
    ActorOut,
    EnterpriseRef,
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    TokenOut,
)
from gateway.identity.staff_endpoints import router as staff_router
from gateway.state import StateDep
from gateway.tokens import service as tokens
from owkernel.app import KernelDep, SessionDep
from owkernel.auth import CurrentPrincipal, bearer_token
from owkernel.errors import Unauthorized, problem_response
from owkernel.halls import CITY_HALL

router = APIRouter(tags=["identity"])

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


@router.get("/.well-known/jwks.json", tags=["identity"])
async def jwks(state: StateDep) -> JSONResponse:
    """The public keys that verify access tokens."""
    return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


router.include_router(assurance_router)
router.include_router(staff_router)
