"""Attachments in the web inbox: a customer's photo shown inline and enlarged, a PDF as a file
card, an agent sending a photo, and a channel's limits said before sending."""
from pathlib import Path

from playwright.sync_api import expect

from conftest import choose_status, sign_in

PHOTO = Path(__file__).resolve().parent / "fixtures" / "parcel.png"


def open_contact(page, name):
    """Searches All conversations for `name` and opens the row that shows it (not a stale one)."""
    choose_status(page, "All")
    page.get_by_label("Search conversations").fill(name)
    page.locator(".row", has_text=name).first.click()
    expect(page.locator(".conv-head h2")).to_contain_text(name)


def loaded(image):
    """True once the browser decoded the image (a broken one has no natural size)."""
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_customer_files_are_shown_and_an_agent_sends_a_photo(demo, page, shot):
    sign_in(page, demo.base, "ana@parley.local")

    # WhatsApp: the customer's photo arrives through the media worker and shows inline.
    open_contact(page, "Lucía")
    photo = page.locator(".msg-in .att-image img").first
    expect(photo).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=photo.element_handle())
    expect(page.locator(".msg-in", has=page.locator(".att-image"))).to_contain_text("This is the label on the parcel")
    shot(page, "inbound-photo")
    page.locator(".msg-in .att-image").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("img")).to_be_visible()
    assert loaded(dialog.locator("img"))
    shot(page, "enlarged")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    # The agent attaches a photo with a caption; it is uploaded, sent, and shown in the timeline.
    page.locator(".composer input[type=file]").set_input_files(str(PHOTO))
    expect(page.locator(".composer-file")).to_contain_text("parcel.png")
    page.get_by_label("Message", exact=True).fill("Here is your return label")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".msg-out").last
    expect(sent).to_contain_text("Here is your return label")
    expect(sent.locator(".att-image img")).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=sent.locator(".att-image img").element_handle())
    expect(sent.locator(".mark")).to_have_attribute("data-status", "sent")
    expect(page.locator(".composer-file")).to_be_hidden()
    shot(page, "photo-sent")

    # Telegram: a PDF invoice is a file card that downloads.
    open_contact(page, "Hiroshi")
    card = page.locator(".msg-in a.att-card")
    expect(card).to_contain_text("invoice-1042.pdf")
    expect(card).to_contain_text("application/pdf")
    assert card.get_attribute("download") == "invoice-1042.pdf"
    shot(page, "pdf-card")

    # Messenger sends a photo without text: the composer says so before sending.
    open_contact(page, "Søren")
    before = page.locator(".msg-out").count()
    page.locator(".composer input[type=file]").set_input_files(str(PHOTO))
    expect(page.locator(".composer-file")).to_contain_text("parcel.png")
    page.get_by_label("Message", exact=True).fill("Look at this")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".composer-error")).to_have_text("This channel sends an image without text: send the text as its own message.")
    assert page.locator(".msg-out").count() == before
    shot(page, "messenger-refused")
