"""SPEC §4, the seed flow: reach a closed conversation, send the template the window requires,
see the conversation reopen and assigned to me, receive the reply live, close with unassign."""
import re
import time

from playwright.sync_api import expect

from conftest import Api, choose_status, choose_view, sign_in, whatsapp_webhook

ROSA_PHONE_DIGITS = "5510000003"   # Rosa Martínez, WhatsApp, wrote 3 days ago, closed by Ben
ROSA_WA_ID = "5215510000003"


def composer_requires_template(page):
    notice = page.get_by_test_id("composer-notice")
    expect(notice).to_contain_text("WhatsApp template is required")
    expect(page.get_by_label("Message", exact=True)).to_be_disabled()
    expect(page.locator(".window-badge")).to_contain_text("Window closed")


def send_order_update(page, name, order):
    page.get_by_label("Template").select_option(label="order_update (es_MX)")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    page.get_by_label("Parameter {{1}}").fill(name)
    page.get_by_label("Parameter {{2}}").fill(order)
    expect(page.get_by_test_id("template-preview")).to_have_text(f"Hola {name}, tu pedido {order} está en camino.")
    page.get_by_role("button", name="Send", exact=True).click()


def test_all_closed_search_template_reopen_reply_close(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    sign_in(page, demo.base, "ana@parley.local")
    choose_view(page, "All")
    choose_status(page, "Closed")
    page.get_by_label("Search conversations").fill(ROSA_PHONE_DIGITS)
    rows = page.locator(".row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rosa Martínez")
    expect(rows.first).to_contain_text("Ben (agent)")
    rows.first.click()
    expect(page.locator(".conv-head h2")).to_contain_text("Rosa Martínez")
    expect(page.locator(".conv-head .chip")).to_have_text("Closed")
    composer_requires_template(page)
    expect(page.locator(".activity-closed").last).to_contain_text("Support — Answered")
    shot(page, "template-required")

    send_order_update(page, "Rosa", "A-1001")
    expect(page.locator(".conv-head .chip")).to_have_text("Open")
    expect(page.locator(".assign-button")).to_contain_text("Ana (agent) (me)")
    last = page.locator(".msg-out").last
    expect(last).to_contain_text("Hola Rosa, tu pedido A-1001 está en camino.")
    expect(last.locator(".mark")).to_have_attribute("data-status", "sent")
    # Under the Closed filter the row leaves; under Open it is there, assigned to me.
    expect(rows).to_have_count(0)
    choose_status(page, "Open")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ana (agent)")
    shot(page, "reopened")

    channel = owner.channel("whatsapp")
    whatsapp_webhook(demo.base, channel["id"], ROSA_WA_ID, "Rosa Martínez", "¡Gracias! ¿Llega hoy?", time.time())
    expect(page.locator(".msg-in").last).to_contain_text("¡Gracias! ¿Llega hoy?")
    expect(page.locator(".window-badge")).to_contain_text("Window open")
    expect(page.get_by_label("Message", exact=True)).to_be_enabled()
    expect(rows.first).to_contain_text("¡Gracias! ¿Llega hoy?")

    owner.call("PATCH", "/api/v1/workspace/settings", {"closingLogic": "unassign"})
    page.get_by_role("button", name="Close", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Category (optional)").select_option("Sale")
    dialog.get_by_label("Summary (optional)").fill("Order A-1001 ships today")
    shot(page, "close-dialog")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(page.locator(".conv-head .chip")).to_have_text("Closed")
    expect(page.locator(".assign-button")).to_contain_text("Unassigned")
    expect(page.locator(".activity-closed").last).to_contain_text("and unassigned it")
    expect(page.locator(".activity-closed").last).to_contain_text("Sale — Order A-1001 ships today")
    assert owner.find_contact(ROSA_PHONE_DIGITS).get("assignee") is None


def test_mine_closed_search_template_reopen(demo, page, shot):
    # Chloé Dubois wrote on WhatsApp 8 days ago; Ana handled and closed her conversation.
    sign_in(page, demo.base, "ana@parley.local")
    choose_view(page, "Mine")
    choose_status(page, "Closed")
    page.get_by_label("Search conversations").fill("chloe")
    rows = page.locator(".row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Chloé Dubois")
    rows.first.click()
    composer_requires_template(page)
    send_order_update(page, "Chloé", "B-2002")
    expect(page.locator(".conv-head .chip")).to_have_text("Open")
    expect(page.locator(".assign-button")).to_contain_text("Ana (agent) (me)")
    expect(page.locator(".msg-out").last.locator(".mark")).to_have_attribute("data-status", "sent")
    choose_status(page, "Open")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Chloé Dubois")
