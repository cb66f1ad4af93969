"""Intake's settings (env prefix ``INTAKE_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Everything intake reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "intake"
    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///./.data/intake.db"


@lru_cache
def get_settings() -> IntakeSettings:
    """The process's settings, read once."""
    return IntakeSettings()
