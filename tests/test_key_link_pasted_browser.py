"""Issue 13, defect 6, in real Chromium: a link with key pasted into a console that is
already open is taken in (and leaves the address bar), and what was wrong with a damaged
link opened before signing in is still said on the sign-in page."""
from __future__ import annotations

from playwright.sync_api import Browser, expect
from playwright.sync_api import Error as PlaywrightError

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_browser_keys import signed_in, watch


def test_a_link_pasted_into_an_open_console_is_taken_in(
        server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    start_camera("Pim Plak")
    stream = server.wait_for_stream("Pim Plak")
    context, page = signed_in(browser, server.url)
    try:
        page.goto(server.url + "/")
        page.evaluate("window.bwlive.ready")
        assert page.evaluate("window.bwlive.keys.length") == 0
        page.goto(system_keys.link(server.url))  # same document: only the fragment changes
        # polled from here: wait_for_function's polling evaluates strings, which the page's CSP refuses
        for _ in range(100):
            try:
                if page.evaluate("window.bwlive && window.bwlive.keys && window.bwlive.keys.length") == 1:
                    break
            except PlaywrightError:  # the page took the link in by loading itself again
                pass
            page.wait_for_timeout(100)
        assert page.evaluate("window.bwlive.keys.length") == 1, "the pasted link's key was not taken in"
        assert "#" not in page.url and "key=" not in page.url
        watch(page, stream["id"])
    finally:
        context.close()


def test_a_damaged_link_opened_before_signing_in_keeps_its_error(server, browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "/#key=!!!not-a-key!!!")
        page.wait_for_url("**/web/signin.html**", timeout=10_000)
        expect(page.locator("#link-problem")).to_contain_text("The key in this link could not be used")
        page.screenshot(path="docs/screenshots/signin-link-problem.png")
        page.reload()  # told once
        expect(page.locator("#link-problem")).to_be_hidden()
    finally:
        context.close()
