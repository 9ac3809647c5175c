"""Email tests: the real `parley` binary (built by the caller) against real mail servers on
loopback (dovecot, aiosmtpd) and Python's smtplib as a sending MTA."""
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mailservers import Certificate, Dovecot, Submission, free_port

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("PARLEY_BINARY", ROOT / ".build" / "debug" / "parley"))
OWNER_PASSWORD = "owner-password-1"
MAILBOX = ("support@shop.example", "mailbox-secret")


class Parley:
    """`parley serve` with the SMTP listener on, polling mailboxes twice a second."""

    def __init__(self, directory):
        self.dir = directory
        self.port, self.smtp_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.start()

    def start(self):
        self.log = open(self.dir / "parley.log", "a")
        env = {**os.environ, "PARLEY_OWNER_PASSWORD": OWNER_PASSWORD, "PARLEY_BCRYPT_COST": "4", "PARLEY_EMAIL_POLL_SECONDS": "0.5"}
        self.process = subprocess.Popen([str(BINARY), "serve", "--port", str(self.port), "--smtp-port", str(self.smtp_port),
                                         "--database-url", f"sqlite://{self.dir}/parley.sqlite"],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        else:
            raise RuntimeError("parley did not start:\n" + (self.dir / "parley.log").read_text())
        self.token = self.call("POST", "/api/v1/auth/login", {"email": "owner@parley.local", "password": OWNER_PASSWORD})["token"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def call(self, method, path, body=None, expect=None):
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=None if body is None else json.dumps(body).encode(), method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if expect is not None:
            assert status == expect, f"{method} {path} answered {status}: {raw[:800]!r}"
        elif status >= 400:
            raise AssertionError(f"{method} {path} answered {status}: {raw[:800]!r}")
        return json.loads(raw) if raw else None

    def wait(self, what, check, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n" + (self.dir / "parley.log").read_text()[-3000:])

    def messages(self, contact_id):
        items = self.call("GET", f"/api/v1/contacts/{contact_id}/timeline?limit=200")["items"]
        return [i["message"] for i in reversed(items) if i["type"] == "message"]

    def contact(self, address):
        items = self.call("GET", f"/api/v1/contacts?q={urllib.parse.quote(address)}")["items"]
        return items[0] if items else None


import urllib.parse  # noqa: E402  (used by Parley.contact)


@pytest.fixture(scope="module")
def servers():
    directory = Path(tempfile.mkdtemp(prefix="parley-email-"))
    certificate = Certificate(directory)
    dovecot = Dovecot({MAILBOX[0]: MAILBOX[1]})
    submission = Submission(certificate, *MAILBOX)
    parley = Parley(directory)
    yield {"dir": directory, "cert": certificate, "dovecot": dovecot, "submission": submission, "parley": parley}
    parley.stop()
    submission.stop()
    dovecot.stop()


def channel_body(servers, **overrides):
    credentials = {
        "fromAddress": MAILBOX[0], "fromName": "Shop Support",
        "smtpHost": "127.0.0.1", "smtpPort": str(servers["submission"].port), "smtpSecurity": "starttls",
        "smtpUsername": MAILBOX[0], "smtpPassword": MAILBOX[1], "tlsCertificate": servers["cert"].pem,
        "imapHost": "127.0.0.1", "imapPort": str(servers["dovecot"].port), "imapSecurity": "none",
    }
    credentials.update(overrides)
    return {"type": "email", "name": "Support mailbox", "credentials": credentials}
