"""The single event contract of the platform: every event type, importable from one place.

Importing this package registers every event; ``REGISTRY`` maps subject to spec.
"""

from owkernel.contracts import approval, common, delivery, gateway, intake, rating
from owkernel.contracts._base import (
    PRODUCERS,
    REGISTRY,
    Envelope,
    EventData,
    EventSpec,
    UnknownEventError,
    decode,
    encode,
    event,
    make_envelope,
    spec_for,
)

__all__ = [
    "PRODUCERS",
    "REGISTRY",
    "Envelope",
    "EventData",
    "EventSpec",
    "UnknownEventError",
    "approval",
    "common",
    "decode",
    "delivery",
    "encode",
    "event",
    "gateway",
    "intake",
    "make_envelope",
    "rating",
    "spec_for",
]
