"""The promoter: the database is the schedule, Redis is the conveyor.

Each run (one at a time, by a Redis lock):

0. resumes enrollments whose pause has run out (an out-of-office's return date passed);
1. sweeps touches reserved long ago and never confirmed into dead letters (at most once);
2. clears the mark of steps whose RQ job has vanished (Redis restarted or flushed), so they are
   promoted again: losing Redis loses nothing;
3. moves steps due within the horizon into RQ, in batches per due second, with deterministic job
   ids, marking them queued. Redis holds what is due soon, so its memory grows with the send rate,
   not with the number of enrollments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from cadence.domain.specs import SequenceStatus
from cadence.domain.states import EnrollmentStatus
from cadence.engine.connection import RedisLock
from cadence.engine.jobs import batch_job_id, queue_for, run_batch
from cadence.engine.runtime import EngineRuntime
from cadence.service.delivery import StepRef, fail_step
from cadence.service.inbound import resume_due_pauses
from cadence.service.lookup import lock_enrollment
from cadence.store.enums import TouchStatus
from cadence.store.models import CrmSequence, CrmSequenceEnrollment, Touch

__all__ = ["LOCK_NAME", "PromoteStats", "promote"]

LOCK_NAME = "cadence:promoter:lock"
_DUE = (EnrollmentStatus.PENDING, EnrollmentStatus.SENT)
_SCAN = 5000  # rows read per pass


@dataclass
class PromoteStats:
    promoted: int = 0
    jobs: int = 0
    requeued: int = 0
    resumed: int = 0  # pauses that ran out (an out-of-office's return date)
    dead_lettered: int = 0
    locked_out: bool = False


def promote(
    rt: EngineRuntime, *, now: datetime | None = None, horizon: timedelta | None = None
) -> PromoteStats:
    """One promoter run; returns what it did."""
    settings = rt.app.settings
    now = now or rt.app.clock.now()
    if horizon is None:
        horizon = timedelta(seconds=settings.promote_horizon_seconds)
    lock = RedisLock(rt.redis, LOCK_NAME, ttl_seconds=120)
    stats = PromoteStats()
    if not lock.acquire():
        stats.locked_out = True
        return stats
    try:
        stats.resumed = resume_due_pauses(rt.app, now)
        stats.dead_lettered = _sweep_unconfirmed(
            rt, now - timedelta(seconds=settings.unconfirmed_timeout_seconds)
        )
        stats.requeued = _clear_vanished(
            rt, now - timedelta(seconds=settings.unconfirmed_timeout_seconds)
        )
        while True:
            promoted, jobs = _promote_pass(rt, now, horizon, settings.batch_size)
            stats.promoted += promoted
            stats.jobs += jobs
            if promoted < _SCAN:
                break
    finally:
        lock.release()
    return stats


def _sweep_unconfirmed(rt: EngineRuntime, before: datetime) -> int:
    with rt.app.db.session() as session:
        stale = list(
            session.exec(
                select(Touch.id, Touch.enrollment_id).where(
                    Touch.status == TouchStatus.RESERVED, col(Touch.touched_at) < before
                )
            )
        )
    count = 0
    for touch_id, enrollment_id in stale:
        with rt.app.db.transaction() as session:
            row = lock_enrollment(session, enrollment_id)
            assert row is not None  # enrollments are never deleted under a live row
            touch = session.get(Touch, touch_id)
            if touch is None or touch.status is not TouchStatus.RESERVED:
                continue
            fail_step(
                session,
                row,
                touch,
                rt.app.clock.now(),
                reason="unconfirmed_send",
                error="the send was reserved but never confirmed (the worker stopped mid-send); "
                "it may or may not have gone out",
                touch_status=TouchStatus.RESERVED,
            )
            count += 1
    return count


_WAITING = {b"queued", b"scheduled", b"deferred"}


def _alive(status: bytes | None, started_at: bytes | None, stuck_before: datetime) -> bool:
    """A job still to run, or running and not stuck (its worker may have died mid-batch)."""
    if status in _WAITING:
        return True
    if status == b"started" and started_at:
        try:
            started = datetime.fromisoformat(started_at.decode())
        except ValueError:
            return True
        return started.replace(tzinfo=started.tzinfo or UTC) > stuck_before
    return False  # finished, failed, stopped or gone: whatever it left undone runs again


def _clear_vanished(rt: EngineRuntime, stuck_before: datetime) -> int:
    with rt.app.db.session() as session:
        marked = list(
            session.exec(
                select(CrmSequenceEnrollment.id, CrmSequenceEnrollment.job_id).where(
                    col(CrmSequenceEnrollment.job_id).is_not(None),
                    col(CrmSequenceEnrollment.status).in_(list(_DUE)),
                )
            )
        )
    if not marked:
        return 0
    job_ids = sorted({j for _, j in marked if j})
    with rt.redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(f"rq:job:{job_id}", "status", "started_at")
        answers = pipe.execute()
    alive = {
        j
        for j, (status, started) in zip(job_ids, answers, strict=True)
        if _alive(status, started, stuck_before)
    }
    gone = [i for i, j in marked if j not in alive]
    if not gone:
        return 0
    with rt.app.db.transaction() as session:
        for start in range(0, len(gone), 900):
            session.execute(
                update(CrmSequenceEnrollment)
                .where(col(CrmSequenceEnrollment.id).in_(gone[start : start + 900]))
                .values(job_id=None, enqueued_at=None)
            )
    return len(gone)


def _promote_pass(
    rt: EngineRuntime, now: datetime, horizon: timedelta, batch_size: int
) -> tuple[int, int]:
    until = now + horizon
    with rt.app.db.transaction() as session:
        rows = list(
            session.exec(
                select(
                    CrmSequenceEnrollment.id,
                    CrmSequenceEnrollment.current_step_id,
                    CrmSequenceEnrollment.cycle,
                    CrmSequenceEnrollment.next_send_at,
                )
                .join(CrmSequence, col(CrmSequence.id) == col(CrmSequenceEnrollment.sequence_id))
                .where(
                    col(CrmSequenceEnrollment.status).in_(list(_DUE)),
                    col(CrmSequenceEnrollment.next_send_at) <= until,
                    col(CrmSequenceEnrollment.job_id).is_(None),
                    CrmSequence.status == SequenceStatus.ACTIVE,
                )
                .order_by(col(CrmSequenceEnrollment.next_send_at))
                .limit(_SCAN)
            )
        )
        if not rows:
            return 0, 0
        buckets: dict[datetime, list[tuple[int, StepRef]]] = defaultdict(list)
        for eid, step_id, cycle, due in rows:
            assert eid is not None and step_id is not None and due is not None
            buckets[due.replace(microsecond=0)].append((eid, StepRef(eid, step_id, cycle)))
        plan: list[tuple[datetime, str, list[StepRef]]] = []
        for due, members in sorted(buckets.items()):
            for start in range(0, len(members), batch_size):
                chunk = members[start : start + batch_size]
                refs = [r for _, r in chunk]
                job_id = batch_job_id(refs)
                plan.append((due, job_id, refs))
                session.execute(
                    update(CrmSequenceEnrollment)
                    .where(col(CrmSequenceEnrollment.id).in_([e for e, _ in chunk]))
                    .values(job_id=job_id, enqueued_at=now)
                )
    # Marked first, enqueued second: if this process dies in between, the marks point at jobs
    # that do not exist, and the next run's vanished check promotes the steps again.
    queue = queue_for(rt.redis)
    with rt.redis.pipeline() as pipe:
        for due, job_id, refs in plan:
            args = ([[r.enrollment_id, r.step_id, r.cycle] for r in refs],)
            options = {
                "job_id": job_id,
                "pipeline": pipe,
                "result_ttl": 3600,
                "failure_ttl": 30 * 24 * 3600,
            }
            if due <= now:
                queue.enqueue(run_batch, *args, **options)
            else:
                queue.enqueue_at(due, run_batch, *args, **options)
        pipe.execute()
    return len(rows), len(plan)
