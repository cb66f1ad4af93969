"""Demo data for the local run, loaded through the public API as an administrator would.

Nothing is written into a service's database directly: the catalog goes through intake's bulk
import, staff through the gateway's admin API, a demo citizen and enterprise through
registration. Running it twice changes nothing (existing records answer 409, which is fine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from stdnum.cn import ric, uscc

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "demo" / "catalog.yaml"
DEMO_PASSWORD = "Demo-Pass-2026!"


@dataclass(frozen=True)
class DemoLogin:
    """One account the local run prints."""

    account: str
    password: str
    who: str


def demo_resident_id() -> str:
    """A valid GB 11643 number in Zhifu district, Yantai (370602), born 1985-01-01."""
    body = "37060219850101001"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


def demo_credit_code() -> str:
    """A valid GB 32100 unified social credit code for a Yantai enterprise."""
    body = "91370602MA3C0000"
    body = body + "0"
    return body + uscc.calc_check_digit(body)


def catalog_departments(path: Path = CATALOG) -> list[str]:
    """Every department code the demo catalog names."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("items", data) if isinstance(data, dict) else data
    found: set[str] = set()
    for item in items:
        found.add(str(item["department"]))
        found.update(str(d) for d in item.get("departments") or [])
    return sorted(found)


def _ok(response: httpx.Response, what: str) -> None:
    if response.status_code not in (200, 201, 409):
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")


def seed(gateway_url: str, admin_password: str) -> list[DemoLogin]:
    """Load the demo catalog, staff for every role and department, a citizen and an enterprise."""
    logins = [DemoLogin("admin", admin_password, "administrator")]
    with httpx.Client(base_url=gateway_url, timeout=30.0, trust_env=False) as client:
        r = client.post("/api/v1/auth/login", json={"account": "admin", "password": admin_password})
        if r.status_code != 200:
            raise RuntimeError(f"admin login failed: {r.status_code} {r.text[:200]}")
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        if CATALOG.exists():
            with CATALOG.open("rb") as fh:
                r = client.post(
                    "/api/v1/catalog/import", headers=admin, files={"file": ("catalog.yaml", fh, "application/yaml")}
                )
            _ok(r, "catalog import")
        staff: list[tuple[str, list[str], str | None, str]] = [
            ("clerk", ["clerk"], None, "window clerk (一窗受理)"),
            ("supervisor", ["supervisor"], None, "supervisor (电子监察)"),
            ("finance", ["finance"], None, "finance (courier bills)"),
        ]
        if CATALOG.exists():
            for department in catalog_departments():
                staff.append((f"approver_{department.lower()}", ["approver"], department, f"approver of {department}"))
        for username, roles, dept, who in staff:
            body: dict[str, Any] = {"username": username, "password": DEMO_PASSWORD, "name": username, "roles": roles}
            if dept:
                body["department"] = dept
            _ok(client.post("/api/v1/admin/staff", headers=admin, json=body), f"staff {username}")
            logins.append(DemoLogin(username, DEMO_PASSWORD, who))
        for number, name, who in (
            (demo_resident_id(), "张三", "citizen"),
            (demo_credit_code(), "烟台示范科技有限公司", "enterprise"),
        ):
            r = client.post(
                "/api/v1/auth/register",
                json={"id_number": number, "name": name, "password": DEMO_PASSWORD, "phone": "13800000000"},
            )
            _ok(r, f"register {who}")
            logins.append(DemoLogin(number, DEMO_PASSWORD, who))
    return logins
