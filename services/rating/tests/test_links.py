"""Rating links: a signed, single-use, expiring token lets the applicant rate without logging in."""

from __future__ import annotations

import json
import time
from typing import Any

from services.rating.reviews.service import LinkSigner, _b64, _unb64
from services.rating.tests.conftest import Client, Feeder, decided_application

SECRET = b"test-link-secret-0123456789"  # the module service's RATING_LINK_SECRET (see conftest)


async def make_link(rating: Client, application_no: str) -> dict[str, Any]:
    r = await rating.http.post(
        "/api/v1/ratings/links", json={"application_no": application_no}, headers=rating.staff("clerk_li", "clerk")
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_link_rates_once_without_login(rating: Client, feeder: Feeder) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-LINK")
    link = await make_link(rating, no)
    assert link["url"].endswith(link["token"]) and link["application_no"] == no

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
    no, _ = await decided_application(rating, feeder)
    link = await make_link(rating, no)
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
