"""The bus's connection to a NATS cluster named by several URLs."""

from __future__ import annotations

from owkernel.bus import Bus
from owtest import free_port


async def test_a_setting_naming_several_nodes_connects_past_one_that_is_down(nats_url: str, namespace: str) -> None:
    # GATEWAY_NATS_URL=nats://a:4222,nats://b:4222,... as a three-node cluster is configured: the
    # first node is down (no one listens on its port), the client goes on to the next.
    down = f"nats://127.0.0.1:{free_port()}"
    bus = Bus(f"{down}, {nats_url}", name="bus-test", namespace=namespace)
    assert bus.servers == [down, nats_url]
    try:
        await bus.connect(timeout=2.0)
        await bus.ping()
    finally:
        await bus.close()
