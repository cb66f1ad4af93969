"""Property tests of the courier webhook check: Standard Webhooks signatures over untrusted bytes.

``service.verify`` answers None (a current secret of the carrier signed the webhook at an
acceptable time) or a ``Rejection``, which the route answers as a 401 problem+json; it must
never raise, whatever arrives. The route around it must answer every unsigned or garbled
request with a 4xx problem and keep its audit row, never a 500.

What the ``standardwebhooks`` library tolerates (and these tests pin): the timestamp header is
read with ``float()``, so ``" 1700000000"``, ``"1700000000.9"`` or ``"+1700000000"`` stand for the
signed second; the signature is read with lenient base64 (characters outside the alphabet are
skipped, unused trailing bits ignored), and a header may list several signatures. None of that
lets a changed body, webhook id, second or MAC through.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from services.delivery.partners.secrets import parse_courier_secrets
from services.delivery.tests.harness import COURIER_SECRETS, POST_SECRET, Delivery, whsec
from services.delivery.webhooks.models import WebhookReceipt
from services.delivery.webhooks.service import CourierReport, Rejection, verify

SECRETS = parse_courier_secrets(COURIER_SECRETS)  # sim-express mid-rotation (two secrets), sim-post
CARRIERS = sorted(SECRETS.by_carrier)
EVERY_SECRET = [(carrier, secret) for carrier, secrets in SECRETS.by_carrier.items() for secret in secrets]
TOLERANCE = 300  # seconds either way, fixed by the library
SAFE = TOLERANCE - 30  # inside the tolerance however long an example takes
OUTSIDE = TOLERANCE + 30
LIMIT = 64 * 1024  # DeliverySettings.max_webhook_bytes

# --- strategies --------------------------------------------------------------------------------

ANY_CHAR = st.characters()  # every code point, surrogates included: header strings are just str
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-9, minutes=-30))])
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
reports = st.builds(
    CourierReport,
    tracking_no=st.one_of(
        st.from_regex(r"[A-Z]{2}[0-9]{9}[A-Z]{2}", fullmatch=True), st.text(CHARS, min_size=1, max_size=64)
    ),
    status=st.sampled_from(["picked_up", "in_transit", "delivered", "failed"]),
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES),
    reason=st.none() | st.text(CHARS, max_size=300),
)
webhook_ids = st.one_of(st.from_regex(r"msg_[0-9A-Za-z]{8,32}", fullmatch=True), st.text(min_size=1, max_size=200))
# Text edits of a header value: replace, insert or delete one character.
EDITS = st.sampled_from(["replace", "insert", "delete"])
TIMESTAMP_CHARS = st.one_of(st.sampled_from("0123456789 .+-eE_x\t١٢"), ANY_CHAR)
BASE64_CHARS = st.one_of(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_, v"), ANY_CHAR
)
GARBAGE_SIGNATURES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "v1",
            "v1,",
            "v1,,",
            ",",
            ",,",
            "v1a,xxx",
            "v2,abc",
            "v1,====",
            "v1,a",
            "v1,ab=c",
            "v1,*&^%",
            "v1,Zm9v YmFy",
            "v1,éé",
            "v1,  ",
            "v1,x v1,y",
            "v1,AAAA,BBBB",
            "v1 ,abc",
            "V1,abc",
            "v1,\x00",
            "v1,\ud800",
        ]
    ),
    st.from_regex(r"v1,[A-Za-z0-9+/]{0,64}={0,3}", fullmatch=True),
    st.from_regex(r"(v[0-9a-z]{0,3},[^ ]{0,50} ?){1,4}", fullmatch=True),
    st.text(ANY_CHAR, max_size=200),
    st.integers(10_000, 300_000).map(lambda n: "v1," + "A" * n),
)
EXTREME_TIMESTAMPS = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "9" * 400, "1e20", "-1e20"]),
    st.integers(min_value=10**12).map(str),
    st.integers(max_value=-(10**12)).map(str),
)


def edit(value: str, how: str, position: int, char: str) -> str:
    """``value`` with one character replaced, inserted or deleted at ``position`` (wrapped)."""
    if how == "insert":
        at = position % (len(value) + 1)
        return value[:at] + char + value[at:]
    at = position % len(value)
    return value[:at] + (char if how == "replace" else "") + value[at + 1 :]


def now() -> int:
    return int(time.time())


def signature(secret: str, body: bytes, webhook_id: str, timestamp: int) -> str:
    """The Standard Webhooks signature header value (``v1,<base64 HMAC-SHA256>``)."""
    when = datetime.fromtimestamp(timestamp, UTC)
    value: str = Webhook(secret).sign(msg_id=webhook_id, timestamp=when, data=body.decode())
    return value


def signed_headers(secret: str, body: bytes, webhook_id: str, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, body, webhook_id, timestamp),
    }


def rejected(carrier: str, body: bytes, headers: dict[str, str]) -> Rejection:
    """verify's answer, which must be a Rejection: not None, not an exception."""
    answer = verify(SECRETS, carrier=carrier, body=body, headers=headers)
    assert isinstance(answer, Rejection), f"accepted: {headers!r}"
    assert answer.outcome in ("bad_signature", "stale") and answer.detail
    return answer


