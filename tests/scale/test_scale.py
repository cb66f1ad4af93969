"""Scale-out, proved (issue 23): nothing lost and no failed request while nodes die under load.

Short form (CI): a few citizens, one kill of each kind. ``python -m tools.scale`` is the long
form that prints the figures.
"""

from __future__ import annotations

import pytest

from tools.scale.platform import ScalePlatform
from tools.scale.runs import chaos, describe, rollout

pytestmark = pytest.mark.scale


async def test_chaos_under_load_loses_nothing(scaled: ScalePlatform) -> None:
    outcome = await chaos(scaled, citizens=3, warm=2, pause=1.0)
    print(describe("chaos under load", outcome))
    assert outcome.election is not None and outcome.election.new_leader != outcome.election.old_leader
    assert outcome.terminated > 0  # the service's connections were really cut
    assert outcome.started > 0 and outcome.completed == outcome.started
    assert outcome.problems() == []
    # Only retryable errors reached a client, never a 500: any server error was a 503 with Retry-After.
    assert all(status == 503 or status < 500 for status in outcome.seen.statuses)


async def test_rolling_restart_under_load_fails_no_request(scaled: ScalePlatform) -> None:
    outcome = await rollout(scaled, citizens=3, warm=2)
    print(describe("rolling restart under load", outcome))
    assert len(outcome.rolled) == 2 * 5
    assert outcome.started > 0 and outcome.completed == outcome.started
    assert outcome.problems() == []
    assert all(status < 500 for status in outcome.seen.statuses), outcome.seen.statuses
