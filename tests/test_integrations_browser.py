"""The settings page in real Chromium: add a signed integration, send a test event to a
real receiver, and watch its attempts (a 500, then after the retry a 200) appear."""
from __future__ import annotations

import asyncio

from playwright.async_api import Page, async_playwright, expect

from bwlive_rtc.integrations.signing import signature
from tests.chromium import launch
from tests.test_integrations import PASSWORD, Bwlive, Receiver, Start, receiver, start_bwlive, until  # noqa: F401


async def test_settings_page_adds_an_integration_and_shows_delivery_attempts(
    start_bwlive: Start, receiver: Receiver,
) -> None:
    receiver.statuses = [500]
    bwlive = await start_bwlive()
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context()
            signed_in = await context.request.post(
                bwlive.url + "/api/session", data={"email": "admin@harbour.example", "password": PASSWORD})
            assert signed_in.ok
            page = await context.new_page()
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await page.goto(bwlive.url + "/web/settings.html")
            await _add_and_test(page, bwlive, receiver)
        finally:
            await browser.close()


async def _add_and_test(page: Page, bwlive: Bwlive, receiver: Receiver) -> None:
    form = page.locator("#integration-form")
    await form.locator("input[name=url]").fill(receiver.url)
    await page.click("#generate-secret")
    secret = await form.locator("input[name=secret]").input_value()
    assert len(secret) == 48
    await form.locator("button[type=submit]").click()
    row = page.locator("#integrations tr", has_text=receiver.url)
    await row.wait_for()
    assert await row.locator("td").nth(1).text_content() == "yes"
    assert "signed" in await page.text_content("#integration-message")

    await row.locator("button.test-event").click()
    retrying = page.locator("#deliveries tr[data-status=retrying]")
    await retrying.wait_for(timeout=15000)
    assert (await retrying.locator(".response").text_content()).startswith("500")
    assert await retrying.locator(".next-retry").text_content()

    await bwlive.advance(5)
    delivered = page.locator("#deliveries tr[data-status=delivered]")
    await delivered.wait_for(timeout=15000)
    assert await delivered.locator(".response").text_content() == "200"
    assert await delivered.locator(".attempt").text_content() == "2"
    assert await page.locator("#deliveries tr[data-status=earlier] .response").text_content() == "500"  # not its body

    headers, body = receiver.requests[-1]
    assert headers["Bwlive-Event-Type"] == "integration.test"
    expected = signature(secret, int(headers["Bwlive-Timestamp"]), body)
    assert headers["Bwlive-Signature"] == expected  # signed with the secret made in the browser

    await row.locator("button.remove").click()
    await until(lambda: _gone(page, receiver.url))
    await expect(page.locator("#deliveries tr")).to_have_count(0)  # the log reloads after the removal


async def _gone(page: Page, url: str) -> bool:
    return await page.locator("#integrations tr", has_text=url).count() == 0
