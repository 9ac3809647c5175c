#!/usr/bin/env python3
"""Operations tests against the reference setup (see harness.py). Run by scripts/test-ops."""
import http.client as httpclient
import json, os, re, socket, sqlite3, subprocess, sys, threading, time, traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PARLEY, PORTS, PUBLIC, ROOT, SERVER_URL, WORK, Instance, Setup, WebSocket, database_url, http, psql,
                     wait_until, whatsapp_webhook)


def test_health_and_readiness_through_the_proxy(setup):
    for path in ("/healthz", "/readyz"):
        status, headers, body = http("GET", PUBLIC + path)
        assert status == 200, (path, status, body)
        assert len(headers.get("X-Request-Id", "")) == 32, headers


def test_a_client_of_one_instance_sees_a_message_ingested_through_the_other(setup):
    first, second = PORTS
    direct = WebSocket(first, "/api/v1/events", setup.token)
    proxied = WebSocket(8180, "/api/v1/events", setup.token)
    assert direct.wait_for(lambda f: f.get("type") == "ready")
    assert proxied.wait_for(lambda f: f.get("type") == "ready")
    status, _, body = whatsapp_webhook(setup.channel, "wamid.cross", "15557770001", "through B", host=f"http://127.0.0.1:{second}")
    assert status == 200, body
    for client in (direct, proxied):
        frame = client.wait_for(lambda f: f.get("type") == "message.created")
        assert frame and frame["data"]["message"]["text"] == "through B", frame
        client.close()


def get_from(source, port, path, headers):
    """A GET sent from the loopback address `source`, as a client on another machine would."""
    connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("X-Request-Id")


def test_forwarded_addresses_and_request_ids_count_only_from_the_proxy(setup):
    # Through nginx (which connects from 127.0.0.2, the trusted proxy): the client is the
    # address nginx saw, 127.0.0.3; what the client itself wrote in X-Forwarded-For is not
    # believed, and the request id is nginx's.
    forged = {"X-Forwarded-For": "203.0.113.5", "X-Request-Id": "forged"}
    status, proxied_id = get_from("127.0.0.3", 8180, "/healthz?via=proxy", forged)
    assert status == 200 and proxied_id and proxied_id != "forged"
    # Straight to an instance: the same headers from an untrusted peer are ignored.
    status, direct_id = get_from("127.0.0.3", PORTS[0], "/healthz", forged)
    assert status == 200 and direct_id and direct_id != "forged"
    time.sleep(0.2)
    lines = [line for instance in setup.instances for line in instance.log_lines() if line.get("message") == "request"]
    via_proxy = [line for line in lines if line.get("request_id") == proxied_id]
    assert via_proxy and via_proxy[0]["client"] == "127.0.0.3", via_proxy
    direct = [line for line in lines if line.get("request_id") == direct_id]
    assert direct and "client" not in direct[0], direct


