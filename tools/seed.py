"""Demo data for the local run, loaded through the public API as an administrator would.

Nothing is written into a service's database directly: the catalog goes through intake's bulk
import, staff through the gateway's admin API, a demo citizen and enterprise through
registration. The citizen is then verified as at a window (the demo clerk's verification and the
activation code); the enterprise, which only the province can verify, through the simulated
province login when it runs. Two county halls join the city's (with a window clerk each), and
half a year of the figures each hall published before the platform went live is imported
(``POST /api/v1/figures/history``), so the board has history to show. Running it twice changes
nothing (existing records answer 409, which is fine; a verified account is left as it is; the
history is imported only while no month has any).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml
from stdnum.cn import ric, uscc

from tools.province import province_login

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "demo" / "catalog.yaml"
DEMO_PASSWORD = "Demo-Pass-2026!"
# The counties' halls beside the city's: (county digits of the region code, hall code, name).
COUNTY_HALLS = (("02", "ZICHUAN", "淄川区政务服务中心"), ("03", "ZHANGDIAN", "张店区政务服务中心"))
HISTORY_MONTHS = 6
ENTERPRISE_NAME = "烟台示范科技有限公司"
# The halls' calendar (the services' default time zone): the months are the halls' months.
HALL_ZONE = ZoneInfo("Asia/Shanghai")


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


def _bearer(body: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def _verified(client: httpx.Client, account: str) -> bool:
    """True when ``account`` logs in with the demo password and is verified already."""
    r = client.post("/api/v1/auth/login", json={"account": account, "password": DEMO_PASSWORD})
    if r.status_code != 200:
        return False
    return bool(client.get("/api/v1/auth/me", headers=_bearer(r.json())).json().get("assurance") == "verified")


def _verify_at_window(client: httpx.Client, number: str, name: str) -> None:
    """The demo clerk checks the demo citizen's ID card; the activation code sets the demo password."""
    r = client.post("/api/v1/auth/login", json={"account": "clerk", "password": DEMO_PASSWORD})
    if r.status_code != 200:
        raise RuntimeError(f"clerk login failed: {r.status_code} {r.text[:200]}")
    r = client.post("/api/v1/auth/verifications", headers=_bearer(r.json()), json={"id_number": number, "name": name})
    _ok(r, "window verification")
    body = {"id_number": number, "activation_code": r.json()["activation_code"], "password": DEMO_PASSWORD}
    r = client.post("/api/v1/auth/activate", json=body)
    if r.status_code != 200:
        raise RuntimeError(f"activation: {r.status_code} {r.text[:200]}")


def _verify_through_province(client: httpx.Client, number: str, name: str) -> bool:
    """The demo enterprise proven through the simulated province, then given the demo password."""
    pair = province_login(str(client.base_url).rstrip("/"), number, name)
    if pair is None:
        return False
    r = client.put("/api/v1/auth/password", headers=_bearer(pair), json={"password": DEMO_PASSWORD})
    if r.status_code != 204:
        raise RuntimeError(f"enterprise password: {r.status_code} {r.text[:200]}")
    return True


def _months_before(today: date, n: int) -> list[str]:
    """The ``n`` months before ``today``'s, oldest first (``YYYY-MM``)."""
    index = today.year * 12 + today.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(n, 0, -1)]


def history_figures(halls: list[str], months: list[str]) -> list[dict[str, Any]]:
    """Plausible published figures for each hall's months before the platform (the city's are larger,
    the online share grows month by month); the same every run."""
    rows: list[dict[str, Any]] = []
    for h, hall in enumerate(halls):
        scale = 1.0 if h == 0 else 0.25 + 0.05 * h
        for k, month in enumerate(months):
            wobble = (k * 7 + h * 3) % 5
            rows.append(
                {
                    "month": month,
                    "hall": hall,
                    "applications": int((1800 + 60 * k + 25 * wobble) * scale),
                    "online_share": round(0.42 + 0.06 * k + 0.01 * h, 4),
                    "zero_trip_share": round(0.48 + 0.04 * k, 4),
                    "one_trip_share": round(0.38 - 0.02 * k, 4),
                    "deferred_share": round(0.05 + 0.004 * wobble, 4),
                    "on_time_rate": round(0.975 + 0.003 * k, 4),
                    "red_cards": max(0, 3 - k - h),
                    "consultations_on_time_rate": round(0.96 + 0.006 * k, 4),
                    "satisfaction_rate": round(0.994 + 0.0008 * k, 4),
                    "projects_count": int((9 + wobble) * scale) + 1,
                    "projects_key": int((5 + wobble % 2) * scale) + 1,
                    "projects_investment_fen": int((2_300_000_000 + 150_000_000 * wobble) * scale) * 100,
                }
            )
    return rows


def _seed_halls(client: httpx.Client, admin: dict[str, str]) -> list[tuple[str, str]]:
    """The counties' halls (the city's exists from the start); [] when the platform has no halls."""
    r = client.get("/api/v1/halls", params={"limit": 100})
    if r.status_code != 200:
        return []
    city = next((x for x in r.json()["items"] if x["code"] == "CITY"), None)
    if city is None:
        return []
    halls = [("CITY", city["name"])]
    for digits, code, name in COUNTY_HALLS:
        region = city["region_code"][:4] + digits + "000000"
        body = {"code": code, "name": name, "level": "county", "region_code": region}
        _ok(client.post("/api/v1/halls", headers=admin, json=body), f"hall {code}")
        halls.append((code, name))
    return halls


