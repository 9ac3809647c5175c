"""The composer per channel rule: Messenger's tags after 7 days, Instagram's wait, WeChat's
20-message limit, Viber's monthly quota."""
import re

from playwright.sync_api import expect

from conftest import Api, choose_status, sign_in


def open_contact(page, search, status="All"):
    choose_status(page, status)
    page.get_by_label("Search conversations").fill(search)
    rows = page.locator(".row")
    expect(rows).to_have_count(1)
    rows.first.click()
    expect(page.locator(".conv-head h2")).to_contain_text(search)


def test_messenger_past_seven_days_offers_message_tags(demo, page, shot):
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Omar")
    expect(page.get_by_test_id("composer-notice")).to_contain_text("A message tag is required")
    tag = page.get_by_label("Message tag")
    options = tag.locator("option").all_inner_texts()
    assert options == ["Choose the tag that fits…", "Confirmed event update", "Post-purchase update", "Account update"], options
    page.get_by_label("Message", exact=True).fill("Your replacement part has shipped.")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    tag.select_option(label="Post-purchase update")
    shot(page, "tag-chosen")
    page.get_by_role("button", name="Send", exact=True).click()
    last = page.locator(".msg-out").last
    expect(last).to_contain_text("Your replacement part has shipped.")
    expect(last).to_contain_text("Tagged message")
    expect(page.locator(".conv-head .chip")).to_have_text("Open")


def test_instagram_past_seven_days_waits_for_the_contact(demo, page):
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Ivan")
    notice = page.get_by_test_id("composer-notice")
    expect(notice).to_contain_text("Wait for the contact to write")
    # Nothing goes now; what is written is queued for when the contact writes.
    expect(notice).to_contain_text("You can queue a message")
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Queue message")).to_be_visible()


def test_wechat_twenty_messages_then_undelivered_mark(demo, page, shot):
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Wei", status="Open")
    expect(page.locator(".quota")).to_have_text("1 of 20 messages left")
    box = page.get_by_label("Message", exact=True)
    box.fill("The 20th message")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg-out").last.locator(".mark")).to_have_attribute("data-status", "sent")
    expect(page.locator(".quota")).to_have_text("0 of 20 messages left")
    expect(page.get_by_test_id("composer-notice")).to_contain_text("will not be delivered")
    # Queueing for the contact's next message is offered first; recording it now is the other choice.
    expect(page.get_by_role("button", name="Send when they write")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Record without delivering").click()
    box.fill("The 21st message")
    page.get_by_role("button", name="Send", exact=True).click()
    last = page.locator(".msg-out").last
    expect(last).to_contain_text("The 21st message")
    expect(last.locator(".mark")).to_have_attribute("data-status", "undelivered")
    expect(last.locator(".msg-failure")).to_contain_text("not delivered")
    # The mark is red (retried: the timeline may be redrawn by a live event meanwhile, and a
    # detached element has no computed colour).
    expect(last.locator(".mark")).to_have_css("color", re.compile(r"^rgb\((1[5-9]\d|2[0-5]\d), \d{1,2}, \d{1,2}\)$"))


def test_viber_over_quota_shows_the_quota_error(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    viber = owner.channel("viber")
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Inés")
    expect(page.locator(".quota")).to_contain_text("2 free this month")
    expect(page.get_by_test_id("composer-notice")).to_contain_text("chatbot-initiated")
    # Another agent uses the month's last two free messages meanwhile.
    bjorn = owner.find_contact("Björn")["contact"]["id"]
    for text in ("one", "two"):
        owner.call("POST", f"/api/v1/contacts/{bjorn}/messages", {"channelId": viber["id"], "text": text}, expect_status=201)
    refused = owner.call("POST", f"/api/v1/contacts/{bjorn}/messages", {"channelId": viber["id"], "text": "three"}, expect_status=409)
    assert refused["error"]["code"] == "viber_quota_exceeded"
    page.get_by_label("Message", exact=True).fill("Are you still interested?")
    page.get_by_role("button", name="Send", exact=True).click()
    error = page.locator(".composer-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(refused["error"]["message"])
    expect(page.locator(".quota")).to_contain_text("0 free this month")
    # Nothing can go now: the composer offers to queue it for when the contact writes.
    expect(page.get_by_role("button", name="Queue message")).to_be_visible()


def test_channel_switcher_for_a_contact_on_two_channels(demo, page, shot):
    sign_in(page, demo.base, "ana@parley.local")
    open_contact(page, "Lucía", status="Open")
    expect(page.get_by_label("Send on")).to_have_count(0)
    # The contact panel adds her Telegram chat as a second address.
    panel = page.get_by_role("complementary", name="Contact")
    panel.get_by_role("button", name="Add", exact=True).click()
    panel.get_by_label("Channel", exact=True).select_option(label="Telegram Bot (Telegram)")
    panel.get_by_label("Address on the channel").fill("777001")
    panel.get_by_role("button", name="Add address").click()
    expect(panel.locator(".identities li")).to_have_count(2)
    switcher = page.get_by_label("Send on")
    expect(switcher.locator("option")).to_have_count(2)
    expect(page.locator(".window-badge")).to_contain_text("Window open")
    switcher.select_option(label="Telegram Bot · Telegram")
    expect(page.locator(".window-badge")).to_have_text("No messaging window")
    page.get_by_label("Message", exact=True).fill("Por Telegram también")
    page.get_by_role("button", name="Send", exact=True).click()
    last = page.locator(".msg-out").last
    expect(last).to_contain_text("Por Telegram también")
    expect(last.locator(".chan")).to_have_text("TG")
