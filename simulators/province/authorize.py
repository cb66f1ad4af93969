"""The authorization endpoint: the request checked, the login form, and back with a code.

``GET /authorize`` validates the relying party's request (RFC 6749 4.1.1, RFC 7636, OpenID
Connect Core 3.1.2) and answers the login form; ``POST /authorize`` is that form: a valid number
logs that identity in and the browser goes back to the relying party with a one-time code.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from simulators.province.numbers import InvalidNumberError, classify
from simulators.province.pages import error_page, login_page
from simulators.province.protocol import MAX_PARAM, S256_CHALLENGE, Params, redirect
from simulators.province.provider import AuthorizationRequest, Grant, Identity, Provider, ProviderDep

router = APIRouter()


def _trusted_redirect(provider: Provider, params: Params) -> tuple[str, str] | HTMLResponse:
    """The client and the redirect URI, both known good; or the error page (never a redirect)."""
    # RFC 6749 4.1.2.1: until client and redirect URI are known good, nothing is redirected.
    for trusted in ("client_id", "redirect_uri"):
        if trusted in params.repeated:
            return error_page("invalid_request", f"{trusted} is repeated")
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
    client = provider.settings.clients.get(client_id) if client_id else None
    if client_id is None or client is None:
        return error_page("invalid_request", "unknown or missing client_id")
    if redirect_uri is None:
        return error_page("invalid_request", "redirect_uri is required")
    if redirect_uri not in client.redirect_uris:  # exact string comparison, no normalisation
        return error_page("invalid_request", "redirect_uri is not registered for this client")
    return client_id, redirect_uri


def _request_error(params: Params) -> tuple[str, str] | None:
    """The first fault of the request's other parameters, as (error, description); None if none."""
    if params.repeated:
        return "invalid_request", f"repeated parameters: {', '.join(sorted(params.repeated))}"
    if params.get("request") is not None:
        return "request_not_supported", "request objects are not supported"
    if params.get("request_uri") is not None:
        return "request_uri_not_supported", "request_uri is not supported"
    if params.get("response_type") != "code":
        return "unsupported_response_type", "only response_type=code is supported"
    if params.get("response_mode") not in (None, "query"):
        return "invalid_request", "only response_mode=query is supported"
    if "openid" not in (params.get("scope") or "").split(" "):
        return "invalid_scope", "scope must contain openid"
    state = params.get("state")
    if state is None or len(state) > MAX_PARAM:
        return "invalid_request", "state is required (at most 2048 characters)"
    nonce = params.get("nonce")
    if nonce is None or len(nonce) > MAX_PARAM:
        return "invalid_request", "nonce is required (at most 2048 characters)"
    challenge = params.get("code_challenge")
    if challenge is None:
        return "invalid_request", "code_challenge is required (PKCE, S256)"
    if params.get("code_challenge_method") != "S256":  # absent means "plain" (RFC 7636 4.3)
        return "invalid_request", "transform algorithm not supported: code_challenge_method must be S256"
    if not S256_CHALLENGE.fullmatch(challenge):
        return "invalid_request", "code_challenge is not an S256 challenge"
    if "none" in (params.get("prompt") or "").split(" "):
        return "login_required", "the simulator has no session: the user must log in"
    return None


@router.get("/authorize")
async def authorize(request: Request, provider: ProviderDep) -> Response:
    """Validate the authorization request; answer the login form, or an error."""
    params = Params(request.query_params.multi_items())
    trusted = _trusted_redirect(provider, params)
    if isinstance(trusted, HTMLResponse):
        return trusted
    client_id, redirect_uri = trusted
    fault = _request_error(params)
    if fault is not None:
        error, description = fault
        answer = {"error": error, "error_description": description, "iss": provider.issuer}
        state = params.get("state")
        if state is not None and "state" not in params.repeated and len(state) <= MAX_PARAM:
            answer["state"] = state
        return redirect(redirect_uri, answer)
    request_id = provider.pending.put(
        AuthorizationRequest(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=params.get("scope") or "",
            state=params.get("state") or "",
            nonce=params.get("nonce") or "",
            code_challenge=params.get("code_challenge") or "",
        )
    )
    return login_page(request_id, client_id)


@router.post("/authorize")
async def log_in(request: Request, provider: ProviderDep) -> Response:
    """The login form: a valid number logs that identity in and goes back with a code."""
    form = Params((await request.form()).multi_items())
    request_id = form.get("request_id") or ""
    waiting = provider.pending.get(request_id)
    if waiting is None or form.repeated:
        return error_page("invalid_request", "this login request is unknown or has expired")
    raw_number, raw_name = form.get("id_number") or "", (form.get("name") or "").strip()
    try:
        id_number, kind = classify(raw_number)
    except InvalidNumberError as exc:
        return login_page(request_id, waiting.client_id, id_number=raw_number[:18], name=raw_name[:64], error=str(exc))
    if not raw_name or len(raw_name) > 64 or not raw_name.isprintable():
        return login_page(
            request_id,
            waiting.client_id,
            id_number=id_number,
            error="请输入姓名或单位名称 / Enter a name (at most 64 characters).",
        )
    if provider.pending.take(request_id) is None:  # expired between the two looks
        return error_page("invalid_request", "this login request has expired")
    identity = Identity(id_number=id_number, name=raw_name, kind=kind, auth_time=int(time.time()))
    code = provider.codes.put(Grant(request=waiting, identity=identity))
    return redirect(waiting.redirect_uri, {"code": code, "state": waiting.state, "iss": provider.issuer})
