"""Each role's own work through the console's pages (issue 20), on the real stack.

One test per role: the citizen registers an investment project and applies for its first stage,
books an appointment and cancels it, asks a consultation that the window's clerk answers on the
clerk's page and reads the answer; an enterprise's agent, acting for the enterprise, registers a
project in the enterprise's name; the supervisor records an inspection finding, takes its
rectification through the return visit to the result, and computes the month's assessment;
finance reads the month's courier bill and downloads its CSV. Every page is screenshot at
desktop and phone width and checked with axe-core.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_console import (
    ARTIFACTS,
    DESKTOP,
    PDF,
    PHONE,
    Console,
    fresh_credit_code,
    fresh_resident_id,
)
from tests.e2e import MAIL, Caller, accept, approve, wait_for
from tools.seed import DEMO_PASSWORD, demo_resident_id
from tools.stack import Stack

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]

HALL_ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def console(stack: Stack, browser: Browser) -> Iterator[Console]:
    """The console in its own browser contexts; no script error may happen on any page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    running = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        yield running
    finally:
        running.close()
    assert running.errors == [], running.errors


def both_widths(console: Console, page: Page, name: str) -> None:
    """Screenshot at desktop and phone width; axe-core finds nothing serious at either (shot runs it)."""
    page.set_viewport_size(DESKTOP)
    console.shot(page, f"{name}")
    page.set_viewport_size(PHONE)
    console.shot(page, f"{name}-phone")
    # Nothing sideways at 375 px: the page fits the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, f"{name} overflows at 375 px"
    page.set_viewport_size(DESKTOP)


