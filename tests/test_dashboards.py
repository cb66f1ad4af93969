"""Dashboards and alerts as code: the Grafana dashboards (tools/dashboards.py, deploy/base/dashboards/)
and the PrometheusRule (deploy/overlays/prod/monitoring.yaml).

Every file is current and has the keys Grafana's dashboard model needs; every query and alert
parses as PromQL (promql-parser, the Prometheus parser's Rust port) and names only series the
platform exports: the platform's own, read from prometheus_client's registry after importing every
module that defines one, or a known exporter's that the manifests really deploy. Label values the
platform decides (component, route, subject) are checked against the code.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from prometheus_client import REGISTRY as PROMETHEUS

from owkernel.contracts import REGISTRY as EVENTS
from tests.test_deploy import NAMES, OVERLAYS, named, of_kind, render
from tools.catalogue import CONSUMER_MODULES
from tools.dashboards import DASHBOARDS, DIRECTORY
from tools.dashboards import render as render_dashboard

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("libs/owkernel", "gateway", "services")

# Series of other exporters, by the manifest object that must run them. kube-state-metrics comes
# with the Prometheus Operator's stack (deploy/README.md): it is assumed, not deployed here.
NATS_EXPORTER = frozenset({"jetstream_consumer_num_pending", "jetstream_consumer_num_ack_pending"})
KUBE_STATE_METRICS = frozenset(
    {"kube_deployment_status_replicas_available", "kube_deployment_spec_replicas", "kube_job_status_failed"}
)
# Grafana's variables, as a query would read once Grafana substitutes them.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$service": ".*", "${datasource}": "prometheus"}


# --- what the platform exports -----------------------------------------------------------------
@functools.cache
def platform_series() -> frozenset[str]:
    """Every series name our components expose (counter _total, histogram _bucket...): the metrics
    of every module that uses prometheus_client, as registered once imported."""
    for base in SOURCES:
        for path in (ROOT / base).rglob("*.py"):
            if "tests" in path.parts or "prometheus_client" not in path.read_text(encoding="utf-8"):
                continue
            rel = path.relative_to(ROOT / "libs" if base.startswith("libs") else ROOT).with_suffix("")
            importlib.import_module(".".join(rel.parts))
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count", "_created"]}
    names = set()
    for family in PROMETHEUS.collect():
        if family.name.startswith("onewindow_"):
            names |= {family.name + s for s in suffixes.get(family.type, [""])}
    assert "onewindow_http_requests_total" in names and "onewindow_cards_raised_total" in names
    return frozenset(names)


def nats_exporter_deployed(objs: tuple[dict[str, Any], ...]) -> bool:
    """The NATS StatefulSet runs prometheus-nats-exporter with JetStream's consumers (-jsz)."""
    pod = named(objs, "StatefulSet", "nats")["spec"]["template"]["spec"]
    return any(
        "prometheus-nats-exporter" in c["image"] and any(a.startswith("-jsz=") for a in c.get("args", []))
        for c in pod["containers"]
    )


@functools.cache
def routes_of(component: str) -> frozenset[str]:
    """The API route templates of a component's app (the ``route`` label of its HTTP metrics)."""
    module = importlib.import_module(CONSUMER_MODULES[component][0])
    return frozenset(module.create_app().openapi()["paths"])


