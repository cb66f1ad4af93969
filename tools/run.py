"""`make run`: the whole platform on embedded defaults, in one terminal.

Starts nats-server with JetStream (file storage under .data/), applies every migration, starts
the simulated provincial identity provider and courier companies, the gateway and the four
services, waits until each is ready, loads the demo data,
prints the URLs and demo logins, restarts a child that dies (saying so), and stops everything
cleanly on Ctrl-C.
"""

from __future__ import annotations

import base64
import json
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools.ports import port_problems
from tools.seed import DemoLogin, seed
from tools.stack import (
    COMPONENTS,
    COURIERS,
    COURIERS_DEFAULT_PORT,
    PROVINCE,
    PROVINCE_DEFAULT_PORT,
    ROOT,
    SIMULATORS,
    Stack,
    persistent_secret,
)


class RunSettings(BaseSettings):
    """What the local run reads from its environment (everything has a default)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=ROOT / ".data", validation_alias=AliasChoices("ONEWINDOW_DATA_DIR"))
    nats_url: str | None = Field(default=None, validation_alias=AliasChoices("NATS_URL"))
    nats_port: int = Field(default=14222, validation_alias=AliasChoices("ONEWINDOW_NATS_PORT"))
    admin_password: str | None = Field(default=None, validation_alias=AliasChoices("ONEWINDOW_ADMIN_PASSWORD"))
    courier_secrets: str | None = Field(default=None, validation_alias=AliasChoices("ONEWINDOW_COURIER_SECRETS"))
    courier_delay_seconds: float = Field(default=2.0, validation_alias=AliasChoices("ONEWINDOW_COURIER_DELAY_SECONDS"))
    gateway_port: int = Field(default=8000, validation_alias=AliasChoices("GATEWAY_PORT"))
    intake_port: int = Field(default=8001, validation_alias=AliasChoices("INTAKE_PORT"))
    approval_port: int = Field(default=8002, validation_alias=AliasChoices("APPROVAL_PORT"))
    delivery_port: int = Field(default=8003, validation_alias=AliasChoices("DELIVERY_PORT"))
    rating_port: int = Field(default=8004, validation_alias=AliasChoices("RATING_PORT"))
    province_port: int = Field(default=PROVINCE_DEFAULT_PORT, validation_alias=AliasChoices("PROVINCE_SIM_PORT"))
    couriers_port: int = Field(default=COURIERS_DEFAULT_PORT, validation_alias=AliasChoices("COURIERS_SIM_PORT"))
    seed_demo: bool = Field(default=True, validation_alias=AliasChoices("ONEWINDOW_SEED_DEMO"))
    ready_timeout: float = Field(default=90.0, validation_alias=AliasChoices("ONEWINDOW_READY_TIMEOUT"))


def main() -> int:
    """Run until Ctrl-C."""
    settings = RunSettings()
    ports = {c.name: getattr(settings, f"{c.name}_port") for c in COMPONENTS} | {
        PROVINCE: settings.province_port,
        COURIERS: settings.couriers_port,
    }
    if not _ports_free(settings, ports):
        return 2
    data = settings.data_dir.resolve()
    admin_password, courier_secrets = _dev_secrets(settings, data)
    stack = Stack(
        data_dir=data,
        ports=ports,
        nats_url=settings.nats_url,
        nats_port=settings.nats_port,
        extra_env={
            "ONEWINDOW_ADMIN_PASSWORD": admin_password,
            "ONEWINDOW_COURIER_SECRETS": courier_secrets,
            "ONEWINDOW_COURIER_DELAY_SECONDS": str(settings.courier_delay_seconds),
        },
    )
    stop = _Stop()
    signal.signal(signal.SIGINT, stop.on_signal)
    signal.signal(signal.SIGTERM, stop.on_signal)
    try:
        _say(f"data directory {data}")
        _start(stack, ready_timeout=settings.ready_timeout)
        logins = seed(stack.gateway_url, admin_password) if settings.seed_demo else []
        _say("ready")
        _welcome(stack, courier_secrets=courier_secrets, admin_password=admin_password, logins=logins)
        _supervise(stack, stop)
    except Exception as exc:  # noqa: BLE001 - say what broke, then stop what was started
        _say(f"failed: {exc}")
        stack.stop_all()
        return 1
    _say("stopping")
    stack.stop_all()
    _say("stopped")
    return 0


def _say(message: str) -> None:
    print(f"[onewindow] {message}", flush=True)


def _ports_free(settings: RunSettings, ports: dict[str, int]) -> bool:
    """Every port before anything starts; False (having said why) when one cannot be used."""
    # A gateway port taken by another stack would otherwise surface later as that stack's login
    # refusing ours, with "address in use" only in a log file.
    wanted = ports | ({} if settings.nats_url else {"nats": settings.nats_port})
    if problems := port_problems(wanted):
        for problem in problems:
            print(f"[onewindow] cannot start: {problem}", file=sys.stderr, flush=True)
        print("[onewindow] nothing was started.", file=sys.stderr, flush=True)
        return False
    return True


def _dev_secrets(settings: RunSettings, data: Path) -> tuple[str, str]:
    """The admin password and the couriers' webhook secrets: given, else made once under ``data``."""
    admin_password = settings.admin_password or persistent_secret(
        data / "admin-password", "Dev-" + secrets.token_urlsafe(12)
    )
    courier_secrets = settings.courier_secrets or persistent_secret(
        data / "courier-secrets.json",
        # Standard Webhooks secrets are "whsec_" + base64 of the key bytes (strict decoders reject
        # anything else).
        json.dumps(
            {c: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode() for c in ("sim-express", "sim-post")}
        ),
    )
    return admin_password, courier_secrets


