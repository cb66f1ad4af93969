"""The gateway as an OpenID Connect relying party of the province: discovery, the authorization
request, the code exchange and ID token verification.

The protocol's encodings and checks are authlib's (authorization URL, PKCE S256, client
authentication, OpenID Connect ID token claims) and joserfc's (JWS signature against the JWKS;
authlib's own ``authlib.jose`` is deprecated in its favour). Requests go out on the kernel's one
shared, cookie-less HTTP client, not on a client of authlib's own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ValidationError

from gateway.settings import GatewaySettings
from owkernel.errors import BadRequest, ServiceUnavailable

log = structlog.get_logger("gateway.province")

# What the ID token may be signed with: RS256 only (OpenID Connect's mandatory algorithm). Never
# "none" nor an HMAC (whose key would be our own client secret).
ID_TOKEN_ALGORITHMS = ["RS256"]
# An unknown kid refetches the JWKS at most this often: a stream of forged kids must not turn
# the gateway into a load generator against the province.
JWKS_REFETCH_SECONDS = 5.0


class ProvinceUnavailable(ServiceUnavailable):
    """The province's provider is not configured or cannot be reached (503)."""

    title = "Province login unavailable"


class ProvinceLoginFailed(BadRequest):
    """The callback does not prove anyone (400): nothing is created."""

    title = "Province login failed"


class IdTokenError(Exception):
    """The ID token is not valid for this login; says why (logged, never shown in full)."""


class UnknownSigningKeyError(IdTokenError):
    """The ID token names a key the JWKS does not hold (the province may have rotated)."""


