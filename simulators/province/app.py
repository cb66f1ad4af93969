"""The simulated provincial identity provider: OpenID Connect code flow with PKCE, over HTTP.

It stands for the province's unified identity login in the local run and the tests: a browser
types an identity number and a name into its login page and comes back to the relying party with
a code, which the relying party trades (authenticated, with its PKCE verifier) for an RS256 ID
token naming that identity. Everything is checked as a real provider would check it, so the
gateway's relying party is tested against the protocol, not against a stub. It holds its state in
memory, bounded, and refuses to run unless allowed and reachable on loopback only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from simulators.province.settings import ProvinceClient, ProvinceSimSettings, is_loopback

ACR = "urn:province:loa:substantial"
IDENTITY_CLAIMS = ("id_number", "name", "id_kind")
# RFC 7636 4.1 / 4.2: a verifier is 43-128 unreserved characters; an S256 challenge is the
# unpadded base64url of a SHA-256 digest, exactly 43 characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_PARAM = 2048  # longer values (state, nonce) are refused rather than stored

T = TypeVar("T")


class SimulatorNotAllowedError(RuntimeError):
    """The simulator was asked to start where it must not run."""


class _Expiring(Generic[T]):
    """A bounded map whose entries expire; when full, the oldest entry gives way.

    Entries of one map share one lifetime, so insertion order is expiry order and purging looks
    at the front only. Giving way (rather than refusing) keeps the newest login working when the
    simulator is flooded, which is what a developer at the keyboard needs.
    """

    def __init__(self, *, ttl: float, cap: int) -> None:
        self.ttl, self.cap = ttl, cap
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self, now: float) -> None:
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now:
                break
            del self._items[key]

    def put(self, value: T) -> str:
        """Store ``value`` under a new unguessable key and return the key."""
        now = time.monotonic()
        self._purge(now)
        while len(self._items) >= self.cap:
            self._items.popitem(last=False)
        key = secrets.token_urlsafe(32)
        self._items[key] = (now + self.ttl, value)
        return key

    def get(self, key: str) -> T | None:
        """The live value under ``key``, left in place."""
        entry = self._items.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def take(self, key: str) -> T | None:
        """The live value under ``key``, removed: whoever takes it first is the only one."""
        entry = self._items.pop(key, None)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated /authorize request waiting for the login form."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str


@dataclass(frozen=True)
class Identity:
    """Who logged in on the form."""

    id_number: str
    name: str
    kind: str  # "person" | "enterprise"
    auth_time: int


@dataclass(frozen=True)
class Grant:
    """What an authorization code stands for."""

    request: AuthorizationRequest
    identity: Identity


class InvalidNumberError(ValueError):
    """Neither a valid resident ID number nor a valid unified social credit code."""


def classify(raw: str) -> tuple[str, str]:
    """The normalised number and its kind ("person" or "enterprise"), or InvalidNumberError."""
    number = raw.strip().upper()
    try:
        return ric.validate(number), "person"
    except ValidationError:
        pass
    # Seventeen digits first is a mistyped resident ID number, never a credit code (an all-digit
    # string meets the credit code's MOD 31 check one time in 31).
    if not number[:17].isdigit():
        try:
            return uscc.validate(number), "enterprise"
        except ValidationError:
            pass
    raise InvalidNumberError(
        "请输入有效的居民身份证号码或统一社会信用代码 / Enter a valid resident ID number or unified social credit code."
    )


def pseudonymous_subject(issuer: str, id_number: str) -> str:
    """The stable ``sub`` of an identity: hex SHA-256 of issuer and number, first 32 characters."""
    return hashlib.sha256((issuer + id_number).encode()).hexdigest()[:32]


def s256(verifier: str) -> str:
    """The PKCE S256 transform of a verifier (RFC 7636 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class _Params:
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


# --- pages ------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}"
    ".sim{background:#fff4d6;border:1px solid #e0b84c;padding:.75rem;border-radius:4px}"
    "label{display:block;margin-top:1rem}input[type=text]{width:100%;padding:.4rem;font-size:1rem}"
    "button{margin-top:1.25rem;padding:.5rem 1.5rem;font-size:1rem}.error{color:#b00020}"
)


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(
        document,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            # No form-action directive: browsers apply it to the redirect back to the client too.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        },
    )


