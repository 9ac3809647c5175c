"""Contacts and settings as an owner sees them, and the inbox's load budget."""
import re

from playwright.sync_api import expect

from conftest import OUTPUT, Api, sign_in


def test_contacts_search_create_edit_import(demo, page, shot, tmp_path):
    sign_in(page, demo.base, "demo@parley.local")
    page.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    page.get_by_label("Search contacts").fill("nunez")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Ana Núñez")

    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First name").fill("Grace")
    dialog.get_by_label("Last name").fill("Hopper")
    dialog.get_by_label("Phone").fill("12345")
    dialog.get_by_role("button", name="Create contact").click()
    expect(dialog.get_by_role("alert")).to_contain_text("E.164")
    dialog.get_by_label("Phone").fill("+14155550123")
    dialog.get_by_label("Tags").fill("vip, beta")
    dialog.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_label("Search contacts").fill("4155550123")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Grace Hopper")
    expect(page.locator("tbody tr")).to_contain_text("beta")

    csv = tmp_path / "contacts.csv"
    csv.write_text("firstName,lastName,email,phone\nAda,Lovelace,ada@example.com,+442071234567\nBad,Phone,bad@example.com,call-me\n")
    page.get_by_role("button", name="Import CSV").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("CSV file").set_input_files(str(csv))
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.locator(".stat", has_text="Created")).to_contain_text("1")
    expect(dialog.locator(".stat", has_text="Rejected")).to_contain_text("1")
    expect(dialog.locator(".rejected tbody tr")).to_have_count(1)
    expect(dialog.locator(".rejected tbody tr td").first).to_have_text("3")
    expect(dialog.locator("progress")).to_have_attribute("value", "100")
    shot(page, "import-report")
    dialog.get_by_role("button", name="Close", exact=True).click()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = download.value.path().read_text()
    assert "Ada" in exported and "Grace" in exported


def test_settings_channels_workspace_tokens(demo, page, shot):
    sign_in(page, demo.base, "demo@parley.local")
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/workspace$"))
    page.get_by_label("When closing a conversation, ask for").select_option("category_required")
    page.get_by_label("Unassign it").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").last).to_contain_text("Settings saved")
    shot(page, "workspace")

    page.get_by_role("link", name="Channels").click()
    whatsapp = page.locator(".channel-card", has_text="WhatsApp Sales")
    expect(whatsapp.get_by_role("textbox", name=re.compile("Webhook URL"))).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/webhooks/\d+$"))
    whatsapp.get_by_role("button", name="Sync templates").click()
    expect(whatsapp.locator(".templates-box")).to_contain_text("appointment_reminder")
    viber = page.locator(".channel-card", has_text="Viber Bot")
    expect(viber).to_contain_text("9,998")
    viber.get_by_label("Viber's commercial terms accepted").check()
    expect(page.get_by_role("status").last).to_contain_text("Commercial terms accepted")
    page.get_by_label("Channel", exact=True).select_option("telegram")
    page.get_by_label("Name", exact=True).fill("Support bot")
    page.get_by_label("Bot token").fill("not-a-real-token")
    page.get_by_text("Advanced").click()
    page.get_by_label("API base URL").fill(demo.simulator)
    page.get_by_role("button", name="Connect channel").click()
    expect(page.locator("section.card .alert-error")).to_be_visible()
    expect(page.locator("section.card .alert-error")).not_to_be_empty()
    shot(page, "channel-refused")
    page.get_by_label("Bot token").fill("demo:telegram")
    page.get_by_role("button", name="Connect channel").click()
    support = page.locator(".channel-card", has_text="Support bot")
    expect(support).to_be_visible()
    expect(support.get_by_role("textbox", name=re.compile("Webhook URL"))).to_have_value(re.compile(r"/webhooks/\d+$"))
    shot(page, "channels")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name", exact=True).fill("CRM sync")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token")).to_have_value(re.compile(r".{20,}"))
    expect(page.locator("tbody tr", has_text="CRM sync")).to_be_visible()
    page.get_by_role("link", name="Users").click()
    expect(page.locator("tbody tr")).to_have_count(3)


