"""What the cross-service tests share: the whole platform as real processes, and the admin's
password it is seeded with. (The session's fixture that starts it is in conftest.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from owtest import TestEnvironment, fresh_database_url
from tools.seed import DemoLogin, seed
from tools.stack import COMPONENTS, Stack, test_stack

ADMIN_PASSWORD = "Admin-Stack-Pass-1!"


@dataclass
class Platform:
    """A running platform and what the stories need to talk to it."""

    stack: Stack
    logins: list[DemoLogin]

    @property
    def url(self) -> str:
        return self.stack.gateway_url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, trust_env=False)

    def login(self, account: str, password: str) -> str:
        with self.client() as c:
            r = c.post("/api/v1/auth/login", json={"account": account, "password": password})
            assert r.status_code == 200, r.text
            token: str = r.json()["access_token"]
            return token


def running_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Start a whole platform, yield it, stop it."""
    env = TestEnvironment()
    data = tmp_path_factory.mktemp("platform")
    urls = {c.name: fresh_database_url(f"e2e_{c.name}", data) for c in COMPONENTS} if env.pg_url else {}
    stack = test_stack(
        data,
        nats_url=env.nats_url,
        database_urls=urls,
        namespace=("e2e" + uuid.uuid4().hex[:8]) if env.nats_url else "",
        extra_env={
            "ONEWINDOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ONEWINDOW_COURIER_DELAY_SECONDS": "0.2",
            "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
            # Every test caller (and the fuzzer's thousands of wrong logins) comes from 127.0.0.1:
            # the per-address login throttle is the gateway's own tests' business, as the rate is.
            "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
            # A one-day rectification clock is yellow at once, and the scan runs every second,
            # so the story sees a card without waiting days.
            "RATING_RECTIFICATION_DUE_WORKING_DAYS": "1",
            "APPROVAL_CARD_SCAN_INTERVAL_SECONDS": "1",
        },
    )
    stack.start_all()
    try:
        stack.wait_ready(timeout=90)
        logins = seed(stack.gateway_url, ADMIN_PASSWORD)
        yield Platform(stack=stack, logins=logins)
    finally:
        stack.stop_all()
