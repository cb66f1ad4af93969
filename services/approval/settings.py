"""Approval's settings (env prefix ``APPROVAL_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class ApprovalSettings(ServiceSettings):
    """Everything approval reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="APPROVAL_", extra="ignore")

    service_name: str = "approval"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///./.data/approval.db"


@lru_cache
def get_settings() -> ApprovalSettings:
    """The process's settings, read once."""
    return ApprovalSettings()
