"""Where `make run` listens: each process of the stack's port setting, and why a port cannot be
used (taken by another run, or given to two processes), checked before anything starts."""

from __future__ import annotations

import socket
from collections.abc import Mapping

from tools.stack import BY_NAME, COURIERS, PROVINCE

NATS_PORT_SETTING = "ONEWINDOW_NATS_PORT"


def port_setting(name: str) -> str:
    """The variable that moves a process of the stack to another port."""
    if name == PROVINCE:
        return "PROVINCE_SIM_PORT"
    if name == COURIERS:
        return "COURIERS_SIM_PORT"
    if name == "nats":
        return NATS_PORT_SETTING
    return f"{BY_NAME[name].prefix}_PORT"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (what uvicorn and nats-server are about to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a port left in TIME_WAIT by an earlier run is free, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_problems(ports: Mapping[str, int]) -> list[str]:
    """Why the stack cannot listen where ``ports`` (process name -> port) says: one line per clash."""
    problems: list[str] = []
    first_user: dict[int, str] = {}
    for name, port in ports.items():
        setting = port_setting(name)
        if port in first_user:
            other = first_user[port]
            problems.append(
                f"{name} and {other} are both set to port {port}; "
                f"give {setting} (or {port_setting(other)}) another port"
            )
            continue
        first_user[port] = name
        if not port_is_free(port):
            problems.append(
                f"port {port} ({name}) is already in use, perhaps by another `make run`; stop that, "
                f"or move {name} with {setting}=<free port>, e.g. {setting}={port + 100} make run"
            )
    return problems