def test_metrics_carry_the_business_figures_the_dashboard_uses(setup):
    assert whatsapp_webhook(setup.channel, "wamid.metrics", "15557770002", "count me")[0] == 200
    forged = http("POST", f"{PUBLIC}/webhooks/{setup.channel}", raw=b"{}", headers={"X-Hub-Signature-256": "sha256=00"})
    assert forged[0] == 401
    texts = [http("GET", f"http://127.0.0.1:{port}/metrics")[2].decode() for port in PORTS]
    both = "\n".join(texts)
    for needle in ('parley_messages_received_total{channel="whatsapp"}', 'parley_webhooks_refused_total{channel="whatsapp",reason="invalid_signature"}',
                   "parley_outbox_depth_messages", "parley_outbox_oldest_age_seconds", "parley_realtime_clients_count"):
        assert needle in both, needle
    dashboard = json.load(open(os.path.join(ROOT, "ops/grafana-dashboard.json")))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert exprs
    # Counters appear at their first increment; nothing is sent to a provider here.
    outbound_only = {"parley_messages_sent_total", "parley_messages_failed_total"}
    for expr in exprs:
        for name in re.findall(r"parley_[a-z_]+", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in both or base in both or name in outbound_only, f"the dashboard's {name} is not in /metrics"


def test_sigterm_during_a_stream_of_requests_loses_nothing(setup):
    """A rolling restart of both instances behind nginx while webhooks and reads stream in."""
    acknowledged, failures, stop = [], [], threading.Event()
    lock = threading.Lock()

    def stream(worker):
        index = 0
        while not stop.is_set():
            message_id = f"wamid.roll.{worker}.{index}"
            try:
                status, _, body = whatsapp_webhook(setup.channel, message_id, f"1555888{worker:04d}", f"roll {index}")
                read = http("GET", PUBLIC + "/api/v1/conversations?view=all", token=setup.token)[0]
            except OSError as error:
                with lock:
                    failures.append(f"{message_id}: {error}")
                continue
            with lock:
                if status == 200:
                    acknowledged.append(message_id)
                else:
                    failures.append(f"{message_id}: webhook {status} {body[:200]!r}")
                if read != 200:
                    failures.append(f"read {read}")
            index += 1

    watcher = WebSocket(PORTS[0], "/api/v1/events", setup.token)
    assert watcher.wait_for(lambda f: f.get("type") == "ready")
    workers = [threading.Thread(target=stream, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: len(acknowledged) >= 40, "the stream to start")
        for position, instance in enumerate(setup.instances):
            before = len(acknowledged)
            assert instance.terminate() == 0, "a SIGTERM ends the process cleanly"
            if position == 0:
                # The event stream was closed with the id to resume from.
                assert watcher.wait_for(lambda f: False) is None
                assert watcher.close_code == 1001 and isinstance(json.loads(watcher.close_reason)["after"], int), (watcher.close_code, watcher.close_reason)
            wait_until(lambda: len(acknowledged) >= before + 40, "requests to go on through the other instance")
            instance.start()
            before = len(acknowledged)
            wait_until(lambda: len(acknowledged) >= before + 20, "requests to go on after the restart")
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert not failures, failures[:10]
    stored = setup.stored(acknowledged)
    assert stored == set(acknowledged), f"{len(set(acknowledged) - stored)} acknowledged webhooks were not stored"
    for instance in setup.instances:
        assert any(line.get("message") == "stopped" for line in instance.log_lines()), "each instance logged its orderly stop"


def test_backup_restore_and_move_on_the_command_line(setup):
    """SQLite: a backup taken while webhooks arrive holds every one acknowledged before it;
    the backup restores, and moves into an empty PostgreSQL database, verified."""
    path = os.path.join(WORK, "single.sqlite")
    env = dict(os.environ, PARLEY_DATABASE_URL=f"sqlite://{path}", PARLEY_PORT="8183", PARLEY_PUBLIC_URL="http://127.0.0.1:8183",
               PARLEY_OWNER_EMAIL="owner@ops.test", PARLEY_OWNER_PASSWORD="ops-password-1", PARLEY_BCRYPT_COST="4")
    server = subprocess.Popen([PARLEY, "serve"], env=env, cwd=WORK, stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "single.log"), "w"))
    try:
        wait_until(lambda: http("GET", "http://127.0.0.1:8183/readyz")[0] == 200, "the SQLite instance")
        token = json.loads(http("POST", "http://127.0.0.1:8183/api/v1/auth/login", {"email": "owner@ops.test", "password": "ops-password-1"})[2])["token"]
        channel = json.loads(http("POST", "http://127.0.0.1:8183/api/v1/channels", {"type": "whatsapp", "name": "WA", "verifyCredentials": False,
            "credentials": {"accessToken": "t", "phoneNumberId": "106540352242922", "appSecret": "ops-app-secret", "verifyToken": "v", "wabaId": "w"}},
            token=token)[2])["id"]
        acknowledged, stop = [], threading.Event()

        def stream():
            index = 0
            while not stop.is_set():
                status = whatsapp_webhook(channel, f"wamid.bk.{index}", f"1555999{index % 7}", f"bk {index}", host="http://127.0.0.1:8183")[0]
                if status == 200:
                    acknowledged.append(f"wamid.bk.{index}")
                index += 1

        writer = threading.Thread(target=stream)
        writer.start()
        wait_until(lambda: len(acknowledged) >= 30, "webhooks to stream in")
        before = set(acknowledged)
        backup = os.path.join(WORK, "backup.sqlite")
        done = subprocess.run([PARLEY, "backup", "--database-url", f"sqlite://{path}", "--output", backup], capture_output=True, text=True)
        time.sleep(0.3)
        stop.set()
        writer.join()
        assert done.returncode == 0, done.stderr
        in_backup = {row[0] for row in sqlite3.connect(backup).execute("SELECT provider_message_id FROM messages")}
        assert before <= in_backup, f"{len(before - in_backup)} acknowledged before the backup are missing"
        # Restoring over the running server's database is refused.
        refused = subprocess.run([PARLEY, "restore", "--database-url", f"sqlite://{path}", "--input", backup, "--force"], capture_output=True, text=True)
        assert refused.returncode != 0 and "in use" in refused.stderr, refused.stderr
    finally:
        server.terminate()
        server.wait()
    restored = os.path.join(WORK, "restored.sqlite")
    done = subprocess.run([PARLEY, "restore", "--database-url", f"sqlite://{restored}", "--input", backup], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    name = setup.name + "_moved"
    psql(SERVER_URL, f"CREATE DATABASE {name}")
    try:
        moved = subprocess.run([PARLEY, "move", "--from", f"sqlite://{restored}", "--to", database_url(name)], capture_output=True, text=True)
        assert moved.returncode == 0 and "Verified" in moved.stdout, moved.stdout + moved.stderr
        count = int(psql(database_url(name), "SELECT count(*) FROM messages"))
        assert count == len(in_backup), (count, len(in_backup))
    finally:
        psql(SERVER_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_connections_beyond_the_open_file_limit_wait_instead_of_stopping_the_server(setup):
    """At its open-file limit a process on Linux is stopped by the Swift runtime's thread pool
    (its once-a-second check of its workers opens /proc files). The server keeps connections
    below the limit: a flood waits to be accepted, and requests are served once it is gone.
    (Requests run during the flood so that the thread pool has work queued when it checks.)"""
    import resource
    env = dict(os.environ, PARLEY_DATABASE_URL=f"sqlite://{os.path.join(WORK, 'limit.sqlite')}", PARLEY_PORT="8183",
               PARLEY_LOG_FORMAT="json", PARLEY_OWNER_EMAIL="owner@ops.test", PARLEY_OWNER_PASSWORD="ops-password-1", PARLEY_BCRYPT_COST="4")
    log_path = os.path.join(WORK, "limit.log")
    server = subprocess.Popen([PARLEY, "serve"], env=env, cwd=WORK, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)))
    flood, stop = [], threading.Event()
    try:
        wait_until(lambda: http("GET", "http://127.0.0.1:8183/readyz")[0] == 200, "the instance with 256 descriptors")

        def requests():
            # Connections opened before the flood, so the server has work while it is at the limit.
            connection = httpclient.HTTPConnection("127.0.0.1", 8183, timeout=30)
            while not stop.is_set():
                try:
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                except (OSError, httpclient.HTTPException):
                    return

        workers = [threading.Thread(target=requests) for _ in range(8)]
        for worker in workers:
            worker.start()
        for _ in range(400):
            try:
                flood.append(socket.create_connection(("127.0.0.1", 8183), timeout=1))
            except OSError:
                break  # the listen backlog is full: later clients wait in their SYN retries
        assert len(flood) > 256, f"only {len(flood)} connections opened"
        time.sleep(8)
        assert server.poll() is None, f"the server stopped ({server.returncode}) with {len(flood)} connections open"
        for sock in flood:
            sock.close()
        stop.set()
        for worker in workers:
            worker.join()
        wait_until(lambda: http("GET", "http://127.0.0.1:8183/healthz")[0] == 200, "the server to serve again")
        listening = [json.loads(line) for line in open(log_path) if '"Parley listening"' in line]
        assert listening and listening[0]["maxConnections"] == "128" and listening[0]["openFileLimit"] == "256", listening
    finally:
        stop.set()
        for sock in flood:
            sock.close()
        server.terminate()
        server.wait()