def denotes_second(text: str, second: int) -> bool:
    """True when the library reads ``text`` as a time within ``second`` (it parses with float())."""
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and math.floor(value) == second


def carries_mac(header: str, mac: bytes) -> bool:
    """True when some ``v1`` entry of a signature header decodes (leniently) to ``mac``."""
    for entry in header.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1":
            try:
                if base64.b64decode(value) == mac:
                    return True
            except (binascii.Error, ValueError):
                continue
    return False


def body_of(report: CourierReport, pretty: bool) -> bytes:
    if pretty:
        return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2).encode()
    return report.model_dump_json().encode()


# --- (a) signed and fresh: verifies, and the body parses back to the same report --------------


@settings(max_examples=200, deadline=None)
@given(
    carrier_secret=st.sampled_from(EVERY_SECRET),
    report=reports,
    pretty=st.booleans(),
    webhook_id=webhook_ids,
    skew=st.integers(-SAFE, SAFE),
    title_case=st.booleans(),
)
def test_a_fresh_signed_report_verifies_and_parses_back(
    carrier_secret: tuple[str, str],
    report: CourierReport,
    pretty: bool,
    webhook_id: str,
    skew: int,
    title_case: bool,
) -> None:
    carrier, secret = carrier_secret  # either secret of a carrier mid-rotation verifies
    body = body_of(report, pretty)
    headers = signed_headers(secret, body, webhook_id, now() + skew)
    if title_case:
        headers = {name.title(): value for name, value in headers.items()}
    assert verify(SECRETS, carrier=carrier, body=body, headers=headers) is None
    assert CourierReport.model_validate_json(body) == report


@settings(max_examples=100, deadline=None)
@given(report=reports, webhook_id=webhook_ids, stranger=st.binary(min_size=1, max_size=32))
def test_another_carriers_or_a_strangers_secret_is_rejected(
    report: CourierReport, webhook_id: str, stranger: bytes
) -> None:
    body = body_of(report, False)
    for secret in (POST_SECRET, "whsec_" + base64.b64encode(stranger).decode(), whsec("an attacker")):
        headers = signed_headers(secret, body, webhook_id, now())
        assert rejected("sim-express", body, headers).outcome == "bad_signature"


# --- (b) any change to what was signed: a Rejection -------------------------------------------


