"""Smart send time: the send-time model, fitted per workspace on its own engagement events.

A model is fitted at most once an hour per workspace and process, on the last 180 days of
events. ``best_send_time`` moves a step's due time to the contact's best hour within the next
24 hours that the sequence's window allows, so a smart step is never more than a day late.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from cadence.ai.sendtime import ContactProfile, SendTimeModel
from cadence.ai.sendtime import EngagementEvent as ModelEvent
from cadence.domain.schedule import ALWAYS_OPEN, SendWindow, is_open
from cadence.service.context import Cadence
from cadence.store.enums import EventType
from cadence.store.models import Contact, EngagementEvent

__all__ = ["best_send_time", "fitted_model", "profile_of", "reset_cache"]

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
_cache: dict[tuple[str, int], tuple[datetime, SendTimeModel]] = {}


def reset_cache() -> None:
    with _lock:
        _cache.clear()


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
    key = (app.db.url, workspace_id)
    with _lock:
        cached = _cache.get(key)
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
        _cache[key] = (now, model)
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
