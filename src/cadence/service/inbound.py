"""Mail that comes back to a rep's mailbox: match it to the touch it answers and act on it.

:func:`ingest_inbound` classifies a raw message (pure, :mod:`cadence.inbound`), matches it to one
of the workspace's touches through its message ids — else through the sender's or the failed
recipient's address — and then:

- a reply completes the enrollment (``replied``);
- an auto-reply that says when the person is back pauses the enrollment until the next business
  day after that, at the start of the send window (09:00 without one), in the contact's zone;
- a hard bounce, three soft bounces in a row, a complaint or an unsubscribe request stop every
  enrollment of the contact and suppress the address;
- a soft bounce puts the enrollment back on the bounced step, due again 24 hours later;
- a copy of our own mail is never taken for a reply.

Every message leaves exactly one ``inbound`` event holding its classification, matched or not, keyed
by its Message-ID (else the SHA-256 of its bytes): ingesting the same message again changes nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session, col, select

from cadence.domain.states import EnrollmentStatus
from cadence.errors import EmptyMessage, InvalidTransition, NotFound
from cadence.inbound import InboundKind, InboundMessage, classify_message
from cadence.service.context import Cadence, Scope
from cadence.service.enrollments import record_event, resume_enrollment
from cadence.service.inbound_act import IngestAction, act, act_by_service, back_at, load_rows
from cadence.service.inbound_match import Match, match_message
from cadence.store.enums import EventType
from cadence.store.models import (
    CrmSequenceEnrollment,
    EngagementEvent,
    Workspace,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "EmptyMessage",
    "IngestAction",
    "IngestResult",
    "ingest_inbound",
    "ingest_raw_mime",
    "resume_due_pauses",
]

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # bytes ingest_raw_mime keeps; the classifier reads fewer


class IngestResult(BaseModel):
    """The outcome of :func:`ingest_inbound`.

    Attributes:
        kind: The classification (``other`` for copies of our own mail).
        action: What was done about it.
        matched_by: ``message_id`` when a message id named a touch, ``address`` when the sender's
            or failed recipient's address named a contact, else None.
        touch_id: The touch the message answers, when found.
        enrollment_id: That touch's enrollment.
        contact_id: The contact it is from or about.
        event_id: The ``inbound`` engagement event that keeps it (the first one, for a duplicate).
        message_id: The message's own Message-ID, or "".
        detail: A short human explanation.
    """

    kind: InboundKind
    action: IngestAction
    matched_by: Literal["message_id", "address"] | None = None
    touch_id: int | None = None
    enrollment_id: int | None = None
    contact_id: int | None = None
    event_id: int | None = None
    message_id: str = ""
    detail: str = ""


def ingest_inbound(
    scope: Scope, raw: bytes, *, source: str = "webhook", received_at: datetime | None = None
) -> IngestResult:
    """Classify one raw message, match it to a touch of this workspace, act on it, keep it.

    Never raises on malformed mail: junk is kept as an unmatched ``other`` message.

    Args:
        scope: The workspace the mailbox or webhook belongs to.
        raw: The message as received (RFC 5322 bytes).
        source: Where it came from (``webhook``, ``imap:host/mailbox``...), kept with the event.
        received_at: When it arrived; now by default.

    Returns:
        What the message was and what was done.

    Raises:
        NotFound: the workspace does not exist.
    """
    now = scope.now()
    at = received_at or now
    msg = classify_message(raw, today=at.date())
    key = _clean(msg.message_id, 300) or "sha256:" + hashlib.sha256(raw).hexdigest()
    with scope.db.session() as session:
        prior = _prior(session, scope, key)
        if prior is not None:
            return _duplicate(prior, msg)
        ws = session.get(Workspace, scope.workspace_id)
        if ws is None:
            raise NotFound("workspace", scope.workspace_id)
        match = match_message(session, scope, msg, ws, now)
        if msg.kind is InboundKind.AUTO_REPLY and msg.return_date and not match.own_copy:
            match.until = back_at(session, scope, match, msg.return_date)
    # A reply and a pause go through their own use cases (own transactions), first; the state
    # machine refuses to do either twice, so a crash before the record below is harmless.
    early = act_by_service(scope, msg, match, at)
    with scope.db.transaction() as session:
        _lock_key(session, key)
        prior = _prior(session, scope, key)
        if prior is not None:
            return _duplicate(prior, msg)
        rows = None if match.own_copy else load_rows(session, scope, match, at)
        if match.own_copy:
            action, detail = IngestAction.OWN_COPY, "a copy of our own mail"
        elif rows is None:
            action, detail = IngestAction.UNMATCHED, "no touch or contact here matches it"
        else:
            action, detail = act(rows, msg, match, source, early)
        kind = InboundKind.OTHER if match.own_copy else msg.kind
        touch_id, enrollment_id, contact_id = _ids(match)
        event = record_event(
            session,
            scope,
            EventType.INBOUND,
            contact_id=contact_id,
            enrollment_id=enrollment_id,
            touch_id=touch_id,
            at=at,
            **_describe(msg, key, source, len(raw)),
            kind=kind.value,
            classified_as=msg.kind.value,
            action=action.value,
            detail=detail,
            matched_by=match.by,
        )
        session.flush()
        return IngestResult(
            kind=kind,
            action=action,
            matched_by=match.by,
            touch_id=touch_id,
            enrollment_id=enrollment_id,
            contact_id=contact_id,
            event_id=event.id,
            message_id=msg.message_id,
            detail=detail,
        )


def ingest_raw_mime(
    app: Cadence,
    workspace_id: int,
    raw: bytes | bytearray | memoryview,
    *,
    source: str = "webhook",
    received_at: datetime | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> IngestResult:
    """Ingest one raw MIME message handed to a webhook (or any other edge).

    Messages larger than ``max_bytes`` are cut there: the classifier only reads the headers and the
    first megabytes, and a bounce's or reply's evidence is at the top.

    Args:
        app: The Cadence runtime.
        workspace_id: The workspace the webhook belongs to (from its credentials, not the body).
        raw: The message bytes.
        source: Kept with the event.
        received_at: When it arrived; now by default.
        max_bytes: The most bytes kept.

    Returns:
        What :func:`ingest_inbound` returns.

    Raises:
        EmptyMessage: no bytes, or only white space.
        NotFound: the workspace does not exist.
    """
    data = bytes(raw)
    if not data.strip():
        raise EmptyMessage("raw: the message is empty", field="raw", value=len(data))
    return ingest_inbound(
        app.scope(workspace_id, actor=source),
        data[:max_bytes],
        source=source,
        received_at=received_at,
    )


def resume_due_pauses(app: Cadence, now: datetime) -> int:
    """Resume, in every workspace, enrollments whose ``paused_until`` has come.

    Each goes through ``resume_enrollment``, so the state machine and its events apply; one that
    changed meanwhile (resumed or stopped by someone) is left alone.

    Returns:
        How many were resumed.
    """
    with app.db.session() as session:
        due = session.exec(
            select(CrmSequenceEnrollment.id, CrmSequenceEnrollment.workspace_id)
            .where(
                CrmSequenceEnrollment.status == EnrollmentStatus.PAUSED,
                col(CrmSequenceEnrollment.paused_until).is_not(None),
                col(CrmSequenceEnrollment.paused_until) <= now,
            )
            .order_by(col(CrmSequenceEnrollment.paused_until))
        ).all()
    resumed = 0
    for enrollment_id, workspace_id in due:
        assert enrollment_id is not None
        try:
            resume_enrollment(app.scope(workspace_id, actor="engine"), enrollment_id)
        except (InvalidTransition, NotFound):
            continue
        resumed += 1
    return resumed


# --- keeping --------------------------------------------------------------------------------------


def _prior(session: Session, scope: Scope, key: str) -> EngagementEvent | None:
    return session.exec(
        select(EngagementEvent)
        .where(
            EngagementEvent.workspace_id == scope.workspace_id,
            EngagementEvent.type == EventType.INBOUND,
            col(EngagementEvent.data)["inbound_key"].as_string() == key,
        )
        .order_by(col(EngagementEvent.id))
        .limit(1)
    ).first()


def _lock_key(session: Session, key: str) -> None:
    """Serialise concurrent ingests of one message (SQLite's BEGIN IMMEDIATE already does)."""
    if session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})


