"""The event envelope, the registry of event types, and the rules every event obeys.

Every event type is a frozen Pydantic model registered once under its subject
(``<producer>.<entity>.<past-verb>``). The registry is the single truth: the bus, the outbox,
the consumers and the generated catalogue all read it. Registering a name twice fails at import.

On the wire an event is a CloudEvent 1.0 in the JSON event format (structured content mode), so
that tools which speak CloudEvents read our streams without an adapter. The NATS protocol binding
(v1.0.2) defines only the structured mode: the whole event is the message payload. We keep it
rather than the binary mode (attributes as ``ce-`` headers) of later drafts because the payload
alone is then the event: the outbox row stores it and the relay publishes it unchanged, and a dead
letter (which keeps only the payload) can be replayed without the headers it arrived with.
``Envelope`` stays the in-memory shape handlers receive; ``encode`` and ``decode`` map it to and
from the wire, and ``decode`` still reads the older bare envelope for a rolling upgrade (see
docs/conventions.md, "Events on the wire: CloudEvents").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag, TypeAdapter
from pydantic_core import to_json

PRODUCERS = ("gateway", "intake", "approval", "delivery", "rating")


class EventData(BaseModel):
    """Base of every event's data: frozen, JSON round-trippable, tolerant of new fields."""

    # extra="ignore": a producer may add optional fields before every consumer knows them.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """The versioned envelope around one event's data: what handlers receive. On NATS it travels
    as a CloudEvent (``encode``); releases before CloudEvents sent it as it is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=64)
    type: str
    version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    correlation_id: str | None = None
    data: dict[str, JsonValue]


CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
WireForm = Literal["cloudevents", "envelope"]
"""How events go on the wire: CloudEvents (the default), or the bare envelope that releases before
CloudEvents published and that a rolling upgrade's first step must still emit."""


