"""What every component refuses before routing, and the headers every response carries.

Two request shapes are ambiguous between the gateway and a service, and ambiguity between two
parsers is how a check made by one is skipped by the other:

- **A security header sent twice.** The gateway once checked the last ``Authorization`` against
  its revocation list while the service read the first, so a revoked token beside a junk one was
  honoured. A request that repeats a header we authenticate, authorise or de-duplicate on is
  refused (400), at the gateway and again at each service.
- **A path that means another path.** ``/api/v1/applications/../../metrics`` was routed by its
  prefix at the gateway and then normalised by the HTTP client into the service's ``/metrics``.
  Dot segments, encoded slashes and dots, and backslashes are refused (400) wherever they
  appear, so what is routed is exactly what is forwarded.

Responses carry ``nosniff``, ``X-Frame-Options: DENY`` and a same-origin referrer policy; an
``/api/`` response is ``Cache-Control: no-store`` unless its route chose otherwise, because most
carry personal data and a shared cache must never keep them.
"""

from __future__ import annotations

from collections.abc import Iterable

# Headers the platform authenticates, authorises or de-duplicates on: one value each, or none.
SINGLE_VALUED = frozenset(
    {
        b"authorization",
        b"x-device-key",
        b"idempotency-key",
        b"webhook-id",
        b"webhook-timestamp",
        b"webhook-signature",
        b"x-payment-timestamp",
        b"x-payment-signature",
        b"content-length",
        b"content-type",
        b"host",
    }
)
# Percent-encodings that would become a separator or a dot segment after decoding.
_ENCODED = (b"%2e", b"%2f", b"%5c", b"%00")

BASELINE_RESPONSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")


def duplicated_header(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The first single-valued header that appears more than once, or None."""
    seen: set[bytes] = set()
    for name, _ in headers:
        if name in SINGLE_VALUED:
            if name in seen:
                return name.decode("latin-1")
            seen.add(name)
    return None


def unsafe_path(path: str, raw_path: bytes | None) -> bool:
    """True when the path holds a dot segment, a backslash or an encoded slash, dot or NUL."""
    if "\\" in path or "\x00" in path:
        return True
    if "/." in path:
        for segment in path.split("/"):
            if segment in (".", ".."):
                return True
    if raw_path is not None and b"%" in raw_path:
        lowered = raw_path.lower()
        return any(code in lowered for code in _ENCODED)
    return False


def refusal(
    headers: Iterable[tuple[bytes, bytes]], path: str, raw_path: bytes | None, query: bytes = b""
) -> str | None:
    """Why a request must be refused before routing (a 400 problem's detail), or None."""
    if unsafe_path(path, raw_path):
        return "The path holds dot segments, backslashes or encoded separators; send the plain path."
    if b"%00" in query or b"\x00" in query:
        # No parameter of ours holds a NUL, and PostgreSQL's text cannot store or compare one.
        return "The query holds a NUL character (%00); send the parameters without it."
    duplicate = duplicated_header(headers)
    if duplicate is not None:
        return f"The {duplicate} header is sent more than once; send it once."
    return None


def with_response_headers(headers: list[tuple[bytes, bytes]], *, api: bool) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the baseline security headers (and no-store for an API response) it lacks."""
    present = {name.lower() for name, _ in headers}
    added = [pair for pair in BASELINE_RESPONSE_HEADERS if pair[0] not in present]
    if api and NO_STORE[0] not in present:
        added.append(NO_STORE)
    return [*headers, *added] if added else headers
