"""Verified identity (issue 18): a self-declared applicant is refused the ratings, rating links and
rectification cases bound to its number; the public figures stay open to it."""

from __future__ import annotations

import httpx

from services.rating.tests.harness import Client, Feeder, decided_application


def refused(r: httpx.Response) -> bool:
    """True for the 403 problem that says the identity is not proven."""
    return (
        r.status_code == 403
        and r.headers["content-type"] == "application/problem+json"
        and r.json()["type"].endswith("identity-not-verified")
    )


async def test_a_self_declared_applicant_is_refused_its_ratings_but_reads_the_figures(
    rating: Client, feeder: Feeder
) -> None:
    no, applicant = await decided_application(rating, feeder, department="D-ID")
    squatter = {"Authorization": f"Bearer {rating.keys.self_declared(applicant)}"}
    # It cannot rate in the applicant's name, nor read the applicant's ratings or links.
    assert refused(await rating.http.post("/api/v1/ratings", json={"application_no": no, "score": 1}, headers=squatter))
    link = await rating.http.post(
        "/api/v1/ratings/links", json={"application_no": no}, headers=rating.staff("clerk_li", "clerk")
    )
    assert link.status_code == 201, link.text
    assert refused(await rating.http.get("/api/v1/ratings/links/mine", headers=squatter))

    # The applicant's own bad review opens a case the squatter may neither read nor answer.
    bad = await rating.http.post(
        "/api/v1/ratings",
        json={"application_no": no, "score": 2, "comment": "窗口推诿"},
        headers=rating.citizen(applicant),
    )
    assert bad.status_code == 201, bad.text
    case_id = bad.json()["rectification_id"]
    assert refused(await rating.http.get("/api/v1/ratings", headers=squatter))
    assert refused(await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=squatter))
    visit = await rating.http.post(f"/api/v1/rectifications/{case_id}/visit", json={"account": "x"}, headers=squatter)
    assert refused(visit)

    stats = await rating.http.get("/api/v1/ratings/stats", params={"by": "department"}, headers=squatter)
    assert stats.status_code == 200, stats.text
    assert (await rating.http.get("/api/v1/rectifications/published", headers=squatter)).status_code == 200
    # The verified applicant reads its own.
    mine = await rating.http.get("/api/v1/ratings", headers=rating.citizen(applicant))
    assert [r["application_no"] for r in mine.json()["items"]] == [no]
    assert (
        await rating.http.get(f"/api/v1/rectifications/{case_id}", headers=rating.citizen(applicant))
    ).status_code == 200
