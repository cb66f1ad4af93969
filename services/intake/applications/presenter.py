"""The API's shapes of an application, built from what the read side and the steps return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import RowMapping

from owkernel.pagination import Page, page_of
from services.intake.applications.models import ApplicationFacts, MaterialFacts
from services.intake.applications.reading import Dossier, certificate_waits_for, deferred_overdue, material_status
from services.intake.applications.schemas import (
    ApplicantOut,
    ApplicationSummary,
    ApplicationView,
    CertificateOut,
    DeferredOut,
    MaterialOut,
    PaymentOut,
    TimelineOut,
)


def material_out(row: MaterialFacts | None, spec: dict[str, Any], today: date) -> MaterialOut:
    """One material's state, as the item snapshot's ``spec`` names it."""
    code = spec["code"]
    name = spec.get("name", code)
    critical = bool(spec.get("critical", True))
    status = material_status(row, today)
    if row is None:
        return MaterialOut(code=code, name=name, critical=critical, status=status)
    return MaterialOut(
        code=code,
        name=name,
        critical=critical,
        status=status,
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        uploaded_at=row.uploaded_at,
        due_date=row.due_date,
        supplied_at=row.supplied_at,
    )


def material_row_out(row: MaterialFacts, today: date) -> MaterialOut:
    """A material just uploaded or supplied, named as its row is."""
    return material_out(row, {"code": row.code, "name": row.name, "critical": row.critical}, today)


def applicant_out(app: ApplicationFacts) -> ApplicantOut:
    """Who applied."""
    return ApplicantOut(
        id_number=app.applicant_id_number,
        kind=app.applicant_kind,
        name=app.applicant_name,
        phone=app.applicant_phone,
        subject_id=app.applicant_subject_id,
    )


def payment_out(app: ApplicationFacts) -> PaymentOut:
    """The fee and its payment."""
    amount = app.paid_amount_fen if app.payment_status == "paid" and app.paid_amount_fen is not None else app.fee_fen
    return PaymentOut(
        status=app.payment_status,
        payment_id=app.payment_id,
        amount_fen=amount,
        paid_at=app.paid_at,
    )


def _deferred_out(rows: Sequence[MaterialFacts], today: date) -> list[DeferredOut]:
    return [
        DeferredOut(
            code=m.code,
            name=m.name,
            due_date=m.due_date,
            supplied_at=m.supplied_at,
            overdue=deferred_overdue(m, today),
        )
        for m in rows
    ]


def application_view(dossier: Dossier, today: date) -> ApplicationView:
    """The whole application and its timeline, the materials' states as they stand on ``today``."""
    app = dossier.app
    rows = {m.code: m for m in dossier.materials}
    deferred = [m for m in rows.values() if m.is_deferred]
    return ApplicationView(
        application_no=app.application_no,
        status=app.status,
        item_code=app.item_code,
        item_version=app.item_version,
        item_name=app.item_name,
        item=app.item,
        window=app.window,
        hall=app.hall,
        accepted_hall=app.accepted_hall,
        department=app.department,
        departments=dossier.departments,
        channel=app.channel,
        applicant=applicant_out(app),
        project_no=app.project_no,
        stage=app.stage,
        form=app.form,
        deadline=app.deadline,
        materials=[material_out(rows.get(spec["code"]), spec, today) for spec in app.item.get("materials", [])],
        deferred_materials=_deferred_out(deferred, today),
        delivery=app.delivery,
        fee_fen=app.fee_fen,
        payment=payment_out(app),
        certificate=CertificateOut.model_validate(app.certificate) if app.certificate else None,
        certificate_waits_for=certificate_waits_for(app, deferred),
        clerk=app.clerk,
        reason=app.reason,
        working_days_used=app.working_days_used,
        created_at=app.created_at,
        submitted_at=app.submitted_at,
        accepted_at=app.accepted_at,
        decided_at=app.decided_at,
        completed_at=app.completed_at,
        timeline=[TimelineOut(at=t.at, event=t.event, detail=t.detail) for t in dossier.timeline],
    )


def summary(row: RowMapping) -> ApplicationSummary:
    """One line of the list, from a row of ``listing_repository.SUMMARY_COLUMNS``."""
    return ApplicationSummary(
        application_no=row["application_no"],
        status=row["status"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        item_version=row["item_version"],
        window=row["window"],
        hall=row["hall"],
        department=row["department"],
        applicant=ApplicantOut(
            id_number=row["applicant_id_number"],
            kind=row["applicant_kind"],
            name=row["applicant_name"],
            phone=row["applicant_phone"],
            subject_id=row["applicant_subject_id"],
        ),
        project_no=row["project_no"],
        stage=row["stage"],
        deadline=row["deadline"],
        fee_fen=row["fee_fen"],
        payment_status=row["payment_status"],
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        accepted_at=row["accepted_at"],
        decided_at=row["decided_at"],
        completed_at=row["completed_at"],
    )


def summary_page(rows: Sequence[RowMapping], limit: int) -> Page[ApplicationSummary]:
    """A page of list lines from up to ``limit + 1`` rows: the extra one says another page follows."""
    return page_of(rows, limit, key=lambda r: [r["id"]], item=summary)