def _error_page(error: str, description: str) -> HTMLResponse:
    """The 400 of a request whose redirect URI cannot be trusted (RFC 6749 4.1.2.1: never redirect)."""
    body = (
        "<h1>登录请求无效 / Invalid login request</h1>"
        f"<p><code>{html.escape(error)}</code>: {html.escape(description)}</p>"
        "<p>请回到您来自的网站重新开始。 / Go back to the site you came from and start again.</p>"
    )
    return _page("登录请求无效 / Invalid login request", body, 400)


def _login_page(
    request_id: str, client_id: str, *, id_number: str = "", name: str = "", error: str = ""
) -> HTMLResponse:
    e = html.escape
    body = (
        "<h1>省统一身份认证 / Provincial unified identity login</h1>"
        '<p class="sim"><strong>模拟器 / Simulator.</strong> 这是用于本地运行和测试的模拟省级身份认证平台，'
        "不核验任何证件：输入任一有效的居民身份证号码或统一社会信用代码即以该身份登录。"
        "It stands for the province's identity provider in local runs and tests only and checks no document: "
        "any valid resident ID number or unified social credit code logs in as that identity.</p>"
        f"<p>申请登录的网站 / Site asking you to log in: <code>{e(client_id)}</code></p>"
        + (f'<p class="error" role="alert">{e(error)}</p>' if error else "")
        + '<form method="post" action="/authorize">'
        f'<input type="hidden" name="request_id" value="{e(request_id)}">'
        '<label for="id_number">身份证号码或统一社会信用代码 / Resident ID number or unified social credit code'
        f'<input type="text" id="id_number" name="id_number" value="{e(id_number)}" maxlength="18" '
        'autocomplete="off" required></label>'
        '<label for="name">姓名或单位名称 / Name (person or enterprise)'
        f'<input type="text" id="name" name="name" value="{e(name)}" maxlength="64" required></label>'
        '<button type="submit">登录 / Log in</button>'
        "</form>"
    )
    return _page("省统一身份认证（模拟）/ Provincial identity login (simulator)", body, 400 if error else 200)


# --- the provider -----------------------------------------------------------------------------


