"""The platform scaled out, as processes on this machine: two replicas of every component.

What Kubernetes would run from deploy/, with the same engines: a three-node NATS JetStream
cluster (streams with three replicas), the machine's PostgreSQL with one database per service,
two uvicorn replicas of the gateway and of each service, and the simulated partners. Each
replica index is a ``tools.stack.Stack`` (so a replica starts exactly as `make run` starts a
component); the stacks share the databases, the NATS namespace and the province registration,
and every gateway replica is given the URLs of every replica of each service (the list form of
``GATEWAY_<SVC>_URL``), where Kubernetes gives it the Service's one address.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from owtest import drop_database, free_port, fresh_database_url
from tools.scale.cluster import NatsCluster
from tools.stack import COMPONENTS, SIMULATORS, Component, Stack

SERVICES = tuple(c.name for c in COMPONENTS if c.name != "gateway")
# The platform's settings for the scale runs: fast couriers, no rate limit (every caller is
# 127.0.0.1), quick outbox and consumer retries so a recovery shows within seconds.
SCALE_ENV = {
    "ONEWINDOW_COURIER_DELAY_SECONDS": "0.2",
    "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
    "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
    # Periodic jobs every second on both replicas, so a round two replicas both ran would show
    # (as a duplicate row or a failed job in a log) within the run.
    "APPROVAL_CARD_SCAN_INTERVAL_SECONDS": "1",
    "APPROVAL_DIGEST_CHECK_SECONDS": "1",
    "INTAKE_OVERDUE_SCAN_SECONDS": "1",
    "RATING_ASSESSMENT_CHECK_SECONDS": "1",
    "GATEWAY_PAYMENT_SWEEP_SECONDS": "1",
    # This machine's PostgreSQL allows 100 connections, shared with every other test run: ten
    # replicas with a pool of 3 (6 with overflow) use at most 60, one more while a replica rolls.
    # (The prod overlay gives each pod 5 against its own server's larger limit.)
    **{f"{c.prefix}_DATABASE_POOL_SIZE": "3" for c in COMPONENTS},
}


@dataclass
class ReplicaStack(Stack):
    """The stack of one replica index; its gateway reaches every index's replica of each service."""

    peers: list[Stack] = field(default_factory=list)
    nats_urls: list[str] = field(default_factory=list)

    def component_env(self, c: Component) -> dict[str, str]:
        """The stack's variables, with each service's upstream list for the gateway and the three
        stream replicas."""
        env = super().component_env(c)
        env[f"{c.prefix}_NATS_STREAM_REPLICAS"] = str(len(self.nats_urls))
        if c.name == "gateway":
            for other in COMPONENTS:
                if other.name != "gateway":
                    env[f"GATEWAY_{other.prefix}_URL"] = ",".join(peer.url(other.name) for peer in self.peers)
        return env


