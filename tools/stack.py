"""Run the whole platform as real processes: nats-server, migrations, gateway and four services.

Beside them run two outside parties, simulated: the provincial identity provider
(simulators/province), started before the gateway, which is registered with it as its OpenID
Connect client; and the courier companies (simulators/couriers), started before delivery, which
books waybills through their API and hears back through signed webhooks at the gateway. They
stand for the province and the partners in local runs, tests and the bench only: nothing in
deploy/ starts them.

Used by `make run` (tools/run.py), by the cross-service tests in tests/ and by the benchmarks, so
all three start the platform the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from owtest import NatsServer, free_port, subprocess_env

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Component:
    """One deployable: its name, env prefix, app factory, default port and migration tree."""

    name: str
    prefix: str
    factory: str
    default_port: int
    ini: Path


COMPONENTS: tuple[Component, ...] = (
    Component("gateway", "GATEWAY", "gateway.app:create_app", 8000, ROOT / "gateway" / "alembic.ini"),
    Component("intake", "INTAKE", "services.intake.app:create_app", 8001, ROOT / "services/intake/alembic.ini"),
    Component("approval", "APPROVAL", "services.approval.app:create_app", 8002, ROOT / "services/approval/alembic.ini"),
    Component("delivery", "DELIVERY", "services.delivery.app:create_app", 8003, ROOT / "services/delivery/alembic.ini"),
    Component("rating", "RATING", "services.rating.app:create_app", 8004, ROOT / "services/rating/alembic.ini"),
)
BY_NAME = {c.name: c for c in COMPONENTS}

# The simulated provincial identity provider: a process of the stack, not a component (no
# database, no NATS); its readiness is /healthz.
PROVINCE = "province"
# uvicorn's idle keep-alive (see start()); the Dockerfile's commands say the same.
KEEP_ALIVE_SECONDS = "75"
PROVINCE_FACTORY = "simulators.province.app:create_app"
PROVINCE_DEFAULT_PORT = 8010
PROVINCE_CLIENT_ID = "onewindow-gateway"

# The simulated courier companies: a process of the stack (their own SQLite book, no NATS); its
# readiness is /healthz. Not part of the platform: the bench counts its CPU apart.
COURIERS = "couriers"
COURIERS_FACTORY = "simulators.couriers.app:create_app"
COURIERS_DEFAULT_PORT = 8011
CARRIERS = ("sim-express", "sim-post")
# Processes of the stack that stand for outside parties (no /readyz, no migrations).
SIMULATORS = (PROVINCE, COURIERS)


def persistent_secret(path: Path, make: str) -> str:
    """A development secret made once and kept in the data directory, so a second run reuses it."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(make)
    path.chmod(0o600)
    return make


def base_env() -> dict[str, str]:
    """The environment every child gets: ours, plus the import path of the monorepo."""
    return subprocess_env(ROOT)


