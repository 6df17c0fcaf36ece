"""Enrollments: enroll a contact, pause, resume, remove, and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cadence.domain.states import EnrollmentEvent, EnrollmentStatus, transition
from cadence.service import scheduling
from cadence.service.contacts import load_contact
from cadence.service.context import Scope
from cadence.service.lifecycle import finish
from cadence.service.lookup import load_scoped
from cadence.service.sequences import load_sequence
from cadence.service.views import EnrollmentPublic
from cadence.store.enums import EventType
from cadence.store.models import CrmSequenceEnrollment, EngagementEvent, Workspace

__all__ = [
    "get_enrollment",
    "list_enrollments",
    "load_enrollment",
    "pause_enrollment",
    "record_event",
    "remove_enrollment",
    "resume_enrollment",
]


def load_enrollment(
    session: Session, scope: Scope, enrollment_id: int, *, lock: bool = False
) -> CrmSequenceEnrollment:
    """The enrollment, if it is in the caller's workspace.

    Raises:
        NotFound: no such enrollment in this workspace.
    """
    return load_scoped(
        session, scope, CrmSequenceEnrollment, enrollment_id, kind="enrollment", lock=lock
    )


def record_event(
    session: Session,
    scope: Scope,
    type_: EventType,
    *,
    contact_id: int | None,
    enrollment_id: int | None = None,
    touch_id: int | None = None,
    at: datetime | None = None,
    **data: Any,
) -> EngagementEvent:
    event = EngagementEvent(
        workspace_id=scope.workspace_id,
        contact_id=contact_id,
        enrollment_id=enrollment_id,
        touch_id=touch_id,
        type=type_,
        occurred_at=at or scope.now(),
        data={"actor": scope.actor, **data},
    )
    session.add(event)
    return event


def pause_enrollment(
    scope: Scope, enrollment_id: int, *, until: datetime | None = None
) -> EnrollmentPublic:
    """Hold an enrollment where it is; ``resume_enrollment`` picks up at the same step.

    Raises:
        NotFound: no such enrollment in this workspace.
        InvalidTransition: the enrollment has finished.
    """
    with scope.db.transaction() as session:
        row = load_enrollment(session, scope, enrollment_id, lock=True)
        row.paused_from = row.status
        row.status = transition(row.status, EnrollmentEvent.PAUSE)
        row.paused_until = until
        row.updated_at = scope.now()
        session.add(row)
        record_event(
            session, scope, EventType.PAUSED, contact_id=row.contact_id, enrollment_id=row.id
        )
        return EnrollmentPublic.model_validate(row)


def resume_enrollment(scope: Scope, enrollment_id: int) -> EnrollmentPublic:
    """Resume a paused enrollment at the step it was paused on, due no earlier than now.

    Raises:
        NotFound: no such enrollment in this workspace.
        InvalidTransition: the enrollment is not paused.
    """
    now = scope.now()
    with scope.db.transaction() as session:
        row = load_enrollment(session, scope, enrollment_id, lock=True)
        target = row.paused_from or EnrollmentStatus.PENDING
        row.status = transition(row.status, EnrollmentEvent.RESUME, target)
        row.paused_from = None
        row.paused_until = None
        if row.next_send_at is not None and row.next_send_at < now:
            seq = load_sequence(session, scope, row.sequence_id)
            contact = load_contact(session, scope, row.contact_id)
            ws = session.get(Workspace, scope.workspace_id)
            row.next_send_at = scheduling.open_at(now, seq, scheduling.zone_for(contact, seq, ws))
        row.updated_at = now
        session.add(row)
        record_event(
            session, scope, EventType.RESUMED, contact_id=row.contact_id, enrollment_id=row.id
        )
        return EnrollmentPublic.model_validate(row)


def remove_enrollment(
    scope: Scope, enrollment_id: int, *, reason: str = "removed"
) -> EnrollmentPublic:
    """Take a contact out of a sequence for good.

    Raises:
        NotFound: no such enrollment in this workspace.
        InvalidTransition: the enrollment has already finished.
    """
    now = scope.now()
    with scope.db.transaction() as session:
        row = load_enrollment(session, scope, enrollment_id, lock=True)
        finish(row, EnrollmentEvent.REMOVE, now=now, reason=reason)
        session.add(row)
        record_event(
            session,
            scope,
            EventType.STOPPED,
            contact_id=row.contact_id,
            enrollment_id=row.id,
            reason=reason,
        )
        return EnrollmentPublic.model_validate(row)


def get_enrollment(scope: Scope, enrollment_id: int) -> EnrollmentPublic:
    with scope.db.session() as session:
        return EnrollmentPublic.model_validate(load_enrollment(session, scope, enrollment_id))


def list_enrollments(
    scope: Scope,
    *,
    sequence_id: int | None = None,
    contact_id: int | None = None,
    status: EnrollmentStatus | None = None,
) -> list[EnrollmentPublic]:
    with scope.db.session() as session:
        query = select(CrmSequenceEnrollment).where(
            CrmSequenceEnrollment.workspace_id == scope.workspace_id
        )
        if sequence_id is not None:
            query = query.where(CrmSequenceEnrollment.sequence_id == sequence_id)
        if contact_id is not None:
            query = query.where(CrmSequenceEnrollment.contact_id == contact_id)
        if status is not None:
            query = query.where(CrmSequenceEnrollment.status == status)
        rows = session.exec(query.order_by(col(CrmSequenceEnrollment.id)))
        return [EnrollmentPublic.model_validate(r) for r in rows]
