"""Prometheus metrics the kernel keeps for every component."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "onewindow_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "onewindow_http_request_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OUTBOX_PENDING = Gauge("onewindow_outbox_pending", "Events committed but not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "onewindow_outbox_oldest_age_seconds",
    "Age of the oldest event committed but not yet published (0 when none waits), as the relay last saw it",
    ["service"],
)
OUTBOX_PUBLISHED = Counter("onewindow_outbox_published_total", "Events published from the outbox", ["service"])
EVENTS_HANDLED = Counter(
    "onewindow_events_handled_total", "Events handled by consumers", ["service", "subject", "outcome"]
)
# What a request or an event costs the database, per component: the statements a change adds show
# here (and in `make bench`'s per-application figures) before they show as latency.
DB_STATEMENTS = Counter("onewindow_db_statements_total", "SQL statements sent to the database", ["service"])
DB_COMMITS = Counter("onewindow_db_commits_total", "Transactions committed", ["service"])
DEAD_LETTERS = Counter("onewindow_dead_letters_total", "Events given up on and dead-lettered", ["service", "subject"])
