"""Intake's settings (env prefix ``INTAKE_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from owkernel.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Everything intake reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    service_name: str = "intake"
    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///./.data/intake.db"
    # The hall's local time: application numbers carry its year, supplement deadlines its dates.
    timezone: str = "Asia/Shanghai"
    # Deferred (容缺) materials are due this many calendar days after acceptance. Working days
    # are the approval service's business; intake does not keep a second calendar.
    supplement_days: int = Field(default=10, ge=0, le=365)
    # How often the background job looks for deferred materials past their deadline.
    overdue_scan_seconds: float = Field(default=60.0, gt=0)
    # Uploaded materials, stored by content hash (max_upload_bytes limits each file).
    storage_dir: str = "./.data/intake-files"
    # What one applicant (identity number) may make us store before a clerk has looked: the
    # materials of their applications still draft, submitted or returned. Past it an upload is
    # a 409 until they delete a draft; once a clerk decides, the files are the hall's record.
    applicant_storage_quota_bytes: int = Field(default=200 * 1024 * 1024, ge=0)
    # Drafts one applicant may keep open at once (409 beyond: submit or delete one).
    max_open_drafts: int = Field(default=20, ge=1, le=10_000)
    # How often the background job deletes files no material refers to any more (replaced
    # materials, deleted drafts); the release is recorded in the same transaction as the change.
    file_release_seconds: float = Field(default=10.0, gt=0)
    # How often the whole storage is reconciled with the database (files left by a transaction
    # that rolled back or a crash between writing and committing), and how old such a file
    # must be before it goes (so nothing still being uploaded is ever touched).
    storage_sweep_seconds: float = Field(default=6 * 3600.0, gt=0)
    storage_sweep_grace_seconds: float = Field(default=3600.0, ge=0)
    # A catalog import file may be at most this big.
    import_max_bytes: int = 2 * 1024 * 1024
    # Working days a consultation may wait for its reply (the approval service runs the clock).
    consultation_reply_days: int = Field(default=1, ge=1, le=30)
    # Appointment slots every window opens on weekdays unless an administrator changes them;
    # "kind HH:MM-HH:MM". Weekends and holidays are opened slot by slot.
    weekday_slots: list[str] = Field(
        default_factory=lambda: [
            "regular 09:00-10:00",
            "regular 10:00-11:00",
            "regular 11:00-12:00",
            "lunch 12:00-13:30",
            "regular 13:30-14:30",
            "regular 14:30-15:30",
            "regular 15:30-17:00",
            "extended 17:00-19:00",
        ]
    )
    slot_capacity: int = Field(default=4, ge=0, le=1000)
    # Future appointments (booked, not begun) one person may hold at once: 409 beyond it.
    max_future_appointments: int = Field(default=3, ge=1, le=1000)


@lru_cache
def get_settings() -> IntakeSettings:
    """The process's settings, read once."""
    return IntakeSettings()
