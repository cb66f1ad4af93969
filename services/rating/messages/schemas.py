"""Response shapes of the applicant's messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class LinkMessageOut(BaseModel):
    """A rating link as its applicant received it: open ``url`` (or send ``token`` to ``by-link``)."""

    message_id: str
    link_id: str
    application_no: str
    text: str
    url: str
    token: str
    sent_at: datetime
    expires_at: datetime
    status: Literal["pending", "used", "expired"]
