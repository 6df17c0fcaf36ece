"""``cadence worker``: an RQ worker on ``crm:sequences`` with the scheduler and the promoter.

Jobs run in the worker's own process (RQ's SimpleWorker), keeping connections and compiled
statements warm; ``--fork`` gives each job a forked work horse instead. With a real Redis, RQ's
scheduler moves delayed jobs into the queue when due; ``CADENCE_REDIS_URL=memory://`` runs
everything in this process on fakeredis, the promoter enqueueing only what is due.
``rq worker-pool crm:sequences --worker-class cadence.engine.worker.CadenceWorker`` works too:
each worker runs a promoter thread, and the promoter's lock lets one run at a time.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from rq import SimpleWorker, Worker

from cadence.engine import runtime
from cadence.engine.connection import is_memory
from cadence.engine.jobs import queue_for
from cadence.engine.promoter import promote

__all__ = ["CadenceWorker", "PromoterThread", "run_worker"]

log = logging.getLogger(__name__)


class PromoterThread(threading.Thread):
    """Runs the promoter every ``interval`` seconds until stopped."""

    def __init__(
        self, rt: runtime.EngineRuntime, interval: float, *, horizon: timedelta | None
    ) -> None:
        super().__init__(name="cadence-promoter", daemon=True)
        self.rt, self.interval, self.horizon = rt, interval, horizon
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                stats = promote(self.rt, horizon=self.horizon)
                if stats.promoted or stats.requeued or stats.dead_lettered:
                    log.info("promoter: %s", stats)
            except Exception:
                log.exception("promoter run failed; trying again next interval")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()


class CadenceWorker(SimpleWorker):
    """An RQ worker that runs jobs in its own process and also runs the promoter (for
    ``rq worker`` / ``rq worker-pool --worker-class cadence.engine.worker.CadenceWorker``)."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        rt = runtime.current()
        thread = PromoterThread(rt, rt.app.settings.promote_interval_seconds, horizon=None)
        thread.start()
        try:
            return bool(super().work(*args, **kwargs))
        finally:
            thread.stop()


def run_worker(
    *,
    burst: bool = False,
    promoter: bool = True,
    fork: bool = False,
    rt: runtime.EngineRuntime | None = None,
) -> bool:
    """Run a worker until stopped (or, with ``burst``, until the queue is empty).

    Jobs run in this process by default: Cadence's jobs are thin, and keeping the database pool,
    compiled statements and SMTP sessions across jobs saves ~200 ms a job over forking a work
    horse each time. ``fork=True`` uses RQ's forking ``Worker`` for isolation instead.
    """
    rt = runtime.configure(rt or runtime.from_settings())
    memory = is_memory(rt.redis)
    queue = queue_for(rt.redis)
    thread: PromoterThread | None = None
    if promoter:
        # Without a real Redis there is no scheduler process: promote only what is due now.
        horizon = timedelta(0) if memory else None
        if burst:
            promote(rt, horizon=horizon)
        else:
            thread = PromoterThread(rt, rt.app.settings.promote_interval_seconds, horizon=horizon)
            thread.start()
    worker_class = Worker if fork and not memory else SimpleWorker
    worker = worker_class([queue], connection=rt.redis)
    try:
        return bool(worker.work(burst=burst, with_scheduler=not memory and not burst))
    finally:
        if thread is not None:
            thread.stop()
