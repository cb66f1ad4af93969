"""Statement budgets of the work every application brings (issue 22): routing an accepted
application and deciding its task. A change that adds a round trip (a read of what the code
already holds, a write per row, a reload after a write) shows here as a number."""

from __future__ import annotations

from services.approval.consumers import consumers
from services.approval.tests.harness import Approval, accepted


async def test_routing_and_deciding_an_application_take_few_statements(approval: Approval) -> None:
    data = accepted("STMT-1", departments=["STMT"], accepted_at=approval.clock.now())
    # The handler as the consumer calls it, in a transaction of its own, here in the test's task.
    routing = await approval.handle_counted(consumers, data)
    # The calendar's stamp, the application, its clocks, its task, its events (one INSERT each).
    assert len(routing) <= 5, routing

    [task] = await approval.open_tasks_now("STMT", "STMT-1")
    with approval.statements() as deciding:
        r = await approval.client.post(
            f"/api/v1/tasks/{task['task_id']}/decision",
            json={"decision": "approve", "opinion": "同意"},
            headers=approval.approver("STMT"),
        )
    assert r.status_code == 200, r.text
    assert r.json()["application_status"] == "approved" and r.json()["certificate_no"]
    # Reads: the application (locked), its tasks, its open clocks, the calendar's stamp. Writes:
    # the clocks stopped (one UPDATE), the task, the application, the certificate, the events.
    assert len(deciding.sql) <= 9, deciding.sql
    closed = await approval.wait_events("approval.clock.closed", 2, application_no="STMT-1")
    assert {e.data["clock_kind"] for e in closed} == {"task", "application"}
    await approval.wait_events("approval.certificate.issued", application_no="STMT-1")
