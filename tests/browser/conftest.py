"""Browser tests: the web console driven in Debian's Chromium through Playwright."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the web console in headless Chromium (Debian's chromium)")


# axe-core findings at these impacts fail a test; "moderate" and "minor" are left to review.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def assert_accessible(page: Page) -> None:
    """Run axe-core in the page and fail on any serious or critical violation, listing each."""
    results = Axe().run(page)
    found = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + "; ".join(" ".join(node.get("target", [])) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation.get("impact") in BLOCKING_IMPACTS
    ]
    assert found == [], f"accessibility violations on {page.url}:\n" + "\n".join(found)
