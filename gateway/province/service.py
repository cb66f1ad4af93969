"""The province login's rules: start a login, check the callback, prove the identity, trade the code.

The callback is split in three so that no database connection is held while the province is
asked anything: spending the state commits on its own (a replay loses even when the rest of the
first attempt fails), then the code exchange and ID token check run with no transaction open, then
the proof and the one-time code are written together (or nothing is).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import proof
from gateway.identity import repository as accounts
from gateway.identity.numbers import InvalidIdentityNumberError, classify
from gateway.province import repository
from gateway.province.client import ProviderMetadata, ProvinceClient, ProvinceLoginFailed
from gateway.province.models import ProvinceLogin, ProvinceLoginCode
from gateway.settings import GatewaySettings
from gateway.tokens import service as tokens
from gateway.tokens.keys import KeyStore
from gateway.tokens.service import TokenPair
from gateway.tokens.verifier import RevocationList
from owkernel.errors import Unauthorized, Unprocessable, field_error
from owkernel.kernel import clock_of

log = structlog.get_logger("gateway.province")

MAX_RETURN_TO = 2000
# Longer than any state we hand out (43 characters); anything longer is not ours.
MAX_STATE = 128
MAX_CODE = 2048
# Account.name's column.
MAX_NAME = 200


@dataclass(frozen=True)
class PendingLogin:
    """What the callback needs of a login it just spent."""

    nonce: str
    code_verifier: str
    return_to: str


@dataclass(frozen=True)
class ProvenIdentity:
    """Who the province's ID token says logged in."""

    id_number: str
    name: str
    subject: str


def check_return_to(value: str) -> str:
    """``value`` when it is a path on this site; else 422 (an open redirect is a phishing tool)."""
    problem = None
    if not value or len(value) > MAX_RETURN_TO:
        problem = f"return_to must be a path of at most {MAX_RETURN_TO} characters."
    elif not value.startswith("/") or value.startswith("//"):
        problem = "return_to must be a path on this site, starting with a single /."
    # Browsers read a backslash as a slash and drop tabs and newlines: "/\\evil" and "/\t/evil"
    # would leave the site.
    elif "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        problem = "return_to may not contain backslashes or control characters."
    else:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            problem = "return_to must be a path on this site."
    if problem is not None:
        raise Unprocessable(problem, errors=[field_error("query.return_to", problem, "value_error")])
    return value


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


async def begin(
    session: AsyncSession,
    *,
    return_to: str,
    client: ProvinceClient,
    http: httpx.AsyncClient,
    settings: GatewaySettings,
) -> str:
    """Record a new login and give the province's authorization URL to send the browser to."""
    return_to = check_return_to(return_to)
    meta = await client.metadata(http)
    now = clock_of(session).now()
    login = ProvinceLogin(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        # RFC 7636 §4.1: 43 to 128 characters of high entropy.
        code_verifier=secrets.token_urlsafe(48),
        return_to=return_to,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.province_login_ttl_seconds),
        used_at=None,
    )
    await repository.add_login(session, login)
    return client.authorization_url(meta, state=login.state, nonce=login.nonce, code_verifier=login.code_verifier)


async def spend_state(session: AsyncSession, *, state: str | None) -> PendingLogin:
    """The login ``state`` names, marked used; 400 when unknown, used or stale."""
    if not state or len(state) > MAX_STATE:
        raise ProvinceLoginFailed("This login was not started here (no or an unknown state); start it again.")
    login = await repository.spend_login(session, state=state, now=clock_of(session).now())
    if login is None:
        raise ProvinceLoginFailed("This login is unknown, already finished or expired; start it again.")
    return PendingLogin(nonce=login.nonce, code_verifier=login.code_verifier, return_to=login.return_to)


async def prove(
    *,
    pending: PendingLogin,
    code: str | None,
    error: str | None,
    iss: str | None,
    client: ProvinceClient,
    http: httpx.AsyncClient,
) -> ProvenIdentity:
    """Exchange the code and verify the ID token: who the province says this is (no database)."""
    if error is not None:
        log.info("province.login_refused_by_provider", error=error[:64])
        raise ProvinceLoginFailed("The province's login did not complete; start it again.")
    if not code or len(code) > MAX_CODE:
        raise ProvinceLoginFailed("The province sent no authorization code.")
    meta: ProviderMetadata = await client.metadata(http)
    # RFC 9207: an answer naming another issuer came from another provider (a mix-up attack).
    if iss is not None and iss != meta.issuer:
        raise ProvinceLoginFailed("The answer names another identity provider than the province.")
    id_token = await client.exchange(http, meta, code=code, code_verifier=pending.code_verifier)
    claims = await client.verify(http, meta, id_token, nonce=pending.nonce)
    raw_number, raw_name = claims.get("id_number"), claims.get("name")
    if not isinstance(raw_number, str) or not isinstance(raw_name, str):
        raise ProvinceLoginFailed("The province's ID token names no identity number or name.")
    try:
        number = classify(raw_number)
    except InvalidIdentityNumberError:
        raise ProvinceLoginFailed("The province's ID token carries an invalid identity number.") from None
    name = raw_name.strip()
    if not name or len(name) > MAX_NAME:
        raise ProvinceLoginFailed("The province's ID token carries no usable name.")
    return ProvenIdentity(id_number=number.number, name=name, subject=str(claims["sub"]))


async def finish(
    session: AsyncSession,
    *,
    pending: PendingLogin,
    proven: ProvenIdentity,
    revocations: RevocationList,
    settings: GatewaySettings,
) -> str:
    """Make the proven account verified and give ``return_to`` with its one-time login code."""
    account = await proof.prove_identity(
        session, id_number=proven.id_number, name=proven.name, by="province", revocations=revocations
    )
    code = secrets.token_urlsafe(32)
    now = clock_of(session).now()
    await repository.add_code(
        session,
        ProvinceLoginCode(
            code_hash=tokens.hash_secret(code),
            account_id=account.id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.province_login_code_ttl_seconds),
            used_at=None,
        ),
    )
    log.info("province.login_proven", account=account.id, kind=account.kind)
    return _with_query(pending.return_to, login_code=code)


async def trade_code(session: AsyncSession, *, login_code: str, keys: KeyStore, settings: GatewaySettings) -> TokenPair:
    """The token pair of a login code's account; the code works once (401 otherwise)."""
    account_id = await repository.spend_code(
        session, code_hash=tokens.hash_secret(login_code), now=clock_of(session).now()
    )
    account = await accounts.by_id(session, account_id) if account_id is not None else None
    if account is None:
        raise Unauthorized("The login code is not valid, already used or expired; log in through the province again.")
    return await tokens.start_login(session, account=account, keys=keys, settings=settings)


async def prune(session: AsyncSession, *, now: datetime) -> None:
    """Forget logins and codes expired an hour ago or more."""
    await repository.delete_expired(session, before=now - timedelta(hours=1))
