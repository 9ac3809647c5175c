#!/usr/bin/env python3
"""kill -9 under load (scripts/test-crash): while signed WhatsApp webhooks stream in and agents
send messages to a WhatsApp Cloud API stand-in, `parley serve` is killed with SIGKILL several
times and restarted (and, on PostgreSQL, the database server itself is stopped with
`pg_ctl -m immediate` once). Afterwards:

- every webhook answered 2xx is stored, and no provider message id is stored twice;
- every send answered 201 is stored once; the stand-in received no message twice, and every
  message recorded `sent` was received;
- no message is left `pending` and the outbox is empty once the leases of the killed
  attempts have run out;
- the database passes its integrity check (SQLite `PRAGMA integrity_check` and
  `foreign_key_check`; PostgreSQL amcheck's `bt_index_check` on every index, heap included).

Needs PG_BIN and PG_DATA (a cluster this run may stop, scripts/test-crash starts one) and
PARLEY_TEST_POSTGRES_URL pointing at it. Closes with "N passed, N failed".
"""
import collections, json, os, random, signal, sqlite3, subprocess, sys, threading, time, traceback, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
from harness import PARLEY, WORK, database_url, http, psql, wait_until  # noqa: E402

APP_SECRET = "crash-app-secret"
PHONE_ID = "106540352242977"
PASSWORD = "crash-password-1"
KILLS = int(os.environ.get("CRASH_KILLS", "5"))
SENDERS = [f"1555444{n:04d}" for n in range(5)]
# The killed attempts hold their outbox lease before they are concluded: the server runs with
# the shortest one allowed (15 s instead of 60 s), and the wait for the outbox to empty allows
# for it several times over.
LEASE_SECONDS = 15
DRAIN_SECONDS = 100


class Provider:
    """WhatsApp Cloud API's send endpoint: counts every message body it receives."""

    def __init__(self):
        self.received = collections.Counter()
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with lock:
                    received[body.get("text", {}).get("body", "")] += 1
                # A little time in flight, so that some kills land mid-send.
                time.sleep(0.03)
                answer = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.out." + uuid.uuid4().hex}]}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the server was killed while waiting for this answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Server:
    def __init__(self, name, database):
        self.database = database
        with __import__("socket").socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(WORK, f"{name}.log")
        self.process = None

    def start(self):
        env = dict(os.environ, PARLEY_ALLOW_PRIVATE_TARGETS="1", PARLEY_OWNER_PASSWORD=PASSWORD, PARLEY_BCRYPT_COST="4",
                   PARLEY_OWNER_EMAIL="owner@crash.test", PARLEY_LOG_LEVEL="warning",
                   PARLEY_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS))
        command = [PARLEY, "serve", "--port", str(self.port), "--database-url", self.database]
        self.process = subprocess.Popen(command, env=env, cwd=WORK, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        wait_until(lambda: http("GET", self.base + "/readyz")[0] == 200, "the server to be ready", seconds=90)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def whatsapp_body(message_id, sender, text):
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
        "contacts": [{"profile": {"name": "Crash " + sender[-2:]}, "wa_id": sender}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]}}]}]}).encode()


def post_webhook(base, channel, message_id, sender, text):
    import hashlib, hmac
    body = whatsapp_body(message_id, sender, text)
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return http("POST", f"{base}/webhooks/{channel}", raw=body, headers={"X-Hub-Signature-256": signature})[0]


