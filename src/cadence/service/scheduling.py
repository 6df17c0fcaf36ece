"""Where an enrollment stands and when its next step is due: the glue between rows and
``cadence.domain.schedule``.

An enrollment's ``current_step_id`` is the step it waits to run (created, pending, failed) or the
step it ran last (sent); ``None`` means "nothing left to run" for the first kind and "nothing run
that still exists" for the second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from cadence.domain.schedule import Delay, SendWindow, due_at, next_open, parse_window
from cadence.domain.states import LIVE_STATES, EnrollmentEvent, EnrollmentStatus, transition
from cadence.service.context import Cadence
from cadence.service.lifecycle import finish
from cadence.store.models import (
    Contact,
    CrmSequence,
    CrmSequenceEnrollment,
    CrmSequenceStep,
    Workspace,
)

__all__ = [
    "due_for_step",
    "next_due_after",
    "open_at",
    "reposition_enrollments",
    "schedule_created",
    "smart_due",
    "step_after",
    "stop_all",
    "zone_for",
]

_EXECUTED_SIDE = frozenset({EnrollmentStatus.SENT})


def _window(seq: CrmSequence) -> SendWindow | None:
    return _parsed_window(json.dumps(seq.send_window, sort_keys=True)) if seq.send_window else None


@lru_cache(maxsize=1024)
def _parsed_window(key: str) -> SendWindow:
    return parse_window(json.loads(key))


def zone_for(contact: Contact | None, seq: CrmSequence, ws: Workspace | None) -> ZoneInfo:
    """The contact's time zone, else the sequence's, else the workspace's, else UTC."""
    for name in (
        contact.timezone if contact else None,
        (seq.settings or {}).get("timezone"),
        ws.timezone if ws else None,
    ):
        if name:
            return ZoneInfo(name)
    return ZoneInfo("UTC")


def due_for_step(
    previous: datetime, step: CrmSequenceStep, seq: CrmSequence, zone: ZoneInfo
) -> datetime:
    """When ``step`` is due if the step before it (or the enrollment) happened at ``previous``."""
    window = _window(seq)
    delay = Delay(hours=step.delay_hours, business_days=step.delay_business_days)
    return due_at(previous, delay, window, zone)


def open_at(at: datetime, seq: CrmSequence, zone: ZoneInfo) -> datetime:
    """The first instant from ``at`` inside the sequence's send window (``at`` with no window)."""
    window = _window(seq)
    return next_open(at, window, zone) if window else at


def smart_due(
    session: Session,
    app: Cadence,
    seq: CrmSequence,
    contact: Contact | None,
    zone: ZoneInfo,
    due: datetime,
) -> datetime:
    """``due`` moved to the contact's best hour when the sequence has smart send time on."""
    if contact is None or not (seq.settings or {}).get("smart_send_time"):
        return due
    from cadence.service.sendtime import best_send_time

    return best_send_time(session, app, contact, _window(seq), zone, due)


def next_due_after(
    session: Session,
    app: Cadence,
    row: CrmSequenceEnrollment,
    seq: CrmSequence,
    contact: Contact | None,
    zone: ZoneInfo,
    at: datetime,
) -> datetime:
    """When an enrollment whose current step finished at ``at`` goes on: the next step's due
    time (at the contact's best hour with smart send time), or the end of the final wait."""
    from cadence.service.sequences import live_steps

    assert seq.id is not None
    nxt = step_after(live_steps(session, seq.id), row.current_step_id)
    if nxt is not None:
        return smart_due(session, app, seq, contact, zone, due_for_step(at, nxt, seq, zone))
    hours = (seq.settings or {}).get("final_wait_hours")
    wait = app.settings.completion_wait_hours if hours is None else int(hours)
    return at + timedelta(hours=wait)