@settings(max_examples=100, deadline=None)
@given(report=reports, webhook_id=webhook_ids, other=st.binary(max_size=600))
def test_any_other_body_is_rejected(report: CourierReport, webhook_id: str, other: bytes) -> None:
    body = body_of(report, False)
    assume(other != body)
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    assert rejected("sim-post", other, headers).outcome == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(report=reports, webhook_id=webhook_ids, position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_a_body_with_one_byte_changed_is_rejected(
    report: CourierReport, webhook_id: str, position: int, flip: int
) -> None:
    body = body_of(report, False)
    changed = bytearray(body)
    changed[position % len(body)] ^= flip
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    assert rejected("sim-post", bytes(changed), headers).outcome == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    other=st.one_of(st.text(ANY_CHAR, max_size=200), st.tuples(EDITS, st.integers(min_value=0), ANY_CHAR)),
)
def test_any_other_webhook_id_is_rejected(webhook_id: str, other: str | tuple[str, int, str]) -> None:
    changed = other if isinstance(other, str) else edit(webhook_id, *other)
    assume(changed != webhook_id)
    body = b'{"tracking_no":"SF1","status":"delivered","at":"2030-01-01T00:00:00Z"}'
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    assert rejected("sim-post", body, {**headers, "webhook-id": changed}).outcome == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    signed_skew=st.integers(-SAFE // 2, SAFE // 2),
    moved=st.one_of(st.integers(1, SAFE // 2), st.integers(-SAFE // 2, -1)),
)
def test_another_second_within_tolerance_is_rejected(webhook_id: str, signed_skew: int, moved: int) -> None:
    body = b"{}"
    start = now()
    headers = signed_headers(POST_SECRET, body, webhook_id, start + signed_skew)
    sent = {**headers, "webhook-timestamp": str(start + signed_skew + moved)}
    assert rejected("sim-post", body, sent).outcome == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(webhook_id=webhook_ids, skew=st.one_of(st.integers(OUTSIDE, 10**9), st.integers(-(10**9), -OUTSIDE)))
def test_a_signed_but_stale_or_future_timestamp_is_stale(webhook_id: str, skew: int) -> None:
    body = b'{"tracking_no":"SF1","status":"delivered","at":"2030-01-01T00:00:00Z"}'
    headers = signed_headers(POST_SECRET, body, webhook_id, now() + skew)  # a genuine signature, too late
    assert rejected("sim-post", body, headers).outcome == "stale"


@settings(max_examples=200, deadline=None)
@given(webhook_id=webhook_ids, how=EDITS, position=st.integers(min_value=0), char=TIMESTAMP_CHARS)
def test_a_timestamp_header_edit_verifies_only_if_it_reads_as_the_signed_second(
    webhook_id: str, how: str, position: int, char: str
) -> None:
    body = b"{}"
    second = now()
    headers = signed_headers(POST_SECRET, body, webhook_id, second)
    changed = edit(headers["webhook-timestamp"], how, position, char)
    assume(changed != headers["webhook-timestamp"])
    answer = verify(SECRETS, carrier="sim-post", body=body, headers={**headers, "webhook-timestamp": changed})
    if answer is None:
        assert denotes_second(changed, second), changed
    else:
        assert answer.outcome in ("bad_signature", "stale") and answer.detail


@settings(max_examples=100, deadline=None)
@given(webhook_id=webhook_ids, bit=st.integers(0, 255), version=st.sampled_from(["v1", "v1", "v2", "V1", "v1a"]))
def test_a_changed_mac_is_rejected(webhook_id: str, bit: int, version: str) -> None:
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    mac = bytearray(base64.b64decode(headers["webhook-signature"].split(",", 1)[1]))
    mac[bit // 8] ^= 1 << (bit % 8)
    forged = f"{version},{base64.b64encode(bytes(mac)).decode()}"
    assert rejected("sim-post", body, {**headers, "webhook-signature": forged}).outcome == "bad_signature"


@settings(max_examples=200, deadline=None)
@given(
    webhook_id=webhook_ids,
    edits=st.lists(st.tuples(EDITS, st.integers(min_value=0), BASE64_CHARS), min_size=1, max_size=3),
)
def test_a_signature_header_edit_verifies_only_if_it_still_carries_the_mac(
    webhook_id: str, edits: list[tuple[str, int, str]]
) -> None:
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    mac = base64.b64decode(headers["webhook-signature"].split(",", 1)[1])
    changed = headers["webhook-signature"]
    for how, position, char in edits:
        changed = edit(changed, how, position, char) if changed else char
    assume(changed != headers["webhook-signature"])
    answer = verify(SECRETS, carrier="sim-post", body=body, headers={**headers, "webhook-signature": changed})
    if answer is None:
        assert carries_mac(changed, mac), changed
    else:
        assert answer.outcome == "bad_signature" and answer.detail


# --- (c) arbitrary input: a Rejection, never an exception --------------------------------------

HEADER_NAMES = st.one_of(
    st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "Webhook-Signature", "WEBHOOK-ID"]),
    st.text(ANY_CHAR, max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(
    carrier=st.one_of(st.sampled_from(CARRIERS), st.text(ANY_CHAR, max_size=20)),
    body=st.binary(max_size=2000),
    headers=st.dictionaries(HEADER_NAMES, st.text(ANY_CHAR, max_size=300), max_size=6),
)
def test_arbitrary_bytes_and_headers_are_a_rejection(carrier: str, body: bytes, headers: dict[str, str]) -> None:
    rejected(carrier, body, headers)


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    present=st.sets(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]), max_size=2),
    empty=st.booleans(),
)
def test_missing_or_empty_headers_are_a_bad_signature(webhook_id: str, present: set[str], empty: bool) -> None:
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    sent = {name: (value if name in present else "") for name, value in headers.items()}
    if not empty:
        sent = {name: value for name, value in sent.items() if value}
    assert rejected("sim-post", body, sent).outcome == "bad_signature"


