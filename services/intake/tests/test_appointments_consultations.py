"""Appointments at the windows (capacity, any day a window opens) and consultations on a clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from owkernel.contracts import encode, make_envelope
from owkernel.contracts.approval import ClockClosed, ClockOpened
from owkernel.contracts.intake import ConsultationAsked, ConsultationReplied, VisitRecorded
from owtest import eventually, resident_id
from services.intake.tests.harness import MAIL, Hall


def next_weekday(weekday: int) -> date:
    """The next date (after today) falling on ``weekday`` (0 = Monday)."""
    day = date.today() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


async def book(hall: Hall, who: dict[str, str], **body: Any) -> Any:
    return await hall.client.post("/api/v1/appointments", json=body, headers=who)


async def test_slots_capacity_and_cancellation(hall: Hall) -> None:
    tuesday = next_weekday(1)
    slots = (
        await hall.client.get("/api/v1/appointments/slots", params={"window": "general", "date": tuesday.isoformat()})
    ).json()
    kinds = {s["kind"] for s in slots}
    assert kinds == {"regular", "lunch", "extended"} and all(s["available"] == 4 for s in slots)
    nine = f"{tuesday.isoformat()}T09:00"
    people = [resident_id() for _ in range(5)]
    for idn in people[:4]:
        r = await book(hall, hall.citizen(idn), window="general", slot=nine, kind="regular")
        assert r.status_code == 201, r.text
    r = await book(hall, hall.citizen(people[4]), window="general", slot=nine, kind="regular")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    # Cancelling frees the place.
    mine = (await hall.client.get("/api/v1/appointments", headers=hall.citizen(people[0]))).json()["items"]
    assert len(mine) == 1
    r = await hall.client.delete(f"/api/v1/appointments/{mine[0]['appointment_id']}", headers=hall.citizen(people[0]))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await book(hall, hall.citizen(people[4]), window="general", slot=nine, kind="regular")
    assert r.status_code == 201
    r = await book(hall, hall.citizen(people[4]), window="investment", slot=nine, kind="regular")
    assert r.status_code == 201, "each window has its own places"
    slot = next(
        s
        for s in (
            await hall.client.get(
                "/api/v1/appointments/slots", params={"window": "general", "date": tuesday.isoformat()}
            )
        ).json()
        if s["slot"] == nine
    )
    assert slot["booked"] == 4 and slot["available"] == 0
    # Bad bookings.
    lunch = f"{tuesday.isoformat()}T12:00"
    r = await book(hall, hall.citizen(people[1]), window="general", slot=lunch, kind="regular")
    assert r.status_code == 422, "that is a lunch-time slot"
    r = await book(hall, hall.citizen(people[1]), window="general", slot=lunch, kind="lunch")
    assert r.status_code == 201
    r = await book(hall, hall.citizen(people[1]), window="general", slot=lunch, kind="lunch")
    assert r.status_code == 409, "one booking per person and slot"
    r = await book(hall, hall.citizen(people[1]), window="general", slot="2020-01-07T09:00", kind="regular")
    assert r.status_code == 422, "in the past"
    r = await book(hall, hall.citizen(people[1]), window="general", slot=f"{tuesday.isoformat()}T03:00", kind="regular")
    assert r.status_code == 422, "not a slot the window opens"
    r = await book(hall, hall.citizen(people[1]), window="general", slot="tomorrow", kind="regular")
    assert r.status_code == 422
    other = hall.citizen(resident_id())
    r = await hall.client.delete(f"/api/v1/appointments/{mine[0]['appointment_id']}", headers=other)
    assert r.status_code == 403


async def test_the_last_places_go_once(hall: Hall) -> None:
    wednesday = next_weekday(2)
    ten = f"{wednesday.isoformat()}T10:00"
    people = [hall.citizen(resident_id()) for _ in range(7)]
    results = await asyncio.gather(*(book(hall, who, window="commercial", slot=ten, kind="regular") for who in people))
    assert sorted(r.status_code for r in results) == [201, 201, 201, 201, 409, 409, 409]
    params = {"window": "commercial", "date": wednesday.isoformat()}
    slot = next(
        s for s in (await hall.client.get("/api/v1/appointments/slots", params=params)).json() if s["slot"] == ten
    )
    assert slot["booked"] == 4


async def test_weekends_holidays_door_to_door_and_trips(hall: Hall) -> None:
    saturday = next_weekday(5)
    params = {"window": "commercial", "date": saturday.isoformat()}
    assert (await hall.client.get("/api/v1/appointments/slots", params=params)).json() == []
    me = hall.citizen(idn := resident_id())
    ten = f"{saturday.isoformat()}T10:00"
    assert (await book(hall, me, window="commercial", slot=ten, kind="extended")).status_code == 422
    opening = {"window": "commercial", "date": saturday.isoformat(), "start": "10:00", "end": "12:00"}
    r = await hall.client.post(
        "/api/v1/appointments/slots", json=opening | {"kind": "extended", "capacity": 1}, headers=me
    )
    assert r.status_code == 403
    r = await hall.client.post(
        "/api/v1/appointments/slots", json=opening | {"kind": "extended", "capacity": 1}, headers=hall.clerk
    )
    assert r.status_code == 201 and r.json()["available"] == 1
    await hall.add_item(code="A", trips=1)
    app = await hall.apply(me, "A")
    r = await book(hall, me, window="commercial", slot=ten, kind="extended", application_no=app["application_no"])
    assert r.status_code == 201 and r.json()["item_code"] == "A"
    booked = r.json()
    r = await book(hall, hall.citizen(resident_id()), window="commercial", slot=ten, kind="extended")
    assert r.status_code == 409
    # A holiday on a weekday: the window closes its default slot with capacity 0.
    monday = next_weekday(0)
    closing = {"window": "general", "date": monday.isoformat(), "start": "09:00", "end": "10:00", "kind": "regular"}
    r = await hall.client.post("/api/v1/appointments/slots", json=closing | {"capacity": 0}, headers=hall.admin)
    assert r.status_code == 201
    r = await book(hall, me, window="general", slot=f"{monday.isoformat()}T09:00", kind="regular")
    assert r.status_code == 422
    # Door-to-door: staff come to the applicant, who needs an address and makes no trip.
    d2d = {"window": "general", "date": saturday.isoformat(), "start": "14:00", "end": "17:00", "kind": "door_to_door"}
    await hall.client.post("/api/v1/appointments/slots", json=d2d | {"capacity": 2}, headers=hall.clerk)
    two = f"{saturday.isoformat()}T14:00"
    assert (await book(hall, me, window="general", slot=two, kind="door_to_door")).status_code == 422
    r = await book(hall, me, window="general", slot=two, kind="door_to_door", address=MAIL["address"])
    assert r.status_code == 201
    home = r.json()
    # The clerk marks both attended: one trip (the appointment at the window), none for the home visit.
    assert (
        await hall.client.post(f"/api/v1/appointments/{booked['appointment_id']}/attend", headers=me)
    ).status_code == 403
    for appointment in (booked, home):
        r = await hall.client.post(f"/api/v1/appointments/{appointment['appointment_id']}/attend", headers=hall.clerk)
        assert r.status_code == 200 and r.json()["status"] == "attended"
    r = await hall.client.delete(f"/api/v1/appointments/{booked['appointment_id']}", headers=me)
    assert r.status_code == 409
    visits = [d for _, d in await hall.published("intake.visit.recorded")]
    assert len(visits) == 1
    visit = visits[0]
    assert isinstance(visit, VisitRecorded) and visit.kind == "appointment" and visit.id_number == idn
    assert visit.application_no == app["application_no"] and visit.item_code == "A"
    # A clerk books for someone at the window; staff list a day's bookings.
    r = await book(hall, hall.clerk, window="commercial", slot=f"{next_weekday(2).isoformat()}T09:00", kind="regular")
    assert r.status_code == 422, "a clerk names the applicant"
    r = await hall.client.get("/api/v1/appointments", params={"date": saturday.isoformat()}, headers=hall.clerk)
    assert len(r.json()["items"]) == 2
    assert (await hall.client.get("/api/v1/appointments", headers=hall.approver("HEALTH"))).status_code == 403


async def test_consultation_runs_on_a_reply_clock(hall: Hall) -> None:
    await hall.add_item(department="HEALTH")
    me = hall.citizen(resident_id(), "赵六")
    r = await hall.client.post("/api/v1/consultations", json={"item_code": "NOPE", "question": "?"}, headers=me)
    assert r.status_code == 422
    r = await hall.client.post(
        "/api/v1/consultations", json={"item_code": "T-001", "question": "需要带什么材料？"}, headers=me
    )
    assert r.status_code == 201
    asked = r.json()
    cid = asked["consultation_id"]
    assert asked["status"] == "open" and asked["department"] == "HEALTH" and asked["asked_by"] == "赵六"
    # Approval opens the reply clock and tells its due date.
    bus = hall.svc.kernel.bus
    opened = make_envelope(
        ClockOpened(
            clock_id="c9",
            clock_kind="consultation",
            ref=cid,
            department="HEALTH",
            started_on=date(2026, 5, 6),
            due_date=date(2026, 5, 7),
            working_days=1,
        ),
        source="approval",
    )
    await bus.js.publish(bus.wire_subject(opened.type), encode(opened), headers={"Nats-Msg-Id": opened.id})

    async def due() -> bool:
        body = (await hall.client.get(f"/api/v1/consultations/{cid}", headers=me)).json()
        return bool(body["due_date"] == "2026-05-07")

    await eventually(due, timeout=20)
    r = await hall.client.post(f"/api/v1/consultations/{cid}/reply", json={"answer": "带身份证"}, headers=me)
    assert r.status_code == 403, "staff reply"
    r = await hall.client.post(
        f"/api/v1/consultations/{cid}/reply", json={"answer": "带身份证"}, headers=hall.approver("MARKET")
    )
    assert r.status_code == 403, "another department's"
    r = await hall.client.post(
        f"/api/v1/consultations/{cid}/reply", json={"answer": "带身份证和申请表"}, headers=hall.approver("HEALTH")
    )
    assert r.status_code == 200 and r.json()["status"] == "replied" and r.json()["replied_by"] == "approver_health"
    r = await hall.client.post(f"/api/v1/consultations/{cid}/reply", json={"answer": "again"}, headers=hall.clerk)
    assert r.status_code == 409
    closed = make_envelope(
        ClockClosed(clock_id="c9", clock_kind="consultation", ref=cid, on_time=True, closed_at=datetime.now(UTC)),
        source="approval",
    )
    await bus.js.publish(bus.wire_subject(closed.type), encode(closed), headers={"Nats-Msg-Id": closed.id})

    async def on_time() -> bool:
        return bool((await hall.client.get(f"/api/v1/consultations/{cid}", headers=me)).json()["on_time"] is True)

    await eventually(on_time, timeout=20)
    asked_events = [d for _, d in await hall.published("intake.consultation.asked")]
    replied_events = [d for _, d in await hall.published("intake.consultation.replied")]
    assert isinstance(asked_events[0], ConsultationAsked) and asked_events[0].consultation_id == cid
    assert asked_events[0].department == "HEALTH" and asked_events[0].reply_days == 1
    assert isinstance(replied_events[0], ConsultationReplied) and replied_events[0].replied_by == "approver_health"
    # Who sees which consultations.
    assert len((await hall.client.get("/api/v1/consultations", headers=me)).json()["items"]) == 1
    stranger = hall.citizen(resident_id())
    assert (await hall.client.get("/api/v1/consultations", headers=stranger)).json()["items"] == []
    assert (await hall.client.get(f"/api/v1/consultations/{cid}", headers=stranger)).status_code == 403
    health = (await hall.client.get("/api/v1/consultations", headers=hall.approver("HEALTH"))).json()["items"]
    assert [c["consultation_id"] for c in health] == [cid]
    assert (await hall.client.get("/api/v1/consultations", headers=hall.approver("MARKET"))).json()["items"] == []


async def test_future_appointments_are_capped_per_person(limited_hall: Hall) -> None:
    hall = limited_hall  # three future appointments per person
    tuesday, wednesday = next_weekday(1), next_weekday(2)
    idn = resident_id()
    me = hall.citizen(idn)
    booked = []
    for slot in (f"{tuesday}T09:00", f"{tuesday}T10:00", f"{wednesday}T09:00"):
        r = await book(hall, me, window="general", slot=slot, kind="regular")
        assert r.status_code == 201, r.text
        booked.append(r.json()["appointment_id"])
    r = await book(hall, me, window="investment", slot=f"{wednesday}T10:00", kind="regular")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert "3 future appointments" in problem["detail"] and "cancel" in problem["detail"]
    assert problem["max_future_appointments"] == 3
    r = await book(
        hall, hall.clerk, window="investment", slot=f"{wednesday}T10:00", kind="regular", applicant_id_number=idn
    )
    assert r.status_code == 409, "a clerk booking for the person counts against the same cap"
    slots = (
        await hall.client.get("/api/v1/appointments/slots", params={"window": "investment", "date": str(wednesday)})
    ).json()
    assert next(s for s in slots if s["start"] == "10:00")["booked"] == 0, "the refused booking took no place"
    # Cancelling frees the place in the cap; someone else has their own.
    assert (await hall.client.delete(f"/api/v1/appointments/{booked[0]}", headers=me)).status_code == 200
    r = await book(hall, me, window="investment", slot=f"{wednesday}T10:00", kind="regular")
    assert r.status_code == 201, r.text
    r = await book(hall, hall.citizen(resident_id()), window="investment", slot=f"{wednesday}T10:00", kind="regular")
    assert r.status_code == 201
    # An attended appointment is no longer a future one.
    r = await hall.client.post(f"/api/v1/appointments/{booked[1]}/attend", headers=hall.clerk)
    assert r.status_code == 200
    r = await book(hall, me, window="commercial", slot=f"{wednesday}T11:00", kind="regular")
    assert r.status_code == 201, r.text


async def test_a_nul_character_is_the_clients_to_fix(hall: Hall) -> None:
    """PostgreSQL's text cannot hold a NUL: in a query it is refused before routing, in a body it is a
    422 problem where the database refuses it, and never a 500 (the fuzzer found a 500 on PostgreSQL)."""
    await hall.add_item(department="HEALTH")
    r = await hall.client.get("/api/v1/applications", params={"applicant_id_number": "\x00"}, headers=hall.clerk)
    assert r.status_code == 400 and "NUL" in r.json()["detail"], r.text
    me = hall.citizen(resident_id(), "赵六")
    r = await hall.client.post(
        "/api/v1/consultations", json={"item_code": "T-001", "question": "带什么\u0000材料？"}, headers=me
    )
    if hall.svc.kernel.db.engine.dialect.name == "postgresql":
        assert r.status_code == 422 and r.json()["code"] == "text_not_storable", r.text
    else:  # SQLite stores it as it came
        assert r.status_code == 201, r.text
