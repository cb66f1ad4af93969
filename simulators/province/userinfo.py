"""The userinfo endpoint: the claims of the identity an access token was issued for."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from simulators.province.provider import ProviderDep

router = APIRouter()


@router.get("/userinfo")
async def userinfo(request: Request, provider: ProviderDep) -> JSONResponse:
    """The claims of the identity an access token was issued for (RFC 6750 bearer)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    found = provider.access_tokens.get(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if found is None:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"', "Cache-Control": "no-store"},
        )
    subject, identity = found
    return JSONResponse(
        {"sub": subject, "id_number": identity.id_number, "name": identity.name, "id_kind": identity.kind},
        headers={"Cache-Control": "no-store"},
    )