@settings(max_examples=200, deadline=None)
@given(webhook_id=webhook_ids, garbage=GARBAGE_SIGNATURES)
def test_garbage_signatures_are_a_bad_signature(webhook_id: str, garbage: str) -> None:
    body = b'{"tracking_no":"SF1","status":"delivered","at":"2030-01-01T00:00:00Z"}'
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    assert rejected("sim-post", body, {**headers, "webhook-signature": garbage}).outcome == "bad_signature"


@settings(max_examples=200, deadline=None)
@given(webhook_id=webhook_ids, text=st.text(ANY_CHAR, min_size=1, max_size=60))
def test_a_timestamp_that_is_no_number_is_a_bad_signature(webhook_id: str, text: str) -> None:
    try:
        float(text)
    except ValueError:
        pass
    else:
        assume(False)  # a number: the other tests' business
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    assert rejected("sim-post", body, {**headers, "webhook-timestamp": text}).outcome == "bad_signature"


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    skew=st.one_of(st.integers(OUTSIDE, 2**33), st.integers(-now() + 1, -OUTSIDE)),
)
def test_a_timestamp_out_of_tolerance_is_stale_whatever_the_signature(webhook_id: str, skew: int) -> None:
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    sent = {**headers, "webhook-timestamp": str(now() + skew)}
    assert rejected("sim-post", body, sent).outcome == "stale"


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    skew=st.integers(-OUTSIDE + 1, OUTSIDE - 1),
    shape=st.sampled_from(["{}.0", " {} ", "{} ", "{}.999", "{:+}", "0{}", "-{}", "{}e0"]),
)
def test_a_timestamp_spelled_any_other_way_is_refused(webhook_id: str, skew: int, shape: str) -> None:
    """Whole seconds in ASCII digits only: the library's float() would take these as the second."""
    at = now() + skew
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, at)
    sent = {**headers, "webhook-timestamp": shape.format(at)}
    rejection = rejected("sim-post", body, sent)
    assert rejection.outcome == "bad_signature"
    assert "digits" in rejection.detail


@settings(max_examples=100, deadline=None)
@given(webhook_id=webhook_ids, text=EXTREME_TIMESTAMPS)
def test_extreme_timestamps_are_a_rejection(webhook_id: str, text: str) -> None:
    body = b"{}"
    headers = signed_headers(POST_SECRET, body, webhook_id, now())
    rejected("sim-post", body, {**headers, "webhook-timestamp": text})


@settings(max_examples=100, deadline=None)
@given(
    webhook_id=webhook_ids,
    around=st.tuples(st.binary(max_size=250), st.binary(max_size=250)),
    broken=st.sampled_from([b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]),
)
def test_a_body_that_is_not_utf8_is_a_bad_signature(
    webhook_id: str, around: tuple[bytes, bytes], broken: bytes
) -> None:
    body = around[0] + broken + around[1]
    try:
        body.decode()
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # "\xc3" completed by the bytes after it
    headers = signed_headers(POST_SECRET, b"{}", webhook_id, now())
    assert rejected("sim-post", body, headers).outcome == "bad_signature"


# --- the route: every garbled request is a 4xx problem with its audit row --------------------

LATIN1 = st.text(st.characters(codec="latin-1"), max_size=300).map(lambda s: s.encode("latin-1"))
CONTENT_LENGTHS = st.one_of(
    st.none(),
    st.sampled_from([b"\xb2", b"\xb9\xb3", b"abc", b"-1", b" 12", b"1_000", b"", b"9" * 5000, b"0" * 5000 + b"1"]),
    st.from_regex(rb"[0-9]{1,30}", fullmatch=True),
    st.binary(max_size=30),
)


def declares_more_than(declared: bytes, limit: int) -> bool:
    """True when a Content-Length value is a number (ASCII digits) above ``limit``."""
    digits = declared.lstrip(b"0")
    return declared.isdigit() and (len(digits) > len(str(limit)) or int(digits or b"0") > limit)


