"""Counts of steps by where they stand, for Cadence's own admin page."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import col, select

from cadence.domain.states import EnrollmentStatus
from cadence.service.context import Scope
from cadence.store.models import CrmSequenceEnrollment, DeadLetter

__all__ = ["StepCounts", "step_counts"]


class StepCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    scheduled: int  # pending in the database, not yet handed to RQ
    queued: int  # handed to RQ (waiting in the queue or its scheduled registry)
    waiting_on_tasks: int
    failed: int  # enrollments failed: their step is a dead letter
    dead_letters: int  # open dead letters


def step_counts(scope: Scope) -> StepCounts:
    with scope.db.session() as session:
        base = (
            select(func.count())
            .select_from(CrmSequenceEnrollment)
            .where(CrmSequenceEnrollment.workspace_id == scope.workspace_id)
        )
        due = col(CrmSequenceEnrollment.status).in_(
            [EnrollmentStatus.PENDING, EnrollmentStatus.SENT]
        )
        scheduled = session.exec(
            base.where(
                due,
                col(CrmSequenceEnrollment.next_send_at).is_not(None),
                col(CrmSequenceEnrollment.job_id).is_(None),
            )
        ).one()
        queued = session.exec(base.where(due, col(CrmSequenceEnrollment.job_id).is_not(None))).one()
        tasks = session.exec(
            base.where(
                CrmSequenceEnrollment.status == EnrollmentStatus.SENT,
                col(CrmSequenceEnrollment.next_send_at).is_(None),
            )
        ).one()
        failed = session.exec(
            base.where(CrmSequenceEnrollment.status == EnrollmentStatus.FAILED)
        ).one()
        dead = session.exec(
            select(func.count())
            .select_from(DeadLetter)
            .where(
                DeadLetter.workspace_id == scope.workspace_id, col(DeadLetter.resolved_at).is_(None)
            )
        ).one()
        return StepCounts(
            scheduled=scheduled,
            queued=queued,
            waiting_on_tasks=tasks,
            failed=failed,
            dead_letters=dead,
        )
