"""The province's unified identity login: the gateway as an OpenID Connect relying party of the
real simulated provider (simulators/province), served over HTTP on its own port."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from gateway.province import repository
from gateway.province.client import (
    IdTokenError,
    ProvinceClient,
    ProvinceUnavailable,
    UnknownSigningKeyError,
    verify_id_token,
)
from gateway.province.service import check_return_to
from gateway.settings import GatewaySettings
from gateway.tests.harness import PASSWORD, Stack, running_stack
from owkernel.errors import Unprocessable
from owtest import bearer, credit_code, free_port, fresh_database_url, resident_id, serving
from simulators.province.app import create_app as create_province
from simulators.province.settings import ProvinceSimSettings

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract" / "province.py"
CLIENT_ID = "onewindow-gateway"


def _contract() -> ModuleType:
    """../shared/contract/province.py, loaded by path (it is no package of ours)."""
    spec = importlib.util.spec_from_file_location("shared_contract_province", CONTRACT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contract = _contract()


@dataclass
class ProvinceStack:
    """The gateway stack with the simulated province as its identity provider."""

    stack: Stack
    issuer: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    async def callback_url(self, id_number: str, name: str = "张三", return_to: str = "/") -> str:
        """Start a login and pass the province's form: the callback URL the browser is sent to."""
        async with httpx.AsyncClient(timeout=15.0) as browser:
            r = await browser.get(
                f"{self.stack.gateway_url}/api/v1/auth/province/login", params={"return_to": return_to}
            )
            assert r.status_code == 302, r.text
            page = await browser.get(r.headers["location"])
            assert page.status_code == 200, page.text
            form = contract._Form()
            form.feed(page.text)
            fields = form.fields | {"id_number": id_number, "name": name}
            r = await browser.post(urljoin(str(page.url), form.action or ""), data=fields)
            assert r.status_code in (302, 303), r.text
            location: str = r.headers["location"]
            assert location.startswith(f"{self.stack.gateway_url}/api/v1/auth/province/callback?")
            return location

    async def login_code(self, callback_url: str) -> tuple[str, httpx.Response]:
        """Follow the callback; the login code handed to return_to, and the answer."""
        r = await self.client.get(callback_url)
        assert r.status_code == 302, r.text
        return parse_qs(urlsplit(r.headers["location"]).query)["login_code"][0], r

    async def codes(self) -> int:
        """Login codes stored."""
        async with self.stack.app.state.kernel.db.transaction() as session:
            return await repository.count_codes(session)


@contextlib.asynccontextmanager
async def province_stack(nats_url: str, tmp: Path) -> AsyncIterator[ProvinceStack]:
    """The simulated province on a free port, and the gateway registered with it as a client."""
    gateway_port, province_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{province_port}"
    secret = secrets.token_urlsafe(24)
    simulator = create_province(
        ProvinceSimSettings(
            issuer=issuer,
            port=province_port,
            allowed=True,
            clients={
                CLIENT_ID: {
                    "secret": secret,
                    "redirect_uris": [f"http://127.0.0.1:{gateway_port}/api/v1/auth/province/callback"],
                }
            },
        )
    )
    async with (
        serving(simulator, province_port),
        running_stack(
            database_url=fresh_database_url("gateway", tmp),
            upstream_database_url=fresh_database_url("upstream", tmp),
            nats_url=nats_url,
            gateway_port=gateway_port,
            province_issuer=issuer,
            province_client_id=CLIENT_ID,
            province_client_secret=secret,
        ) as stack,
    ):
        yield ProvinceStack(stack=stack, issuer=issuer)


@pytest.fixture(scope="module")
async def province(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ProvinceStack]:
    """The gateway and the simulated province, both on real ports."""
    async with province_stack(nats_url, tmp_path_factory.mktemp("province")) as running:
        yield running


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


# --- the whole flow, as the shared smoke test walks it ------------------------------------------