async def receipt_count(delivery: Delivery) -> int:
    async with delivery.svc.kernel.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(WebhookReceipt))).scalar_one())


async def newest_receipt(delivery: Delivery) -> WebhookReceipt:
    async with delivery.svc.kernel.db.transaction() as session:
        row = await session.execute(select(WebhookReceipt).order_by(WebhookReceipt.id.desc()).limit(1))
        receipt: WebhookReceipt = row.scalar_one()
        return receipt


@settings(max_examples=100, deadline=None)
@given(
    carrier=st.one_of(
        st.sampled_from(CARRIERS),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=50).filter(lambda s: s.strip(".") and "/" not in s),
    ),
    body=st.binary(max_size=3000),
    values=st.fixed_dictionaries(
        {},
        optional={"webhook-id": LATIN1, "webhook-timestamp": LATIN1, "webhook-signature": LATIN1},
    ),
    declared=CONTENT_LENGTHS,
)
async def test_the_route_answers_any_unsigned_request_with_a_4xx_problem(
    delivery: Delivery, carrier: str, body: bytes, values: dict[str, bytes], declared: bytes | None
) -> None:
    headers = {name.encode(): value for name, value in values.items()}
    if declared is not None:
        headers[b"content-length"] = declared
    before = await receipt_count(delivery)
    r = await delivery.client.post(
        f"/api/v1/webhooks/couriers/{quote(carrier, safe='')}", content=body, headers=headers
    )
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if r.status_code == 400:  # refused before routing (owkernel.guard): nothing reached the route to audit
        assert "\x00" in carrier or "\\" in carrier, r.text
        assert await receipt_count(delivery) == before
        return
    if r.status_code == 413:  # refused on its declared length, unread: nothing to audit
        assert declared is not None and declares_more_than(declared, LIMIT)
        assert await receipt_count(delivery) == before
        return
    assert await receipt_count(delivery) == before + 1
    receipt = await newest_receipt(delivery)
    if carrier in SECRETS.by_carrier:
        assert r.status_code == 401 and receipt.outcome in ("bad_signature", "stale")
    else:
        assert r.status_code == 404 and receipt.outcome == "unknown_carrier"
    assert receipt.detail == r.json()["detail"][:500]
    # Refused: a sample of the body is kept, not the body (DeliverySettings.refused_webhook_sample_bytes).
    assert receipt.body_bytes == len(body) and len(receipt.body) <= 1024


def with_nul(report: CourierReport, field: str) -> bytes:
    """A report's JSON with a NUL character (escaped, valid JSON) in one of its text fields."""
    data = report.model_dump(mode="json")
    data[field] = "\x00" + (data[field] or "")
    return json.dumps(data).encode()


@settings(max_examples=60, deadline=None)
@given(
    carrier=st.sampled_from(CARRIERS),
    body=st.one_of(
        reports.map(lambda report: body_of(report, False)),
        st.tuples(reports, st.sampled_from(["tracking_no", "reason"])).map(lambda args: with_nul(*args)),
        st.text(st.characters(codec="utf-8"), max_size=300).map(str.encode),
        st.dictionaries(st.sampled_from(["tracking_no", "status", "at", "reason"]), st.text(max_size=20)).map(
            lambda d: json.dumps(d).encode()
        ),
    ),
    webhook_id=st.from_regex(r"msg_prop_[0-9a-f]{24}\x00?", fullmatch=True),
)
async def test_the_route_parses_a_signed_body_into_a_4xx_for_an_unknown_parcel(
    delivery: Delivery, carrier: str, body: bytes, webhook_id: str
) -> None:
    """Verified, then parsed: a report of a parcel nobody shipped is a 404, anything else a 422."""
    headers = signed_headers(SECRETS.by_carrier[carrier][0], body, webhook_id, now())
    sent = {name.encode(): value.encode() for name, value in headers.items()}  # bytes: a NUL as it is
    r = await delivery.client.post(f"/api/v1/webhooks/couriers/{carrier}", content=body, headers=sent)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
    receipt = await newest_receipt(delivery)
    assert receipt.webhook_id == webhook_id.replace("\x00", "\ufffd")  # audited, as text a column takes
    if "\x00" in webhook_id:
        expected = (422, "invalid")
    else:
        try:
            CourierReport.model_validate_json(body)
            expected = (404, "unknown_tracking")
        except ValueError:
            expected = (422, "invalid")
    assert (r.status_code, receipt.outcome) == expected