def _duplicate(prior: EngagementEvent, msg: InboundMessage) -> IngestResult:
    return IngestResult(
        kind=InboundKind(prior.data.get("kind", msg.kind.value)),
        action=IngestAction.DUPLICATE,
        matched_by=prior.data.get("matched_by"),
        touch_id=prior.touch_id,
        enrollment_id=prior.enrollment_id,
        contact_id=prior.contact_id,
        event_id=prior.id,
        message_id=msg.message_id,
        detail="ingested before; nothing changed",
    )


def _ids(match: Match) -> tuple[int | None, int | None, int | None]:
    """Touch, enrollment and contact ids of a match."""
    return (
        match.touch.id if match.touch else None,
        match.enrollment.id if match.enrollment else None,
        match.contact.id if match.contact else None,
    )


def _clean(value: str, limit: int = 500) -> str:
    """Text PostgreSQL's JSONB accepts: valid UTF-8, no NUL."""
    return value[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _describe(msg: InboundMessage, key: str, source: str, size: int) -> dict[str, Any]:
    recipients = [
        {name: _clean(str(value)) for name, value in r.model_dump().items()}
        for r in msg.recipients[:20]
    ]
    return {
        "inbound_key": _clean(key),
        "source": _clean(source, 200),
        "size": size,
        "message_id": _clean(msg.message_id),
        "original_message_id": _clean(msg.original_message_id),
        "in_reply_to": _clean(msg.in_reply_to),
        "references": [_clean(r) for r in msg.references[-20:]],
        "from": _clean(msg.from_address),
        "subject": _clean(msg.subject, 300),
        "date": msg.date.isoformat() if msg.date else None,
        "return_date": msg.return_date.isoformat() if msg.return_date else None,
        "feedback_type": _clean(msg.feedback_type),
        "recipients": recipients,
    }
