"""Why has this step not gone out yet? An answer in data and in a sentence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import select

from cadence.domain.schedule import Delay, due_at, local_day_bounds
from cadence.domain.specs import SequenceStatus
from cadence.domain.states import TERMINAL_STATES, EnrollmentStatus
from cadence.domain.templates import render
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.enrollments import load_enrollment
from cadence.service.governor import daily_limit, touches_on_day
from cadence.service.outcomes import is_suppressed
from cadence.service.rendering import merge_context
from cadence.service.sequences import load_sequence
from cadence.store.enums import TaskStatus
from cadence.store.models import Contact, CrmSequenceStep, Task, Workspace

__all__ = ["NotSentReason", "WhyNotSent", "why_not_sent"]


class NotSentReason(StrEnum):
    FINISHED = "finished"
    NOT_STARTED = "not_started"  # enrolled in a sequence that is not active
    SEQUENCE_PAUSED = "sequence_paused"
    PAUSED = "paused"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    TASK_OPEN = "task_open"
    MISSING_FIELD = "missing_field"
    DAILY_LIMIT = "daily_limit"
    OUTSIDE_SEND_WINDOW = "outside_send_window"
    WAITING_FOR_DELAY = "waiting_for_delay"
    DUE = "due"  # due now; a worker will send it


class WhyNotSent(BaseModel):
    model_config = ConfigDict(frozen=True)

    enrollment_id: int
    reason: NotSentReason
    message: str
    facts: dict[str, Any]


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "-"


def why_not_sent(scope: Scope, enrollment_id: int) -> WhyNotSent:
    """Explain where an enrollment's current step stands.

    Raises:
        NotFound: the enrollment is not in this workspace.
    """
    now = scope.now()
    with scope.db.session() as session:
        row = load_enrollment(session, scope, enrollment_id)
        seq = load_sequence(session, scope, row.sequence_id)
        contact = session.get(Contact, row.contact_id)
        ws = session.get(Workspace, scope.workspace_id)
        step = session.get(CrmSequenceStep, row.current_step_id) if row.current_step_id else None
        assert contact is not None and ws is not None

        def answer(reason: NotSentReason, message: str, **facts: Any) -> WhyNotSent:
            base = {
                "status": row.status.value,
                "next_send_at": row.next_send_at,
                "current_step": row.current_step + 1,
            }
            return WhyNotSent(
                enrollment_id=enrollment_id, reason=reason, message=message, facts={**base, **facts}
            )

        if row.status in TERMINAL_STATES:
            return answer(
                NotSentReason.FINISHED,
                f"The enrollment has finished ({row.status.value}"
                + (
                    f": {row.stop_reason}"
                    if row.stop_reason not in (None, row.status.value)
                    else ""
                )
                + ").",
            )
        if row.status is EnrollmentStatus.PAUSED:
            until = f" until {_when(row.paused_until)}" if row.paused_until else ""
            return answer(
                NotSentReason.PAUSED,
                f"The enrollment is paused{until}.",
                paused_until=row.paused_until,
            )
        if seq.status is not SequenceStatus.ACTIVE:
            reason = (
                NotSentReason.NOT_STARTED
                if row.status is EnrollmentStatus.CREATED
                else (NotSentReason.SEQUENCE_PAUSED)
            )
            return answer(
                reason,
                f"The sequence '{seq.name}' is {seq.status.value}, not active.",
                sequence_status=seq.status.value,
            )
        if row.status is EnrollmentStatus.FAILED:
            return answer(
                NotSentReason.FAILED,
                "The step failed after its retries and waits in "
                "the dead letters for a person to retry it.",
            )
        if is_suppressed(session, scope, contact.email):
            return answer(NotSentReason.SUPPRESSED, f"{contact.email} is suppressed.")
        if row.status is EnrollmentStatus.SENT and step is not None:
            task = session.exec(
                select(Task).where(
                    Task.enrollment_id == row.id,
                    Task.step_id == step.id,
                    Task.status == TaskStatus.OPEN,
                )
            ).first()
            if task is not None:
                return answer(
                    NotSentReason.TASK_OPEN,
                    f"Waiting for the {task.kind.value} task "
                    f"'{task.title}' to be completed or skipped.",
                    task_id=task.id,
                )
            return answer(
                NotSentReason.WAITING_FOR_DELAY,
                "The step went out; the next one waits "
                f"for its delay, until {_when(row.next_send_at)}.",
            )
        if step is not None:
            ctx = merge_context(contact, ws)
            missing = sorted(
                {
                    m
                    for t in (step.subject, step.body, step.html_body)
                    if t
                    for m in render(t, ctx).missing
                }
            )
            if missing:
                return answer(
                    NotSentReason.MISSING_FIELD,
                    "The contact has no value for "
                    f"{', '.join(missing)} and the step gives no fallback.",
                    fields=missing,
                )
        if row.next_send_at is None or row.next_send_at <= now:
            return answer(NotSentReason.DUE, "The step is due; a worker will send it shortly.")
        zone = scheduling.zone_for(contact, seq, ws)
        limit = daily_limit(scope, ws)
        start, end = local_day_bounds(now, zone)
        today = touches_on_day(session, contact.id or 0, start, end)
        if today >= limit and row.next_send_at >= end:
            return answer(
                NotSentReason.DAILY_LIMIT,
                f"The contact already had {today} touches "
                f"today (limit {limit}); the step waits until {_when(row.next_send_at)}.",
                touches_today=today,
                limit=limit,
            )
        previous = row.last_touched_at or row.enrolled_at
        raw = previous
        if step is not None:
            raw = due_at(previous, Delay(step.delay_hours, step.delay_business_days), None, zone)
        if raw < row.next_send_at:
            return answer(
                NotSentReason.OUTSIDE_SEND_WINDOW,
                f"The delay ended at {_when(raw)}, "
                f"outside the send window; it goes out when the window opens, "
                f"{_when(row.next_send_at)}.",
                delay_ended_at=raw,
                send_window=seq.send_window,
            )
        return answer(
            NotSentReason.WAITING_FOR_DELAY,
            f"Waiting for the step's delay, until {_when(row.next_send_at)}.",
        )
