"""Dead letters: steps that will not run by themselves again, for a person to decide."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from cadence.domain.states import EnrollmentEvent, EnrollmentStatus, transition
from cadence.errors import InvalidInput
from cadence.service.context import Scope
from cadence.service.enrollments import record_event
from cadence.service.lifecycle import finish
from cadence.service.lookup import load_scoped, lock_enrollment
from cadence.store.enums import EventType, TouchStatus
from cadence.store.models import DeadLetter, Touch

__all__ = ["DeadLetterAction", "DeadLetterPublic", "list_dead_letters", "resolve_dead_letter"]


class DeadLetterAction(StrEnum):
    RETRY = "retry"  # run the step again now (after an unconfirmed send: it may go out twice)
    MARK_SENT = "mark_sent"  # it did go out: record it and go on with the sequence
    DISCARD = "discard"  # take the contact out of the sequence


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    enrollment_id: int
    step_id: int | None
    touch_id: int | None
    job_id: str | None
    reason: str
    error: str | None
    attempts: int
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def list_dead_letters(scope: Scope, *, open_only: bool = True) -> list[DeadLetterPublic]:
    with scope.db.session() as session:
        query = select(DeadLetter).where(DeadLetter.workspace_id == scope.workspace_id)
        if open_only:
            query = query.where(col(DeadLetter.resolved_at).is_(None))
        return [
            DeadLetterPublic.model_validate(d)
            for d in session.exec(query.order_by(col(DeadLetter.id)))
        ]


def resolve_dead_letter(
    scope: Scope, dead_letter_id: int, action: DeadLetterAction | str
) -> DeadLetterPublic:
    """Decide a dead letter: retry the step, record it as sent, or discard the enrollment.

    Raises:
        NotFound: no such dead letter in this workspace.
        InvalidInput: an unknown action, or the dead letter was already resolved.
    """
    try:
        act = DeadLetterAction(action)
    except ValueError:
        raise InvalidInput(
            f"action: must be retry, mark_sent or discard (got {action!r})",
            field="action",
            value=action,
        ) from None
    now = scope.now()
    with scope.db.transaction() as session:
        letter = load_scoped(
            session, scope, DeadLetter, dead_letter_id, kind="dead letter", lock=True
        )
        if letter.resolved_at is not None:
            raise InvalidInput(
                f"dead letter {dead_letter_id} was already resolved ({letter.resolution})",
                field="dead_letter_id",
                value=dead_letter_id,
            )
        row = lock_enrollment(session, letter.enrollment_id)
        assert row is not None  # enrollments are never deleted under a live row
        touch = session.get(Touch, letter.touch_id) if letter.touch_id else None
        if row.status is EnrollmentStatus.FAILED:
            if act is DeadLetterAction.RETRY:
                row.status = transition(row.status, EnrollmentEvent.RETRY)
                row.next_send_at = now
                if touch is not None:
                    touch.status = TouchStatus.FAILED  # the governor takes it again on the retry
            elif act is DeadLetterAction.MARK_SENT:
                row.status = transition(row.status, EnrollmentEvent.RETRY)
                row.next_send_at = now
                if touch is not None:
                    touch.status, touch.sent_at = TouchStatus.SENT, touch.sent_at or now
                    row.status = transition(row.status, EnrollmentEvent.SEND)
                    row.last_touched_at = now
            else:
                finish(row, EnrollmentEvent.REMOVE, now=now, reason="dead letter discarded")
            row.updated_at = now
            session.add(row)
            if touch is not None:
                session.add(touch)
        letter.resolved_at, letter.resolution, letter.resolved_by = now, act.value, scope.actor
        session.add(letter)
        record_event(
            session,
            scope,
            EventType.RESUMED if act is not DeadLetterAction.DISCARD else EventType.STOPPED,
            contact_id=row.contact_id,
            enrollment_id=row.id,
            dead_letter=letter.id,
            action=act.value,
        )
        return DeadLetterPublic.model_validate(letter)
