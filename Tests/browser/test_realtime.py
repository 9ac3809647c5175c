"""Two agents at once: typing and presence reach the other one, rows and counts update live."""
import re
import time

from playwright.sync_api import expect

from conftest import Api, PageWatch, choose_view, sign_in, whatsapp_webhook


def test_typing_presence_and_live_rows(demo, browser, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    ben_context = browser.new_context(viewport={"width": 1366, "height": 768})
    ben = ben_context.new_page()
    ben.watch = PageWatch(ben)
    try:
        sign_in(page, demo.base, "ana@parley.local")
        sign_in(ben, demo.base, "ben@parley.local")
        # Presence: each sees the other online.
        expect(page.locator(".presence .avatar[title='Ben (agent) is online']")).to_be_visible()
        expect(ben.locator(".presence .avatar[title='Ana (agent) is online']")).to_be_visible()

        for p in (page, ben):
            p.get_by_label("Search conversations").fill("Lucía")
            expect(p.locator(".row")).to_have_count(1)
            p.locator(".row", has_text="Lucía").click()
            expect(p.locator(".conv-head h2")).to_contain_text("Lucía Fernández")
        page.get_by_label("Message", exact=True).press_sequentially("Un momento", delay=30)
        expect(ben.locator(".typing")).to_have_text("Ana (agent) is typing…")
        shot(ben, "ben-sees-typing")
        page.get_by_label("Message", exact=True).press("Control+Enter")
        expect(ben.locator(".typing")).to_have_text("")
        expect(ben.locator(".msg-out").last).to_contain_text("Un momento")
        # Ana's send assigned the conversation to her: Ben's header and row follow.
        expect(ben.locator(".assign-button")).to_contain_text("Ana (agent)")
        expect(ben.locator(".row").first).to_contain_text("Ana (agent)")

        # A new inbound message on another contact moves its row to the top with an unread badge, and counts follow.
        for p in (page, ben):
            p.get_by_label("Search conversations").fill("")
        expect(ben.locator(".row").first).to_be_visible()
        unassigned = ben.get_by_role("navigation", name="Views").get_by_role("button", name=re.compile(r"^Unassigned"))
        before = unassigned.inner_text()
        whatsapp_webhook(demo.base, owner.channel("whatsapp")["id"], "5215577770001", "Nadia Live", "¿Siguen abiertos?", time.time())
        top = ben.locator(".row").first
        expect(top).to_contain_text("Nadia Live")
        expect(top.locator(".badge-unread")).to_have_text("1")
        expect(unassigned).not_to_have_text(before)
        shot(ben, "live-row")

        # Mark unread / read from the conversation header.
        page.locator(".row", has_text="Lucía").click()
        page.get_by_role("button", name="Mark unread").click()
        expect(page.locator(".row", has_text="Lucía").locator(".badge-unread")).to_be_visible()
        expect(ben.locator(".row", has_text="Lucía").locator(".badge-unread")).to_be_visible()
        page.get_by_role("button", name="Mark read").click()
        expect(page.locator(".row", has_text="Lucía").locator(".badge-unread")).to_have_count(0)
        choose_view(page, "Mine")
        expect(page.locator(".row", has_text="Lucía")).to_have_count(1)
        assert not ben.watch.errors, ben.watch.errors
    finally:
        ben_context.close()
