"""What a first-time citizen and clerk tripped over (issue 25), walked in a real browser.

Problems said in Chinese with the names of materials, departments and fields (and checked before
sending where the console can); codes replaced by names where people read; materials uploaded as
soon as they are chosen, each with its state, the submit after them and what is missing said
plainly; the address chosen province by province (or by a search) instead of typed as 12 digits;
the window desk's search, the pickup list with applicant and item, a banner that does not follow
the clerk to the next page, and a pre-review page that picks the deadline up after acceptance.
Screenshots at 1280 and 375 px go to test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.harness import assert_accessible
from tests.browser.test_console import (
    ARTIFACTS,
    DESKTOP,
    PDF,
    PHONE,
    Console,
    fresh_resident_id,
)
from tools.seed import DEMO_PASSWORD
from tools.stack import Stack

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]

ITEM = "CIVIL-002"  # 低保: 低保申请书 and 家庭收入证明 required, 住房情况说明 may follow (容缺)


@pytest.fixture
def console(stack: Stack, browser: Browser) -> Iterator[Console]:
    """A console on the module's platform; no script error may happen in it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        yield opened
    finally:
        opened.close()
    assert opened.errors == [], opened.errors


def shot(console: Console, page: Page, name: str, *, phone: bool = False) -> None:
    """Screenshots at 1280 px (and 375 px for a citizen's page), each page checked by axe-core."""
    console.shot(page, f"25-{name}")
    assert_accessible(page)
    if phone:
        page.set_viewport_size(PHONE)
        console.shot(page, f"25-{name}-phone")
        assert_accessible(page)
        page.set_viewport_size(DESKTOP)


def in_page(page: Page, path: str, method: str = "GET") -> Any:
    """Call the API as the page's signed-in person; returns {status, body}."""
    return page.evaluate(
        """async ([path, method]) => {
            const tokens = JSON.parse(sessionStorage.getItem("ow.tokens"));
            const res = await fetch(`/api/v1${path}`, {method, headers: {Authorization: `Bearer ${tokens.access}`}});
            return {status: res.status, body: await res.json()};
        }""",
        [path, method],
    )


