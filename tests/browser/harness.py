"""What the browser tests share: Debian's Chromium and how it is started, the seeded admin's
password, and the accessibility check every page passes."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_PASSWORD = "Admin-Browser-Pass-1!"


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
