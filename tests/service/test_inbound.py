"""Ingesting mail that comes back, around emails the engine really sent (real SMTP server, real
Message-IDs), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlmodel import col, select

from cadence.clock import ManualClock
from cadence.inbound import InboundKind
from cadence.service import enrollments
from cadence.service.context import Cadence, Scope
from cadence.service.inbound import (
    EmptyMessage,
    IngestAction,
    ingest_inbound,
    ingest_raw_mime,
    resume_due_pauses,
)
from cadence.service.outcomes import is_suppressed
from cadence.store.enums import EventType
from cadence.store.models import Contact, CrmSequenceEnrollment, EngagementEvent, Touch
from tests import factories as f
from tests.channels.conftest import SmtpServer
from tests.engine import conftest as engine_fixtures
from tests.inbound.conftest import arf_for, auto_reply_to, dsn_for, plain_message, reply_to

# The engine's fixtures, to send real emails: a real SMTP server, Redis, one turn of the engine.
engine, redis, redis_url, smtp, tick = (
    engine_fixtures.engine,
    engine_fixtures.redis,
    engine_fixtures.redis_url,
    engine_fixtures.smtp,
    engine_fixtures.tick,
)

WINDOW = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
MONDAY = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # 10:00 in New York
Tick = Callable[..., Any]


def _steps(count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "channel": "email",
            "delay_hours": 0 if i == 0 else 72,
            "subject": "Quick question, {{first_name}}" if i == 0 else None,
            "body": f"Note {i + 1} for {{{{first_name}}}}",
        }
        for i in range(count)
    ]


def _send_first(
    scope: Scope, tick: Tick, smtp: SmtpServer, *, n: int = 1, name: str = "Outreach"
) -> tuple[int, EmailMessage]:
    """Enroll contact ``n`` in a new sequence and let the engine send its first email."""
    seq = f.sequence(scope, name, steps=_steps(), send_window=WINDOW)
    person = f.contact(scope, n)
    e = f.enroll(scope, person.id, seq.id, resolution="parallel")
    before = len(smtp.handler.deliveries)
    tick()
    assert len(smtp.handler.deliveries) == before + 1
    return e.id, smtp.handler.deliveries[-1].message()


def _row(app: Cadence, enrollment_id: int) -> CrmSequenceEnrollment:
    with app.db.session() as s:
        row = s.get(CrmSequenceEnrollment, enrollment_id)
        assert row is not None
        return row


def _events(app: Cadence, type_: EventType) -> list[EngagementEvent]:
    with app.db.session() as s:
        query = select(EngagementEvent).where(EngagementEvent.type == type_)
        return list(s.exec(query.order_by(col(EngagementEvent.id))))


def _touch(app: Cadence, message_id: str) -> Touch:
    with app.db.session() as s:
        touch = s.exec(select(Touch).where(Touch.message_id == message_id)).one()
        return touch


@pytest.fixture
def scope(app: Cadence, clock: ManualClock) -> Scope:
    clock.set(MONDAY)
    return f.workspace(app)


def test_reply_to_a_sent_email_completes_its_enrollment(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)

    result = ingest_inbound(scope, reply_to(sent))

    assert (result.kind, result.action, result.matched_by) == ("reply", "replied", "message_id")
    assert result.enrollment_id == enrollment_id
    assert result.touch_id == _touch(app, sent["Message-ID"]).id
    assert _row(app, enrollment_id).status == "replied"
    [kept] = _events(app, EventType.INBOUND)
    assert kept.id == result.event_id and kept.data["kind"] == "reply"
    assert kept.data["in_reply_to"] == sent["Message-ID"]
    assert kept.data["subject"].startswith("Re: Quick question")


def test_reply_without_threading_headers_completes_the_senders_latest_live_enrollment(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    older, _ = _send_first(scope, tick, smtp, name="First")
    clock.advance(hours=1)
    newer, sent = _send_first(scope, tick, smtp, name="Second")

    result = ingest_inbound(scope, reply_to(sent, threaded=False))

    assert (result.action, result.matched_by, result.enrollment_id) == ("replied", "address", newer)
    assert _row(app, newer).status == "replied"
    assert _row(app, older).status == "sent"


def test_copies_of_our_own_mail_are_never_taken_for_replies(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    own_copy = sent.as_bytes()  # e.g. the Sent folder, or a Bcc to the rep
    rep_follow_up = reply_to(sent, sender="Rita Rep <rita@acme.example.com>")

    results = [ingest_inbound(scope, own_copy), ingest_inbound(scope, rep_follow_up)]

    assert [(r.kind, r.action) for r in results] == [("other", "own_copy")] * 2
    assert _row(app, enrollment_id).status == "sent"
    assert [e.data["classified_as"] for e in _events(app, EventType.INBOUND)] == ["other", "reply"]
    assert _events(app, EventType.REPLIED) == []


def test_out_of_office_pauses_until_the_business_day_after_return_then_resumes(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    text = "I am out of the office and will be back on Monday 12 January."

    result = ingest_inbound(scope, auto_reply_to(sent, text, at=MONDAY + timedelta(minutes=5)))

    # Back Monday 12 January: mailed again Tuesday 13 January at 09:00 in New York (14:00 UTC).
    back = datetime(2026, 1, 13, 14, 0, tzinfo=UTC)
    assert (result.kind, result.action) == ("auto_reply", "paused")
    row = _row(app, enrollment_id)
    assert (row.status, row.paused_until, row.paused_from) == ("paused", back, "sent")
    assert [e.data["return_date"] for e in _events(app, EventType.AUTO_REPLIED)] == ["2026-01-12"]
    clock.set(back - timedelta(minutes=1))
    assert resume_due_pauses(app, clock.now()) == 0
    clock.set(back)
    assert resume_due_pauses(app, clock.now()) == 1
    row = _row(app, enrollment_id)
    assert (row.status, row.paused_until) == ("sent", None)
    assert row.next_send_at is not None and row.next_send_at >= back


def test_out_of_office_without_a_return_date_is_only_recorded(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    raw = auto_reply_to(sent, "I am out of the office with limited access to email.", at=MONDAY)

    result = ingest_inbound(scope, raw)

    assert (result.kind, result.action, result.enrollment_id) == (
        "auto_reply",
        "recorded",
        enrollment_id,
    )
    assert _row(app, enrollment_id).status == "sent"
    assert len(_events(app, EventType.AUTO_REPLIED)) == 1


def test_hard_bounce_suppresses_the_address_and_stops_all_the_contacts_enrollments(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    first, sent = _send_first(scope, tick, smtp, name="First")
    clock.advance(hours=1)
    second, _ = _send_first(scope, tick, smtp, name="Second")
    raw = dsn_for(sent, status="5.1.1", diagnostic="550 5.1.1 User unknown", at=clock.now())

    result = ingest_inbound(scope, raw)

    assert (result.kind, result.action, result.enrollment_id) == ("bounce", "stopped", first)
    assert {_row(app, first).status, _row(app, second).status} == {"bounced"}
    assert _touch(app, sent["Message-ID"]).status == "bounced"
    with app.db.session() as s:
        assert is_suppressed(s, scope, "person1@example.com")
        contact = s.get(Contact, result.contact_id)
        assert contact is not None and contact.email_status == "bounced"


def test_soft_bounce_sends_the_same_step_again_a_day_later(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    step_id = _row(app, enrollment_id).current_step_id
    raw = dsn_for(sent, status="4.2.2", diagnostic="452 4.2.2 Mailbox full", at=clock.now())

    result = ingest_inbound(scope, raw)

    assert (result.kind, result.action) == ("bounce", "retry_scheduled")
    row = _row(app, enrollment_id)
    assert (row.status, row.current_step_id) == ("pending", step_id)
    assert row.next_send_at == MONDAY + timedelta(hours=24)
    assert _touch(app, sent["Message-ID"]).status == "failed"
    assert len(_events(app, EventType.SOFT_BOUNCED)) == 1
    clock.advance(hours=24)
    tick()
    again = smtp.handler.deliveries[-1].message()
    assert len(smtp.handler.deliveries) == 2 and again["Message-ID"] == sent["Message-ID"]
    assert _row(app, enrollment_id).status == "sent"


def test_three_soft_bounces_in_a_row_count_as_a_hard_bounce(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    actions = []
    for _ in range(3):
        raw = dsn_for(sent, status="4.2.2", diagnostic="452 4.2.2 Mailbox full", at=clock.now())
        actions.append(ingest_inbound(scope, raw).action)
        clock.advance(hours=24)
        tick()

    assert actions == ["retry_scheduled", "retry_scheduled", "stopped"]
    assert len(smtp.handler.deliveries) == 3  # the first send and two retries, then no more
    assert _row(app, enrollment_id).status == "bounced"
    with app.db.session() as s:
        assert is_suppressed(s, scope, "person1@example.com")


def test_delayed_delivery_report_is_recorded_and_sends_nothing_again(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    raw = dsn_for(sent, status="4.4.7", diagnostic="", action="delayed", at=MONDAY)

    result = ingest_inbound(scope, raw)

    assert (result.kind, result.action) == ("bounce", "recorded")
    assert _row(app, enrollment_id).status == "sent"


def test_spam_complaint_stops_and_suppresses_like_an_unsubscribe(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)

    result = ingest_inbound(scope, arf_for(sent, at=MONDAY))

    assert (result.kind, result.action, result.enrollment_id) == (
        "complaint",
        "stopped",
        enrollment_id,
    )
    assert _row(app, enrollment_id).status == "unsubscribed"
    assert len(_events(app, EventType.COMPLAINED)) == 1
    with app.db.session() as s:
        assert is_suppressed(s, scope, "person1@example.com")


def test_mail_that_matches_nothing_is_recorded_unmatched_not_dropped(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    _, sent = _send_first(scope, tick, smtp)
    del sent["Message-ID"]
    sent["Message-ID"] = "<never-sent@acme.example.com>"
    stranger = reply_to(sent, sender="stranger@elsewhere.example.net")
    unknown = dsn_for(
        sent,
        status="5.1.1",
        diagnostic="550 5.1.1 User unknown",
        at=MONDAY,
        recipient="nobody@elsewhere.example.net",
    )

    results = [ingest_inbound(scope, stranger), ingest_inbound(scope, unknown)]

    assert [(r.kind, r.action, r.contact_id) for r in results] == [
        ("reply", "unmatched", None),
        ("bounce", "unmatched", None),
    ]
    kept = _events(app, EventType.INBOUND)
    assert [(e.contact_id, e.data["action"]) for e in kept] == [(None, "unmatched")] * 2
    assert kept[1].data["recipients"][0]["email"] == "nobody@elsewhere.example.net"


def test_empty_junk_and_huge_messages_are_kept_without_raising(app: Cadence, scope: Scope) -> None:
    junk = random.Random(5).randbytes(4096) + b"\x00\xff\xfe"
    body = b"A" * (50 * 1024 * 1024)
    huge = plain_message("A big attachment") + body

    results = [ingest_inbound(scope, raw) for raw in (b"", junk, huge)]
    capped = ingest_raw_mime(app, scope.workspace_id, plain_message("Capped") + body)

    assert [r.kind for r in results] == [InboundKind.OTHER] * 3
    assert {r.action for r in results} == {IngestAction.UNMATCHED}
    assert capped.kind == "other"
    sizes = [e.data["size"] for e in _events(app, EventType.INBOUND)]
    assert sizes == [0, len(junk), len(huge), 10 * 1024 * 1024]


def test_webhook_refuses_empty_input_with_a_typed_error(app: Cadence, scope: Scope) -> None:
    for raw in (b"", b" \r\n\t"):
        with pytest.raises(EmptyMessage) as caught:
            ingest_raw_mime(app, scope.workspace_id, raw)
        assert caught.value.to_dict()["error"] == "empty_message"
    assert _events(app, EventType.INBOUND) == []


def test_ingesting_the_same_message_again_changes_nothing(
    app: Cadence, scope: Scope, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    bounced, sent = _send_first(scope, tick, smtp, n=1, name="First")
    away, away_sent = _send_first(scope, tick, smtp, n=2, name="Second")
    soft = dsn_for(sent, status="4.2.2", diagnostic="452 4.2.2 Mailbox full", at=MONDAY)
    ooo = auto_reply_to(away_sent, "Back on Monday 12 January.", at=MONDAY)
    first = [ingest_inbound(scope, raw) for raw in (soft, ooo)]
    clock.advance(minutes=5)

    again = [ingest_inbound(scope, raw) for raw in (soft, ooo)]

    assert [r.action for r in first] == ["retry_scheduled", "paused"]
    assert [r.action for r in again] == ["duplicate", "duplicate"]
    assert [r.event_id for r in again] == [r.event_id for r in first]
    assert [e.enrollment_id for e in _events(app, EventType.SOFT_BOUNCED)] == [bounced]
    assert len(_events(app, EventType.PAUSED)) == 1
    assert len(_events(app, EventType.INBOUND)) == 2
    assert _row(app, away).status == "paused"


def test_a_message_about_another_workspaces_touch_does_nothing_here(
    app: Cadence, scope: Scope, tick: Tick, smtp: SmtpServer
) -> None:
    enrollment_id, sent = _send_first(scope, tick, smtp)
    other = f.workspace(app, "Other team", sender_email="otto@other.example.com")
    hard = dsn_for(sent, status="5.1.1", diagnostic="550 5.1.1 User unknown", at=MONDAY)

    results = [ingest_inbound(other, reply_to(sent)), ingest_inbound(other, hard)]

    assert [r.action for r in results] == ["unmatched", "unmatched"]
    assert _row(app, enrollment_id).status == "sent"
    with app.db.session() as s:
        assert not is_suppressed(s, scope, "person1@example.com")
    assert enrollments.get_enrollment(scope, enrollment_id).status == "sent"
    assert {e.workspace_id for e in _events(app, EventType.INBOUND)} == {other.workspace_id}
