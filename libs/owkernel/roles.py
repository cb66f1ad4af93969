"""Staff roles and the route dependencies that admit them: one definition for every service.

A route declares who may call it with one of these aliases (``principal: Admin``); a service that
needs a set not listed here adds it here under a name of its own, so one name always means one
set of roles everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from owkernel.auth import ROLES, STAFF_ROLES, Principal, require_roles

ADMIN = "admin"
SUPERVISOR = "supervisor"
APPROVER = "approver"
CLERK = "clerk"
FINANCE = "finance"

# Who sees or acts across departments: supervisors and administrators.
SUPERVISING = (SUPERVISOR, ADMIN)
# Staff who work on cases (everyone but finance).
CASEWORKING = (APPROVER, SUPERVISOR, ADMIN, CLERK)
# Staff of the hall's floor who hand things to applicants (rating links...).
HALL = (CLERK, SUPERVISOR, ADMIN)

Admin = Annotated[Principal, Depends(require_roles(ADMIN))]
"""Administrators only."""
Supervisor = Annotated[Principal, Depends(require_roles(*SUPERVISING))]
"""Supervisors and administrators."""
Clerk = Annotated[Principal, Depends(require_roles(CLERK))]
"""Window clerks only."""
ClerkOrAdmin = Annotated[Principal, Depends(require_roles(CLERK, ADMIN))]
"""Window clerks and administrators."""
Finance = Annotated[Principal, Depends(require_roles(FINANCE))]
"""Finance only."""
CaseStaff = Annotated[Principal, Depends(require_roles(*CASEWORKING))]
"""Approvers, supervisors, administrators and clerks (not finance)."""
HallStaff = Annotated[Principal, Depends(require_roles(*HALL))]
"""Clerks, supervisors and administrators."""
Staff = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]
"""Any staff role, finance included."""

__all__ = [
    "ADMIN",
    "APPROVER",
    "CASEWORKING",
    "CLERK",
    "FINANCE",
    "HALL",
    "ROLES",
    "STAFF_ROLES",
    "SUPERVISING",
    "SUPERVISOR",
    "Admin",
    "CaseStaff",
    "Clerk",
    "ClerkOrAdmin",
    "Finance",
    "HallStaff",
    "Staff",
    "Supervisor",
]
