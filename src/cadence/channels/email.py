"""The email channel: build messages (:func:`build_message`) and deliver them over SMTP.

:class:`SmtpSender` is configured from a URL and opens one connection per batch::

    sender = SmtpSender("smtp+starttls://user:pass@smtp.example.com:587", domain="example.com")
    with sender.session() as s:
        for email in batch:
            result = s.send(email)          # an OutgoingEmail or a built EmailMessage

Outcomes are :class:`~cadence.channels.base.SendResult` values, never exceptions: 2xx → ``sent``;
4xx, refused connections, timeouts and disconnects → ``failed`` with ``transient=True``; 5xx on RCPT
or DATA → ``bounced``; other 5xx (sender refused, bad credentials) → ``failed``, not transient.
"""

from __future__ import annotations

import contextlib
import copy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from types import TracebackType
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from cadence.channels.base import OutgoingEmail, SendResult
from cadence.channels.message import build_message, message_id_for, reply_subject
from cadence.errors import ConfigurationError, InvalidEmail, InvalidInput

__all__ = [
    "SmtpSecurity",
    "SmtpSender",
    "SmtpSession",
    "build_message",
    "message_id_for",
    "reply_subject",
    "result_for_error",
]

SmtpSecurity = Literal["plain", "starttls", "tls"]
_SCHEMES: dict[str, tuple[SmtpSecurity, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


class SmtpSender:
    """Delivers email through one SMTP server, configured from a URL.

    Args:
        url: ``smtp://[user:pass@]host[:port]`` (plain, port 25), ``smtp+starttls://...`` (587) or
            ``smtps://...`` (implicit TLS, 465). User and password are percent-decoded.
        domain: Domain of generated ``Message-ID`` headers; defaults to the sender's domain.
        timeout: Seconds allowed for connecting and for each server reply.
        ssl_context: TLS settings for ``starttls`` and ``tls``; defaults to
            ``ssl.create_default_context()``.
        local_hostname: Name sent in ``EHLO``; defaults to the local FQDN.
        envelope_from: ``MAIL FROM`` address (bounce address); defaults to the ``From`` address.

    Raises:
        ConfigurationError: The URL is not a usable SMTP URL.
    """

    def __init__(
        self,
        url: str,
        *,
        domain: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        envelope_from: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ConfigurationError(
                f"SMTP URL scheme must be one of {sorted(_SCHEMES)}, got {scheme!r}"
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"SMTP URL has an invalid port: {exc}") from exc
        if not parts.hostname:
            raise ConfigurationError("SMTP URL has no host")
        if timeout <= 0:
            raise ConfigurationError(f"SMTP timeout must be positive, got {timeout!r}")
        self.security: SmtpSecurity = _SCHEMES[scheme][0]
        self.host: str = parts.hostname
        self.port: int = port if port is not None else _SCHEMES[scheme][1]
        self.username: str | None = unquote(parts.username) if parts.username else None
        self._password: str = unquote(parts.password) if parts.password else ""
        self.domain = domain
        self.timeout = timeout
        self.local_hostname = local_hostname
        self.envelope_from = envelope_from
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"SmtpSender('{self.security}://{user}{self.host}:{self.port}')"

    def session(self) -> SmtpSession:
        """A session that reuses one connection for a batch; use it as a context manager."""
        return SmtpSession(self)

    def send(self, email: OutgoingEmail | EmailMessage, /) -> SendResult:
        """Deliver one message on a connection of its own."""
        with self.session() as session:
            return session.send(email)

    def _tls_context(self) -> ssl.SSLContext:
        # Building a default context loads the CA store (~50 ms): once per sender, and only
        # when TLS is used at all.
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def connect(self) -> smtplib.SMTP:
        """Open, greet (``EHLO``), secure and authenticate one connection.

        Raises:
            smtplib.SMTPException: The server refused the greeting, TLS or the credentials.
            OSError: The connection could not be made (refused, timed out, TLS handshake).
        """
        conn: smtplib.SMTP
        if self.security == "tls":
            conn = smtplib.SMTP_SSL(
                self.host,
                self.port,
                self.local_hostname,
                timeout=self.timeout,
                context=self._tls_context(),
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, self.local_hostname, timeout=self.timeout)
        try:
            conn.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password)
        except BaseException:
            conn.close()
            raise
        return conn


@dataclass(frozen=True)
class _Envelope:
    sender: str
    recipients: list[str]
    data: bytes
    eight_bit: bool


class _Dropped(Exception):
    """The server dropped a connection before accepting ``MAIL``; resending is safe."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SmtpSession:
    """One SMTP connection reused across a batch; not thread-safe.

    The connection opens on the first :meth:`send`. If the server dropped an idle connection (or
    answers ``421`` to ``MAIL``), the session reconnects once and resends: nothing was accepted
    yet, so no duplicate is possible. A drop later in a transaction is reported as a transient
    failure and the next message opens a new connection. If opening a connection fails, the rest
    of the batch fails fast with the same result instead of waiting for a timeout per message.
    """

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._conn: smtplib.SMTP | None = None
        self._connect_failure: SendResult | None = None
        self._closed = False
        self.connections_opened = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say ``QUIT`` and close the connection; the session cannot send afterwards."""
        self._closed = True
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._discard()

    def send(self, email: OutgoingEmail | EmailMessage, /) -> SendResult:
        """Deliver one message and report the outcome.

        Args:
            email: An :class:`OutgoingEmail` (built with :func:`build_message`) or a ready message;
                a ready message without ``Message-ID`` gets one.

        Returns:
            The outcome; delivery problems never raise.

        Raises:
            InvalidInput: The email cannot be built, or has no sender or recipient.
            RuntimeError: The session is closed.
        """
        if self._closed:
            raise RuntimeError("this SMTP session is closed")
        if isinstance(email, OutgoingEmail):
            msg = build_message(email, domain=self._sender.domain or _domain_of(email.from_address))
        else:
            msg = email
            if msg["Message-ID"] is None:
                msg["Message-ID"] = make_msgid(domain=self._sender.domain)
        message_id = str(msg["Message-ID"]).strip()
        envelope = _envelope(msg, self._sender.envelope_from)
        if self._connect_failure is not None:
            return _replace_id(self._connect_failure, message_id)
        for attempt in (1, 2):
            fresh = self._conn is None
            if self._conn is None:
                try:
                    self._conn = self._sender.connect()
                    self.connections_opened += 1
                except (smtplib.SMTPException, OSError) as exc:
                    self._connect_failure = result_for_error(exc, message_id, stage="connect")
                    return self._connect_failure
            try:
                return self._transact(self._conn, envelope, message_id)
            except _Dropped as dropped:
                self._discard()
                if fresh or attempt == 2:
                    return result_for_error(dropped.cause, message_id, stage="mail")
            except (smtplib.SMTPException, OSError) as exc:
                self._discard()
                return result_for_error(exc, message_id, stage="transaction")
        raise AssertionError("unreachable")  # pragma: no cover

    def _transact(self, conn: smtplib.SMTP, env: _Envelope, message_id: str) -> SendResult:
        """One MAIL/RCPT/DATA transaction; leaves the connection reusable or discarded."""
        try:
            options = ["BODY=8BITMIME"] if env.eight_bit and conn.has_extn("8bitmime") else []
            code, reply = conn.mail(env.sender, options)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(exc) from exc
        if code == 421:
            raise _Dropped(smtplib.SMTPSenderRefused(code, reply, env.sender))
        if code != 250:
            self._reset(conn)
            return result_for_error(smtplib.SMTPSenderRefused(code, reply, env.sender), message_id)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in env.recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
            if code == 421:  # the server is closing the connection
                self._discard()
                return result_for_error(smtplib.SMTPRecipientsRefused(refused), message_id)
        if len(refused) == len(env.recipients):
            self._reset(conn)
            return result_for_error(smtplib.SMTPRecipientsRefused(refused), message_id)
        try:
            code, reply = conn.data(env.data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            if exc.smtp_code == 421:
                self._discard()
            else:
                self._reset(conn)
            return result_for_error(exc, message_id)
        if code == 421:
            self._discard()
        if code != 250:
            return result_for_error(smtplib.SMTPDataError(code, reply), message_id)
        detail = f"{code} {_text(reply)}"
        if refused:
            detail += "; refused: " + "; ".join(
                f"{r} {c} {_text(t)}" for r, (c, t) in refused.items()
            )
        return SendResult("sent", message_id, False, code, detail)

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._discard()

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def result_for_error(exc: BaseException, message_id: str, *, stage: str = "smtp") -> SendResult:
    """Map an ``smtplib`` exception or ``OSError`` to a :class:`SendResult`.

    Args:
        exc: What ``smtplib`` raised (or what :class:`SmtpSession` built from a reply).
        message_id: The message's ``Message-ID``.
        stage: Where it happened, for ``detail`` when the exception does not say.

    Returns:
        ``bounced`` for 5xx on RCPT (every recipient, per-recipient codes honoured) or DATA;
        ``failed`` and transient for 4xx and connection problems; ``failed`` otherwise.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [-1]
        detail = "rcpt: " + "; ".join(f"{r} {c} {_text(t)}" for r, (c, t) in exc.recipients.items())
        code = next((c for c in codes if 400 <= c < 500), codes[0])
        return _by_code(message_id, code, detail, bounce=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        detail = f"mail from {exc.sender}: {exc.smtp_code} {_text(exc.smtp_error)}"
        return _by_code(message_id, exc.smtp_code, detail, bounce=False)
    if isinstance(exc, smtplib.SMTPDataError):
        detail = f"data: {exc.smtp_code} {_text(exc.smtp_error)}"
        return _by_code(message_id, exc.smtp_code, detail, bounce=True)
    if isinstance(exc, smtplib.SMTPResponseException):  # greeting, EHLO, STARTTLS, AUTH
        detail = f"{stage}: {exc.smtp_code} {_text(exc.smtp_error)}"
        return _by_code(message_id, exc.smtp_code, detail, bounce=False)
    detail = f"{stage}: {type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError | smtplib.SMTPNotSupportedError):
        return SendResult(
            "failed", message_id, False, None, detail
        )  # a setup problem; retry won't help
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return SendResult("failed", message_id, True, None, detail)
    return SendResult("failed", message_id, False, None, detail)


def _by_code(message_id: str, code: int, detail: str, *, bounce: bool) -> SendResult:
    if 200 <= code < 300:
        return SendResult("sent", message_id, False, code, detail)
    if 500 <= code < 600:
        return SendResult("bounced" if bounce else "failed", message_id, False, code, detail)
    return SendResult("failed", message_id, True, code if code > 0 else None, detail)


def _replace_id(result: SendResult, message_id: str) -> SendResult:
    return SendResult(result.status, message_id, result.transient, result.smtp_code, result.detail)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().rstrip(">") or "localhost"


def _envelope(msg: EmailMessage, envelope_from: str | None) -> _Envelope:
    """Envelope sender and recipients from the headers; the wire bytes without ``Bcc``."""
    senders = getaddresses([str(v) for v in msg.get_all("Sender", []) or msg.get_all("From", [])])
    sender = envelope_from or (senders[0][1] if senders else "")
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])]
    recipients = list(dict.fromkeys(addr for _, addr in getaddresses(fields) if addr))
    if not sender or not recipients:
        raise InvalidInput(
            "a message needs a sender and at least one recipient", field="to_address"
        )
    for addr in (sender, *recipients):
        if not addr.isascii():  # would need SMTPUTF8; build_message IDNA-encodes domains instead
            raise InvalidEmail(f"address {addr!r} is not ASCII", field="to_address", value=addr)
    wire = msg
    if msg["Bcc"] is not None:
        wire = copy.copy(msg)
        del wire["Bcc"]
    data = wire.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    return _Envelope(sender, recipients, data, eight_bit=not data.isascii())
