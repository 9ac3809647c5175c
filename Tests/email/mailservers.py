"""Real mail servers on loopback for the email tests: Debian's dovecot (IMAP) with a throwaway
mailbox, and aiosmtpd (SMTP submission with STARTTLS and AUTH) recording what it receives."""
import os
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class Certificate:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost."""

    def __init__(self, directory):
        self.cert = Path(directory) / "cert.pem"
        self.key = Path(directory) / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", str(self.key), "-out", str(self.cert)], check=True, capture_output=True)

    @property
    def pem(self):
        return self.cert.read_text()


class Dovecot:
    """dovecot serving IMAP (no TLS, loopback only) for the users given."""

    def __init__(self, users):
        self.dir = Path(tempfile.mkdtemp(prefix="parley-dovecot-"))
        self.port = free_port()
        for sub in ("run", "state", "home"):
            (self.dir / sub).mkdir()
        (self.dir / "passwd").write_text("".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users.items()))
        mail_user = "nobody" if os.geteuid() == 0 else str(os.geteuid())
        mail_group = "nogroup" if os.geteuid() == 0 else str(os.getegid())
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "nobody:nogroup", str(self.dir / "home")], check=True)
            os.chmod(self.dir, 0o755)
        (self.dir / "dovecot.conf").write_text(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={self.dir}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.dir / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def log(self):
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Sink:
    """What the submission server received, and how it should answer next."""

    def __init__(self):
        self.messages = []
        self.fail_next = 0
        self.sessions = []

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 try again later"
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.original_content,
                              "tls": session.ssl is not None, "login": session.auth_data})
        return "250 OK"


class Submission:
    """aiosmtpd on loopback requiring STARTTLS and AUTH (PLAIN or LOGIN) with one user."""

    def __init__(self, certificate, user, password):
        self.sink = Sink()
        self.port = free_port()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate.cert), str(certificate.key))

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            # handled=False: aiosmtpd itself answers 535 to a refused login.
            return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
                                     authenticator=authenticate, auth_required=True, auth_require_tls=True)
        self.controller.start()

    def stop(self):
        self.controller.stop()
