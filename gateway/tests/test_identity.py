"""Identity: registration by the one number, login, throttling and locking, staff, roles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import random
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from gateway.tests.harness import ADMIN_PASSWORD, GATEWAY_INI, PASSWORD, Stack
from owkernel.migrations import upgrade
from owtest import (
    bearer,
    credit_code,
    free_port,
    fresh_database_url,
    resident_id,
    subprocess_env,
    wait_for_port,
    wait_ready,
)


def _registration(number: str) -> dict[str, str]:
    return {"id_number": number, "name": "张三", "password": PASSWORD, "phone": "13800000000"}


async def test_register_person_and_enterprise(stack: Stack) -> None:
    person = resident_id()
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": person, "name": "张三", "password": PASSWORD, "phone": "13800000000"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "person" and r.json()["subject_id"]

    company = credit_code()
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": company, "name": "烟台某公司", "password": PASSWORD, "phone": "0535-6688888"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "enterprise"

    # a lower-case check character is the same number, and already taken
    lower = person[:-1] + person[-1].lower()
    again = await stack.client.post(
        "/api/v1/auth/register", json={"id_number": lower, "name": "张三", "password": PASSWORD, "phone": "13800000000"}
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


def _bad_check(number: str, alphabet: str) -> str:
    return number[:-1] + next(c for c in alphabet if c != number[-1])


@pytest.mark.parametrize(
    "number",
    [
        _bad_check(resident_id(), "0123456789X"),  # wrong MOD 11-2 check digit
        "370602199002300012",  # 30 February
        "999999199001010010",  # no such region
        "37060219900101001",  # 17 characters
        _bad_check(credit_code(), "0123456789ABCDEFGHJKLMNPQRTUWXY"),  # wrong MOD 31 check character
        "91370602MA3CIOSZ1X",  # I, O, S, Z are not in the code's alphabet
        "not a number at all",
        "",
    ],
    # Fixed ids: two of the numbers are made at random, and xdist workers must collect the same names.
    ids=["ric-check", "ric-date", "ric-region", "ric-length", "uscc-check", "uscc-alphabet", "text", "empty"],
)
async def test_register_refuses_invalid_numbers(stack: Stack, number: str) -> None:
    r = await stack.client.post(
        "/api/v1/auth/register",
        json={"id_number": number, "name": "某人", "password": PASSWORD, "phone": "13800000000"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "body.id_number"
    assert r.json()["code"].startswith("identity_number_") or r.json()["code"] == "request_invalid"


async def test_malformed_bodies_are_problems_not_500(stack: Stack) -> None:
    r = await stack.client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["status"] == 422
    r = await stack.client.post("/api/v1/auth/register", json={"id_number": resident_id(), "password": "short"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"body.name", "body.password", "body.phone"}
    # The console says "at least 8 characters" in its own language from the code and its params.
    [password] = [e for e in r.json()["errors"] if e["field"] == "body.password"]
    assert password["code"] == "string_too_short" and password["params"] == {"min_length": 8}
    assert r.json()["code"] == "request_invalid"
    [name] = [e for e in r.json()["errors"] if e["field"] == "body.name"]
    assert name["code"] == "missing"
    r = await stack.client.post("/api/v1/auth/login", json=["account"])
    assert r.status_code == 422
    r = await stack.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_login_me_and_wrong_password(stack: Stack) -> None:
    number = await stack.register()
    tokens = await stack.login(number)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == stack.settings.access_token_ttl_seconds
    me = await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json() | {"subject_id": None} == {
        "subject_id": None,
        "kind": "person",
        "name": "测试居民",
        "roles": [],
        "department": None,
        "id_number": number,
        "username": None,
        "phone": "13800000000",
        "hall": None,
        "assurance": "self_declared",
        "verified_by": None,
        "acts_for": [],
        "actor": None,
    }
    wrong = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "not-it-at-all"})
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == "login_failed"
    nobody = await stack.client.post("/api/v1/auth/login", json={"account": resident_id(), "password": PASSWORD})
    assert nobody.status_code == 401
    assert (await stack.client.get("/api/v1/auth/me")).status_code == 401


async def test_account_locks_after_repeated_failures(stack: Stack) -> None:
    number = await stack.register()
    for _ in range(stack.settings.login_max_failures - 1):
        r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
        assert r.status_code == 401
    r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
    assert r.status_code == 429 and r.json()["locked"] is True and "locked" in r.json()["detail"]
    assert r.json()["code"] == "account_locked"
    assert int(r.headers["retry-after"]) > 0
    # even the right password waits until the lock ends
    r = await stack.client.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
    assert r.status_code == 429 and "locked" in r.json()["detail"]


async def test_admin_creates_staff_and_roles_are_enforced(stack: Stack) -> None:
    admin = await stack.admin()
    body = {"username": "approver_zhang", "password": PASSWORD, "name": "张审批", "roles": ["approver"]}
    missing_dept = await stack.client.post("/api/v1/admin/staff", json=body, headers=bearer(admin))
    assert missing_dept.status_code == 422
    bad_role = await stack.client.post(
        "/api/v1/admin/staff", json=body | {"roles": ["emperor"], "department": "MARKET"}, headers=bearer(admin)
    )
    assert bad_role.status_code == 422
    created = await stack.client.post(
        "/api/v1/admin/staff", json=body | {"department": "MARKET"}, headers=bearer(admin)
    )
    assert created.status_code == 201
    assert created.json()["roles"] == ["approver"] and created.json()["department"] == "MARKET"
    again = await stack.client.post("/api/v1/admin/staff", json=body | {"department": "MARKET"}, headers=bearer(admin))
    assert again.status_code == 409

    token = (await stack.login("approver_zhang"))["access_token"]
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert me["kind"] == "staff" and me["roles"] == ["approver"] and me["department"] == "MARKET"
    assert me["username"] == "approver_zhang"

    # a citizen and a non-admin staff member may not create staff (403); nobody anonymous (401)
    _, citizen = await stack.citizen()
    for who in (citizen["access_token"], token):
        r = await stack.client.post(
            "/api/v1/admin/staff", json=body | {"username": "x_other", "department": "M"}, headers=bearer(who)
        )
        assert r.status_code == 403
    assert (await stack.client.post("/api/v1/admin/staff", json=body)).status_code == 401
    listing = await stack.client.get("/api/v1/admin/staff", params={"limit": 1}, headers=bearer(admin))
    assert listing.status_code == 200 and len(listing.json()["items"]) == 1 and listing.json()["next_cursor"]
    page2 = await stack.client.get(
        "/api/v1/admin/staff", params={"limit": 1, "cursor": listing.json()["next_cursor"]}, headers=bearer(admin)
    )
    assert page2.json()["items"][0]["username"] > listing.json()["items"][0]["username"]


async def test_admin_comes_from_settings(stack: Stack) -> None:
    tokens = await stack.login("admin", ADMIN_PASSWORD)
    me = (await stack.client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))).json()
    assert me["roles"] == ["admin"] and me["kind"] == "staff"


# --- guessing: counted before the hash, per (account, address) and per account ------------------


def _address() -> str:
    """A loopback address of its own (Linux answers on all of 127/8), so tests do not share throttles."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


