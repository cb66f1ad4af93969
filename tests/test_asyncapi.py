"""The AsyncAPI document (tools/asyncapi.py): current, valid AsyncAPI 3.0.0, true to the wire and
to the consumers, and served by the gateway at ``GET /asyncapi.json``.

The official AsyncAPI 3.0.0 JSON Schema is vendored in tests/asyncapi/ (its README says from where):
the check runs offline.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from owkernel.contracts import REGISTRY, EventData, EventSpec, encode, make_envelope
from owkernel.contracts._base import CLOUDEVENTS_CONTENT_TYPE
from owkernel.outbox import CORRELATION_HEADER
from owtest import ServiceRunner, SigningKeys
from tools.asyncapi import DOCUMENT, render
from tools.catalogue import consumers_by_subject

ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI_SCHEMA = ROOT / "tests" / "asyncapi" / "asyncapi-3.0.0.json"
GATEWAY_INI = ROOT / "gateway" / "alembic.ini"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The committed document."""
    doc: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return doc


def asyncapi_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def test_document_is_current() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "stale: run `make catalogue`"


def test_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    validator = asyncapi_validator()
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors)
    assert document["asyncapi"] == "3.0.0"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("channels", "intake.application.accepted", "adress"), "a misspelt key"),
        (("operations", "intake.send.intake.application.accepted", "action"), "publish"),
        (("servers", "cluster", "protocol"), 4222),
    ],
)
def test_the_schema_check_rejects_a_broken_document(
    document: dict[str, Any], where: tuple[str, ...], value: Any
) -> None:
    broken = copy.deepcopy(document)
    node = broken
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    assert list(asyncapi_validator().iter_errors(broken)), f"{where} = {value!r} passed the schema"


def test_channels_and_operations_follow_the_code(document: dict[str, Any]) -> None:
    """One channel per registered event in its producer's stream; one send by the producer; one
    receive per consuming component, as its consumer group says."""
    assert set(document["channels"]) == set(REGISTRY)
    operations = document["operations"]
    for subject, consumers in consumers_by_subject().items():
        spec = REGISTRY[subject]
        channel = document["channels"][subject]
        assert channel["address"] == subject and channel["x-stream"] == spec.producer.upper()
        ref = {"$ref": f"#/channels/{subject}"}
        senders = [k for k, o in operations.items() if o["channel"] == ref and o["action"] == "send"]
        receivers = [k.split(".")[0] for k, o in operations.items() if o["channel"] == ref and o["action"] == "receive"]
        assert senders == [f"{spec.producer}.send.{subject}"]
        assert sorted(receivers) == sorted(consumers), subject
        for name in receivers:
            assert operations[f"{name}.receive.{subject}"]["x-durable"] == f"{name}-from-{spec.producer}"


def payload_validator(document: dict[str, Any], subject: str, part: str) -> jsonschema.Validator:
    """A validator of one message's payload or headers; the document's $refs resolve in it."""
    schema = {"$ref": f"#/components/messages/{subject}/{part}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("spec", list(REGISTRY.values()), ids=lambda s: s.subject)
def test_every_event_on_the_wire_matches_its_message(document: dict[str, Any], spec: EventSpec) -> None:
    """What the outbox publishes (encode(make_envelope(...)), a CloudEvent) is what the document describes."""
    payload = payload_validator(document, spec.subject, "payload")
    headers = payload_validator(document, spec.subject, "headers")
    other = next(s for s in REGISTRY if s != spec.subject)

    @settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(st.builds(spec.model))
    def check(data: EventData) -> None:
        for correlation_id in ("c-1", None):
            body = json.loads(encode(make_envelope(data, source=spec.producer, correlation_id=correlation_id)))
            payload.validate(body)
        headers.validate({"Nats-Msg-Id": body["id"], "Content-Type": CLOUDEVENTS_CONTENT_TYPE, CORRELATION_HEADER: "c"})
        assert not payload.is_valid({**body, "type": other}), "another event's type passed"
        assert not payload.is_valid({**body, "eventversion": spec.version + 1}), "another version passed"
        assert not payload.is_valid({k: v for k, v in body.items() if k != "data"})

    check()
    assert not headers.is_valid({"Content-Type": CLOUDEVENTS_CONTENT_TYPE}), "a message without Nats-Msg-Id passed"
    assert document["components"]["messages"][spec.subject]["contentType"] == CLOUDEVENTS_CONTENT_TYPE


async def test_the_gateway_serves_the_document(
    database_url: str, nats_url: str, namespace: str, signing_keys: SigningKeys
) -> None:
    settings = GatewaySettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_namespace=namespace,
        log_json=False,
        log_level="WARNING",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )
    runner = ServiceRunner(create_app=create_gateway, settings=settings, ini_path=GATEWAY_INI, keys=signing_keys)
    async with runner as gateway:
        response = await gateway.client.get("/asyncapi.json")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json() == json.loads(DOCUMENT.read_text(encoding="utf-8"))
        assert "/asyncapi.json" not in (await gateway.client.get("/openapi.json")).json()["paths"]
