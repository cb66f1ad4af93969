"""The hand-made spans of owkernel.tracing, on a tracer provider of the test's own (the global one
stays unset, so nothing else in the process starts tracing): the relay's publish span is the child
of the transaction that wrote the row and travels in the message headers; a consumer transaction
holding one event continues its trace, one joining several links them, and each event's handling
is a child of its own publish span."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from owkernel import tracing


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing._state, "provider", provider)
    monkeypatch.setattr(tracing, "_tracer", provider.get_tracer("owkernel"))
    yield exporter
    provider.shutdown()


def published(subject: str) -> tuple[str, dict[str, str]]:
    """A row written by a request of a trace of its own, published: (its trace id, the headers)."""
    trace_id = secrets.token_hex(16)
    headers: dict[str, str] = {"Nats-Msg-Id": subject}
    with tracing.publishing(subject, f"00-{trace_id}-{secrets.token_hex(8)}-01", headers):
        pass
    return trace_id, headers


def named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = [s for s in exporter.get_finished_spans() if s.name == name]
    return span


def test_publish_span_is_the_writers_child_and_rides_in_the_headers(spans: InMemorySpanExporter) -> None:
    writer = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    headers: dict[str, str] = {}
    with tracing.publishing("intake.application.accepted", writer, headers):
        pass
    span = named(spans, "intake.application.accepted publish")
    assert span.parent is not None and format(span.parent.span_id, "016x") == writer.split("-")[2]
    assert format(span.context.trace_id, "032x") == writer.split("-")[1]
    assert headers["traceparent"].split("-")[2] == format(span.context.span_id, "016x")


def test_one_event_continues_its_trace(spans: InMemorySpanExporter) -> None:
    _, headers = published("intake.application.accepted")
    context = tracing.message_context(headers)
    with (
        tracing.consuming_batch("approval-from-intake", [context]),
        tracing.handling("intake.application.accepted", "e1", context) as ids,
    ):
        assert ids["trace_id"] == headers["traceparent"].split("-")[1]
    publish = named(spans, "intake.application.accepted publish")
    batch = named(spans, "approval-from-intake process")
    handled = named(spans, "intake.application.accepted handle")
    assert batch.parent is not None and batch.parent.span_id == publish.context.span_id
    assert handled.parent is not None and handled.parent.span_id == publish.context.span_id
    assert [link.context.span_id for link in handled.links] == [batch.context.span_id]


SUBJECTS = ("intake.application.accepted", "intake.application.withdrawn")


def test_a_batch_of_several_traces_links_them(spans: InMemorySpanExporter) -> None:
    traces_and_headers = [published(subject) for subject in SUBJECTS]
    contexts = [tracing.message_context(headers) for _, headers in traces_and_headers]
    with tracing.consuming_batch("approval-from-intake", contexts):
        for subject, context in zip(SUBJECTS, contexts, strict=True):
            with tracing.handling(subject, subject, context):
                pass
    batch = named(spans, "approval-from-intake process")
    assert batch.parent is None
    publishes = {named(spans, f"{s} publish").context.span_id for s in SUBJECTS}
    assert {link.context.span_id for link in batch.links} == publishes
    for subject, (trace_id, _) in zip(SUBJECTS, traces_and_headers, strict=True):
        handled, publish = named(spans, f"{subject} handle"), named(spans, f"{subject} publish")
        assert format(handled.context.trace_id, "032x") == trace_id
        assert handled.parent is not None and handled.parent.span_id == publish.context.span_id


def test_off_makes_no_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing._state, "provider", None)
    assert not tracing.enabled()
    assert tracing.current_traceparent() is None
    assert tracing.log_context() == {}
