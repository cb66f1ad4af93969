"""Gateway's settings (env prefix ``GATEWAY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from gateway.door.upstreams import parse_urls
from owkernel.settings import ServiceSettings

# docs/conventions.md "Which service owns which path prefix": the second segment after /api/v1.
DEFAULT_ROUTES: dict[str, str] = {
    "/api/v1/catalog": "intake",
    "/api/v1/applications": "intake",
    "/api/v1/projects": "intake",
    "/api/v1/appointments": "intake",
    "/api/v1/consultations": "intake",
    "/api/v1/halls": "intake",
    "/api/v1/departments": "intake",
    "/api/v1/tasks": "approval",
    "/api/v1/supervision": "approval",
    "/api/v1/calendar": "approval",
    "/api/v1/certificates": "approval",
    "/api/v1/clocks": "approval",
    "/api/v1/shipments": "delivery",
    "/api/v1/webhooks": "delivery",
    "/api/v1/delivery": "delivery",
    "/api/v1/ratings": "rating",
    "/api/v1/kiosks": "rating",
    "/api/v1/kiosk": "rating",
    "/api/v1/rectifications": "rating",
    "/api/v1/surveys": "rating",
    "/api/v1/inspections": "rating",
    "/api/v1/assessments": "rating",
    "/api/v1/figures": "rating",
}


class GatewaySettings(ServiceSettings):
    """Everything gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///./.data/gateway.db"

    # --- the one door ----------------------------------------------------------------------
    # prefix (``/api/v1/<segment>``) -> service name; GATEWAY_ROUTES takes a JSON object.
    routes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    # Each: one URL (in Kubernetes, the Service's) or the replicas' URLs comma-separated, over
    # which the door balances itself (gateway/door/upstreams.py; tools/scale runs it so).
    intake_url: str = "http://127.0.0.1:8001"
    approval_url: str = "http://127.0.0.1:8002"
    delivery_url: str = "http://127.0.0.1:8003"
    rating_url: str = "http://127.0.0.1:8004"
    # With several replicas: how long one that failed rests before its /readyz is asked again,
    # and how often every replica's /readyz is asked.
    upstream_down_seconds: float = Field(default=2.0, gt=0)
    upstream_probe_seconds: float = Field(default=1.0, gt=0)
    proxy_connect_timeout_seconds: float = 3.0
    proxy_read_timeout_seconds: float = 30.0
    # Larger than the services' own upload limit (10 MiB by default) plus multipart framing, so
    # the service, which knows the material's rules, is the one that refuses a big file.
    max_request_bytes: int = 12 * 1024 * 1024
    # The gateway's own API (identity, payments, cashier) takes small JSON and form bodies only.
    own_max_request_bytes: int = 64 * 1024
    # Overrides ONEWINDOW_RATE_LIMIT_PER_SECOND when set (0 turns the limit off).
    rate_limit_per_second: float | None = None
    # How many requests above the steady rate a caller may burst (token bucket size, in seconds of rate).
    rate_limit_burst_seconds: float = 2.0
    # Log every proxied request at the gateway too (each service already logs it with the same id).
    proxy_access_log: bool = False
    openapi_cache_seconds: float = 60.0

    # --- identity and tokens ---------------------------------------------------------------
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    # Production: the current signing key (Ed25519 private key, PEM) and earlier public keys
    # (PEMs, concatenated) still published. Without them, keys live in the gateway database.
    signing_key_pem: SecretStr | None = None
    previous_public_keys_pem: str | None = None
    # After a rotation the new key is published at once and signs only this much later, so that
    # services (which refetch the key set at most every 5 s) know it before they see it.
    key_activation_delay_seconds: float = 10.0
    # A rotated-out key stays in the JWKS this long, so tokens it signed keep working.
    retired_key_keep_seconds: int = 24 * 3600
    token_cache_seconds: float = 30.0
    revocation_sync_seconds: float = 2.0
    # Logins (identity/logins.py): failures of one account from one address before that address
    # is locked out of it; failures from all addresses not known to the account before every
    # unknown address is; the first lock's length, doubling with each consecutive lock up to the
    # maximum. Then failures from one address across all accounts, per replica, in a window.
    login_max_failures: int = 5
    login_account_max_failures: int = 50
    login_lock_seconds: int = 900
    login_lock_max_seconds: int = 24 * 3600
    login_address_max_failures: int = 20
    login_address_window_seconds: int = 300
    # Argon2id cost (defaults: RFC 9106 low-memory profile); tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    admin_username: str = "admin"
    # The activation code of a window verification (identity/proof.py): how long it is valid,
    # and how many wrong codes void it (8 digits: 5 guesses in 10^8).
    activation_code_ttl_seconds: int = 24 * 3600
    activation_max_attempts: int = 5

    # --- the province's unified identity login (OpenID Connect; gateway/province/) -------------
    # The provider itself is ONEWINDOW_PROVINCE_ISSUER (owkernel PlatformSettings): without it
    # the province login answers 503. The redirect URI registered with the province is exactly
    # <public_url>/api/v1/auth/province/callback.
    province_client_id: str = "onewindow-gateway"
    province_client_secret: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    # A login started and not finished within this long is refused at the callback.
    province_login_ttl_seconds: int = 600
    # The one-time code handed to the console after the callback (RFC 6749 advises short lives).
    province_login_code_ttl_seconds: int = 60
    # Clock difference tolerated on the ID token's exp and iat.
    province_id_token_leeway_seconds: int = 60
    # Discovery document and JWKS are fetched again after this long (and the JWKS on an unknown kid).
    province_metadata_cache_seconds: float = 300.0
    province_timeout_seconds: float = 10.0

    # --- payment stub ----------------------------------------------------------------------
    # The stub cashier (/pay/{id}) marks any order paid without authentication: right for the
    # local run and dev, never in production (the prod overlay turns it off; /pay answers 404).
    stub_cashier: bool = True
    # Where an order sends its payer (the contract's pay_url): the stub cashier, or the real
    # provider's page; "{payment_id}" is replaced by the order's id.
    payment_pay_url: str = "/pay/{payment_id}"
    payment_secret: SecretStr = SecretStr("dev-payment-secret-change-me")
    payment_expiry_seconds: float = 1800.0
    payment_sweep_seconds: float = 30.0
    # Where the stub provider posts its signed callback; defaults to this gateway.
    payment_callback_url: str | None = None
    payment_callback_tolerance_seconds: int = 300

    @field_validator("payment_pay_url")
    @classmethod
    def _pay_url_names_the_order(cls, value: str) -> str:
        if "{payment_id}" not in value:
            raise ValueError("payment_pay_url must contain {payment_id}")
        try:  # any other brace would fail at the first order: fail at start-up instead
            value.format(payment_id="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError("payment_pay_url may hold no placeholder but {payment_id}") from None
        return value

    @field_validator("intake_url", "approval_url", "delivery_url", "rating_url")
    @classmethod
    def _upstream_urls(cls, value: str) -> str:
        parse_urls(value)  # at start-up, not at the first request
        return value

    def upstream_replicas(self) -> dict[str, tuple[str, ...]]:
        """Service name -> the base URLs of its replicas (one: the Kubernetes Service)."""
        return {
            "intake": parse_urls(self.intake_url),
            "approval": parse_urls(self.approval_url),
            "delivery": parse_urls(self.delivery_url),
            "rating": parse_urls(self.rating_url),
        }

    def upstreams(self) -> dict[str, str]:
        """Service name -> one base URL (the first replica's), for what reads one document per service."""
        return {service: urls[0] for service, urls in self.upstream_replicas().items()}

    def province_redirect_uri(self) -> str:
        """The redirect URI the province sends the browser back to (registered there exactly)."""
        return f"{self.public_url.rstrip('/')}/api/v1/auth/province/callback"

    def callback_url(self) -> str:
        """The payment callback the stub provider calls."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return self.payment_callback_url or f"http://{host}:{self.port}/api/v1/payments/callback"


@lru_cache
def get_settings() -> GatewaySettings:
    """The process's settings, read once."""
    return GatewaySettings()
