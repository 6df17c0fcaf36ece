"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the channel tests, scriptable per command."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

HOST = "127.0.0.1"
USER, PASSWORD = "rep@example.com", "p@ss:w/rd"


@dataclass
class Delivery:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class ScriptedHandler:
    """Records deliveries; answers scripted replies instead of accepting when told to.

    ``*_replies`` are consumed one per command (e.g. ``"421 ..."`` once, then normal service);
    ``rcpt_reply_for`` answers every RCPT to one address. ``drop_after_data`` closes the connection
    right after the reply to DATA, like a server dropping an idle connection; ``drop_in_data``
    aborts it before replying to the end of DATA (the client cannot know if the message went).
    """

    deliveries: list[Delivery] = field(default_factory=list)
    mail_replies: deque[str] = field(default_factory=deque)
    rcpt_replies: deque[str] = field(default_factory=deque)
    data_replies: deque[str] = field(default_factory=deque)
    rcpt_reply_for: dict[str, str] = field(default_factory=dict)
    drop_after_data: bool = False
    drop_in_data: bool = False

    async def handle_MAIL(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.popleft()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.rcpt_reply_for:
            return self.rcpt_reply_for[address.lower()]
        if self.rcpt_replies:
            return self.rcpt_replies.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        if self.drop_in_data:
            cast(asyncio.Transport, server.transport).abort()
            return "250 never seen"
        self.deliveries.append(
            Delivery(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        if self.drop_after_data:
            asyncio.get_running_loop().call_soon(cast(asyncio.Transport, server.transport).close)
        return "250 2.0.0 Message accepted"


class CountingController(Controller):
    """A Controller that counts the connections it serves."""

    def __init__(self, handler: ScriptedHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.connections = 0
        self._lock = threading.Lock()

    def factory(self) -> SMTP:
        with self._lock:
            self.connections += 1
        smtp: SMTP = super().factory()  # type: ignore[no-untyped-call]
        return smtp


@dataclass
class SmtpServer:
    """A running test server: its handler, where it listens and how many connections it saw."""

    handler: ScriptedHandler
    controller: CountingController
    port: int

    @property
    def connections(self) -> int:
        return self.controller.connections

    def url(self, scheme: str = "smtp", userinfo: str = "") -> str:
        return f"{scheme}://{userinfo}{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(handler: ScriptedHandler, **kwargs: Any) -> SmtpServer:
    controller = CountingController(handler, hostname=HOST, port=free_port(), **kwargs)
    controller.start()
    controller.connections = 0  # start() makes one connection of its own to check readiness
    return SmtpServer(handler, controller, controller.port)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 and a free port."""
    server = start_server(ScriptedHandler())
    yield server
    server.controller.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens (bound but not listening: connections refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections but never sends a greeting."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1 and the matching server and client contexts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    command += " -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
    command += f" -keyout {key} -out {cert}"
    subprocess.run(command.split(), check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert)))


def authenticator(
    server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[SmtpServer]:
    """A server that requires STARTTLS and authentication (USER / PASSWORD)."""
    server = start_server(
        ScriptedHandler(),
        tls_context=tls.server,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    yield server
    server.controller.stop()


@pytest.fixture
def smtps_server(tls: Tls) -> Iterator[SmtpServer]:
    """A server that speaks TLS from the first byte (implicit TLS, like port 465)."""
    server = start_server(ScriptedHandler(), ssl_context=tls.server)
    yield server
    server.controller.stop()
