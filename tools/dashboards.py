"""The Grafana dashboards of deploy/base/dashboards/, as code.

``python -m tools.dashboards`` (run by ``make catalogue``) writes one JSON file per dashboard; the
base kustomization puts each in a ConfigMap labelled ``grafana_dashboard: "1"``, which Grafana's
dashboard sidecar loads. tests/test_dashboards.py fails when a file is stale, when a query does not
parse as PromQL, or when it names a metric nobody exports.

The series are the kernel's (libs/owkernel/metrics.py, every component), approval's cards
(services/approval/supervision/metrics.py), the NATS exporter beside each nats-server
(``jetstream_*``, deploy/base/nats.yaml) and kube-state-metrics (``kube_*``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "deploy" / "base" / "dashboards"
SCHEMA_VERSION = 39  # Grafana 11's dashboard JSON
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
# The services the variable $service picks from; every query below filters on it.
SERVICE = 'service=~"$service"'

Panel = dict[str, Any]


def timeseries(title: str, targets: dict[str, str], *, unit: str = "short", description: str = "") -> Panel:
    """A time series panel: legend -> PromQL."""
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (legend, expr) in enumerate(targets.items())
        ],
    }


def stat(title: str, expr: str, *, unit: str = "short", red_above: float | None = None, description: str = "") -> Panel:
    """A single figure, red at or above ``red_above``."""
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": [{"refId": "A", "expr": expr, "datasource": DATASOURCE}],
    }


def variables(*, services: bool) -> list[dict[str, Any]]:
    """The Prometheus data source to read, and (where it applies) which components to show."""
    found: list[dict[str, Any]] = [
        {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "hide": 0}
    ]
    if services:
        found.append(
            {
                "name": "service",
                "label": "component",
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": "label_values(onewindow_http_requests_total, service)", "refId": "service"},
                "definition": "label_values(onewindow_http_requests_total, service)",
                "refresh": 2,
                "multi": True,
                "includeAll": True,
                "allValue": ".*",
                "current": {"text": "All", "value": "$__all"},
                "hide": 0,
            }
        )
    return found


def dashboard(uid: str, title: str, description: str, panels: list[Panel], *, services: bool = True) -> dict[str, Any]:
    """A dashboard: panels laid out two to a row, ids and positions assigned in order."""
    laid = [
        {"id": i + 1, "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8}, **panel}
        for i, panel in enumerate(panels)
    ]
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["onewindow"],
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "templating": {"list": variables(services=services)},
        "annotations": {"list": []},
        "links": [],
        "panels": laid,
    }


def services() -> dict[str, Any]:
    """Requests, errors and latency per component; pods ready."""
    return dashboard(
        "onewindow-services",
        "OneWindow / Services",
        "HTTP traffic of the gateway and each service (onewindow_http_*; /healthz, /readyz and /metrics not counted).",
        [*_traffic_panels(), *_latency_panels(), _database_panel(), _pods_panel()],
    )


def _traffic_panels() -> list[Panel]:
    """Requests per second, and the share of server errors and rate of client errors among them."""
    http = f"onewindow_http_requests_total{{{SERVICE}}}"
    return [
        timeseries("Requests per second", {"{{service}}": f"sum by (service) (rate({http}[{RATE}]))"}, unit="reqps"),
        timeseries(
            "Server errors (5xx), share of requests",
            {
                "{{service}}": f'sum by (service) (rate(onewindow_http_requests_total{{{SERVICE}, status=~"5.."}}'
                f"[{RATE}])) / sum by (service) (rate({http}[{RATE}]))"
            },
            unit="percentunit",
            description="The alert OneWindowHTTPErrors fires above 2 % for 10 minutes.",
        ),
        timeseries(
            "Client errors (4xx) per second",
            {
                "{{service}} {{status}}": "sum by (service, status) (rate(onewindow_http_requests_total"
                f'{{{SERVICE}, status=~"4.."}}[{RATE}]))'
            },
            unit="reqps",
        ),
    ]


def _latency_panels() -> list[Panel]:
    """Latency quantiles per component, and the slowest routes."""
    buckets = f"onewindow_http_request_seconds_bucket{{{SERVICE}}}"

    def quantile(q: str) -> str:
        return f"histogram_quantile({q}, sum by (service, le) (rate({buckets}[{RATE}])))"

    return [
        timeseries(
            "Latency p50 / p95 / p99",
            {f"{{{{service}}}} p{q}": quantile(f"0.{q}") for q in ("50", "95", "99")},
            unit="s",
        ),
        timeseries(
            "Slowest routes (p95)",
            {
                "{{service}} {{route}}": "topk(10, histogram_quantile(0.95, sum by (service, route, le) (rate("
                + buckets
                + f"[{RATE}]))))"
            },
            unit="s",
        ),
    ]


def _database_panel() -> Panel:
    """What the components ask of their databases: statements and commits per second."""
    return timeseries(
        "SQL statements and commits per second",
        {
            "{{service}} statements": f"sum by (service) (rate(onewindow_db_statements_total{{{SERVICE}}}[{RATE}]))",
            "{{service}} commits": f"sum by (service) (rate(onewindow_db_commits_total{{{SERVICE}}}[{RATE}]))",
        },
        unit="ops",
        description="Against requests per second: a release that adds statements to a request shows here first.",
    )


def _pods_panel() -> Panel:
    """Pods ready against pods wanted, per deployment."""
    return timeseries(
        "Pods ready / wanted",
        {
            "{{deployment}} ready": 'kube_deployment_status_replicas_available{deployment=~"$service"}',
            "{{deployment}} wanted": 'kube_deployment_spec_replicas{deployment=~"$service"}',
        },
        description="kube-state-metrics. A pod is ready when /readyz reaches its database and NATS.",
    )


def events() -> dict[str, Any]:
    """The event backbone: outboxes, consumers, lag, dead letters."""
    return dashboard(
        "onewindow-events",
        "OneWindow / Events",
        "Outboxes (committed, not yet published), consumers (handled, retried, dead-lettered) and each "
        "durable's lag on NATS.",
        [*_outbox_panels(), *_consumer_panels(), *_dead_letter_panels()],
    )


def _outbox_panels() -> list[Panel]:
    """Each outbox's depth, its oldest event's age, and what it publishes."""
    pending = f"onewindow_outbox_pending{{{SERVICE}}}"
    return [
        timeseries("Outbox depth (events waiting)", {"{{service}}": f"max by (service) ({pending})"}),
        timeseries(
            "Outbox age: the oldest waiting event",
            {"{{service}}": f"max by (service) (onewindow_outbox_oldest_age_seconds{{{SERVICE}}})"},
            unit="s",
            description="Set by each relay from its oldest unsent row whenever it polls (every second, and at "
            "each commit that wrote events), 0 when none waits. Grows while NATS is away or a relay is stuck.",
        ),
        timeseries(
            "Events published per second",
            {"{{service}}": f"sum by (service) (rate(onewindow_outbox_published_total{{{SERVICE}}}[{RATE}]))"},
        ),
    ]


def _consumer_panels() -> list[Panel]:
    """Events handled by outcome, and each durable's lag and unacknowledged messages on NATS."""
    durables = 'consumer_name=~".+-from-.+"'
    return [
        timeseries(
            "Events handled per second, by outcome",
            {
                "{{service}} {{outcome}}": "sum by (service, outcome) "
                f"(rate(onewindow_events_handled_total{{{SERVICE}}}[{RATE}]))"
            },
            description="ok; retry (arrived before the event it follows); duplicate (seen by the inbox); "
            "replayed (a dead letter replayed).",
        ),
        timeseries(
            "Consumer lag per durable (messages not yet delivered)",
            {
                "{{stream_name}} → {{consumer_name}}": "max by (stream_name, consumer_name) "
                f"(jetstream_consumer_num_pending{{{durables}}})"
            },
            description="From the NATS exporter; durable <consumer>-from-<producer>; max over the 3 replicas.",
        ),
        timeseries(
            "Delivered, not yet acknowledged, per durable",
            {"{{consumer_name}}": f"max by (consumer_name) (jetstream_consumer_num_ack_pending{{{durables}}})"},
        ),
    ]


