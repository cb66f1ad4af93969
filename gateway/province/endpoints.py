"""Province login API: start the OpenID Connect login, the provider's callback, the login code's trade."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse

from gateway.identity.schemas import TokenOut
from gateway.province import service
from gateway.province.client import ProvinceClient
from gateway.province.schemas import LoginCodeIn
from gateway.state import StateDep
from owkernel.app import KernelDep, SessionDep

router = APIRouter(tags=["identity"])
# A login's redirects carry secrets in their URLs (state, code): never cached, never a Referer.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def get_province(state: StateDep) -> ProvinceClient:
    """The province client of the app serving the request."""
    return state.province


ProvinceDep = Annotated[ProvinceClient, Depends(get_province)]


@router.get(
    "/api/v1/auth/province/login",
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "To the province's authorization endpoint"}, 422: {}, 503: {}},
)
async def province_login(
    session: SessionDep,
    kernel: KernelDep,
    state: StateDep,
    province: ProvinceDep,
    return_to: Annotated[str, Query(max_length=service.MAX_RETURN_TO)] = "/",
) -> RedirectResponse:
    """Send the browser to the province's login (code flow, PKCE, state, nonce)."""
    url = await service.begin(session, return_to=return_to, client=province, http=kernel.http, settings=state.settings)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get(
    "/api/v1/auth/province/callback",
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "To return_to, with login_code added"}, 400: {}, 503: {}},
)
async def province_callback(
    kernel: KernelDep,
    state: StateDep,
    province: ProvinceDep,
    code: str | None = None,
    state_: Annotated[str | None, Query(alias="state")] = None,
    error: str | None = None,
    iss: str | None = None,
) -> RedirectResponse:
    """Check the province's answer and hand the console a one-time login code."""
    # Spent in its own transaction, committed whatever follows: a state works once.
    async with kernel.db.transaction() as session:
        pending = await service.spend_state(session, state=state_)
    # No transaction is open while the province is asked.
    proven = await service.prove(pending=pending, code=code, error=error, iss=iss, client=province, http=kernel.http)
    async with kernel.db.transaction() as session:
        url = await service.finish(
            session, pending=pending, proven=proven, revocations=state.revocations, settings=state.settings
        )
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.post("/api/v1/auth/province/token", response_model=TokenOut, responses={401: {}})
async def province_token(body: LoginCodeIn, session: SessionDep, state: StateDep) -> Any:
    """Trade the one-time login code for the usual token pair."""
    pair = await service.trade_code(session, login_code=body.login_code, keys=state.keys, settings=state.settings)
    return pair.body()
