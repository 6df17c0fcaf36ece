"""What comes back from a contact: a reply completes one enrollment; a bounce, an unsubscribe or
a complaint stops all of the contact's enrollments and suppresses the address."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cadence.domain.states import LIVE_STATES, EnrollmentEvent
from cadence.service.contacts import load_contact
from cadence.service.context import Scope
from cadence.service.enrollments import load_enrollment, record_event
from cadence.service.lifecycle import finish
from cadence.service.views import EnrollmentPublic
from cadence.store.enums import EmailStatus, EventType, SuppressionReason
from cadence.store.models import Contact, CrmSequenceEnrollment, Suppression

__all__ = [
    "is_suppressed",
    "record_bounce",
    "record_complaint",
    "record_reply",
    "record_unsubscribe",
]


def record_reply(
    scope: Scope, enrollment_id: int, *, at: datetime | None = None
) -> EnrollmentPublic:
    """A human reply: the enrollment is done (``replied``) and sends nothing more.

    Raises:
        NotFound: no such enrollment in this workspace.
        InvalidTransition: the enrollment had already finished.
    """
    now = scope.now()
    with scope.db.transaction() as session:
        row = load_enrollment(session, scope, enrollment_id, lock=True)
        finish(row, EnrollmentEvent.REPLY, now=now, reason="replied")
        row.finished_at = at or now
        session.add(row)
        record_event(
            session,
            scope,
            EventType.REPLIED,
            contact_id=row.contact_id,
            enrollment_id=row.id,
            at=at,
        )
        return EnrollmentPublic.model_validate(row)


def _suppress(
    session: Session, scope: Scope, contact: Contact, reason: SuppressionReason, source: str
) -> None:
    if not contact.email:
        return
    exists = session.exec(
        select(Suppression.id).where(
            Suppression.workspace_id == scope.workspace_id, Suppression.email == contact.email
        )
    ).first()
    if exists is None:
        session.add(
            Suppression(
                workspace_id=scope.workspace_id,
                email=contact.email,
                contact_id=contact.id,
                reason=reason,
                source=source,
                created_at=scope.now(),
            )
        )


def stop_contact_in(
    session: Session,
    scope: Scope,
    contact: Contact,
    *,
    event: EnrollmentEvent,
    event_type: EventType,
    email_status: EmailStatus,
    reason: SuppressionReason,
    source: str,
    detail: str | None,
) -> list[CrmSequenceEnrollment]:
    """Stop every live enrollment of ``contact`` and suppress its address, in the caller's
    transaction; returns the enrollments stopped."""
    now = scope.now()
    rows = list(
        session.exec(
            select(CrmSequenceEnrollment)
            .where(
                CrmSequenceEnrollment.workspace_id == scope.workspace_id,
                CrmSequenceEnrollment.contact_id == contact.id,
                col(CrmSequenceEnrollment.status).in_(list(LIVE_STATES)),
            )
            .with_for_update()
        )
    )
    for row in rows:
        finish(row, event, now=now, reason=reason.value)
        session.add(row)
    contact.email_status = email_status
    contact.updated_at = now
    session.add(contact)
    _suppress(session, scope, contact, reason, source)
    record_event(
        session,
        scope,
        event_type,
        contact_id=contact.id,
        source=source,
        detail=detail,
        stopped=[r.id for r in rows],
    )
    return rows


_STOPS = {
    "bounce": (
        EnrollmentEvent.BOUNCE,
        EventType.BOUNCED,
        EmailStatus.BOUNCED,
        SuppressionReason.BOUNCED,
    ),
    "unsubscribe": (
        EnrollmentEvent.UNSUBSCRIBE,
        EventType.UNSUBSCRIBED,
        EmailStatus.UNSUBSCRIBED,
        SuppressionReason.UNSUBSCRIBED,
    ),
    "complaint": (
        EnrollmentEvent.UNSUBSCRIBE,
        EventType.COMPLAINED,
        EmailStatus.COMPLAINED,
        SuppressionReason.COMPLAINED,
    ),
}


def stop_contact(
    session: Session, scope: Scope, contact: Contact, kind: str, *, source: str, detail: str | None
) -> list[CrmSequenceEnrollment]:
    """``stop_contact_in`` for a bounce, an unsubscribe or a complaint."""
    event, event_type, email_status, reason = _STOPS[kind]
    return stop_contact_in(
        session,
        scope,
        contact,
        event=event,
        event_type=event_type,
        email_status=email_status,
        reason=reason,
        source=source,
        detail=detail,
    )


def _stop(
    scope: Scope, contact_id: int, kind: str, source: str, detail: str | None
) -> list[EnrollmentPublic]:
    with scope.db.transaction() as session:
        contact = load_contact(session, scope, contact_id, lock=True)
        rows = stop_contact(session, scope, contact, kind, source=source, detail=detail)
        return [EnrollmentPublic.model_validate(r) for r in rows]


def record_bounce(
    scope: Scope, contact_id: int, *, source: str = "smtp", detail: str | None = None
) -> list[EnrollmentPublic]:
    """A hard bounce: suppress the address and stop every live enrollment of the contact."""
    return _stop(scope, contact_id, "bounce", source, detail)


def record_unsubscribe(
    scope: Scope, contact_id: int, *, source: str = "link", detail: str | None = None
) -> list[EnrollmentPublic]:
    """An unsubscribe: suppress the address and stop every live enrollment of the contact."""
    return _stop(scope, contact_id, "unsubscribe", source, detail)


def record_complaint(
    scope: Scope, contact_id: int, *, source: str = "fbl", detail: str | None = None
) -> list[EnrollmentPublic]:
    """A spam complaint: treated as an unsubscribe, and remembered as a complaint."""
    return _stop(scope, contact_id, "complaint", source, detail)


def is_suppressed(session: Session, scope: Scope, email: str | None) -> bool:
    if not email:
        return False
    return (
        session.exec(
            select(Suppression.id).where(
                Suppression.workspace_id == scope.workspace_id, Suppression.email == email
            )
        ).first()
        is not None
    )