def _redirect(uri: str, params: Mapping[str, str]) -> RedirectResponse:
    """302 to ``uri`` with ``params`` added to the query it already has (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    """An error of the token endpoint (RFC 6749 5.2)."""
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="province-sim", charset="UTF-8"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _refuse_unsafe(settings: ProvinceSimSettings) -> None:
    if not settings.allowed:
        raise SimulatorNotAllowedError(
            "the simulated provincial identity provider logs in anyone who types a valid number: "
            "it starts only when PROVINCE_SIM_ALLOWED=true (local runs and tests, never production)"
        )
    host = urlsplit(settings.issuer).hostname
    if not is_loopback(host):
        raise SimulatorNotAllowedError(
            f"the simulated provincial identity provider refuses issuer {settings.issuer!r}: its host must be "
            "loopback (127.0.0.0/8, ::1 or localhost), so nothing outside this machine can trust it"
        )
    if not is_loopback(settings.host):
        raise SimulatorNotAllowedError(
            f"the simulated provincial identity provider refuses to listen on {settings.host!r}: loopback only"
        )


def create_app(settings: ProvinceSimSettings | None = None) -> FastAPI:
    """The provider's app; raises SimulatorNotAllowedError unless allowed and on loopback."""
    settings = settings or ProvinceSimSettings()
    _refuse_unsafe(settings)
    issuer = settings.issuer
    base = issuer.rstrip("/")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    public_jwk = {"kty": "RSA", "e": _b64url_uint(numbers.e), "n": _b64url_uint(numbers.n)}
    # RFC 7638 thumbprint: the required members, sorted, no whitespace.
    kid = (
        base64.urlsafe_b64encode(
            hashlib.sha256(json.dumps(public_jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
        )
        .rstrip(b"=")
        .decode()
    )
    jwks = {"keys": [public_jwk | {"kid": kid, "use": "sig", "alg": "RS256"}]}
    pending: _Expiring[AuthorizationRequest] = _Expiring(
        ttl=settings.login_ttl_seconds, cap=settings.max_pending_logins
    )
    codes: _Expiring[Grant] = _Expiring(ttl=settings.code_ttl_seconds, cap=settings.max_codes)
    access_tokens: _Expiring[tuple[str, Identity]] = _Expiring(
        ttl=settings.id_token_ttl_seconds, cap=settings.max_access_tokens
    )

    app = FastAPI(title="Simulated provincial identity provider", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.stores = {"pending": pending, "codes": codes, "access_tokens": access_tokens}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness and readiness: the process holds everything it needs."""
        return {"status": "ok"}

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        """OpenID Connect Discovery 1.0 metadata."""
        return {
            "issuer": issuer,
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

    @app.get("/jwks.json")
    async def jwks_document() -> JSONResponse:
        """The public key the ID tokens are signed with."""
        return JSONResponse(jwks, headers={"Cache-Control": "public, max-age=300"})

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        """Validate the authorization request; answer the login form, or an error."""
        params = _Params(request.query_params.multi_items())
        # RFC 6749 4.1.2.1: until client and redirect URI are known good, nothing is redirected.
        for trusted in ("client_id", "redirect_uri"):
            if trusted in params.repeated:
                return _error_page("invalid_request", f"{trusted} is repeated")
        client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
        client = settings.clients.get(client_id) if client_id else None
        if client is None:
            return _error_page("invalid_request", "unknown or missing client_id")
        if redirect_uri is None:
            return _error_page("invalid_request", "redirect_uri is required")
        if redirect_uri not in client.redirect_uris:  # exact string comparison, no normalisation
            return _error_page("invalid_request", "redirect_uri is not registered for this client")

        state = params.get("state")

        def fail(error: str, description: str) -> RedirectResponse:
            answer = {"error": error, "error_description": description, "iss": issuer}
            if state is not None and "state" not in params.repeated and len(state) <= MAX_PARAM:
                answer["state"] = state
            return _redirect(redirect_uri, answer)

        if params.repeated:
            return fail("invalid_request", f"repeated parameters: {', '.join(sorted(params.repeated))}")
        if params.get("request") is not None:
            return fail("request_not_supported", "request objects are not supported")
        if params.get("request_uri") is not None:
            return fail("request_uri_not_supported", "request_uri is not supported")
        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        if params.get("response_mode") not in (None, "query"):
            return fail("invalid_request", "only response_mode=query is supported")
        scope = params.get("scope") or ""
        if "openid" not in scope.split(" "):
            return fail("invalid_scope", "scope must contain openid")
        if state is None or len(state) > MAX_PARAM:
            return fail("invalid_request", "state is required (at most 2048 characters)")
        nonce = params.get("nonce")
        if nonce is None or len(nonce) > MAX_PARAM:
            return fail("invalid_request", "nonce is required (at most 2048 characters)")
        challenge = params.get("code_challenge")
        if challenge is None:
            return fail("invalid_request", "code_challenge is required (PKCE, S256)")
        if params.get("code_challenge_method") != "S256":  # absent means "plain" (RFC 7636 4.3)
            return fail("invalid_request", "transform algorithm not supported: code_challenge_method must be S256")
        if not S256_CHALLENGE.fullmatch(challenge):
            return fail("invalid_request", "code_challenge is not an S256 challenge")
        if "none" in (params.get("prompt") or "").split(" "):
            return fail("login_required", "the simulator has no session: the user must log in")
        request_id = pending.put(
            AuthorizationRequest(
                client_id=client_id or "",
                redirect_uri=redirect_uri,
                scope=scope,
                state=state,
                nonce=nonce,
                code_challenge=challenge,
            )
        )
        return _login_page(request_id, client_id or "")

    @app.post("/authorize")
    async def log_in(request: Request) -> Response:
        """The login form: a valid number logs that identity in and goes back with a code."""
        form = _Params((await request.form()).multi_items())
        request_id = form.get("request_id") or ""
        waiting = pending.get(request_id)
        if waiting is None or form.repeated:
            return _error_page("invalid_request", "this login request is unknown or has expired")
        raw_number, raw_name = form.get("id_number") or "", (form.get("name") or "").strip()
        try:
            id_number, kind = classify(raw_number)
        except InvalidNumberError as exc:
            return _login_page(
                request_id, waiting.client_id, id_number=raw_number[:18], name=raw_name[:64], error=str(exc)
            )
        if not raw_name or len(raw_name) > 64 or not raw_name.isprintable():
            return _login_page(
                request_id,
                waiting.client_id,
                id_number=id_number,
                error="请输入姓名或单位名称 / Enter a name (at most 64 characters).",
            )
        if pending.take(request_id) is None:  # expired between the two looks
            return _error_page("invalid_request", "this login request has expired")
        identity = Identity(id_number=id_number, name=raw_name, kind=kind, auth_time=int(time.time()))
        code = codes.put(Grant(request=waiting, identity=identity))
        return _redirect(waiting.redirect_uri, {"code": code, "state": waiting.state, "iss": issuer})

    def authenticate(request: Request, form: _Params) -> tuple[str, ProvinceClient] | JSONResponse:
        """The client of a token request (client_secret_basic or client_secret_post, one of them)."""
        header = request.headers.get("authorization")
        posted_id, posted_secret = form.get("client_id"), form.get("client_secret")
        if header is not None:
            if posted_secret is not None:
                return _token_error("invalid_request", "use one client authentication method, not two")
            scheme, _, blob = header.partition(" ")
            try:
                decoded = base64.b64decode(blob.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _token_error("invalid_client", "malformed Basic credentials", 401)
            if scheme.lower() != "basic" or ":" not in decoded:
                return _token_error("invalid_client", "client authentication failed", 401)
            # RFC 6749 2.3.1: both halves are form-urlencoded before they are joined.
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if posted_id is not None and posted_id != client_id:
                return _token_error("invalid_request", "client_id differs from the authenticated client")
        elif posted_id is not None and posted_secret is not None:
            client_id, secret = posted_id, posted_secret
        else:
            return _token_error("invalid_client", "client authentication is required", 401)
        client = settings.clients.get(client_id)
        expected = client.secret.get_secret_value().encode() if client else secrets.token_bytes(32)
        if not hmac.compare_digest(secret.encode(), expected) or client is None:
            return _token_error("invalid_client", "client authentication failed", 401)
        return client_id, client

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        """Trade a code (with the PKCE verifier, by its authenticated client) for the ID token."""
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return _token_error("invalid_request", "the body must be application/x-www-form-urlencoded")
        form = _Params((await request.form()).multi_items())
        if form.repeated:
            return _token_error("invalid_request", f"repeated parameters: {', '.join(sorted(form.repeated))}")
        client = authenticate(request, form)
        if isinstance(client, JSONResponse):
            return client
        client_id, _ = client
        if form.get("grant_type") != "authorization_code":
            return _token_error("unsupported_grant_type", "only grant_type=authorization_code is supported")
        code, redirect_uri, verifier = form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
        if code is None or redirect_uri is None or verifier is None:
            return _token_error("invalid_request", "code, redirect_uri and code_verifier are required")
        # Taken before any other check: a code presented once is spent, whatever follows, so a
        # stolen code cannot be tried again with guessed verifiers.
        grant = codes.take(code)
        if grant is None:
            return _token_error("invalid_grant", "the code is unknown, used or expired")
        if grant.request.client_id != client_id:
            return _token_error("invalid_grant", "the code was issued to another client")
        if grant.request.redirect_uri != redirect_uri:
            return _token_error("invalid_grant", "redirect_uri differs from the authorization request's")
        if not VERIFIER.fullmatch(verifier) or not hmac.compare_digest(s256(verifier), grant.request.code_challenge):
            return _token_error("invalid_grant", "the code_verifier does not match the code_challenge")
        now = int(time.time())
        identity = grant.identity
        subject = pseudonymous_subject(issuer, identity.id_number)
        claims = {
            "iss": issuer,
            "aud": client_id,
            "azp": client_id,
            "sub": subject,
            "iat": now,
            "exp": now + int(settings.id_token_ttl_seconds),
            "auth_time": identity.auth_time,
            "nonce": grant.request.nonce,
            "acr": ACR,
            "id_number": identity.id_number,
            "name": identity.name,
            "id_kind": identity.kind,
        }
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        access_token = access_tokens.put((subject, identity))
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": int(settings.id_token_ttl_seconds),
                "id_token": id_token,
                "scope": grant.request.scope,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @app.get("/userinfo")
    async def userinfo(request: Request) -> JSONResponse:
        """The claims of the identity an access token was issued for (RFC 6750 bearer)."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        found = access_tokens.get(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
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

    return app