def _dead_letter_panels() -> list[Panel]:
    """Dead letters of the last hour by subject, and today's count (red from the first)."""
    return [
        timeseries(
            "Dead letters (last hour)",
            {
                "{{service}} {{subject}}": "sum by (service, subject) "
                f"(increase(onewindow_dead_letters_total{{{SERVICE}}}[1h]))"
            },
            description="Events given up on: each needs a person (deploy/README.md, Dead letters).",
        ),
        stat(
            "Dead letters today",
            f"sum (increase(onewindow_dead_letters_total{{{SERVICE}}}[1d]))",
            red_above=1,
        ),
    ]


def applications() -> dict[str, Any]:
    """What the city watches: applications in, accepted, and the supervision cards raised."""
    submit = (
        'onewindow_http_requests_total{service="intake", method="POST", '
        'route="/api/v1/applications/{no}/submit", status="200"}'
    )
    accepted = 'onewindow_events_handled_total{service="approval", subject="intake.application.accepted", outcome="ok"}'
    return dashboard(
        "onewindow-applications",
        "OneWindow / Applications and supervision",
        "Applications submitted and accepted per hour, supervision cards raised.",
        [
            timeseries(
                "Applications per hour",
                {
                    "submitted": f"sum (increase({submit}[1h]))",
                    "accepted at the window": f"sum (increase({accepted}[1h]))",
                },
                description="Submitted: intake's successful POST .../submit. Accepted: the "
                "intake.application.accepted events approval handled.",
            ),
            stat("Applications submitted today", f"sum (increase({submit}[1d]))"),
            timeseries(
                "Cards raised per hour, by colour",
                {"{{color}}": "sum by (color) (increase(onewindow_cards_raised_total[1h]))"},
                description="Approval's card scan (onewindow_cards_raised_total), summed over its replicas.",
            ),
            timeseries(
                "Red cards per department (last day)",
                {"{{department}}": 'sum by (department) (increase(onewindow_cards_raised_total{color="red"}[1d]))'},
                description="The alert OneWindowRedCards fires above 5 in a day.",
            ),
        ],
        services=False,
    )


DASHBOARDS = {
    "onewindow-services.json": services,
    "onewindow-events.json": events,
    "onewindow-applications.json": applications,
}


def render(name: str) -> str:
    """One dashboard's file as committed."""
    return json.dumps(DASHBOARDS[name](), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for file_name in DASHBOARDS:
        (DIRECTORY / file_name).write_text(render(file_name), encoding="utf-8")
    sys.stdout.write(f"wrote {len(DASHBOARDS)} dashboards in {DIRECTORY.relative_to(ROOT)}\n")
