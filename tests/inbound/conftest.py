"""Inbound fixtures: mail that comes back (built around a message we really sent), and a real
IMAP server — Dovecot, run unprivileged-style on loopback with a throwaway configuration.

The Dovecot tests skip when ``dovecot`` or ``openssl`` is not installed (Debian:
``apt-get install dovecot-imapd openssl``).
"""

from __future__ import annotations

import email
import email.policy
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.engine.conftest import engine, redis, redis_url, smtp, tick  # noqa: F401

# --- mail that comes back -------------------------------------------------------------------------


def _compat(sent: EmailMessage) -> Message:
    """The sent message re-read with the compat32 policy, to attach to a MIME report."""
    return email.message_from_bytes(sent.as_bytes(policy=email.policy.SMTP))


def reply_to(
    sent: EmailMessage,
    *,
    body: str = "Sounds good, let's talk on Tuesday.",
    sender: str | None = None,
    at: datetime | None = None,
    threaded: bool = True,
) -> bytes:
    """A person's reply to ``sent``, from its recipient unless ``sender`` is given."""
    reply = EmailMessage()
    reply["From"] = sender or sent["To"]
    reply["To"] = sent["From"]
    reply["Subject"] = f"Re: {sent['Subject']}"
    reply["Date"] = format_datetime(at) if at else sent["Date"]
    reply["Message-ID"] = make_msgid(domain="customer.example.org")
    if threaded:
        reply["In-Reply-To"] = sent["Message-ID"]
        reply["References"] = sent["Message-ID"]
    reply.set_content(f"{body}\n\nOn Monday you wrote:\n> {sent['Subject']}\n")
    return reply.as_bytes()


def auto_reply_to(sent: EmailMessage, text: str, *, at: datetime) -> bytes:
    """An out-of-office answer to ``sent``."""
    reply = EmailMessage()
    reply["From"] = sent["To"]
    reply["To"] = sent["From"]
    reply["Subject"] = f"Automatic reply: {sent['Subject']}"
    reply["Date"] = format_datetime(at)
    reply["Message-ID"] = make_msgid(domain="customer.example.org")
    reply["In-Reply-To"] = sent["Message-ID"]
    reply["Auto-Submitted"] = "auto-replied"
    reply.set_content(text)
    return reply.as_bytes()


def dsn_for(
    sent: EmailMessage,
    *,
    status: str,
    diagnostic: str,
    at: datetime,
    action: str = "failed",
    recipient: str | None = None,
) -> bytes:
    """An RFC 3464 delivery status notification about ``sent``, with the original attached."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.customer.example.org>"
    report["To"] = sent["From"]
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain="mx.customer.example.org")
    report.attach(MIMEText("This is the mail system. Your message could not be delivered.\n"))
    fields = Message()
    fields["Reporting-MTA"] = "dns; mx.customer.example.org"
    block = Message()
    block["Final-Recipient"] = f"rfc822; {recipient or sent['To'].addresses[0].addr_spec}"
    block["Action"] = action
    block["Status"] = status
    block["Diagnostic-Code"] = f"smtp; {diagnostic}"
    part = Message()
    part["Content-Type"] = "message/delivery-status"
    part.set_payload([fields, block])
    report.attach(part)
    report.attach(MIMEMessage(_compat(sent)))
    return report.as_bytes()


def arf_for(sent: EmailMessage, *, at: datetime) -> bytes:
    """An RFC 5965 abuse report (a spam complaint) about ``sent``."""
    report = MIMEMultipart("report", report_type="feedback-report")
    report["From"] = "fbl@isp.example.net"
    report["To"] = sent["From"]
    report["Subject"] = "Abuse report"
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain="isp.example.net")
    report.attach(MIMEText("This is an abuse report for a message you sent.\n"))
    fields = Message()
    fields["Feedback-Type"] = "abuse"
    fields["User-Agent"] = "FBL/1.0"
    fields["Version"] = "1"
    fields["Original-Rcpt-To"] = sent["To"].addresses[0].addr_spec
    feedback = Message()
    feedback["Content-Type"] = "message/feedback-report"
    feedback.set_payload([fields])
    report.attach(feedback)
    report.attach(MIMEMessage(_compat(sent)))
    return report.as_bytes()


def plain_message(subject: str, *, sender: str = "someone@elsewhere.example.net") -> bytes:
    """A message about nothing we sent."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "rita@acme.example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="elsewhere.example.net")
    msg.set_content("Hello.\n")
    return msg.as_bytes()