@contextlib.asynccontextmanager
async def _from(stack: Stack, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose connections come from ``address``, as the gateway sees them."""
    transport = httpx.AsyncHTTPTransport(local_address=address, limits=httpx.Limits(max_connections=200))
    async with httpx.AsyncClient(base_url=stack.gateway_url, transport=transport, timeout=30.0) as client:
        yield client


def _assert_refused(r: httpx.Response) -> None:
    """A refused login keeps the contract's shape: a 429 problem with Retry-After."""
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    body = r.json()
    assert body["status"] == 429 and body["title"] and body["detail"] and body["type"]
    if body.get("locked") is not None:
        assert body["locked"] is True and "locked" in body["detail"]


async def test_parallel_guesses_are_counted_before_the_password_is_checked(stack: Stack) -> None:
    number = await stack.register()
    async with _from(stack, _address()) as client:

        async def attempt(password: str) -> httpx.Response:
            return await client.post("/api/v1/auth/login", json={"account": number, "password": password})

        # The right password twice: past the account's limit but within the address's (20), and
        # in the middle of the burst.
        wrong = [attempt(f"wrong-guess-{i}") for i in range(100)]
        results = await asyncio.gather(*wrong[:10], attempt(PASSWORD), *wrong[10:50], attempt(PASSWORD), *wrong[50:])
    rights, guesses = [results[10], results[51]], results[:10] + results[11:51] + results[52:]
    # at most the allowed number of guesses was checked at all; every other one was refused unchecked
    assert sum(r.status_code == 401 for r in guesses) < stack.settings.login_max_failures
    for r in guesses:
        if r.status_code != 401:
            _assert_refused(r)
    # and the right password among them gets no tokens once the lock is reached
    for right in rights:
        _assert_refused(right)
        assert "access_token" not in right.json()


async def test_an_attackers_guesses_do_not_lock_the_owner_out(stack: Stack) -> None:
    number = await stack.register()
    async with _from(stack, _address()) as attacker, _from(stack, _address()) as owner:
        for _ in range(stack.settings.login_max_failures * 2):
            r = await attacker.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
            assert r.status_code in (401, 429)
        _assert_refused(r)
        assert r.json()["locked"] is True
        # the attacker's address stays locked for this account, even with the right password ...
        _assert_refused(await attacker.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD}))
        # ... while the owner, from their own address, logs in
        mine = await owner.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
        assert mine.status_code == 200, mine.text
        assert mine.json()["access_token"]


