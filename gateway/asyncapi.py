"""``GET /asyncapi.json``: the events' AsyncAPI 3 document, beside the merged ``/openapi.json``.

The document is generated from the event contracts and every component's consumer group by
``make catalogue`` (tools/asyncapi.py) and committed beside this module: the gateway never imports
the services, so it serves the file rather than building it. A test fails when it is stale.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

DOCUMENT = Path(__file__).resolve().parent / "asyncapi.json"

router = APIRouter()


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> Response:
    """The AsyncAPI document, as committed."""
    return Response(_BODY, media_type="application/json")


# Read once at import: a static file of the image, and no blocking read on the request path.
_BODY = DOCUMENT.read_bytes()
