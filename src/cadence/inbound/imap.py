"""Read a rep's mailbox over IMAP and ingest what came back (replies, bounces, auto-replies...).

:func:`poll_mailbox` logs in (IMAP over TLS, STARTTLS, or plain on a trusted network), selects the
mailbox read-only, fetches the messages whose UID is above the last one read, hands each to
:func:`cadence.service.inbound.ingest_inbound` and remembers how far it got in
``crm_inbound_mailboxes``. UIDs only mean something under one UIDVALIDITY: when the server
changes it (the mailbox was rebuilt), the poller starts again from the first message, which is
harmless because ingesting a message twice changes nothing. Messages are fetched with
``BODY.PEEK`` so they stay unread for the rep.

This module is an adapter at the edge (like the CLI): it is not imported by ``cadence.inbound``,
whose classifier stays pure.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from cadence.errors import (
    MailboxError,  # re-exported here
    NotFound,
)
from cadence.service.context import Cadence
from cadence.service.inbound import MAX_MESSAGE_BYTES, IngestAction, IngestResult, ingest_inbound
from cadence.store.models import InboundMailbox

__all__ = ["MailboxError", "PollResult", "Security", "poll_mailbox"]

Security = Literal["ssl", "starttls", "plain"]
DEFAULT_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "plain": 143}
FETCH_BATCH = 50  # messages per UID FETCH round trip; progress is saved after each batch
_UID = re.compile(rb"\bUID (\d+)")


class PollResult(BaseModel):
    """What one :func:`poll_mailbox` run read.

    Attributes:
        mailbox: The mailbox read.
        uidvalidity: Its UIDVALIDITY.
        reset: True when it was read from the start (first poll, or UIDVALIDITY changed).
        fetched: Messages fetched and ingested this time.
        last_uid: The highest UID read so far.
        actions: How many ingested messages led to each action.
        results: One ingest result per message, in UID order.
    """

    mailbox: str
    uidvalidity: int
    reset: bool
    fetched: int
    last_uid: int
    actions: dict[IngestAction, int] = Field(default_factory=dict)
    results: list[IngestResult] = Field(default_factory=list)


def poll_mailbox(
    app: Cadence,
    workspace_id: int,
    *,
    host: str,
    user: str,
    password: str,
    port: int | None = None,
    mailbox: str = "INBOX",
    security: Security = "ssl",
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> PollResult:
    """Ingest the messages that arrived in one IMAP mailbox since the last poll.

    Args:
        app: The Cadence runtime.
        workspace_id: The workspace whose touches the mailbox answers.
        host: IMAP server name.
        user: Login name.
        password: Password (an app password for Gmail or Microsoft 365).
        port: Server port; 993 for ``ssl``, 143 otherwise, by default.
        mailbox: Mailbox to read.
        security: ``ssl`` (implicit TLS), ``starttls``, or ``plain`` (no encryption; for a
            loopback or otherwise trusted network only).
        ssl_context: TLS settings; the system's default verification by default.
        timeout: Socket timeout in seconds.
        max_bytes: The most bytes fetched of one message (the classifier reads its head).

    Returns:
        What was read and what ingesting it did.

    Raises:
        MailboxError: the server could not be reached or refused us.
        NotFound: the workspace does not exist.
    """
    scope = app.scope(workspace_id, actor="imap")
    source = f"imap:{user}@{host}/{mailbox}"
    conn = _connect(host, port or DEFAULT_PORTS[security], security, ssl_context, timeout)
    try:
        uidvalidity = _login_and_select(conn, user, password, mailbox)
        state = _state(app, workspace_id, host, user, mailbox)
        reset = state.uidvalidity != uidvalidity
        last = 0 if reset else state.last_uid
        result = PollResult(
            mailbox=mailbox, uidvalidity=uidvalidity, reset=reset, fetched=0, last_uid=last
        )
        if reset:
            _save(app, state.id, uidvalidity, 0)
        try:
            for uid, raw in _fetch_new(conn, last, max_bytes):
                ingested = ingest_inbound(scope, raw, source=source)
                result.results.append(ingested)
                result.actions[ingested.action] = result.actions.get(ingested.action, 0) + 1
                result.fetched += 1
                result.last_uid = uid
                if result.fetched % FETCH_BATCH == 0:
                    _save(app, state.id, uidvalidity, uid)
        finally:
            if result.last_uid != last:
                _save(app, state.id, uidvalidity, result.last_uid)
        return result
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"mailbox {source}: {exc}") from exc
    finally:
        _logout(conn)


def _connect(
    host: str, port: int, security: Security, context: ssl.SSLContext | None, timeout: float
) -> imaplib.IMAP4:
    try:
        if security == "ssl":
            return imaplib.IMAP4_SSL(
                host, port, ssl_context=context or ssl.create_default_context(), timeout=timeout
            )
        conn = imaplib.IMAP4(host, port, timeout=timeout)
        if security == "starttls":
            try:
                conn.starttls(ssl_context=context or ssl.create_default_context())
            except BaseException:
                _logout(conn)
                raise
        return conn
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"cannot connect to {host}:{port} ({security}): {exc}") from exc


def _logout(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.logout()


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _login_and_select(conn: imaplib.IMAP4, user: str, password: str, mailbox: str) -> int:
    """Log in, select ``mailbox`` read-only and return its UIDVALIDITY."""
    conn.login(user, password)
    typ, data = conn.select(_quote(mailbox), readonly=True)
    if typ != "OK":
        raise MailboxError(f"cannot select mailbox {mailbox!r}: {data!r}")
    _, values = conn.response("UIDVALIDITY")
    try:
        return int(values[-1])
    except (TypeError, ValueError, IndexError):
        raise MailboxError(f"mailbox {mailbox!r} reports no UIDVALIDITY") from None


def _fetch_new(conn: imaplib.IMAP4, after: int, max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """``(uid, message)`` for every message with a UID above ``after``, in UID order."""
    typ, data = conn.uid("SEARCH", "UID", f"{after + 1}:*")
    if typ != "OK":
        raise MailboxError(f"UID SEARCH failed: {data!r}")
    # "n:*" always matches the highest UID, even below n: filter.
    uids = sorted({int(u) for u in (data[0] or b"").split() if int(u) > after})
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        wanted = ",".join(str(u) for u in batch)
        typ, items = conn.uid("FETCH", wanted, f"(UID BODY.PEEK[]<0.{max_bytes}>)")
        if typ != "OK":
            raise MailboxError(f"UID FETCH failed: {items!r}")
        bodies: dict[int, bytes] = {}
        for item in items:
            if isinstance(item, tuple) and len(item) == 2:
                found = _UID.search(item[0])
                if found:
                    bodies[int(found.group(1))] = item[1]
        for uid in batch:
            if uid in bodies:  # a message expunged meanwhile is simply gone
                yield uid, bodies[uid]


def _state(app: Cadence, workspace_id: int, host: str, user: str, mailbox: str) -> InboundMailbox:
    """The mailbox's row, created on first use."""
    where = (
        InboundMailbox.workspace_id == workspace_id,
        InboundMailbox.host == host,
        InboundMailbox.user == user,
        InboundMailbox.mailbox == mailbox,
    )
    for _ in range(2):
        with app.db.session() as session:
            row = session.exec(select(InboundMailbox).where(*where)).first()
        if row is not None:
            return row
        try:
            with app.db.transaction() as session:
                row = InboundMailbox(
                    workspace_id=workspace_id,
                    host=host,
                    user=user,
                    mailbox=mailbox,
                    updated_at=app.clock.now(),
                )
                session.add(row)
                session.flush()
                return row
        except IntegrityError:  # another poller created it first, or no such workspace
            continue
    raise NotFound("workspace", workspace_id)


def _save(app: Cadence, row_id: int | None, uidvalidity: int, last_uid: int) -> None:
    with app.db.transaction() as session:
        row = session.get(InboundMailbox, row_id)
        assert row is not None
        row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, last_uid, app.clock.now()
        session.add(row)
