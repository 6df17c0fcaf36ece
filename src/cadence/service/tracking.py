"""Opens and clicks, recorded against the touch that a signed link names."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import select

from cadence.service.context import Cadence
from cadence.service.enrollments import record_event
from cadence.store.enums import EventType
from cadence.store.models import EngagementEvent, Touch

__all__ = ["record_engagement", "touch_id_of"]

_KEY = re.compile(r"^t(\d+)-")


def touch_id_of(touch_key: str) -> int | None:
    """The touch id inside a touch key (``t<id>-<enrollment>-<step>-<cycle>``)."""
    match = _KEY.match(touch_key)
    return int(match.group(1)) if match else None


def record_engagement(
    app: Cadence, touch_key: str, kind: EventType, *, at: datetime | None = None, **data: object
) -> bool:
    """Record an open or a click for the touch; False when the touch is unknown.

    The workspace is the touch's own: the key came from a token we signed.
    """
    touch_id = touch_id_of(touch_key)
    if touch_id is None:
        return False
    with app.db.transaction() as session:
        touch = session.get(Touch, touch_id)
        if touch is None:
            return False
        if kind is EventType.OPENED:
            # One open per touch is evidence enough; proxies re-fetch pixels many times.
            seen = session.exec(
                select(EngagementEvent.id).where(
                    EngagementEvent.touch_id == touch_id, EngagementEvent.type == EventType.OPENED
                )
            ).first()
            if seen is not None:
                return True
        scope = app.scope(touch.workspace_id, actor="recipient")
        record_event(
            session,
            scope,
            kind,
            contact_id=touch.contact_id,
            enrollment_id=touch.enrollment_id,
            touch_id=touch.id,
            at=at or app.clock.now(),
            **data,
        )
        return True
