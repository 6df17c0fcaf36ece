"""Smart send time: the send-time model, fitted per workspace on its own engagement events.

A model is fitted at most once an hour per workspace and process, on the last 180 days of
events. ``best_send_time`` moves a step's due time to the contact's best hour within the next
24 hours that the sequence's window allows, so a smart step is never more than a day late.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from cadence.ai.sendtime import ContactProfile, Recommendation, SendTimeModel, Window
from cadence.ai.sendtime import EngagementEvent as ModelEvent
from cadence.domain.schedule import ALWAYS_OPEN, SendWindow, is_open, parse_window
from cadence.service.context import Cadence, Scope
from cadence.store.enums import EventType
from cadence.store.models import Contact, EngagementEvent, Workspace

__all__ = [
    "best_send_time",
    "fitted_model",
    "model_window",
    "profile_of",
    "recommend",
]

REFIT_AFTER = timedelta(hours=1)
HISTORY = timedelta(days=180)
_TYPES = {
    EventType.SENT: "sent",
    EventType.DELIVERED: "delivered",
    EventType.OPENED: "opened",
    EventType.CLICKED: "clicked",
    EventType.REPLIED: "replied",
}
_lock = threading.Lock()


def profile_of(contact: Contact, fallback_zone: str = "UTC") -> ContactProfile:
    domain = contact.email.rsplit("@", 1)[-1] if contact.email else None
    return ContactProfile(
        id=str(contact.id),
        timezone=contact.timezone or fallback_zone,
        title=contact.title,
        company=contact.company,
        domain=domain,
    )


def fitted_model(session: Session, app: Cadence, workspace_id: int) -> SendTimeModel:
    """The workspace's model, refitted when older than an hour."""
    now = app.clock.now()
    key = ("send-time model", workspace_id)
    with _lock:
        cached: tuple[datetime, SendTimeModel] | None = app.memo.get(key)
    if cached is not None and now - cached[0] < REFIT_AFTER:
        return cached[1]
    rows = list(
        session.exec(
            select(
                EngagementEvent.contact_id, EngagementEvent.type, EngagementEvent.occurred_at
            ).where(
                EngagementEvent.workspace_id == workspace_id,
                col(EngagementEvent.type).in_(list(_TYPES)),
                col(EngagementEvent.occurred_at) >= now - HISTORY,
                col(EngagementEvent.contact_id).is_not(None),
            )
        )
    )
    ids = sorted({cid for cid, _, _ in rows if cid is not None})
    profiles: list[ContactProfile] = []
    for start in range(0, len(ids), 900):
        for contact in session.exec(
            select(Contact).where(col(Contact.id).in_(ids[start : start + 900]))
        ):
            profiles.append(profile_of(contact))
    events = [ModelEvent(str(cid), _TYPES[EventType(t)], at) for cid, t, at in rows]  # type: ignore[arg-type]
    model = SendTimeModel(seed=workspace_id).fit(events, profiles)
    with _lock:
        app.memo[key] = (now, model)
    return model


def best_send_time(
    session: Session,
    app: Cadence,
    contact: Contact,
    window: SendWindow | None,
    zone: ZoneInfo,
    due: datetime,
) -> datetime:
    """The contact's best hour in ``[due, due + 24 h)`` inside ``window`` (``due`` if none is)."""
    model = fitted_model(session, app, contact.workspace_id)
    probs = model.slot_probabilities(profile_of(contact, zone.key))
    window = window or ALWAYS_OPEN
    best, best_p = due, -1.0
    start = due.replace(minute=0, second=0, microsecond=0)
    for hours in range(0, 25):
        at = max(due, start + timedelta(hours=hours))
        if at >= due + timedelta(hours=24) or not is_open(at, window, zone):
            continue
        local = at.astimezone(zone)
        p = probs[local.weekday() * 24 + local.hour]
        if p > best_p:
            best, best_p = at, p
    return best


def model_window(data: Mapping[str, Any] | None) -> Window | None:
    """A sequence's send window as the model's whole-hour window (None: the model's default)."""
    if not data:
        return None
    window = parse_window(data)
    start = window.start.hour + (1 if window.start.minute else 0)  # whole hours inside it
    end = 24 if window.end == time.max else window.end.hour
    if not 0 <= start < end <= 24:
        return None
    return Window(days=frozenset(window.days), start_hour=start, end_hour=end)


def recommend(
    scope: Scope, contact_id: int, *, sequence_id: int | None = None
) -> tuple[Recommendation, ContactProfile]:
    """The contact's best local send slot (within the sequence's window), with its evidence.

    Raises:
        NotFound: the contact or the sequence is not in this workspace.
    """
    from cadence.service.contacts import load_contact
    from cadence.service.sequences import load_sequence

    with scope.db.session() as session:
        contact = load_contact(session, scope, contact_id)
        ws = session.get(Workspace, scope.workspace_id)
        zone = ws.timezone if ws else "UTC"
        window = None
        if sequence_id is not None:
            seq = load_sequence(session, scope, sequence_id)
            window = model_window(seq.send_window)
            zone = (seq.settings or {}).get("timezone") or zone
        profile = profile_of(contact, zone)
        model = fitted_model(session, scope.app, scope.workspace_id)
        return model.recommend(profile, window, after=scope.now()), profile
