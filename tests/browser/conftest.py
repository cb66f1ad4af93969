"""Browser tests: the web console driven in Debian's Chromium through Playwright (fixtures; the
helpers tests import are in harness.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from owtest import TestEnvironment, fresh_database_url
from tests.browser.harness import ADMIN_PASSWORD, CHROMIUM, CHROMIUM_ARGS
from tools.seed import seed
from tools.stack import COMPONENTS, Stack
from tools.stack import test_stack as stack_on_free_ports


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the web console in headless Chromium (Debian's chromium)")


# Session-scoped: one platform for every browser test (they all run on one xdist worker, the
# "browser" group). Module-scoped, pytest set the platform up again whenever the
# worker's order left a module and came back (nine start-ups for five modules, ~50 s each on a
# busy machine); every test makes its own people and items, so none needs a fresh platform.
@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform on free ports, with the demo catalog, staff and citizen loaded."""
    data = tmp_path_factory.mktemp("browser-stack")
    env = TestEnvironment()
    running = stack_on_free_ports(
        data,
        nats_url=env.nats_url,
        namespace=("br" + uuid.uuid4().hex[:8]) if env.nats_url else "",
        database_urls={c.name: fresh_database_url(f"browser_{c.name}", data / "db") for c in COMPONENTS},
        extra_env={
            "ONEWINDOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ONEWINDOW_COURIER_DELAY_SECONDS": "0.2",
            "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
        },
    )
    try:
        running.start_all()
        running.wait_ready(timeout=90)
        seed(running.gateway_url, ADMIN_PASSWORD)
        yield running
    finally:
        running.stop_all()


# Module-scoped, unlike the platform: Playwright's sync API keeps an event loop running in this
# thread while it is open, and every asyncio test the worker runs after the browser tests would
# then fail to start its own ("Runner.run() cannot be called from a running event loop").
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser build)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: apt-get install -y chromium"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
