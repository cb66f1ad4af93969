"""The administrator's console in a real browser: the admin's real work through the pages.

Against the whole platform (the same stack as test_console.py, started for this module): the
administrator creates a service item, adjusts it and sees both versions in its history, then
cancels it (asked once more);
imports a CSV whose bad row is listed and nothing taken; enters a calendar year that had no
data (a weekday given as a make-up working day is refused with the problem and its request id);
creates a county hall, a window clerk for it (who then logs in), registers a kiosk on that hall
and sees its device key once, revokes it; switches a courier partner off and on. The approver's
inbox and the clerk's desk are walked by test_console.py. Every page is checked with axe-core
and kept as a screenshot at 1280 px under test-artifacts/browser/.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.harness import ADMIN_PASSWORD
from tests.browser.test_console import (
    ARTIFACTS,
    Console,
)
from tools.seed import DEMO_PASSWORD
from tools.stack import Stack

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]

# A year far enough ahead that neither the seed nor the calendar package has it.
EMPTY_YEAR = 2199
BAD_CSV = (
    "code,name,kind,department,window,legal_days,committed_days,trips,online,fee_fen,materials\n"
    "ADM-IMP-1,导入事项一,licensing,CIVIL,general,20,10,1,yes,0,APPLY|申请书|critical\n"
    "ADM-IMP-2,导入事项二,licensing,CIVIL,general,5,10,1,no,0,APPLY|申请书|critical\n"
)


def first_saturday(year: int) -> date:
    """The year's first Saturday (a weekend day may be made a working day)."""
    day = date(year, 1, 1)
    return day + timedelta(days=(5 - day.weekday()) % 7)


def look(console: Console, page: Page, name: str) -> None:
    """Screenshot, labels and axe-core on the page as it is now (Console.shot runs axe-core)."""
    console.shot(page, name)


