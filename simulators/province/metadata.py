"""What the provider publishes about itself: health, OpenID Connect discovery, its public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from simulators.province.provider import ACR, IDENTITY_CLAIMS, ProviderDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness and readiness: the process holds everything it needs."""
    return {"status": "ok"}


@router.get("/.well-known/openid-configuration")
async def discovery(provider: ProviderDep) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 metadata."""
    base = provider.base
    return {
        "issuer": provider.issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*("iss", "aud", "sub", "iat", "exp", "auth_time", "nonce", "acr"), *IDENTITY_CLAIMS],
        "acr_values_supported": [ACR],
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }


@router.get("/jwks.json")
async def jwks_document(provider: ProviderDep) -> JSONResponse:
    """The public key the ID tokens are signed with."""
    return JSONResponse(provider.jwks, headers={"Cache-Control": "public, max-age=300"})