@dataclass
class Stack:
    """The platform's processes. ``database_urls`` and ``ports`` default to SQLite files under
    ``data_dir`` and the standard ports; ``nats_url`` None starts a nats-server of our own."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    nats_url: str | None = None
    nats_port: int = 14222
    namespace: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    log_json: bool = True
    # The gateway's client secret at the simulated province; empty: made once under data_dir.
    province_client_secret: str = ""
    nats: NatsServer | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        for c in COMPONENTS:
            self.ports.setdefault(c.name, c.default_port)
            self.database_urls.setdefault(c.name, f"sqlite+aiosqlite:///{self.data_dir / (c.name + '.db')}")
        self.ports.setdefault(PROVINCE, PROVINCE_DEFAULT_PORT)
        self.ports.setdefault(COURIERS, COURIERS_DEFAULT_PORT)
        if not self.province_client_secret:
            self.province_client_secret = persistent_secret(
                self.data_dir / "province-client-secret", secrets.token_urlsafe(32)
            )
        # The API keys the simulated carriers gave delivery, made once per data directory.
        self.courier_api_keys: dict[str, str] = json.loads(
            persistent_secret(
                self.data_dir / "courier-api-keys.json",
                json.dumps({carrier: secrets.token_urlsafe(24) for carrier in CARRIERS}),
            )
        )

    # --- addresses ---------------------------------------------------------------------------
    def url(self, name: str) -> str:
        """Base URL of a component."""
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway_url(self) -> str:
        """The one door."""
        return self.url("gateway")

    @property
    def province_url(self) -> str:
        """The simulated province's issuer (what the gateway discovers)."""
        return self.url(PROVINCE)

    def province_env(self) -> dict[str, str]:
        """The simulated province's variables: allowed here, and the gateway as its one client."""
        redirect_uri = f"{self.gateway_url}/api/v1/auth/province/callback"
        clients = {PROVINCE_CLIENT_ID: {"secret": self.province_client_secret, "redirect_uris": [redirect_uri]}}
        return {
            "PROVINCE_SIM_ALLOWED": "true",
            "PROVINCE_SIM_ISSUER": self.province_url,
            "PROVINCE_SIM_HOST": "127.0.0.1",
            "PROVINCE_SIM_PORT": str(self.ports[PROVINCE]),
            "PROVINCE_SIM_CLIENTS": json.dumps(clients),
        }

    @property
    def couriers_url(self) -> str:
        """The simulated courier companies' API (each carrier under /<carrier>)."""
        return self.url(COURIERS)

    def couriers_env(self) -> dict[str, str]:
        """The simulated couriers' variables: allowed here, reporting to the gateway.

        Their webhook secrets and pace are the platform's ONEWINDOW_COURIER_* (extra_env), which
        the simulator reads as its own when no COURIERS_SIM_* value is set.
        """
        return {
            "COURIERS_SIM_ALLOWED": "true",
            "COURIERS_SIM_HOST": "127.0.0.1",
            "COURIERS_SIM_PORT": str(self.ports[COURIERS]),
            "COURIERS_SIM_WEBHOOK_BASE_URL": self.gateway_url,
            "COURIERS_SIM_DATABASE_PATH": str(self.data_dir / "couriers.db"),
            "COURIERS_SIM_API_KEYS": json.dumps(self.courier_api_keys),
        }

    def courier_apis(self) -> str:
        """Delivery's DELIVERY_COURIER_APIS: each carrier's API at the simulator, with its key."""
        return json.dumps(
            {c: {"url": f"{self.couriers_url}/{c}", "api_key": key} for c, key in self.courier_api_keys.items()}
        )

    def component_env(self, c: Component) -> dict[str, str]:
        """The variables one component reads (its own prefix, plus ONEWINDOW_*)."""
        assert self.nats_url is not None
        p = c.prefix
        env = {
            f"{p}_DATABASE_URL": self.database_urls[c.name],
            f"{p}_NATS_URL": self.nats_url,
            f"{p}_NATS_NAMESPACE": self.namespace,
            f"{p}_PORT": str(self.ports[c.name]),
            f"{p}_JWKS_URL": f"{self.gateway_url}/.well-known/jwks.json",
            f"{p}_LOG_JSON": "true" if self.log_json else "false",
            # Traces (owkernel.tracing) follow the OTEL_* variables the stack was given, which every
            # process inherits; each component names itself, as its Deployment does in Kubernetes.
            "OTEL_SERVICE_NAME": c.name,
        }
        if c.name == "gateway":
            for other in COMPONENTS:
                if other.name != "gateway":
                    env[f"GATEWAY_{other.prefix}_URL"] = self.url(other.name)
            env["ONEWINDOW_PROVINCE_ISSUER"] = self.province_url
            env["GATEWAY_PROVINCE_CLIENT_ID"] = PROVINCE_CLIENT_ID
            env["GATEWAY_PROVINCE_CLIENT_SECRET"] = self.province_client_secret
            env["GATEWAY_PUBLIC_URL"] = self.gateway_url
        if c.name == "delivery":
            env["DELIVERY_WEBHOOK_BASE_URL"] = self.gateway_url
            # The partners are the out-of-process simulated couriers, booked over their API.
            env["DELIVERY_COURIER_APIS"] = self.courier_apis()
        if c.name == "intake":
            env.setdefault("INTAKE_STORAGE_DIR", str(self.data_dir / "intake-files"))
        return env

    # --- lifecycle ---------------------------------------------------------------------------
    def start_nats(self) -> None:
        """Start our own nats-server with JetStream on file storage (unless a URL was given)."""
        if self.nats_url is None or self.nats is not None:
            self.nats = self.nats or NatsServer(store_dir=self.data_dir / "nats", port=self.nats_port)
            self.nats.start()
            self.nats_url = self.nats.url

    def migrate(self) -> None:
        """Apply every component's migrations (in parallel: separate databases)."""

        def one(c: Component) -> None:
            env = base_env() | self.extra_env | self.component_env(c)
            result = subprocess.run(
                [sys.executable, "-m", "alembic", "-c", str(c.ini), "upgrade", "head"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"migrations of {c.name} failed:\n{result.stderr[-3000:]}")

        with ThreadPoolExecutor(max_workers=len(COMPONENTS)) as pool:
            list(pool.map(one, COMPONENTS))

    def start(self, name: str) -> None:
        """Start (or restart) one component, or a simulated outside party, as a uvicorn process."""
        if name == PROVINCE:
            factory, env = PROVINCE_FACTORY, base_env() | self.extra_env | self.province_env()
        elif name == COURIERS:
            factory, env = COURIERS_FACTORY, base_env() | self.extra_env | self.couriers_env()
        else:
            c = BY_NAME[name]
            factory, env = c.factory, base_env() | self.extra_env | self.component_env(c)
        log = open(self.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports[name]),
                "--log-level",
                "warning",
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "20",
                # Longer than any caller keeps an idle connection (httpx and the door: 5 s, an
                # ingress: 60 s): at equal timeouts a caller may send on a connection in the instant
                # the server closes it, and a POST sent so is lost (the client sees ReadError).
                "--timeout-keep-alive",
                KEEP_ALIVE_SECONDS,
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_all(self) -> None:
        """nats-server, migrations, the simulated province and couriers, then every component."""
        self.start_nats()
        self.migrate()
        for name in SIMULATORS:
            self.start(name)
        for c in COMPONENTS:
            self.start(c.name)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        """Block until each ``/readyz`` (a simulator's ``/healthz``) answers 200 (else raise with the log tail)."""
        pending = list(names or [*SIMULATORS, *(c.name for c in COMPONENTS)])
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while pending:
                for name in list(pending):
                    proc = self.processes.get(name)
                    if proc is not None and proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
                    try:
                        probe = "/healthz" if name in SIMULATORS else "/readyz"
                        if client.get(f"{self.url(name)}{probe}").status_code == 200:
                            pending.remove(name)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"not ready after {timeout}s: {pending}\n" + "\n".join(self.log_tail(n) for n in pending)
                    )
                if pending:
                    time.sleep(0.2)

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines a component logged."""
        path = self.data_dir / "logs" / f"{name}.log"
        if not path.exists():
            return f"({name}: no log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {name} log ---\n" + "\n".join(text)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send a signal to a component (kill -9 by default) and wait for it to die."""
        proc = self.processes.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=30)

    def stop(self, name: str, timeout: float = 25.0) -> None:
        """Graceful stop of one component (SIGTERM, then SIGKILL after ``timeout``)."""
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every component, then nats-server."""
        with ThreadPoolExecutor(max_workers=len(COMPONENTS) + 1) as pool:
            list(pool.map(self.stop, list(self.processes)))
        if self.nats is not None:
            self.nats.stop()

    def dead(self) -> Mapping[str, int]:
        """Components whose process has exited, with their exit codes."""
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}


def test_stack(
    data_dir: Path,
    *,
    nats_url: str | None,
    database_urls: dict[str, str] | None = None,
    namespace: str = "",
    extra_env: dict[str, str] | None = None,
) -> Stack:
    """A stack on free ports (tests run beside `make run` and each other)."""
    ports = {c.name: free_port() for c in COMPONENTS} | {name: free_port() for name in SIMULATORS}
    return Stack(
        data_dir=data_dir,
        ports=ports,
        database_urls=dict(database_urls or {}),
        nats_url=nats_url,
        nats_port=free_port(),
        namespace=namespace,
        extra_env=dict(extra_env or {}),
        log_json=False,
    )