def test_the_administrator_runs_the_catalog_calendar_staff_kiosks_halls_and_couriers(
    stack: Stack,
    browser: Browser,
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=stack.gateway_url, timeout=10, trust_env=False) as client:
        assert client.get(f"/api/v1/calendar/{EMPTY_YEAR}").json()["has_data"] is False
    suffix = uuid.uuid4().hex[:4].upper()
    code, hall, clerk_name = f"ADM-{suffix}", f"TEST{suffix}", f"clerk_test_{suffix.lower()}"
    dept, dept_item = f"DEP{suffix}", f"ADM-DEP-{suffix}"
    console = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        admin = console.tab()
        console.login(admin, "admin", ADMIN_PASSWORD)
        for href in (
            "#/admin/items",
            "#/admin/calendar",
            "#/admin/staff",
            "#/admin/kiosks",
            "#/admin/halls",
            "#/admin/departments",
        ):
            expect(admin.locator(f"nav a[href='{href}']")).to_be_visible()

        # --- a new item, adjusted once: two versions in its history -----------------------------
        admin.locator("nav a[href='#/admin/items']").click()
        expect(admin.locator("main h1")).to_have_text("事项管理")
        expect(admin.locator("#admin-items tr[data-code='CIVIL-002']")).to_be_visible()
        look(console, admin, "30-admin-items")
        admin.locator("#new-item").click()
        expect(admin.locator("main h1")).to_have_text("新建事项")
        admin.get_by_label(re.compile("^编码")).fill(code)
        admin.get_by_label(re.compile("^名称")).fill("浏览器测试事项")
        admin.get_by_label("部门", exact=True).fill("CIVIL")
        admin.get_by_label(re.compile("^法定办结时限")).fill("20")
        admin.get_by_label(re.compile("^承诺办结时限")).fill("10")
        admin.get_by_label(re.compile("^跑动次数")).fill("0")
        admin.get_by_label(re.compile("^材料")).fill("APPLY|申请书|critical\nPHOTO|照片|optional")
        admin.get_by_label("可全程网办").check()
        look(console, admin, "31-admin-item-new")
        admin.locator("#save-item").click()
        admin.wait_for_url(re.compile(f"#/admin/items/{code}$"))
        expect(admin.locator("main h1")).to_have_text(f"调整事项 {code}")
        expect(admin.locator("#item-history tr")).to_have_count(1)
        admin.get_by_label(re.compile("^承诺办结时限")).fill("5")
        admin.locator("#save-item").click()
        expect(admin.locator("#item-history tr")).to_have_count(2)
        expect(admin.locator("#item-history tr[data-version='2']")).to_contain_text("调整")
        expect(admin.locator("#item-history tr[data-version='2']")).to_contain_text("committed_days")
        look(console, admin, "32-admin-item-history")
        # Cancelled after asking once more: no new versions, the history kept with a third entry.
        admin.get_by_role("button", name="取消事项").click()
        admin.get_by_role("button", name="不，保留").click()
        expect(admin.get_by_role("button", name="取消事项")).to_be_focused()
        admin.get_by_role("button", name="取消事项").click()
        admin.get_by_role("button", name="确认取消事项").click()
        expect(admin.locator("main .alert[data-kind='warn']")).to_contain_text("该事项已取消")
        expect(admin.locator("#item-form")).to_have_count(0)
        expect(admin.locator("#item-history tr[data-version='3']")).to_contain_text("取消")

        # --- an import with a bad row: the row's problem listed, nothing imported --------------
        admin.goto(f"{console.base}#/admin/import")
        expect(admin.locator("main h1")).to_have_text("批量导入事项")
        admin.get_by_label(re.compile("^事项文件")).set_input_files(
            {"name": "items.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}
        )
        admin.get_by_role("button", name="导入").click()
        expect(admin.locator("#import-form .alert")).to_contain_text("请求编号")
        expect(admin.locator("tr.import-problem")).to_have_count(1)
        expect(admin.locator("tr.import-problem")).to_contain_text("row 3")
        look(console, admin, "33-admin-import-problems")

        # --- a calendar year with no data, entered ----------------------------------------------
        admin.locator("nav a[href='#/admin/calendar']").click()
        admin.get_by_label("年份").fill(str(EMPTY_YEAR))
        admin.get_by_role("button", name="查看").click()
        state = admin.locator("#calendar-state")
        expect(state).to_have_attribute("data-has-data", "false")
        expect(state).to_contain_text(f"{EMPTY_YEAR} 年尚未录入工作日历")
        look(console, admin, "34-admin-calendar-empty")
        admin.get_by_label(re.compile("^法定节假日")).fill(f"{EMPTY_YEAR}-01-01")
        admin.get_by_label(re.compile("^调休上班日")).fill(f"{EMPTY_YEAR}-01-03")  # a weekday: refused
        admin.locator("#save-calendar").click()
        expect(admin.locator("#calendar-form .alert")).to_contain_text("请求编号")
        expect(state).to_have_attribute("data-has-data", "false")
        admin.get_by_label(re.compile("^调休上班日")).fill(first_saturday(EMPTY_YEAR).isoformat())
        admin.locator("#save-calendar").click()
        expect(state).to_have_attribute("data-has-data", "true")
        expect(state).to_contain_text("1 个节假日，1 个调休上班日")
        look(console, admin, "35-admin-calendar-entered")

        # --- a county hall, a clerk for it, a kiosk on it ---------------------------------------
        admin.locator("nav a[href='#/admin/halls']").click()
        expect(admin.locator("#hall-list tr[data-hall='CITY']")).to_be_visible()
        admin.get_by_label(re.compile("^编码")).fill(hall)
        admin.get_by_label(re.compile("^名称")).fill("测试区政务服务中心")
        admin.get_by_label("级别").select_option("county")
        admin.get_by_label(re.compile("^行政区划代码")).fill("370304000000")
        admin.locator("#create-hall").click()
        expect(admin.locator(f"#hall-list tr[data-hall='{hall}']")).to_be_visible()
        look(console, admin, "36-admin-halls")

        # --- a department added and renamed; an item in it is named so in the catalog ------------
        admin.locator("nav a[href='#/admin/departments']").click()
        expect(admin.locator("#department-list tr[data-department='DRC']")).to_contain_text("DRC")
        expect(admin.locator("#department-list tr[data-department='DRC'] input").first).to_have_value("发展和改革局")
        form = admin.locator("#department-form")
        form.get_by_label(re.compile("^编码")).fill(dept)
        form.get_by_label(re.compile("^中文名称")).fill("测试局")
        form.get_by_label(re.compile("^英文名称")).fill("Test Bureau")
        admin.locator("#create-department").click()
        expect(form.locator(".alert")).to_contain_text(f"部门 {dept} 已新增")
        added = admin.locator(f"#department-list tr[data-department='{dept}']")
        expect(added.locator("input").first).to_have_value("测试局")
        added.locator("input").first.fill("测试管理局")
        added.get_by_role("button", name="改名").click()
        expect(admin.locator(f"#department-list tr[data-department='{dept}'] input").first).to_have_value("测试管理局")
        look(console, admin, "36b-admin-departments")
        admin.goto(f"{console.base}#/admin/items/new")
        admin.get_by_label(re.compile("^编码")).fill(dept_item)
        admin.get_by_label(re.compile("^名称")).fill(f"部门测试事项{suffix}")
        admin.get_by_label("部门", exact=True).fill(dept)
        admin.get_by_label(re.compile("^法定办结时限")).fill("20")
        admin.get_by_label(re.compile("^承诺办结时限")).fill("10")
        admin.get_by_label(re.compile("^跑动次数")).fill("0")
        admin.get_by_label(re.compile("^材料")).fill("APPLY|申请书|critical")
        admin.locator("#save-item").click()
        admin.wait_for_url(re.compile(f"#/admin/items/{dept_item}$"))
        admin.goto(f"{console.base}#/catalog?q=部门测试事项{suffix}")
        card = admin.locator(f"article[data-code='{dept_item}']")
        expect(card).to_contain_text("主办部门：测试管理局")
        expect(card).not_to_contain_text(dept)

        admin.locator("nav a[href='#/admin/staff']").click()
        expect(admin.locator("#staff-list tr[data-username='admin']")).to_be_visible()
        admin.get_by_label(re.compile("^用户名")).fill(clerk_name)
        admin.get_by_label(re.compile("^姓名")).fill("测试窗口人员")
        admin.get_by_label(re.compile("^初始密码")).fill(DEMO_PASSWORD)
        admin.get_by_label("所属大厅").select_option(hall)
        admin.locator("#create-staff").click()
        expect(admin.locator("#staff-form .alert")).to_contain_text("至少选择一个角色")
        admin.get_by_label("窗口人员").check()
        admin.locator("#create-staff").click()
        row = admin.locator(f"#staff-list tr[data-username='{clerk_name}']")
        expect(row).to_contain_text(hall)
        expect(row).to_contain_text("窗口人员")
        look(console, admin, "37-admin-staff")

        admin.locator("nav a[href='#/admin/kiosks']").click()
        admin.get_by_label(re.compile("^窗口编号")).fill("A01")
        admin.get_by_label("所在大厅").select_option(hall)
        admin.locator("#register-kiosk").click()
        key = admin.locator("#device-key")
        expect(key).to_be_visible()
        assert len(key.inner_text().strip()) >= 20
        kiosk = admin.locator("#kiosk-list tr", has_text=hall)
        expect(kiosk).to_have_count(1)
        look(console, admin, "38-admin-kiosk-key")
        admin.reload()
        expect(admin.locator("#kiosk-list tr", has_text=hall)).to_have_count(1)
        expect(admin.locator("#device-key")).to_have_count(0)  # shown once only
        kiosk.get_by_role("button", name="吊销").click()
        kiosk.get_by_role("button", name="确认吊销").click()
        expect(kiosk).to_contain_text("已吊销")
        look(console, admin, "39-admin-kiosks")

        # --- the courier partners: one switched off and on again --------------------------------
        admin.locator("nav a[href='#/admin/partners']").click()
        partner = admin.locator("#partner-list tr[data-carrier='sim-post']")
        expect(partner.locator(".partner-state")).to_contain_text("是")
        partner.get_by_role("button", name="停用").click()
        expect(partner.locator(".partner-state")).to_contain_text("否")
        look(console, admin, "40-admin-partners")
        partner.get_by_role("button", name="恢复").click()
        expect(partner.locator(".partner-state")).to_contain_text("是")

        # The pages in English too (every label exists in both languages).
        admin.locator("nav a[href='#/admin/staff']").click()
        admin.locator("#lang-toggle").click()
        expect(admin.locator("main h1")).to_have_text("Staff accounts")
        look(console, admin, "41-admin-staff-en")
        admin.locator("#lang-toggle").click()

        # The new clerk works at the new hall's desk.
        clerk = console.tab()
        console.login(clerk, clerk_name)
        expect(clerk.locator("main h1")).to_have_text("窗口受理")
    finally:
        console.close()
    assert console.errors == [], console.errors
    with httpx.Client(base_url=stack.gateway_url, timeout=10, trust_env=False) as client:
        history = client.get(f"/api/v1/catalog/items/{code}/history").json()["items"]
        assert [v["change"] for v in history] == ["created", "adjusted", "cancelled"]
        assert client.get("/api/v1/catalog/items/ADM-IMP-1").status_code == 404
        calendar = client.get(f"/api/v1/calendar/{EMPTY_YEAR}").json()
        assert calendar["has_data"] is True and calendar["holidays"] == [f"{EMPTY_YEAR}-01-01"]
    for name in ("30-admin-items", "32-admin-item-history", "38-admin-kiosk-key"):
        assert (Path(ARTIFACTS) / f"{name}.png").stat().st_size > 10_000
