"""Signing out, and the first owner's setup link printed by `parley serve`."""
import re
import time

from playwright.sync_api import expect

from conftest import Server, sign_in


def test_sign_out_ends_the_session(demo, page, shot):
    sign_in(page, demo.base, "ben@parley.local")
    expect(page.locator(".account-name")).to_have_text("Ben (agent)")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(demo.base + "/login")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(demo.base + "/inbox")
    expect(page).to_have_url(demo.base + "/login")
    status = page.evaluate("() => fetch('/api/v1/auth/session').then(r => r.status)")
    assert status == 401


def test_wrong_password_shows_the_servers_sentence(demo, page):
    page.goto(demo.base + "/login")
    page.get_by_label("Email").fill("ana@parley.local")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page).to_have_url(demo.base + "/login")


def test_setup_link_sets_the_owners_password(browser, page, shot):
    # `parley serve` on an empty database prints a one-time link for the first owner.
    server = Server(["serve", "--port", "{port}", "--database-url", "sqlite://{dir}/fresh.sqlite"],
                    env={"PARLEY_PUBLIC_URL": "http://127.0.0.1:{port}", "PARLEY_OWNER_EMAIL": "owner@example.com"}, name="serve")
    try:
        public = server.base
        link = None
        deadline = time.time() + 15
        while time.time() < deadline and not link:
            found = re.search(r"(\S+/setup#\S+)", server.output())
            link = found.group(1) if found else None
            time.sleep(0.2)
        assert link, server.output()
        assert link.startswith(public + "/setup#"), link
        page.goto(link)
        expect(page.get_by_role("heading", name="Set up Parley")).to_be_visible()
        page.get_by_label("New password").fill("short")
        page.get_by_label("Repeat the password").fill("short")
        page.get_by_role("button", name="Create my account").click()
        expect(page.get_by_role("alert")).to_be_visible()
        shot(page, "weak-password")
        page.get_by_label("New password").fill("correct horse battery")
        page.get_by_label("Repeat the password").fill("correct horse battery")
        page.get_by_role("button", name="Create my account").click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/inbox$"))
        # The link was used up.
        page.get_by_role("button", name="Sign out").click()
        page.goto(link)
        page.get_by_label("New password").fill("another password")
        page.get_by_label("Repeat the password").fill("another password")
        page.get_by_role("button", name="Create my account").click()
        expect(page.get_by_role("alert")).to_contain_text("already used")
        sign_in(page, public, "owner@example.com", "correct horse battery")
    finally:
        server.stop()
