"""The event catalogue as an AsyncAPI 3.0 document, generated from the code.

The channels are the contract subjects (``owkernel.contracts.REGISTRY``) as the bus names them on
the wire, each in its producer's JetStream stream; the payloads are the Pydantic models' JSON
schemas inside the CloudEvent; the operations are who sends (the producer) and who receives (each
component's consumer group, through its durable). ``make catalogue`` writes gateway/asyncapi.json,
which the gateway serves at ``GET /asyncapi.json`` (it cannot build it itself: the gateway never
imports the services); a test fails when the committed file is out of date, and another validates
it against the official AsyncAPI 3.0.0 JSON Schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from owkernel.bus import Bus
from owkernel.consumer import ConsumerGroup, durable_name
from owkernel.contracts import REGISTRY, EventSpec
from owkernel.contracts._base import CLOUDEVENTS_CONTENT_TYPE, CloudEvent
from owkernel.outbox import CORRELATION_HEADER
from owkernel.settings import ServiceSettings
from tools.catalogue import consumer_groups

ROOT = Path(__file__).resolve().parent.parent
# Inside the gateway's package: its image holds gateway/ and not docs/ (Dockerfile).
DOCUMENT = ROOT / "gateway" / "asyncapi.json"
ASYNCAPI_VERSION = "3.0.0"
SCHEMAS = "#/components/schemas/"

Schema = dict[str, Any]


# --- the message on the wire ---------------------------------------------------------------------
# Everything about how one event travels (body, content type, headers) is in this section, read
# from the kernel where the kernel says it: when the wire form changes, only this changes.
# Described: the default form, a CloudEvent 1.0 in structured JSON mode (owkernel.contracts.encode).
# Consumers also read the bare envelope that older releases send, and that a relay set to
# wire_form="envelope" sends in a rolling upgrade's first step; the document leaves that out.
CONTENT_TYPE = CLOUDEVENTS_CONTENT_TYPE
HEADERS, BODY = "EventHeaders", "CloudEvent"


def message_headers() -> Schema:
    """The NATS headers the outbox relay sets on every event (``owkernel.outbox.OutboxRelay``)."""
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": {
                "type": "string",
                "description": "The event id: JetStream drops a second copy inside the stream's duplicate window.",
            },
            "Content-Type": {"const": CONTENT_TYPE, "description": "The payload is the whole CloudEvent."},
            CORRELATION_HEADER: {
                "type": "string",
                "description": "The request id that caused the event, when there was one; consumers log it.",
            },
        },
        "required": ["Nats-Msg-Id", "Content-Type"],
    }


def body_schema() -> Schema:
    """The body every event shares: ``owkernel.contracts.CloudEvent`` (its data is any object)."""
    body = CloudEvent.model_json_schema(ref_template=SCHEMAS + "{model}")
    # encode() writes every attribute but correlationid, which it leaves out when there is none.
    body["required"] = [name for name in body["properties"] if name != "correlationid"]
    return body


def message_payload(spec: EventSpec) -> Schema:
    """The body of one event: the CloudEvent, naming this type and version, around its data model."""
    return {
        "allOf": [
            {"$ref": SCHEMAS + BODY},
            {
                "type": "object",
                "properties": {
                    "type": {"const": spec.subject},
                    "eventversion": {"const": spec.version},
                    "data": {"$ref": SCHEMAS + spec.model.__name__},
                },
            },
        ]
    }


# Where a message says which request caused it (AsyncAPI's correlation id).
CORRELATION = {"description": "The request id that caused the event.", "location": "$message.payload#/correlationid"}


# --- the document --------------------------------------------------------------------------------
def schemas() -> dict[str, Schema]:
    """The headers, the body and every event data model (with the models they nest), by name."""
    out: dict[str, Schema] = {}
    top = [(HEADERS, message_headers()), (BODY, body_schema())]
    top += [(s.model.__name__, s.model.model_json_schema(ref_template=SCHEMAS + "{model}")) for s in REGISTRY.values()]
    for name, schema in top:
        nested: dict[str, Schema] = schema.pop("$defs", {})
        for key, body in [(name, schema), *nested.items()]:
            # Two models of one name in two contract modules would overwrite each other here.
            if out.setdefault(key, body) != body:
                raise ValueError(f"two event schemas named {key!r}: rename one model")
    return dict(sorted(out.items()))


def servers() -> dict[str, Schema]:
    """Where the events are: the cluster's NATS (deploy/) and the local run's."""
    local = ServiceSettings.model_fields["nats_url"].default.removeprefix("nats://")
    return {
        "cluster": {
            "host": "nats:4222",
            "protocol": "nats",
            "description": "The JetStream cluster of deploy/ (Service nats, port client). Each component "
            "connects as its own user, allowed to publish only its own subjects (deploy/base/config/nats-auth.conf).",
        },
        "local": {"host": local, "protocol": "nats", "description": "`make run`'s embedded nats-server."},
    }


def operations(bus: Bus, groups: dict[str, ConsumerGroup]) -> dict[str, Schema]:
    """Who sends each event (its producer) and who receives it (each consumer, through its durable)."""
    out: dict[str, Schema] = {}
    for spec in sorted(REGISTRY.values(), key=lambda s: s.subject):
        channel = {"$ref": f"#/channels/{spec.subject}"}
        out[f"{spec.producer}.send.{spec.subject}"] = {
            "action": "send",
            "channel": channel,
            "summary": f"{spec.producer} publishes it through its transactional outbox.",
            "tags": [{"name": spec.producer}],
        }
    for component, group in sorted(groups.items()):
        for producer, subjects in sorted(group.subjects_by_producer().items()):
            for subject in subjects:
                out[f"{component}.receive.{subject}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{subject}"},
                    "summary": f"{component} handles it (durable pull consumer on {bus.stream_name(producer)}).",
                    "tags": [{"name": component}],
                    "x-durable": durable_name(group.service, producer),
                }
    return dict(sorted(out.items()))


def channel(bus: Bus, spec: EventSpec) -> Schema:
    """One subject: its address on the wire, its stream and its one message."""
    return {
        "address": bus.wire_subject(spec.subject),
        "title": spec.subject,
        "summary": spec.summary,
        "messages": {spec.model.__name__: {"$ref": f"#/components/messages/{spec.subject}"}},
        "x-stream": bus.stream_name(spec.producer),
        "x-producer": spec.producer,
    }


def message(spec: EventSpec) -> Schema:
    """One event type as an AsyncAPI message."""
    return {
        "name": spec.model.__name__,
        "title": spec.subject,
        "summary": spec.summary,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": SCHEMAS + HEADERS},
        "payload": message_payload(spec),
        "correlationId": CORRELATION,
        "x-version": spec.version,
    }


def document() -> Schema:
    """The whole AsyncAPI document."""
    # The names on the wire: a deployment uses no namespace (tests prefix one of their own).
    bus = Bus("", name="asyncapi")
    specs = [REGISTRY[s] for s in sorted(REGISTRY)]
    groups = consumer_groups()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "OneWindow events",
            "version": "1.0.0",
            "description": "Every event the OneWindow components publish on NATS JetStream. Generated by "
            "`make catalogue` from libs/owkernel/contracts and each component's consumer group: do not edit. "
            "Each message is a CloudEvent 1.0 in structured JSON mode: `type` is the subject, the extension "
            "`eventversion` the type's version, `correlationid` the request that caused it. "
            "Subjects are `<producer>.<entity>.<past-verb>`, one stream per producer; a breaking change is a "
            "new event type. Consumers are durable pull consumers, idempotent by event id.",
            "tags": [{"name": name} for name in sorted({s.producer for s in specs} | set(groups))],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": servers(),
        "channels": {s.subject: channel(bus, s) for s in specs},
        "operations": operations(bus, groups),
        "components": {
            "messages": {s.subject: message(s) for s in specs},
            "schemas": schemas(),
        },
    }


def render() -> str:
    """The document as committed: stable JSON, one key order."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    DOCUMENT.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {DOCUMENT.relative_to(ROOT)} ({len(REGISTRY)} events)\n")
