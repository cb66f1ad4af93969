"""The suite's own machinery: `make test` runs with ``-n 2 --dist loadgroup`` so that the tests of
one ``xdist_group`` share one worker (and its session-scoped platform). pytest 9.2 broke that
silently (pytest-dev/pytest-xdist#1386): the groups were ignored, every worker started its own
platforms and module-scoped ones were started again and again. This test notices if it recurs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("suite")


def test_an_xdist_group_reaches_the_scheduler(request: pytest.FixtureRequest) -> None:
    # xdist's loadgroup tells the scheduler a test's group by suffixing its node id with
    # "@<group>" on the worker (where it sets option.loadgroup; its "dist" option reads "no"
    # there); without --dist loadgroup the id must stay as collected.
    grouped = bool(getattr(request.config.option, "loadgroup", False))
    assert request.node.nodeid.endswith("@suite") is grouped, request.node.nodeid