@dataclass
class ScalePlatform:
    """Every replica of every component, the NATS cluster and the databases."""

    data_dir: Path
    replicas: int = 2
    admin_password: str = "Scale-Admin-Pass-1!"
    extra_env: dict[str, str] = field(default_factory=dict)
    cluster: NatsCluster = field(init=False)
    stacks: list[ReplicaStack] = field(init=False, default_factory=list)
    database_urls: dict[str, str] = field(init=False, default_factory=dict)
    namespace: str = field(init=False, default_factory=lambda: "scale" + uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.cluster = NatsCluster(self.data_dir / "nats")
        # A fresh PostgreSQL database per component (ONEWINDOW_TEST_PG_URL names the server).
        self.database_urls = {c.name: fresh_database_url(f"scale_{c.name}", self.data_dir) for c in COMPONENTS}
        # One of each simulated outside party (province, couriers), shared by every replica.
        outside = {name: free_port() for name in SIMULATORS}
        secret = uuid.uuid4().hex
        env = SCALE_ENV | {"ONEWINDOW_ADMIN_PASSWORD": self.admin_password} | self.extra_env
        for index in range(self.replicas):
            stack = ReplicaStack(
                data_dir=self.data_dir / f"r{index}",
                ports={c.name: free_port() for c in COMPONENTS} | outside,
                database_urls=dict(self.database_urls),
                # Each replica is handed every node, in a different order, as a pod would be.
                nats_url=self._nats_url(index),
                namespace=self.namespace,
                extra_env=dict(env),
                log_json=False,
                province_client_secret=secret,
                nats_urls=self.cluster.urls,
            )
            self.stacks.append(stack)
        for stack in self.stacks:
            stack.peers = list(self.stacks)
            # Every delivery replica books with the one courier simulator, under its keys.
            stack.courier_api_keys = self.stacks[0].courier_api_keys

    def _nats_url(self, index: int) -> str:
        # Every node, starting at a different one per replica (nats-py shuffles them anyway).
        urls = self.cluster.urls
        start = index % len(urls)
        return ",".join(urls[start:] + urls[:start])

    # --- addresses -------------------------------------------------------------------------
    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway replica (a client's load balancer has them all)."""
        return [stack.gateway_url for stack in self.stacks]

    def replica_names(self) -> Iterator[tuple[int, str]]:
        """(replica index, component) of every replica, gateways last."""
        for name in (*SERVICES, "gateway"):
            for index in range(self.replicas):
                yield index, name

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> None:
        """NATS cluster, migrations, the simulated partners, every replica; wait until all are ready."""
        self.cluster.start()
        first = self.stacks[0]
        first.migrate()
        for name in SIMULATORS:
            first.start(name)
        # Every replica at once, as a Deployment's pods start: two gateways on the empty database
        # both try to make the bootstrap admin (bootstrap_admin retries the loser: gateway/jobs.py,
        # gateway/tests/test_start_race.py) and may each make a signing key (both are published;
        # a kid one replica has not loaded yet makes it reload: gateway/tokens/keys.py).
        for stack in self.stacks:
            for c in COMPONENTS:
                stack.start(c.name)
        for index, stack in enumerate(self.stacks):
            names = [c.name for c in COMPONENTS] + (list(SIMULATORS) if index == 0 else [])
            stack.wait_ready(names, timeout=timeout)

    def stop(self) -> None:
        """Every process we started: replicas (gracefully), then the NATS cluster; the databases go."""
        with ThreadPoolExecutor(max_workers=len(self.stacks)) as pool:
            list(pool.map(lambda s: s.stop_all(), self.stacks))
        self.cluster.stop()
        for url in self.database_urls.values():
            asyncio.run(drop_database(url))

    def kill(self, index: int, name: str) -> None:
        """kill -9 one replica."""
        self.stacks[index].kill(name, signal.SIGKILL)

    def restart(self, index: int, name: str, timeout: float = 90.0) -> float:
        """Start a replica again and wait until it is ready; the seconds it took."""
        started = time.monotonic()
        self.stacks[index].start(name)
        self.stacks[index].wait_ready([name], timeout=timeout)
        return time.monotonic() - started

    def roll(self, index: int, name: str, timeout: float = 90.0) -> float:
        """Replace one replica as a rollout does: SIGTERM (graceful drain), start it again, wait for ready."""
        self.stacks[index].stop(name)
        return self.restart(index, name, timeout)

    def log_lines(self, needle: str) -> list[str]:
        """Lines of every replica's log holding ``needle``."""
        found = []
        for stack in self.stacks:
            for path in sorted((stack.data_dir / "logs").glob("*.log")):
                found += [f"{path.parent.parent.name}/{path.name}: {line}" for line in _lines_with(path, needle)]
        return found

    def ready(self, index: int, name: str) -> bool:
        """True when the replica answers /readyz with 200."""
        try:
            return httpx.get(f"{self.stacks[index].url(name)}/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False


def _lines_with(path: Path, needle: str) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if needle in line]