def step_after(steps: Sequence[CrmSequenceStep], step_id: int | None) -> CrmSequenceStep | None:
    """The live step after ``step_id`` (the first one when ``step_id`` is None)."""
    if step_id is None:
        return steps[0] if steps else None
    ids = [s.id for s in steps]
    if step_id not in ids:
        return None
    i = ids.index(step_id)
    return steps[i + 1] if i + 1 < len(steps) else None


def _contacts(session: Session, ids: Iterable[int]) -> dict[int, Contact]:
    wanted = sorted(set(ids))
    found: dict[int, Contact] = {}
    for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        for c in session.exec(select(Contact).where(col(Contact.id).in_(chunk))):
            assert c.id is not None
            found[c.id] = c
    return found


def schedule_created(session: Session, seq: CrmSequence, now: datetime) -> int:
    """Schedule every enrollment of ``seq`` still waiting in ``created``; returns how many."""
    from cadence.service.sequences import live_steps

    assert seq.id is not None
    rows = list(
        session.exec(
            select(CrmSequenceEnrollment).where(
                CrmSequenceEnrollment.sequence_id == seq.id,
                CrmSequenceEnrollment.status == EnrollmentStatus.CREATED,
            )
        )
    )
    if not rows:
        return 0
    steps = {s.id: s for s in live_steps(session, seq.id)}
    ws = session.get(Workspace, seq.workspace_id)
    contacts = _contacts(session, (r.contact_id for r in rows))
    for row in rows:
        row.status = transition(row.status, EnrollmentEvent.SCHEDULE)
        step = steps.get(row.current_step_id)
        zone = zone_for(contacts.get(row.contact_id), seq, ws)
        row.next_send_at = due_for_step(now, step, seq, zone) if step else now
        row.updated_at = now
        session.add(row)
    return len(rows)


def stop_all(session: Session, seq: CrmSequence, now: datetime, *, reason: str) -> int:
    """Remove every live enrollment of ``seq``; returns how many."""
    rows = list(
        session.exec(
            select(CrmSequenceEnrollment).where(
                CrmSequenceEnrollment.sequence_id == seq.id,
                col(CrmSequenceEnrollment.status).in_(list(LIVE_STATES)),
            )
        )
    )
    for row in rows:
        finish(row, EnrollmentEvent.REMOVE, now=now, reason=reason)
        session.add(row)
    return len(rows)


def reposition_enrollments(
    session: Session,
    seq: CrmSequence,
    now: datetime,
    *,
    old_order: Sequence[int] = (),
    deleted: Iterable[int] = (),
) -> None:
    """After an edit: move enrollments off deleted steps and refresh ``current_step``.

    An enrollment waiting on a deleted step moves to the next surviving step (in the old order);
    one that last ran a deleted step counts the surviving step before it as its last.
    """
    from cadence.service.sequences import live_steps

    assert seq.id is not None
    gone = set(deleted)
    survivors = [i for i in old_order if i not in gone]
    for step_id in gone:
        at = list(old_order).index(step_id) if step_id in old_order else -1
        before = next((i for i in reversed(old_order[:at]) if i in survivors), None)
        after = next((i for i in old_order[at + 1 :] if i in survivors), None)
        rows = session.exec(
            select(CrmSequenceEnrollment).where(
                CrmSequenceEnrollment.sequence_id == seq.id,
                CrmSequenceEnrollment.current_step_id == step_id,
                col(CrmSequenceEnrollment.status).in_(list(LIVE_STATES)),
            )
        )
        for row in rows:
            ran = row.status in _EXECUTED_SIDE or (
                row.status is EnrollmentStatus.PAUSED and row.paused_from in _EXECUTED_SIDE
            )
            row.current_step_id = before if ran else after
            row.updated_at = now
            session.add(row)
    session.flush()
    positions = {s.id: s.position for s in live_steps(session, seq.id)}
    for live_id, position in positions.items():
        session.execute(
            update(CrmSequenceEnrollment)
            .where(
                col(CrmSequenceEnrollment.sequence_id) == seq.id,
                col(CrmSequenceEnrollment.current_step_id) == live_id,
            )
            .values(current_step=position)
        )
