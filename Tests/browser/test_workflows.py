"""Workflows in the web inbox: a template made in one click, switched on, and its run seen
with the step log after the event it waits for."""
import time

from playwright.sync_api import expect

from conftest import Api, sign_in


def test_workflow_from_template_enabled_and_run_seen(demo, page, shot):
    sign_in(page, demo.base, "demo@parley.local")
    page.goto(demo.base + "/settings/workflows")
    expect(page.get_by_role("heading", name="Workflows", exact=True)).to_be_visible()
    page.locator("[data-template='unassign_after_close']").click()
    row = page.locator("tr", has_text="Unassign after close")
    expect(row).to_have_count(1)
    toggle = row.get_by_label("Enable Unassign after close")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(page.get_by_role("status").or_(page.locator(".toast")).first).to_contain_text("is on")
    shot(page, "enabled")

    # An agent closes an assigned conversation; the workflow unassigns it.
    api = Api(demo.base, "demo@parley.local")
    me = api.call("GET", "/api/v1/me")["user"]["id"]
    contact = api.call("POST", "/api/v1/contacts", {"firstName": "Wanda", "lastName": "Flow"})["id"]
    api.call("POST", f"/api/v1/contacts/{contact}/conversation/open", {})
    api.call("PUT", f"/api/v1/contacts/{contact}/conversation/assignee", {"userId": me})
    settings = api.call("GET", "/api/v1/workspace/settings")
    note = {"category": settings["closingCategories"][0], "summary": "Done"} if settings.get("closingCategories") else {"summary": "Done"}
    api.call("POST", f"/api/v1/contacts/{contact}/conversation/close", note)

    # The engine runs beside the server: wait until the run has finished before looking at it.
    workflow = next(w for w in api.call("GET", "/api/v1/workflows")["items"] if w["template"] == "unassign_after_close")
    deadline = time.time() + 20
    while time.time() < deadline:
        runs = api.call("GET", f"/api/v1/workflows/{workflow['id']}/runs")["items"]
        if runs and runs[0]["status"] == "completed":
            break
        time.sleep(0.2)
    row.get_by_role("button", name="Runs").click()
    dialog = page.get_by_role("dialog")
    run = dialog.locator(".run").first
    expect(run).to_contain_text(f"contact {contact}")
    expect(run).to_contain_text("completed")
    expect(run.locator(".run-steps li")).to_contain_text("unassign")
    shot(page, "run")
    assert api.call("GET", f"/api/v1/contacts/{contact}/conversation").get("assigneeId") is None

    # The JSON editor's mistakes come back naming the step.
    page.keyboard.press("Escape")
    row.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Id of step 1")).to_have_value("unassign")
    dialog.get_by_role("button", name="JSON").click()
    dialog.get_by_label("Workflow as JSON").fill(
        '{"name": "Unassign after close", "trigger": "conversation_closed", "oncePerContact": false,'
        ' "steps": [{"id": "go", "type": "jump", "target": "nowhere"}]}')
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("step 'go': jumps to a missing step 'nowhere'")
    shot(page, "editor-error")


def test_outgoing_webhook_secret_is_shown_once(demo, page, shot):
    sign_in(page, demo.base, "demo@parley.local")
    page.goto(demo.base + "/settings/webhooks")
    page.get_by_label("URL").fill("https://example.com/parley-events")
    page.get_by_label("conversation.closed").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".alert", has_text="Signing secret")).to_contain_text("whsec_")
    expect(page.locator("tbody tr").first).to_contain_text("https://example.com/parley-events")
    shot(page, "subscribed")
    page.reload()
    expect(page.locator("tbody tr").first).to_contain_text("conversation.closed")
    expect(page.get_by_text("whsec_")).to_have_count(0)