async def test_the_contracts_flow_gives_a_verified_account(province: ProvinceStack) -> None:
    number = resident_id()
    tokens = await asyncio.to_thread(contract.province_login, province.stack.gateway_url, number, "李四")
    me = await province.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["id_number"] == number and body["name"] == "李四" and body["kind"] == "person"
    assert body["assurance"] == "verified" and body["verified_by"] == "province"
    # the refresh token of the pair works like any other
    r = await province.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_an_enterprise_logs_in_and_return_to_keeps_its_query(province: ProvinceStack) -> None:
    company = credit_code()
    callback = await province.callback_url(company, "烟台某公司", return_to="/console/account.html?tab=agents#top")
    code, r = await province.login_code(callback)
    target = urlsplit(r.headers["location"])
    assert (target.scheme, target.netloc, target.path, target.fragment) == ("", "", "/console/account.html", "top")
    assert parse_qs(target.query)["tab"] == ["agents"]
    assert r.headers["cache-control"] == "no-store"
    pair = await province.client.post("/api/v1/auth/province/token", json={"login_code": code})
    assert pair.status_code == 200, pair.text
    me = (await province.client.get("/api/v1/auth/me", headers=bearer(pair.json()["access_token"]))).json()
    assert me["kind"] == "enterprise" and me["id_number"] == company and me["assurance"] == "verified"


async def test_the_login_redirect_asks_for_the_code_flow_with_pkce(province: ProvinceStack) -> None:
    r = await province.client.get("/api/v1/auth/province/login", params={"return_to": "/x"})
    assert r.status_code == 302 and r.headers["cache-control"] == "no-store"
    url = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{province.issuer}/authorize"
    assert query["response_type"] == "code" and query["scope"] == "openid" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{province.stack.gateway_url}/api/v1/auth/province/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43 and query["state"] != query["nonce"]


# --- the squatter ---------------------------------------------------------------------------------


async def test_a_squatter_loses_the_number_to_its_holder(province: ProvinceStack) -> None:
    number = resident_id()
    await province.stack.register(number)
    squatter = await province.stack.login(number)
    me = (await province.client.get("/api/v1/auth/me", headers=bearer(squatter["access_token"]))).json()
    assert me["assurance"] == "self_declared"

    holder = await asyncio.to_thread(contract.province_login, province.stack.gateway_url, number, "真正的持有人")
    me = (await province.client.get("/api/v1/auth/me", headers=bearer(holder["access_token"]))).json()
    assert me["assurance"] == "verified" and me["name"] == "真正的持有人"

    # the squatter's password, refresh token and access token all stop working
    r = await province.client.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
    _problem(r, 401)
    r = await province.client.post("/api/v1/auth/refresh", json={"refresh_token": squatter["refresh_token"]})
    _problem(r, 401)
    r = await province.client.get("/api/v1/auth/me", headers=bearer(squatter["access_token"]))
    assert r.status_code == 401, r.text
    # and the holder's own login is untouched
    r = await province.client.get("/api/v1/auth/me", headers=bearer(holder["access_token"]))
    assert r.status_code == 200


# --- refusals -----------------------------------------------------------------------------------


async def test_a_replayed_callback_is_refused(province: ProvinceStack) -> None:
    callback = await province.callback_url(resident_id())
    await province.login_code(callback)
    before = await province.codes()
    again = await province.client.get(callback)
    _problem(again, 400)
    assert "location" not in again.headers
    assert await province.codes() == before


