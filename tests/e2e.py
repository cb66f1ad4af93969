"""A small front end for the end-to-end stories: HTTP through the gateway, as a browser would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from owtest import credit_code, resident_id
from tools.province import province_login as province_tokens

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll until ``check`` returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what}: not seen within {timeout}s (last: {last!r})")


class Caller:
    """One person at a screen: a token and the gateway."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30.0, trust_env=False)
        self.token = token

    def call(self, method: str, path: str, want: int | tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        r = self.http.request(method, path, headers=headers, **kw)
        wanted = (want,) if isinstance(want, int) else want
        assert r.status_code in wanted, f"{method} {path}: {r.status_code} {r.text[:500]}"
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        return r.json() if r.content and "json" in r.headers.get("content-type", "") else r

    def login(self, account: str, password: str) -> Caller:
        body = self.call("POST", "/api/v1/auth/login", 200, json={"account": account, "password": password})
        self.token = body["access_token"]
        return self


def admin(base_url: str, password: str) -> Caller:
    return Caller(base_url).login("admin", password)


def staff(
    base_url: str, admin_caller: Caller, role: str, department: str | None = None, *, hall: str | None = None
) -> Caller:
    """A new staff account of ``role`` (created by the admin; at ``hall``, else the city's) logged in."""
    username = f"e2e_{role}_{uuid.uuid4().hex[:6]}"
    body: dict[str, Any] = {"username": username, "password": "E2e-Pass-123!", "name": username, "roles": [role]}
    if department:
        body["department"] = department
    if hall:
        body["hall"] = hall
    admin_caller.call("POST", "/api/v1/admin/staff", (200, 201), json=body)
    return Caller(base_url).login(username, "E2e-Pass-123!")


def register(base_url: str, id_number: str, name: str, password: str = "Citizen-Pass-1!") -> Caller:
    """A person or enterprise that typed its number in (self-declared), logged in."""
    Caller(base_url).call(
        "POST",
        "/api/v1/auth/register",
        201,
        json={"id_number": id_number, "name": name, "password": password, "phone": "13800000000"},
    )
    return Caller(base_url).login(id_number, password)


def verify_at_window(base_url: str, clerk: Caller, id_number: str, name: str) -> Caller:
    """The clerk checks the ID card and verifies the number; the person sets a password with the
    one-time code and is logged in (docs/api.md, "Identity assurance")."""
    code = clerk.call("POST", "/api/v1/auth/verifications", 201, json={"id_number": id_number, "name": name})
    pair = Caller(base_url).call(
        "POST",
        "/api/v1/auth/activate",
        200,
        json={"id_number": id_number, "activation_code": code["activation_code"], "password": "Verified-Pass-1!"},
    )
    return Caller(base_url, pair["access_token"])


def province_login(base_url: str, id_number: str, name: str) -> Caller:
    """Log in through the province's unified identity as a browser does (the walk is tools/province.py's)."""
    pair = province_tokens(base_url, id_number, name)
    assert pair is not None, "province login: the gateway answered no redirect to a provider"
    return Caller(base_url, pair["access_token"])


def enterprise(base_url: str, code: str | None = None, name: str = "烟台测试建设有限公司") -> tuple[Caller, str]:
    """A newly registered enterprise, verified through the province's login (the only way for one)."""
    number = code or credit_code()
    register(base_url, number, name)
    return province_login(base_url, number, name), number


def citizen(
    base_url: str, id_number: str | None = None, name: str = "测试居民", *, clerk: Caller
) -> tuple[Caller, str]:
    """A newly registered person, verified at the window by ``clerk``, logged in."""
    number = id_number or resident_id()
    register(base_url, number, name)
    return verify_at_window(base_url, clerk, number, name), number


def new_item(
    admin_caller: Caller,
    *,
    department: str,
    fee_fen: int = 0,
    committed_days: int = 5,
    materials: list[dict[str, Any]] | None = None,
) -> str:
    """A licensing item of its own department, so stories do not disturb each other."""
    code = "E2E-" + uuid.uuid4().hex[:8].upper()
    admin_caller.call(
        "POST",
        "/api/v1/catalog/items",
        (200, 201),
        json={
            "code": code,
            "name": "端到端测试事项",
            "kind": "licensing",
            "department": department,
            "window": "general",
            "legal_days": 20,
            "committed_days": committed_days,
            "trips": 1,
            "online": True,
            "fee_fen": fee_fen,
            "materials": materials
            or [
                {"code": "M1", "name": "申请表", "critical": True},
                {"code": "M2", "name": "补充说明", "critical": False},
            ],
        },
    )
    return code


MAIL = {
    "method": "mail",
    "address": {
        "region_code": "370602001001",
        "detail": "芝罘区南大街1号",
        "recipient": "测试居民",
        "phone": "13800000000",
    },
}


def application(caller: Caller, no: str) -> dict[str, Any]:
    body: dict[str, Any] = caller.call("GET", f"/api/v1/applications/{no}", 200)
    return body


def status_is(caller: Caller, no: str, *statuses: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        body = application(caller, no)
        return body if body["status"] in statuses else None

    return check


def open_task(approver: Caller, no: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        items = approver.call("GET", "/api/v1/tasks", 200, params={"status": "open", "limit": 200})["items"]
        mine = [t for t in items if t["application_no"] == no]
        return mine[0] if mine else None

    return check


ACCEPT_ALL = {"decision": "accept", "deferred_materials": [], "reason": ""}


def accept(clerk: Caller, no: str) -> None:
    """The window accepts a submitted application with nothing deferred."""
    clerk.call("POST", f"/api/v1/applications/{no}/acceptance", (200, 201), json=ACCEPT_ALL)


def approve(approver: Caller, no: str, what: str = "task") -> None:
    """The department's approver waits for the application's open task and approves it."""
    task = wait_for(what, open_task(approver, no), 30)
    approver.call(
        "POST", f"/api/v1/tasks/{task['task_id']}/decision", (200, 201), json={"decision": "approve", "opinion": "同意"}
    )