def staff(stack: Stack, account: str) -> httpx.Client:
    """An API client logged in as a demo staff member."""
    client = httpx.Client(base_url=stack.gateway_url, timeout=15, trust_env=False)
    r = client.post("/api/v1/auth/login", json={"account": account, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def test_registration_checks_before_sending_and_says_what_is_wrong(console: Console) -> None:
    page = console.tab()
    page.goto(f"{console.base}#/login")
    page.get_by_text("还没有账号？注册").click()
    form = page.locator("#register-form")
    form.locator("input[name=id_number]").fill(fresh_resident_id())
    form.locator("input[name=password]").fill("short")
    sent: list[str] = []
    page.on("request", lambda req: sent.append(req.url) if "/auth/register" in req.url else None)
    form.locator("button[type=submit]").click()
    # Each field says what is wrong, not only its label; nothing went to the server.
    expect(form.locator("input[name=name] ~ .field-error")).to_have_text("请填写姓名或企业名称。")
    expect(form.locator("input[name=password] ~ .field-error")).to_have_text("密码至少 8 位（现在 5 位）。")
    assert sent == []
    # The server's own refusal (pydantic's string_too_short, a field path) in Chinese with the name.
    said = page.evaluate(
        """async () => (await import("/problems.js")).problemMessage({
            status: 422, code: "request_invalid", detail: "The request is not valid.",
            errors: [{field: "body.password", message: "String should have at least 8 characters",
                      code: "string_too_short", params: {min_length: 8}}]})"""
    )
    assert said == "密码：至少 8 个字符。"
    shot(console, page, "01-register-checked", phone=True)


def test_a_first_time_citizen_and_clerk_from_apply_to_pickup(stack: Stack, console: Console) -> None:
    suffix = uuid.uuid4().hex[:4]
    name = f"初次{suffix}"
    id_number = fresh_resident_id()
    citizen = console.tab()
    console.province_login(citizen, id_number, name)

    # --- the form: an empty address says what is missing, not just the field's label ---------
    citizen.goto(f"{console.base}#/apply/{ITEM}")
    expect(citizen.locator("main h1")).to_contain_text("最低生活保障审核")
    citizen.get_by_label(re.compile("^详细地址")).fill("")
    citizen.get_by_role("button", name="创建申请").click()
    expect(citizen.locator("#region-code")).to_have_text("请选到乡镇（街道），并填写 3 位村（社区）代码。")
    expect(citizen.get_by_label(re.compile("^详细地址"))).to_have_attribute("aria-invalid", "true")
    expect(citizen.locator("input[name=detail] ~ .field-error")).to_have_text("请填写详细地址。")
    citizen.get_by_label("到窗口领取").check()
    citizen.get_by_role("button", name="创建申请").click()
    citizen.wait_for_url(re.compile(r"#/applications/"))
    no = citizen.locator("#app-no").inner_text().strip()

    # --- the materials: what is missing by name, the submit after them, refused before sending
    expect(citizen.locator("#missing-summary")).to_contain_text("还缺必须提交的材料：低保申请书、家庭收入证明")
    expect(citizen.locator("#missing-summary")).to_contain_text("住房情况说明 可以容缺")
    after = citizen.evaluate(
        "document.querySelector('.material-list')"
        ".compareDocumentPosition(document.querySelector('#submit-application')) & 4"
    )
    assert after == 4, "the submit button comes after the materials"
    assert citizen.locator("button.upload").count() == 0, "no second step: choosing a file uploads it"
    citizen.locator("#submit-application").click()
    expect(citizen.locator(".actions-box .alert")).to_have_text(
        "还缺必须提交的材料：低保申请书、家庭收入证明。上传后才能提交。"
    )
    # The server says the same in codes; the console turns them into the same names.
    refused = in_page(citizen, f"/applications/{no}/submit", "POST")
    assert refused["status"] in (409, 422) and refused["body"]["code"] == "critical_materials_missing", refused
    said = citizen.evaluate(
        """async ([problem, no]) => {
            const app = await (await fetch(`/api/v1/applications/${no}`, {headers: {Authorization:
                `Bearer ${JSON.parse(sessionStorage.getItem("ow.tokens")).access}`}})).json();
            return (await import("/problems.js")).problemMessage(problem, {materials: app.materials});
        }""",
        [refused["body"], no],
    )
    assert said == "缺少必须提交的材料：低保申请书、家庭收入证明。请先上传再提交。", said
    assert not re.search(r"[A-Z]{4,}|materials\.", said)

    # --- a wrong file is refused before sending; a fake PDF by the server, said in Chinese ---
    apply_row = citizen.locator("li.material[data-code='APPLY']")
    apply_row.locator("input[type=file]").set_input_files(
        {"name": "申请书.docx", "mimeType": "application/msword", "buffer": b"PK"}
    )
    expect(citizen.locator(".materials-panel > .alert")).to_have_text(
        "“申请书.docx”不是 PDF、JPEG 或 PNG 文件，请换一个。"
    )
    apply_row.locator("input[type=file]").set_input_files(
        {"name": "假的.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}
    )
    expect(citizen.locator(".materials-panel > .alert")).to_contain_text("材料必须是 PDF、JPEG 或 PNG 文件")
    expect(citizen.locator(".materials-panel > .alert")).not_to_contain_text("judged")
    expect(citizen.locator("li.material[data-code='APPLY']")).to_have_attribute("data-status", "missing")

    # --- upload on choose: the row goes missing -> uploading -> uploaded by itself -----------
    citizen.evaluate(
        """() => { window.__states = [];
            new MutationObserver(() => { for (const li of document.querySelectorAll("li.material[data-code=APPLY]"))
                window.__states.push(li.dataset.status); })
            .observe(document.querySelector("main"), {subtree: true, attributes: true, childList: true,
                attributeFilter: ["data-status"]}); }"""
    )
    apply_row.locator("input[type=file]").set_input_files(
        {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    expect(citizen.locator("li.material[data-code='APPLY'] .chip")).to_have_text("已上传")
    states = citizen.evaluate("window.__states")
    assert "uploading" in states and states.index("uploading") < states.index("uploaded"), states
    citizen.locator("li.material[data-code='INCOME'] input[type=file]").set_input_files(
        {"name": "收入证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    expect(citizen.locator("li.material[data-code='INCOME']")).to_have_attribute("data-status", "uploaded")
    expect(citizen.locator("#missing-summary")).to_contain_text("必须提交的材料已齐全")
    shot(console, citizen, "02-materials-uploaded", phone=True)
    citizen.locator("#submit-application").click()
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "submitted")

    # --- the clerk finds it by number, ID number (x in lower case) and part of the name ------
    clerk = console.tab()
    console.login(clerk, "clerk")
    search = clerk.get_by_label("查找申请：申请编号、身份证号或姓名")
    for q in (no, id_number.lower(), name[-4:]):
        search.fill(q)
        clerk.locator("#desk-search button[type=submit]").click()
        expect(clerk.locator(f"#desk-search-results li[data-no='{no}']")).to_be_visible()
        expect(clerk.locator("#desk-search-results li")).to_have_count(1)
    search.fill("没有这个人")
    clerk.locator("#desk-search button[type=submit]").click()
    expect(clerk.locator("#desk-search-results")).to_have_text("没有找到与“没有这个人”相符的申请。")
    search.fill(no)
    clerk.locator("#desk-search button[type=submit]").click()
    shot(console, clerk, "03-desk-search")

    # --- pre-review: names, not codes; the deadline appears after acceptance by itself -------
    clerk.locator(f"#desk-search-results li[data-no='{no}'] a.row-title").click()
    expect(clerk.locator("main h1")).to_contain_text(no)
    expect(clerk.locator("label[for='defer-HOUSING']")).to_have_text("住房情况说明")
    expect(clerk.locator("#review-deadline")).to_have_text("—")
    clerk.locator("#decide").click()
    expect(clerk.locator("#app-status")).to_have_attribute("data-status", "accepted")
    expect(clerk.locator("#review-deadline")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"), timeout=20_000)
    # The timeline names the deferred material and the department, keeping the codes as tooltips.
    expect(clerk.locator("#timeline")).to_contain_text("住房情况说明", timeout=20_000)
    expect(clerk.locator("#timeline li[data-event='approval.task.assigned']")).to_contain_text("民政局", timeout=20_000)
    expect(clerk.locator("#timeline")).not_to_contain_text("HOUSING")
    expect(clerk.locator("#timeline")).not_to_contain_text("CIVIL")
    shot(console, clerk, "04-review-accepted")

    # --- the approver decides (through the API); the certificate waits at the window --------
    approver = staff(stack, "approver_civil")
    task = None
    for _ in range(60):
        tasks = approver.get("/api/v1/tasks", params={"status": "open"}).json()["items"]
        task = next((t for t in tasks if t["application_no"] == no), None)
        if task:
            break
        time.sleep(0.5)
    assert task, "the approval task never opened"
    r = approver.post(
        f"/api/v1/tasks/{task['task_id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    citizen.locator("#refresh").click()
    expect(citizen.locator("#timeline li[data-event='approval.task.assigned']")).to_contain_text("民政局")
    # The certificate waits for the deferred material: supplied on choose, like an upload.
    housing = citizen.locator("li.material[data-code='HOUSING']")
    expect(housing).to_have_attribute("data-status", "deferred")
    housing.locator("input[type=file]").set_input_files(
        {"name": "住房.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    expect(citizen.locator("li.material[data-code='HOUSING']")).to_have_attribute("data-status", "supplied")
    shot(console, citizen, "04b-supplied", phone=True)

    # --- pickups show who and what; the hand-over banner stays on its own page ----------------
    clerk.goto(f"{console.base}#/desk/pickups")
    row = clerk.locator(f"#pickups li[data-no='{no}']")
    for _ in range(40):
        if row.count():
            break
        clerk.get_by_role("button", name="刷新").click()
        clerk.wait_for_timeout(500)
    expect(row.locator(".pickup-who")).to_have_text(f"申请人 {name} · 事项 最低生活保障审核 · 办件编号 {no}")
    shot(console, clerk, "05-pickups")
    row.get_by_label(re.compile("领取人.*证件")).fill(fresh_resident_id())
    row.get_by_role("button", name=re.compile("交付|领取|确认")).click()
    expect(row.locator(".alert")).to_contain_text("领取人证件号码与申请人的不一致")
    row.get_by_label(re.compile("领取人.*证件")).fill(id_number)
    row.get_by_role("button", name=re.compile("交付|领取|确认")).click()
    expect(clerk.locator("#status")).to_contain_text(no)
    clerk.wait_for_timeout(1700)
    clerk.locator("nav a[href='#/desk']").click()
    expect(clerk.locator("main h1")).to_have_text("窗口受理")
    expect(clerk.locator("#status")).to_have_text("")

    # --- times by the console's language: 24-hour in Chinese, never "AM"/"PM" ----------------
    expect(clerk.locator(".updated")).to_have_text(re.compile(r"^更新于 \d{2}:\d{2}:\d{2}$"))


def test_the_address_picker_from_province_to_village_with_search(console: Console) -> None:
    citizen = console.tab()
    console.province_login(citizen, fresh_resident_id(), "选地址")
    citizen.goto(f"{console.base}#/apply/{ITEM}")
    picker = citizen.locator("#region-picker")
    # Down the levels from delivery's division data.
    citizen.get_by_label("省", exact=True).select_option(label="山东省")
    citizen.get_by_label("市", exact=True).select_option(label="烟台市")
    citizen.get_by_label("区县", exact=True).select_option(label="福山区")
    citizen.get_by_label("乡镇（街道）", exact=True).select_option(label="高疃镇")
    expect(picker).to_have_attribute("data-code", "370611102001")
    expect(citizen.locator("#region-code")).to_have_text("行政区划代码：370611102001")
    # Or by a name: the levels above are filled in.
    citizen.get_by_label(re.compile("^搜索地区")).fill("毓璜顶")
    result = citizen.locator("#region-results button[data-code='370602003']")
    expect(result).to_have_text("山东省 · 烟台市 · 芝罘区 · 毓璜顶街道")
    shot(console, citizen, "06-address-search", phone=True)
    result.click()
    expect(citizen.get_by_label("区县", exact=True)).to_have_value("370602")
    citizen.get_by_label(re.compile("^村（社区）代码")).fill("002")
    expect(picker).to_have_attribute("data-code", "370602003002")
    citizen.get_by_label(re.compile("^详细地址")).fill("毓璜顶东路1号")
    citizen.get_by_label(re.compile("^联系电话")).fill("13800000000")
    citizen.get_by_role("button", name="创建申请").click()
    citizen.wait_for_url(re.compile(r"#/applications/"))
    no = citizen.locator("#app-no").inner_text().strip()
    # The API received the 12-digit code.
    app = in_page(citizen, f"/applications/{no}")["body"]
    assert app["delivery"]["address"]["region_code"] == "370602003002"
    shot(console, citizen, "07-application-by-mail")