# --- reading queries ---------------------------------------------------------------------------
def parse(expr: str) -> promql_parser.Expr:
    """A query as Prometheus would read it once Grafana substituted its variables."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise AssertionError(f"not PromQL: {expr}\n{exc}") from None


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric, {label: value of an = matcher}) for every series a query reads."""
    found: list[tuple[str, dict[str, str]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            equal = {m.name: m.value for m in node.matchers.matchers if m.op == promql_parser.MatchOp.Equal}
            found.append((str(node.name), equal))

    promql_parser.walk(parse(expr), visit)
    return found


def dashboard_queries() -> list[tuple[str, str]]:
    """(where, query) for every panel target and query variable of every dashboard."""
    found = []
    for name in DASHBOARDS:
        board = json.loads((DIRECTORY / name).read_text(encoding="utf-8"))
        for panel in board["panels"]:
            found += [(f"{name}: {panel['title']}", t["expr"]) for t in panel["targets"]]
        for var in board["templating"]["list"]:
            if var["type"] == "query":
                metric, label = re.fullmatch(r"label_values\((\w+), *(\w+)\)", var["query"]["query"]).groups()  # type: ignore[union-attr]
                found.append((f"{name}: ${var['name']}", f"count by ({label}) ({metric})"))
    return found


def alert_queries() -> list[tuple[str, str]]:
    """(alert, expression) of the production PrometheusRule."""
    objs = render("overlays/prod")
    return [
        (r["alert"], r["expr"])
        for rule in of_kind(objs, "PrometheusRule")
        for g in rule["spec"]["groups"]
        for r in g["rules"]
    ]


# --- the dashboards ----------------------------------------------------------------------------
def test_dashboards_are_current() -> None:
    assert sorted(p.name for p in DIRECTORY.glob("*.json")) == sorted(DASHBOARDS)
    for name in DASHBOARDS:
        assert (DIRECTORY / name).read_text(encoding="utf-8") == render_dashboard(name), "stale: make catalogue"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_has_what_grafana_needs(name: str) -> None:
    board = json.loads((DIRECTORY / name).read_text(encoding="utf-8"))
    assert {"uid", "title", "schemaVersion", "panels", "templating", "time", "tags", "refresh"} <= set(board)
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]) and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        where = f"{name}: {panel.get('title')}"
        assert {"id", "type", "title", "gridPos", "datasource", "targets"} <= set(panel), where
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24 and min(pos.values()) >= 0, where
        own = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not own & cells, f"{where} overlaps another panel"
        cells |= own
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)) and all(t["expr"] for t in panel["targets"]), where
        for text in re.findall(r"\$\{?(\w+)", json.dumps(panel["targets"])):
            assert text.startswith("__") or text in variables, f"{where}: ${text} is not a variable"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboards_cover_what_operators_watch() -> None:
    """The issue's list: requests, latency and errors per component; outbox depth and age; lag per
    durable; dead letters; cards raised; applications per hour."""
    titles = " | ".join(where.lower() for where, _ in dashboard_queries())
    for needed in ("requests", "latency", "5xx", "outbox depth", "outbox age", "lag per durable", "dead letters"):
        assert needed in titles, needed
    assert "cards raised" in titles and "applications per hour" in titles
    uids = [json.loads((DIRECTORY / n).read_text())["uid"] for n in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dashboards_are_deployed_for_grafanas_sidecar(overlay: str) -> None:
    objs = render(f"overlays/{overlay}")
    maps = [m for m in of_kind(objs, "ConfigMap") if m["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    shipped = {key: text for m in maps for key, text in m["data"].items()}
    assert shipped == {n: (DIRECTORY / n).read_text(encoding="utf-8") for n in DASHBOARDS}
    # Fixed names: a change replaces the dashboard rather than leaving the old one beside it.
    assert all(m["metadata"]["name"].startswith("grafana-dashboard-") for m in maps)


# --- every query, dashboards and alerts --------------------------------------------------------
def test_every_query_parses_and_reads_only_exported_series() -> None:
    queries = dashboard_queries() + alert_queries()
    assert len(queries) > 30
    objs = render("overlays/prod")
    for where, expr in queries:
        for metric, labels in selectors(expr):
            if metric.startswith("onewindow_"):
                assert metric in platform_series(), f"{where}: {metric} is exported by no component"
            elif metric.startswith("jetstream_"):
                assert metric in NATS_EXPORTER and nats_exporter_deployed(objs), f"{where}: {metric}"
            else:
                assert metric in KUBE_STATE_METRICS, f"{where}: {metric} comes from no known exporter"
            service = labels.get("service")
            assert service is None or service in NAMES, f"{where}: no component {service!r}"
            if "route" in labels:
                assert service and labels["route"] in routes_of(service), (
                    f"{where}: {service} has no route {labels['route']}"
                )
            if "subject" in labels:
                assert labels["subject"] in EVENTS, f"{where}: no event {labels['subject']}"


def test_a_broken_query_is_refused() -> None:
    with pytest.raises(AssertionError, match="not PromQL"):
        parse("sum(rate(onewindow_http_requests_total[5m])")
    assert selectors('rate(onewindow_x_total{service="intake"}[$__rate_interval])') == [
        ("onewindow_x_total", {"service": "intake"})
    ]
    assert "onewindow_x_total" not in platform_series()


def test_alerts_watch_the_backbone() -> None:
    """Outbox stuck, consumer lag, dead letters, 5xx rate and readiness each have an alert."""
    alerts = dict(alert_queries())
    for alert, metric in {
        "OneWindowOutboxStalled": "onewindow_outbox_pending",
        "OneWindowConsumerLag": "jetstream_consumer_num_pending",
        "OneWindowDeadLetters": "onewindow_dead_letters_total",
        "OneWindowHTTPErrors": "onewindow_http_requests_total",
        "OneWindowNotReady": "kube_deployment_status_replicas_available",
    }.items():
        assert metric in {m for m, _ in selectors(alerts[alert])}, alert