async def test_guessing_from_many_addresses_locks_strangers_out_but_not_a_known_address(stack: Stack) -> None:
    number = await stack.register()
    async with _from(stack, _address()) as owner:
        first = await owner.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
        assert first.status_code == 200, first.text
        per_address = stack.settings.login_max_failures - 1  # each stays under its own address's lock
        guesses = 0
        while guesses < stack.settings.login_account_max_failures:
            async with _from(stack, _address()) as bot:
                for _ in range(per_address):
                    r = await bot.post("/api/v1/auth/login", json={"account": number, "password": "wrong-password"})
                    guesses += 1
        _assert_refused(r)
        assert r.json()["locked"] is True
        # a stranger is refused now, even with the right password
        async with _from(stack, _address()) as stranger:
            refused = await stranger.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
        _assert_refused(refused)
        # the owner's address, known from an earlier login, still gets in
        mine = await owner.post("/api/v1/auth/login", json={"account": number, "password": PASSWORD})
        assert mine.status_code == 200, mine.text


async def test_staff_list_times_carry_an_offset(stack: Stack) -> None:
    admin = await stack.admin()
    listing = await stack.client.get("/api/v1/admin/staff", headers=bearer(admin))
    assert listing.status_code == 200 and listing.json()["items"]
    for item in listing.json()["items"]:
        created = datetime.fromisoformat(item["created_at"])
        assert created.utcoffset() is not None, item


async def test_a_generated_admin_password_is_never_in_the_structured_log(nats_url: str, tmp_path: Path) -> None:
    database_url = fresh_database_url("genadmin", tmp_path)
    await asyncio.to_thread(upgrade, GATEWAY_INI, database_url)
    port = free_port()
    env = subprocess_env()
    env.pop("ONEWINDOW_ADMIN_PASSWORD", None)
    env |= {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_NATS_URL": nats_url,
        "GATEWAY_NATS_NAMESPACE": "t" + uuid.uuid4().hex[:10],
        "GATEWAY_PORT": str(port),
        "GATEWAY_LOG_JSON": "true",
        "GATEWAY_LOG_LEVEL": "INFO",
        "GATEWAY_ARGON2_TIME_COST": "1",
        "GATEWAY_ARGON2_MEMORY_KIB": "1024",
        "GATEWAY_ARGON2_PARALLELISM": "1",
    }
    # stderr on a terminal, as when someone starts the gateway by hand: the one place it may be shown
    leader, follower = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
            deadline = time.monotonic() + 60
            while b"created with password" not in output and time.monotonic() < deadline:
                if select.select([leader], [], [], 0.2)[0]:
                    output += os.read(leader, 65536)
                assert process.returncode is None, output.decode(errors="replace")
            await asyncio.to_thread(wait_for_port, port, 30.0)
            await wait_ready(client)
            while select.select([leader], [], [], 0.5)[0]:
                output += os.read(leader, 65536)
            text = output.decode(errors="replace")
            found = re.search(r"created with password (\S+)", text)
            assert found, text
            password = found.group(1)
            ok = await client.post("/api/v1/auth/login", json={"account": "admin", "password": password})
            assert ok.status_code == 200, ok.text
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
        with contextlib.suppress(OSError):
            while select.select([leader], [], [], 0.2)[0]:
                output += os.read(leader, 65536)
        os.close(leader)
    structured = [line for line in output.decode(errors="replace").splitlines() if line.lstrip().startswith("{")]
    assert any('"admin.password_generated"' in line for line in structured), structured
    assert not [line for line in structured if password in line]