class ProviderMetadata(BaseModel):
    """The parts of the discovery document the relying party uses (OpenID Connect Discovery 1.0 §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_methods_supported: list[str] = ["client_secret_basic"]


def verify_id_token(
    id_token: str,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    nonce: str,
    leeway: int,
    now: int | None = None,
) -> dict[str, Any]:
    """The claims of an ID token verified per OpenID Connect Core §3.1.3.7, or IdTokenError.

    Signature (RS256, a key of ``keys``), ``iss`` is the issuer, ``aud`` holds the client id (and
    ``azp``, when present, is it), ``exp``/``iat`` within ``leeway``, ``nonce`` is this login's.
    """
    try:
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except InvalidKeyIdError as exc:
        raise UnknownSigningKeyError(str(exc)) from None
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise IdTokenError(f"not a valid signed token: {type(exc).__name__}") from None
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        },
        params={"nonce": nonce, "client_id": client_id},
    )
    try:
        claims.validate(now=now, leeway=leeway)
    except (JoseError, ValueError, TypeError) as exc:
        raise IdTokenError(f"claims refused: {type(exc).__name__}: {exc}") from None
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or iat > (now if now is not None else time.time()) + leeway:
        raise IdTokenError("iat is missing or in the future")
    return dict(claims)


@dataclass
class _Cached:
    value: Any
    fetched_at: float


class ProvinceClient:
    """The province's provider as the gateway sees it: discovery and JWKS cached per process."""

    def __init__(self, *, issuer: str | None, settings: GatewaySettings) -> None:
        self.issuer = issuer.rstrip("/") if issuer else None
        self.client_id = settings.province_client_id
        secret = settings.province_client_secret
        self.client_secret = secret.get_secret_value() if secret is not None else None
        self.redirect_uri = settings.province_redirect_uri()
        self.leeway = settings.province_id_token_leeway_seconds
        self.cache_seconds = settings.province_metadata_cache_seconds
        self.timeout = settings.province_timeout_seconds
        self._metadata: _Cached | None = None
        self._jwks: _Cached | None = None
        self._lock = asyncio.Lock()

    async def _get_json(self, http: httpx.AsyncClient, url: str, what: str) -> Any:
        try:
            response = await http.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("province.fetch_failed", what=what, url=url, error=type(exc).__name__)
            raise ProvinceUnavailable(
                f"The province's identity service cannot be reached ({what}); try again later."
            ) from None

    async def metadata(self, http: httpx.AsyncClient) -> ProviderMetadata:
        """The provider's discovery document (cached), checked to name our issuer."""
        if self.issuer is None:
            raise ProvinceUnavailable("The province's unified identity login is not configured here.")
        cached = self._metadata
        if cached is not None and time.monotonic() - cached.fetched_at < self.cache_seconds:
            meta: ProviderMetadata = cached.value
            return meta
        doc = await self._get_json(http, f"{self.issuer}/.well-known/openid-configuration", "discovery")
        try:
            meta = ProviderMetadata.model_validate(doc)
        except ValidationError:
            raise ProvinceUnavailable("The province's discovery document is incomplete.") from None
        # Discovery §4.3: the document must name the issuer it was fetched from, or its ID tokens
        # would be checked against someone else's.
        if meta.issuer.rstrip("/") != self.issuer:
            log.error("province.issuer_mismatch", configured=self.issuer, announced=meta.issuer)
            raise ProvinceUnavailable("The province's discovery document names another issuer.")
        self._metadata = _Cached(meta, time.monotonic())
        return meta

    async def _keys(self, http: httpx.AsyncClient, meta: ProviderMetadata, *, refresh: bool) -> KeySet:
        async with self._lock:
            cached = self._jwks
            now = time.monotonic()
            fresh = cached is not None and now - cached.fetched_at < self.cache_seconds
            recent = cached is not None and now - cached.fetched_at < JWKS_REFETCH_SECONDS
            if cached is not None and (recent or (fresh and not refresh)):
                keys: KeySet = cached.value
                return keys
            doc = await self._get_json(http, meta.jwks_uri, "keys")
            try:
                keys = KeySet.import_key_set(doc)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProvinceUnavailable("The province's key set cannot be read.") from None
            self._jwks = _Cached(keys, now)
            return keys

    def authorization_url(self, meta: ProviderMetadata, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the code flow with PKCE S256, state and nonce."""
        url: str = prepare_grant_uri(
            meta.authorization_endpoint,
            self.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope="openid",
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    async def exchange(self, http: httpx.AsyncClient, meta: ProviderMetadata, *, code: str, code_verifier: str) -> str:
        """Trade the authorization code for the ID token at the token endpoint (client authenticated)."""
        if self.client_secret is None:
            raise ProvinceUnavailable(
                "The gateway has no client secret for the province (GATEWAY_PROVINCE_CLIENT_SECRET)."
            )
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=self.redirect_uri, code_verifier=code_verifier
        )
        method = (
            "client_secret_basic"
            if "client_secret_basic" in meta.token_endpoint_auth_methods_supported
            else "client_secret_post"
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        _, headers, body = ClientAuth(self.client_id, self.client_secret, method).prepare(
            "POST", meta.token_endpoint, headers, body
        )
        try:
            response = await http.post(meta.token_endpoint, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("province.token_failed", error=type(exc).__name__)
            raise ProvinceUnavailable(
                "The province's identity service cannot be reached (token); try again later."
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 500 or not isinstance(answer, Mapping):
            log.warning("province.token_failed", status=response.status_code)
            raise ProvinceUnavailable("The province's identity service gave no usable answer; try again later.")
        if response.status_code != 200 or "error" in answer:
            log.info("province.code_refused", status=response.status_code, error=str(answer.get("error"))[:64])
            raise ProvinceLoginFailed("The province did not accept this login (the code is invalid, used or expired).")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise ProvinceLoginFailed("The province's answer carries no ID token.")
        return id_token

    async def verify(
        self, http: httpx.AsyncClient, meta: ProviderMetadata, id_token: str, *, nonce: str
    ) -> dict[str, Any]:
        """The ID token's verified claims; on an unknown kid the JWKS is fetched again once."""
        for refresh in (False, True):
            keys = await self._keys(http, meta, refresh=refresh)
            try:
                return verify_id_token(
                    id_token, keys=keys, issuer=meta.issuer, client_id=self.client_id, nonce=nonce, leeway=self.leeway
                )
            except UnknownSigningKeyError:
                if refresh:
                    break
            except IdTokenError as exc:
                log.warning("province.id_token_refused", reason=str(exc)[:200])
                raise ProvinceLoginFailed("The province's ID token is not valid for this login.") from None
        log.warning("province.id_token_refused", reason="unknown signing key")
        raise ProvinceLoginFailed("The province's ID token is not valid for this login.")
