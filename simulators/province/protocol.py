"""OAuth 2.0 and PKCE on the wire: parameters, redirects, token errors, the S256 transform."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi.responses import JSONResponse, RedirectResponse

# RFC 7636 4.1 / 4.2: a verifier is 43-128 unreserved characters; an S256 challenge is the
# unpadded base64url of a SHA-256 digest, exactly 43 characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_PARAM = 2048  # longer values (state, nonce) are refused rather than stored


def s256(verifier: str) -> str:
    """The PKCE S256 transform of a verifier (RFC 7636 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class Params:
    """Request parameters where a repeated one is an error (RFC 6749 3.1 and 3.2)."""

    def __init__(self, items: Iterable[tuple[str, Any]]) -> None:
        self.values: dict[str, str] = {}
        self.repeated: set[str] = set()
        for key, value in items:
            if not isinstance(value, str):
                self.repeated.add(key)  # an uploaded file where text belongs: as bad as a repeat
            elif key in self.values:
                self.repeated.add(key)
            else:
                self.values[key] = value

    def get(self, key: str) -> str | None:
        """The value of ``key`` (None when absent or empty: RFC 6749 3.1 treats both alike)."""
        return self.values.get(key) or None


def redirect(uri: str, params: Mapping[str, str]) -> RedirectResponse:
    """302 to ``uri`` with ``params`` added to the query it already has (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


def token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    """An error of the token endpoint (RFC 6749 5.2)."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="province-sim", charset="UTF-8"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)
