"""Run the test consumer in its own process and die (kill -9 style, no cleanup) at the first ack:
the batch's transaction has committed, its acknowledgements never leave. Used by test_backbone."""

from __future__ import annotations

import asyncio
import os
import sys

from nats.aio.msg import Msg

from owtest.backbone import Consumer


async def _ack_then_die(self: Msg) -> None:
    os._exit(9)


async def main(url: str, nats_url: str, namespace: str) -> None:
    Msg.ack = _ack_then_die  # type: ignore[method-assign]
    await Consumer.start(url, nats_url, namespace)
    await asyncio.sleep(60)  # the first batch ends the process long before this


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
