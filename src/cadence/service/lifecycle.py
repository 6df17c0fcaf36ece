"""Ending an enrollment: the one place that clears what a finished enrollment must not keep."""

from __future__ import annotations

from datetime import datetime

from cadence.domain.states import EnrollmentEvent, EnrollmentStatus, transition
from cadence.store.models import CrmSequenceEnrollment

__all__ = ["finish"]


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
