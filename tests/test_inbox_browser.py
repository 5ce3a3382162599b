"""The inbox page's user stories, in a real headless Chromium (see tests/browser_support.py).

Each story drives the page as a person would (clicks, typing) against the emulator over real
HTTP, with a real webhook receiver, and checks what the page shows and what the emulator and the
receiver saw. Each ends with a screenshot in ``.artifacts/screenshots/``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, expect

from tests.browser_support import launched_browser, screenshot
from tests.conftest import Emulator, Receiver, assert_valid, in_thread

USER = "15551234567"
SHORT_CODE = "4442"


@dataclass
class Inbox:
    page: Page
    url: str
    #: uncaught errors and console errors (a CSP violation is one)
    errors: list[str] = field(default_factory=list)
    #: console errors a story provokes on purpose (a request the control API refuses)
    expected: list[str] = field(default_factory=list)

    async def open(self) -> Page:
        await self.page.goto(self.url + "/")
        await expect(self.page.locator("#live")).to_have_text("live")
        return self.page

    def thread(self, text: str):
        return self.page.locator(".thread", has_text=text)

    def bubble(self, text: str):
        return self.page.locator(".bubble", has_text=text)


@pytest.fixture
async def browser():
    async for launched in launched_browser():
        yield launched


@asynccontextmanager
async def inbox_on(browser, emulator: Emulator) -> AsyncIterator[Inbox]:
    """A fresh browser context (its own storage) with a page on ``emulator``'s inbox; fails the
    test on any page error or console error it did not expect."""
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    opened = Inbox(page, emulator.url)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.on("console", lambda message: opened.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    yield opened
    await context.close()
    unexpected = [error for error in opened.errors
                  if not any(expected in error for expected in opened.expected)]
    assert not unexpected, unexpected


@pytest.fixture
async def inbox(browser, emulator: Emulator) -> AsyncIterator[Inbox]:
    async with inbox_on(browser, emulator) as opened:
        yield opened


async def test_an_sdk_message_appears_live_and_its_statuses_fill_in_from_the_clock_buttons(
        emulator: Emulator, inbox: Inbox) -> None:
    page = await inbox.open()
    await expect(page.locator("#threads")).to_contain_text("No messages yet")
    await expect(page.locator("#clock-mode")).to_have_text("manual clock")

    client = emulator.sdk()  # HMAC, the SDK's default
    response = await in_thread(client.message, USER, "Your code is 123456", "OTP")
    sent = time.perf_counter()
    assert response.status_code == 200, response.body
    await page.wait_for_selector(f".thread:has-text('{USER}')", timeout=5000)
    appeared = time.perf_counter() - sent
    # the page was not reloaded: the row came over the live stream
    assert appeared < 1.0, f"the message took {appeared:.3f} s to appear"

    await inbox.thread(USER).click()
    bubble = inbox.bubble("Your code is 123456")
    await expect(bubble.locator(".status")).to_have_text("290 Message in progress")
    await expect(bubble.locator(".tags")).to_contain_text("OTP")
    await expect(bubble.get_by_role("button", name="Copy code 123456")).to_be_visible()

    await page.get_by_role("button", name="+10 s").click()
    await expect(bubble.locator(".status")).to_have_text("200 Delivered to handset")
    history = bubble.locator(".history li")
    await expect(history).to_have_count(3)
    await expect(history.nth(0)).to_contain_text("290 Message in progress")
    await expect(history.nth(1)).to_contain_text("203 Delivered to gateway")
    await expect(history.nth(2)).to_contain_text("200 Delivered to handset")
    await expect(page.locator("#clock-now")).to_have_text("2026-01-01 00:00:10.000 UTC")
    # the page's button moved the emulator's own clock
    _, clock = await emulator.control("GET", "/clock")
    assert clock["now"] == "2026-01-01T00:00:10.000000Z"

    await bubble.get_by_role("button", name="Copy code 123456").click()
    assert await page.evaluate("navigator.clipboard.readText()") == "123456"
    await screenshot(page, "story-1-sdk-message-live")


async def test_stop_from_the_composer_reaches_the_receiver_and_a_later_send_is_blocked(
        emulator: Emulator, receiver: Receiver, inbox: Inbox) -> None:
    await emulator.patch_config({"telesign": {"callback_url": receiver.url("/telesign")}})
    page = await inbox.open()
    await page.get_by_role("button", name="New conversation").click()
    composer = page.locator("#composer")
    await composer.get_by_label("Provider").select_option("telesign")
    await composer.get_by_label("Channel").select_option("sms")

    # bad input: the control API's message shows next to the field it names
    inbox.expected.append("the server responded with a status of 400")
    await composer.get_by_label("To").fill(SHORT_CODE)
    await composer.get_by_role("button", name="STOP").click()
    await expect(composer.locator('[data-error-for="from"]')).to_contain_text("from")
    assert not receiver.requests

    await composer.get_by_label("From").fill(USER)
    await composer.get_by_role("button", name="STOP").click()
    await expect(composer.locator('[data-error-for="from"]')).to_have_text("")
    stop = inbox.bubble("STOP")
    await expect(stop.locator(".tags")).to_contain_text("keyword stop → stop")
    reply = page.locator(".bubble.outbound", has_text="unsubscribed")
    await expect(reply.locator(".tags")).to_contain_text("compliance auto-reply")
    await expect(page.locator("#thread-head")).to_contain_text("opted out (STOP)")

    # the STOP went to the system under test as Telesign's mo_sms webhook
    [mo] = [r for r in receiver.requests if r.path == "/telesign"]
    assert_valid("telesign/mo-sms", mo.json())
    assert mo.json()["user_response"]["mo_message"] == "STOP"
    assert mo.json()["user_response"]["phone_number"] == USER

    # a later send from the same short code to that user: 510, shown in the same thread
    client = emulator.sdk()
    response = await in_thread(client.message, USER, "Big sale today", "MKT", sender_id=SHORT_CODE)
    assert response.status_code == 200, response.body
    await page.get_by_role("button", name="+10 s").click()
    blocked = inbox.bubble("Big sale today")
    await expect(blocked.locator(".status")).to_contain_text("510")
    await expect(blocked.locator(".tags")).to_contain_text("blocked: opted out")
    await screenshot(page, "story-2-stop-and-opt-out")


async def test_a_failing_receiver_shows_retries_then_exhausted_and_redeliver_delivers(
        emulator: Emulator, receiver: Receiver, inbox: Inbox) -> None:
    receiver.answers = [500]
    client = emulator.sdk()
    response = await in_thread(client.message, USER, "Order 1042 has shipped", "ARN",
                               callback_url=receiver.url("/dlr"))
    assert response.status_code == 200, response.body
    page = await inbox.open()
    # 290 -> 203 -> 200 by 5 s, the report's attempts at 5 s, 15 s and 45 s (Telesign's policy)
    await page.get_by_role("button", name="+1 min").click()
    await inbox.bubble("Order 1042").get_by_role("button", name="Webhooks").click()

    detail = page.locator("#delivery-detail")
    await expect(detail.locator(".facts")).to_contain_text("exhausted")
    await expect(detail.locator(".facts")).to_contain_text("3 attempts failed; last: HTTP 500")
    rows = detail.locator(".attempts tbody tr")
    await expect(rows).to_have_count(3)
    for row in range(3):
        await expect(rows.nth(row).locator(".outcome")).to_have_text("HTTP 500")
    await expect(rows.nth(0)).to_contain_text("2026-01-01 00:00:15.000 UTC")  # its next retry
    await expect(detail.locator(".headers")).to_contain_text("X-TS-Authorization")
    await expect(detail.locator("pre.body")).to_contain_text('"reference_id"')
    assert [r.path for r in receiver.requests] == ["/dlr"] * 3

    receiver.answers = [200]  # the system under test is fixed
    await detail.get_by_role("button", name="Redeliver").click()
    await expect(detail.locator(".facts")).to_contain_text("delivered")
    await expect(rows).to_have_count(4)
    await expect(rows.nth(3).locator(".outcome")).to_have_text("HTTP 200")
    await expect(rows.nth(3).locator("td").first).to_have_text("2.1")
    [delivery] = await emulator.deliveries()
    assert delivery["state"] == "delivered"
    assert len(receiver.requests) == 4
    await screenshot(page, "story-3-redeliver")


HOSTILE = ['<img src=x onerror="window.__pwned=1">',
           "<script>window.__pwned=2</script>",
           '"><svg onload="window.__pwned=3">']


async def test_message_text_is_shown_as_text_and_runs_nothing(emulator: Emulator,
                                                              inbox: Inbox) -> None:
    for number, text in enumerate(HOSTILE):
        status, body = await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "from": f"1555000000{number}", "to": SHORT_CODE,
            "text": text})
        assert status == 201, body
    page = await inbox.open()
    # the first thread opens with the page; the others are unread until opened
    await expect(inbox.thread("15550000001").locator(".unread-count")).to_have_text("1")
    for number, text in enumerate(HOSTILE):
        await inbox.thread(f"1555000000{number}").click()
        await expect(inbox.thread(f"1555000000{number}").locator(".unread-count")).to_have_count(0)
        bubble = page.locator(".bubble.inbound .text")
        await expect(bubble).to_have_text(text)
    # the thread list's snippets too, and nothing anywhere became an element
    for text in HOSTILE:
        await expect(page.locator(".thread-snippet", has_text=text)).to_have_count(1)
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("main img, main script, main svg").count() == 0

    # two more from the first end user while another thread is open: 2 unread there
    for text in ("one more", "and another"):
        status, body = await emulator.control("POST", "/inbound", json={
            "provider": "telesign", "from": "15550000000", "to": SHORT_CODE, "text": text})
        assert status == 201, body
    first = inbox.thread("15550000000")
    await expect(first.locator(".unread-count")).to_have_text("2")
    await expect(first.locator(".thread-snippet")).to_have_text("↩ and another")
    await screenshot(page, "story-4-markup-is-text")


async def test_search_and_a_filter_narrow_ten_thousand_messages(emulator: Emulator,
                                                                inbox: Inbox) -> None:
    # 10,000 TSG messages to 10,000 end users, in ten requests of 1,000 recipients
    key = emulator.ctx.config.section("tsg")["api_key"]
    for batch in range(10):
        recipients = [f"1555{batch:02d}{n:05d}" for n in range(1000)]
        async with emulator.http.post(emulator.url + "/messages",
                                      json={"from": "15550555055", "to": recipients,
                                            "body": f"Batch {batch} notice"},
                                      headers={"Authorization": f"Bearer {key}"}) as response:
            assert response.status == 200, await response.text()
    status, body = await emulator.control("POST", "/inbound", json={
        "provider": "telesign", "from": "14155550123", "to": SHORT_CODE, "text": "HELP"})
    assert status == 201, body
    assert len(emulator.ctx.store) >= 10_001

    started = time.perf_counter()
    page = await inbox.open()
    await expect(page.locator(".thread").first).to_be_visible()
    usable = time.perf_counter() - started
    assert usable < 1.5, f"the page took {usable:.2f} s to show its list"
    await expect(page.locator("#thread-total")).to_contain_text("10,001 conversations (100 shown)")
    # never everything at once: a page of threads
    assert await page.locator(".thread").count() == 100

    started = time.perf_counter()
    await page.get_by_label("Search").fill("155507")
    await expect(page.locator("#thread-total")).to_have_text("1,000 conversations (100 shown)")
    searched = time.perf_counter() - started
    await page.get_by_label("Search").fill("15550700042")
    await expect(page.locator(".thread")).to_have_count(1)
    await expect(page.locator(".thread")).to_contain_text("Batch 7 notice")

    await page.get_by_label("Search").fill("")
    await page.locator("#filter-provider").select_option("telesign")
    await expect(page.locator("#thread-total")).to_have_text("1 conversation")
    await expect(page.locator(".thread")).to_contain_text("14155550123")
    assert searched < 1.5, f"a search took {searched:.2f} s"
    await screenshot(page, "story-5-ten-thousand")


async def test_with_a_control_token_the_page_asks_once_and_keeps_it_for_the_tab(
        browser, emulator_with) -> None:
    emulator = await emulator_with(control_token="s3cret")
    token = {"Authorization": "Bearer s3cret"}
    async with inbox_on(browser, emulator) as inbox:
        inbox.expected.append("the server responded with a status of 401")
        page = inbox.page
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
        await page.goto(inbox.url + "/")
        dialog = page.get_by_role("dialog", name="Control token")
        await expect(dialog).to_be_visible()
        await expect(page.locator("#token-dialog")).to_have_count(1)  # one dialog for all 401s

        await dialog.get_by_label("Control token").fill("wrong")
        await dialog.get_by_role("button", name="Use token").click()
        await expect(dialog).to_contain_text("That token was refused; try again.")
        await dialog.get_by_label("Control token").fill("s3cret")
        await dialog.get_by_role("button", name="Use token").click()
        await expect(page.locator("#live")).to_have_text("live")
        await expect(dialog).to_be_hidden()

        # the live stream carries the token too: an inbound message shows without a reload
        status, body = await emulator.control("POST", "/inbound", headers=token, json={
            "provider": "telesign", "from": USER, "to": SHORT_CODE, "text": "hello"})
        assert status == 201, body
        await expect(inbox.thread(USER)).to_contain_text("hello")

        # kept for the tab: a reload asks nothing and is refused nothing
        before = len(refused)
        await page.reload()
        await expect(page.locator("#live")).to_have_text("live")
        await expect(inbox.thread(USER)).to_be_visible()
        await expect(dialog).to_be_hidden()
        assert len(refused) == before, refused[before:]
        await screenshot(page, "story-6-control-token")

    # another browser (storage of its own) is asked again
    async with inbox_on(browser, emulator) as other:
        other.expected.append("the server responded with a status of 401")
        await other.page.goto(other.url + "/")
        await expect(other.page.get_by_role("dialog", name="Control token")).to_be_visible()


async def test_smpp_traffic_shows_in_the_inbox_and_a_reply_reaches_the_session(
        browser, emulator_with) -> None:
    from emulator.app import SMPP
    from tests.smpp_support import Esme

    emu = await emulator_with(smpp_port=0)
    esme = Esme(emu.server.app[SMPP].port)
    await esme.bind("tsg")
    esme.start_reading()
    try:
        async with inbox_on(browser, emu) as inbox:
            page = await inbox.open()
            answer = await esme.submit(destination_addr=USER, source_addr="15550555055",
                                       short_message=b"Parcel 77 is out for delivery",
                                       registered_delivery=1)
            assert answer.status == 0
            await inbox.thread(USER).click()
            bubble = inbox.bubble("Parcel 77")
            await expect(bubble.locator(".tags")).to_contain_text("via SMPP (tsg, S0001)")
            await page.get_by_role("button", name="+10 s").click()
            await expect(bubble.locator(".status")).to_contain_text("delivered")
            receipt = await esme.next_delivered()
            assert b"stat:DELIVRD" in receipt.short_message

            await bubble.get_by_role("button", name="Webhooks").click()
            detail = page.locator("#delivery-detail")
            await expect(detail.locator(".facts")).to_contain_text("smpp_receipt")
            await expect(detail.locator(".facts")).to_contain_text("smpp://tsg")
            await expect(detail.locator(".attempts .outcome")).to_have_text(
                "deliver_sm_resp ESME_ROK")
            await expect(detail.locator(".attempts tbody tr.failed")).to_have_count(0)

            # the end user answers from the composer: it reaches the session as deliver_sm
            await page.get_by_role("button", name="New conversation").click()
            composer = page.locator("#composer")
            await composer.get_by_label("Provider").select_option("tsg")
            await composer.get_by_label("From").fill(USER)
            await composer.get_by_label("To").fill("15550555055")
            await composer.get_by_label("Message").fill("Is it here yet?")
            await composer.get_by_role("button", name="Send").click()
            mo = await esme.next_delivered()
            assert (mo.esm_class, mo.short_message) == (0, b"Is it here yet?")
            await expect(inbox.bubble("Is it here yet?")).to_be_visible()
            await screenshot(page, "story-7-smpp")
    finally:
        await esme.close()
