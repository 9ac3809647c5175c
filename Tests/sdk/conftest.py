"""Parley checked against the providers' own Python SDKs.

One `parley serve` (the debug binary the caller built) on a fresh SQLite file, with a workspace
made by `parley workspace create`, and one stand-in provider API in this process that records
what Parley sends and answers as the provider would. Channels point their `apiBaseUrl` at it.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("PARLEY_BINARY", ROOT / ".build" / "debug" / "parley"))
FIXTURES = ROOT / "Tests" / "fixtures" / "webhooks"
OWNER = ("owner@sdk.example", "sdk-password-1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    """Records every request and answers with the provider's success shapes."""

    def __init__(self):
        self.requests = []
        self.profiles = {}
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._handle()

            def do_POST(self):
                self._handle()

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                with provider.lock:
                    provider.requests.append(record)
                status, payload, headers = provider.answer(record)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, record):
        path = record["path"].split("?")[0]
        if path == "/v2/bot/message/push":
            return 200, {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}, {"x-line-request-id": "req-1"}
        if path.startswith("/v2/bot/profile/"):
            user = path.rsplit("/", 1)[1]
            if user in self.profiles:
                return 200, self.profiles[user], {}
            return 404, {"message": "Not found"}, {}
        if path == "/pa/send_message":
            return 200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721087, "chat_hostname": "SN-CHAT-05_"}, {}
        if path == "/cgi-bin/token":
            return 200, {"access_token": "ACCESS_TOKEN", "expires_in": 7200}, {}
        if path == "/cgi-bin/message/custom/send":
            return 200, {"errcode": 0, "errmsg": "ok"}, {}
        if path.endswith("/Messages.json"):
            return 201, {"sid": "SM" + "0" * 31 + str(len(self.requests) % 10), "status": "queued"}, {}
        return 404, {"message": "not simulated"}, {}

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [r for r in self.requests if predicate(r)]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError("the provider never received the expected request")


class Parley:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="parley-sdk-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        database = f"sqlite://{self.dir}/sdk.sqlite"
        env = {**os.environ, "PARLEY_BCRYPT_COST": "4"}
        subprocess.run([str(BINARY), "workspace", "create", "--database-url", database, "--name", "SDK",
                        "--owner-email", OWNER[0], "--owner-password", OWNER[1]], check=True, env=env, cwd=self.dir, capture_output=True)
        self.log = open(self.dir / "parley.log", "w")
        self.process = subprocess.Popen([str(BINARY), "serve", "--port", str(self.port), "--database-url", database],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError((self.dir / "parley.log").read_text())
                time.sleep(0.2)
        self.token = self.call("POST", "/api/v1/auth/login", {"email": OWNER[0], "password": OWNER[1]})[1]["token"]

    def call(self, method, path, body=None, token=True, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token and getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text.startswith("{") else text)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text.startswith("{") else text)

    def channel(self, kind, credentials, base):
        status, body = self.call("POST", "/api/v1/channels", {"type": kind, "name": kind, "credentials": credentials,
                                                              "apiBaseUrl": base, "verifyCredentials": False})
        assert status == 201, body
        return body["id"]

    def contact(self, query):
        status, body = self.call("GET", f"/api/v1/contacts?q={urllib.parse.quote(query)}")
        assert status == 200, body
        return body["items"]

    def timeline(self, contact_id):
        return [item["message"] for item in self.call("GET", f"/api/v1/contacts/{contact_id}/timeline")[1]["items"] if item["type"] == "message"]

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


import urllib.parse  # noqa: E402  (used by Parley.contact)


@pytest.fixture(scope="session")
def provider():
    stand_in = Provider()
    yield stand_in
    stand_in.server.shutdown()


@pytest.fixture(scope="session")
def parley():
    server = Parley()
    yield server
    server.stop()


def fixtures(channel):
    return sorted((FIXTURES / channel).glob("*.json"))
