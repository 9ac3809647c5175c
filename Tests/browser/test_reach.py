"""Reaching a customer past a closed window in the web inbox: another of their channels offered
and switched to in one click, a message queued until they write (edited, then sent when they
do), and a closing-soon reminder arriving as a notification."""
import hashlib
import hmac
import json
import time
import urllib.request

from playwright.sync_api import expect

from conftest import Api, WHATSAPP_APP_SECRET, choose_status, sign_in


def open_contact(page, name):
    choose_status(page, "All")
    page.get_by_label("Search conversations").fill(name)
    page.locator(".row", has_text=name).first.click()
    expect(page.locator(".conv-head h2")).to_contain_text(name)


def instagram_webhook(base, channel_id, sender, text):
    """An Instagram message signed as Meta signs it (the demo's app secret)."""
    now = int(time.time() * 1000)
    body = json.dumps({"object": "instagram", "entry": [{"id": "PAGE", "time": now, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": "PAGE"}, "timestamp": now, "message": {"mid": f"m_{now}", "text": text}}]}]}).encode()
    signature = hmac.new(WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base}/webhooks/{channel_id}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=15) as r:
        assert r.status == 200


def test_switch_to_another_channel_when_whatsapp_needs_a_template(demo, page, shot):
    # The demo gives Rosa (WhatsApp, 3 days ago) an SMS number too.
    sms = Api(demo.base, "demo@parley.local").channel("sms")
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Rosa Martínez")
    others = page.get_by_test_id("reach-others")
    expect(others).to_contain_text("SMS: free text")
    shot(page, "whatsapp-template-only-with-sms-offered")
    others.get_by_role("button", name="Switch to SMS").click()
    expect(page.locator(".channel-switch select")).to_have_value(str(sms["id"]))
    expect(page.get_by_label("Message", exact=True)).to_be_enabled()
    page.get_by_label("Message", exact=True).fill("Hola Rosa, tu pedido ya salió")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg-out").last).to_contain_text("Hola Rosa, tu pedido ya salió")
    expect(page.locator(".msg-out").last.locator(".mark")).to_have_attribute("data-status", "sent")
    shot(page, "sent-by-sms")


def test_queue_a_message_until_an_instagram_contact_writes(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    instagram = owner.channel("instagram")
    ivan = owner.call("GET", f"/api/v1/contacts/{owner.find_contact('Ivan Petrov', status='closed')['contact']['id']}")
    sender = next(i["externalId"] for i in ivan["identities"] if i["channelId"] == instagram["id"])

    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Ivan Petrov")
    expect(page.get_by_test_id("composer-notice")).to_contain_text("Wait for the contact to write")
    expect(page.get_by_test_id("composer-notice")).to_contain_text("You can queue a message")
    page.get_by_label("Message", exact=True).fill("Your size is back in stock")
    page.get_by_label("Give up after").select_option("14")
    page.get_by_role("button", name="Queue message").click()
    queued = page.locator(".msg-scheduled")
    expect(queued).to_contain_text("Your size is back in stock")
    expect(queued.get_by_test_id("queued-note")).to_contain_text("Sends when the contact writes")
    shot(page, "queued")

    queued.get_by_role("button", name="Edit").click()
    page.get_by_label("Queued message").fill("Good news: your size is back in stock")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg-scheduled")).to_contain_text("Good news: your size is back in stock")

    # The contact writes (the simulated provider hears of it too): the queued message goes at
    # once and is marked sent.
    urllib.request.urlopen(urllib.request.Request(
        f"{demo.simulator}/simulator/contact-wrote?provider=messenger&recipient={sender}", data=b"", method="POST"), timeout=15)
    instagram_webhook(demo.base, instagram["id"], sender, "Any news about my order?")
    expect(page.locator(".msg-in").last).to_contain_text("Any news about my order?")
    sent = page.locator(".msg-out", has_text="Good news: your size is back in stock")
    expect(sent.locator(".mark")).to_have_attribute("data-status", "sent")
    expect(page.locator(".msg-scheduled")).to_have_count(0)
    expect(page.locator(".conv-head")).to_contain_text("Ana")
    shot(page, "sent-when-they-wrote")


def test_a_reminder_arrives_as_a_notification(demo, page, shot):
    sign_in(page, demo.base, "ana@parley.local")
    # Lucía wrote 5 minutes ago: a reminder 12 hours before her window closes waits.
    open_contact(page, "Lucía Fernández")
    page.get_by_label("Remind me before the window closes").select_option("12")
    expect(page.get_by_test_id("reminder")).to_contain_text("Reminder 12 h before it closes")
    shot(page, "reminder-set")
    page.get_by_role("button", name="Remove the reminder").click()
    expect(page.get_by_label("Remind me before the window closes")).to_be_visible()

    # Jörg wrote on WhatsApp 23 hours ago: 2 hours before the close is now, so it fires at once.
    open_contact(page, "Jörg Müller")
    page.get_by_label("Remind me before the window closes").select_option("2")
    bell = page.get_by_role("button", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    expect(page.locator(".toast", has_text="The WhatsApp window with Jörg Müller")).to_be_visible()
    shot(page, "notified")
    bell.click()
    item = page.locator(".bell-item").first
    expect(item).to_contain_text("closes in")
    shot(page, "notification-list")
    item.click()
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
