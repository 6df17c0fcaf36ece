"""What an inbound message does to an enrollment, once matched: complete, pause, stop, retry."""

from __future__ import annotations

__all__ = [
    "DEFAULT_BACK_AT",
    "SOFT_BOUNCE_LIMIT",
    "SOFT_BOUNCE_RETRY",
    "IngestAction",
    "Rows",
    "act",
    "act_by_service",
    "back_at",
    "load_rows",
]

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from cadence.domain.schedule import Delay, due_at, parse_window
from cadence.domain.states import LIVE_STATES, EnrollmentEvent, EnrollmentStatus
from cadence.errors import InvalidTransition
from cadence.inbound import InboundKind, InboundMessage
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.enrollments import pause_enrollment, record_event
from cadence.service.inbound_match import Match, recipient_for
from cadence.service.lifecycle import move, underlying_status
from cadence.service.outcomes import record_reply, stop_contact
from cadence.store.enums import EventType, TouchStatus
from cadence.store.models import (
    Contact,
    CrmSequence,
    CrmSequenceEnrollment,
    EngagementEvent,
    Touch,
    Workspace,
)

SOFT_BOUNCE_RETRY = timedelta(hours=24)  # a soft-bounced step goes again this much later
SOFT_BOUNCE_LIMIT = 3  # soft bounces in a row that count as a hard one
DEFAULT_BACK_AT = time(9, 0)  # local time an auto-replier is mailed again, without a window
# Engagement that proves mail reaches the address: it ends a run of soft bounces.
_REACHED = (
    EventType.DELIVERED,
    EventType.OPENED,
    EventType.CLICKED,
    EventType.REPLIED,
    EventType.AUTO_REPLIED,
)


class IngestAction(StrEnum):
    """What ingesting one message did."""

    DUPLICATE = "duplicate"  # ingested before: nothing changed
    OWN_COPY = "own_copy"  # a copy of mail we sent: recorded as ``other``
    REPLIED = "replied"  # the enrollment completed
    PAUSED = "paused"  # the enrollment waits until the contact is back
    RETRY_SCHEDULED = "retry_scheduled"  # soft bounce: the step goes again later
    STOPPED = "stopped"  # the contact's enrollments stopped and the address is suppressed
    RECORDED = "recorded"  # matched and kept; nothing else to do
    UNMATCHED = "unmatched"  # kept, but it belongs to no contact we know


def back_at(session: Session, scope: Scope, match: Match, day: date) -> datetime | None:
    """The next business day after ``day``, at the start of the send window (09:00 without one),
    in the contact's zone; None when the match has no live enrollment."""
    row = match.enrollment
    if row is None or row.status not in LIVE_STATES:
        return None
    seq = session.get(CrmSequence, row.sequence_id)
    assert seq is not None
    zone = scheduling.zone_for(match.contact, seq, session.get(Workspace, scope.workspace_id))
    window = parse_window(seq.send_window) if seq.send_window else None
    back = datetime.combine(day, window.start if window else DEFAULT_BACK_AT, tzinfo=zone)
    return due_at(back, Delay(business_days=1), window, zone)


def act_by_service(
    scope: Scope, msg: InboundMessage, match: Match, at: datetime
) -> tuple[IngestAction, str] | None:
    """Reply and pause, through their own use cases; None when the message needs neither."""
    row = match.enrollment
    if match.own_copy or row is None or row.id is None or row.status not in LIVE_STATES:
        return None
    try:
        if msg.kind is InboundKind.REPLY:
            record_reply(scope, row.id, at=at)
            return IngestAction.REPLIED, "a reply completes the enrollment"
        until = match.until if msg.kind is InboundKind.AUTO_REPLY else None
        # An enrollment paused already is left to _act, which may extend the pause.
        if until and until > scope.now() and row.status is not EnrollmentStatus.PAUSED:
            pause_enrollment(scope, row.id, until=until)
            return IngestAction.PAUSED, f"back {msg.return_date}: paused until {until}"
    except InvalidTransition:  # it finished or was paused meanwhile
        return None
    return None


@dataclass
class Rows:
    """The matched rows, loaded again (and locked) in the recording transaction."""

    session: Session
    scope: Scope
    at: datetime
    contact: Contact
    row: CrmSequenceEnrollment | None
    touch: Touch | None

    def event(self, type_: EventType, **data: Any) -> None:
        record_event(
            self.session,
            self.scope,
            type_,
            contact_id=self.contact.id,
            enrollment_id=self.row.id if self.row else None,
            touch_id=self.touch.id if self.touch else None,
            at=self.at,
            **data,
        )


def load_rows(session: Session, scope: Scope, match: Match, at: datetime) -> Rows | None:
    if match.contact is None:
        return None
    contact = session.exec(
        select(Contact).where(Contact.id == match.contact.id).with_for_update()
    ).one()
    row = None
    if match.enrollment is not None:
        row = session.exec(
            select(CrmSequenceEnrollment)
            .where(CrmSequenceEnrollment.id == match.enrollment.id)
            .with_for_update()
        ).one()
    touch = session.get(Touch, match.touch.id) if match.touch else None
    return Rows(session, scope, at, contact, row, touch)


