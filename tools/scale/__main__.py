"""The long form of the scale runs, with figures: ``make scale-figures`` (or ``python -m tools.scale``).

1. throughput on PostgreSQL with one replica of every component, then with two (a fresh platform
   each, the same three-node JetStream cluster form);
2. on the two-replica platform, under load: the intake stream's leader node killed (how long the
   cluster takes to elect a new leader, and how long requests waited meanwhile), one replica of
   every service killed, intake's PostgreSQL backends terminated for 3 s; then the checks;
3. a rolling restart of every replica under load; then the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tools.scale.platform import ScalePlatform
from tools.scale.runs import chaos, describe, rollout, throughput


async def measured_throughput(replicas: int, citizens: int, seconds: float) -> tuple[float, int]:
    """Throughput of a fresh platform of ``replicas`` replicas."""
    with tempfile.TemporaryDirectory() as tmp:
        platform = ScalePlatform(Path(tmp), replicas=replicas)
        try:
            await asyncio.to_thread(platform.start)
            return await throughput(platform, citizens=citizens, seconds=seconds)
        finally:
            await asyncio.to_thread(platform.stop)


async def main(citizens: int, seconds: float) -> int:
    """Every run of the long form; the exit status says whether every check held."""
    one = await measured_throughput(1, citizens, seconds)
    two = await measured_throughput(2, citizens, seconds)
    print(f"\n== throughput on PostgreSQL, {citizens} citizens in closed loops, {seconds:g}s")
    print(f"  one replica of each component:  {one[0]:.1f} applications/s ({one[1]} completed)")
    print(f"  two replicas of each component: {two[0]:.1f} applications/s ({two[1]} completed)")
    with tempfile.TemporaryDirectory() as tmp:
        platform = ScalePlatform(Path(tmp))
        try:
            await asyncio.to_thread(platform.start)
            chaotic = await chaos(platform, citizens=citizens, warm=citizens * 2, pause=5.0)
            print(describe("chaos under load", chaotic))
            rolled = await rollout(platform, citizens=citizens, warm=citizens)
            print(describe("rolling restart under load", rolled))
        finally:
            await asyncio.to_thread(platform.stop)
    return 1 if chaotic.problems() or rolled.problems() else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=8, help="citizens applying at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each throughput run lasts")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.citizens, args.seconds)))
