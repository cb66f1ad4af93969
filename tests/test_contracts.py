"""The single event contract: every event round-trips (as the CloudEvent it goes on the wire as,
and as the bare envelope older releases published), names follow the rule, every consumed
subject has a producer that really publishes it, and the published catalogue is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from owkernel.contracts import REGISTRY, EventData, EventSpec, decode, encode, event, make_envelope
from tools.catalogue import consumers_by_subject, readme_with_catalogue, render

ROOT = Path(__file__).resolve().parent.parent
PRODUCER_DIRS = {
    "gateway": ROOT / "gateway",
    "intake": ROOT / "services/intake",
    "approval": ROOT / "services/approval",
    "delivery": ROOT / "services/delivery",
    "rating": ROOT / "services/rating",
}


@pytest.mark.parametrize("spec", list(REGISTRY.values()), ids=lambda s: s.subject)
def test_every_event_round_trips(spec: EventSpec) -> None:
    @settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(st.builds(spec.model))
    def round_trip(data: EventData) -> None:
        envelope = make_envelope(data, source=spec.producer, correlation_id="c-1")
        wire = encode(envelope)
        decoded_envelope, decoded = decode(wire)
        assert decoded_envelope == envelope
        assert decoded == data
        assert decoded_envelope.type == spec.subject and decoded_envelope.version == spec.version
        # What a CloudEvents reader makes of the same bytes.
        message = HTTPMessage(headers={"content-type": "application/cloudevents+json"}, body=wire)
        cloud_event = from_http(message, JSONFormat(), CloudEvent)
        assert cloud_event.get_specversion() == "1.0" and cloud_event.get_type() == spec.subject
        assert cloud_event.get_id() == envelope.id and cloud_event.get_source() == spec.producer
        assert cloud_event.get_time() == envelope.occurred_at
        assert cloud_event.get_extension("eventversion") == spec.version
        assert cloud_event.get_extension("correlationid") == "c-1"
        assert cloud_event.get_data() == envelope.data
        # The older wire form still reads as the same event (a rolling upgrade's old producers).
        assert decode(encode(envelope, form="envelope")) == (envelope, data)

    round_trip()


def test_subjects_follow_the_naming_rule() -> None:
    for subject, spec in REGISTRY.items():
        producer, entity, verb = subject.split(".")
        assert producer == spec.producer and entity and verb
        assert spec.model.model_config.get("frozen") is True


def test_a_duplicate_event_name_fails_at_import() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @event("intake.application.accepted", summary="again")
        class Again(EventData):
            x: int


def test_every_consumed_subject_has_a_producer_that_publishes_it() -> None:
    for subject, consumers in consumers_by_subject().items():
        if not consumers:
            continue
        spec = REGISTRY[subject]
        sources = [p for p in PRODUCER_DIRS[spec.producer].rglob("*.py") if "tests" not in p.parts]
        text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
        assert f"{spec.model.__name__}(" in text, (
            f"{subject} is consumed by {consumers} but {spec.producer} never constructs {spec.model.__name__}"
        )


def test_catalogue_is_current() -> None:
    text = render()
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == text, "stale: run `make catalogue`"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_catalogue(readme, text) == readme, "the README's catalogue is stale: run `make catalogue`"