def _seed_history(client: httpx.Client, admin: dict[str, str], halls: list[str], today: date) -> None:
    """Import the months before the platform once: a run that finds any imported month leaves them."""
    months = _months_before(today, HISTORY_MONTHS)
    r = client.get("/api/v1/figures", params={"from": months[0], "to": months[-1]})
    _ok(r, "figures")
    if any(m["source"] == "imported" for m in r.json()["months"]):
        return
    r = client.post("/api/v1/figures/history", headers=admin, json={"months": history_figures(halls, months)})
    _ok(r, "figures history")


def seed(gateway_url: str, admin_password: str) -> list[DemoLogin]:
    """Load the demo catalog, staff for every role and department, a citizen and an enterprise."""
    logins = [DemoLogin("admin", admin_password, "administrator")]
    with httpx.Client(base_url=gateway_url, timeout=30.0, trust_env=False) as client:
        admin = _admin(client, admin_password)
        if CATALOG.exists():
            _import_catalog(client, admin)
        logins += _seed_staff(client, admin)
        citizen, enterprise = demo_resident_id(), demo_credit_code()
        for number, name, who in ((citizen, "张三", "citizen"), (enterprise, ENTERPRISE_NAME, "enterprise")):
            r = client.post(
                "/api/v1/auth/register",
                json={"id_number": number, "name": name, "password": DEMO_PASSWORD, "phone": "13800000000"},
            )
            _ok(r, f"register {who}")
        halls = _seed_halls(client, admin)
        logins += _seed_hall_clerks(client, admin, halls[1:])
        _seed_history(client, admin, [code for code, _ in halls] or ["CITY"], datetime.now(HALL_ZONE).date())
        logins += _verify_applicants(client, citizen=citizen, enterprise=enterprise)
    return logins


def _admin(client: httpx.Client, admin_password: str) -> dict[str, str]:
    """The administrator's headers (a bearer token from logging in)."""
    r = client.post("/api/v1/auth/login", json={"account": "admin", "password": admin_password})
    if r.status_code != 200:
        raise RuntimeError(f"admin login failed: {r.status_code} {r.text[:200]}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _import_catalog(client: httpx.Client, admin: dict[str, str]) -> None:
    """The demo catalog, imported as an administrator would upload it."""
    with CATALOG.open("rb") as fh:
        r = client.post(
            "/api/v1/catalog/import", headers=admin, files={"file": ("catalog.yaml", fh, "application/yaml")}
        )
    _ok(r, "catalog import")


def _seed_staff(client: httpx.Client, admin: dict[str, str]) -> list[DemoLogin]:
    """A clerk, a supervisor, a finance officer, and an approver of every department of the catalog."""
    staff: list[tuple[str, list[str], str | None, str]] = [
        ("clerk", ["clerk"], None, "window clerk (一窗受理)"),
        ("supervisor", ["supervisor"], None, "supervisor (电子监察)"),
        ("finance", ["finance"], None, "finance (courier bills)"),
    ]
    if CATALOG.exists():
        for department in catalog_departments():
            staff.append((f"approver_{department.lower()}", ["approver"], department, f"approver of {department}"))
    logins: list[DemoLogin] = []
    for username, roles, dept, who in staff:
        body: dict[str, Any] = {"username": username, "password": DEMO_PASSWORD, "name": username, "roles": roles}
        if dept:
            body["department"] = dept
        _ok(client.post("/api/v1/admin/staff", headers=admin, json=body), f"staff {username}")
        logins.append(DemoLogin(username, DEMO_PASSWORD, who))
    return logins


def _seed_hall_clerks(client: httpx.Client, admin: dict[str, str], halls: list[tuple[str, str]]) -> list[DemoLogin]:
    """A window clerk for each county's hall."""
    logins: list[DemoLogin] = []
    for code, name in halls:
        username = f"clerk_{code.lower()}"
        body = {"username": username, "password": DEMO_PASSWORD, "name": username, "roles": ["clerk"], "hall": code}
        _ok(client.post("/api/v1/admin/staff", headers=admin, json=body), f"staff {username}")
        logins.append(DemoLogin(username, DEMO_PASSWORD, f"window clerk of {name}"))
    return logins


def _verify_applicants(client: httpx.Client, *, citizen: str, enterprise: str) -> list[DemoLogin]:
    """The citizen verified at the window; the enterprise through the province, when it can be."""
    if not _verified(client, citizen):
        _verify_at_window(client, citizen, "张三")
    logins = [DemoLogin(citizen, DEMO_PASSWORD, "citizen (verified at the window)")]
    if _verified(client, enterprise) or _verify_through_province(client, enterprise, ENTERPRISE_NAME):
        logins.append(DemoLogin(enterprise, DEMO_PASSWORD, "enterprise (verified through the province)"))
    else:
        # Only the province verifies an enterprise: without its simulator it stays self-declared.
        logins.append(DemoLogin(enterprise, DEMO_PASSWORD, "enterprise (self-declared: no province login)"))
    return logins
