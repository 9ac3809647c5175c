"""Two `parley serve` processes on one PostgreSQL: a change made through one instance reaches a
browser connected to the other, live (the event stream's LISTEN/NOTIFY fan-out)."""
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import Api, Server, free_port, sign_in

OWNER = "owner@two.local"
PASSWORD = "two-instances-password"


def _pg_bin():
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql package")


@pytest.fixture(scope="module")
def postgres_url():
    """The test command's throwaway PostgreSQL, or one of our own when run alone."""
    url = os.environ.get("PARLEY_TEST_POSTGRES_URL")
    if url:
        yield url.rsplit("/", 1)[0]
        return
    directory = Path(tempfile.mkdtemp(prefix="parley-browser-pg-"))
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        subprocess.run(["chown", "-R", "postgres", str(directory)], check=True)
    pg = _pg_bin()
    subprocess.run(as_postgres + [str(pg / "initdb"), "-D", str(directory / "data"), "-U", "parley", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run(as_postgres + [str(pg / "pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "log"), "-w", "start",
                                  "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"], check=True, capture_output=True)
    try:
        yield f"postgres://parley@127.0.0.1:{port}"
    finally:
        subprocess.run(as_postgres + [str(pg / "pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "stop"], capture_output=True)


def test_a_change_through_one_instance_appears_live_in_the_other(postgres_url, page, shot):
    name = "parley_two_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", f"{postgres_url}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    env = {"PARLEY_OWNER_EMAIL": OWNER, "PARLEY_OWNER_PASSWORD": PASSWORD}
    args = ["serve", "--port", "{port}", "--database-url", f"{postgres_url}/{name}"]
    first = Server(args, env=env, name="instance-a")
    second = Server(args, env=env, name="instance-b")
    try:
        sign_in(page, second.base, OWNER, password=PASSWORD)
        expect(page.locator(".row")).to_have_count(0)
        api = Api(first.base, OWNER, password=PASSWORD)
        contact = api.call("POST", "/api/v1/contacts", {"firstName": "Across", "lastName": "Instances"})
        api.call("POST", f"/api/v1/contacts/{contact['id']}/conversation/open", expect_status=201)
        row = page.locator(".row", has_text="Across Instances")
        expect(row).to_have_count(1)
        shot(page, "row-from-the-other-instance")
        # A later change through instance A updates the same row in place.
        me = api.call("GET", "/api/v1/me")["user"]
        api.call("PUT", f"/api/v1/contacts/{contact['id']}/conversation/assignee", {"userId": me["id"]})
        expect(row).to_contain_text(me["name"])
    finally:
        second.stop()
        first.stop()
