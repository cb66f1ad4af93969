"""Response shapes of certificates."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class VerificationOut(BaseModel):
    """Whether a certificate number and code belong together; details only when they do."""

    certificate_no: str
    valid: bool
    item_code: str | None = None
    item_name: str | None = None
    holder_name: str | None = None
    holder_id_number: str | None = None
    department: str | None = None
    issued_on: date | None = None


class CertificateOut(BaseModel):
    """A certificate, for its holder and for staff."""

    certificate_no: str
    application_no: str
    holder_id_number: str
    holder_name: str
    item_code: str
    item_name: str
    department: str
    issued_on: date
    verification_code: str
