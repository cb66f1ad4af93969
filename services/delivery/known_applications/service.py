"""Applying intake's accepted applications and approval's certificates to delivery's copy, then
shipping the certificate or putting it at the window."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from owkernel.consumer import RetryLater
from owkernel.contracts.approval import CertificateIssued
from owkernel.contracts.intake import ApplicationAccepted
from owkernel.kernel import clock_of
from services.delivery.known_applications import repository
from services.delivery.known_applications.models import ApplicationFacts, DeliveryApplication
from services.delivery.pickups import service as pickups
from services.delivery.regions.divisions import is_valid_region
from services.delivery.shipments import repository as shipments_repo
from services.delivery.shipments import service as shipments
from services.delivery.timeutil import as_utc

log = structlog.get_logger("delivery.applications")


async def remember_accepted(session: AsyncSession, *, data: ApplicationAccepted) -> None:
    """Keep who applied and how the certificate travels (a repeat only refreshes, before issue)."""
    address = data.delivery.address
    values = {
        "applicant_id_number": data.applicant.id_number,
        "applicant_name": data.applicant.name,
        "applicant_phone": data.applicant.phone,
        "item_code": data.item.code,
        "item_name": data.item.name,
        "window": data.window,
        "method": data.delivery.method,
        "region_code": address.region_code if address else None,
        "address_detail": address.detail if address else None,
        "recipient": address.recipient if address else None,
        "recipient_phone": address.phone if address else None,
        "accepted_at": as_utc(data.accepted_at),
    }
    await repository.upsert_accepted(
        session, application_no=data.application_no, values=values, created_at=clock_of(session).now()
    )


async def dispatch_certificate(session: AsyncSession, *, data: CertificateIssued) -> None:
    """Mail the certificate (exactly one first shipment) or put it at the window."""
    now = clock_of(session).now()
    application: ApplicationFacts | None = await repository.issue_certificate(
        session, data.application_no, certificate_no=data.certificate_no, issued_at=now
    )
    if application is None:
        application = await _when_not_updated(session, data=data, now=now)
        if application is None:
            return
    if application.method != "mail":
        await pickups.open_pickup(session, application=application, reason="chosen")
        return
    address = shipments.address_of_application(application)
    if address is None:
        log.warning("certificate.no_address", application_no=application.application_no)
        await pickups.open_pickup(session, application=application, reason="no_address")
        return
    if not is_valid_region(address.region_code):
        log.warning("certificate.address_invalid", application_no=application.application_no)
        await pickups.open_pickup(session, application=application, reason="address_invalid")
        return
    await shipments.open_shipment(
        session,
        application_no=application.application_no,
        applicant_id_number=application.applicant_id_number,
        direction="outbound",
        attempt=1,
        address=address,
        certificate_no=data.certificate_no,
    )


async def _when_not_updated(
    session: AsyncSession, *, data: CertificateIssued, now: datetime
) -> DeliveryApplication | None:
    """The application a certificate that ``issue_certificate`` did not give goes on with, or None
    when nothing is left to do (its first shipment exists)."""
    application = await repository.get(session, data.application_no)
    if application is None:
        # The certificate overtook the acceptance: wait for it rather than guess the address.
        raise RetryLater(f"application {data.application_no} not accepted here yet")
    if application.certificate_no is None:
        # The acceptance committed between the UPDATE and this read (on PostgreSQL each statement
        # sees what was committed when it began): the certificate is the first after all.
        application.certificate_no = data.certificate_no
        application.certificate_issued_at = now
        return application
    # The same certificate again (a redelivered or re-published event) changes nothing: its
    # first shipment exists, or it takes the same branch as the first time (the copy no longer
    # changes once the certificate is issued) to open_pickup, which finds the pickup made then.
    # A cancelled pickup is left alone too: only a re-ship cancels one, and a re-ship means the
    # application has a first shipment. (A first certificate needs no such look: only
    # ``dispatch_certificate`` makes a first shipment, after giving the copy its certificate.)
    if await shipments_repo.by_attempt(
        session, application_no=application.application_no, direction="outbound", attempt=1
    ):
        return None
    return application
