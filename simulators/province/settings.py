"""Settings of the simulated provincial identity provider (env prefix ``PROVINCE_SIM_``)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProvinceClient(BaseModel):
    """A relying party registered with the provider: its secret and its exact redirect URIs."""

    secret: SecretStr
    redirect_uris: list[str] = Field(min_length=1)

    @field_validator("redirect_uris")
    @classmethod
    def _absolute(cls, uris: list[str]) -> list[str]:
        # RFC 6749 3.1.2: a redirection endpoint is an absolute URI without a fragment.
        for uri in uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or "#" in uri:
                raise ValueError(f"a redirect URI must be an absolute http(s) URI without a fragment: {uri!r}")
        return uris


class ProvinceSimSettings(BaseSettings):
    """Where the simulator answers, whom it serves and how long what it hands out lives."""

    model_config = SettingsConfigDict(env_prefix="PROVINCE_SIM_", extra="ignore")

    # The issuer exactly as relying parties configure it (ONEWINDOW_PROVINCE_ISSUER); the
    # endpoints hang off it, so it is the address this process is reached at.
    issuer: str = "http://127.0.0.1:8010"
    host: str = "127.0.0.1"
    port: int = 8010
    # JSON: {"<client_id>": {"secret": "...", "redirect_uris": ["..."]}}
    clients: dict[str, ProvinceClient] = Field(default_factory=dict)
    # Off unless said otherwise: the simulator logs in anyone who types a valid number.
    allowed: bool = False
    code_ttl_seconds: float = Field(default=60.0, gt=0)
    id_token_ttl_seconds: float = Field(default=300.0, gt=0)
    # How long the login page of one authorization request may stay open.
    login_ttl_seconds: float = Field(default=600.0, gt=0)
    # Bounds on what is held in memory; past them the oldest entry gives way.
    max_pending_logins: int = Field(default=10_000, ge=1)
    max_codes: int = Field(default=10_000, ge=1)
    max_access_tokens: int = Field(default=10_000, ge=1)

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, issuer: str) -> str:
        # OpenID Connect Discovery 1.0 section 3: a URL with a scheme and host, no query or fragment.
        parts = urlsplit(issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"the issuer must be an http(s) URL without query or fragment: {issuer!r}")
        return issuer


def is_loopback(host: str | None) -> bool:
    """True for localhost and any address in 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
