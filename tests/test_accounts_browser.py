"""Chromium: every page's header signs out, switches organisation and links to
Administration (admins only) and the Account page; two-factor sign-in is set up with a QR
code and asked for at sign-in; an organisation can require it; a password is changed on
the Account page and reset by an admin-made one-time link; an admin resets a member's
two-factor sign-in on the members page (issue 13, defect 5)."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_browser_accounts import accept, sign_in

PAGES = ("/", "/web/recordings.html", "/web/settings.html", "/web/admin.html", "/web/account.html")
# The vertical space between each card of the page and the next (px).
CARD_GAPS_JS = """() => {
  const cards = [...document.querySelectorAll('main .card')].filter((card) => card.offsetParent !== null)
    .map((card) => card.getBoundingClientRect()).sort((a, b) => a.top - b.top);
  return cards.slice(1).map((card, i) => card.top - cards[i].bottom);
}"""
MEMBER_PASSWORD = "member password 1"


def call(context: BrowserContext, page: Page, method: str, path: str, data: dict | None = None) -> dict:
    """An API call with the page's session (cookie and CSRF token)."""
    csrf = page.evaluate("fetch('/api/session').then(r => r.json()).then(s => s.csrf_token)")
    response = context.request.fetch(page.url.split("/web/")[0].rstrip("/") + path, method=method,
                                     data=data, headers={"X-CSRF-Token": csrf or ""})
    assert response.ok, response.text()
    return response.json()


def invited(browser: Browser, admin_ctx: BrowserContext, admin: Page, email: str, name: str, role: str) -> None:
    link = call(admin_ctx, admin, "POST", "/api/organisation/invitations", {"email": email, "role": role})["link"]
    accept(browser, link, name, MEMBER_PASSWORD)


