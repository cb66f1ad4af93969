"""Response shapes of survey imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class SurveyImportOut(BaseModel):
    """What became of a file's rows."""

    import_id: str
    institution: str
    filename: str | None = None
    file_sha256: str
    imported_at: datetime
    rows: int
    added: int
    duplicates: int
    rejected: int
    errors: list[dict[str, Any]]
