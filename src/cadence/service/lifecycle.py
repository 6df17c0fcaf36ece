"""Ending an enrollment: the one place that clears what a finished enrollment must not keep."""

from __future__ import annotations

from datetime import datetime

from cadence.domain.states import EnrollmentEvent, EnrollmentStatus, transition
from cadence.store.models import CrmSequenceEnrollment

__all__ = ["finish", "move", "underlying_status"]


def underlying_status(row: CrmSequenceEnrollment) -> EnrollmentStatus:
    """The state the enrollment is in, or the one a pause will return it to."""
    if row.status is EnrollmentStatus.PAUSED and row.paused_from is not None:
        return row.paused_from
    return row.status


def move(row: CrmSequenceEnrollment, event: EnrollmentEvent) -> None:
    """Apply ``event`` to the underlying state: a paused enrollment stays paused and will
    resume into the new state (a step that went out while it was being paused, say).

    Raises:
        InvalidTransition: the table does not allow ``event`` in that state.
    """
    if row.status is EnrollmentStatus.PAUSED and row.paused_from is not None:
        row.paused_from = transition(row.paused_from, event)
    else:
        row.status = transition(row.status, event)


def finish(
    row: CrmSequenceEnrollment,
    event: EnrollmentEvent,
    *,
    now: datetime,
    reason: str,
    target: EnrollmentStatus | None = None,
) -> None:
    """Move ``row`` to a terminal state by ``event``: nothing is scheduled or queued after it.

    Raises:
        InvalidTransition: ``event`` does not end an enrollment in its state.
    """
    row.status = transition(row.status, event, target)
    row.next_send_at = None
    row.paused_from = None
    row.paused_until = None
    row.job_id = None
    row.enqueued_at = None
    row.finished_at = now
    row.stop_reason = reason[:200]
    row.updated_at = now
