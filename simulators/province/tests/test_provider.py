"""The simulated provincial provider over real HTTP: discovery, the PKCE code flow and every refusal."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
import uvicorn

from owtest import credit_code, free_port, resident_id
from simulators.province.app import SimulatorNotAllowedError, create_app
from simulators.province.settings import ProvinceSimSettings

CLIENT, SECRET = "onewindow-gateway", "s3cret-" + secrets.token_urlsafe(8)
OTHER, OTHER_SECRET = "other-rp", "other-" + secrets.token_urlsafe(8)
REDIRECT = "http://127.0.0.1:8000/api/v1/auth/province/callback"
OTHER_REDIRECT = "http://127.0.0.1:9000/cb?tenant=a"
CONTRACT = Path(__file__).resolve().parents[3].parent / "shared" / "contract" / "province.py"


def pkce() -> tuple[str, str]:
    """A verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sim_settings(port: int, **overrides: Any) -> ProvinceSimSettings:
    values: dict[str, Any] = {
        "issuer": f"http://127.0.0.1:{port}",
        "port": port,
        "allowed": True,
        "clients": {
            CLIENT: {"secret": SECRET, "redirect_uris": [REDIRECT]},
            OTHER: {"secret": OTHER_SECRET, "redirect_uris": [OTHER_REDIRECT]},
        },
    }
    return ProvinceSimSettings(**(values | overrides))


