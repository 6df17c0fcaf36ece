"""Executing one step, in the three phases that make it happen at most once.

1. ``prepare``: a short transaction with the enrollment's row locked re-checks its state (a stale,
   early or duplicate job is a no-op), advances a ``sent`` enrollment whose wait is over, asks the
   touch governor (over the limit: defer), renders, and reserves the touch row — then commits.
   LinkedIn and task steps finish here: they open a task and the enrollment waits on it.
2. The send, by the caller, with no lock or transaction held across network I/O.
3. ``record``: a second short transaction confirms the touch and schedules the next step, or
   records a bounce (the contact is stopped and suppressed) or a failure to retry.

A touch reserved and never recorded (the worker died mid-send) stays ``reserved``; the promoter's
sweeper turns it into a dead letter for a person to decide, so no step is ever sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from cadence.channels.base import OutgoingEmail, SendResult, ThreadRef
from cadence.channels.links import open_pixel_url, unsubscribe_url
from cadence.channels.message import message_id_for, reply_subject
from cadence.domain.specs import ChannelKind, SequenceStatus
from cadence.domain.states import EnrollmentEvent, EnrollmentStatus, transition
from cadence.domain.templates import render
from cadence.service import scheduling
from cadence.service.context import Cadence, Scope
from cadence.service.enrollments import record_event
from cadence.service.governor import Deferred, Duplicate, daily_limit, reserve_touch
from cadence.service.lifecycle import finish, move, underlying_status
from cadence.service.lookup import lock_enrollment
from cadence.service.outcomes import is_suppressed, stop_contact
from cadence.service.rendering import merge_context
from cadence.service.sequences import live_steps
from cadence.store.enums import EventType, TouchStatus
from cadence.store.models import (
    Contact,
    CrmSequence,
    CrmSequenceEnrollment,
    CrmSequenceStep,
    DeadLetter,
    EngagementEvent,
    Task,
    Touch,
    Workspace,
)

__all__ = ["Outcome", "Prepared", "StepRef", "dead_letter", "fail_step", "prepare", "record"]

_TASK_KIND = {
    ChannelKind.LINKEDIN: "LinkedIn",
    ChannelKind.TASK: "Task",
    ChannelKind.EMAIL: "Email",
}
# A job may run a little before its step's time (clock skew between the scheduler and us).
EARLY_TOLERANCE = timedelta(seconds=5)


@dataclass(frozen=True)
class StepRef:
    """What a job carries: which enrollment, at which step of which cycle."""

    enrollment_id: int
    step_id: int
    cycle: int

    def key(self) -> str:
        return f"{self.enrollment_id}-{self.step_id}-{self.cycle}"


class Outcome(StrEnum):
    STALE = "stale"  # the enrollment moved on; nothing to do
    INACTIVE = "inactive"  # the sequence is not active
    EARLY = "early"  # not due yet
    DUPLICATE = "duplicate"  # the step's touch exists already
    DEFERRED = "deferred"  # the daily limit; moved to the next allowed time
    SKIPPED = "skipped"  # the step's conditions skipped it
    TASK_OPENED = "task_opened"
    COMPLETED = "completed"
    STOPPED = "stopped"  # suppressed contact
    SENT = "sent"
    BOUNCED = "bounced"
    RETRY = "retry"  # failed transiently: try again
    DEAD = "dead"  # failed for good: a dead letter


@dataclass(frozen=True)
class Prepared:
    """A reserved email touch, ready to send."""

    ref: StepRef
    workspace_id: int
    touch_id: int
    email: OutgoingEmail


def _scope(app: Cadence, row: CrmSequenceEnrollment) -> Scope:
    return app.scope(row.workspace_id, actor="engine")


def _clear_mark(row: CrmSequenceEnrollment) -> None:
    row.job_id = None
    row.enqueued_at = None


def _advance(
    session: Session, scope: Scope, row: CrmSequenceEnrollment, seq: CrmSequence, now: datetime
) -> bool:
    """Move a ``sent`` enrollment to its next step; False when it completed instead."""
    assert seq.id is not None
    nxt = scheduling.step_after(live_steps(session, seq.id), row.current_step_id)
    if nxt is None:
        finish(
            row,
            EnrollmentEvent.ADVANCE,
            now=now,
            reason="completed",
            target=EnrollmentStatus.COMPLETED,
        )
        record_event(
            session, scope, EventType.COMPLETED, contact_id=row.contact_id, enrollment_id=row.id
        )
        return False
    row.status = transition(row.status, EnrollmentEvent.ADVANCE, EnrollmentStatus.PENDING)
    row.current_step_id = nxt.id
    row.current_step = nxt.position
    return True


def _engaged(session: Session, row: CrmSequenceEnrollment, types: list[EventType]) -> bool:
    return (
        session.exec(
            select(EngagementEvent.id).where(
                EngagementEvent.enrollment_id == row.id, col(EngagementEvent.type).in_(types)
            )
        ).first()
        is not None
    )


def _thread(session: Session, row: CrmSequenceEnrollment) -> ThreadRef | None:
    """The emails this enrollment sent in its cycle, to thread a subject-less follow-up under."""
    first = session.exec(
        select(Touch)
        .where(
            Touch.enrollment_id == row.id,
            Touch.cycle == row.cycle,
            Touch.channel == ChannelKind.EMAIL,
            Touch.status == TouchStatus.SENT,
            col(Touch.message_id).is_not(None),
        )
        .order_by(col(Touch.sent_at))
    ).all()
    if not first:
        return None
    refs = tuple(t.message_id for t in first if t.message_id)
    last = first[-1]
    assert last.message_id is not None
    return ThreadRef(
        message_id=last.message_id, references=refs[:-1], subject=first[0].subject or ""
    )


def prepare(app: Cadence, ref: StepRef) -> Prepared | Outcome:
    """Phase 1: check, reserve and render one step in a short transaction."""
    now = app.clock.now()
    with app.db.transaction() as session:
        row = lock_enrollment(session, ref.enrollment_id)
        if (
            row is None
            or row.cycle != ref.cycle
            or row.current_step_id != ref.step_id
            or row.status not in (EnrollmentStatus.PENDING, EnrollmentStatus.SENT)
        ):
            return Outcome.STALE
        scope = _scope(app, row)
        seq = session.get(CrmSequence, row.sequence_id)
        assert seq is not None and seq.workspace_id == row.workspace_id
        if seq.status is not SequenceStatus.ACTIVE:
            _clear_mark(row)
            session.add(row)
            return Outcome.INACTIVE
        if row.next_send_at is None or row.next_send_at > now + EARLY_TOLERANCE:
            _clear_mark(row)
            session.add(row)
            return Outcome.EARLY
        row.updated_at = now
        if row.status is EnrollmentStatus.SENT:
            if not _advance(session, scope, row, seq, now):
                _clear_mark(row)
                session.add(row)
                return Outcome.COMPLETED
            assert row.current_step_id is not None
            ref = StepRef(ref.enrollment_id, row.current_step_id, row.cycle)  # the step it runs now
        contact = session.get(Contact, row.contact_id)
        ws = session.get(Workspace, row.workspace_id)
        step = session.get(CrmSequenceStep, row.current_step_id)
        assert contact is not None and ws is not None and step is not None and step.id is not None
        zone = scheduling.zone_for(contact, seq, ws)
        if is_suppressed(session, scope, contact.email) and step.channel is ChannelKind.EMAIL:
            finish(row, EnrollmentEvent.REMOVE, now=now, reason="suppressed")
            session.add(row)
            return Outcome.STOPPED
        conditions = step.conditions or {}
        skip = (
            step.deleted_at is not None
            or (
                conditions.get("skip_if_opened")
                and _engaged(session, row, [EventType.OPENED, EventType.CLICKED])
            )
            or (conditions.get("skip_if_clicked") and _engaged(session, row, [EventType.CLICKED]))
        )
        if skip:
            row.status = transition(row.status, EnrollmentEvent.SEND)
            row.next_send_at = scheduling.next_due_after(session, app, row, seq, contact, zone, now)
            _clear_mark(row)
            session.add(row)
            return Outcome.SKIPPED
        assert row.id is not None
        reserved = reserve_touch(
            session, row, step, at=now, zone=zone, limit=daily_limit(scope, ws)
        )
        if isinstance(reserved, Duplicate):
            return Outcome.DUPLICATE
        if isinstance(reserved, Deferred):
            row.next_send_at = scheduling.open_at(reserved.until, seq, zone)
            _clear_mark(row)
            session.add(row)
            return Outcome.DEFERRED
        touch = session.get(Touch, reserved.touch_id)
        assert touch is not None
        ctx = merge_context(contact, ws)
        subject = render(step.subject, ctx) if step.subject else None
        body = render(step.body, ctx)
        html = render(step.html_body, ctx, html=True) if step.html_body else None
        missing = sorted({m for r in (subject, body, html) if r for m in r.missing})
        if missing:
            fail_step(
                session,
                row,
                touch,
                now,
                reason="render_failed",
                error=f"no value for {', '.join(missing)}",
            )
            return Outcome.DEAD
        if step.channel is not ChannelKind.EMAIL:
            title = (
                subject.text
                if subject
                else f"{_TASK_KIND[step.channel]}: {ctx.get('full_name') or contact.email}"
            )
            task = Task(
                workspace_id=row.workspace_id,
                enrollment_id=row.id,
                contact_id=row.contact_id,
                step_id=step.id,
                touch_id=touch.id,
                kind=step.channel,
                owner=seq.owner,
                title=title[:300],
                body=body.text,
                due_at=now,
            )
            session.add(task)
            touch.status, touch.subject, touch.body = TouchStatus.TASK_OPEN, title[:300], body.text
            session.add(touch)
            row.status = transition(row.status, EnrollmentEvent.SEND)
            row.next_send_at = None  # waits until the task is completed or skipped
            row.last_touched_at = now
            _clear_mark(row)
            session.add(row)
            return Outcome.TASK_OPENED
        thread = _thread(session, row) if not step.subject else None
        domain = (ws.sender_email or "cadence.invalid").rsplit("@", 1)[-1]
        touch_key = f"t{touch.id}-{ref.key()}"
        touch.message_id = message_id_for(touch_key, domain)
        touch.subject = (
            subject.text if subject else reply_subject(thread.subject if thread else "")
        )[:300]
        touch.body = body.text
        session.add(touch)
        assert contact.email is not None and contact.id is not None
        email = OutgoingEmail(
            touch_key=touch_key,
            from_address=ws.sender_email or f"no-reply@{domain}",
            from_name=ws.sender_name,
            to_address=contact.email,
            to_name=ctx.get("full_name"),
            subject=subject.text if subject else "",
            text_body=body.text,
            html_body=html.text if html else None,
            thread=thread,
            unsubscribe_url=unsubscribe_url(
                app.settings.public_base_url,
                app.settings.secret_key,
                workspace_id=row.workspace_id,
                contact_id=contact.id,
                touch_key=touch_key,
            ),
            postal_address=ws.postal_address,
            open_pixel_url=open_pixel_url(
                app.settings.public_base_url, app.settings.secret_key, touch_key=touch_key
            )
            if (seq.settings or {}).get("track_opens")
            else None,
        )
        return Prepared(
            ref=ref, workspace_id=row.workspace_id, touch_id=reserved.touch_id, email=email
        )


def fail_step(
    session: Session,
    row: CrmSequenceEnrollment,
    touch: Touch | None,
    now: datetime,
    *,
    reason: str,
    error: str,
    job_id: str | None = None,
    touch_status: TouchStatus = TouchStatus.FAILED,
) -> DeadLetter:
    if touch is not None:
        # An unconfirmed send stays "reserved": it may have gone out, so it still counts.
        touch.status = touch_status
        touch.error = error
        session.add(touch)
    if row.status is EnrollmentStatus.PENDING:
        row.status = transition(row.status, EnrollmentEvent.FAIL)
    _clear_mark(row)
    row.updated_at = now
    session.add(row)
    assert row.id is not None
    letter = DeadLetter(
        workspace_id=row.workspace_id,
        enrollment_id=row.id,
        step_id=row.current_step_id,
        touch_id=touch.id if touch else None,
        job_id=job_id,
        reason=reason,
        error=error,
        attempts=touch.attempts if touch else 0,
        created_at=now,
    )
    session.add(letter)
    return letter


def record(app: Cadence, prepared: Prepared, result: SendResult) -> Outcome:
    """Phase 3: record what the send did, and schedule what comes next."""
    now = app.clock.now()
    with app.db.transaction() as session:
        row = lock_enrollment(session, prepared.ref.enrollment_id)
        assert row is not None  # an enrollment with a reserved touch is never deleted
        touch = session.get(Touch, prepared.touch_id)
        assert touch is not None
        scope = _scope(app, row)
        touch.attempts += 1
        at_this_step = (
            row.current_step_id == prepared.ref.step_id and row.cycle == prepared.ref.cycle
        )
        if result.ok:
            touch.status, touch.sent_at, touch.error = TouchStatus.SENT, now, None
            session.add(touch)
            record_event(
                session,
                scope,
                EventType.SENT,
                contact_id=row.contact_id,
                enrollment_id=row.id,
                touch_id=touch.id,
                at=now,
                message_id=result.message_id,
            )
            if at_this_step and underlying_status(row) is EnrollmentStatus.PENDING:
                seq = session.get(CrmSequence, row.sequence_id)
                contact = session.get(Contact, row.contact_id)
                ws = session.get(Workspace, row.workspace_id)
                assert seq is not None
                move(row, EnrollmentEvent.SEND)  # paused mid-send: it resumes after this step
                zone = scheduling.zone_for(contact, seq, ws)
                row.next_send_at = scheduling.next_due_after(
                    session, app, row, seq, contact, zone, now
                )
                row.last_touched_at = now
                _clear_mark(row)
                row.updated_at = now
                session.add(row)
            return Outcome.SENT
        touch.error = f"{result.smtp_code or ''} {result.detail}".strip()[:2000]
        if result.status == "bounced":
            touch.status = TouchStatus.BOUNCED
            session.add(touch)
            contact = session.get(Contact, row.contact_id)
            assert contact is not None
            stop_contact(session, scope, contact, "bounce", source="smtp", detail=touch.error)
            return Outcome.BOUNCED
        touch.status = TouchStatus.FAILED  # no longer counts against the daily limit
        session.add(touch)
        if result.transient:
            return Outcome.RETRY
        if at_this_step:
            fail_step(session, row, touch, now, reason="permanent_error", error=touch.error)
        return Outcome.DEAD


def dead_letter(app: Cadence, ref: StepRef, *, reason: str, error: str, job_id: str | None) -> bool:
    """Retries ran out: the step becomes a dead letter and the enrollment ``failed``.

    Returns False when the enrollment had moved on (nothing to record).
    """
    now = app.clock.now()
    with app.db.transaction() as session:
        row = lock_enrollment(session, ref.enrollment_id)
        if row is None or row.current_step_id != ref.step_id or row.cycle != ref.cycle:
            return False
        if row.status is not EnrollmentStatus.PENDING:
            return False
        touch = session.exec(
            select(Touch).where(
                Touch.enrollment_id == row.id,
                Touch.step_id == ref.step_id,
                Touch.cycle == ref.cycle,
            )
        ).first()
        fail_step(session, row, touch, now, reason=reason, error=error, job_id=job_id)
        return True
