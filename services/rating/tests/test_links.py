"""Rating links: a signed, single-use, expiring token lets the applicant rate without logging in.

The token goes to the applicant only (the simulated SMS sender keeps it in their inbox): the clerk
who asked for the link never sees anything that redeems it."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from services.rating.reviews.links import LinkSigner, _b64, _unb64
from services.rating.tests.harness import Client, Feeder, decided_application, idn

SECRET = b"test-link-secret-0123456789"  # the module service's RATING_LINK_SECRET (see conftest)


async def make_link(rating: Client, application_no: str) -> dict[str, Any]:
    """What the clerk gets back when they ask for a link."""
    r = await rating.http.post(
        "/api/v1/ratings/links", json={"application_no": application_no}, headers=rating.staff("clerk_li", "clerk")
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def my_links(rating: Client, applicant: str) -> list[dict[str, Any]]:
    """The rating links in the applicant's inbox, newest first."""
    r = await rating.http.get("/api/v1/ratings/links/mine", headers=rating.citizen(applicant))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"  # the answer redeems links: no cache keeps it
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def sent_link(rating: Client, application_no: str, applicant: str) -> dict[str, Any]:
    """Ask for a link as a clerk and read it as the applicant does (the message it went in)."""
    staff = await make_link(rating, application_no)
    message = next(m for m in await my_links(rating, applicant) if m["link_id"] == staff["link_id"])
    return message


async def test_staff_answer_carries_nothing_that_redeems_the_link(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder)
    asked = await rating.http.post(
        "/api/v1/ratings/links",
        json={"application_no": no},
        headers={**rating.staff("clerk_li", "clerk"), "Idempotency-Key": "link-" + no},
    )
    assert asked.status_code == 201, asked.text
    staff = asked.json()
    assert set(staff) == {"link_id", "application_no", "channel", "sent_to", "expires_at"}
    assert (staff["application_no"], staff["channel"], staff["sent_to"]) == (no, "sms", "138****0000")
    assert datetime.fromisoformat(staff["expires_at"]).utcoffset() is not None

    # The applicant finds the link in their messages: the SMS text carries it.
    [message] = await my_links(rating, applicant)
    assert (message["link_id"], message["application_no"], message["status"]) == (staff["link_id"], no, "pending")
    assert message["url"].endswith(message["token"]) and message["url"] in message["text"]
    assert message["expires_at"] == staff["expires_at"]

    # Nothing the clerk got back, first time or replayed, holds the token or its signature.
    replay = await rating.http.post(
        "/api/v1/ratings/links",
        json={"application_no": no},
        headers={**rating.staff("clerk_li", "clerk"), "Idempotency-Key": "link-" + no},
    )
    assert replay.json() == staff
    signature = message["token"].rpartition(".")[2]
    for answer in (asked.text, replay.text):
        assert message["token"] not in answer and signature not in answer

    r = await rating.http.post("/api/v1/ratings/by-link", json={"token": message["token"], "score": 5})
    assert r.status_code == 201, r.text
    assert [m["status"] for m in await my_links(rating, applicant)] == ["used"]


async def test_only_the_applicant_reads_their_links(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder)
    staff = await make_link(rating, no)
    assert [m["link_id"] for m in await my_links(rating, applicant)] == [staff["link_id"]]

    # Another applicant's inbox is their own; staff of any role have no inbox to read.
    assert await my_links(rating, idn()) == []
    for headers in (
        rating.staff("clerk_li", "clerk"),
        rating.staff("head", "approver", department="D-MARKET"),
        rating.supervisor,
        rating.admin,
    ):
        r = await rating.http.get("/api/v1/ratings/links/mine", headers=headers)
        assert r.status_code == 403, r.text
        assert "token" not in r.text
    r = await rating.http.get("/api/v1/ratings/links/mine")
    assert r.status_code == 401


async def test_an_applicants_links_page_newest_first(rating: Client, feeder: Feeder) -> None:
    applicant = idn()
    first, _ = await decided_application(rating, feeder, id_number=applicant)
    second, _ = await decided_application(rating, feeder, id_number=applicant)
    sent = [(await make_link(rating, no))["link_id"] for no in (first, second)]
    headers = rating.citizen(applicant)
    page = (await rating.http.get("/api/v1/ratings/links/mine", params={"limit": 1}, headers=headers)).json()
    assert [m["link_id"] for m in page["items"]] == [sent[1]] and page["next_cursor"]
    rest = await rating.http.get(
        "/api/v1/ratings/links/mine", params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [m["link_id"] for m in rest.json()["items"]] == [sent[0]] and rest.json()["next_cursor"] is None


async def test_link_rates_once_without_login(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-LINK")
    link = await sent_link(rating, no, applicant)

    first = await rating.http.post(
        "/api/v1/ratings/by-link", json={"token": link["token"], "score": 4, "comment": "快"}
    )
    assert first.status_code == 201, first.text
    assert (first.json()["channel"], first.json()["application_no"], first.json()["department"]) == (
        "link",
        no,
        "D-LINK",
    )

    again = await rating.http.post("/api/v1/ratings/by-link", json={"token": link["token"], "score": 1})
    assert again.status_code == 409 and "used" in again.json()["detail"]
    assert again.json()["code"] == "rating_link_used"

    # The link's rating is the application's one rating: the applicant cannot rate it online too,
    # and the rating is theirs (they see it among their own).
    online = await rating.http.post(
        "/api/v1/ratings", json={"application_no": no, "score": 5}, headers=rating.citizen(applicant)
    )
    assert online.status_code == 409
    mine = await rating.http.get("/api/v1/ratings", headers=rating.citizen(applicant))
    assert [i["channel"] for i in mine.json()["items"]] == ["link"]

    # A second link for a rated application is refused at once.
    r = await rating.http.post(
        "/api/v1/ratings/links", json={"application_no": no}, headers=rating.staff("clerk_li", "clerk")
    )
    assert r.status_code == 409


async def test_expired_or_forged_link_is_refused(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder)
    link = await sent_link(rating, no, applicant)
    body, _, _ = link["token"].partition(".")
    payload = json.loads(_unb64(body))

    # The same link signed with an expiry in the past: refused as expired, and nothing is used up.
    signer = LinkSigner(secret=SECRET)
    expired = signer.sign({**payload, "e": int(time.time()) - 1})
    r = await rating.http.post("/api/v1/ratings/by-link", json={"token": expired, "score": 5})
    assert r.status_code == 410 and "expired" in r.json()["detail"]

    # Tampering with the payload breaks the signature; a key we do not hold cannot sign.
    tampered = _b64(json.dumps({**payload, "e": payload["e"] + 10**6}).encode()) + "." + link["token"].split(".")[1]
    forged = LinkSigner(secret=b"someone else's key").sign(payload)
    for token in (tampered, forged, "not-a-token-at-all"):
        r = await rating.http.post("/api/v1/ratings/by-link", json={"token": token, "score": 5})
        assert r.status_code == 401, token

    # The genuine, unexpired link still works once.
    ok = await rating.http.post("/api/v1/ratings/by-link", json={"token": link["token"], "score": 5})
    assert ok.status_code == 201


async def test_links_are_for_staff_and_decided_applications(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder)
    for headers in ({}, rating.citizen(applicant), rating.staff("fin", "finance")):
        r = await rating.http.post("/api/v1/ratings/links", json={"application_no": no}, headers=headers)
        assert r.status_code in (401, 403)
    r = await rating.http.post(
        "/api/v1/ratings/links", json={"application_no": "UNKNOWN-9"}, headers=rating.staff("clerk_li", "clerk")
    )
    assert r.status_code == 404
