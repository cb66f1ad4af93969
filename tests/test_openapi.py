"""The API's schema tells the whole truth: every operation of every component documents the
problem statuses the kernel can answer for it, each with the one problem+json schema, and the
gateway's merged document adds what the door itself answers. (The live check is tests/test_fuzz.py.)"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from gateway.door.openapi import merge
from owkernel.errors import PROBLEM_JSON

APPS = {
    "gateway": "gateway.app",
    "intake": "services.intake.app",
    "approval": "services.approval.app",
    "delivery": "services.delivery.app",
    "rating": "services.rating.app",
}


def document(component: str) -> dict[str, Any]:
    doc: dict[str, Any] = importlib.import_module(APPS[component]).create_app().openapi()
    return doc


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


@pytest.mark.parametrize("component", list(APPS))
def test_every_operation_documents_its_problems(component: str) -> None:
    doc = document(component)
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "HTTPValidationError" not in str(doc)  # FastAPI's 422 shape is not what we answer
    found = operations(doc)
    assert found, component
    for method, path, op in found:
        codes = {int(code) for code in op["responses"] if code.isdigit()}
        assert {400, 503} <= codes, (method, path)
        if "{" in path:
            assert 404 in codes, (method, path)
        if method != "GET":
            assert 409 in codes, (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert 422 in codes, (method, path)
        for code in codes:
            if code >= 400:
                content = op["responses"][str(code)]["content"]
                assert content == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                    method,
                    path,
                    code,
                )


def test_the_merged_document_adds_what_the_door_answers() -> None:
    own = document("gateway")
    services = {name: document(name) for name in APPS if name != "gateway"}
    prefixes = {
        "intake": ["/api/v1/catalog", "/api/v1/applications"],
        "approval": ["/api/v1/tasks"],
        "delivery": ["/api/v1/shipments"],
        "rating": ["/api/v1/ratings"],
    }
    merged = merge(own, services, prefixes)
    login = merged["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert {"429", "413"} <= set(login) and "502" not in login  # the gateway's own route
    proxied = merged["paths"]["/api/v1/applications/{no}"]["get"]["responses"]
    assert {"401", "429", "502", "504"} <= set(proxied)
    assert merged["components"]["schemas"]["Problem"] == own["components"]["schemas"]["Problem"]
    assert not any(name.endswith("__Problem") for name in merged["components"]["schemas"])
