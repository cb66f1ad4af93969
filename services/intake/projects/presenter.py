"""The API's shape of a project and its stages."""

from __future__ import annotations

from services.intake.projects.models import Project
from services.intake.projects.schemas import AgencyOut, OwnerOut, ProjectOut, StageOut
from services.intake.projects.service import StageState


def stage_out(state: StageState) -> StageOut:
    """One stage: the application's item snapshot where there is one, else the catalog's item."""
    s, app, item = state.stage, state.app, state.item
    snapshot = app.item if app else None
    departments = (snapshot or {}).get("departments") or ((item.departments or [item.department]) if item else [])
    lead = (snapshot or {}).get("lead_department") or ((item.lead_department or item.department) if item else "")
    return StageOut(
        stage=s.stage,
        item_code=s.item_code,
        item_name=app.item_name if app else (item.name if item else s.item_code),
        departments=list(departments),
        lead_department=lead,
        committed_days=(snapshot or {}).get("committed_days") or (item.committed_days if item else 0),
        status=app.status if app else "not_started",
        application_no=app.application_no if app else None,
        deadline=app.deadline if app else None,
        accepted_at=app.accepted_at if app else None,
        approved_at=s.approved_at,
        working_days_used=s.working_days_used,
    )


def project_out(project: Project, stages: list[StageState]) -> ProjectOut:
    """The project with each stage's item, application, deadline and working days used."""
    out = [stage_out(s) for s in stages]
    return ProjectOut(
        project_no=project.project_no,
        name=project.name,
        investment_fen=project.investment_fen,
        key_project=project.key_project,
        owner=OwnerOut(id_number=project.owner_id_number, kind=project.owner_kind, name=project.owner_name),
        agency=AgencyOut.model_validate(project.agency) if project.agency else None,
        committed_days=sum(st.committed_days for st in out),
        created_at=project.created_at,
        stages=out,
    )