def next_weekday() -> date:
    """A weekday after today in the hall's time zone: its default slots are all still ahead."""
    day = datetime.now(HALL_ZONE).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_citizen_registers_a_project_books_an_appointment_and_asks_a_question(console: Console) -> None:
    citizen = console.tab()
    console.login(citizen, demo_resident_id())

    # --- an investment project and its four stages -------------------------------------------
    citizen.locator("nav a[href='#/projects']").click()
    expect(citizen.locator("main h1")).to_have_text("投资项目")
    expect(citizen.locator("#projects .empty")).to_have_text("还没有项目。在上方登记第一个项目。")
    both_widths(console, citizen, "work-30-projects-empty")
    citizen.locator("#project-form button[type=submit]").click()
    expect(citizen.locator("#project-form input[name=name]")).to_have_attribute("aria-invalid", "true")
    citizen.locator("#project-form input[name=name]").fill("芝罘区智能制造产业园")
    citizen.locator("#project-form input[name=investment]").fill("1200")
    citizen.get_by_label("重点项目（可申请代办服务）").check()
    citizen.locator("#project-form button[type=submit]").click()
    expect(citizen).to_have_url(re.compile(r"#/projects/"))
    expect(citizen.locator("main h1")).to_have_text("芝罘区智能制造产业园")
    project_no = citizen.locator("#project-no").inner_text().strip()
    stages = citizen.locator("#stages li.stage")
    expect(stages).to_have_count(4)
    expect(stages.nth(0).locator(".chip")).to_have_text("未开始")
    expect(stages.nth(1)).to_contain_text("上一阶段批准后才会受理")
    both_widths(console, citizen, "work-31-project-stages")
    stages.nth(0).get_by_role("button", name="申请本阶段").click()
    expect(citizen).to_have_url(re.compile(r"#/applications/"))
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "draft")
    application_no = citizen.locator("#app-no").inner_text().strip()
    citizen.goto(f"{console.base}#/projects/{project_no}")
    first = citizen.locator("#stages li.stage[data-stage='1']")
    expect(first).to_have_attribute("data-status", "draft")
    expect(first.get_by_role("link", name=f"查看申请 {application_no}")).to_be_visible()
    citizen.locator("nav a[href='#/projects']").click()
    expect(citizen.locator(f"#projects li[data-project='{project_no}']")).to_contain_text("1,200")
    both_widths(console, citizen, "work-32-projects-mine")

    # --- an appointment: the day's slots, book one, cancel it ---------------------------------
    day = next_weekday().isoformat()
    citizen.locator("nav a[href='#/appointments']").click()
    expect(citizen.locator("main h1")).to_have_text("预约办事")
    citizen.locator("#book-window").select_option("general")
    citizen.locator("#book-date").fill(day)
    citizen.get_by_role("button", name="查看时段").click()
    slot = citizen.locator(f"#book-slots li.slot[data-slot='{day}T09:00']")
    expect(slot).to_contain_text("余 4 个")
    expect(citizen.locator(f"#book-slots li.slot[data-slot='{day}T12:00']")).to_contain_text("午间")
    expect(citizen.locator(f"#book-slots li.slot[data-slot='{day}T17:00']")).to_contain_text("延时")
    expect(citizen.locator("#my-appointments .empty")).to_have_text("还没有预约。")
    both_widths(console, citizen, "work-33-appointments")
    slot.get_by_role("button", name="预约 09:00–10:00").click()
    expect(citizen.locator("#status")).to_contain_text(f"已预约 {day} 09:00–10:00")
    expect(slot).to_contain_text("余 3 个")
    booked = citizen.locator("#my-appointments li[data-status='booked']")
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("综合窗口")
    both_widths(console, citizen, "work-34-appointment-booked")
    booked.get_by_role("button", name="取消预约").click()
    expect(citizen.locator("#my-appointments li[data-status='cancelled']")).to_have_count(1)
    expect(slot).to_contain_text("余 4 个")

    # --- a consultation, answered by the window's clerk on the clerk's page -------------------
    citizen.locator("nav a[href='#/consultations']").click()
    expect(citizen.locator("main h1")).to_have_text("办事咨询")
    question = "低保审核需要提供几个月的收入证明？"
    citizen.locator("#ask-form select[name=item_code]").select_option("CIVIL-002")
    citizen.locator("#ask-form textarea[name=question]").fill(question)
    citizen.locator("#ask-form button[type=submit]").click()
    mine = citizen.locator("#my-consultations li.consultation").filter(has_text=question)
    expect(mine).to_have_attribute("data-status", "open")
    expect(mine.locator(".waiting")).to_contain_text("等待答复")
    both_widths(console, citizen, "work-35-consultation-asked")

    clerk = console.tab()
    console.login(clerk, "clerk")
    clerk.locator("nav a[href='#/desk/consultations']").click()
    expect(clerk.locator("main h1")).to_have_text("咨询答复")
    waiting = clerk.locator("#consultations li.consultation").filter(has_text=question)
    expect(waiting).to_be_visible()
    console.shot(clerk, "work-36-desk-consultations")
    waiting.locator("button[type=submit]").click()
    expect(waiting.locator("textarea")).to_have_attribute("aria-invalid", "true")
    waiting.locator("textarea").fill("需提供近 6 个月的家庭收入证明。")
    waiting.get_by_role("button", name="发送答复").click()
    expect(clerk.locator("#status")).to_contain_text("已答复")
    expect(clerk.locator("#consultations li.consultation").filter(has_text=question)).to_have_count(0)

    citizen.reload()
    answered = citizen.locator("#my-consultations li.consultation").filter(has_text=question)
    expect(answered).to_have_attribute("data-status", "replied")
    expect(answered.locator(".answer-text")).to_have_text("需提供近 6 个月的家庭收入证明。")
    both_widths(console, citizen, "work-37-consultation-answered")
    citizen.locator("#lang-toggle").click()
    expect(citizen.locator("main h1")).to_have_text("Ask a question")
    console.shot(citizen, "work-37b-consultation-answered-en")


