"""RQ job functions. Thin: they take ids, call the service, and return a small JSON-able summary.

``run_batch`` executes a batch of due steps over one SMTP connection. A step that fails
transiently is handed to ``run_step``, alone, with exponential backoff (RQ ``Retry``); when its
retries run out, ``on_step_failure`` turns it into a dead letter (the job stays in RQ's failed
registry too).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

from redis import Redis
from rq import Callback, Queue, Retry
from rq.job import Job

from cadence.channels.base import ChannelSession
from cadence.engine import runtime
from cadence.errors import (
    StepFailed,  # re-exported here
)
from cadence.service.delivery import Outcome, Prepared, StepRef, dead_letter, prepare, record

__all__ = [
    "QUEUE",
    "StepFailed",
    "batch_job_id",
    "enqueue_retry",
    "on_step_failure",
    "queue_for",
    "run_batch",
    "run_step",
    "step_job_id",
]

QUEUE = "crm:sequences"
log = logging.getLogger(__name__)


def queue_for(redis: Redis) -> Queue:
    return Queue(QUEUE, connection=redis)


def batch_job_id(refs: Sequence[StepRef]) -> str:
    """The same steps always make the same id (RQ allows only [A-Za-z0-9_-])."""
    digest = hashlib.sha1(",".join(r.key() for r in refs).encode()).hexdigest()[:24]
    return f"cad-b-{digest}"


def step_job_id(ref: StepRef) -> str:
    return f"cad-s-{ref.key()}"


def _refs(items: Sequence[Sequence[int]]) -> list[StepRef]:
    return [StepRef(int(e), int(s), int(c)) for e, s, c in items]


def _execute(rt: runtime.EngineRuntime, ref: StepRef, smtp: ChannelSession) -> Outcome:
    prepared = prepare(rt.app, ref)
    if not isinstance(prepared, Prepared):
        return prepared
    result = smtp.send(prepared.email)
    return record(rt.app, prepared, result)


def enqueue_retry(rt: runtime.EngineRuntime, ref: StepRef) -> Job | None:
    """Run one step again later, alone, with the configured backoff (None: no retries are
    configured, so the step goes straight to the dead letters)."""
    intervals = list(rt.retry_intervals)
    queue = queue_for(rt.redis)
    if not intervals:
        dead_letter(
            rt.app, ref, reason="retries_exhausted", error="no retries configured", job_id=None
        )
        return None
    options: dict[str, Any] = {
        "job_id": step_job_id(ref),
        "on_failure": Callback(on_step_failure),
        "failure_ttl": 30 * 24 * 3600,  # keep failures visible for a month
    }
    if len(intervals) > 1:
        options["retry"] = Retry(max=len(intervals) - 1, interval=intervals[1:])
    args = ([ref.enrollment_id, ref.step_id, ref.cycle],)
    if intervals[0] <= 0:
        return queue.enqueue(run_step, *args, **options)
    return queue.enqueue_in(timedelta(seconds=intervals[0]), run_step, *args, **options)


def run_batch(items: list[list[int]]) -> dict[str, int]:
    """Execute due steps, each in its own transactions, over one SMTP connection."""
    rt = runtime.current()
    counts: Counter[str] = Counter()
    with rt.email.session() as smtp:
        for ref in _refs(items):
            try:
                outcome = _execute(rt, ref, smtp)
            except Exception:
                # The database or the channel broke for this step only: retry it alone.
                log.exception("step %s failed; retrying it alone", ref.key())
                outcome = Outcome.RETRY
            if outcome is Outcome.RETRY:
                enqueue_retry(rt, ref)
            counts[outcome.value] += 1
    return dict(counts)


def run_step(item: list[int]) -> str:
    """Execute one step (a retry); raise so that RQ retries it while it fails transiently."""
    rt = runtime.current()
    ref = _refs([item])[0]
    with rt.email.session() as smtp:
        outcome = _execute(rt, ref, smtp)
    if outcome is Outcome.RETRY:
        raise StepFailed(f"step {ref.key()} failed transiently")
    return outcome.value


def on_step_failure(
    job: Job,
    connection: Redis,
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> None:
    """RQ calls this after every failed attempt; the last one makes a dead letter."""
    if job.retries_left:
        return
    item = job.args[0]
    ref = StepRef(int(item[0]), int(item[1]), int(item[2]))
    error = f"{exc_type.__name__ if exc_type else 'error'}: {exc}"
    dead_letter(runtime.current().app, ref, reason="retries_exhausted", error=error, job_id=job.id)
