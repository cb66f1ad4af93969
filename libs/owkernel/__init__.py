"""OneWindow's shared kernel: settings, database, bus, outbox, consumers, auth verification,
event contracts, logging, errors, pagination and idempotency. Services import only this."""

from owkernel.app import create_service_app
from owkernel.auth import (
    Actor,
    CurrentPrincipal,
    IdentityNotVerified,
    OptionalPrincipal,
    Principal,
    TokenVerifier,
    VerifiedPrincipal,
    require_roles,
)
from owkernel.clock import Clock, FakeClock, SystemClock
from owkernel.consumer import ConsumerGroup, PoisonEvent, RetryLater
from owkernel.db import Database, new_metadata
from owkernel.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from owkernel.idempotency import Idempotency, IdempotencyKey, request_hash
from owkernel.jobs import PeriodicJob, Startup
from owkernel.kernel import Kernel, KernelDep, SessionDep, get_kernel, kernel_of
from owkernel.logs import bind_application
from owkernel.outbox import Outbox
from owkernel.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from owkernel.settings import PlatformSettings, ServiceSettings
from owkernel.tables import KernelTables, kernel_tables

__all__ = [
    "Actor",
    "BadRequest",
    "Clock",
    "Conflict",
    "ConsumerGroup",
    "CurrentPrincipal",
    "CursorParam",
    "Database",
    "FakeClock",
    "Forbidden",
    "Idempotency",
    "IdempotencyKey",
    "IdentityNotVerified",
    "Kernel",
    "KernelDep",
    "KernelTables",
    "LimitParam",
    "NotFound",
    "OptionalPrincipal",
    "Outbox",
    "Page",
    "PayloadTooLarge",
    "PeriodicJob",
    "PlatformSettings",
    "PoisonEvent",
    "Principal",
    "Problem",
    "RetryLater",
    "ServiceSettings",
    "ServiceUnavailable",
    "SessionDep",
    "Startup",
    "SystemClock",
    "TokenVerifier",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "VerifiedPrincipal",
    "bind_application",
    "create_service_app",
    "decode_cursor",
    "encode_cursor",
    "get_kernel",
    "kernel_of",
    "kernel_tables",
    "new_metadata",
    "request_hash",
    "require_roles",
]