def test_silent_connections_do_not_hold_the_slots_for_good(setup):
    """Connections that send nothing are closed after --idle-timeout, so a client finds a slot
    even when silent sockets (vanished clients, a port scanner) filled them all."""
    env = dict(os.environ, PARLEY_DATABASE_URL=f"sqlite://{os.path.join(WORK, 'idle.sqlite')}", PARLEY_PORT="8184",
               PARLEY_OWNER_EMAIL="owner@ops.test", PARLEY_OWNER_PASSWORD="ops-password-1", PARLEY_BCRYPT_COST="4")
    server = subprocess.Popen([PARLEY, "serve", "--max-connections", "4", "--idle-timeout", "2"], env=env, cwd=WORK,
                              stdout=open(os.path.join(WORK, "idle.log"), "w"), stderr=subprocess.STDOUT)
    silent = []
    try:
        wait_until(lambda: http("GET", "http://127.0.0.1:8184/readyz")[0] == 200, "the instance with four connections")
        silent = [socket.create_connection(("127.0.0.1", 8184), timeout=1) for _ in range(4)]
        # Accepted first: the server accepts a few connections at a time, so a client arriving
        # in the same burst could be taken in the batch that reaches the cap.
        time.sleep(0.5)
        started = time.time()
        connection = httpclient.HTTPConnection("127.0.0.1", 8184, timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        waited = time.time() - started
        assert 0.8 < waited < 6, f"served after {waited:.1f} s"
        for sock in silent:
            sock.settimeout(5)
            assert sock.recv(1) == b"", "a silent connection is closed by the server"
    finally:
        for sock in silent:
            sock.close()
        server.terminate()
        server.wait()


def main():
    tests = [value for name, value in globals().items() if name.startswith("test_")]
    setup = Setup()
    passed = failed = 0
    try:
        for test in tests:
            started = time.time()
            try:
                test(setup)
                passed += 1
                print(f"PASS {test.__name__} ({time.time() - started:.1f} s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}\n{traceback.format_exc()}", flush=True)
    finally:
        setup.teardown()
    if failed:
        print(f"logs kept in {WORK}")
    else:
        subprocess.run(["rm", "-rf", WORK])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
