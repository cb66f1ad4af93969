"""Certificates: anyone checks one is genuine; its holder and staff read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from owkernel.app import SessionDep
from owkernel.auth import VerifiedPrincipal
from owkernel.errors import Forbidden, NotFound
from services.approval.certificates import repository, service
from services.approval.certificates.schemas import CertificateOut, VerificationOut

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])


@router.get("/{certificate_no}/verify", response_model=VerificationOut)
async def verify(
    certificate_no: str,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=64, description="The verification code on the certificate")],
) -> VerificationOut:
    """Is this certificate genuine? A wrong code says only "not valid" (the holder's data stays private)."""
    certificate = await repository.get(session, certificate_no)
    if certificate is None:
        raise NotFound("No certificate has this number.")
    if not service.code_matches(certificate, code):
        return VerificationOut(certificate_no=certificate_no, valid=False)
    return VerificationOut(
        certificate_no=certificate.certificate_no,
        valid=True,
        item_code=certificate.item_code,
        item_name=certificate.item_name,
        holder_name=service.mask_name(certificate.holder_name),
        holder_id_number=service.mask_id(certificate.holder_id_number),
        department=certificate.department,
        issued_on=certificate.issued_on,
    )


@router.get("/{certificate_no}", response_model=CertificateOut)
async def get_certificate(certificate_no: str, session: SessionDep, principal: VerifiedPrincipal) -> CertificateOut:
    """The whole certificate, for its holder and for staff."""
    certificate = await repository.get(session, certificate_no)
    if certificate is None:
        raise NotFound("No certificate has this number.")
    if not principal.is_staff and principal.id_number != certificate.holder_id_number:
        raise Forbidden("This certificate belongs to someone else.")
    return CertificateOut(
        certificate_no=certificate.certificate_no,
        application_no=certificate.application_no,
        holder_id_number=certificate.holder_id_number,
        holder_name=certificate.holder_name,
        item_code=certificate.item_code,
        item_name=certificate.item_name,
        department=certificate.department,
        issued_on=certificate.issued_on,
        verification_code=certificate.verification_code,
    )
