"""The web console in a real browser: one whole story through the pages.

The whole platform runs as processes (nats-server, migrations, the gateway serving the console
at `/`, the four services), with the demo data loaded through the public API. Debian's
Chromium, driven by Playwright, then walks: a citizen logs in through the province's unified
identity (the simulated provincial provider's real login form) and sets a password, finds an item in the service guide,
applies (certificate by mail), uploads the critical materials and submits; the window clerk
pre-reviews and accepts with the missing non-critical material deferred (容缺); the citizen
supplies it; the department's approver approves with an opinion; the citizen's page follows
the certificate's shipment to `completed`, and the citizen rates the service; the supervisor's
board shows the figures, on a desktop and on a phone, in Chinese and in English.

A screenshot of every page is kept under test-artifacts/browser/.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, expect
from stdnum.cn import ric, uscc

from tests.browser.harness import assert_accessible
from tools.seed import DEMO_PASSWORD, demo_resident_id
from tools.stack import Stack

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# The demo catalog's low-income allowance: free, one department (CIVIL), two critical
# materials (APPLY, INCOME) and one that may follow later (HOUSING).
ITEM = "CIVIL-002"
APPROVER = "approver_civil"


# Every form control must have a label tied to it, every chart drawing a text alternative.
UNLABELLED = """() => [
  ...[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !el.labels || el.labels.length === 0)
    .map((el) => el.name || el.id || el.outerHTML.slice(0, 60)),
  ...[...document.querySelectorAll('svg[role=img]')]
    .filter((el) => !el.getAttribute('aria-labelledby') && !el.getAttribute('aria-label'))
    .map((el) => el.outerHTML.slice(0, 60)),
]"""


@dataclass
class Console:
    """The console at a base URL, with one browser tab per person and what went wrong in them."""

    browser: Browser
    base: str
    artifacts: Path
    errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def tab(self, viewport: ViewportSize = DESKTOP) -> Page:
        context = self.browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

        def on_console(msg: ConsoleMessage) -> None:
            # A 4xx the page handles is logged by Chromium as a failed resource; script errors are not fine.
            if msg.type == "error" and "Failed to load resource" not in msg.text:
                self.errors.append(f"console: {msg.text}")

        page.on("console", on_console)
        return page

    def login(self, page: Page, account: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(f"{self.base}#/login")
        page.locator("#login-form input[name=account]").fill(account)
        page.locator("#login-form input[name=password]").fill(password)
        page.locator("#login-form button[type=submit]").click()
        expect(page).not_to_have_url(re.compile("#/login"))
        expect(page.locator("main h1")).to_be_visible()

    def province_login(self, page: Page, id_number: str, name: str, start: str = "#/login") -> None:
        """Log in through the console's province button and the simulated provider's real form."""
        page.goto(f"{self.base}{start}")
        page.locator("#province-login, #province-verify").first.click()
        provider = page.locator("form[method=post]")
        provider.locator("input[name=id_number]").fill(id_number)
        provider.locator("input[name=name]").fill(name)
        provider.locator("[type=submit]").first.click()
        # Back on the console: the one-time login code traded and taken out of the address.
        expect(page).to_have_url(re.compile(re.escape(self.base) + "#/"))
        expect(page.locator("#who [data-assurance='verified']")).to_be_visible()
        assert "login_code" not in page.url
        expect(page.locator("main h1")).to_be_visible()

    def shot(self, page: Page, name: str) -> None:
        """Screenshot the whole page; every label must exist in its language, axe-core finds nothing serious."""
        expect(page.locator("#main")).not_to_have_attribute("aria-busy", "true")
        page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)
        missing = page.evaluate("[...(window.owMissingLabels || [])]")
        assert missing == [], f"labels missing on {name}: {missing}"
        unlabelled = page.evaluate(UNLABELLED)
        assert unlabelled == [], f"controls without a label on {name}: {unlabelled}"
        # axe-core on every page the story keeps: no serious or critical violation.
        assert_accessible(page)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def upload(page: Page, code: str, name: str) -> None:
    """Choose a PDF for one material: it is uploaded (or supplied) as soon as it is chosen."""
    row = page.locator(f"li.material[data-code='{code}']")
    row.locator("input[type=file]").set_input_files({"name": name, "mimeType": "application/pdf", "buffer": PDF})
    expect(page.locator(f"li.material[data-code='{code}']")).to_have_attribute(
        "data-status", re.compile("uploaded|supplied")
    )


def run_story(console: Console, citizen_id: str) -> dict[str, Any]:
    """The whole story through the pages; returns what it saw."""
    seen: dict[str, Any] = {}

    # --- the citizen: log in, find the item, apply, upload, submit --------------------------
    citizen = console.tab()
    citizen.goto(console.base)
    expect(citizen.locator("main h1")).to_have_text("办事指南")
    citizen.goto(f"{console.base}#/login")
    expect(citizen.locator("#login-form")).to_be_visible()
    expect(citizen.locator("#province-login")).to_be_visible()
    console.shot(citizen, "01-login")
    # A number is proven through the province's login (the registered password stops working:
    # the account is taken over for the one who proved it), then a new password is set.
    console.province_login(citizen, citizen_id, "张三")
    expect(citizen.locator("main h1")).to_have_text("我的办件")
    expect(citizen.locator("#who")).to_contain_text("已实名核验（全省统一身份认证）")
    citizen.locator("nav a[href='#/account']").click()
    expect(citizen.locator("#assurance [data-assurance='verified']")).to_be_visible()
    citizen.get_by_label(re.compile("^新密码")).fill(DEMO_PASSWORD)
    citizen.get_by_label("再次输入新密码").fill(DEMO_PASSWORD)
    citizen.get_by_role("button", name="保存密码").click()
    expect(citizen.locator("#password-form .alert")).to_have_text("密码已设置。")
    console.shot(citizen, "01b-account-verified")
    citizen.locator("nav a[href='#/mine']").click()
    expect(citizen.locator("main h1")).to_have_text("我的办件")

    citizen.locator("nav a[href='#/catalog']").click()
    citizen.get_by_label("搜索事项").fill("最低生活保障")
    citizen.get_by_role("button", name="筛选").click()
    card = citizen.locator(f"article.item[data-code='{ITEM}']")
    expect(card).to_be_visible()
    expect(citizen.locator("article.item")).to_have_count(1)
    expect(card).to_contain_text("零跑腿")
    expect(card).to_contain_text("20 个工作日")
    card.locator("summary").click()
    expect(card.locator(".materials li")).to_have_count(3)
    console.shot(citizen, "02-catalog")

    card.get_by_role("link", name="在线申请").click()
    expect(citizen.locator("main h1")).to_contain_text("最低生活保障审核")
    citizen.get_by_label("申请事由").fill("家庭收入低于当地最低生活保障标准，申请低保。")
    citizen.get_by_label(re.compile("搜索地区")).fill("向阳街道")
    citizen.locator("#region-results button[data-code='370602001']").click()
    expect(citizen.locator("#region-picker")).to_have_attribute("data-code", "370602001001")
    citizen.get_by_label(re.compile("详细地址")).fill("芝罘区南大街1号")
    citizen.get_by_label(re.compile("收件人")).fill("张三")
    citizen.get_by_label(re.compile("联系电话")).fill("13800000000")
    console.shot(citizen, "03-apply")
    citizen.get_by_role("button", name="创建申请").click()
    citizen.wait_for_url(re.compile(r"#/applications/"))
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "draft")
    no = citizen.locator("#app-no").inner_text().strip()
    seen["application_no"] = no

    upload(citizen, "APPLY", "申请书.pdf")
    expect(citizen.locator("li.material[data-code='APPLY']")).to_have_attribute("data-status", "uploaded")
    upload(citizen, "INCOME", "收入证明.pdf")
    expect(citizen.locator("li.material[data-code='INCOME']")).to_have_attribute("data-status", "uploaded")
    expect(citizen.locator("li.material[data-code='HOUSING']")).to_have_attribute("data-status", "missing")
    console.shot(citizen, "04-application-draft")
    citizen.locator("#submit-application").click()
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "submitted")
    expect(citizen.locator("#status")).to_contain_text(re.compile("等待窗口预审|已提交"))

    # --- the window clerk: the queue, pre-review, accept with HOUSING deferred (容缺) ---------
    clerk = console.tab()
    console.login(clerk, "clerk")
    expect(clerk.locator("main h1")).to_have_text("窗口受理")
    row = clerk.locator(f"#desk-queue li[data-no='{no}']")
    expect(row).to_be_visible()
    console.shot(clerk, "05-desk-queue")
    row.get_by_role("link", name="预审").click()
    expect(clerk.locator("main h1")).to_contain_text(no)
    expect(clerk.locator("#decision-accept")).to_be_disabled()
    expect(clerk.locator("#decision-deferred")).to_be_checked()
    expect(clerk.locator("#defer-HOUSING")).to_be_checked()
    console.shot(clerk, "06-desk-review")
    clerk.locator("#decide").click()
    expect(clerk.locator("#app-status")).to_have_attribute("data-status", "accepted")
    expect(clerk.locator("#review-done")).to_be_visible()

    # --- the citizen sees it accepted and supplies the deferred material ----------------------
    citizen.locator("#refresh").click()
    housing = citizen.locator("li.material[data-code='HOUSING']")
    expect(housing).to_have_attribute("data-status", "deferred")
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "accepted")
    upload(citizen, "HOUSING", "住房情况说明.pdf")
    expect(citizen.locator("li.material[data-code='HOUSING']")).to_have_attribute("data-status", "supplied")

    # --- the approver: the department's inbox, approve with an opinion -----------------------
    approver = console.tab()
    console.login(approver, APPROVER)
    expect(approver.locator("main h1")).to_have_text("审批待办")
    task = approver.locator(f"#tasks li[data-no='{no}']")
    refresh = approver.get_by_role("button", name="刷新")
    for _ in range(60):  # the task is opened by an event: refresh until it is there
        if task.count():
            break
        refresh.click()
        approver.wait_for_timeout(500)
    expect(task).to_be_visible()
    expect(task).to_contain_text("最低生活保障审核")
    expect(task.locator(".chip")).to_have_text("正常")
    console.shot(approver, "07-inbox")
    # The approver decides with the materials in view: an uploaded file opens in a new tab.
    task.locator("details.app-details summary").click()
    opener = task.locator("button[data-open='HOUSING']")
    expect(opener).to_contain_text("住房情况说明")
    with approver.context.expect_page() as opened:
        opener.click()
    material = opened.value
    material.wait_for_load_state()
    assert material.url.startswith("blob:"), material.url
    material.close()
    task.get_by_label("审批意见").fill("材料齐全，符合低保条件，同意。")
    task.get_by_role("button", name="批准", exact=True).click()
    expect(approver.locator("#status")).to_contain_text(no)
    expect(task).to_have_count(0)

    # --- the supervisor opens the board before the rating exists ------------------------------
    supervisor = console.tab()
    console.login(supervisor, "supervisor")
    expect(supervisor.locator("main h1")).to_have_text("电子监察看板")
    expect(supervisor.locator("#kpi-satisfaction .kpi-value")).to_have_text("—")
    expect(supervisor.locator("#panel-ontime li[data-key='CIVIL']")).to_contain_text("100%")

    # --- the citizen follows it to completed (mailed and delivered), then rates ---------------
    expect(citizen.locator("#app-status")).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(citizen.locator("#certificate")).to_be_visible()
    expect(citizen.locator("#shipment .shipment-item")).to_have_attribute("data-status", "delivered")
    expect(citizen.locator("#timeline li[data-event='approval.application.approved']")).to_have_count(1)
    console.shot(citizen, "08-application-completed")
    citizen.get_by_label(re.compile("非常满意")).check()
    citizen.get_by_label("意见建议（可选）").fill("全程网办，证照免费寄到家，很方便。")
    citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.locator("#rated")).to_contain_text("5 分（非常满意）")
    console.shot(citizen, "09-rated")
    citizen.set_viewport_size(PHONE)
    console.shot(citizen, "10-application-phone")
    citizen.locator("nav a[href='#/mine']").click()
    expect(citizen.locator(f"#my-applications li[data-no='{no}'] .chip")).to_have_text("已办结")
    console.shot(citizen, "11-mine-phone")

    # --- the board picks the rating up by itself (polling), as charts; phone; English ---------
    expect(supervisor.locator("#kpi-satisfaction .kpi-value")).to_have_text("100%", timeout=20_000)
    expect(supervisor.locator("#panel-satisfaction li[data-key='CIVIL']")).to_contain_text("100%")
    expect(supervisor.locator("#panel-satisfaction li[data-key='CIVIL'] svg.bar rect")).to_have_count(2)
    expect(supervisor.locator("#panel-channels desc")).to_contain_text("网上")
    # The published figures over the months: the seed's imported half year (hollow points) and
    # this month computed from the story's application; a county hall shows its own.
    expect(supervisor.locator("#fig-applications svg.timeline circle[fill='#ffffff']")).to_have_count(6)
    expect(supervisor.locator("#fig-online desc")).to_contain_text("全程网办占比")
    supervisor.locator("#figures-hall").select_option("ZICHUAN")
    expect(supervisor.locator("#fig-applications svg.timeline circle[fill='#ffffff']")).to_have_count(6)
    supervisor.locator("#figures-hall").select_option("")
    console.shot(supervisor, "12-board")
    supervisor.set_viewport_size(PHONE)
    console.shot(supervisor, "13-board-phone")
    supervisor.locator("#lang-toggle").click()
    expect(supervisor.locator("main h1")).to_have_text("Supervision board")
    assert supervisor.evaluate("document.documentElement.lang") == "en"
    supervisor.set_viewport_size(DESKTOP)
    console.shot(supervisor, "14-board-en")
    seen["errors"] = list(console.errors)
    return seen


def test_a_citizen_applies_a_clerk_accepts_an_approver_approves_the_citizen_rates(
    stack: Stack, browser: Browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = f"{stack.gateway_url}/"
    index = httpx.get(base, timeout=10, trust_env=False)
    assert index.status_code == 200 and "app.js" in index.text, (
        f"the gateway does not serve the web console at / ({index.status_code})"
    )
    console = Console(browser=browser, base=base, artifacts=ARTIFACTS)
    try:
        seen = run_story(console, demo_resident_id())
    finally:
        console.close()
    assert seen["errors"] == [], seen["errors"]

    # What the pages showed is what the platform holds.
    with httpx.Client(base_url=stack.gateway_url, timeout=10, trust_env=False) as client:
        token = client.post("/api/v1/auth/login", json={"account": demo_resident_id(), "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        app = client.get(f"/api/v1/applications/{seen['application_no']}", headers=headers).json()
        assert app["status"] == "completed"
        assert [m["status"] for m in app["materials"]] == ["uploaded", "uploaded", "supplied"]
        ratings = client.get("/api/v1/ratings", headers=headers, params={"application_no": app["application_no"]})
        assert [r["score"] for r in ratings.json()["items"]] == [5]
    for name in ("01-login", "04-application-draft", "08-application-completed", "12-board", "13-board-phone"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


SPOIL_ACCESS_TOKEN = """() => {
  const held = JSON.parse(sessionStorage.getItem('ow.tokens'));
  sessionStorage.setItem('ow.tokens', JSON.stringify({ ...held, access: held.access.slice(0, -8) + 'AAAAAAAA' }));
  return held.refresh;
}"""


def approve_through_the_api(gateway_url: str, application_no: str) -> None:
    """The department's decision (its page is walked by the story above)."""
    with httpx.Client(base_url=gateway_url, timeout=10, trust_env=False) as client:
        login = client.post("/api/v1/auth/login", json={"account": "approver_drc", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        deadline = time.monotonic() + 30
        while True:
            tasks = client.get("/api/v1/tasks", headers=headers, params={"status": "open"}).json()["items"]
            mine = [t for t in tasks if t["application_no"] == application_no]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert mine, f"no task for {application_no}"
        decision = {"decision": "approve", "opinion": "同意备案"}
        decided = client.post(f"/api/v1/tasks/{mine[0]['task_id']}/decision", headers=headers, json=decision)
        assert decided.status_code == 200, decided.text


def test_the_window_desk_applies_for_an_enterprise_and_hands_the_certificate_over(
    stack: Stack, browser: Browser
) -> None:
    """One window: a clerk applies on an enterprise's behalf (collect at the window), uploads,
    submits and accepts; once approved, the certificate is handed over at the window pickup
    after the collector's number is checked; the day's appointments are on their page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    body = "91370602MA3C0B" + uuid.uuid4().hex[:2].upper() + "0"
    enterprise = body + uscc.calc_check_digit(body)
    console = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        clerk = console.tab()
        console.login(clerk, "clerk")
        clerk.locator("nav a[href='#/desk/behalf']").click()
        expect(clerk.locator("main h1")).to_contain_text("代办申请")
        clerk.get_by_label("办理事项").select_option("DRC-001")
        clerk.get_by_label(re.compile("申请人身份证号")).fill(enterprise)
        clerk.get_by_label("申请人姓名").fill("烟台窗口示范有限公司")
        clerk.get_by_label("申请人电话").fill("13900000000")
        clerk.get_by_label("到窗口领取").check()
        expect(clerk.locator("#address-fields")).to_be_hidden()
        console.shot(clerk, "15-desk-behalf")
        clerk.get_by_role("button", name="创建申请").click()
        clerk.wait_for_url(re.compile(r"#/desk/review/"))
        expect(clerk.locator("#app-status")).to_have_attribute("data-status", "draft")
        no = clerk.url.rsplit("/", 1)[-1]
        upload(clerk, "FORM", "项目备案信息表.pdf")
        expect(clerk.locator("li.material[data-code='FORM']")).to_have_attribute("data-status", "uploaded")
        console.shot(clerk, "16-desk-draft")
        clerk.locator("#submit-application").click()
        expect(clerk.locator("#app-status")).to_have_attribute("data-status", "submitted")
        expect(clerk.locator("#decision-accept")).to_be_checked()
        clerk.locator("#decide").click()
        expect(clerk.locator("#app-status")).to_have_attribute("data-status", "accepted")

        approve_through_the_api(stack.gateway_url, no)

        # An access token that no longer works is renewed once with the refresh token, unseen.
        before = clerk.evaluate(SPOIL_ACCESS_TOKEN)

        clerk.locator("nav a[href='#/desk/pickups']").click()
        expect(clerk.locator("main h1")).to_have_text("窗口取件")
        pickup = clerk.locator(f"#pickups li[data-no='{no}']")
        refresh = clerk.get_by_role("button", name="刷新")
        for _ in range(60):  # the pickup opens when the certificate's event arrives
            if pickup.count():
                break
            refresh.click()
            clerk.wait_for_timeout(500)
        expect(pickup).to_be_visible()
        assert clerk.evaluate("JSON.parse(sessionStorage.getItem('ow.tokens')).refresh") != before
        pickup.get_by_label(re.compile("领取人证件号码")).fill("91370602MA3C0000X0")
        pickup.get_by_label("领取人姓名").fill("李四")
        pickup.get_by_role("button", name="确认交付").click()
        expect(pickup.locator(".alert")).to_be_visible()  # someone else's number: refused
        console.shot(clerk, "17-desk-pickup")
        pickup.get_by_label(re.compile("领取人证件号码")).fill(enterprise)
        pickup.get_by_role("button", name="确认交付").click()
        expect(clerk.locator("#status")).to_contain_text(no)
        expect(pickup).to_have_count(0)

        clerk.goto(f"{console.base}#/desk/review/{no}")
        for _ in range(40):  # the completion comes back as an event: reload until it is there
            expect(clerk.locator("#app-status")).to_be_visible()
            if clerk.locator("#app-status[data-status='completed']").count():
                break
            clerk.wait_for_timeout(500)
            clerk.reload()
        expect(clerk.locator("#app-status")).to_have_attribute("data-status", "completed")
        expect(clerk.locator("#timeline li[data-event='delivery.pickup.completed']")).to_have_count(1)

        clerk.locator("nav a[href='#/desk/appointments']").click()
        expect(clerk.locator("main h1")).to_have_text("今日预约")
        expect(clerk.locator("#slots table, #slots .empty")).to_be_visible()
        console.shot(clerk, "18-desk-appointments")
    finally:
        console.close()
    assert console.errors == [], console.errors


def test_a_citizen_pays_the_fee_at_the_stub_cashier(stack: Stack, browser: Browser) -> None:
    """An item with a fee: after submitting, the citizen pays through the stub cashier (it opens
    in a new window) and the application page shows the fee paid by itself."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        citizen = console.tab()
        console.province_login(citizen, demo_resident_id(), "张三")
        citizen.goto(f"{console.base}#/apply/PUBSEC-001")
        expect(citizen.locator("main h1")).to_contain_text("居民身份证申领")
        expect(citizen.locator(".facts")).to_contain_text("¥20.00")
        citizen.get_by_label("到窗口领取").check()
        citizen.get_by_role("button", name="创建申请").click()
        citizen.wait_for_url(re.compile(r"#/applications/"))
        upload(citizen, "HUKOU", "户口簿.pdf")
        expect(citizen.locator("li.material[data-code='HUKOU']")).to_have_attribute("data-status", "uploaded")
        citizen.locator("#submit-application").click()
        expect(citizen.locator("#app-status")).to_have_attribute("data-status", "submitted")
        pay = citizen.locator("#pay")
        expect(pay).to_contain_text("¥20.00")
        with citizen.context.expect_page() as opened:
            pay.click()
        cashier = opened.value
        cashier.wait_for_load_state()
        # The cashier names the status in words (Chinese first) and keeps the code in data-status.
        expect(cashier.locator("#status")).to_have_attribute("data-status", "pending")
        expect(cashier.locator("#status")).to_have_text("待支付")
        cashier.get_by_role("button", name=re.compile("Pay")).click()
        expect(cashier.locator("#status")).to_have_attribute("data-status", "paid")
        cashier.screenshot(path=str(ARTIFACTS / "19-cashier.png"), full_page=True)
        cashier.close()
        expect(citizen.locator(".summary")).to_contain_text("已缴费", timeout=15_000)
        expect(citizen.locator("#pay")).to_have_count(0)
        expect(citizen.locator("#timeline li[data-event='gateway.payment.succeeded']")).to_have_count(1)
        console.shot(citizen, "20-application-paid")
    finally:
        console.close()
    assert console.errors == [], console.errors


def fresh_resident_id() -> str:
    """A valid GB 11643 number (Zhifu district, Yantai) no test used before."""
    body = f"3706021990{uuid.uuid4().int % 12 + 1:02d}{uuid.uuid4().int % 28 + 1:02d}{uuid.uuid4().int % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def fresh_credit_code() -> str:
    """A valid GB 32100 unified social credit code no test used before."""
    body = "91370602MA3C" + uuid.uuid4().hex[:5].upper()
    return body + uscc.calc_check_digit(body)


def test_a_self_declared_account_is_told_what_to_do_and_a_clerk_verifies_it_at_the_window(
    stack: Stack, browser: Browser
) -> None:
    """A number typed in at registration is self-declared: the header says so and a page of
    records bound to it explains the refusal with the next step. A clerk who checked the ID card
    verifies the person at the desk and sees the activation code; the person sets a password with
    it and is verified (window); the password typed in at registration no longer works. Another
    person logs in through the province's button and is verified (province). Phone width for
    the citizens, laptop width for the clerk."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    newcomer, old_password = fresh_resident_id(), "Typed-In-Pass-1!"
    console = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        person = console.tab(PHONE)
        person.goto(f"{console.base}#/login")
        person.get_by_text("还没有账号？注册").click()
        person.get_by_label("身份证号或统一社会信用代码").fill(newcomer)
        person.get_by_label("姓名或企业名称").fill("王五")
        person.get_by_label("手机号码").fill("13700000000")
        person.get_by_label("密码（至少 8 位）").fill(old_password)
        person.get_by_role("button", name="注册并登录").click()
        expect(person.locator("#who [data-assurance='self_declared']")).to_have_text("未核验（自行填报）")
        expect(person.locator("main h1")).to_have_text("请先核验身份")  # #/mine: records bound to the number
        expect(person.locator("#not-verified #province-verify")).to_be_visible()
        expect(person.locator("#not-verified")).to_contain_text("携带居民身份证")
        console.shot(person, "21-not-verified-phone")
        person.locator("nav a[href='#/account']").click()
        expect(person.locator("#assurance [data-assurance='self_declared']")).to_be_visible()
        expect(person.locator("#password-form")).to_have_count(0)
        console.shot(person, "22-account-self-declared-phone")

        clerk = console.tab()
        console.login(clerk, "clerk")
        clerk.locator("nav a[href='#/desk/verify']").click()
        expect(clerk.locator("main h1")).to_have_text("窗口核验身份")
        clerk.get_by_label("居民身份证号").fill(newcomer)
        clerk.get_by_label("姓名（与身份证一致）").fill("王五")
        clerk.get_by_role("button", name="核验并生成激活码").click()
        expect(clerk.locator("#verify-checked-error")).to_be_visible()  # the ID card not checked yet
        expect(clerk.locator("#activation")).to_have_count(0)
        clerk.get_by_label(re.compile("已当面核对")).check()
        clerk.get_by_role("button", name="核验并生成激活码").click()
        code = clerk.locator("#activation-code")
        expect(code).to_be_visible()
        activation_code = code.inner_text().strip()
        assert activation_code
        expect(clerk.locator("#activation-expiry")).to_contain_text("有效期至")
        console.shot(clerk, "23-desk-verify")
        clerk.set_viewport_size(PHONE)
        console.shot(clerk, "23b-desk-verify-phone")

        person.goto(f"{console.base}#/activate")
        expect(person.locator("main h1")).to_have_text("用激活码设置密码")
        person.get_by_label("身份证号").fill(newcomer)
        person.get_by_label("激活码").fill(activation_code)
        person.get_by_label(re.compile("^新密码")).fill(DEMO_PASSWORD)
        person.get_by_label("再次输入新密码").fill(DEMO_PASSWORD)
        console.shot(person, "24-activate-phone")
        person.get_by_role("button", name="设置密码并登录").click()
        expect(person.locator("#who [data-assurance='verified']")).to_have_text("已实名核验（窗口核验）")
        expect(person.locator("main h1")).to_have_text("我的办件")
        console.shot(person, "25-activated-phone")

        other = console.tab(PHONE)
        console.province_login(other, fresh_resident_id(), "赵六")
        other.locator("nav a[href='#/account']").click()
        expect(other.locator("#assurance")).to_contain_text("全省统一身份认证")
        console.shot(other, "26-account-province-phone")
        other.set_viewport_size(DESKTOP)
        console.shot(other, "26b-account-province")
    finally:
        console.close()
    assert console.errors == [], console.errors
    with httpx.Client(base_url=stack.gateway_url, timeout=10, trust_env=False) as client:
        typed_in = client.post("/api/v1/auth/login", json={"account": newcomer, "password": old_password})
        assert typed_in.status_code == 401, typed_in.text
        renewed = client.post("/api/v1/auth/login", json={"account": newcomer, "password": DEMO_PASSWORD})
        assert renewed.status_code == 200, renewed.text


def test_an_enterprise_names_an_agent_who_acts_for_it_and_revokes_the_agent(stack: Stack, browser: Browser) -> None:
    """An enterprise proven through the province names a verified person as its agent (经办人);
    the person acts for it, the header saying who acts for whom, and comes back; the enterprise
    revokes the agent after confirming."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    agent_id, enterprise_id = fresh_resident_id(), fresh_credit_code()
    console = Console(browser=browser, base=f"{stack.gateway_url}/", artifacts=ARTIFACTS)
    try:
        agent = console.tab(PHONE)
        console.province_login(agent, agent_id, "钱七")

        company = console.tab()
        console.province_login(company, enterprise_id, "烟台经办示范有限公司")
        company.locator("nav a[href='#/account']").click()
        expect(company.locator("#agents .empty")).to_have_text("还没有经办人。")
        company.get_by_label("经办人身份证号").fill(agent_id)
        company.get_by_role("button", name="添加经办人").click()
        row = company.locator(f"#agents li[data-id-number='{agent_id}']")
        expect(row).to_be_visible()
        console.shot(company, "27-enterprise-agents")

        agent.goto(f"{console.base}#/account")
        choice = agent.locator(f"#act-for li[data-id-number='{enterprise_id}']")
        expect(choice).to_be_visible()
        choice.get_by_role("button", name="代表此企业办理").click()
        banner = agent.locator("#acting")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(f"正在代表 烟台经办示范有限公司（{enterprise_id}）办理")
        expect(banner).to_contain_text(agent_id)
        expect(agent.locator("main h1")).to_have_text("我的办件")
        console.shot(agent, "28-acting-phone")
        agent.get_by_role("button", name="回到本人账号").click()
        expect(banner).to_be_hidden()
        expect(agent.locator("#act-for")).to_be_visible()

        row.get_by_role("button", name="撤销").click()
        row.get_by_role("button", name="取消").click()
        expect(row.get_by_role("button", name="撤销")).to_be_focused()
        row.get_by_role("button", name="撤销").click()
        expect(row.locator(".confirm-text")).to_contain_text(re.compile(f"撤销 (钱七|{agent_id})"))
        console.shot(company, "29-enterprise-revoke-confirm")
        row.get_by_role("button", name="确认撤销").click()
        expect(company.locator("#agents .empty")).to_be_visible()
    finally:
        console.close()
    assert console.errors == [], console.errors