async def test_two_callbacks_at_once_make_one_login_code(province: ProvinceStack) -> None:
    callback = await province.callback_url(resident_id())
    before = await province.codes()
    answers = await asyncio.gather(*(province.client.get(callback) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [302, 400, 400, 400]
    assert await province.codes() == before + 1


async def test_a_wrong_state_is_refused_and_spends_nothing(province: ProvinceStack) -> None:
    callback = await province.callback_url(resident_id())
    query = parse_qs(urlsplit(callback).query)
    before = await province.codes()
    for state in (secrets.token_urlsafe(32), "", query["state"][0][:-1]):
        r = await province.client.get(
            "/api/v1/auth/province/callback", params={"code": query["code"][0], "state": state}
        )
        _problem(r, 400)
    r = await province.client.get("/api/v1/auth/province/callback", params={"code": query["code"][0]})
    _problem(r, 400)
    assert await province.codes() == before
    # the real state was not spent by the forgeries: the browser's own callback still works
    await province.login_code(callback)


async def test_another_code_for_the_state_is_refused(province: ProvinceStack) -> None:
    """A code the province issued for another login (another PKCE verifier) proves nothing here."""
    mine, theirs = await province.callback_url(resident_id()), await province.callback_url(resident_id())
    state = parse_qs(urlsplit(mine).query)["state"][0]
    code = parse_qs(urlsplit(theirs).query)["code"][0]
    before = await province.codes()
    r = await province.client.get("/api/v1/auth/province/callback", params={"code": code, "state": state})
    _problem(r, 400)
    assert await province.codes() == before


async def test_the_providers_error_or_another_issuer_is_refused(province: ProvinceStack) -> None:
    callback = await province.callback_url(resident_id())
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    r = await province.client.get(
        "/api/v1/auth/province/callback", params={"state": query["state"], "error": "access_denied"}
    )
    _problem(r, 400)
    # the state is spent: the login must start again
    _problem(await province.client.get(callback), 400)

    callback = await province.callback_url(resident_id())
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    r = await province.client.get(
        "/api/v1/auth/province/callback", params=query | {"iss": "https://idp.elsewhere.example"}
    )
    _problem(r, 400)


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/" + "a" * 2001,
    ],
    ids=["absolute", "scheme-relative", "backslash", "backslashes", "tab", "javascript", "relative", "empty", "long"],
)
async def test_a_foreign_return_to_is_refused(province: ProvinceStack, return_to: str) -> None:
    r = await province.client.get("/api/v1/auth/province/login", params={"return_to": return_to})
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "location" not in r.headers


def test_return_to_is_a_path_on_this_site() -> None:
    for good in ("/", "/console/", "/a?b=c#d", "/%2F%2Fx"):
        assert check_return_to(good) == good
    for bad in ("//x", "/\\x", "http:/x", "/\nx", "x"):
        with pytest.raises(Unprocessable):
            check_return_to(bad)


async def test_a_login_code_works_once(province: ProvinceStack) -> None:
    code, _ = await province.login_code(await province.callback_url(resident_id()))
    first = await province.client.post("/api/v1/auth/province/token", json={"login_code": code})
    assert first.status_code == 200, first.text
    assert {"access_token", "refresh_token", "expires_in"} <= first.json().keys()
    _problem(await province.client.post("/api/v1/auth/province/token", json={"login_code": code}), 401)
    _problem(await province.client.post("/api/v1/auth/province/token", json={"login_code": "made-up"}), 401)


async def test_a_login_code_traded_twice_at_once_gives_one_pair(province: ProvinceStack) -> None:
    code, _ = await province.login_code(await province.callback_url(resident_id()))
    answers = await asyncio.gather(
        *(province.client.post("/api/v1/auth/province/token", json={"login_code": code}) for _ in range(4))
    )
    assert sorted(r.status_code for r in answers) == [200, 401, 401, 401]


# --- the provider out of reach ------------------------------------------------------------------


async def test_no_provider_or_one_out_of_reach_is_503() -> None:
    settings = GatewaySettings(province_client_secret="s")
    async with httpx.AsyncClient(timeout=2.0) as http:
        with pytest.raises(ProvinceUnavailable):
            await ProvinceClient(issuer=None, settings=settings).metadata(http)
        with pytest.raises(ProvinceUnavailable):
            await ProvinceClient(issuer=f"http://127.0.0.1:{free_port()}", settings=settings).metadata(http)


async def test_a_provider_naming_another_issuer_is_refused(province: ProvinceStack) -> None:
    """Discovery through another address than the issuer it announces (Discovery 1.0 §4.3)."""
    other = province.issuer.replace("127.0.0.1", "localhost")
    async with httpx.AsyncClient(timeout=5.0) as http:
        with pytest.raises(ProvinceUnavailable):
            await ProvinceClient(issuer=other, settings=province.stack.settings).metadata(http)


