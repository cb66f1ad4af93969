"""The token endpoint: a code traded, by its authenticated client with its PKCE verifier, for an
RS256 ID token and an access token (RFC 6749 4.1.3, RFC 7636 4.6, OpenID Connect Core 3.1.3)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from simulators.province.numbers import pseudonymous_subject
from simulators.province.protocol import VERIFIER, Params, s256, token_error
from simulators.province.provider import ACR, Grant, Provider, ProviderDep
from simulators.province.settings import ProvinceClient

router = APIRouter()


def _basic_credentials(header: str, form: Params) -> tuple[str, str] | JSONResponse:
    """client_secret_basic: the client id and secret of an Authorization header."""
    if form.get("client_secret") is not None:
        return token_error("invalid_request", "use one client authentication method, not two")
    scheme, _, blob = header.partition(" ")
    try:
        decoded = base64.b64decode(blob.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return token_error("invalid_client", "malformed Basic credentials", 401)
    if scheme.lower() != "basic" or ":" not in decoded:
        return token_error("invalid_client", "client authentication failed", 401)
    # RFC 6749 2.3.1: both halves are form-urlencoded before they are joined.
    raw_id, _, raw_secret = decoded.partition(":")
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    posted_id = form.get("client_id")
    if posted_id is not None and posted_id != client_id:
        return token_error("invalid_request", "client_id differs from the authenticated client")
    return client_id, secret


def authenticate(provider: Provider, request: Request, form: Params) -> tuple[str, ProvinceClient] | JSONResponse:
    """The client of a token request (client_secret_basic or client_secret_post, one of them)."""
    header = request.headers.get("authorization")
    posted_id, posted_secret = form.get("client_id"), form.get("client_secret")
    if header is not None:
        credentials = _basic_credentials(header, form)
        if isinstance(credentials, JSONResponse):
            return credentials
        client_id, secret = credentials
    elif posted_id is not None and posted_secret is not None:
        client_id, secret = posted_id, posted_secret
    else:
        return token_error("invalid_client", "client authentication is required", 401)
    client = provider.settings.clients.get(client_id)
    expected = client.secret.get_secret_value().encode() if client else secrets.token_bytes(32)
    if not hmac.compare_digest(secret.encode(), expected) or client is None:
        return token_error("invalid_client", "client authentication failed", 401)
    return client_id, client


def _redeem(provider: Provider, form: Params, client_id: str) -> Grant | JSONResponse:
    """The grant of the form's code, spent, once everything presented with it matches."""
    code, redirect_uri, verifier = form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
    if code is None or redirect_uri is None or verifier is None:
        return token_error("invalid_request", "code, redirect_uri and code_verifier are required")
    # Taken before any other check: a code presented once is spent, whatever follows, so a
    # stolen code cannot be tried again with guessed verifiers.
    grant = provider.codes.take(code)
    if grant is None:
        return token_error("invalid_grant", "the code is unknown, used or expired")
    if grant.request.client_id != client_id:
        return token_error("invalid_grant", "the code was issued to another client")
    if grant.request.redirect_uri != redirect_uri:
        return token_error("invalid_grant", "redirect_uri differs from the authorization request's")
    if not VERIFIER.fullmatch(verifier) or not hmac.compare_digest(s256(verifier), grant.request.code_challenge):
        return token_error("invalid_grant", "the code_verifier does not match the code_challenge")
    return grant


def _issue(provider: Provider, grant: Grant, client_id: str) -> JSONResponse:
    """The token response for a spent grant: the signed ID token and an access token for userinfo."""
    now = int(time.time())
    ttl = int(provider.settings.id_token_ttl_seconds)
    identity = grant.identity
    subject = pseudonymous_subject(provider.issuer, identity.id_number)
    claims = {
        "iss": provider.issuer,
        "aud": client_id,
        "azp": client_id,
        "sub": subject,
        "iat": now,
        "exp": now + ttl,
        "auth_time": identity.auth_time,
        "nonce": grant.request.nonce,
        "acr": ACR,
        "id_number": identity.id_number,
        "name": identity.name,
        "id_kind": identity.kind,
    }
    return JSONResponse(
        {
            "access_token": provider.access_tokens.put((subject, identity)),
            "token_type": "Bearer",
            "expires_in": ttl,
            "id_token": provider.sign(claims),
            "scope": grant.request.scope,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post("/token")
async def token(request: Request, provider: ProviderDep) -> JSONResponse:
    """Trade a code (with the PKCE verifier, by its authenticated client) for the ID token."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return token_error("invalid_request", "the body must be application/x-www-form-urlencoded")
    form = Params((await request.form()).multi_items())
    if form.repeated:
        return token_error("invalid_request", f"repeated parameters: {', '.join(sorted(form.repeated))}")
    client = authenticate(provider, request, form)
    if isinstance(client, JSONResponse):
        return client
    client_id, _ = client
    if form.get("grant_type") != "authorization_code":
        return token_error("unsupported_grant_type", "only grant_type=authorization_code is supported")
    grant = _redeem(provider, form, client_id)
    if isinstance(grant, JSONResponse):
        return grant
    return _issue(provider, grant, client_id)
