"""OpenTelemetry traces across every hop: HTTP in and out, SQL, the outbox and NATS.

Off unless the standard ``OTEL_*`` variables ask for it (an OTLP endpoint or an exporter named in
``OTEL_TRACES_EXPORTER``; ``OTEL_SDK_DISABLED=true`` wins over both). Off, nothing is installed:
no tracer provider (FastAPI's own telemetry stays idle on the API's proxy provider), no SQL or
HTTP instrumentation, and the outbox and consumers skip their spans after one boolean test.

On, one process-wide tracer provider exports over OTLP/HTTP protobuf (the SDK reads the rest of
``OTEL_*``: endpoint, headers, sampler, batch sizes). The spans come from the instrumentations
where one exists: FastAPI's own server span (FastAPI ships OpenTelemetry instrumentation of its
own, which contrib's FastAPI/ASGI middleware would only switch off and replace), aiohttp-client's
for every outgoing call (the gateway's proxying, JWKS, couriers: all leave through the kernel's
one aiohttp session), SQLAlchemy's for every statement. Hand-made here only what no
instrumentation knows: the relay's publish span (child of the transaction that wrote the row,
whose ``traceparent`` the outbox keeps in a column) and the consumer's spans (a child of that
publish span for each event handled).

The trace context crosses NATS as W3C ``traceparent``/``tracestate`` message headers: the header
names the hop (the publish span), which only the relay knows; the CloudEvent in the payload is
written at commit time, stored and replayed as it is, so it cannot carry a hop's context (the
CloudEvents distributed-tracing extension also leaves per-hop context to the protocol's headers).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TraceState
from opentelemetry.util.types import Attributes
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    import aiohttp
    from fastapi.telemetry import TelemetryConfig
    from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("owkernel.tracing")

TRACEPARENT = "traceparent"
# Probes and scrapes are not the platform's work: no trace for them (the gateway probes every
# replica's /readyz each second).
_UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


class TracingSettings(BaseSettings):
    """The standard OpenTelemetry variables this module decides on (the SDK reads the others)."""

    model_config = SettingsConfigDict(env_prefix="OTEL_", extra="ignore")

    sdk_disabled: bool = False
    traces_exporter: str = ""
    exporter_otlp_endpoint: str = ""
    exporter_otlp_traces_endpoint: str = ""
    service_name: str = ""
    # OpenTelemetry Python's own switch: "sqlalchemy,aiohttp-client" leaves those spans out.
    python_disabled_instrumentations: str = ""

    def instruments(self, name: str) -> bool:
        """False when ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` names ``name``."""
        return name not in {part.strip() for part in self.python_disabled_instrumentations.split(",")}

    @property
    def wanted(self) -> bool:
        """True when the environment asks for traces to be exported."""
        exporter = self.traces_exporter.strip().lower()
        if self.sdk_disabled or exporter == "none":
            return False
        return bool(exporter or self.exporter_otlp_endpoint or self.exporter_otlp_traces_endpoint)


class _State:
    """What this process installed (one provider per process, as the OpenTelemetry API allows)."""

    provider: TracerProvider | None = None
    settings: TracingSettings | None = None


_state = _State()
_tracer = trace.get_tracer("owkernel")


def enabled() -> bool:
    """True once this process exports traces: the one test every hand-made span starts with."""
    return _state.provider is not None


def setup(service: str, settings: TracingSettings | None = None) -> bool:
    """Install the tracer provider for this process if the environment asks for it; idempotent."""
    if _state.provider is not None:
        return True
    settings = settings or TracingSettings()
    if not settings.wanted:
        return False
    # OTEL_SERVICE_NAME names the component when set; else the kernel's service name does.
    resource = Resource.create({} if settings.service_name else {SERVICE_NAME: service})
    provider = TracerProvider(resource=resource, sampler=NoOrphanQueries(_get_from_env_or_default()))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    _state.provider, _state.settings = provider, settings
    log.info("tracing.enabled", service=service, sampler=provider.sampler.get_description())
    return True


def _exporter(settings: TracingSettings) -> Any:
    if settings.traces_exporter.strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: OTEL_EXPORTER_OTLP_*


def shutdown() -> None:
    """Export what is buffered (at the app's stop)."""
    if _state.provider is not None:
        _state.provider.force_flush()


class NoOrphanQueries(Sampler):
    """The configured sampler, except that a client span with no parent is dropped.

    Outside any request or event (the relay's polls, periodic jobs' scans) every SQL statement
    would otherwise start a trace of one span, several a second; work worth a trace has a server
    or consumer span above its statements.
    """

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """Drop a parentless client span; leave everything else to the configured sampler."""
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        """What the sampler is, for the start-up log line."""
        return f"NoOrphanQueries{{{self.inner.get_description()}}}"


# --- what the app factory installs ---------------------------------------------------------------
def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own server spans: traces only (Prometheus keeps the metrics), no probes."""

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return str(scope.get("path", "")).startswith(_UNTRACED_PATHS)

    # operation_spans (one span per dependency, endpoint and serialisation) would triple the
    # spans of a request for little: the SQL spans already say where its time went.
    return {"tracing": True, "metrics": False, "logs": False, "operation_spans": False, "exclude": untraced}


def instrument_database(engine: AsyncEngine) -> None:
    """Trace this kernel's SQL statements (nothing when tracing is off)."""
    if _state.provider is None or not (_state.settings and _state.settings.instruments("sqlalchemy")):
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares SQLAlchemy < 2.1 and would do nothing on 2.1 without
    # skip_dep_check; it listens to the engine's cursor events, which 2.1 keeps as they were
    # (tests/test_tracing.py sees the statements' spans on SQLite and PostgreSQL).
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=_state.provider, skip_dep_check=True)


def http_trace_configs() -> list[aiohttp.TraceConfig]:
    """What the kernel's aiohttp session traces outgoing calls with (none when tracing is off).

    The aiohttp level, not httpx's: the gateway's door sends on that session directly (see
    gateway/door/transport.py), and httpx's own calls go through it too, so one client span
    (and one injected ``traceparent``) per call covers both.
    """
    if _state.provider is None or not (_state.settings and _state.settings.instruments("aiohttp-client")):
        return []
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config

    return [create_trace_config(tracer_provider=_state.provider)]


# --- logs --------------------------------------------------------------------------------------
def log_context() -> dict[str, str]:
    """``{"trace_id": ...}`` while a recording span is current, for the log context; else empty."""
    if _state.provider is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return {}
    return {"trace_id": format(context.trace_id, "032x")}


# --- the outbox and NATS -----------------------------------------------------------------------
def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span (kept on an outbox row), or None."""
    if _state.provider is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


@contextlib.contextmanager
def publishing(subject: str, traceparent: str | None, headers: dict[str, str]) -> Iterator[None]:
    """The relay's span for publishing one row: a child of the transaction that wrote it; its own
    context goes into ``headers`` for the consumers."""
    parent = propagate.extract({TRACEPARENT: traceparent}) if traceparent else Context()
    with _tracer.start_as_current_span(
        f"{subject} publish",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "nats", "messaging.destination.name": subject},
    ):
        propagate.inject(headers)
        yield


def message_context(headers: Mapping[str, str] | None) -> Context:
    """The publish span's context a message carries (an empty context when it carries none)."""
    return propagate.extract(dict(headers or {}))


@contextlib.contextmanager
def consuming_batch(durable: str, contexts: Sequence[Context]) -> Iterator[None]:
    """The span of one consumer transaction: a child of its message's publish span when it holds
    one message; a root linked to every message's publish span when it joins several."""
    parents = [trace.get_current_span(c).get_span_context() for c in contexts]
    valid = [p for p in parents if p.is_valid]
    single = len(contexts) == 1 and len(valid) == 1
    with _tracer.start_as_current_span(
        f"{durable} process",
        context=contexts[0] if single else Context(),
        kind=SpanKind.CONSUMER,
        links=None if single else [Link(p) for p in valid],
        attributes={
            "messaging.system": "nats",
            "messaging.consumer.group.name": durable,
            "messaging.batch.message_count": len(contexts),
        },
    ):
        yield


@contextlib.contextmanager
def handling(event_type: str, event_id: str, context: Context) -> Iterator[dict[str, str]]:
    """The span of one event's handler, a child of its publish span (and so in the trace of the
    request that caused it), linked to the batch it was handled in. Yields the log context."""
    batch = trace.get_current_span().get_span_context()
    with _tracer.start_as_current_span(
        f"{event_type} handle",
        context=context,
        kind=SpanKind.INTERNAL,
        links=[Link(batch)] if batch.is_valid else None,
        attributes={"messaging.system": "nats", "messaging.message.id": event_id},
    ) as span:
        try:
            yield log_context()
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