class CloudEvent(BaseModel):
    """An envelope as a CloudEvent 1.0 in the JSON event format.

    The envelope's fields map to CloudEvents' own attributes (``occurred_at`` is ``time``); what
    CloudEvents lacks travels as extension attributes, whose names the spec restricts to
    lowercase letters and digits: ``eventversion`` (the contract's version of the type) and
    ``correlationid``. ``source`` stays the producer's name, a valid relative URI-reference, and
    ``type`` the contract subject, so the catalogue names events as they appear on the wire.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: AwareDatetime
    datacontenttype: str = Field(default="application/json", pattern=r"^application/json\s*(;.*)?$")
    eventversion: int = 1
    correlationid: str | None = None
    data: dict[str, JsonValue]


class _ParsedCloudEvent(CloudEvent):
    """A CloudEvent read from JSON text: the same rules, but ``data`` is not checked value by
    value as JSON, which anything JSON text parses to already is (a third of a decode's time)."""

    data: dict[str, Any]


def _wire_form(value: Any) -> WireForm | None:
    # Told apart by the one attribute every CloudEvent has and no envelope had.
    if isinstance(value, dict):
        return "cloudevents" if "specversion" in value else "envelope"
    return None


_WIRE: TypeAdapter[CloudEvent | Envelope] = TypeAdapter(
    Annotated[
        Annotated[CloudEvent, Tag("cloudevents")] | Annotated[Envelope, Tag("envelope")],
        Discriminator(_wire_form),
    ]
)
# Our encoder writes specversion first and an envelope starts with its id, so the relay can tell
# the form of an outbox row without parsing it.
_CLOUDEVENT_PREFIX = b'{"specversion"'


@dataclass(frozen=True)
class EventSpec:
    """One registered event type."""

    subject: str
    version: int
    model: type[EventData]
    producer: str
    summary: str

    @property
    def stream(self) -> str:
        """The JetStream stream (one per producer) that holds this event."""
        return self.producer.upper()


class UnknownEventError(LookupError):
    """An envelope names a type that is not registered (a poison message for consumers)."""


REGISTRY: dict[str, EventSpec] = {}
_BY_MODEL: dict[type[EventData], EventSpec] = {}

D = TypeVar("D", bound=EventData)


def event(subject: str, *, summary: str, version: int = 1) -> Callable[[type[D]], type[D]]:
    """Register an event data model under ``subject``; a duplicate subject fails at import."""
    parts = subject.split(".")
    if len(parts) != 3 or parts[0] not in PRODUCERS or not all(p and p.replace("_", "").isalnum() for p in parts):
        raise ValueError(f"event subject {subject!r} is not <producer>.<entity>.<past-verb>")

    def register(model: type[D]) -> type[D]:
        if subject in REGISTRY:
            raise ValueError(f"event {subject!r} is registered twice")
        spec = EventSpec(subject=subject, version=version, model=model, producer=parts[0], summary=summary)
        REGISTRY[subject] = spec
        _BY_MODEL[model] = spec
        return model

    return register


def spec_for(data: EventData | type[EventData]) -> EventSpec:
    """The registered spec of an event data instance or class."""
    model = data if isinstance(data, type) else type(data)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise UnknownEventError(f"{model.__name__} is not a registered event") from None


def make_envelope(data: EventData, *, source: str, correlation_id: str | None = None) -> Envelope:
    """Wrap event data in a new envelope (new id, now)."""
    spec = spec_for(data)
    return Envelope(
        type=spec.subject,
        version=spec.version,
        source=source,
        correlation_id=correlation_id,
        data=data.model_dump(mode="json"),
    )


def read_envelope(raw: bytes) -> Envelope:
    """The envelope of a message in either wire form (a CloudEvent, or a bare envelope)."""
    wire: CloudEvent | Envelope
    if raw.startswith(_CLOUDEVENT_PREFIX):
        # What our encoder wrote (nearly every message): straight to the CloudEvent, no union.
        wire = _ParsedCloudEvent.model_validate_json(raw)
    else:
        wire = _WIRE.validate_json(raw)
        if isinstance(wire, Envelope):
            return wire
    # Validated just now as a CloudEvent: nothing left to check, so no second validation.
    return Envelope.model_construct(
        id=wire.id,
        type=wire.type,
        version=wire.eventversion,
        occurred_at=wire.time,
        source=wire.source,
        correlation_id=wire.correlationid,
        data=wire.data,
    )


def decode(raw: bytes) -> tuple[Envelope, EventData]:
    """Parse an event from the wire (either form) and validate its data against the registered model.

    Raises ``UnknownEventError`` or ``pydantic.ValidationError`` for a message that can never be
    handled (the consumer dead-letters it).
    """
    envelope = read_envelope(raw)
    spec = REGISTRY.get(envelope.type)
    if spec is None:
        raise UnknownEventError(f"unknown event type {envelope.type!r}")
    return envelope, spec.model.model_validate(envelope.data)


def encode(envelope: Envelope, *, form: WireForm = "cloudevents") -> bytes:
    """The envelope's wire form: a CloudEvent in JSON (or the bare envelope, for old consumers)."""
    if form == "envelope":
        return envelope.model_dump_json().encode()
    # The envelope was validated when it was made, so no CloudEvent model is built: the attributes
    # go straight to pydantic's JSON writer, in CloudEvent's field order (specversion first, which
    # in_wire_form relies on). An absent correlation id is left out: CloudEvents has no nulls.
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "time": envelope.occurred_at,
        "datacontenttype": "application/json",
        "eventversion": envelope.version,
    }
    if envelope.correlation_id is not None:
        attributes["correlationid"] = envelope.correlation_id
    attributes["data"] = envelope.data
    return to_json(attributes)


def in_wire_form(raw: bytes, form: WireForm) -> bytes:
    """A stored event (either form) as ``form``: unchanged if it already is, else re-encoded.

    Tells the forms apart by how our encoder starts a CloudEvent, which holds for every payload
    our outbox wrote; only a row of the other form is parsed.
    """
    if raw.startswith(_CLOUDEVENT_PREFIX) == (form == "cloudevents"):
        return raw
    return encode(read_envelope(raw), form=form)