def act(
    tx: Rows,
    msg: InboundMessage,
    match: Match,
    source: str,
    early: tuple[IngestAction, str] | None,
) -> tuple[IngestAction, str]:
    """Everything but reply and pause (``early`` tells what those did), in the recording
    transaction."""
    if msg.kind is InboundKind.COMPLAINT:
        kind = "unsubscribe" if msg.feedback_type == "opt-out" else "complaint"
        stop_contact(
            tx.session, tx.scope, tx.contact, kind, source=source, detail=msg.feedback_type
        )
        return IngestAction.STOPPED, f"{kind}: the contact is stopped and suppressed"
    if msg.kind is InboundKind.AUTO_REPLY:
        back = msg.return_date.isoformat() if msg.return_date else None
        tx.event(EventType.AUTO_REPLIED, return_date=back)
        return early or _extend_pause(tx, match.until)
    if msg.kind is InboundKind.REPLY:
        return early or (IngestAction.RECORDED, "a reply; no live enrollment to complete")
    if msg.kind is InboundKind.DELIVERY_REPORT:
        if tx.touch is not None and any(r.action == "delivered" for r in msg.recipients):
            tx.event(EventType.DELIVERED)
        return IngestAction.RECORDED, "a delivery report"
    if msg.kind is not InboundKind.BOUNCE:
        return IngestAction.RECORDED, f"{msg.kind.value}: nothing to change"
    failed = recipient_for(msg, tx.contact)
    why = " ".join(p for p in (failed.status, failed.reason, failed.diagnostic[:200]) if p)
    if failed.hard:
        return _stop_for_bounce(tx, source, why)
    if failed.action == "delayed":
        # The sending server is still trying: sending the step again could deliver it twice.
        return IngestAction.RECORDED, f"delivery delayed, not failed ({why})"
    tx.event(EventType.SOFT_BOUNCED, reason=why)
    tx.session.flush()
    in_a_row = _soft_run(tx)
    if in_a_row >= SOFT_BOUNCE_LIMIT:
        return _stop_for_bounce(tx, source, f"{in_a_row} soft bounces in a row ({why})")
    if _retry_step(tx, why):
        return IngestAction.RETRY_SCHEDULED, f"soft bounce ({why}): the step goes again"
    return IngestAction.RECORDED, f"soft bounce ({why})"


def _stop_for_bounce(tx: Rows, source: str, why: str) -> tuple[IngestAction, str]:
    stop_contact(tx.session, tx.scope, tx.contact, "bounce", source=source, detail=why)
    if tx.touch is not None and tx.touch.status in (TouchStatus.SENT, TouchStatus.FAILED):
        tx.touch.status, tx.touch.error = TouchStatus.BOUNCED, why[:2000]
        tx.session.add(tx.touch)
    return IngestAction.STOPPED, f"bounce ({why}): the contact is stopped and suppressed"


def _soft_run(tx: Rows) -> int:
    """Soft bounces of the contact since mail last demonstrably reached them (SMTP accepting a
    resend is no proof of delivery), read from the events."""
    base = select(EngagementEvent.occurred_at).where(
        EngagementEvent.workspace_id == tx.scope.workspace_id,
        EngagementEvent.contact_id == tx.contact.id,
    )
    reached = tx.session.exec(
        base.where(col(EngagementEvent.type).in_(list(_REACHED)))
        .order_by(col(EngagementEvent.occurred_at).desc())
        .limit(1)
    ).first()
    query = base.where(EngagementEvent.type == EventType.SOFT_BOUNCED)
    if reached is not None:
        query = query.where(col(EngagementEvent.occurred_at) > reached)
    return len(tx.session.exec(query.limit(SOFT_BOUNCE_LIMIT + 1)).all())


def _retry_step(tx: Rows, why: str) -> bool:
    """Put the enrollment back on the touch's step, due a day later; False if it moved on."""
    row, touch = tx.row, tx.touch
    if row is None or touch is None or touch.status is not TouchStatus.SENT:
        return False
    if (
        underlying_status(row) is not EnrollmentStatus.SENT
        or row.current_step_id != touch.step_id
        or row.cycle != touch.cycle
    ):
        return False
    now = tx.scope.now()
    move(row, EnrollmentEvent.RESEND)
    seq = tx.session.get(CrmSequence, row.sequence_id)
    assert seq is not None
    zone = scheduling.zone_for(tx.contact, seq, tx.session.get(Workspace, tx.scope.workspace_id))
    row.next_send_at = scheduling.open_at(now + SOFT_BOUNCE_RETRY, seq, zone)
    row.job_id, row.enqueued_at, row.updated_at = None, None, now
    # The governor re-reserves a failed touch: the retry takes this row (and its Message-ID).
    touch.status, touch.error = TouchStatus.FAILED, f"soft bounce: {why}"[:2000]
    tx.session.add_all([row, touch])
    return True


def _extend_pause(tx: Rows, until: datetime | None) -> tuple[IngestAction, str]:
    """An auto-reply for an enrollment already paused until a date: wait for the later date.

    An open-ended pause was a person's decision and stays theirs to end."""
    row = tx.row
    if row is None or row.status is not EnrollmentStatus.PAUSED or until is None:
        return IngestAction.RECORDED, "an auto-reply"
    if row.paused_until is None or until <= row.paused_until:
        return IngestAction.RECORDED, "an auto-reply; the enrollment was already paused"
    row.paused_until, row.updated_at = until, tx.scope.now()
    tx.session.add(row)
    return IngestAction.PAUSED, f"pause extended to {until}"
