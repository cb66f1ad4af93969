"""The event envelope, the registry of event types, and the rules every event obeys.

Every event type is a frozen Pydantic model registered once under its subject
(``<producer>.<entity>.<past-verb>``). The registry is the single truth: the bus, the outbox,
the consumers and the generated catalogue all read it. Registering a name twice fails at import.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

PRODUCERS = ("gateway", "intake", "approval", "delivery", "rating")


class EventData(BaseModel):
    """Base of every event's data: frozen, JSON round-trippable, tolerant of new fields."""

    # extra="ignore": a producer may add optional fields before every consumer knows them.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """What travels on NATS: the versioned envelope around one event's data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=64)
    type: str
    version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    correlation_id: str | None = None
    data: dict[str, JsonValue]


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


def decode(raw: bytes) -> tuple[Envelope, EventData]:
    """Parse an envelope from the wire and validate its data against the registered model.

    Raises ``UnknownEventError`` or ``pydantic.ValidationError`` for a message that can never be
    handled (the consumer dead-letters it).
    """
    envelope = Envelope.model_validate_json(raw)
    spec = REGISTRY.get(envelope.type)
    if spec is None:
        raise UnknownEventError(f"unknown event type {envelope.type!r}")
    return envelope, spec.model.model_validate(envelope.data)


def encode(envelope: Envelope) -> bytes:
    """The envelope's wire form (JSON bytes)."""
    return envelope.model_dump_json().encode()
