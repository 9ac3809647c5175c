"""Customer text is only ever text; "Windows closing soon" sorts by the closing time."""
import time

from playwright.sync_api import expect

from conftest import Api, sign_in, whatsapp_webhook

HOSTILE = "<img src=x onerror=alert(1)>"


def test_markup_from_a_customer_is_shown_as_text(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    channel = owner.channel("whatsapp")
    whatsapp_webhook(demo.base, channel["id"], "5215599990001", "Mallory <b>Bold</b>", HOSTILE, time.time())
    sign_in(page, demo.base, "ana@parley.local")
    page.get_by_label("Search conversations").fill("Mallory")
    row = page.locator(".row").first
    expect(row.locator(".row-preview")).to_have_text(HOSTILE)
    expect(row.locator(".row-name")).to_contain_text("Mallory <b>Bold</b>")
    row.click()
    bubble = page.locator(".msg-in .bubble-text").last
    expect(bubble).to_have_text(HOSTILE)
    # A live message carries the same payload through the realtime path.
    whatsapp_webhook(demo.base, channel["id"], "5215599990001", "Mallory", "<script>alert(2)</script>", time.time())
    expect(page.locator(".msg-in .bubble-text").last).to_have_text("<script>alert(2)</script>")
    page.wait_for_timeout(500)
    assert page.locator("#app img, #app script, #app b").count() == 0
    assert page.watch.dialogs == []


def test_windows_closing_soon_lists_the_soonest_first(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    channel = owner.channel("whatsapp")
    now = time.time()
    # Windows close 24 h after the contact's message: in 2 h and in 20 h. The one closing later
    # arrives last, so that it is the newest activity: the view must not sort by activity.
    whatsapp_webhook(demo.base, channel["id"], "5215588880002", "Early Bird", "Wrote 22 hours ago", now - 22 * 3600)
    whatsapp_webhook(demo.base, channel["id"], "5215588880020", "Late Owl", "Wrote four hours ago", now - 4 * 3600)
    sign_in(page, demo.base, "ana@parley.local")
    page.get_by_role("button", name="Windows closing soon").click()
    expect(page.get_by_role("button", name="Windows closing soon")).to_have_attribute("aria-pressed", "true")
    names = page.locator(".row .row-name")
    expect(page.locator(".row", has_text="Late Owl")).to_be_visible()
    order = names.all_text_contents()
    early = next(i for i, n in enumerate(order) if "Early Bird" in n)
    late = next(i for i, n in enumerate(order) if "Late Owl" in n)
    assert early < late, order
    expect(page.locator(".row", has_text="Early Bird").locator(".pill")).to_have_text("1 h left")
    # Nothing closed or without a window is listed, and the whole list runs soonest first.
    texts = page.locator(".row .pill").all_text_contents()
    assert len(texts) == len(order) and all(t.endswith("left") for t in texts), texts
    minutes = [int(t.split()[0]) * (60 if " h " in t else 1) for t in texts]
    assert minutes == sorted(minutes), list(zip(order, texts))
    # A narrower horizon drops the 20-hour one.
    page.get_by_label("Closing within").select_option(label="4 h")
    expect(page.locator(".row", has_text="Late Owl")).to_have_count(0)
    expect(page.locator(".row", has_text="Early Bird")).to_have_count(1)


def test_web_sources_never_parse_strings_as_markup():
    """The DOM is built only with h(): no API that parses a string as HTML or code appears."""
    import re
    from pathlib import Path
    web = Path(__file__).resolve().parents[2] / "Sources" / "ParleyServer" / "Web"
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*[\"']on")
    offenders = []
    files = list(web.rglob("*.js"))
    assert len(files) > 10, files
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if forbidden.search(line):
                offenders.append(f"{path.relative_to(web)}:{number}: {line.strip()}")
    index = (web / "index.html").read_text()
    if re.search(r"<script(?![^>]*\bsrc=)", index) or re.search(r"\s(style|on\w+)=", index):
        offenders.append("index.html has inline script, style or handler")
    assert not offenders, "\n".join(offenders)
