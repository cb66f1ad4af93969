"""OneWindow's test support: what tests, benchmarks and the local stack share, kept out of the
production kernel (no image carries it: the Dockerfile copies libs/owkernel only).

- ``owtest.infra``: a real nats-server, free ports, fresh databases (SQLite or PostgreSQL).
- ``owtest.identities``: valid resident ID numbers and unified social credit codes.
- ``owtest.tokens``: access tokens signed as the gateway signs them, Authorization headers.
- ``owtest.service``: a service app running in-process with a client on it; ``eventually``.
- ``owtest.events``: other services' events as their producers publish them; the sentinel.
- ``owtest.statements``: the SQL a request or handler sends, for statement budgets.
"""

from owtest.events import (
    Producers,
    accepted,
    approved,
    certificate_issued,
    handled,
    producers_on,
    rejected,
    sentinel,
    stream_events,
)
from owtest.identities import credit_code, resident_id
from owtest.infra import (
    NatsServer,
    TestEnvironment,
    drop_database,
    free_port,
    fresh_database_url,
    nats_server_binary,
    subprocess_env,
    wait_for_port,
)
from owtest.service import (
    RunningService,
    ServiceHarness,
    ServiceRunner,
    eventually,
    service_settings,
    serving,
    wait_ready,
)
from owtest.statements import Statements, counted_statements
from owtest.tokens import Headers, SigningKeys, bearer

__all__ = [
    "Headers",
    "NatsServer",
    "Producers",
    "RunningService",
    "ServiceHarness",
    "ServiceRunner",
    "SigningKeys",
    "Statements",
    "TestEnvironment",
    "accepted",
    "approved",
    "bearer",
    "certificate_issued",
    "counted_statements",
    "credit_code",
    "drop_database",
    "eventually",
    "free_port",
    "fresh_database_url",
    "handled",
    "nats_server_binary",
    "producers_on",
    "rejected",
    "resident_id",
    "sentinel",
    "service_settings",
    "serving",
    "stream_events",
    "subprocess_env",
    "wait_for_port",
    "wait_ready",
]
