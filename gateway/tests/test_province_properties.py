"""Property tests of the province login's callback: whatever its query holds (code, state, error,
iss), it answers a 4xx problem+json, never a 500 nor a redirect, and creates nothing: no login
code, no account; with a real login under way too (its state known, the rest made up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.identity.models import Account
from gateway.tests.test_province import ProvinceStack, province_stack
from owtest import resident_id

# What a browser or a proxy ever sends as a whole query: 8 KB (browsers and proxies cap the
# request line near there). Longer ones never reach our code: httpx refuses a URL over 64 KB and
# uvicorn answers its own plain-text 400 for a request line it finds too long, so examples beyond
# this would test them, not the callback. Each of the four values gets a quarter, once encoded.
MAX_QUERY_BYTES = 8192
MAX_VALUE_BYTES = MAX_QUERY_BYTES // 4 - len("&state=")


def _encoded_within(value: str, budget: int = MAX_VALUE_BYTES) -> str:
    """The longest prefix of value whose percent-encoding fits the budget (a non-ASCII character
    takes up to 12 bytes encoded); quote with nothing safe is the longest form httpx may send."""
    used = 0
    for end, char in enumerate(value):
        used += len(quote(char, safe=""))
        if used > budget:
            return value[:end]
    return value


# Query values as a browser or an attacker may send them: any text (the door refuses NULs and
# the like before routing, with a 400 problem too), long ones (as long as the whole query may
# be), and tokens that look like ours.
VALUES = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.text(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=40, max_size=50
    ),
    st.text(min_size=2000, max_size=3000).map(_encoded_within),
)


@pytest.fixture(scope="module")
async def province(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ProvinceStack]:
    """The gateway and the simulated province, both on real ports."""
    async with province_stack(nats_url, tmp_path_factory.mktemp("province-properties")) as running:
        yield running


async def _created(province: ProvinceStack) -> tuple[int, int]:
    async with province.stack.app.state.kernel.db.transaction() as session:
        accounts = (await session.execute(select(func.count()).select_from(Account))).scalar_one()
    return int(accounts), await province.codes()


def _query(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def _refused(r: Any) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json", r.text
    assert "location" not in r.headers
    assert r.json()["status"] == r.status_code


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(code=VALUES, state=VALUES, error=VALUES, iss=VALUES)
async def test_any_callback_query_is_a_4xx_problem_and_creates_nothing(
    province: ProvinceStack, code: str | None, state: str | None, error: str | None, iss: str | None
) -> None:
    before = await _created(province)
    r = await province.client.get(
        "/api/v1/auth/province/callback", params=_query(code=code, state=state, error=error, iss=iss)
    )
    _refused(r)
    assert await _created(province) == before


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(code=VALUES, error=VALUES, iss=VALUES)
async def test_a_real_state_with_made_up_answers_is_refused_and_creates_nothing(
    province: ProvinceStack, code: str | None, error: str | None, iss: str | None
) -> None:
    """The state of a login under way, with anything else: the province refuses the code (or the
    gateway the error or the issuer) and the state is spent all the same."""
    # A NUL in the query is refused before routing (owkernel.guard), so that request never reaches
    # the callback and spends nothing; the first test covers it being a 4xx.
    assume(not any("\x00" in (value or "") for value in (code, error, iss)))
    callback = await province.callback_url(resident_id())
    state = parse_qs(urlsplit(callback).query)["state"][0]
    before = await _created(province)
    r = await province.client.get(
        "/api/v1/auth/province/callback", params=_query(code=code, state=state, error=error, iss=iss)
    )
    _refused(r)
    assert await _created(province) == before
    _refused(await province.client.get(callback))
