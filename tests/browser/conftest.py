"""Browser tests: the web console driven in Debian's Chromium through Playwright."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the web console in headless Chromium (Debian's chromium)")