class Load:
    """Webhook and send streams that go on through the kills; requests that fail while the
    server is down are simply not acknowledged."""

    def __init__(self, server, token, channel, contacts):
        self.server, self.token, self.channel, self.contacts = server, token, channel, contacts
        self.webhooks_acknowledged = set()
        self.webhooks_posted = 0
        self.sends_acknowledged = {}
        self.sends_tried = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.webhooks, args=(n,)) for n in range(3)]
        self.threads += [threading.Thread(target=self.sends, args=(n,)) for n in range(2)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def webhooks(self, worker):
        index, previous = 0, None
        while not self.stop.is_set():
            # Every fifth delivery repeats the one before, as a provider's retry would.
            message_id = previous if previous and index % 5 == 4 else f"wamid.crash.{worker}.{index}"
            sender = SENDERS[index % len(SENDERS)]
            try:
                status = post_webhook(self.server.base, self.channel, message_id, sender, f"in {worker}.{index}")
            except OSError:
                status = None
                time.sleep(0.05)
            with self.lock:
                self.webhooks_posted += 1
                if status is not None and 200 <= status < 300:
                    self.webhooks_acknowledged.add(message_id)
            previous = message_id
            index += 1

    def sends(self, worker):
        index = 0
        while not self.stop.is_set():
            text = f"out {worker}.{index}"
            contact = self.contacts[index % len(self.contacts)]
            try:
                status, _, body = http("POST", f"{self.server.base}/api/v1/contacts/{contact}/messages",
                                       {"channelId": self.channel, "text": text}, token=self.token)
            except OSError:
                status, body = None, b""
                time.sleep(0.05)
            with self.lock:
                self.sends_tried += 1
                if status == 201:
                    self.sends_acknowledged[text] = json.loads(body)["message"]["id"]
            index += 1


class Store:
    """Reads the database the server wrote, on either engine."""

    def __init__(self, database):
        self.database = database

    def rows(self, sql):
        if self.database.startswith("sqlite://"):
            with sqlite3.connect(self.database[len("sqlite://"):]) as connection:
                return [tuple(row) for row in connection.execute(sql)]
        out = psql(self.database, sql)
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    def scalar(self, sql):
        return int(self.rows(sql)[0][0])

    def integrity_problems(self):
        if self.database.startswith("sqlite://"):
            check = self.rows("PRAGMA integrity_check")
            keys = self.rows("PRAGMA foreign_key_check")
            return ([] if check == [("ok",)] else [f"integrity_check: {check[:5]}"]) + ([f"foreign_key_check: {keys[:5]}"] if keys else [])
        psql(self.database, "CREATE EXTENSION IF NOT EXISTS amcheck")
        checked = psql(self.database, """
            SELECT count(bt_index_check(c.oid, true)) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE am.amname = 'btree' AND n.nspname = 'public' AND c.relpersistence <> 't'""")
        return [] if int(checked) > 0 else ["amcheck checked no index"]


def stop_and_start_postgres():
    """`pg_ctl stop -m immediate` (no shutdown checkpoint: a crash for the database), then start."""
    pg_ctl = [os.path.join(os.environ["PG_BIN"], "pg_ctl"), "-D", os.environ["PG_DATA"]]
    prefix = ["runuser", "-u", os.environ.get("PG_USER", "postgres"), "--"] if os.geteuid() == 0 else []
    subprocess.run(prefix + pg_ctl + ["-m", "immediate", "stop"], check=True, capture_output=True)
    time.sleep(1.0)
    subprocess.run(prefix + pg_ctl + ["-l", os.path.join(os.environ["PG_TMP"], "server.log"), "-w", "-t", "60", "start"],
                   check=True, capture_output=True)


def crash_run(name, database, kill_postgres=False):
    provider = Provider()
    server = Server(name, database)
    server.start()
    figures = {}
    try:
        token = json.loads(http("POST", server.base + "/api/v1/auth/login", {"email": "owner@crash.test", "password": PASSWORD})[2])["token"]
        status, _, body = http("POST", server.base + "/api/v1/channels", {"type": "whatsapp", "name": "WA", "verifyCredentials": False,
            "apiBaseUrl": provider.url, "credentials": {"accessToken": "t", "phoneNumberId": PHONE_ID, "appSecret": APP_SECRET,
                                                         "verifyToken": "v", "wabaId": "w"}}, token=token)
        assert status == 201, body
        channel = json.loads(body)["id"]
        for sender in SENDERS:
            assert post_webhook(server.base, channel, f"wamid.hello.{sender}", sender, "hello") == 200
        listed = json.loads(http("GET", server.base + "/api/v1/contacts?limit=50", token=token)[2])["items"]
        contacts = [contact["id"] for contact in listed]
        assert len(contacts) == len(SENDERS), listed

        load = Load(server, token, channel, contacts)
        load.start()
        rng = random.Random(14)
        started = time.time()
        try:
            for kill in range(KILLS):
                time.sleep(rng.uniform(0.8, 1.6))
                if kill_postgres and kill == KILLS // 2:
                    # The database dies under the running server, which must come back by itself.
                    stop_and_start_postgres()
                    wait_until(lambda: http("GET", server.base + "/readyz")[0] == 200, "the server to reach PostgreSQL again", seconds=60)
                    time.sleep(rng.uniform(0.8, 1.6))
                server.kill()
                server.start()
            time.sleep(1.0)
        finally:
            load.finish()
        figures["load_seconds"] = round(time.time() - started, 1)

        store = Store(database)
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline:
            if store.scalar("SELECT count(*) FROM outbox") == 0 and store.scalar("SELECT count(*) FROM messages WHERE status = 'pending'") == 0:
                break
            time.sleep(1)
        figures["drain_seconds"] = round(time.time() - started - figures["load_seconds"], 1)
        server.stop()

        problems = []
        inbound = dict(store.rows("SELECT provider_message_id, count(*) FROM messages WHERE direction = 'inbound' "
                                  "AND provider_message_id LIKE 'wamid.crash.%' GROUP BY provider_message_id"))
        missing = load.webhooks_acknowledged - set(inbound)
        twice = {key: count for key, count in inbound.items() if int(count) > 1}
        if missing:
            problems.append(f"{len(missing)} acknowledged webhooks not stored, e.g. {sorted(missing)[:3]}")
        if twice:
            problems.append(f"webhooks stored twice: {list(twice.items())[:3]}")

        outbound = collections.defaultdict(list)
        for text, status, reason in store.rows("SELECT text, status, coalesce(failure_reason, '') FROM messages WHERE direction = 'outbound'"):
            outbound[text].append((status, reason))
        lost = [text for text in load.sends_acknowledged if text not in outbound]
        if lost:
            problems.append(f"{len(lost)} acknowledged sends not stored, e.g. {lost[:3]}")
        stored_twice = [text for text, rows in outbound.items() if len(rows) > 1]
        if stored_twice:
            problems.append(f"sends stored twice: {stored_twice[:3]}")
        delivered_twice = [text for text, count in provider.received.items() if count > 1]
        if delivered_twice:
            problems.append(f"delivered twice to the provider: {delivered_twice[:5]}")
        statuses = collections.Counter(rows[0][0] for rows in outbound.values())
        sent_not_received = [text for text, rows in outbound.items() if rows[0][0] == "sent" and provider.received[text] != 1]
        if sent_not_received:
            problems.append(f"recorded sent but never received: {sent_not_received[:3]}")
        received_unknown = [text for text in provider.received if text not in outbound]
        if received_unknown:
            problems.append(f"the provider received messages the database does not hold: {received_unknown[:3]}")
        pending = store.scalar("SELECT count(*) FROM messages WHERE status = 'pending'")
        queued = store.scalar("SELECT count(*) FROM outbox")
        if pending or queued:
            problems.append(f"{pending} messages still pending, {queued} outbox rows, {DRAIN_SECONDS} s after the load")
        problems += store.integrity_problems()

        figures.update({
            "kills": KILLS, "postgres_killed": kill_postgres,
            "webhooks_posted": load.webhooks_posted, "webhooks_acknowledged": len(load.webhooks_acknowledged),
            "sends_tried": load.sends_tried, "sends_acknowledged": len(load.sends_acknowledged),
            "provider_received": sum(provider.received.values()), "statuses": dict(statuses),
            "failure_reasons": dict(collections.Counter(rows[0][1] for rows in outbound.values() if rows[0][0] == "failed")),
        })
        print(f"  {name}: {json.dumps(figures)}", flush=True)
        assert not problems, "\n".join(problems)
    finally:
        server.stop()
        provider.stop()


def test_sqlite_survives_kill_9_under_load():
    crash_run("sqlite", f"sqlite://{WORK}/crash.sqlite")


def test_postgres_survives_kill_9_under_load_and_its_own_crash():
    name = "parley_crash_" + uuid.uuid4().hex[:8]
    server_url = os.environ["PARLEY_TEST_POSTGRES_URL"]
    psql(server_url, f"CREATE DATABASE {name}")
    crash_run("postgres", database_url(name), kill_postgres=True)


def main():
    only = os.environ.get("CRASH_ONLY")
    tests = [value for key, value in globals().items() if key.startswith("test_") and (not only or only in key)]
    results = {}

    def run(test):
        started = time.time()
        try:
            test()
            results[test.__name__] = (True, f"PASS {test.__name__} ({time.time() - started:.1f} s)")
        except Exception:
            results[test.__name__] = (False, f"FAIL {test.__name__} ({time.time() - started:.1f} s)\n{traceback.format_exc()}")

    # Both engines at once: most of each run is the wait for the killed attempts' leases.
    threads = [threading.Thread(target=run, args=(test,)) for test in tests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ok, line in results.values():
        print(line, flush=True)
    passed = sum(1 for ok, _ in results.values() if ok)
    failed = len(tests) - passed
    if failed:
        print(f"logs kept in {WORK}")
    else:
        subprocess.run(["rm", "-rf", WORK])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
