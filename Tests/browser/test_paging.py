"""Keyset paging in the browser: the list loads further pages on scroll, the timeline loads
older messages when scrolled to the top."""
import time

from playwright.sync_api import expect

from conftest import Api, sign_in, whatsapp_webhook


def test_list_and_timeline_load_more_on_scroll(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    channel = owner.channel("whatsapp")["id"]
    now = time.time()
    for i in range(60):
        whatsapp_webhook(demo.base, channel, f"52155666{i:05d}", f"Bulk Sender {i:02d}", f"Hello number {i}", now - 600 + i)
    for i in range(71):
        whatsapp_webhook(demo.base, channel, "5215566699999", "Chatty Cathy", f"Chatty message {i:02d}", now - 300 + i)
    sign_in(page, demo.base, "ana@parley.local")
    rows = page.locator(".row")
    expect(rows).to_have_count(50)
    page.locator(".list-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    expect(rows).not_to_have_count(50)
    total = len(owner.call("GET", "/api/v1/conversations?limit=200")["items"])
    expect(rows).to_have_count(total)
    names = rows.locator(".row-name").all_text_contents()
    assert len(set(names)) == len(names), "a row appeared twice"

    page.get_by_label("Search conversations").fill("Cathy")
    expect(rows).to_have_count(1)
    rows.first.click()
    bubbles = page.locator(".msg-in")
    expect(bubbles.last).to_contain_text("Chatty message 70")
    first_count = bubbles.count()
    assert first_count < 71, first_count
    page.locator(".timeline-scroll").evaluate("el => el.scrollTo(0, 0)")
    expect(bubbles).to_have_count(71)
    expect(bubbles.first).to_contain_text("Chatty message 00")
    expect(page.locator(".timeline-start")).to_be_visible()
    shot(page, "timeline-start")
