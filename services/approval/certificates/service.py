"""Certificates: issued right after approval, verifiable by anyone with the number and the code."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.contracts.approval import CertificateIssued
from services.approval.certificates import repository
from services.approval.certificates.models import Certificate
from services.approval.db import outbox
from services.approval.runtime import Runtime
from services.approval.tasks.models import ApplicationFacts

# No 0/O, 1/I/L: the code is read off paper and typed in.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_verification_code() -> str:
    """A random code (about 50 bits): guessing one is hopeless."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_certificate_no(issued: datetime) -> str:
    """A certificate number: issue date and a random part (unique across replicas without a counter)."""
    return f"OWC{issued:%Y%m%d}{secrets.token_hex(5).upper()}"


async def issue(
    session: AsyncSession, *, runtime: Runtime, application: ApplicationFacts, at: datetime, fresh: bool = False
) -> Certificate:
    """Issue the certificate of an approved application (once) and announce it.

    ``fresh`` is the caller's word that the application has none yet (it was approved in this
    transaction), which saves the look-up; the unique application_no still holds.
    """
    if not fresh and (existing := await repository.by_application(session, application.application_no)) is not None:
        return existing
    certificate = Certificate(
        certificate_no=new_certificate_no(at.astimezone(runtime.tz)),
        application_no=application.application_no,
        holder_id_number=application.applicant_id_number,
        holder_name=application.applicant_name,
        item_code=application.item_code,
        item_name=application.item_name,
        department=application.lead_department or application.department,
        issued_on=runtime.local_date(at),
        verification_code=new_verification_code(),
        issued_at=at,
    )
    await repository.add(session, certificate)
    await outbox.add(
        session,
        CertificateIssued(
            certificate_no=certificate.certificate_no,
            application_no=certificate.application_no,
            holder_id_number=certificate.holder_id_number,
            holder_name=certificate.holder_name,
            item_code=certificate.item_code,
            item_name=certificate.item_name,
            issued_on=certificate.issued_on,
            verification_code=certificate.verification_code,
        ),
    )
    return certificate


def code_matches(certificate: Certificate, code: str) -> bool:
    """Constant-time check of a verification code (case and spaces forgiven)."""
    given = code.strip().replace(" ", "").replace("-", "").upper()
    return hmac.compare_digest(given.encode(), certificate.verification_code.encode())


def mask_name(name: str) -> str:
    """张三丰 -> 张*丰; enough for the holder to recognise, not enough to harvest."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(id_number: str) -> str:
    """370602********1234."""
    if len(id_number) <= 10:
        return id_number[:2] + "*" * max(len(id_number) - 2, 0)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
