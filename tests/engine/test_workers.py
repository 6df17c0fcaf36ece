"""Worker processes under fault: SIGKILL mid-batch, and two workers on one queue.

These run real `cadence worker` processes (RQ's forking Worker) against real Redis, the test's
database and a real SMTP server, so they need CADENCE_TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from cadence.clock import ManualClock
from cadence.engine import runtime
from cadence.engine.promoter import promote
from cadence.service.context import Cadence
from cadence.service.deadletters import list_dead_letters
from cadence.store.models import CrmSequenceEnrollment, Touch
from tests import factories as f
from tests.channels.conftest import ScriptedHandler, SmtpServer, start_server
from tests.engine.conftest import REDIS_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not REDIS_URL, reason="worker processes need a real Redis (CADENCE_TEST_REDIS_URL)"
    ),
]


class SlowHandler(ScriptedHandler):
    """Takes a while over each message, so that a kill lands mid-batch."""

    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Any:
    handler = SlowHandler()
    server = start_server(handler)
    yield server
    server.controller.stop()


def _worker(
    app: Cadence, redis_url: str, smtp: SmtpServer, log: Path, *, fork: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CADENCE_DATABASE_URL": app.db.url,
        "CADENCE_REDIS_URL": redis_url,
        "CADENCE_SMTP_URL": smtp.url(),
        "CADENCE_AUTO_MIGRATE": "false",
        "CADENCE_RETRY_INTERVALS": "[0, 0, 0]",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cadence.cli", "worker", "--burst", "--no-promoter"]
        + (["--fork"] if fork else []),
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill_with_children(pid: int) -> None:
    """SIGKILL a worker and its work horses (RQ puts a horse in a session of its own)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    for child in children:
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


def _setup(app: Cadence, clock: ManualClock, n: int) -> list[str]:
    clock.set(datetime.now(UTC).replace(microsecond=0))  # the worker processes use the wall clock
    scope = f.workspace(app)
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "S", "body": "B"}])
    people = [f.contact(scope, i, timezone="UTC") for i in range(1, n + 1)]
    for p in people:
        f.enroll(scope, p.id, seq.id)
    return [p.email or "" for p in people]


@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked-horse"])
def test_a_worker_killed_mid_batch_sends_no_step_twice_and_loses_none(
    app: Cadence,
    clock: ManualClock,
    engine: runtime.EngineRuntime,
    redis_url: str,
    slow_smtp: SmtpServer,
    tmp_path: Path,
    fork: bool,
) -> None:
    slow_smtp.handler.delay = 0.15  # type: ignore[attr-defined]
    emails = _setup(app, clock, 20)
    engine.app.settings.batch_size = 20
    assert promote(engine, horizon=timedelta(0)).jobs == 1
    worker = _worker(app, redis_url, slow_smtp, tmp_path / "worker1.log", fork=fork)
    deadline = time.monotonic() + 60
    while len(slow_smtp.handler.deliveries) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    _kill_with_children(worker.pid)  # the worker and its work horse, mid-batch
    worker.wait(timeout=10)
    before = len(slow_smtp.handler.deliveries)
    assert 5 <= before < 20
    # Later, the promoter finds the stuck batch and the unconfirmed send.
    clock.advance(seconds=app.settings.unconfirmed_timeout_seconds + 60)
    stats = promote(engine, horizon=timedelta(0))
    assert stats.dead_lettered <= 1 and stats.requeued >= 20 - before - 1
    worker = _worker(app, redis_url, slow_smtp, tmp_path / "worker2.log")
    assert worker.wait(timeout=120) == 0, (tmp_path / "worker2.log").read_text()[-3000:]
    received = Counter(r for d in slow_smtp.handler.deliveries for r in d.rcpt_tos)
    assert all(n == 1 for n in received.values()), received  # no step sent twice
    with app.db.session() as s:
        touches = {t.enrollment_id: t.status for t in s.exec(select(Touch))}
    letters = list_dead_letters(app.scope(1))
    assert len(letters) == stats.dead_lettered
    assert [str(d.reason) for d in letters] == ["unconfirmed_send"] * len(letters)
    sent = [e for e, st in touches.items() if st == "sent"]
    assert len(sent) + len(letters) == 20  # none lost: sent, or waiting for a person
    assert set(received) <= set(emails) and len(received) >= len(sent)


def test_two_workers_on_one_queue_send_each_step_once(
    app: Cadence,
    clock: ManualClock,
    engine: runtime.EngineRuntime,
    redis_url: str,
    slow_smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    slow_smtp.handler.delay = 0.01  # type: ignore[attr-defined]
    emails = _setup(app, clock, 40)
    engine.app.settings.batch_size = 4
    assert promote(engine, horizon=timedelta(0)).jobs == 10
    with app.db.transaction() as s:  # lose the marks: every batch is enqueued a second time
        s.execute(update(CrmSequenceEnrollment).values(job_id=None))
    assert promote(engine, horizon=timedelta(0)).jobs == 10
    workers = [_worker(app, redis_url, slow_smtp, tmp_path / f"w{i}.log") for i in (1, 2)]
    for i, w in enumerate(workers, start=1):
        assert w.wait(timeout=120) == 0, (tmp_path / f"w{i}.log").read_text()[-3000:]
    received = Counter(r for d in slow_smtp.handler.deliveries for r in d.rcpt_tos)
    assert received == Counter(emails)
    with app.db.session() as s:
        assert sorted(t.status for t in s.exec(select(Touch))) == ["sent"] * 40
