"""The engine end to end in one process: real Redis (or fakeredis when none is configured), a real
SMTP server, SQLite and PostgreSQL, and time moved by the injected clock."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq.registry import FailedJobRegistry
from sqlmodel import col, select

from cadence.channels.email import SmtpSender
from cadence.clock import ManualClock
from cadence.engine import runtime
from cadence.engine.jobs import queue_for
from cadence.engine.promoter import promote
from cadence.service import enrollments, outcomes, sequences, tasks
from cadence.service.context import Cadence, Scope
from cadence.service.deadletters import list_dead_letters, resolve_dead_letter
from cadence.service.delivery import Prepared, StepRef, prepare
from cadence.service.queue import step_counts
from cadence.store.models import CrmSequenceEnrollment, Touch
from tests import factories as f
from tests.channels.conftest import SmtpServer
from tests.engine.conftest import drain

WINDOW = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
Tick = Callable[..., Any]


def _touches(app: Cadence, **where: Any) -> list[Touch]:
    with app.db.session() as s:
        query = select(Touch).order_by(col(Touch.id))
        for key, value in where.items():
            query = query.where(getattr(Touch, key) == value)
        return list(s.exec(query))


def _recipients(smtp: SmtpServer) -> list[str]:
    return [r for d in smtp.handler.deliveries for r in d.rcpt_tos]


def _emails(scope: Scope, *bodies: tuple[int, str | None]) -> dict[str, Any]:
    return {
        "steps": [
            {
                "channel": "email",
                "delay_hours": delay,
                "subject": subject,
                "body": f"Body {i} for {{{{first_name}}}}",
            }
            for i, (delay, subject) in enumerate(bodies, start=1)
        ],
        "send_window": WINDOW,
    }


def test_a_step_due_at_nine_local_goes_out_then_once(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, **_emails(scope, (0, "Hello {{first_name}}"), (48, None)))
    person = f.contact(scope)  # New York; the clock says 04:00 there
    e = f.enroll(scope, person.id, seq.id)
    tick()
    assert smtp.handler.deliveries == []
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 09:00 EST
    tick()
    tick()
    assert _recipients(smtp) == [person.email]
    msg = smtp.handler.deliveries[0].message()
    assert msg["Subject"] == "Hello Pat1" and msg["To"].addresses[0].addr_spec == person.email
    (touch,) = _touches(app)
    assert touch.status == "sent" and touch.message_id == msg["Message-ID"]
    row = enrollments.get_enrollment(scope, e.id)
    assert row.status == "sent" and row.next_send_at == datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


def test_follow_up_threads_under_the_first_email_and_completes(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(
        scope,
        **_emails(scope, (0, "Quick question"), (24, None)),
        settings={"final_wait_hours": 48},
    )
    person = f.contact(scope, timezone="UTC")
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    e = f.enroll(scope, person.id, seq.id)
    tick()
    clock.advance(hours=24)
    tick()
    first, second = (d.message() for d in smtp.handler.deliveries)
    assert second["Subject"] == "Re: Quick question"
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in second["References"]
    assert second["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    clock.advance(hours=47)
    tick()
    assert enrollments.get_enrollment(scope, e.id).status == "sent"
    clock.advance(hours=1)
    tick()
    done = enrollments.get_enrollment(scope, e.id)
    assert done.status == "completed" and done.next_send_at is None
    assert len(smtp.handler.deliveries) == 2


def test_linkedin_step_opens_a_task_and_the_enrollment_waits_for_it(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(
        scope,
        steps=[
            {"channel": "linkedin", "body": "Connect with {{first_name}}"},
            {"channel": "email", "delay_hours": 24, "subject": "After LinkedIn", "body": "Hi"},
        ],
    )
    person = f.contact(scope, timezone="UTC")
    e = f.enroll(scope, person.id, seq.id)
    tick()
    (task,) = tasks.list_tasks(scope)
    assert task.kind == "linkedin" and task.body == "Connect with Pat1" and task.owner == "rita"
    clock.advance(days=5)
    tick()
    assert smtp.handler.deliveries == []  # still waiting on the task
    tasks.complete_task(scope, task.id)
    assert enrollments.get_enrollment(scope, e.id).next_send_at == clock.now() + timedelta(hours=24)
    clock.advance(hours=24)
    tick()
    assert _recipients(smtp) == [person.email]


def test_paused_enrollments_queued_job_does_nothing_and_resume_sends_from_now(
    app: Cadence, clock: ManualClock, engine: runtime.EngineRuntime, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    e = f.enroll(scope, f.contact(scope, timezone="UTC").id, seq.id)
    promote(engine, horizon=timedelta(0))
    enrollments.pause_enrollment(scope, e.id)
    drain(engine)
    assert smtp.handler.deliveries == []
    clock.advance(hours=3)
    assert enrollments.resume_enrollment(scope, e.id).next_send_at == clock.now()
    tick()
    assert len(smtp.handler.deliveries) == 1


def test_a_paused_sequence_sends_nothing(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    f.enroll(scope, f.contact(scope).id, seq.id)
    sequences.pause_sequence(scope, seq.id)
    tick()
    assert smtp.handler.deliveries == []
    sequences.activate_sequence(scope, seq.id)
    tick()
    assert len(smtp.handler.deliveries) == 1


def test_the_daily_limit_defers_the_third_touch_to_the_next_local_morning(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)  # New York
    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # Monday 10:00 EST
    ids = [
        f.enroll(
            scope,
            person.id,
            f.sequence(
                scope,
                n,
                steps=[{"channel": "email", "subject": f"From {n}", "body": "B"}],
                send_window=WINDOW,
            ).id,
            resolution="parallel",
        ).id
        for n in "ABC"
    ]
    tick()
    assert len(smtp.handler.deliveries) == 2
    deferred = [
        enrollments.get_enrollment(scope, i)
        for i in ids
        if enrollments.get_enrollment(scope, i).status == "pending"
    ]
    assert len(deferred) == 1 and deferred[0].next_send_at == datetime(
        2026, 3, 3, 14, 0, tzinfo=UTC
    )
    clock.set(datetime(2026, 3, 3, 14, 0, tzinfo=UTC))
    tick()
    assert sorted(_recipients(smtp)) == [person.email] * 3


def test_reply_completes_the_enrollment_and_nothing_more_is_sent(
    app: Cadence, clock: ManualClock, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(
        scope,
        steps=[
            {"channel": "email", "subject": "S", "body": "B"},
            {"channel": "email", "delay_hours": 24, "body": "Again"},
        ],
    )
    e = f.enroll(scope, f.contact(scope, timezone="UTC").id, seq.id)
    tick()
    outcomes.record_reply(scope, e.id)
    clock.advance(days=3)
    tick()
    assert len(smtp.handler.deliveries) == 1


def test_421_then_accepted_is_retried_and_sent_once(
    app: Cadence, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    person = f.contact(scope, timezone="UTC")
    e = f.enroll(scope, person.id, seq.id)
    smtp.handler.rcpt_replies.append("421 4.7.0 try again later")
    tick()
    assert _recipients(smtp) == [person.email]
    (touch,) = _touches(app)
    assert touch.status == "sent" and touch.attempts == 2
    assert enrollments.get_enrollment(scope, e.id).status == "sent"


def test_550_bounces_suppresses_and_stops_every_enrollment(
    app: Cadence, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    person = f.contact(scope, timezone="UTC")
    a = f.sequence(scope, "A", steps=[{"channel": "email", "subject": "S", "body": "B"}])
    b = f.sequence(
        scope, "B", steps=[{"channel": "email", "subject": "S", "body": "B"}], activate=False
    )
    ea = f.enroll(scope, person.id, a.id)
    eb = f.enroll(scope, person.id, b.id, resolution="parallel")
    assert person.email is not None
    smtp.handler.rcpt_reply_for[person.email] = "550 5.1.1 no such user"
    tick()
    assert smtp.handler.deliveries == []
    assert [t.status for t in _touches(app)] == ["bounced"]
    assert enrollments.get_enrollment(scope, ea.id).status == "bounced"
    assert enrollments.get_enrollment(scope, eb.id).status == "bounced"
    from cadence.service.contacts import get_contact

    assert get_contact(scope, person.id).email_status == "bounced"


def test_server_down_past_all_retries_is_a_dead_letter_and_nothing_is_resent(
    app: Cadence,
    clock: ManualClock,
    engine: runtime.EngineRuntime,
    tick: Tick,
    smtp: SmtpServer,
    redis: Redis,
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    e = f.enroll(scope, f.contact(scope, timezone="UTC").id, seq.id)
    with socket.socket() as closed:  # bound, not listening: every connection is refused
        closed.bind(("127.0.0.1", 0))
        engine.email = SmtpSender(f"smtp://127.0.0.1:{closed.getsockname()[1]}", timeout=2)
        tick()
        (letter,) = list_dead_letters(scope)
        assert letter.reason == "retries_exhausted" and letter.enrollment_id == e.id
        assert enrollments.get_enrollment(scope, e.id).status == "failed"
        assert letter.job_id in FailedJobRegistry(queue=queue_for(redis)).get_job_ids()
        (touch,) = _touches(app)
        assert touch.status == "failed" and touch.attempts == 4  # the batch, then three retries
        assert step_counts(scope).dead_letters == 1
        clock.advance(days=1)
        tick()
    # The server is back; nothing went out by itself; a person retries; it goes out once.
    engine.email = SmtpSender(smtp.url(), timeout=5)
    tick()
    assert smtp.handler.deliveries == []
    resolve_dead_letter(scope, letter.id, "retry")
    tick()
    tick()
    assert len(smtp.handler.deliveries) == 1
    assert enrollments.get_enrollment(scope, e.id).status == "sent"
    assert list_dead_letters(scope) == []


def test_a_send_never_confirmed_becomes_a_dead_letter_and_is_not_resent(
    app: Cadence, clock: ManualClock, engine: runtime.EngineRuntime, tick: Tick, smtp: SmtpServer
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    e = f.enroll(scope, f.contact(scope, timezone="UTC").id, seq.id)
    with app.db.session() as s:
        row = s.get(CrmSequenceEnrollment, e.id)
        assert row is not None and row.current_step_id is not None
    prepared = prepare(app, StepRef(e.id, row.current_step_id, 1))
    assert isinstance(prepared, Prepared)  # reserved... and the worker dies before recording
    tick()
    assert smtp.handler.deliveries == []  # a duplicate job does nothing
    clock.advance(seconds=app.settings.unconfirmed_timeout_seconds + 1)
    stats = tick()
    assert stats.dead_lettered == 1
    (letter,) = list_dead_letters(scope)
    assert letter.reason == "unconfirmed_send"
    assert enrollments.get_enrollment(scope, e.id).status == "failed"
    clock.advance(days=2)
    tick()
    assert smtp.handler.deliveries == []


def test_losing_redis_loses_nothing_each_step_is_sent_exactly_once(
    app: Cadence, engine: runtime.EngineRuntime, tick: Tick, smtp: SmtpServer, redis: Redis
) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    people = [f.contact(scope, n, timezone="UTC") for n in range(1, 13)]
    for p in people:
        f.enroll(scope, p.id, seq.id)
    stats = promote(engine, horizon=timedelta(0))
    assert stats.promoted == 12 and step_counts(scope).queued == 12
    redis.flushdb()  # Redis restarted empty
    again = tick()
    assert again.requeued == 12
    tick()
    assert sorted(_recipients(smtp)) == sorted(p.email for p in people)


def test_the_promoter_runs_one_at_a_time(
    app: Cadence, engine: runtime.EngineRuntime, redis: Redis
) -> None:
    from cadence.engine.connection import RedisLock
    from cadence.engine.promoter import LOCK_NAME

    held = RedisLock(redis, LOCK_NAME, ttl_seconds=30)
    assert held.acquire()
    assert promote(engine).locked_out
    held.release()
    assert not promote(engine).locked_out


def test_batches_share_one_smtp_connection(app: Cadence, tick: Tick, smtp: SmtpServer) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    for n in range(1, 21):
        f.enroll(scope, f.contact(scope, n, timezone="UTC").id, seq.id)
    tick()
    assert len(smtp.handler.deliveries) == 20 and smtp.connections == 1