def test_an_agent_acting_for_an_enterprise_registers_its_project(console: Console) -> None:
    agent_id, enterprise_id = fresh_resident_id(), fresh_credit_code()
    agent = console.tab(PHONE)
    console.province_login(agent, agent_id, "孙八")
    company = console.tab()
    console.province_login(company, enterprise_id, "烟台项目示范有限公司")
    company.locator("nav a[href='#/account']").click()
    company.get_by_label("经办人身份证号").fill(agent_id)
    company.get_by_role("button", name="添加经办人").click()
    expect(company.locator(f"#agents li[data-id-number='{agent_id}']")).to_be_visible()

    agent.goto(f"{console.base}#/account")
    agent.locator(f"#act-for li[data-id-number='{enterprise_id}']").get_by_role("button", name="代表此企业办理").click()
    expect(agent.locator("#acting")).to_contain_text("正在代表 烟台项目示范有限公司")
    agent.locator("nav a[href='#/projects']").click()
    expect(agent.locator("main h1")).to_have_text("投资项目")
    agent.locator("#project-form input[name=name]").fill("烟台港物流仓储中心")
    agent.locator("#project-form input[name=investment]").fill("800.5")
    agent.locator("#project-form button[type=submit]").click()
    expect(agent).to_have_url(re.compile(r"#/projects/"))
    expect(agent.locator("#project-owner")).to_contain_text(enterprise_id)
    expect(agent.locator("#stages li.stage")).to_have_count(4)
    both_widths(console, agent, "work-38-agent-project")
    project_no = agent.locator("#project-no").inner_text().strip()

    # The enterprise itself sees the project its agent registered.
    company.locator("nav a[href='#/projects']").click()
    row = company.locator(f"#projects li[data-project='{project_no}']")
    expect(row).to_contain_text("烟台港物流仓储中心")
    expect(row).to_contain_text("800.5")


def test_supervisor_records_an_inspection_closes_its_rectification_and_reads_the_assessment(
    console: Console,
) -> None:
    supervisor = console.tab()
    console.login(supervisor, "supervisor")
    supervisor.locator("nav a[href='#/supervision/inspections']").click()
    expect(supervisor.locator("main h1")).to_have_text("现场检查")
    both_widths(console, supervisor, "work-40-inspections")
    problem = "综合窗口工作人员离岗未放置暂停服务提示牌。"
    form = supervisor.locator("#inspection-form")
    form.locator("select[name=department]").select_option("CIVIL")
    form.locator("select[name=window]").select_option("general")
    form.locator("textarea[name=problem]").fill(problem)
    form.locator("input[name=penalty]").fill("通报批评")
    form.locator("input[name=penalty_points]").fill("5")
    form.locator("button[type=submit]").click()
    expect(supervisor.locator("#status")).to_contain_text("检查结果已记录并公开")
    finding = supervisor.locator("#inspections li.inspection").filter(has_text=problem)
    expect(finding).to_contain_text("扣 5 分")
    expect(finding.get_by_role("link", name="整改：待办")).to_be_visible()

    supervisor.locator("nav a[href='#/supervision/rectifications']").click()
    expect(supervisor.locator("main h1")).to_have_text("整改")
    case = supervisor.locator("#rectifications li[data-status='open']").filter(has_text="检查")
    expect(case.first).to_be_visible()
    both_widths(console, supervisor, "work-41-rectifications")
    supervisor.go_back()
    finding.get_by_role("link", name="整改：待办").click()
    expect(supervisor.locator("main h1")).to_have_text("CIVIL · 检查")
    supervisor.get_by_label("申请人确认问题属实").check()
    supervisor.locator("textarea[name=account]").fill("电话回访窗口负责人，确认已整改并张贴提示牌。")
    supervisor.get_by_role("button", name="保存回访").click()
    expect(supervisor.locator("#visit")).to_contain_text("确认已整改")
    supervisor.locator("textarea[name=result]").fill("已对当事人批评教育，离岗必须放置提示牌。")
    supervisor.get_by_role("button", name="记录整改结果并结案").click()
    expect(supervisor.locator("main section.rectification")).to_have_attribute("data-status", "rectified")
    expect(supervisor.locator("#result")).to_contain_text("离岗必须放置提示牌")
    both_widths(console, supervisor, "work-42-rectification-closed")

    supervisor.locator("nav a[href='#/supervision/assessment']").click()
    expect(supervisor.locator("main h1")).to_have_text("月度考核")
    supervisor.locator("#assess-scope").select_option("department")
    supervisor.get_by_role("button", name="计算并公布本月考核").click()
    expect(supervisor.locator("#status")).to_contain_text("考核已计算")
    civil = supervisor.locator("#assessments li.assessment[data-key='CIVIL']")
    expect(civil).to_be_visible()
    civil.locator("summary").click()
    expect(civil.locator("tr[data-component='inspections']")).to_contain_text("1 finding(s), 5 point(s)")
    score = float(civil.locator(".chip.score").inner_text().split()[0])
    assert score <= 95.0, score
    both_widths(console, supervisor, "work-43-assessment")
    supervisor.locator("#assess-scope").select_option("hall")
    expect(supervisor.locator("#assessments li.assessment[data-key='CITY']")).to_be_visible()


