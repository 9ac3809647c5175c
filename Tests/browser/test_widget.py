"""Website chat in a real browser: the widget on a host page of another origin (parley demo's
shop, or pages served here), talking live with an agent in the web inbox."""
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from conftest import OUTPUT, Api, PageWatch, free_port, open_from_list, sign_in


class HostPages:
    """Pages of a site that embeds the widget, served from their own origin with their own headers."""

    def __init__(self):
        self.pages = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                found = pages.get(self.path.split("?")[0])
                if not found:
                    self.send_error(404)
                    return
                body, content_type, headers = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path, body, content_type="text/html; charset=utf-8", headers=None):
        self.pages[path] = (body, content_type, headers or {})

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def host():
    pages = HostPages()
    yield pages
    pages.stop()


def webchat(api):
    return api.channel("webchat")


def snippet_page(demo, channel, title="Host page", stylesheet=None):
    link = f'<link rel="stylesheet" href="{stylesheet}">' if stylesheet else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{link}</head>"
            f"<body><h1>{title}</h1><p>Someone else's site.</p>{channel['webchat']['snippet']}</body></html>")


def widget(page):
    return page.frame_locator("iframe[title=Chat]")


def new_page(browser, viewport=(1100, 760)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    page.watch = PageWatch(page)
    return context, page


def bubble_time_ms(page):
    """Milliseconds from widget.js arriving to the bubble in the page, as the browser timed them
    (both documents' clocks count from their time origins, in epoch milliseconds)."""
    loaded = page.evaluate("""() => {
        const script = performance.getEntriesByType('resource').find(e => e.name.includes('/widget.js'));
        return performance.timeOrigin + script.responseEnd;
    }""")
    frame = next(f for f in page.frames if "/widget/frame" in f.url)
    shown = frame.evaluate("""() => performance.timeOrigin + performance.getEntriesByName('parley-bubble')[0].startTime""")
    return shown - loaded


def test_visitor_and_agent_talk_live(demo, browser, page, shot):
    visitor_context, visitor = new_page(browser)
    try:
        visitor.goto(demo.shop + "/")
        chat = widget(visitor)
        expect(chat.get_by_role("button", name="Open chat")).to_be_visible()
        elapsed = bubble_time_ms(visitor)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        (OUTPUT / "widget-bubble-ms.txt").write_text(f"{elapsed:.0f}\n")
        print(f"bubble visible {elapsed:.0f} ms after widget.js arrived")
        shot(visitor, "shop-closed")
        visitor.evaluate("""() => {
            window.seen = [];
            Parley.on('message', (m) => seen.push('message: ' + m.text));
            Parley.on('open', () => seen.push('open'));
            Parley.on('close', () => seen.push('close'));
        }""")

        chat.get_by_role("button", name="Open chat").click()
        expect(chat.get_by_text("Questions about an order?")).to_be_visible()
        chat.get_by_label("Your name").fill("Pat Visitor")
        chat.get_by_label("Your email").fill("pat@example.com")
        chat.get_by_role("textbox", name="Message").fill("Hello, where is order A-77?")
        chat.get_by_role("textbox", name="Message").press("Enter")
        expect(chat.locator(".msg.visitor .text")).to_have_text(["Hello, where is order A-77?"])

        # The agent, already in the inbox, sees the new conversation arrive without reloading.
        sign_in(page, demo.base, "ana@parley.local")
        chat.get_by_role("textbox", name="Message").fill("Also…")
        open_from_list(page, "Pat Visitor")
        expect(page.locator(".conv-main")).to_contain_text("Hello, where is order A-77?")
        chat.get_by_role("textbox", name="Message").press("End")
        chat.get_by_role("textbox", name="Message").type(" one more thing")
        expect(page.locator(".typing")).to_contain_text("Pat Visitor is typing")
        shot(page, "agent-sees-visitor")

        # The visitor is looking at the chat (a hidden tab reads nothing).
        visitor.bring_to_front()
        page.get_by_placeholder("Write a reply").fill("Hi Pat! It ships today.")
        page.get_by_role("button", name="Send").click()
        expect(chat.locator(".msg.agent .text")).to_have_text(["Hi Pat! It ships today."])
        expect(chat.locator(".msg.agent .author")).to_have_text(["Ana"])
        shot(visitor, "visitor-sees-answer")

        # Closed, the bubble counts what the agent writes.
        chat.get_by_role("button", name="Close chat").first.click()
        page.get_by_placeholder("Write a reply").fill("Anything else?")
        page.get_by_role("button", name="Send").click()
        expect(chat.locator(".badge")).to_have_text("1")
        shot(visitor, "unread-badge")
        assert visitor.evaluate("() => seen") == ["open", "message: Hi Pat! It ships today.", "close", "message: Anything else?"]

        # A reload and a new tab keep the history.
        visitor.reload()
        expect(widget(visitor).locator(".badge")).to_have_text("1")
        widget(visitor).get_by_role("button", name="Open chat, 1 unread").click()
        expect(widget(visitor).locator(".msg .text")).to_have_text(["Hello, where is order A-77?", "Hi Pat! It ships today.", "Anything else?"])
        tab = visitor_context.new_page()
        tab.goto(demo.shop + "/")
        widget(tab).get_by_role("button", name="Open chat").click()
        expect(widget(tab).locator(".msg .text")).to_have_text(["Hello, where is order A-77?", "Hi Pat! It ships today.", "Anything else?"])
        # The visitor read it, so the agent's message moves on to read.
        expect(page.locator(".mark").last).to_have_attribute("data-status", "read")
        assert not visitor.watch.errors, visitor.watch.errors
    finally:
        visitor_context.close()


def test_identity_verification(demo, browser, page, shot):
    context, shop = new_page(browser)
    try:
        shop.goto(demo.shop + "/")
        chat = widget(shop)
        expect(chat.get_by_role("button", name="Open chat")).to_be_visible()
        shop.evaluate("() => { window.errors = []; Parley.on('error', (e) => window.errors.push(e.code)); }")
        shop.evaluate("() => Parley.setUser({identifier: 'customer-1001', identifierHash: '00'.repeat(32), name: 'Mallory'})")
        shop.wait_for_function("() => window.errors.includes('identity_mismatch')")
        chat.get_by_role("button", name="Open chat").click()
        expect(chat.get_by_role("alert")).to_contain_text("could not confirm")
        shot(shop, "mismatch-refused")

        # The shop's own sign-in passes the hash its server computed.
        shop.get_by_role("button", name="Sign in as Rosa Martínez").click()
        expect(chat.get_by_role("alert")).to_be_hidden()
        chat.get_by_role("textbox", name="Message").fill("Signed in and asking")
        chat.get_by_role("textbox", name="Message").press("Enter")
        expect(chat.locator(".msg.visitor .text")).to_have_text(["Signed in and asking"])
    finally:
        context.close()

    # Another device: the same signed-in customer sees the history; a visitor who is not signed in does not.
    other, device = new_page(browser)
    try:
        device.goto(demo.shop + "/")
        expect(widget(device).get_by_role("button", name="Open chat")).to_be_visible()
        device.get_by_role("button", name="Need help? Chat with us").click()
        expect(widget(device).locator(".msg")).to_have_count(0)
        device.get_by_role("button", name="Sign in as Rosa Martínez").click()
        expect(widget(device).locator(".msg.visitor .text")).to_have_text(["Signed in and asking"])
        shot(device, "verified-on-another-device")
        device.get_by_role("button", name="Sign out").click()
        expect(widget(device).locator(".msg")).to_have_count(0)
    finally:
        other.close()


def test_a_site_not_on_the_list_cannot_use_the_widget(demo, browser, page, host, shot):
    channel = webchat(Api(demo.base, "demo@parley.local"))
    host.add("/", snippet_page(demo, channel, "Not allowed"))
    page.goto(host.origin + "/")
    # The frame's CSP names the allowed sites only: the browser refuses to show it here.
    page.wait_for_timeout(1500)
    frame = page.frame_locator("iframe[title=Chat]")
    expect(frame.locator("button.bubble")).to_have_count(0)
    # Nor can the page talk to the widget's routes itself.
    result = page.evaluate("""async ([base, key]) => {
        const socket = await new Promise((resolve) => {
            const ws = new WebSocket(base.replace('http', 'ws') + '/widget/v1/events?host=' + encodeURIComponent(location.origin), ['parley-visitor', 'x.y']);
            ws.onopen = () => resolve('open'); ws.onerror = () => resolve('refused');
        });
        let http;
        try {
            const r = await fetch(base + '/widget/v1/session', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Parley-Host': location.origin},
                                                               body: JSON.stringify({channel: key})});
            http = r.status;
        } catch (e) { http = 'blocked'; }
        return {socket, http};
    }""", [demo.base, channel["webchat"]["key"]])
    assert result == {"socket": "refused", "http": "blocked"}, result
    page.watch.errors.clear()  # the refused frame is reported by the browser as a CSP error
    shot(page, "not-allowed")


def test_hostile_host_page_and_inert_markup(demo, browser, page, host, shot):
    owner = Api(demo.base, "demo@parley.local")
    channel = webchat(owner)
    owner.call("PATCH", f"/api/v1/channels/{channel['id']}",
               {"webchat": {"allowedOrigins": channel["webchat"]["allowedOrigins"] + [host.origin]}})
    # A page that resets every element's style and allows nothing but its own styles and Parley.
    host.add("/reset.css", "* { all: unset } html, body { display: block } h1 { display: block; font: 700 28px serif }", "text/css")
    host.add("/", snippet_page(demo, channel, "Hostile host", "/reset.css"), headers={
        "Content-Security-Policy": f"default-src 'none'; style-src 'self'; script-src {demo.base}; frame-src {demo.base}; connect-src 'none'"})
    context, visitor = new_page(browser)
    try:
        visitor.goto(host.origin + "/")
        chat = widget(visitor)
        chat.get_by_role("button", name="Open chat").click()
        chat.get_by_label("Your name").fill("Eve <img src=x onerror=alert(1)>")
        chat.get_by_label("Your email").fill("eve@example.com")
        markup = "<script>alert('visitor')</script><img src=x onerror=alert(2)>"
        chat.get_by_role("textbox", name="Message").fill(markup)
        chat.get_by_role("textbox", name="Message").press("Enter")
        expect(chat.locator(".msg.visitor .text")).to_have_text([markup])
        box = visitor.locator("iframe[title=Chat]").bounding_box()
        assert box and box["width"] >= 300 and box["height"] >= 400, box

        sign_in(page, demo.base, "ana@parley.local")
        open_from_list(page, "Eve")
        expect(page.locator(".conv-main")).to_contain_text(markup)
        page.get_by_placeholder("Write a reply").fill("<script>alert('agent')</script><b>bold?</b>")
        page.get_by_role("button", name="Send").click()
        expect(chat.locator(".msg.agent .text")).to_have_text(["<script>alert('agent')</script><b>bold?</b>"])
        expect(chat.locator(".msg.agent b")).to_have_count(0)
        shot(visitor, "hostile-host")
        shot(page, "agent-inert")
        assert visitor.watch.dialogs == [] and page.watch.dialogs == []
        assert not visitor.watch.errors, visitor.watch.errors
    finally:
        context.close()


def test_widget_stays_small(demo):
    sizes = {}
    with urllib.request.urlopen(demo.base + "/widget.js") as r:
        sizes["widget.js"] = len(r.read())
    channel = webchat(Api(demo.base, "demo@parley.local"))
    with urllib.request.urlopen(f"{demo.base}/widget/frame?channel={channel['webchat']['key']}") as r:
        frame = r.read().decode()
    sizes["frame"] = len(frame)
    for asset in ("frame.js", "frame.css"):
        start = frame.index("/assets/")
        prefix = frame[start:frame.index("/widget/", start)]
        with urllib.request.urlopen(f"{demo.base}{prefix}/widget/{asset}") as r:
            sizes[asset] = len(r.read())
    (OUTPUT / "widget-size.json").write_text(json.dumps(sizes))
    assert sizes["widget.js"] + sizes["frame.js"] + sizes["frame.css"] <= 30 * 1024, sizes


def test_website_chat_settings(demo, page, host, shot):
    sign_in(page, demo.base, "demo@parley.local")
    page.goto(demo.base + "/settings/channels")
    shop = page.locator(".channel-card", has_text="Shop chat")
    expect(shop.get_by_role("textbox", name="Snippet for Shop chat")).to_have_value(re.compile(r'<script src="http://127\.0\.0\.1:\d+/widget\.js" data-channel="wc_[\w-]+" async></script>'))
    expect(shop.get_by_role("textbox", name=re.compile("Webhook URL"))).to_have_count(0)

    page.get_by_label("Channel", exact=True).select_option("webchat")
    expect(page.get_by_text("Advanced")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("Blog chat")
    page.get_by_label("Sites allowed to embed the chat").fill("not a site")
    page.get_by_role("button", name="Connect channel").click()
    expect(page.locator("section.card .alert-error")).to_contain_text("not an origin")
    page.get_by_label("Sites allowed to embed the chat").fill(host.origin)
    page.get_by_role("textbox", name="Greeting").fill("Welcome to the blog!")
    page.get_by_role("checkbox", name=re.compile("^Office hours")).check()
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_role("button", name="Connect channel").click()
    secret = page.get_by_role("textbox", name="Identity secret")
    expect(secret).to_have_value(re.compile(r"^whs_.{20,}"))
    shot(page, "identity-secret-once")
    page.get_by_role("button", name="Done").click()
    blog = page.locator(".channel-card", has_text="Blog chat")
    expect(blog).to_contain_text(f"Allowed sites: {host.origin}")
    shot(page, "webchat-settings")

    # The new channel's snippet works on that site, with its greeting.
    snippet = blog.get_by_role("textbox", name="Snippet for Blog chat").input_value()
    host.add("/", f"<!doctype html><html><head><meta charset='utf-8'><title>Blog</title></head><body><h1>Blog</h1>{snippet}</body></html>")
    context, visitor = new_page(browser=page.context.browser)
    try:
        visitor.goto(host.origin + "/")
        widget(visitor).get_by_role("button", name="Open chat").click()
        expect(widget(visitor).locator(".intro")).to_have_text(re.compile("Welcome to the blog!|We're away"))
    finally:
        context.close()