@asynccontextmanager
async def running(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The provider served by uvicorn on a free port, and a client that follows no redirect."""
    port = free_port()
    settings = sim_settings(port, **overrides)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the provider stopped while starting")
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=settings.issuer, timeout=10, trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[httpx.AsyncClient]:
    """One provider for the module."""
    async with running() as client:
        yield client


class Form(HTMLParser):
    """The POST form of a page (action and every named input)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.action = a.get("action", "")
        elif tag == "input" and self.action is not None and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def authorize_params(challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile",
        "state": "st-" + secrets.token_urlsafe(8),
        "nonce": "n-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params |= overrides
    return {k: v for k, v in params.items() if v is not None}


async def login_page(client: httpx.AsyncClient, params: dict[str, str]) -> Form:
    r = await client.get("/authorize", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    form = Form()
    form.feed(r.text)
    assert form.action is not None, r.text
    return form


async def code_for(client: httpx.AsyncClient, params: dict[str, str], number: str, name: str = "测试居民") -> str:
    """Walk the login form; the code the provider redirects back with."""
    form = await login_page(client, params)
    r = await client.post(form.action or "", data=form.fields | {"id_number": number, "name": name})
    assert r.status_code == 302, r.text
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == params["redirect_uri"]
    query = parse_qs(location.query)
    assert query["state"] == [params["state"]]
    assert query["iss"] == [str(client.base_url).rstrip("/")]
    return query["code"][0]


async def trade(
    client: httpx.AsyncClient,
    code: str,
    verifier: str,
    *,
    redirect_uri: str = REDIRECT,
    auth: tuple[str, str] | None = (CLIENT, SECRET),
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    basic = httpx.BasicAuth(*auth) if auth else httpx.USE_CLIENT_DEFAULT
    return await client.post("/token", data=data | (extra or {}), auth=basic)


async def verified_claims(client: httpx.AsyncClient, id_token: str, audience: str = CLIENT) -> dict[str, Any]:
    """The ID token's claims, checked against the provider's JWKS as a relying party would."""
    jwks = jwt.PyJWKSet.from_dict((await client.get("/jwks.json")).json())
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=str(client.base_url).rstrip("/"),
        options={"require": ["iss", "aud", "sub", "iat", "exp", "auth_time", "nonce"]},
    )
    return claims


def error_redirect(r: httpx.Response) -> dict[str, list[str]]:
    """The query of an error sent back to the (validated) redirect URI."""
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(REDIRECT + "?")
    return parse_qs(urlsplit(r.headers["location"]).query)


# --- discovery and the happy path ---------------------------------------------------------------


async def test_discovery_names_the_endpoints_and_what_is_supported(provider: httpx.AsyncClient) -> None:
    issuer = str(provider.base_url).rstrip("/")
    r = await provider.get("/.well-known/openid-configuration")
    assert r.status_code == 200
    meta = r.json()
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/authorize"
    assert meta["token_endpoint"] == f"{issuer}/token"
    assert meta["jwks_uri"] == f"{issuer}/jwks.json"
    assert meta["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert "openid" in meta["scopes_supported"]
    assert {"id_number", "name", "id_kind", "nonce"} <= set(meta["claims_supported"])
    keys = (await provider.get(meta["jwks_uri"].removeprefix(issuer))).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert keys[0]["kid"] and "d" not in keys[0]
    assert (await provider.get("/healthz")).status_code == 200


async def test_the_code_flow_with_pkce_gives_a_signed_id_token_echoing_the_nonce(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    number = resident_id()
    code = await code_for(provider, params, number, "张三")
    r = await trade(provider, code, verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["access_token"]
    claims = await verified_claims(provider, body["id_token"])
    issuer = str(provider.base_url).rstrip("/")
    assert claims["nonce"] == params["nonce"]
    assert claims["sub"] == hashlib.sha256((issuer + number).encode()).hexdigest()[:32]
    assert (claims["id_number"], claims["name"], claims["id_kind"]) == (number, "张三", "person")
    assert claims["acr"] == "urn:province:loa:substantial"
    assert claims["exp"] - claims["iat"] == 300 and claims["auth_time"] <= claims["iat"]
    info = await provider.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json() == {"sub": claims["sub"], "id_number": number, "name": "张三", "id_kind": "person"}
    assert (await provider.get("/userinfo", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_an_enterprise_logs_in_with_client_secret_post(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    code_number = credit_code()
    code = await code_for(provider, params, code_number.lower(), "烟台某某有限公司")
    r = await trade(provider, code, verifier, auth=None, extra={"client_id": CLIENT, "client_secret": SECRET})
    assert r.status_code == 200, r.text
    claims = await verified_claims(provider, r.json()["id_token"])
    assert (claims["id_number"], claims["id_kind"]) == (code_number, "enterprise")


async def test_the_login_page_satisfies_the_shared_contracts_browser(provider: httpx.AsyncClient) -> None:
    if not CONTRACT.exists():
        pytest.skip(f"the shared contract is not beside this checkout ({CONTRACT})")
    spec = importlib.util.spec_from_file_location("province_contract", CONTRACT)
    assert spec is not None and spec.loader is not None
    contract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(contract)
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    page = await provider.get("/authorize", params=params)
    assert page.status_code == 200
    assert "模拟" in page.text and "simulator" in page.text.lower()
    form = contract._Form()
    form.feed(page.text)
    assert form.found and "id_number" in form.fields and "name" in form.fields
    number = resident_id()
    # What the contract's browser sends: every field of the form, the two typed in.
    r = await provider.post(
        urljoin(str(page.url), form.action or ""), data=form.fields | {"id_number": number, "name": "冒烟居民"}
    )
    assert r.status_code in contract.REDIRECTS
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    assert (await trade(provider, code, verifier)).status_code == 200


# --- /authorize refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://evil.example/api/v1/auth/province/callback"},
        {"redirect_uri": REDIRECT + "/"},  # exact match: no normalisation
        {"redirect_uri": REDIRECT.replace("127.0.0.1", "localhost")},
        {"redirect_uri": OTHER_REDIRECT},  # registered, but for another client
        {"redirect_uri": None},
        {"client_id": "nobody"},
        {"client_id": None},
    ],
)
async def test_an_untrusted_redirect_uri_is_a_400_never_a_redirect(
    provider: httpx.AsyncClient, overrides: dict[str, str | None]
) -> None:
    _, challenge = pkce()
    r = await provider.get("/authorize", params=authorize_params(challenge, **overrides))
    assert r.status_code == 400
    assert "location" not in r.headers
    assert r.headers["content-type"].startswith("text/html")
    assert "<form" not in r.text


async def test_a_repeated_redirect_uri_is_a_400(provider: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    params = httpx.QueryParams(authorize_params(challenge)).add("redirect_uri", "http://evil.example/cb")
    r = await provider.get("/authorize", params=params)
    assert r.status_code == 400 and "location" not in r.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # no PKCE
        ({"code_challenge_method": None}, "invalid_request"),  # absent means plain
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"nonce": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"prompt": "none"}, "login_required"),
        ({"request": "eyJ..."}, "request_not_supported"),
    ],
)
async def test_after_the_redirect_uri_is_trusted_errors_go_back_with_the_state(
    provider: httpx.AsyncClient, overrides: dict[str, str | None], error: str
) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, **overrides)
    query = error_redirect(await provider.get("/authorize", params=params))
    assert query["error"] == [error]
    assert query["state"] == [params["state"]]
    assert "code" not in query


async def test_a_missing_state_is_an_error_sent_back_without_one(provider: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    query = error_redirect(await provider.get("/authorize", params=authorize_params(challenge, state=None)))
    assert query["error"] == ["invalid_request"] and "state" not in query


async def test_the_redirect_uris_own_query_is_kept(provider: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, client_id=OTHER, redirect_uri=OTHER_REDIRECT, code_challenge_method="plain")
    r = await provider.get("/authorize", params=params)
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["tenant"] == ["a"] and query["error"] == ["invalid_request"]


async def test_an_invalid_identity_number_shows_the_form_again_without_a_code(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    form = await login_page(provider, params)
    number = resident_id()
    mistyped = number[:-1] + ("0" if number[-1] != "0" else "1")
    for bad in (mistyped, "123", "91370602000000000A"):
        r = await provider.post(form.action or "", data=form.fields | {"id_number": bad, "name": "张三"})
        assert r.status_code == 400 and "location" not in r.headers
        again = Form()
        again.feed(r.text)
        assert again.fields["request_id"] == form.fields["request_id"] and "id_number" in again.fields
        assert 'class="error"' in r.text
    r = await provider.post(form.action or "", data=form.fields | {"id_number": number, "name": " "})
    assert r.status_code == 400 and "location" not in r.headers
    # The same request still completes with a valid number, once.
    r = await provider.post(form.action or "", data=form.fields | {"id_number": number, "name": "张三"})
    assert r.status_code == 302
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    assert (await trade(provider, code, verifier)).status_code == 200
    r = await provider.post(form.action or "", data=form.fields | {"id_number": number, "name": "张三"})
    assert r.status_code == 400 and "location" not in r.headers


async def test_a_forged_request_id_is_refused(provider: httpx.AsyncClient) -> None:
    r = await provider.post("/authorize", data={"request_id": "forged", "id_number": resident_id(), "name": "x"})
    assert r.status_code == 400 and "location" not in r.headers


# --- /token refusals ----------------------------------------------------------------------------


async def test_a_wrong_verifier_is_invalid_grant_and_spends_the_code(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    r = await trade(provider, code, pkce()[0])
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    r = await trade(provider, code, verifier)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


async def test_a_missing_verifier_is_invalid_request(provider: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    r = await provider.post("/token", data=data, auth=(CLIENT, SECRET))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


async def test_a_code_works_once(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    assert (await trade(provider, code, verifier)).status_code == 200
    r = await trade(provider, code, verifier)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


async def test_an_expired_code_is_invalid_grant() -> None:
    async with running(code_ttl_seconds=0.3) as client:
        verifier, challenge = pkce()
        code = await code_for(client, authorize_params(challenge), resident_id())
        await asyncio.sleep(0.5)
        r = await trade(client, code, verifier)
        assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


async def test_a_different_redirect_uri_or_client_is_invalid_grant(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    r = await trade(provider, code, verifier, redirect_uri=REDIRECT + "/")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    r = await trade(provider, code, verifier, redirect_uri=OTHER_REDIRECT, auth=(OTHER, OTHER_SECRET))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("auth", "extra"),
    [
        ((CLIENT, "wrong"), {}),
        (("nobody", SECRET), {}),
        (None, {"client_id": CLIENT, "client_secret": "wrong"}),
        (None, {"client_id": CLIENT}),  # no secret at all
        (None, {}),
    ],
)
async def test_bad_client_authentication_is_a_401_invalid_client(
    provider: httpx.AsyncClient, auth: tuple[str, str] | None, extra: dict[str, str]
) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    r = await trade(provider, code, verifier, auth=auth, extra=extra)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")
    # A caller without the secret cannot spend the client's code.
    assert (await trade(provider, code, verifier)).status_code == 200


async def test_other_token_request_errors(provider: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await code_for(provider, authorize_params(challenge), resident_id())
    r = await trade(provider, code, verifier, extra={"grant_type": "password"})
    assert (r.status_code, r.json()["error"]) == (400, "unsupported_grant_type")
    r = await provider.post("/token", json={"grant_type": "authorization_code", "code": code}, auth=(CLIENT, SECRET))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    r = await trade(provider, code, verifier, extra={"client_secret": SECRET})  # two methods at once
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    assert (await trade(provider, code, verifier)).status_code == 200


# --- where it may run ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"allowed": False}, "PROVINCE_SIM_ALLOWED"),
        ({"issuer": "https://ids.example-province.gov.cn"}, "loopback"),
        ({"issuer": "http://10.0.0.5:8010"}, "loopback"),
        ({"issuer": "http://127.0.0.1.nip.io:8010"}, "loopback"),
        ({"host": "0.0.0.0"}, "loopback"),
    ],
)
def test_it_refuses_to_start_unless_allowed_and_on_loopback(overrides: dict[str, Any], why: str) -> None:
    with pytest.raises(SimulatorNotAllowedError, match=why):
        create_app(sim_settings(8010, **overrides))


def test_it_is_off_by_default_and_starts_on_any_loopback_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVINCE_SIM_ALLOWED", raising=False)
    with pytest.raises(SimulatorNotAllowedError):
        create_app(ProvinceSimSettings())
    for issuer in ("http://localhost:8010", "http://127.3.2.1:8010", "http://[::1]:8010"):
        create_app(sim_settings(8010, issuer=issuer))
    monkeypatch.setenv("PROVINCE_SIM_ALLOWED", "true")
    monkeypatch.setenv("PROVINCE_SIM_CLIENTS", f'{{"{CLIENT}": {{"secret": "x", "redirect_uris": ["{REDIRECT}"]}}}}')
    assert create_app().state.settings.clients[CLIENT].redirect_uris == [REDIRECT]