def mailed_and_shipped(gateway_url: str) -> str:
    """An application mailed its certificate (the demo citizen, the window, the department):
    what puts a shipment on this month's bill."""
    citizen = Caller(gateway_url).login(demo_resident_id(), DEMO_PASSWORD)
    made = citizen.call(
        "POST", "/api/v1/applications", 201, json={"item_code": "CIVIL-002", "form": {}, "delivery": MAIL}
    )
    no = made["application_no"]
    for code in ("APPLY", "INCOME", "HOUSING"):
        files = {"file": (f"{code}.pdf", PDF, "application/pdf")}
        citizen.call("PUT", f"/api/v1/applications/{no}/materials/{code}", (200, 201), files=files)
    citizen.call("POST", f"/api/v1/applications/{no}/submit", (200, 201))
    accept(Caller(gateway_url).login("clerk", DEMO_PASSWORD), no)
    approve(Caller(gateway_url).login("approver_civil", DEMO_PASSWORD), no)
    wait_for(
        "shipment",
        lambda: citizen.call("GET", "/api/v1/shipments", 200, params={"application_no": no})["items"] or None,
    )
    return no


def test_finance_reads_the_month_bill_and_downloads_its_csv(console: Console, stack: Stack) -> None:
    no = mailed_and_shipped(stack.gateway_url)
    month = datetime.now(HALL_ZONE).strftime("%Y-%m")
    finance = console.tab()
    console.login(finance, "finance")
    expect(finance.locator("main h1")).to_have_text("寄递账单")
    expect(finance.locator("#bill-month")).to_have_value(month)
    rows = finance.locator("#bill-table tbody tr")
    expect(rows.first).to_be_visible()
    total = int(finance.locator("#bill-total td").first.inner_text())
    assert total >= 1
    expect(finance.locator("main")).to_contain_text("申请人支付 免费")
    both_widths(console, finance, "work-44-finance-bill")

    with finance.expect_download() as downloading:
        finance.get_by_role("button", name="导出 CSV（全部）").click()
    download = downloading.value
    assert download.suggested_filename == f"delivery-bill-{month}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) - 1 >= total, lines[:3]
    assert any(no in cell for line in lines for cell in line), f"{no} not in the CSV"
    expect(finance.locator("#status")).to_contain_text(f"已下载 delivery-bill-{month}.csv")

    # An earlier month with nothing mailed says so, with the way on.
    finance.locator("#bill-month").fill("2020-01")
    finance.get_by_role("button", name="查看").click()
    expect(finance.locator("#bill .empty")).to_have_text("这个月没有寄递，没有要结算的费用。")
    console.shot(finance, "work-45-finance-bill-empty")
