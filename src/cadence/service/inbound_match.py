"""Which touch, contact and enrollment an inbound message is about.

By message ids first (the returned original's Message-ID, In-Reply-To, References), else by
address: a reply's sender, or a bounce's failed recipient, and that contact's latest email.
A copy of our own mail (one of our Message-IDs, or sent by the workspace's sender) is marked so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from cadence.domain.specs import ChannelKind
from cadence.domain.states import LIVE_STATES
from cadence.inbound import BouncedRecipient, InboundKind, InboundMessage
from cadence.service.context import Scope
from cadence.store.enums import TouchStatus
from cadence.store.models import Contact, CrmSequenceEnrollment, Touch, Workspace

__all__ = [
    "MACHINE_REPORTS",
    "MATCH_WINDOW",
    "Match",
    "address_of",
    "match_message",
    "recipient_for",
]

MATCH_WINDOW = timedelta(days=30)  # how far back an address-only match looks for a sent email
MACHINE_REPORTS = (InboundKind.BOUNCE, InboundKind.COMPLAINT, InboundKind.DELIVERY_REPORT)


@dataclass
class Match:
    touch: Touch | None = None
    contact: Contact | None = None
    enrollment: CrmSequenceEnrollment | None = None
    by: Literal["message_id", "address"] | None = None
    own_copy: bool = False
    until: datetime | None = None  # an auto-replier is mailed again from then


def match_message(
    session: Session, scope: Scope, msg: InboundMessage, ws: Workspace, now: datetime
) -> Match:
    wanted = [msg.original_message_id, msg.in_reply_to, *reversed(msg.references)]
    ids = list(dict.fromkeys(i for i in wanted if i))[:50]
    lookup = [*ids, msg.message_id] if msg.message_id else ids
    found: dict[str | None, Touch] = {}
    if lookup:
        query = select(Touch).where(
            Touch.workspace_id == scope.workspace_id, col(Touch.message_id).in_(lookup)
        )
        found = {t.message_id: t for t in session.exec(query)}
    own = bool(msg.message_id and msg.message_id in found) or (
        msg.kind not in MACHINE_REPORTS
        and bool(ws.sender_email)
        and msg.from_address.lower() == (ws.sender_email or "").lower()
    )
    if own:
        return Match(touch=found.get(msg.message_id), own_copy=True)
    touch = next((found[i] for i in ids if i in found), None)
    if touch is not None:
        contact = session.get(Contact, touch.contact_id)
        row = session.get(CrmSequenceEnrollment, touch.enrollment_id)
        return Match(touch=touch, contact=contact, enrollment=row, by="message_id")
    address = address_of(msg)
    contact = None
    if address:
        contact = session.exec(
            select(Contact).where(
                Contact.workspace_id == scope.workspace_id, Contact.email == address
            )
        ).first()
    if contact is None:
        return Match()
    recent = list(
        session.exec(
            select(Touch, CrmSequenceEnrollment)
            .join(CrmSequenceEnrollment, col(CrmSequenceEnrollment.id) == Touch.enrollment_id)
            .where(
                Touch.workspace_id == scope.workspace_id,
                Touch.contact_id == contact.id,
                Touch.channel == ChannelKind.EMAIL,
                Touch.status == TouchStatus.SENT,
                col(Touch.sent_at) >= now - MATCH_WINDOW,
            )
            .order_by(col(Touch.sent_at).desc(), col(Touch.id).desc())
            .limit(20)
        )
    )
    # The latest sent email whose enrollment is still live, else the latest at all.
    live = [pair for pair in recent if pair[1].status in LIVE_STATES] or recent
    if not live:
        return Match(contact=contact, by="address")
    touch, row = live[0]
    return Match(touch=touch, contact=contact, enrollment=row, by="address")


def address_of(msg: InboundMessage) -> str:
    """The address an unthreaded message is from or about: sender, or failed recipient."""
    if msg.kind in (InboundKind.REPLY, InboundKind.AUTO_REPLY):
        return msg.from_address.lower()
    if msg.kind in MACHINE_REPORTS:
        return next((r.email.lower() for r in msg.recipients if r.email), "")
    return ""


def recipient_for(msg: InboundMessage, contact: Contact | None) -> BouncedRecipient:
    """The report's entry about ``contact`` (the first entry when none names it)."""
    email = (contact.email or "") if contact else ""
    chosen = next((r for r in msg.recipients if r.email and r.email.lower() == email), None)
    return chosen or (msg.recipients[0] if msg.recipients else BouncedRecipient())
