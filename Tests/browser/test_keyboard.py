"""Keyboard only: sign in, search, open a conversation, reply and send without the mouse."""
from playwright.sync_api import expect

from conftest import PASSWORD


def test_reply_without_the_mouse(demo, page, shot):
    keys = page.keyboard
    page.goto(demo.base + "/login")
    expect(page.get_by_label("Email")).to_be_focused()
    keys.type("ana@parley.local")
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.locator(".connection-live")).to_be_visible()

    keys.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    shot(page, "shortcuts")
    keys.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    keys.press("/")
    search = page.get_by_label("Search conversations")
    expect(search).to_be_focused()
    keys.type("Lucía")
    expect(page.locator(".row")).to_have_count(1)
    keys.press("Escape")
    expect(search).not_to_be_focused()
    expect(search).to_have_value("Lucía")
    keys.press("j")
    expect(page.locator(".conv-head h2")).to_contain_text("Lucía Fernández")
    expect(page.locator(".row.is-selected")).to_contain_text("Lucía Fernández")
    expect(page.locator(".window-badge")).to_contain_text("Window open")

    keys.press("r")
    box = page.get_by_label("Message", exact=True)
    expect(box).to_be_focused()
    keys.type("¡Sí! Sale hoy por la tarde.")
    keys.press("Control+Enter")
    last = page.locator(".msg-out").last
    expect(last).to_contain_text("¡Sí! Sale hoy por la tarde.")
    expect(box).to_have_value("")
    expect(last.locator(".mark")).to_have_attribute("data-status", "sent")

    # Escape leaves the composer; then the single-letter shortcuts work again.
    keys.press("Escape")
    keys.press("a")
    dialog = page.get_by_role("dialog", name="Assign the conversation")
    expect(dialog).to_be_visible()
    keys.type("ben")
    keys.press("Enter")
    expect(page.locator(".assign-button")).to_contain_text("Ben (agent)")
    focused = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle + '|' + getComputedStyle(document.activeElement).boxShadow")
    assert focused != "none|none", "the focused control shows no focus ring"
