"""The README's first command: `make run` on a fresh data directory reaches ready, serves the
contract's main road (the shared smoke test passes through it), and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from owtest import free_port, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT.parent / "shared" / "contract" / "smoke.py"

pytestmark = [pytest.mark.makerun, pytest.mark.xdist_group("stack")]
# The processes of `make run` that listen, by the prefix of their port setting.
PROCESSES = ("GATEWAY", "INTAKE", "APPROVAL", "DELIVERY", "RATING", "PROVINCE_SIM", "COURIERS_SIM")


class Lines:
    """The child's output, line by line, read by a thread (select() on a buffered pipe would
    miss lines already sitting in Python's buffer)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert proc.stdout is not None
        stream = proc.stdout

        def pump() -> None:
            for line in stream:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, needle: str, timeout: float) -> bool:
        """Read until a line contains ``needle``; False on timeout or end of output."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.queue.get(timeout=left)
            except queue.Empty:
                return False
            if line is None:
                return False
            self.seen.append(line)
            if needle in line:
                return True
        return False


def test_make_run_serves_the_main_road_and_stops_cleanly(tmp_path: Path) -> None:
    assert SMOKE.exists(), f"the shared contract smoke test is missing at {SMOKE}"
    ports = {name: free_port() for name in PROCESSES}
    env = subprocess_env(ROOT) | {f"{name}_PORT": str(port) for name, port in ports.items()}
    env |= {
        "ONEWINDOW_DATA_DIR": str(tmp_path / "data"),
        "ONEWINDOW_NATS_PORT": str(free_port()),
        "ONEWINDOW_ADMIN_PASSWORD": "Admin-Test-Pass-1!",
        "ONEWINDOW_COURIER_DELAY_SECONDS": "0.3",
    }
    env.pop("NATS_URL", None)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out = Lines(proc)
    seen = out.seen
    try:
        assert out.until("[onewindow] ready", 150), "make run never got ready:\n" + "".join(seen)
        assert out.until("Ctrl-C stops everything", 30), "no banner:\n" + "".join(seen)
        banner = "".join(seen)
        assert f"http://127.0.0.1:{ports['GATEWAY']}" in banner and "admin" in banner
        # The simulated couriers are a process of the run, on their own port.
        assert f"couriers (sim):          http://127.0.0.1:{ports['COURIERS_SIM']}" in banner
        # The first thing the banner says is where to click.
        after_ready = banner.split("[onewindow] ready", 1)[1].strip().splitlines()
        assert after_ready[0].strip() == f"Open the console: http://127.0.0.1:{ports['GATEWAY']}/"
        smoke = subprocess.run(
            [
                sys.executable,
                str(SMOKE),
                "--gateway",
                f"http://127.0.0.1:{ports['GATEWAY']}",
                "--admin-password",
                "Admin-Test-Pass-1!",
                "--timeout",
                "60",
            ],
            env=subprocess_env(ROOT),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert smoke.returncode == 0, f"smoke failed:\n{smoke.stdout}\n{smoke.stderr}"
        assert "smoke passed" in smoke.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    stopped = out.until("[onewindow] stopped", 60)
    proc.wait(timeout=30)
    # Ctrl-C reaches make too, which then reports the interrupt; what matters is that the
    # platform said it stopped and left nothing listening.
    assert stopped, "make run did not stop cleanly:\n" + "".join(seen[-30:])
    import socket

    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"


@pytest.mark.parametrize(
    ("held", "setting"),
    [
        ("GATEWAY", "GATEWAY_PORT"),
        ("DELIVERY", "DELIVERY_PORT"),
        ("PROVINCE_SIM", "PROVINCE_SIM_PORT"),
        ("COURIERS_SIM", "COURIERS_SIM_PORT"),
        ("NATS", None),
    ],
)
def test_a_port_in_use_is_named_with_its_setting_and_nothing_starts(
    tmp_path: Path, held: str, setting: str | None
) -> None:
    import socket

    ports = {name: free_port() for name in PROCESSES}
    nats_port = free_port()
    env = subprocess_env(ROOT) | {f"{name}_PORT": str(port) for name, port in ports.items()}
    env |= {"ONEWINDOW_DATA_DIR": str(tmp_path / "data"), "ONEWINDOW_NATS_PORT": str(nats_port)}
    env.pop("NATS_URL", None)
    taken = nats_port if held == "NATS" else ports[held]
    setting = setting or "ONEWINDOW_NATS_PORT"
    with socket.socket() as holder:
        # Another program listening on the port, as a second `make run`'s gateway would be.
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        run = subprocess.run(
            [sys.executable, "-m", "tools.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert run.returncode == 2, run.stdout + run.stderr
    said = run.stderr
    assert f"port {taken}" in said and f"{setting}=" in said and "already in use" in said, said
    assert "nothing was started" in said
    # Nothing ran: no data directory made, no other port taken, no banner.
    assert not (tmp_path / "data").exists()
    assert "ready" not in run.stdout
    for port in ports.values():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
