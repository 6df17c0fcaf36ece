"""``cadence worker``: an RQ worker on ``crm:sequences`` with the scheduler and the promoter.

``CADENCE_REDIS_URL=memory://`` runs everything in this process on fakeredis (a SimpleWorker,
no fork, the promoter enqueueing only what is due). With a real Redis, RQ forks a work horse per
job and its scheduler moves delayed jobs into the queue when due. ``rq worker-pool crm:sequences
--worker-class cadence.engine.worker.CadenceWorker`` works too: each worker runs a promoter
thread, and the promoter's lock lets one run at a time.
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


class CadenceWorker(Worker):
    """An RQ worker that also runs the promoter (for ``rq worker`` / ``rq worker-pool``)."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        rt = runtime.current()
        thread = PromoterThread(rt, rt.app.settings.promote_interval_seconds, horizon=None)
        thread.start()
        try:
            return bool(super().work(*args, **kwargs))
        finally:
            thread.stop()


def run_worker(
    *, burst: bool = False, promoter: bool = True, rt: runtime.EngineRuntime | None = None
) -> bool:
    """Run a worker until stopped (or, with ``burst``, until the queue is empty)."""
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
    worker_class = SimpleWorker if memory else Worker
    worker = worker_class([queue], connection=rt.redis)
    try:
        return bool(worker.work(burst=burst, with_scheduler=not memory and not burst))
    finally:
        if thread is not None:
            thread.stop()
