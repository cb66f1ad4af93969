"""The last three pages of issue 20, on the real stack: anyone checks a certificate, the applicant
rates through the link a clerk sent, and a hall kiosk records a vote.

One application is taken to a certificate through the API (tests/e2e.py, as the stories do); a
person with no session checks it with the right code, a wrong code and a number that does not
exist. A clerk sends the applicant a rating link through the API; the applicant reads it on
#/ratings/links and rates through it on #/rate. An administrator registers a kiosk through the
API; the kiosk page takes the device key once and records a keyboard vote that the public
figures count. Every page is screenshot at 1280 and 375 px and checked with axe-core.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.harness import ADMIN_PASSWORD
from tests.browser.test_console import ARTIFACTS, DESKTOP, PDF, PHONE, Console
from tests.e2e import MAIL, Caller, accept, admin, approve, citizen, new_item, staff, status_is, wait_for
from tools.stack import Stack

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]


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
    """Screenshot at desktop and phone width (Console.shot runs axe-core); nothing sideways at 375 px."""
    page.set_viewport_size(DESKTOP)
    console.shot(page, name)
    page.set_viewport_size(PHONE)
    console.shot(page, f"{name}-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, f"{name} overflows at 375 px"
    page.set_viewport_size(DESKTOP)


@pytest.fixture(scope="module")
def decided(stack: Stack) -> dict[str, Any]:
    """An approved application with its certificate, its applicant and a clerk (through the API)."""
    url = stack.gateway_url
    root = admin(url, ADMIN_PASSWORD)
    dept = "E2E" + uuid.uuid4().hex[:5].upper()
    item = new_item(root, department=dept)
    clerk = staff(url, root, "clerk")
    approver = staff(url, root, "approver", dept)
    me, id_number = citizen(url, name="测试居民", clerk=clerk)
    no = me.call("POST", "/api/v1/applications", 201, json={"item_code": item, "form": {}, "delivery": MAIL})[
        "application_no"
    ]
    for code in ("M1", "M2"):
        pdf = {"file": (f"{code}.pdf", PDF, "application/pdf")}
        me.call("PUT", f"/api/v1/applications/{no}/materials/{code}", (200, 201), files=pdf)
    me.call("POST", f"/api/v1/applications/{no}/submit", (200, 201, 202))
    accept(clerk, no)
    approve(approver, no)

    def with_certificate() -> dict[str, Any] | None:
        view = status_is(me, no, "approved", "completed")()
        return view if view and view.get("certificate") else None

    view = wait_for("the certificate is issued", with_certificate, 60)
    return {"no": no, "id_number": id_number, "clerk": clerk, "root": root, "certificate": view["certificate"]}


def test_anyone_checks_a_certificate_genuine_with_a_wrong_code_and_unknown(
    console: Console, decided: dict[str, Any]
) -> None:
    cert = decided["certificate"]
    page = console.tab()
    page.goto(f"{console.base}#/catalog")
    # No session: the check is in the navigation for anyone.
    page.locator("nav a[href='#/certificates/verify']").click()
    expect(page.locator("main h1")).to_have_text("电子证照核验")
    page.locator("#cert-form button[type=submit]").click()
    expect(page.get_by_label(re.compile("^证照编号"))).to_have_attribute("aria-invalid", "true")
    both_widths(console, page, "more-01-certificate-check")

    page.get_by_label(re.compile("^证照编号")).fill(cert["certificate_no"])
    page.get_by_label(re.compile("^核验码")).fill(cert["verification_code"])
    page.get_by_role("button", name="核验").click()
    result = page.locator("#cert-result")
    expect(result).to_have_attribute("data-result", "genuine")
    expect(result).to_contain_text(f"真实有效：证照 {cert['certificate_no']} 与核验码相符")
    # The holder as the API gives it: masked.
    expect(result.locator("#cert-facts")).to_contain_text("测**民")
    expect(result.locator("#cert-facts")).to_contain_text(
        decided["id_number"][:6] + "********" + decided["id_number"][-4:]
    )
    expect(result.locator("#cert-facts")).to_contain_text("端到端测试事项")
    expect(result.locator("#cert-facts")).to_contain_text(str(cert["issued_on"]))
    both_widths(console, page, "more-02-certificate-genuine")

    page.get_by_label(re.compile("^核验码")).fill("WRONG-CODE")
    page.get_by_role("button", name="核验").click()
    expect(result).to_have_attribute("data-result", "invalid")
    expect(result).to_contain_text("核验未通过")
    expect(result).not_to_contain_text("测**民")
    both_widths(console, page, "more-03-certificate-wrong-code")

    page.get_by_label(re.compile("^证照编号")).fill("OWC-NO-SUCH-1")
    page.get_by_role("button", name="核验").click()
    expect(result).to_have_attribute("data-result", "not-found")
    expect(result).to_contain_text("没有编号为 OWC-NO-SUCH-1 的证照")

    # The applicant's certificate box links to the same check, filled in and run at once.
    page.goto(f"{console.base}#/certificates/verify?no={cert['certificate_no']}&code={cert['verification_code']}")
    expect(page.locator("#cert-result")).to_have_attribute("data-result", "genuine")


def test_the_applicant_reads_the_rating_link_a_clerk_sent_and_rates_through_it(
    console: Console, decided: dict[str, Any]
) -> None:
    no = decided["no"]
    sent = decided["clerk"].call("POST", "/api/v1/ratings/links", 201, json={"application_no": no})
    assert sent["application_no"] == no

    me = console.tab()
    console.login(me, decided["id_number"], "Verified-Pass-1!")
    me.locator("nav a[href='#/ratings/links']").click()
    expect(me.locator("main h1")).to_have_text("评价短信")
    link = me.locator(f"#rate-links li[data-application='{no}']")
    expect(link).to_have_attribute("data-status", "pending")
    expect(link.locator(".chip")).to_have_text("待评价")
    # The SMS's address leads to the console's own page.
    expect(link.locator(".sms-text")).to_contain_text("/#/rate?token=")
    both_widths(console, me, "more-10-rating-links")

    link.get_by_role("link", name=f"评价申请 {no}").click()
    expect(me).to_have_url(re.compile(r"#/rate\?token="))
    rate_url = me.url
    expect(me.locator("main h1")).to_have_text("服务评价")
    both_widths(console, me, "more-11-rate-by-link")
    me.locator("#rate-form label[for='link-score-4']").click()
    me.get_by_label("意见建议（可选）").fill("窗口指引清楚。")
    me.get_by_role("button", name="提交评价").click()
    done = me.locator("#rate-done")
    expect(done).to_have_attribute("data-state", "rated")
    expect(done).to_contain_text("感谢您的评价！您打了 4 分（满意）")
    both_widths(console, me, "more-12-rated-by-link")

    me.locator("nav a[href='#/ratings/links']").click()
    expect(me.locator(f"#rate-links li[data-application='{no}']")).to_have_attribute("data-status", "used")
    expect(me.locator(f"#rate-links li[data-application='{no}'] .chip")).to_have_text("已评价")

    # The same link again, in a tab with no session: it works once.
    stranger = console.tab(PHONE)
    stranger.goto(rate_url)
    stranger.get_by_role("button", name="提交评价").click()
    expect(stranger.locator("#rate-done")).to_have_attribute("data-state", "used")
    console.shot(stranger, "more-13-rate-link-used-phone")


def test_a_kiosk_takes_its_key_once_and_records_a_keyboard_vote(console: Console, stack: Stack) -> None:
    root = admin(stack.gateway_url, ADMIN_PASSWORD)
    window = "K" + uuid.uuid4().hex[:6].upper()
    kiosk = root.call("POST", "/api/v1/kiosks", 201, json={"window": window, "label": "浏览器测试评价器"})

    device = console.tab()
    device.goto(f"{console.base}#/kiosk")
    expect(device.locator("main h1")).to_have_text("评价器设置")
    device.locator("#kiosk-setup button[type=submit]").click()
    expect(device.get_by_label(re.compile("^设备密钥"))).to_have_attribute("aria-invalid", "true")
    both_widths(console, device, "more-20-kiosk-setup")
    device.get_by_label(re.compile("^设备密钥")).fill(kiosk["device_key"])
    device.get_by_label(re.compile("^窗口编号")).fill(window)
    device.get_by_role("button", name="保存并开始").click()

    buttons = device.locator("#kiosk-scores button.kiosk-score")
    expect(buttons).to_have_count(5)
    expect(device.locator(".kiosk-window")).to_have_text(f"窗口 {window}")
    expect(buttons.nth(0)).to_contain_text("非常满意")
    expect(buttons.nth(0)).to_contain_text("Very satisfied")
    both_widths(console, device, "more-21-kiosk")

    # The key stays on the device: a reload shows the buttons, not the set-up.
    device.reload()
    expect(buttons).to_have_count(5)
    # A keyboard vote: Tab reaches the buttons, Enter presses one.
    device.locator("button.kiosk-score[data-score='5']").focus()
    device.keyboard.press("Tab")
    expect(device.locator("button.kiosk-score[data-score='4']")).to_be_focused()
    device.keyboard.press("Enter")
    thanks = device.locator("#kiosk-thanks")
    expect(thanks).to_contain_text("感谢您的评价！")
    expect(thanks).to_contain_text("Thank you for your rating!")
    expect(device.locator("#kiosk-scores")).to_be_hidden()
    both_widths(console, device, "more-22-kiosk-thanks")

    def counted() -> dict[str, Any] | None:
        stats = Caller(stack.gateway_url).call("GET", "/api/v1/ratings/stats", 200, params={"by": "window"})
        row = next((i for i in stats["items"] if i["key"] == window), None)
        return row if row and row["count"] >= 1 else None

    row = wait_for("the kiosk's vote is counted", counted, 15)
    assert row["count"] == 1 and row["scores"].get("4") == 1, row

    # A few seconds later the buttons are back for the next person, the first one focused.
    expect(device.locator("#kiosk-scores")).to_be_visible(timeout=12_000)
    expect(device.locator("button.kiosk-score[data-score='5']")).to_be_focused()

    # Revoked: the next vote is refused and the device asks for its administrator again.
    root.call("DELETE", f"/api/v1/kiosks/{kiosk['kiosk_id']}", 204)
    device.locator("button.kiosk-score[data-score='3']").click()
    expect(device.locator("main h1")).to_have_text("评价器设置")
    expect(device.locator("#kiosk-setup .alert")).to_contain_text("密钥无效或已吊销")