def test_close_dialog_follows_the_closing_note_mode(demo, page, shot):
    owner = Api(demo.base, "demo@parley.local")
    owner.call("PATCH", "/api/v1/workspace/settings", {"closingNoteMode": "both_required", "closingCategories": ["Sale", "Support"]})
    sign_in(page, demo.base, "ana@parley.local")
    page.get_by_label("Search conversations").fill("Jörg")
    expect(page.locator(".row")).to_have_count(1)
    page.locator(".row").first.click()
    # The shortcut acts on the open conversation: wait until it is shown.
    expect(page.locator(".conv-head h2")).to_contain_text("Jörg")
    expect(page.get_by_role("button", name="Close", exact=True)).to_be_visible()
    page.keyboard.press("e")
    dialog = page.get_by_role("dialog", name=re.compile("Close the conversation"))
    expect(dialog.get_by_label("Category", exact=True)).to_be_visible()
    expect(dialog.get_by_label("Summary", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Close conversation").click()
    # Both are required: nothing is sent until they are filled in.
    expect(dialog).to_be_visible()
    dialog.get_by_label("Category", exact=True).select_option("Support")
    dialog.get_by_label("Summary", exact=True).fill("Tracking number sent")
    shot(page, "both-required")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(page.locator(".conv-head .chip")).to_have_text("Closed")
    expect(page.locator(".activity-closed").last).to_contain_text("Support — Tracking number sent")
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator(".conv-head .chip")).to_have_text("Open")


def test_inbox_first_load_budget(demo, browser, shot):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    sizes = {}
    api_paths = []

    def on_response(response):
        url = response.url
        if "/assets/" in url and (url.endswith(".js") or url.endswith(".css")):
            sizes[url] = len(response.body())
        elif "/api/" in url:
            api_paths.append(url.split("/api/", 1)[1])
    page.on("response", on_response)
    sign_in(page, demo.base, "ana@parley.local")
    page.reload()
    expect(page.locator(".row").first).to_be_visible()
    page.locator(".row").first.click()
    expect(page.locator(".composer")).to_be_visible()
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    print(f"first load: {len(sizes)} files, {total} bytes of JS and CSS")
    assert total <= 150 * 1024, f"{total} bytes of JS+CSS"
    # Rows carry what they show: no request per row (contact or conversation lookups are for the open one only).
    per_contact = {p.split("/")[2] for p in api_paths if p.startswith("v1/contacts/")}
    assert len(per_contact) <= 1, api_paths
    # How long a page of 50 rows takes to render (DOM, style and layout of the list, the visible
    # rows included): the median of five renders into the real list, after one warm-up. A time
    # depends on how busy the machine is, so it is recorded (target: 50 ms), not asserted.
    elapsed = page.evaluate("""async () => {
        const { inboxRow } = await import(document.querySelector('script[type=module]').src.replace('app.js', 'inbox/row.js'));
        const base = { channel: { id: 1, type: 'whatsapp', name: 'WA' }, unreadCount: 2, assignee: { id: 2, name: 'Ana' },
          lastMessage: { preview: 'Hola, ¿tienen envío hoy?', at: new Date().toISOString() }, status: 'open',
          window: { status: 'open', closesAt: new Date(Date.now() + 7200e3).toISOString() }, lastActivityAt: new Date().toISOString() };
        const ul = document.querySelector('.rows');
        const times = [];
        for (let run = 0; run < 6; run++) {
          const t0 = performance.now();
          ul.replaceChildren(...Array.from({ length: 50 }, (_, i) =>
            inboxRow({ ...base, contact: { id: 1000 + i, name: `Contact ${run}-${i}` } }, { selected: false, onSelect() {} })));
          for (const li of [...ul.children].slice(0, 12)) li.firstChild.getBoundingClientRect();
          document.body.offsetHeight;
          times.push(performance.now() - t0);
        }
        const measured = times.slice(1).sort((a, b) => a - b);
        return measured[2];
    }""")
    print(f"50 rows rendered in {elapsed:.1f} ms")
    (OUTPUT / "first-load-budget.txt").write_text(
        f"first load: {len(sizes)} files, {total} bytes of JS and CSS\n50 rows rendered in {elapsed:.1f} ms (target 50 ms)\n")
    expect(page.locator(".rows > li")).to_have_count(50)
    shot(page, "1920x1080")
    context.close()
