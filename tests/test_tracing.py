"""One trace across every hop: a front end's request through the gateway, the service that
handles it, its outbox, NATS and every consumer of what it published, and on to what those
published in turn, exported by the real processes over OTLP/HTTP to a receiver standing in for
the collector (issue 24, item 1)."""

from __future__ import annotations

import gzip
import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from owtest import TestEnvironment, fresh_database_url
from tests.e2e import MAIL, PDF, admin, citizen, new_item, staff, wait_for
from tests.harness import ADMIN_PASSWORD
from tools import stack as stacks
from tools.stack import COMPONENTS, Stack

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

SERVICES = ("gateway", "intake", "approval", "delivery", "rating")


@dataclass(frozen=True)
class Span:
    """What the test reads of one exported span."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    end: int
    links: tuple[str, ...]


class OtlpReceiver:
    """A collector's OTLP/HTTP protobuf endpoint (``POST /v1/traces``) that keeps every span."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """What OTEL_EXPORTER_OTLP_ENDPOINT is set to."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def keep(self, request: ExportTraceServiceRequest) -> None:
        """Every span of an export request, with the service.name of its resource."""
        spans: list[Span] = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                spans.extend(_span(service, s) for s in scope_spans.spans)
        with self._lock:
            self.spans.extend(spans)

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace received so far."""
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _span(service: str, s: ProtoSpan) -> Span:
    return Span(
        service=service,
        name=s.name,
        kind=s.kind,
        trace_id=s.trace_id.hex(),
        span_id=s.span_id.hex(),
        parent_id=s.parent_span_id.hex(),
        start=s.start_time_unix_nano,
        end=s.end_time_unix_nano,
        links=tuple(link.span_id.hex() for link in s.links),
    )


@dataclass
class Traced:
    """A platform exporting its traces to ``receiver``."""

    stack: Stack
    receiver: OtlpReceiver


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    """Gateway, four services, NATS and the simulators as processes, tracing on, exporting here."""
    env = TestEnvironment()
    data: Path = tmp_path_factory.mktemp("traced")
    urls = {c.name: fresh_database_url(f"tr_{c.name}", data) for c in COMPONENTS} if env.pg_url else {}
    with OtlpReceiver() as receiver:
        stack = stacks.test_stack(
            data,
            nats_url=env.nats_url,
            database_urls=urls,
            namespace=("tr" + uuid.uuid4().hex[:8]) if env.nats_url else "",
            extra_env={
                "ONEWINDOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "ONEWINDOW_RATE_LIMIT_PER_SECOND": "0",
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                # Export within a fifth of a second rather than the default five.
                "OTEL_BSP_SCHEDULE_DELAY": "200",
            },
        )
        stack.start_all()
        try:
            stack.wait_ready(timeout=90)
            yield Traced(stack=stack, receiver=receiver)
        finally:
            stack.stop_all()


def test_no_otel_variables_means_no_tracing() -> None:
    from owkernel.tracing import TracingSettings

    assert not TracingSettings.model_validate({}).wanted
    assert TracingSettings.model_validate({"exporter_otlp_endpoint": "http://127.0.0.1:4318"}).wanted
    assert not TracingSettings.model_validate({"exporter_otlp_endpoint": "http://x", "sdk_disabled": True}).wanted
    assert not TracingSettings.model_validate({"exporter_otlp_endpoint": "http://x", "traces_exporter": "none"}).wanted


def test_an_acceptance_is_one_trace_through_every_service_and_nats_hop(traced: Traced) -> None:
    url = traced.stack.gateway_url
    root = admin(url, ADMIN_PASSWORD)
    dept = "TR" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept)
    clerk = staff(url, root, "clerk")
    staff(url, root, "approver", dept)  # the department's approver, whom approval assigns the task to
    me, _ = citizen(url, clerk=clerk)
    no = me.call("POST", "/api/v1/applications", 201, json={"item_code": item, "form": {}, "delivery": MAIL})[
        "application_no"
    ]
    me.call(
        "PUT", f"/api/v1/applications/{no}/materials/M1", (200, 201), files={"file": ("M1.pdf", PDF, "application/pdf")}
    )
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))

    # The front end's request: it starts the trace (W3C traceparent, sampled).
    trace_id, front_span = secrets.token_hex(16), secrets.token_hex(8)
    accept_all = {"decision": "accept", "deferred_materials": [], "reason": ""}
    clerk.call(
        "POST",
        f"/api/v1/applications/{no}/acceptance",
        (200, 201),
        json=accept_all,
        headers={"traceparent": f"00-{trace_id}-{front_span}-01"},
    )

    def complete() -> list[Span] | None:
        spans = traced.receiver.trace(trace_id)
        handled = {(s.service, s.name) for s in spans if s.name.endswith(" handle")}
        wanted = {(svc, "intake.application.accepted handle") for svc in ("approval", "delivery", "rating")}
        # A second hop: approval's task for the application, handled by intake.
        second = any(svc == "intake" and name.startswith("approval.") for svc, name in handled)
        return spans if wanted <= handled and second else None

    spans = wait_for("the acceptance's trace through every consumer", complete, 60)
    check_causal_order(spans, front_span)


def check_causal_order(spans: list[Span], front_span: str) -> None:
    """Each hop's span is the child of the one before it, and starts after it started."""
    by_id = {s.span_id: s for s in spans}
    assert {s.service for s in spans} >= set(SERVICES), sorted({s.service for s in spans})

    def parent(span: Span) -> Span:
        assert span.parent_id in by_id, f"{span.service} {span.name}: parent {span.parent_id} not exported"
        up = by_id[span.parent_id]
        assert up.start <= span.start, f"{span.name} started before its parent {up.name}"
        return up

    def in_request(span: Span, service: str) -> Span:
        """Up from ``span`` to the server span of ``service`` it happened in."""
        while span.kind != ProtoSpan.SPAN_KIND_SERVER:
            span = parent(span)
        assert span.service == service, (span.service, span.name)
        return span

    # Front end -> gateway (server) -> its call out (client) -> intake (server).
    servers = [s for s in spans if s.kind == ProtoSpan.SPAN_KIND_SERVER]
    (gateway,) = [s for s in servers if s.parent_id == front_span]
    assert gateway.service == "gateway"
    (intake,) = [s for s in servers if s.service == "intake" and by_id[s.parent_id].parent_id == gateway.span_id]
    call_out = parent(intake)
    assert (call_out.service, call_out.kind) == ("gateway", ProtoSpan.SPAN_KIND_CLIENT)
    assert parent(call_out) is gateway
    # The statements of the request, its transaction's, are intake's spans under it.
    assert any(
        s.service == "intake" and s.kind == ProtoSpan.SPAN_KIND_CLIENT and s.parent_id == intake.span_id for s in spans
    ), [(s.service, s.name, s.kind, s.parent_id, s.span_id) for s in spans if s.service == "intake"]

    # intake's outbox -> NATS: the relay's publish span is the child of the request that wrote the row.
    (published,) = [s for s in spans if s.name == "intake.application.accepted publish"]
    assert (published.service, published.kind) == ("intake", ProtoSpan.SPAN_KIND_PRODUCER)
    assert in_request(published, "intake") is intake
    # ... -> each consumer's handling of it, a child of that publish span.
    for service in ("approval", "delivery", "rating"):
        (handled,) = [s for s in spans if s.service == service and s.name == "intake.application.accepted handle"]
        assert parent(handled) is published

    # And on: what a consumer published while handling it continues the trace, hop by hop.
    second = [
        s for s in spans if s.service == "intake" and s.name.startswith("approval.") and s.name.endswith(" handle")
    ]
    assert second
    for handled in second:
        publish = parent(handled)
        assert (publish.service, publish.kind) == ("approval", ProtoSpan.SPAN_KIND_PRODUCER)
        assert publish.name == handled.name.replace(" handle", " publish")
        origin = publish
        while not origin.name.endswith(" handle"):
            origin = parent(origin)
        assert origin.service == "approval" and parent(origin) is published
