"""OneWindow's shared kernel: settings, database, bus, outbox, consumers, auth verification,
event contracts, logging, errors, pagination and idempotency. Services import only this."""

from owkernel.app import Kernel, KernelDep, SessionDep, create_service_app, get_kernel
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
from owkernel.logs import bind_application
from owkernel.outbox import Outbox
from owkernel.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from owkernel.settings import PlatformSettings, ServiceSettings
from owkernel.tables import KernelTables, kernel_tables

__all__ = [
    "Actor",
    "BadRequest",
    "Conflict",
    "ConsumerGroup",
    "CurrentPrincipal",
    "CursorParam",
    "Database",
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
    "PlatformSettings",
    "PoisonEvent",
    "Principal",
    "Problem",
    "RetryLater",
    "ServiceSettings",
    "ServiceUnavailable",
    "SessionDep",
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
    "kernel_tables",
    "new_metadata",
    "request_hash",
    "require_roles",
]
