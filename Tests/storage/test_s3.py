"""Attachments kept in an S3-compatible store: moto's S3 server on loopback, with request
signatures checked, stands in for the object store; `parley serve` is the real binary."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "debug" / "parley"
PHOTO = (ROOT / "Tests" / "browser" / "fixtures" / "parcel.png").read_bytes()
PASSWORD = "storage-test-password"
BUCKET = "parley-files"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, process, log):
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{Path(log).read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer:\n{Path(log).read_text()}")


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server; the first calls (unauthenticated) make a user and a key, every later
    request must be signed with that key."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="parley-moto-"))
    log = workdir / "moto.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    moto = subprocess.Popen([str(Path(os.sys.executable).parent / "moto_server"), "-p", str(port)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    # Waits by connecting only: an HTTP request would use up one of the unauthenticated calls.
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or moto.poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.2)
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="parley")
    iam.put_user_policy(UserName="parley", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="parley")["AccessKey"]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    client.create_bucket(Bucket=BUCKET)
    yield {"endpoint": endpoint, "key": key["AccessKeyId"], "secret": key["SecretAccessKey"], "client": client}
    moto.send_signal(signal.SIGTERM)
    moto.wait(timeout=10)


class Parley:
    def __init__(self, database, s3, secret=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="parley-storage-"))
        self.log = self.dir / "parley.log"
        env = {**os.environ, "PARLEY_OWNER_PASSWORD": PASSWORD, "PARLEY_BCRYPT_COST": "4",
               "PARLEY_STORAGE_URL": f"s3://{BUCKET}/files?endpoint={s3['endpoint']}&region=us-east-1",
               "AWS_ACCESS_KEY_ID": s3["key"], "AWS_SECRET_ACCESS_KEY": secret or s3["secret"]}
        self.process = subprocess.Popen([str(BINARY), "serve", "--port", str(self.port), "--database-url", f"sqlite://{database}"],
                                        stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        wait_for(self.base + "/healthz", self.process, self.log)
        self.token = self.call("POST", "/api/v1/auth/login", json.dumps({"email": "owner@parley.local", "password": PASSWORD}).encode(),
                               {"Content-Type": "application/json"})[1]["token"]

    def call(self, method, path, body=None, headers=None):
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if "json" in response.headers.get("Content-Type", "") else raw)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, (json.loads(raw) if raw.startswith(b"{") else raw)

    def upload(self, data, name="parcel.png", content_type="image/png"):
        return self.call("POST", f"/api/v1/attachments?fileName={name}", data, {"Content-Type": content_type})

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


def test_files_live_in_the_bucket_and_any_instance_serves_them(s3, tmp_path):
    database = tmp_path / "parley.sqlite"
    first = Parley(database, s3)
    try:
        status, attachment = first.upload(PHOTO)
        assert status == 201, attachment
        status, served = first.call("GET", f"/api/v1/attachments/{attachment['id']}/content")
        assert status == 200 and served == PHOTO
        # The object is in the bucket under the file's SHA-256, byte for byte, and nothing was written to the disk.
        key = "files/" + hashlib.sha256(PHOTO).hexdigest()
        assert s3["client"].get_object(Bucket=BUCKET, Key=key)["Body"].read() == PHOTO
        assert not (first.dir / "parley-files").exists() and not (database.parent / "parley-files").exists()
        # The same bytes uploaded again are kept once.
        status, again = first.upload(PHOTO, name="copy.png")
        assert status == 201 and again["id"] != attachment["id"]
        assert [o["Key"] for o in s3["client"].list_objects_v2(Bucket=BUCKET)["Contents"]] == [key]
    finally:
        first.stop()

    # Another instance, in another directory, on the same database serves the file from the bucket.
    second = Parley(database, s3)
    try:
        status, detail = second.call("GET", f"/api/v1/attachments/{attachment['id']}")
        assert status == 200
        status, served = second.call("GET", detail["signedUrl"])
        assert status == 200 and served == PHOTO
    finally:
        second.stop()


def test_a_wrong_secret_is_refused_by_the_store_and_nothing_is_recorded(s3, tmp_path):
    parley = Parley(tmp_path / "parley.sqlite", s3, secret="not-the-secret")
    try:
        status, body = parley.upload(PHOTO)
        assert status == 503 and body["error"]["code"] == "storage_unavailable", (status, body)
        assert "not-the-secret" not in parley.log.read_text()
        status, listing = parley.call("GET", "/api/v1/attachments/1")
        assert status == 404
    finally:
        parley.stop()