def _start(stack: Stack, *, ready_timeout: float) -> None:
    """nats-server, the migrations, the simulators, every component; then wait until all are ready."""
    stack.start_nats()
    _say(f"nats-server with JetStream at {stack.nats_url}")
    stack.migrate()
    _say("migrations applied (gateway, intake, approval, delivery, rating)")
    # Before the gateway, which discovers the province (its client secret is kept in the data
    # directory), and before delivery, which books waybills with the couriers.
    for name in SIMULATORS:
        stack.start(name)
    for c in COMPONENTS:
        stack.start(c.name)
    stack.wait_ready(timeout=ready_timeout)


def _welcome(stack: Stack, *, courier_secrets: str, admin_password: str, logins: list[DemoLogin]) -> None:
    """The URLs, where the logs are, and the logins to try."""
    print(f"\n  Open the console: {stack.gateway_url}/\n")
    print(f"  Gateway (the one door):  {stack.gateway_url}   API docs: {stack.gateway_url}/docs")
    for c in COMPONENTS[1:]:
        print(f"  {c.name:<24} {stack.url(c.name)}")
    print(f"  nats-server:             {stack.nats_url}")
    print(f"  province login (sim):    {stack.province_url}   simulated, never in production")
    print(f"  couriers (sim):          {stack.couriers_url}   simulated partners, never in production")
    print(f"  logs:                    {stack.data_dir / 'logs'}")
    print(f"  courier secrets:         {courier_secrets}")
    if logins:
        print("\n  Demo logins (account / password):")
        for login in logins:
            print(f"    {login.account:<22} {login.password:<22} {login.who}")
    else:
        # Only here, on this terminal: the gateway never logs it (its logs go to files).
        print(f"\n  Admin login (account / password): admin / {admin_password}")
    print("\n  Ctrl-C stops everything.\n", flush=True)


@dataclass
class _Stop:
    """Set by SIGINT or SIGTERM: the supervising loop ends and everything is stopped."""

    requested: bool = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """The signal handler."""
        self.requested = True


def _supervise(stack: Stack, stop: _Stop) -> None:
    """Restart a child that dies (saying so, with its log's tail), and nats-server, until stopped."""
    restarts: dict[str, int] = {}
    while not stop.requested:
        for name, code in stack.dead().items():
            restarts[name] = restarts.get(name, 0) + 1
            _say(f"{name} exited with code {code}; restarting (restart #{restarts[name]})")
            print(stack.log_tail(name, 10), flush=True)
            time.sleep(min(0.5 * restarts[name], 5.0))
            stack.start(name)
        if stack.nats is not None and stack.nats.process is not None and stack.nats.process.poll() is not None:
            _say("nats-server exited; restarting it")
            stack.nats.process = None
            stack.nats.start()
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
