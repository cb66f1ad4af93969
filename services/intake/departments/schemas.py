"""Department request and response shapes (docs/api.md "Departments")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Upper-case letters, digits and "_", starting with a letter: "DRC", "MARKET", "PUBSEC".
DEPARTMENT_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,19}$"

DepartmentCode = Annotated[str, Field(pattern=DEPARTMENT_CODE_PATTERN, min_length=2, max_length=20)]
DepartmentName = Annotated[str, Field(min_length=1, max_length=200)]


class DepartmentOut(BaseModel):
    """A department: ``name`` is the Chinese name, ``name_en`` the English one."""

    code: str
    name: str
    name_en: str


class DepartmentNames(BaseModel):
    """``PUT /api/v1/departments/{code}``: an administrator renames a department."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: DepartmentName
    name_en: DepartmentName


class DepartmentIn(DepartmentNames):
    """``POST /api/v1/departments``: an administrator registers a department."""

    code: DepartmentCode
