"""The IMAP poller against a real Dovecot on loopback (skipped when Dovecot is not installed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cadence.clock import ManualClock
from cadence.inbound.cli import SecurityChoice, inbound_app, run_imap_command
from cadence.inbound.imap import MailboxError, PollResult, poll_mailbox
from cadence.service import enrollments
from cadence.service.context import Cadence, Scope
from cadence.store.models import InboundMailbox
from tests import factories as f
from tests.channels.conftest import SmtpServer
from tests.inbound.conftest import (
    IMAP_PASSWORD,
    IMAP_USER,
    ImapServer,
    plain_message,
    reply_to,
)

Tick = Callable[..., Any]


@pytest.fixture
def scope(app: Cadence, clock: ManualClock) -> Scope:
    clock.set(datetime(2026, 1, 5, 15, 0, tzinfo=UTC))
    return f.workspace(app)


def _poll(
    app: Cadence, scope: Scope, server: ImapServer, mailbox: str, **kwargs: Any
) -> PollResult:
    options: dict[str, Any] = {"port": server.ssl_port, "ssl_context": server.context}
    options.update(kwargs)
    return poll_mailbox(
        app,
        scope.workspace_id,
        host=server.host,
        user=IMAP_USER,
        password=IMAP_PASSWORD,
        mailbox=mailbox,
        **options,
    )


def _state(app: Cadence) -> InboundMailbox:
    with app.db.session() as s:
        return s.exec(select(InboundMailbox)).one()


def test_poller_reads_new_messages_once_then_only_newer_ones(
    app: Cadence, scope: Scope, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    imap_server.append(mailbox, plain_message("one"), plain_message("two"))

    first = _poll(app, scope, imap_server, mailbox)
    idle = _poll(app, scope, imap_server, mailbox)
    imap_server.append(mailbox, plain_message("three"))
    later = _poll(app, scope, imap_server, mailbox)

    assert (first.fetched, first.reset, first.last_uid) == (2, True, 2)
    assert (idle.fetched, idle.reset, idle.last_uid) == (0, False, 2)
    assert (later.fetched, later.reset, later.last_uid) == (1, False, 3)
    assert [r.action for r in first.results + later.results] == ["unmatched"] * 3
    state = _state(app)
    assert (state.mailbox, state.last_uid, state.uidvalidity) == (mailbox, 3, first.uidvalidity)
    conn = imap_server.connect()
    conn.select(mailbox, readonly=True)
    assert conn.uid("SEARCH", "UNSEEN")[1][0].split() == [b"1", b"2", b"3"]  # still unread
    conn.logout()


def test_poller_starts_over_when_the_uidvalidity_changes(
    app: Cadence, scope: Scope, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    kept = plain_message("kept")
    imap_server.append(mailbox, kept, plain_message("gone"))
    before = _poll(app, scope, imap_server, mailbox)
    imap_server.recreate(mailbox)  # the server rebuilt the mailbox: UIDs start again
    imap_server.append(mailbox, kept, plain_message("new"))

    after = _poll(app, scope, imap_server, mailbox)

    assert after.uidvalidity != before.uidvalidity
    assert (after.reset, after.fetched, after.last_uid) == (True, 2, 2)
    assert [r.action for r in after.results] == ["duplicate", "unmatched"]
    assert _state(app).uidvalidity == after.uidvalidity


def test_reply_read_over_starttls_completes_the_enrollment(
    app: Cadence, scope: Scope, imap_server: ImapServer, tick: Tick, smtp: SmtpServer
) -> None:
    seq = f.sequence(scope)
    e = f.enroll(scope, f.contact(scope).id, seq.id)
    tick()
    sent = smtp.handler.deliveries[-1].message()
    mailbox = imap_server.new_mailbox()
    imap_server.append(mailbox, reply_to(sent))

    result = _poll(app, scope, imap_server, mailbox, port=imap_server.port, security="starttls")

    assert [(r.kind, r.action, r.enrollment_id) for r in result.results] == [
        ("reply", "replied", e.id)
    ]
    assert enrollments.get_enrollment(scope, e.id).status == "replied"


def test_wrong_password_or_unreachable_server_is_a_mailbox_error(
    app: Cadence, scope: Scope, imap_server: ImapServer
) -> None:
    with pytest.raises(MailboxError, match="mailbox"):
        poll_mailbox(
            app,
            scope.workspace_id,
            host=imap_server.host,
            port=imap_server.ssl_port,
            ssl_context=imap_server.context,
            user=IMAP_USER,
            password="wrong",
        )
    with pytest.raises(MailboxError, match="cannot connect"):
        _poll(app, scope, imap_server, "INBOX", port=1, security="plain")


def test_untrusted_certificate_is_refused(
    app: Cadence, scope: Scope, imap_server: ImapServer
) -> None:
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        _poll(app, scope, imap_server, "INBOX", ssl_context=None)


def test_cli_polls_with_the_password_from_the_environment(
    app: Cadence, scope: Scope, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    imap_server.append(mailbox, plain_message("via the command line"))
    args = ["imap", "--host", imap_server.host, "--port", str(imap_server.ssl_port)]
    args += ["--user", IMAP_USER, "--password-env", "IMAP_PW", "--mailbox", mailbox]
    args += ["--workspace", str(scope.workspace_id), "--ca-file", str(imap_server.ca_file)]
    args += ["--database-url", app.db.url]

    missing = CliRunner().invoke(inbound_app, args, env={"IMAP_PW": ""})
    ok = CliRunner().invoke(inbound_app, args, env={"IMAP_PW": IMAP_PASSWORD})

    assert missing.exit_code == 2 and "IMAP_PW is not set" in missing.output
    assert ok.exit_code == 0, ok.output
    assert f"{mailbox}: 1 new (read from the start) (1 unmatched), last UID 1" in ok.output


def test_loop_keeps_polling_through_a_server_outage(app: Cadence, scope: Scope) -> None:
    lines: list[str] = []

    total = run_imap_command(
        host="127.0.0.1",
        port=1,
        user=IMAP_USER,
        password=IMAP_PASSWORD,
        workspace_id=scope.workspace_id,
        security=SecurityChoice.PLAIN,
        loop_seconds=0.01,
        max_polls=2,
        database_url=app.db.url,
        echo=lines.append,
    )

    assert total == 0 and len(lines) == 2 and all("cannot connect" in line for line in lines)
