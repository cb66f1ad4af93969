"""A three-node NATS JetStream cluster on loopback, as processes: what deploy/ runs as a StatefulSet.

Each node has its own ports (clients, routes), server name and store directory; every node routes
to the others. A node can be killed (-9) and started again on the same ports and store, which
is how a pod of the StatefulSet comes back.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from owtest import free_port, nats_server_binary, wait_for_port

CLUSTER_NAME = "onewindow"


@dataclass
class NatsNode:
    """One nats-server of the cluster."""

    name: str
    port: int
    cluster_port: int
    store_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def config(self, routes: list[int]) -> str:
        """The node's configuration file (nats-server's own format)."""
        route_urls = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in routes)
        return (
            f'server_name: "{self.name}"\n'
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: "{self.store_dir / "js"}" }}\n'
            f'cluster {{ name: "{CLUSTER_NAME}", listen: "127.0.0.1:{self.cluster_port}", routes: [{route_urls}] }}\n'
        )


@dataclass
class NatsCluster:
    """Three clustered nats-servers with JetStream; ``urls`` is what a client is given."""

    data_dir: Path
    size: int = 3
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.nodes:
            self.nodes = [
                NatsNode(f"n{i + 1}", free_port(), free_port(), self.data_dir / f"n{i + 1}") for i in range(self.size)
            ]

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [node.url for node in self.nodes]

    def node(self, name: str) -> NatsNode:
        """The node called ``name`` (n1, n2, n3)."""
        return next(n for n in self.nodes if n.name == name)

    def start(self) -> NatsCluster:
        """Start every node (not yet started) and wait until each listens."""
        for node in self.nodes:
            if node.process is None:
                self._launch(node)
        for node in self.nodes:
            wait_for_port(node.port, timeout=20)
        return self

    def _launch(self, node: NatsNode) -> None:
        node.store_dir.mkdir(parents=True, exist_ok=True)
        conf = node.store_dir / "nats.conf"
        conf.write_text(node.config([n.cluster_port for n in self.nodes if n is not node]))
        log = open(node.store_dir / "nats-server.log", "ab")  # noqa: SIM115 - owned by the process
        node.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def restart(self, name: str) -> None:
        """Start a stopped or killed node again on its ports and store."""
        node = self.node(name)
        if node.process is None:
            self._launch(node)
            wait_for_port(node.port, timeout=20)

    def kill(self, name: str) -> None:
        """kill -9 one node."""
        node = self.node(name)
        if node.process is not None:
            node.process.kill()
            node.process.wait(timeout=10)
            node.process = None

    def stop(self) -> None:
        """Stop every node (SIGTERM: a node leaves the cluster cleanly)."""
        for node in self.nodes:
            if node.process is not None:
                node.process.terminate()
        deadline = time.monotonic() + 15
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=5)
                node.process = None
