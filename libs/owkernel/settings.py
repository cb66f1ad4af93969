"""Settings shared by every component; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Platform-wide knobs (docs/api.md "Platform-wide settings"), read with the ONEWINDOW_ prefix."""

    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_", extra="ignore")

    admin_password: str | None = None
    rate_limit_per_second: float = 50.0
    courier_delay_seconds: float = 3.0
    courier_secrets: str | None = None
    # The province's unified identity provider (OpenID Connect issuer; docs/api.md "Identity assurance").
    province_issuer: str | None = None
    # CPython's collector thresholds once start-up objects are frozen (owkernel.runtime.tune_gc);
    # JSON in the environment, e.g. ONEWINDOW_GC_THRESHOLD=[700,10,10] for CPython's default.
    gc_threshold: tuple[int, int, int] = (10_000, 20, 20)


class ServiceSettings(BaseSettings):
    """What every service (and the gateway) needs from the kernel.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="INTAKE_")`` and so on, so each
    component reads only its own variables: ``INTAKE_DATABASE_URL``, ``INTAKE_NATS_URL``...
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///./.data/service.db"
    database_pool_size: int = 10
    database_echo: bool = False
    nats_url: str = "nats://127.0.0.1:4222"
    # A namespace lets several environments (or parallel test runs) share one NATS cluster:
    # subjects become "<ns>.<subject>" and streams "<NS>_<SERVICE>".
    nats_namespace: str = ""
    # Credentials of this component's own NATS user (deploy/base/config/nats-auth.conf, made by
    # tools/nats_auth.py); unset, the connection is anonymous (the local run's open server).
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_duplicate_window_seconds: float = 120.0
    # Replicas of each JetStream stream this component creates (3 on a 3-node cluster).
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    consumer_max_deliveries: int = 8
    consumer_batch: int = 256
    consumer_ack_wait_seconds: float = 30.0
    consumer_backoff_seconds: float = 0.5
    outbox_batch: int = 500
    outbox_poll_seconds: float = 1.0
    # What the relay publishes: CloudEvents, or the old envelope during the first step of the
    # rolling upgrade to them (docs/conventions.md, "Events on the wire: CloudEvents").
    event_wire_form: Literal["cloudevents", "envelope"] = "cloudevents"
    # Where the gateway publishes its signing keys; services verify tokens themselves.
    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    jwt_issuer: str = "onewindow-gateway"
    jwt_audience: str = "onewindow"
    jwks_cache_seconds: float = 300.0
    log_level: str = "INFO"
    log_json: bool = True
    max_upload_bytes: int = Field(default=10 * 1024 * 1024)
