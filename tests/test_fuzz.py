"""Fuzzed APIs: schemathesis against the merged OpenAPI through the gateway, as each role, finds no
server error, no undocumented status, no response off its schema or its content type; and for every
by-id read, another applicant gets 403 or 404."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import ACCEPT_ALL, MAIL, PDF, Caller, accept, citizen, new_item, staff, wait_for
from tests.harness import ADMIN_PASSWORD, Platform, running_platform

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("fuzz")]


# Its own xdist group (the fuzzer is the longest single module: it should not queue behind the
# stories on one worker) and a session-scoped platform under its own name, started once.
@pytest.fixture(scope="session")
def fuzzed_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of the fuzzer's own: what it creates, cancels or rotates must not reach the stories."""
    yield from running_platform(tmp_path_factory)


ROLES = ("citizen", "clerk", "approver", "supervisor", "admin")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
# The applicant and the administrator reach the most operations: every phase, the stateful one
# following the links schemathesis infers (create, then read what was created). The other roles
# get the random phase only, which keeps `make test` short.
PHASES = {"citizen": "examples,coverage,fuzzing,stateful", "admin": "examples,coverage,fuzzing,stateful"}


def token_for(platform: Platform, role: str) -> str:
    root = Caller(platform.url).login("admin", ADMIN_PASSWORD)
    if role == "admin":
        assert root.token
        return root.token
    if role == "citizen":
        me, _ = citizen(platform.url, clerk=staff(platform.url, root, "clerk"))
        assert me.token
        return me.token
    who = staff(platform.url, root, role, "DRC" if role == "approver" else None)
    assert who.token
    return who.token


@pytest.mark.parametrize("role", ROLES)
def test_the_schema_tells_the_whole_truth(fuzzed_platform: Platform, role: str, tmp_path: Path) -> None:
    platform = fuzzed_platform
    token = token_for(platform, role)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{platform.url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "4",
            "--phases",
            PHASES.get(role, "fuzzing"),
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "20",
            "--seed",
            "2026",
            "--exclude-path-regex",
            "^/api/v1/(calendar|auth/logout)",  # would change the platform under other tests
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    # The failures section names each operation and case; the summary after it is long.
    start = output.find("= FAILURES =")
    tail = output[start : start + 8000] if start != -1 else output[-6000:]
    assert result.returncode == 0, f"schemathesis as {role} found failures:\n{tail}"
    assert "passed" in result.stdout, f"schemathesis ran nothing as {role}:\n{tail}"
    print(result.stdout[-600:])


def test_another_applicant_cannot_read_what_is_not_theirs(fuzzed_platform: Platform) -> None:
    platform = fuzzed_platform
    url = platform.url
    root = Caller(url).login("admin", ADMIN_PASSWORD)
    item = new_item(root, department="DRC", fee_fen=100, materials=[{"code": "M1", "name": "申请表", "critical": True}])
    clerk = staff(url, root, "clerk")
    owner, _ = citizen(url, clerk=clerk)
    other, _ = citizen(url, clerk=clerk)
    no = owner.call("POST", "/api/v1/applications", 201, json={"item_code": item, "delivery": MAIL})["application_no"]
    owner.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    owner.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    accept(clerk, no)
    payment = owner.call("POST", "/api/v1/payments", (200, 201), json={"application_no": no})
    wait_for("accepted", lambda: owner.call("GET", f"/api/v1/applications/{no}", 200)["status"] == "accepted")

    refused = (403, 404)
    other.call("GET", f"/api/v1/applications/{no}", refused)
    other.call("GET", f"/api/v1/applications/{no}/materials/M1", refused)
    other.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", refused, files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    other.call("POST", f"/api/v1/applications/{no}/submit", refused)
    other.call(
        "PUT",
        f"/api/v1/applications/{no}/supplements/M1",
        (*refused, 409, 422),
        files={"file": ("M1.pdf", PDF, "application/pdf")},
    )
    other.call("GET", f"/api/v1/payments/{payment['payment_id']}", refused)
    other.call("POST", "/api/v1/payments", refused, json={"application_no": no})
    shipments = other.http.get(
        "/api/v1/shipments", params={"application_no": no}, headers={"Authorization": f"Bearer {other.token}"}
    )
    assert shipments.status_code in refused or shipments.json()["items"] == [], shipments.text
    other.call("POST", "/api/v1/ratings", (*refused, 409), json={"application_no": no, "score": 1})
    mine = other.call("GET", "/api/v1/applications", 200)["items"]
    assert all(row["application_no"] != no for row in mine)
    other.call(
        "POST",
        f"/api/v1/applications/{no}/acceptance",
        403,
        json=ACCEPT_ALL,
    )
    other.call("GET", "/api/v1/tasks", 403)