def next_code(secret: str) -> str:
    """The code of the coming time step: accepted now, and never the one just used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_header_signs_out_switches_organisation_and_links_administration(server, browser: Browser) -> None:
    admin_ctx = browser.new_context()
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url(server.url + "/")
    for path in PAGES:
        admin.goto(server.url + path)
        menu = admin.locator("header .account-menu")
        menu.wait_for()
        assert menu.locator("#sign-out").is_visible(), path
        assert menu.locator("#admin-link").get_attribute("href") == "/web/admin.html", path
        assert menu.locator("#account-link").inner_text() == "Ada Admin", path
        if path == "/":
            admin.screenshot(path="docs/screenshots/header-console.png", clip={"x": 0, "y": 0, "width": 1280, "height": 60})
        if path == "/web/settings.html":  # the cards follow one another without a blank gap (issue 13, polish)
            admin.locator("#browser-keys").wait_for()
            admin.locator("#settings").wait_for()
            assert all(0 <= gap <= 24 for gap in admin.evaluate(CARD_GAPS_JS)), admin.evaluate(CARD_GAPS_JS)
            admin.screenshot(path="docs/screenshots/settings.png", full_page=True)
    invited(browser, admin_ctx, admin, "vera@example.test", "Vera Viewer", "viewer")
    call(admin_ctx, admin, "POST", "/api/organisations", {"name": "Harbour police"})
    admin.goto(server.url + "/web/recordings.html")
    switch = admin.locator("#organisation-switch")
    switch.wait_for()
    assert switch.input_value() == call(admin_ctx, admin, "GET", "/api/session")["organisation"]["id"]
    with admin.expect_navigation():  # the switch reloads the page in the organisation picked
        switch.select_option(label="Test organisation (admin)")
    admin.locator("#organisation-switch").wait_for()
    assert call(admin_ctx, admin, "GET", "/api/session")["organisation"]["name"] == "Test organisation"
    admin.screenshot(path="docs/screenshots/header-account-menu.png", clip={"x": 0, "y": 0, "width": 1280, "height": 60})

    viewer_ctx = browser.new_context()
    viewer = viewer_ctx.new_page()
    sign_in(viewer, server.url + "/", "vera@example.test", MEMBER_PASSWORD)
    viewer.wait_for_url(server.url + "/")
    viewer.locator("#sign-out").wait_for()
    assert viewer.locator("#admin-link").count() == 0  # a viewer is not offered Administration
    viewer.click("#sign-out")
    viewer.wait_for_url("**/web/signin.html")
    assert viewer_ctx.request.get(server.url + "/api/session").json() == {"signed_in": False}
    viewer_ctx.close()
    admin_ctx.close()


def test_two_factor_set_up_then_asked_at_sign_in(server, browser: Browser) -> None:
    admin_ctx = browser.new_context()
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url(server.url + "/")
    invited(browser, admin_ctx, admin, "tom@example.test", "Tom Totp", "operator")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    sign_in(page, server.url + "/web/account.html", "tom@example.test", MEMBER_PASSWORD)
    page.wait_for_url("**/web/account.html")
    page.click("#two-factor-start")
    page.locator("#two-factor-qr").wait_for()
    assert page.locator("#two-factor-qr").evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.locator("#two-factor-secret").inner_text()
    page.fill("#two-factor-confirm input[name=code]", "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    page.click("#two-factor-confirm button")
    expect(page.locator("#two-factor-message")).to_contain_text("not right")
    page.screenshot(path="docs/screenshots/account-two-factor-enrol.png", full_page=True)
    page.fill("#two-factor-confirm input[name=code]", pyotp.TOTP(secret).now())
    page.click("#two-factor-confirm button")
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    page.screenshot(path="docs/screenshots/account-recovery-codes.png", full_page=True)
    page.click("#sign-out")
    page.wait_for_url("**/web/signin.html")

    page.fill("input[name=email]", "tom@example.test")
    page.fill("input[name=password]", MEMBER_PASSWORD)
    page.click("#signin-form button[type=submit]")
    page.locator("#code-form").wait_for()
    assert page.locator("#signin").is_hidden()
    page.fill("#code-form input[name=code]", "000000")
    page.click("#code-form button")
    expect(page.locator("#code-message")).to_contain_text("not right")
    page.screenshot(path="docs/screenshots/signin-two-factor.png")
    page.fill("#code-form input[name=code]", next_code(secret))
    page.click("#code-form button")
    page.wait_for_url(server.url + "/")
    assert call(context, page, "GET", "/api/session")["user"]["two_factor"] is True
    members = call(admin_ctx, admin, "GET", "/api/organisation/members")["members"]
    assert next(m for m in members if m["email"] == "tom@example.test")["two_factor"] is True
    context.close()
    admin_ctx.close()


def test_admin_resets_a_members_two_factor_on_the_members_page(server, browser: Browser) -> None:
    """The member lost their authenticator: the admin's button asks once more, then turns
    it off and ends the member's sessions; the member signs in with the password alone
    and sets two-factor up again."""
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url("**/web/admin.html")
    invited(browser, admin_ctx, admin, "lou@example.test", "Lou Lost", "operator")
    member_ctx = browser.new_context()
    member = member_ctx.new_page()
    sign_in(member, server.url + "/web/account.html", "lou@example.test", MEMBER_PASSWORD)
    member.wait_for_url("**/web/account.html")
    old_secret = call(member_ctx, member, "POST", "/api/account/two-factor")["secret"]
    call(member_ctx, member, "POST", "/api/account/two-factor/confirm", {"code": pyotp.TOTP(old_secret).now()})

    admin.reload()
    row = admin.locator("#members tr", has_text="lou@example.test")
    expect(row.locator("td").nth(3)).to_have_text("on")
    button = row.locator("button.reset-two-factor")
    button.click()
    expect(button).to_have_text("Really reset Lou Lost's two-factor?")  # asks first: nothing changed yet
    members = call(admin_ctx, admin, "GET", "/api/organisation/members")["members"]
    assert next(m for m in members if m["email"] == "lou@example.test")["two_factor"] is True
    assert member_ctx.request.get(server.url + "/api/session").json()["signed_in"] is True
    admin.locator("section.card", has=admin.locator("#members")).screenshot(
        path="docs/screenshots/admin-members-two-factor-reset.png")
    button.click()
    expect(admin.locator("#members-message")).to_have_text(
        "Lou Lost's two-factor sign-in is off and their sessions ended; they set it up again at their next sign-in.")
    expect(row.locator("td").nth(3)).to_have_text("off")
    expect(row.locator("button.reset-two-factor")).to_have_count(0)

    assert member_ctx.request.get(server.url + "/api/session").json() == {"signed_in": False}  # signed out
    member.goto(server.url + "/")
    member.wait_for_url("**/web/signin.html**")
    member.fill("input[name=email]", "lou@example.test")
    member.fill("input[name=password]", MEMBER_PASSWORD)
    member.click("#signin-form button[type=submit]")
    member.wait_for_url(server.url + "/")  # in with the password alone: no code asked
    member.goto(server.url + "/web/account.html")
    member.click("#two-factor-start")  # and may set it up again, with a new secret
    secret = member.locator("#two-factor-secret")
    secret.wait_for()
    assert secret.inner_text() != old_secret
    member.fill("#two-factor-confirm input[name=code]", pyotp.TOTP(secret.inner_text()).now())
    member.click("#two-factor-confirm button")
    member.locator("#recovery-codes li").first.wait_for()
    assert call(member_ctx, member, "GET", "/api/session")["user"]["two_factor"] is True
    entries = call(admin_ctx, admin, "GET", "/api/organisation/audit?page_size=200")["entries"]
    assert any(entry["action"] == "two-factor sign-in reset" for entry in entries)
    member_ctx.close()
    admin_ctx.close()


def test_password_changed_on_account_page_and_reset_by_admin_link(server, browser: Browser) -> None:
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url("**/web/admin.html")
    invited(browser, admin_ctx, admin, "pat@example.test", "Pat Password", "operator")
    member_ctx, other_ctx = browser.new_context(), browser.new_context()
    member, other = member_ctx.new_page(), other_ctx.new_page()
    for page in (member, other):
        sign_in(page, server.url + "/web/account.html", "pat@example.test", MEMBER_PASSWORD)
        page.wait_for_url("**/web/account.html")
    member.fill("#password-form input[name=current_password]", "not my password")
    member.fill("#password-form input[name=new_password]", "a new password 2")
    member.click("#password-form button")
    expect(member.locator("#password-message")).to_contain_text("not right")
    member.fill("#password-form input[name=current_password]", MEMBER_PASSWORD)
    member.fill("#password-form input[name=new_password]", "a new password 2")
    member.click("#password-form button")
    expect(member.locator("#password-message")).to_contain_text("Password changed")
    other.goto(server.url + "/")
    other.wait_for_url("**/web/signin.html**")  # the other session ended

    admin.reload()
    row = admin.locator("#members tr", has_text="pat@example.test")
    row.locator("button.reset").click()
    link = admin.locator("#reset-link")
    link.wait_for()
    assert "valid 60 minutes, one use" in admin.locator("#members-message").inner_text()
    admin.screenshot(path="docs/screenshots/admin-members-reset-link.png", full_page=False)
    reset_ctx = browser.new_context()
    reset = reset_ctx.new_page()
    reset.goto(link.inner_text())
    reset.locator("#reset-form").wait_for()
    assert "#token=" not in reset.url  # the token leaves the address bar
    assert "Pat Password (pat@example.test)" in reset.locator("#about").inner_text()
    reset.fill("#reset-form input[name=password]", "a reset password 3")
    reset.click("#reset-form button")
    reset.locator("#done a").wait_for()
    reset.screenshot(path="docs/screenshots/reset-password.png")
    member.goto(server.url + "/")
    member.wait_for_url("**/web/signin.html**")  # the reset ended the member's sessions too
    reset.goto("about:blank")  # (the same page with only a fragment would not load afresh)
    reset.goto(link.inner_text())
    expect(reset.locator("#message")).to_contain_text("already been used")
    sign_in(reset, server.url + "/", "pat@example.test", "a reset password 3")
    reset.wait_for_url(server.url + "/")
    for context in (admin_ctx, member_ctx, other_ctx, reset_ctx):
        context.close()


def test_organisation_requiring_two_factor_sends_members_to_set_it_up(server, browser: Browser) -> None:
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url("**/web/admin.html")
    invited(browser, admin_ctx, admin, "rae@example.test", "Rae Required", "viewer")
    box = admin.locator("#require-two-factor")
    box.click()  # refused: the page unticks it again (check() would insist it stays ticked)
    expect(admin.locator("#security-message")).to_contain_text("your own account first")
    expect(box).not_to_be_checked()
    enrolment = call(admin_ctx, admin, "POST", "/api/account/two-factor")
    call(admin_ctx, admin, "POST", "/api/account/two-factor/confirm", {"code": pyotp.TOTP(enrolment["secret"]).now()})
    box.check()
    expect(admin.locator("#security-message")).to_have_text("")
    admin.locator("#security").screenshot(path="docs/screenshots/admin-sign-in-security.png")
    assert call(admin_ctx, admin, "GET", "/api/organisation/policy") == {"require_two_factor": True}

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server.url + "/", "rae@example.test", MEMBER_PASSWORD)
    page.wait_for_url("**/web/account.html")
    assert "Test organisation requires two-factor sign-in" in page.locator("#banner").inner_text()
    assert context.request.get(server.url + "/api/streams").status == 403
    page.goto(server.url + "/web/recordings.html")
    page.wait_for_url("**/web/account.html")  # nothing else until it is set up
    page.click("#two-factor-start")
    secret = page.locator("#two-factor-secret")
    secret.wait_for()
    page.fill("#two-factor-confirm input[name=code]", pyotp.TOTP(secret.inner_text()).now())
    page.click("#two-factor-confirm button")
    page.locator("#recovery-codes li").first.wait_for()
    assert page.locator("#banner").is_hidden()
    page.goto(server.url + "/")
    page.locator("#sign-out").wait_for()
    assert page.url == server.url + "/"
    assert context.request.get(server.url + "/api/streams").status == 200
    box.uncheck()  # leave the organisation as the module found it
    expect(admin.locator("#security-message")).to_have_text("")
    context.close()
    admin_ctx.close()
