"""Read-only lookups for the agent's tools: contacts by id or email, a contact's record with its
recent activity, and the workspace's reply counts. Each is scoped by the caller's workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select

from cadence.ai.personalize import ContactRecord
from cadence.clock import ensure_utc
from cadence.domain.specs import normalize_email
from cadence.errors import InvalidInput, NotFound
from cadence.service.contacts import load_contact
from cadence.service.context import Scope
from cadence.store.enums import EventType
from cadence.store.models import Contact, EngagementEvent

__all__ = [
    "ContactRef",
    "contact_id_of",
    "contact_ids_of",
    "contact_record",
    "reply_counts",
]

ContactRef = int | str
"""A contact as the model names it: its id, or its email address."""

_ACTIVITY = {
    EventType.SENT: "was sent an email",
    EventType.OPENED: "opened an email",
    EventType.CLICKED: "clicked a link in an email",
    EventType.REPLIED: "replied",
    EventType.TASK_COMPLETED: "had a task completed (call or LinkedIn)",
}
_SENDTIME_EVENTS = (
    EventType.SENT,
    EventType.DELIVERED,
    EventType.OPENED,
    EventType.CLICKED,
    EventType.REPLIED,
)


def _as_id(ref: ContactRef) -> int | None:
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    text = str(ref).strip()
    return int(text) if text.isdigit() else None


def _as_email(ref: ContactRef) -> str:
    text = str(ref).strip()
    if "@" not in text:
        raise InvalidInput(
            f"contact: give a contact id or an email address (got {text!r})",
            field="contact",
            value=text,
        )
    return normalize_email(text)


def contact_ids_of(scope: Scope, refs: Sequence[ContactRef]) -> list[int]:
    """The ids of contacts named by id or email, in order, all in the caller's workspace.

    Raises:
        InvalidInput: a reference is neither an id nor an email address.
        NotFound: a contact is not in this workspace.
    """
    ids = {i: _as_id(r) for i, r in enumerate(refs)}
    emails = {i: _as_email(r) for i, r in enumerate(refs) if ids[i] is None}
    with scope.db.session() as session:
        by_email: dict[str, int] = {}
        if emails:
            rows = session.exec(
                select(Contact.email, Contact.id).where(
                    Contact.workspace_id == scope.workspace_id,
                    col(Contact.email).in_(sorted(set(emails.values()))),
                )
            )
            by_email = {e: i for e, i in rows if e is not None and i is not None}
        wanted = {i for i in ids.values() if i is not None}
        found: set[int] = set()
        if wanted:
            found = {
                i
                for i in session.exec(
                    select(Contact.id).where(
                        Contact.workspace_id == scope.workspace_id, col(Contact.id).in_(wanted)
                    )
                )
                if i is not None
            }
    out: list[int] = []
    for index in range(len(refs)):
        cid = ids[index]
        if cid is None:
            cid = by_email.get(emails[index])
            if cid is None:
                raise NotFound("contact", emails[index])
        elif cid not in found:
            raise NotFound("contact", cid)
        out.append(cid)
    return out


def contact_id_of(scope: Scope, ref: ContactRef) -> int:
    """The id of one contact named by id or email; see ``contact_ids_of``."""
    return contact_ids_of(scope, [ref])[0]


def contact_record(scope: Scope, contact_id: int, *, activity: int = 8) -> ContactRecord:
    """What personalization may draw on: the contact's fields and recent activity.

    Raises:
        NotFound: the contact is not in this workspace.
    """
    with scope.db.session() as session:
        contact = load_contact(session, scope, contact_id)
        events = session.exec(
            select(EngagementEvent)
            .where(
                EngagementEvent.workspace_id == scope.workspace_id,
                EngagementEvent.contact_id == contact_id,
                col(EngagementEvent.type).in_(list(_ACTIVITY)),
            )
            .order_by(col(EngagementEvent.occurred_at).desc())
            .limit(activity)
        )
        lines = [
            f"{_ACTIVITY[e.type]} on {ensure_utc(e.occurred_at).date().isoformat()}" for e in events
        ]
    return ContactRecord(
        first_name=contact.first_name,
        last_name=contact.last_name,
        title=contact.title,
        company=contact.company,
        industry=contact.industry,
        notes=contact.notes,
        recent_activity=lines,
    )


def reply_counts(scope: Scope, *, days: int = 180) -> tuple[int, int]:
    """Emails sent and replies received in the workspace over the last ``days``."""
    since = scope.now() - timedelta(days=days)
    with scope.db.session() as session:
        rows = session.exec(
            select(EngagementEvent.type, func.count())
            .where(
                EngagementEvent.workspace_id == scope.workspace_id,
                col(EngagementEvent.type).in_([EventType.SENT, EventType.REPLIED]),
                EngagementEvent.occurred_at >= since,
            )
            .group_by(EngagementEvent.type)
        )
        counts = {str(t): int(n) for t, n in rows}
    return counts.get(EventType.SENT.value, 0), counts.get(EventType.REPLIED.value, 0)
