#!/usr/bin/env python3
"""Harness for the operations tests (Tests/ops/run_ops_tests.py): two `parley serve`
started from ops/parley@.service on one PostgreSQL, behind Debian's nginx with
ops/nginx-parley.conf. Also backup, restore and move with the real command line.

Needs: PARLEY_TEST_POSTGRES_URL (a server it may create databases on), nginx, psql, the
debug build (PARLEY_BIN). Prints one line per test and closes with "N passed, N failed".
"""
import base64, hashlib, hmac, json, os, random, re, signal, socket, struct, subprocess, tempfile, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARLEY = os.environ.get("PARLEY_BIN", os.path.join(ROOT, ".build/debug/parley"))
SERVER_URL = os.environ["PARLEY_TEST_POSTGRES_URL"]
PUBLIC = "http://127.0.0.1:8180"
PORTS = (8181, 8182)
APP_SECRET = "ops-app-secret"
PHONE_ID = "106540352242922"
WORK = tempfile.mkdtemp(prefix="parley-ops-")


# ---------------------------------------------------------------- HTTP and WebSocket clients

def http(method, url, body=None, token=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class WebSocket:
    """A small RFC 6455 client: enough for Parley's event stream."""

    def __init__(self, port, path, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("connection closed during the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"upgrade refused: {status!r}")
        self.close_code = None
        self.close_reason = None

    def _read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise EOFError("connection closed")
            data += chunk
        return data

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        length = len(payload)
        header += bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack("!H", length)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def next(self):
        """The next text frame as JSON, or None once the server closed the connection."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 1:
                return json.loads(payload)
            if opcode == 9:
                self._send(10, payload)
            elif opcode == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_reason = payload[2:].decode()
                try:
                    self._send(8, payload[:2])
                except OSError:
                    pass
                return None

    def wait_for(self, predicate):
        while True:
            frame = self.next()
            if frame is None or predicate(frame):
                return frame

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- the installation

def psql(database_url, sql):
    out = subprocess.run(["psql", database_url, "-At", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def database_url(name):
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", SERVER_URL, count=1) if SERVER_URL.count("/") >= 3 else SERVER_URL


def unit_command(port, env_file):
    """Environment= and ExecStart= of ops/parley@.service for instance `port`."""
    env = dict(os.environ)
    env.update(env_file)
    command = None
    for line in open(os.path.join(ROOT, "ops/parley@.service")):
        line = line.strip()
        if line.startswith("Environment="):
            name, value = line[len("Environment="):].replace("%i", str(port)).split("=", 1)
            env[name] = value
        elif line.startswith("ExecStart="):
            command = line[len("ExecStart="):].split()
    assert command and command[0] == "/usr/local/bin/parley", command
    return [PARLEY] + command[1:], env


class Instance:
    def __init__(self, port, env_file):
        self.port = port
        self.env_file = env_file
        self.process = None
        self.log_path = os.path.join(WORK, f"parley-{port}.log")

    def start(self):
        command, env = unit_command(self.port, self.env_file)
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=WORK)
        wait_until(lambda: http("GET", f"http://127.0.0.1:{self.port}/readyz")[0] == 200, f"instance {self.port} ready")

    def terminate(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=40)

    def log_lines(self):
        lines = []
        for line in open(self.log_path):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return lines


def wait_until(check, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start_nginx():
    conf = os.path.join(WORK, "nginx.conf")
    temp = os.path.join(WORK, "nginx-temp")
    os.makedirs(temp)
    os.chmod(WORK, 0o755)
    os.chmod(temp, 0o777)
    user = "user root root;" if os.geteuid() == 0 else ""
    with open(conf, "w") as out:
        out.write(f"""{user}
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log;
events {{ worker_connections 512; }}
http {{
    access_log {WORK}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {ROOT}/ops/nginx-parley.conf;
}}
""")
    process = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"], stderr=open(os.path.join(WORK, "nginx-stderr.log"), "w"))
    wait_until(lambda: http("GET", PUBLIC + "/healthz")[0] == 200, "nginx")
    return process


def whatsapp_webhook(channel_id, message_id, sender, text, host=PUBLIC):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Ops Tester"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return http("POST", f"{host}/webhooks/{channel_id}", raw=body, headers={"X-Hub-Signature-256": signature})


class Setup:
    def __init__(self):
        self.name = "parley_ops_" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
        psql(SERVER_URL, f"CREATE DATABASE {self.name}")
        self.url = database_url(self.name)
        self.env = {"PARLEY_DATABASE_URL": self.url, "PARLEY_PUBLIC_URL": PUBLIC, "PARLEY_TRUSTED_PROXIES": "127.0.0.2",
                    "PARLEY_OWNER_EMAIL": "owner@ops.test", "PARLEY_OWNER_PASSWORD": "ops-password-1", "PARLEY_BCRYPT_COST": "4"}
        for port in (8180,) + PORTS:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"port {port} is in use; the reference setup needs 8180-8182")
        self.instances = [Instance(port, self.env) for port in PORTS]
        for instance in self.instances:
            instance.start()
        self.nginx = start_nginx()
        status, _, body = http("POST", PUBLIC + "/api/v1/auth/login", {"email": "owner@ops.test", "password": "ops-password-1"})
        assert status == 200, body
        self.token = json.loads(body)["token"]
        status, _, body = http("POST", PUBLIC + "/api/v1/channels", {"type": "whatsapp", "name": "WA", "verifyCredentials": False, "credentials": {
            "accessToken": "t", "phoneNumberId": PHONE_ID, "appSecret": APP_SECRET, "verifyToken": "v", "wabaId": "w"}}, token=self.token)
        assert status == 201, body
        self.channel = json.loads(body)["id"]

    def stored(self, ids):
        listed = ",".join("'" + i + "'" for i in ids)
        return set(psql(self.url, f"SELECT provider_message_id FROM messages WHERE provider_message_id IN ({listed})").split())

    def teardown(self):
        for instance in self.instances:
            if instance.process and instance.process.poll() is None:
                instance.process.kill()
                instance.process.wait()
        self.nginx.terminate()
        self.nginx.wait()
        psql(SERVER_URL, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
