"""The touch governor: no contact gets more than the daily limit of touches, whatever runs at once.

Before each send the engine asks for a reservation. Under a lock on the contact's row (``SELECT
… FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises every writer) it counts the
touches of the contact's local day, across all sequences and channels, and either inserts the
touch as ``reserved`` or answers when the next allowed time is. The count is read from the touches
themselves, so there is no counter to drift from what was really sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from cadence.domain.schedule import local_day_bounds
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.enrolling import COUNTED_TOUCHES
from cadence.service.enrollments import load_enrollment
from cadence.service.sequences import load_sequence
from cadence.store.enums import TouchStatus
from cadence.store.models import Contact, CrmSequenceEnrollment, CrmSequenceStep, Touch, Workspace

__all__ = [
    "Deferred",
    "Duplicate",
    "Reserved",
    "daily_limit",
    "reserve_touch",
    "reserve_touch_for",
    "touches_on_day",
]


@dataclass(frozen=True)
class Reserved:
    touch_id: int
    local_day: date
    count: int  # touches that day, this one included


@dataclass(frozen=True)
class Deferred:
    until: datetime  # the next allowed time (UTC): the contact's next local day, in the window
    local_day: date
    count: int
    limit: int


@dataclass(frozen=True)
class Duplicate:
    touch_id: int  # this step already has its touch: a duplicate job, do nothing


def daily_limit(scope: Scope, ws: Workspace) -> int:
    return ws.daily_touch_limit or scope.app.settings.daily_touch_limit


def touches_on_day(session: Session, contact_id: int, start: datetime, end: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Touch)
            .where(
                Touch.contact_id == contact_id,
                col(Touch.touched_at) >= start,
                col(Touch.touched_at) < end,
                col(Touch.status).in_(list(COUNTED_TOUCHES)),
            )
        ).one()
    )


def reserve_touch(
    session: Session,
    row: CrmSequenceEnrollment,
    step: CrmSequenceStep,
    *,
    at: datetime,
    zone: ZoneInfo,
    limit: int,
) -> Reserved | Deferred | Duplicate:
    """Reserve the touch for one step, inside the caller's transaction.

    Commit the transaction promptly: the contact's row stays locked until then.
    """
    assert row.id is not None and step.id is not None
    contact_id, enrollment_id, step_id, cycle = row.contact_id, row.id, step.id, row.cycle
    session.exec(select(Contact.id).where(Contact.id == contact_id).with_for_update()).one()
    existing = session.exec(
        select(Touch).where(
            Touch.enrollment_id == enrollment_id, Touch.step_id == step_id, Touch.cycle == cycle
        )
    ).first()
    if existing is not None and existing.status is not TouchStatus.FAILED:
        assert existing.id is not None
        return Duplicate(touch_id=existing.id)
    start, end = local_day_bounds(at, zone)
    day = start.astimezone(zone).date()
    count = touches_on_day(session, contact_id, start, end)
    if count >= limit:
        return Deferred(until=end, local_day=day, count=count, limit=limit)
    if existing is not None:  # a failed attempt: this retry takes its row again
        existing.status, existing.touched_at = TouchStatus.RESERVED, at
        session.add(existing)
        session.flush()
        assert existing.id is not None
        return Reserved(touch_id=existing.id, local_day=day, count=count + 1)
    touch = Touch(
        workspace_id=row.workspace_id,
        enrollment_id=enrollment_id,
        contact_id=contact_id,
        sequence_id=row.sequence_id,
        step_id=step_id,
        cycle=cycle,
        channel=step.channel,
        status=TouchStatus.RESERVED,
        touched_at=at,
    )
    session.add(touch)
    session.flush()
    assert touch.id is not None
    return Reserved(touch_id=touch.id, local_day=day, count=count + 1)


def reserve_touch_for(
    scope: Scope, enrollment_id: int, *, at: datetime | None = None
) -> Reserved | Deferred | Duplicate:
    """Reserve the touch for an enrollment's current step, in a transaction of its own.

    A deferral's ``until`` is moved into the sequence's send window.

    Raises:
        NotFound: the enrollment is not in this workspace.
    """
    at = at or scope.now()
    with scope.db.transaction() as session:
        row = load_enrollment(session, scope, enrollment_id)
        seq = load_sequence(session, scope, row.sequence_id)
        step = session.get(CrmSequenceStep, row.current_step_id)
        contact = session.get(Contact, row.contact_id)
        ws = session.get(Workspace, scope.workspace_id)
        assert step is not None and step.id is not None and ws is not None and row.id is not None
        zone = scheduling.zone_for(contact, seq, ws)
        result = reserve_touch(session, row, step, at=at, zone=zone, limit=daily_limit(scope, ws))
        if isinstance(result, Deferred):
            return Deferred(
                until=scheduling.open_at(result.until, seq, zone),
                local_day=result.local_day,
                count=result.count,
                limit=result.limit,
            )
        return result
