"""Browser tests: the real `parley` binary (built by the caller) driven by Debian's chromium.

Each test module gets a fresh `parley demo` on free ports with its own SQLite file, so tests
in different modules never see each other's changes. Every test leaves at least one
screenshot under ${PARLEY_TEST_OUTPUT:-.test-output}/browser/.
"""
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("PARLEY_BINARY", ROOT / ".build" / "debug" / "parley"))
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("PARLEY_TEST_OUTPUT", ROOT / ".test-output")) / "browser"
PASSWORD = "demo-password"
WHATSAPP_APP_SECRET = "demo-app-secret"

# Generous: CI machines are small and sometimes busy; a passing check returns as soon as it holds.
expect.set_options(timeout=20_000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running parley process and what it printed."""

    def __init__(self, args, env=None, name="parley"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="parley-browser-"))
        self.log_path = self.dir / f"{name}.log"
        self.log = open(self.log_path, "w")
        full_env = {**os.environ, **{k: v.format(port=self.port, dir=self.dir) for k, v in (env or {}).items()}}
        full_env.setdefault("PARLEY_BCRYPT_COST", "4")
        cmd = [str(BINARY), *[a.format(port=self.port, dir=self.dir) for a in args]]
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env, cwd=self.dir)
        self.wait_healthy()

    def wait_healthy(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"parley exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"parley did not become healthy:\n{self.output()}")

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        # Its database and files: a stopped server's are not looked at again.
        shutil.rmtree(self.dir, ignore_errors=True)


class Api:
    """The REST API with a bearer token, for arranging what a test needs."""

    def __init__(self, base, email, password=PASSWORD):
        self.base = base
        self.token = None
        self.token = self.call("POST", "/api/v1/auth/login", {"email": email, "password": password})["token"]

    def call(self, method, path, body=None, expect_status=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if expect_status is not None:
            assert status == expect_status, f"{method} {path} answered {status}: {raw[:500]!r}"
        elif status >= 400:
            raise AssertionError(f"{method} {path} answered {status}: {raw[:500]!r}")
        return json.loads(raw) if raw else None

    def find_contact(self, q, status="all"):
        items = self.call("GET", f"/api/v1/conversations?status={status}&q={urllib.parse.quote(q)}")["items"]
        assert items, f"no conversation matches {q!r}"
        return items[0]

    def channel(self, kind):
        return next(c for c in self.call("GET", "/api/v1/channels?limit=200")["items"] if c["type"] == kind)


def whatsapp_webhook(base, channel_id, wa_id, name, text, timestamp, message_id=None):
    """Posts a WhatsApp Cloud API inbound message signed like Meta does."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-DEMO", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100", "phone_number_id": "1055"},
            "contacts": [{"wa_id": wa_id, "profile": {"name": name}}],
            "messages": [{"from": wa_id, "id": message_id or f"wamid.test-{wa_id}-{int(timestamp)}-{time.time_ns()}",
                          "timestamp": str(int(timestamp)), "type": "text", "text": {"body": text}}],
        }}]}],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base}/webhooks/{channel_id}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"})
    with urllib.request.urlopen(request, timeout=15) as r:
        assert r.status == 200, r.status


def start_demo():
    simulator, shop = free_port(), free_port()
    server = Server(["demo", "--port", "{port}", "--simulator-port", str(simulator), "--shop-port", str(shop),
                     "--database-url", "sqlite://{dir}/demo.sqlite"], name="demo")
    server.simulator = f"http://127.0.0.1:{simulator}"
    server.shop = f"http://127.0.0.1:{shop}"
    return server


@pytest.fixture(scope="module")
def demo():
    server = start_demo()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


class PageWatch:
    """What a page did that a test may assert on: dialogs opened, errors thrown."""

    def __init__(self, page):
        self.dialogs = []
        self.errors = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


@pytest.fixture
def shot(request):
    """shot(page, "step") saves a screenshot named after the test and the step."""
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def take(page, step):
        page.screenshot(path=str(OUTPUT / f"{_safe(request.node.name)}--{_safe(step)}.png"))
    return take


@pytest.fixture
def page(browser, request, shot):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    page.watch = PageWatch(page)
    yield page
    # Every test leaves a picture of where it ended, passed or failed.
    try:
        shot(page, "end")
    finally:
        context.close()
    assert not page.watch.errors, f"the page reported errors: {page.watch.errors}"


def sign_in(page, base, email, password=PASSWORD):
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".connection-live")).to_be_visible()


def open_from_list(page, name):
    """Clicks the row whose contact name contains `name` and waits for its conversation."""
    page.locator(".row", has_text=name).first.click()
    expect(page.locator(".conv-head h2")).to_contain_text(name)


def choose_view(page, name):
    """Clicks an inbox view (All, Mine, Unassigned) in the left pane."""
    page.get_by_role("navigation", name="Views").get_by_role("button", name=re.compile(rf"^{name}\b")).click()


def choose_status(page, name):
    """Clicks Open, Closed or All in the status filter."""
    page.get_by_role("group", name="Status").get_by_role("button", name=name, exact=True).click()