# --- the ID token check, with tokens signed here ---------------------------------------------------

ISSUER = "https://idp.province.example"


@pytest.fixture(scope="module")
def signer() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)
    return key


def _jwks(*keys: RSAKey) -> KeySet:
    return KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
        "auth_time": now,
        "nonce": "the-nonce",
        "id_number": resident_id(),
        "name": "张三",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: RSAKey, claims: dict[str, Any], alg: str = "RS256") -> str:
    token: str = jwt.encode({"alg": alg, "kid": key.kid}, claims, key)
    return token


def _verify(token: str, keys: KeySet) -> dict[str, Any]:
    return verify_id_token(token, keys=keys, issuer=ISSUER, client_id=CLIENT_ID, nonce="the-nonce", leeway=30)


def test_a_good_id_token_passes(signer: RSAKey) -> None:
    claims = _claims()
    assert _verify(_sign(signer, claims), _jwks(signer))["id_number"] == claims["id_number"]
    # an audience list holding us, with azp naming us, passes too
    _verify(_sign(signer, _claims(aud=[CLIENT_ID, "other"], azp=CLIENT_ID)), _jwks(signer))
    # a clock a little behind ours is tolerated
    _verify(_sign(signer, _claims(iat=int(time.time()) + 20)), _jwks(signer))


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "another-nonce"},
        {"nonce": None},
        {"aud": "someone-else"},
        {"aud": ["someone-else", "third"]},
        {"aud": [CLIENT_ID, "other"], "azp": "other"},
        {"iss": "https://idp.elsewhere.example"},
        {"iss": None},
        {"exp": int(time.time()) - 120, "iat": int(time.time()) - 600},
        {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 4000},
        {"sub": None},
    ],
    ids=[
        "wrong-nonce",
        "no-nonce",
        "wrong-aud",
        "wrong-aud-list",
        "wrong-azp",
        "wrong-iss",
        "no-iss",
        "expired",
        "iat-future",
        "no-sub",
    ],
)
def test_an_id_token_with_wrong_claims_is_refused(signer: RSAKey, changes: dict[str, Any]) -> None:
    with pytest.raises(IdTokenError):
        _verify(_sign(signer, _claims(**changes)), _jwks(signer))


def test_a_tampered_id_token_is_refused(signer: RSAKey) -> None:
    header, payload, signature = _sign(signer, _claims()).split(".")
    forged = jwt.encode({"alg": "RS256", "kid": "k1"}, _claims(id_number=resident_id()), signer).split(".")[1]
    with pytest.raises(IdTokenError):
        _verify(f"{header}.{forged}.{signature}", _jwks(signer))
    with pytest.raises(IdTokenError):
        _verify(f"{header}.{payload}.{signature[:-4]}AAAA", _jwks(signer))
    with pytest.raises(IdTokenError):
        _verify("not.a.token", _jwks(signer))


def test_an_id_token_signed_with_a_key_not_in_the_jwks_is_refused(signer: RSAKey) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"}, private=True)
    # the same kid, another key: the signature does not verify
    with pytest.raises(IdTokenError) as refused:
        _verify(_sign(stranger, _claims()), _jwks(signer))
    assert not isinstance(refused.value, UnknownSigningKeyError)
    # a kid the JWKS does not hold: the caller may refetch the JWKS once
    other = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256"}, private=True)
    with pytest.raises(UnknownSigningKeyError):
        _verify(_sign(other, _claims()), _jwks(signer))


def test_an_id_token_not_signed_with_rs256_is_refused(signer: RSAKey) -> None:
    unsigned = ".".join(
        [
            base64.urlsafe_b64encode(json.dumps(h).encode()).rstrip(b"=").decode()
            for h in ({"alg": "none", "kid": "k1"}, _claims())
        ]
        + [""]
    )
    with pytest.raises(IdTokenError):
        _verify(unsigned, _jwks(signer))
