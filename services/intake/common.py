"""Small helpers every intake domain uses: the hall's date, identities.

The kernel, settings and storage dependencies live in ``services.intake.deps``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc

from owkernel.auth import Principal
from owkernel.errors import Unprocessable, field_error
from services.intake.settings import IntakeSettings

Window = Literal["investment", "commercial", "general"]
WINDOWS: tuple[str, ...] = ("investment", "commercial", "general")
# The letter of each window in an application number: 2026-G-000123.
WINDOW_LETTER = {"investment": "I", "commercial": "C", "general": "G"}
# Staff who see every application: the window clerks and the people who watch the hall.
ALL_SEEING_ROLES = ("clerk", "supervisor", "admin", "finance")


def utcnow() -> datetime:
    """The real time; a rule reads the kernel's clock instead (``clock_of(session).now()``)."""
    return datetime.now(UTC)


def local_today(settings: IntakeSettings, at: datetime | None = None) -> date:
    """The hall's calendar date (now, or at ``at``)."""
    return (at or utcnow()).astimezone(ZoneInfo(settings.timezone)).date()


def sees_everything(principal: Principal) -> bool:
    """Clerks, supervisors, administrators and finance see every application."""
    return principal.is_staff and principal.has_role(*ALL_SEEING_ROLES)


def subject_kind(id_number: str) -> Literal["person", "enterprise"] | None:
    """``person`` for a valid resident ID number, ``enterprise`` for a valid credit code."""
    if ric.is_valid(id_number):
        return "person"
    if uscc.is_valid(id_number):
        return "enterprise"
    return None


def applicant_kind(id_number: str, declared: str | None, *, field: str) -> Literal["person", "enterprise"]:
    """The kind of an identity number a clerk typed in; 422 when it is not a valid one."""
    kind = subject_kind(id_number)
    if kind is None:
        raise Unprocessable(
            "The identity number is neither a valid resident ID number nor a unified social credit code.",
            errors=[field_error(field, "invalid identity number", "identity_number_invalid")],
        )
    if declared is not None and declared != kind:
        raise Unprocessable(
            f"The identity number belongs to a {kind}, not a {declared}.",
            errors=[field_error("applicant_kind", f"the number is a {kind}'s", "applicant_kind_mismatch", kind=kind)],
        )
    return kind