# --- a real IMAP server ---------------------------------------------------------------------------

IMAP_USER, IMAP_PASSWORD = "rita@acme.example.com", "imap-secret"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass(frozen=True)
class ImapServer:
    """A running Dovecot: plain/STARTTLS on ``port``, implicit TLS on ``ssl_port``."""

    host: str
    port: int
    ssl_port: int
    context: ssl.SSLContext  # trusts the server's self-signed certificate
    ca_file: Path  # that certificate, in PEM

    def connect(self) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL(self.host, self.ssl_port, ssl_context=self.context, timeout=10)
        conn.login(IMAP_USER, IMAP_PASSWORD)
        return conn

    def new_mailbox(self) -> str:
        """A fresh, empty mailbox of its own for one test."""
        name = f"T{uuid.uuid4().hex[:12]}"
        conn = self.connect()
        try:
            assert conn.create(name)[0] == "OK"
        finally:
            conn.logout()
        return name

    def append(self, mailbox: str, *messages: bytes) -> None:
        conn = self.connect()
        try:
            for raw in messages:
                assert conn.append(mailbox, None, None, raw)[0] == "OK"
        finally:
            conn.logout()

    def recreate(self, mailbox: str) -> None:
        """Delete and create ``mailbox`` again: it comes back with a new UIDVALIDITY."""
        conn = self.connect()
        try:
            assert conn.delete(mailbox)[0] == "OK"
            assert conn.create(mailbox)[0] == "OK"
        finally:
            conn.logout()


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = log.read_text() if log.exists() else ""
            raise RuntimeError(f"dovecot exited with {proc.returncode}: {detail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening within 10 s")


def _dovecot_users() -> tuple[str, str, pwd.struct_passwd]:
    """Internal user, login user and mail user for Dovecot's processes."""
    if os.geteuid() != 0:  # unprivileged: every Dovecot process runs as us
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me
    try:  # as root: Dovecot's own users, made by the Debian package
        return "dovecot", "dovenull", pwd.getpwnam("dovecot")
    except KeyError:
        pytest.skip("the dovecot system user is missing (apt-get install dovecot-imapd)")


def _write_config(root: Path, port: int, ssl_port: int) -> Path:
    internal, login, mail_user = _dovecot_users()
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    command += " -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
    command += f" -keyout {root / 'key.pem'} -out {root / 'cert.pem'}"
    subprocess.run(command.split(), check=True, capture_output=True)
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::\n")
    config = root / "dovecot.conf"
    config.write_text(
        _CONFIG.format(
            root=root,
            internal=internal,
            group=grp.getgrgid(mail_user.pw_gid).gr_name,
            login=login,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            imap_port=port,
            imaps_port=ssl_port,
        )
    )
    return config


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on loopback for the whole session; skips when it is not installed."""
    dovecot = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if dovecot is None or shutil.which("openssl") is None:
        pytest.skip("dovecot (apt-get install dovecot-imapd) and openssl are needed")
    root = Path(tempfile.mkdtemp(prefix="cadence-dovecot-"))
    root.chmod(0o755)  # as root, Dovecot's processes run as its own users and must get in
    proc: subprocess.Popen[bytes] | None = None
    try:
        port, ssl_port = free_port(), free_port()
        config = _write_config(root, port, ssl_port)
        proc = subprocess.Popen(
            [dovecot, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(ssl_port, proc, root / "dovecot.log")
        cert = root / "cert.pem"
        context = ssl.create_default_context(cafile=str(cert))
        yield ImapServer("127.0.0.1", port, ssl_port, context, cert)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)
