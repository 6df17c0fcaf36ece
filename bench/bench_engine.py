"""Engine throughput, lateness and Redis memory figures for Cadence, against a raw-RQ baseline.

What it measures, in one run, on PostgreSQL + Redis + a local SMTP sink (aiosmtpd in this
process, on 127.0.0.1 and a free port):

1. The baseline: raw RQ no-op jobs per second. ``N`` jobs (``time.sleep(0)``: a stdlib function
   that returns None and that the worker has imported already) are enqueued in a queue of their
   own and drained by one burst process running the worker class ``cadence worker`` uses
   (RQ's ``SimpleWorker``, jobs in-process; with ``--fork`` RQ's forking ``Worker`` for both).
2. Cadence steps per second end to end: ``N`` enrollments due a second ago, one ``promote`` in
   this process, then 1 (and, on a fresh set, 2) ``python -m cadence.cli worker --burst
   --no-promoter`` subprocesses drain ``crm:sequences``: prepare (PostgreSQL), SMTP to the sink,
   record (PostgreSQL). Checked: the sink got exactly ``N`` messages and ``crm_touches`` holds
   ``N`` rows 'sent'. Rates are given over the drain window (first job started to last job
   ended, from RQ's job hashes) and over the wall time (process start to exit). Repeated with
   ``CADENCE_BATCH_SIZE=1`` (one step per job) so that the per-job ratio to raw RQ shows.
3. Lateness at a steady 50 due steps per second for 60 s, starting 20 s ahead: a real
   ``cadence worker`` (promoter every 2 s, horizon 30 s, RQ scheduler), stopped with SIGTERM
   afterwards. Lateness = ``crm_touches.sent_at`` - the due time recorded before the start:
   p50 / p99 / max, split into its parts (the promoter's whole-second buckets, the RQ
   scheduler's delay, the wait in the queue, the position inside the batch).
4. Redis memory with 1,000,000 pending enrollments due uniformly over the next 14 days: used
   memory before and after one ``promote`` with the default horizon (300 s), per enrollment,
   and, for contrast, the memory 10,000 delayed RQ jobs (``enqueue_at``) take, scaled to 1M.
5. Where a step's time goes: one ``run_batch`` in this process under cProfile, with the SQL
   statements per step.

Everything runs in a fresh PostgreSQL database ``cadence_bench_<random>`` (dropped at the end,
also on error) and in one Redis database (FLUSHDB before and after; db 0 is refused). Only
127.0.0.1 is contacted. Figures are printed, never asserted.

Run::

    cd /work/main && .venv/bin/python bench/bench_engine.py \
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] \
        [--redis-url redis://127.0.0.1:6379/14] [--steps 2000] [--million 1000000] [--quick]

``--quick`` scales every figure down about 10x (a smoke run of about two minutes); the full run
takes about seven minutes on 2 cores. Worker logs are kept in a temporary directory it prints.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from cadence.channels.email import SmtpSender
from cadence.config import Settings
from cadence.engine import runtime
from cadence.engine.jobs import run_batch, run_step, step_job_id
from cadence.engine.promoter import PromoteStats, promote
from cadence.service import sequences, workspaces
from cadence.service.context import Cadence
from cadence.service.delivery import StepRef
from cadence.store.db import Database, upgrade

DEFAULT_PG_URL = os.environ.get(
    "CADENCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
NOOP_QUEUE = "bench:noop"
SCRATCH_QUEUE = "bench:scratch"
RETRY_INTERVALS = [60, 120, 240, 480, 960]
DAY = 86_400

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear between the nearest ranks."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.2f} MiB"


# --- the SMTP sink ----------------------------------------------------------------------------


class SinkHandler:
    """Accepts every message and counts its recipients."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recipients: Counter[str] = Counter()
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.recipients.update(a.lower() for a in envelope.rcpt_tos)
            self.messages += 1
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.recipients.clear()
            self.messages = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- processes --------------------------------------------------------------------------------


RAW_WORKER = """
import logging, sys
from redis import Redis
from rq import Queue, SimpleWorker, Worker
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
redis = Redis.from_url(sys.argv[1])
cls = Worker if sys.argv[3] == "fork" else SimpleWorker
cls([Queue(sys.argv[2], connection=redis)], connection=redis).work(burst=True)
"""
# The worker class under test, for the baseline and for Cadence alike: in-process (what
# `cadence worker` runs by default) or forking (`--fork`).
FORK = False


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc), deepest last."""
    parents: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(fields[1])].append(int(stat.parent.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process we started and everything below it (RQ horses, the scheduler)."""
    if proc.poll() is not None:
        return
    for child in descendants(proc.pid):
        with suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with suppress(ProcessLookupError):
        proc.kill()
    proc.wait(timeout=10)


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return total - idle, total


def background_load(seconds: float = 3.0) -> float:
    """Cores busy on the machine while this benchmark does nothing (other people's work)."""
    busy0, tot0 = cpu_busy()
    time.sleep(seconds)
    busy1, tot1 = cpu_busy()
    return (busy1 - busy0) / (tot1 - tot0) * (os.cpu_count() or 1) if tot1 > tot0 else 0.0


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# --- the benchmark context ---------------------------------------------------------------------


@dataclass
class Drain:
    """One timed drain of a queue by burst worker processes."""

    label: str
    workers: int
    items: int  # no-op jobs or Cadence steps
    jobs: int
    wall: float
    window: float  # first job started -> last job ended
    cpu_workers: float  # CPU seconds of the worker processes and their horses
    cpu_bench: float  # CPU seconds of this process (the SMTP sink) during the drain
    box_busy: float  # machine-wide CPU use, 0..ncores
    ok: bool = True
    note: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.window if self.window > 0 else float("nan")

    @property
    def wall_rate(self) -> float:
        return self.items / self.wall if self.wall > 0 else float("nan")

    @property
    def job_rate(self) -> float:
        return self.jobs / self.window if self.window > 0 else float("nan")


@dataclass
class Bench:
    pg_url: str
    redis_url: str
    redis: Redis
    app: Cadence
    sink: SinkHandler
    smtp_url: str
    logdir: Path
    ws_id: int = 0
    seq_id: int = 0
    step_id: int = 0
    step_pos: int = 0
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    # -- database ------------------------------------------------------------------------------

    def sql(self, statement: str, *, bulk: bool = False, **params: Any) -> int:
        with self.app.db.engine.begin() as conn:
            if bulk:  # skip the foreign-key triggers: the loading SQL is consistent by design
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            return int(conn.execute(text(statement), params).rowcount)

    def rows(self, statement: str, **params: Any) -> list[Any]:
        with self.app.db.engine.connect() as conn:
            return list(conn.execute(text(statement), params))

    def scalar(self, statement: str, **params: Any) -> Any:
        with self.app.db.engine.connect() as conn:
            return conn.execute(text(statement), params).scalar()

    def setup_sequence(self) -> None:
        scope_ws = workspaces.create_workspace(
            self.app,
            "Bench",
            sender_name="Rita Rep",
            sender_email="rita@acme.example.com",
            postal_address="1 Main St, Springfield",
        )
        scope = self.app.scope(scope_ws.id, actor="bench")
        spec = {
            "name": "Bench outreach",
            "steps": [
                {
                    "channel": "email",
                    "delay_hours": 0,
                    "subject": "Quick question, {{first_name|there}}",
                    "body": "Hi {{first_name|there}}, a note for {{company|your team}}.",
                }
            ],
        }
        seq = sequences.create_sequence(scope, spec, activate=True)
        self.ws_id, self.seq_id = scope_ws.id, seq.id
        self.step_id, self.step_pos = seq.steps[0].id, seq.steps[0].position

    def reset_data(self) -> None:
        """Drop every contact, enrollment and what they made; keep the workspace and sequence."""
        self.sql(
            "TRUNCATE crm_engagement_events, crm_dead_letters, crm_tasks, crm_touches, "
            "crm_sequence_enrollments, crm_suppressions, crm_contacts RESTART IDENTITY"
        )

    def load(self, n: int, t0: datetime, *, gap: float = 0.0, jitter: float = 0.0) -> float:
        """``n`` contacts and pending enrollments due at ``t0 + k·gap + random()·jitter`` s."""
        t = time.perf_counter()
        self.sql(
            """INSERT INTO crm_contacts (workspace_id, external_id, email, first_name, last_name,
                company, title, industry, timezone, linkedin_url, notes, attributes,
                email_status, created_at, updated_at)
            SELECT :ws, NULL, 'p' || i || '@example.com', 'Pat' || i, 'Lee', 'Globex',
                'VP Sales', NULL, 'UTC', NULL, NULL, CAST('{}' AS jsonb), 'unknown', now(), now()
            FROM generate_series(1, CAST(:n AS bigint)) AS s(i)""",
            bulk=True,
            ws=self.ws_id,
            n=n,
        )
        self.sql(
            """INSERT INTO crm_sequence_enrollments (workspace_id, contact_id, sequence_id,
                current_step_id, current_step, cycle, status, paused_from, next_send_at,
                paused_until, last_touched_at, stop_reason, job_id, enqueued_at,
                enrolled_by, enrolled_at, finished_at, updated_at)
            SELECT :ws, c.id, :seq, :step, :pos, 1, 'pending', NULL,
                CAST(:t0 AS timestamptz)
                    + (c.k * CAST(:gap AS double precision)
                       + random() * CAST(:jitter AS double precision)) * INTERVAL '1 second',
                NULL, NULL, NULL, NULL, NULL, 'bench', now(), NULL, now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
                  FROM crm_contacts WHERE workspace_id = :ws) AS c""",
            bulk=True,
            ws=self.ws_id,
            seq=self.seq_id,
            step=self.step_id,
            pos=self.step_pos,
            t0=t0,
            gap=gap,
            jitter=jitter,
        )
        with self.app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE crm_contacts")
            c.exec_driver_sql("ANALYZE crm_sequence_enrollments")
        return time.perf_counter() - t

    def sent_touches(self) -> int:
        return int(self.scalar("SELECT count(*) FROM crm_touches WHERE status = 'sent'"))

    # -- the engine in this process ------------------------------------------------------------

    def runtime(self, **overrides: Any) -> runtime.EngineRuntime:
        settings = Settings(
            _env_file=None,
            database_url=self.pg_url,
            redis_url=self.redis_url,
            smtp_url=self.smtp_url,
            auto_migrate=False,
            **overrides,
        )
        app = Cadence(db=self.app.db, settings=settings)
        rt = runtime.EngineRuntime(
            app=app,
            redis=self.redis,
            email=SmtpSender(self.smtp_url, timeout=30.0),
            retry_intervals=list(RETRY_INTERVALS),
        )
        return runtime.configure(rt)

    def promote_once(self, **overrides: Any) -> tuple[PromoteStats, float]:
        rt = self.runtime(**overrides)
        t = time.perf_counter()
        stats = promote(rt)
        return stats, time.perf_counter() - t

    # -- worker processes ----------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE_")}
        env.update(
            CADENCE_DATABASE_URL=self.pg_url,
            CADENCE_REDIS_URL=self.redis_url,
            CADENCE_SMTP_URL=self.smtp_url,
            CADENCE_AUTO_MIGRATE="false",
            CADENCE_RETRY_INTERVALS="[" + ", ".join(map(str, RETRY_INTERVALS)) + "]",
        )
        env.update(extra)
        return env

    def spawn(self, cmd: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with (self.logdir / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.logdir,  # no stray .env file is read
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def log_tail(self, name: str, chars: int = 2000) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def drain(
        self,
        label: str,
        cmds: list[list[str]],
        env: dict[str, str],
        *,
        items: int,
        progress: Any,
        timeout: float,
    ) -> Drain:
        """Start ``cmds`` together, wait for all to exit; time them and read RQ's job stamps."""
        cpu0, bench0, (busy0, tot0) = children_cpu(), time.process_time(), cpu_busy()
        t = time.perf_counter()
        names = [f"{label}-{i}".replace(" ", "_").replace("/", "_") for i in range(len(cmds))]
        procs = [self.spawn(cmd, env, name) for cmd, name in zip(cmds, names, strict=True)]
        deadline = t + timeout
        next_note = t + 5
        ok = True
        while any(p.poll() is None for p in procs):
            now = time.perf_counter()
            if now > deadline:
                log(f"  {label}: timed out after {timeout:.0f}s; killing the workers")
                for p in procs:
                    kill_tree(p)
                ok = False
                break
            if now >= next_note:
                log(f"  {label}: {progress()} of {items} done after {now - t:.0f}s")
                next_note = now + 5
            time.sleep(0.05)
        wall = time.perf_counter() - t
        for p in procs:
            p.wait()
            self.procs.remove(p)
            if p.returncode != 0:
                ok = False
        cpu1, bench1, (busy1, tot1) = children_cpu(), time.process_time(), cpu_busy()
        jobs = job_stamps(self.redis)
        started = [j.started for j in jobs if j.started]
        ended = [j.ended for j in jobs if j.ended]
        window = (max(ended) - min(started)).total_seconds() if started and ended else wall
        ncores = os.cpu_count() or 1
        d = Drain(
            label=label,
            workers=len(cmds),
            items=items,
            jobs=len(jobs),
            wall=wall,
            window=window,
            cpu_workers=cpu1 - cpu0,
            cpu_bench=bench1 - bench0,
            box_busy=(busy1 - busy0) / (tot1 - tot0) * ncores if tot1 > tot0 else float("nan"),
            ok=ok,
        )
        if not ok:
            for name in names:
                log(f"  worker log {name}:\n{self.log_tail(name)}")
        return d

    def flush(self) -> None:
        self.redis.flushdb()


# --- RQ job hashes ---------------------------------------------------------------------------


@dataclass
class Stamps:
    id: str
    status: str
    enqueued: datetime | None
    started: datetime | None
    ended: datetime | None


def _when(raw: bytes | None) -> datetime | None:
    if not raw:
        return None
    value = datetime.fromisoformat(raw.decode())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def job_stamps(redis: Redis) -> list[Stamps]:
    """Every job hash in the Redis db, with its timestamps."""
    ids = sorted(
        k.decode()[len("rq:job:") :]
        for k in redis.scan_iter(match="rq:job:*", count=2000)
        if k.count(b":") == 2
    )
    out: list[Stamps] = []
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        with redis.pipeline(transaction=False) as pipe:
            for job_id in chunk:
                pipe.hmget(f"rq:job:{job_id}", "status", "enqueued_at", "started_at", "ended_at")
            answers = pipe.execute()
        for job_id, (status, enq, st, en) in zip(chunk, answers, strict=True):
            out.append(Stamps(job_id, (status or b"").decode(), _when(enq), _when(st), _when(en)))
    return out


def redis_used(redis: Redis) -> int:
    return int(redis.info("memory")["used_memory"])


def keys_memory(redis: Redis, match: str = "*") -> tuple[int, int]:
    """(keys, sum of MEMORY USAGE) over the keys of this db matching ``match``."""
    keys = list(redis.scan_iter(match=match, count=5000))
    total = 0
    for start in range(0, len(keys), 2000):
        with redis.pipeline(transaction=False) as pipe:
            for k in keys[start : start + 2000]:
                pipe.memory_usage(k, samples=0)
            total += sum(int(v or 0) for v in pipe.execute())
    return len(keys), total


# --- 1. the raw RQ baseline -----------------------------------------------------------------


def bench_raw(b: Bench, n: int) -> Drain:
    b.flush()
    queue = Queue(NOOP_QUEUE, connection=b.redis)
    t = time.perf_counter()
    with b.redis.pipeline() as pipe:
        for _ in range(n):
            queue.enqueue("time.sleep", 0, pipeline=pipe)
        pipe.execute()
    log(f"raw RQ: enqueued {n} no-op jobs (time.sleep(0)) in {time.perf_counter() - t:.2f}s")
    cmd = [sys.executable, "-c", RAW_WORKER, b.redis_url, NOOP_QUEUE, "fork" if FORK else "simple"]
    d = b.drain(
        "raw RQ 1 worker",
        [cmd],
        os.environ.copy(),
        items=n,
        progress=lambda: n - queue.count,
        timeout=300,
    )
    statuses = Counter(s.status for s in job_stamps(b.redis))
    d.note = f"job statuses {dict(statuses)}"
    if statuses.get("finished", 0) != n:
        d.ok = False
    log(
        f"raw RQ, 1 {'forking Worker' if FORK else 'SimpleWorker'}: {n} no-op jobs, "
        f"window {d.window:.2f}s -> {d.rate:.0f} "
        f"jobs/s (wall {d.wall:.2f}s incl. start-up -> {d.wall_rate:.0f}/s); worker CPU "
        f"{d.cpu_workers:.1f}s = {d.cpu_workers / n * 1000:.2f} ms/job; box busy "
        f"{d.box_busy:.2f} cores; {d.note}"
    )
    b.flush()
    return d


# --- 2. Cadence end to end --------------------------------------------------------------------


def bench_cadence(b: Bench, n: int, workers: int, batch_size: int) -> Drain:
    label = f"cadence {workers}w batch {batch_size}"
    b.reset_data()
    b.flush()
    b.sink.reset()
    load = b.load(n, datetime.now(UTC) - timedelta(seconds=1))
    stats, took = b.promote_once(batch_size=batch_size)
    log(
        f"{label}: loaded {n} due enrollments in {load:.1f}s; promote: {stats.promoted} steps "
        f"in {stats.jobs} jobs in {took:.2f}s ({stats.promoted / took:.0f} steps/s)"
    )
    cmd = [sys.executable, "-m", "cadence.cli", "worker", "--burst", "--no-promoter"]
    cmd += ["--fork"] if FORK else []
    d = b.drain(
        label,
        [cmd] * workers,
        b.env(CADENCE_BATCH_SIZE=str(batch_size)),
        items=n,
        progress=lambda: b.sink.messages,
        timeout=420,
    )
    sent = b.sent_touches()
    got = b.sink.messages
    twice = sum(1 for c in b.sink.recipients.values() if c > 1)
    expected = {f"p{i}@example.com" for i in range(1, n + 1)}
    right = set(b.sink.recipients) == expected
    d.ok = d.ok and sent == n and got == n and twice == 0 and right
    d.note = f"sink {got} msgs, touches sent {sent}, dup recipients {twice}"
    statuses = Counter(s.status for s in job_stamps(b.redis))
    log(
        f"{label}: {n} steps in {d.jobs} jobs, window {d.window:.2f}s -> {d.rate:.0f} steps/s, "
        f"{d.job_rate:.1f} jobs/s (wall {d.wall:.2f}s -> {d.wall_rate:.0f}/s); worker CPU "
        f"{d.cpu_workers:.1f}s = {d.cpu_workers / n * 1000:.2f} ms/step; sink CPU "
        f"{d.cpu_bench:.1f}s; box busy {d.box_busy:.2f} cores; {d.note}; jobs "
        f"{dict(statuses)}; {'OK' if d.ok else 'CHECK FAILED'}"
    )
    return d


# --- 3. lateness at a steady rate -------------------------------------------------------------


@dataclass
class Lateness:
    n: int
    sent: int
    late_ms: list[float]
    parts: dict[str, list[float]]
    stopped: str


def bench_lateness(b: Bench, rate: float, duration: float, lead: float) -> Lateness:
    b.reset_data()
    b.flush()
    b.sink.reset()
    n = int(rate * duration)
    start = datetime.now(UTC) + timedelta(seconds=lead)
    took = b.load(n, start, gap=1 / rate)
    due: dict[int, datetime] = {
        int(r[0]): r[1] for r in b.rows("SELECT id, next_send_at FROM crm_sequence_enrollments")
    }
    log(
        f"lateness: {n} enrollments due at {rate:.0f}/s from {start:%H:%M:%S} for "
        f"{duration:.0f}s (loaded in {took:.1f}s); starting `cadence worker` (promoter every 2s, "
        "horizon 30s, RQ scheduler)"
    )
    env = b.env(CADENCE_PROMOTE_INTERVAL_SECONDS="2", CADENCE_PROMOTE_HORIZON_SECONDS="30")
    cmd = [sys.executable, "-m", "cadence.cli", "worker", *(["--fork"] if FORK else [])]
    proc = b.spawn(cmd, env, "lateness-worker")
    end = start + timedelta(seconds=duration + max(15.0, 0.75 * duration))
    stopped = "SIGTERM"
    try:
        last = 0.0
        while datetime.now(UTC) < end:
            if proc.poll() is not None:
                log(f"lateness: the worker exited early:\n{b.log_tail('lateness-worker')}")
                break
            if time.perf_counter() - last >= 10:
                last = time.perf_counter()
                log(f"  lateness: {b.sink.messages} of {n} sent")
            if b.sink.messages >= n and datetime.now(UTC) > start + timedelta(seconds=duration):
                time.sleep(1)
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stopped = "SIGTERM, then SIGKILL (did not stop in 20s)"
                kill_tree(proc)
        leftovers = descendants(proc.pid) if proc.poll() is None else []
        if leftovers:
            kill_tree(proc)
        b.procs.remove(proc)
    rows = b.rows(
        "SELECT enrollment_id, sent_at FROM crm_touches WHERE status = 'sent' "
        "AND sent_at IS NOT NULL"
    )
    sent_at = {int(e): s for e, s in rows}
    late = [(s - due[e]).total_seconds() * 1000 for e, s in sent_at.items()]
    # Steps still unsent when the worker stopped are at least this late: count them so.
    cut = datetime.now(UTC)
    late += [(cut - d).total_seconds() * 1000 for e, d in due.items() if e not in sent_at]
    parts = lateness_parts(b.redis, due, sent_at)
    return Lateness(n=n, sent=len(sent_at), late_ms=late, parts=parts, stopped=stopped)


def lateness_parts(
    redis: Redis, due: dict[int, datetime], sent_at: dict[int, datetime]
) -> dict[str, list[float]]:
    """Split each step's lateness along its batch job's life (ms)."""
    parts: dict[str, list[float]] = defaultdict(list)
    stamps = {s.id: s for s in job_stamps(redis)}
    ids = [i for i in stamps if i.startswith("cad-")]
    for start in range(0, len(ids), 500):
        for job in Job.fetch_many(ids[start : start + 500], connection=redis):
            if job is None:
                continue
            st = stamps[job.id]
            if not (st.enqueued and st.started and st.ended):
                continue
            for eid, _step, _cycle in job.args[0]:
                d = due.get(int(eid))
                s = sent_at.get(int(eid))
                if d is None or s is None:
                    continue
                bucket = d.replace(microsecond=0)
                parts["bucket (floor to the second)"].append((bucket - d).total_seconds() * 1e3)
                parts["scheduler (bucket -> enqueued)"].append(
                    (st.enqueued - bucket).total_seconds() * 1e3
                )
                parts["queue wait (enqueued -> started)"].append(
                    (st.started - st.enqueued).total_seconds() * 1e3
                )
                parts["in batch (started -> sent)"].append((s - st.started).total_seconds() * 1e3)
                parts["job run time (started -> ended)"].append(
                    (st.ended - st.started).total_seconds() * 1e3
                )
    return parts


# --- 4. Redis memory with a million enrollments ----------------------------------------------


@dataclass
class Memory:
    enrollments: int
    load_s: float
    promote_s: float
    stats: PromoteStats
    base_used: int
    after_used: int
    keys_after: int
    keys_bytes: int
    delayed_n: int
    delayed_used: int
    delayed_keys_bytes: int


def bench_memory(b: Bench, million: int, delayed: int) -> Memory:
    b.reset_data()
    b.flush()
    log(f"memory: loading {million} pending enrollments due uniformly over the next 14 days")
    load = b.load(million, datetime.now(UTC), jitter=14 * DAY)
    log(f"memory: loaded in {load:.1f}s")
    b.flush()
    time.sleep(0.5)
    base = redis_used(b.redis)
    stats, took = b.promote_once()  # the default horizon: 300 s
    after = redis_used(b.redis)
    nkeys, kbytes = keys_memory(b.redis)
    log(
        f"memory: promote (horizon 300s) took {took:.2f}s: {stats.promoted} steps in "
        f"{stats.jobs} jobs; used_memory {mib(base)} -> {mib(after)} (delta "
        f"{after - base} B = {(after - base) / million:.3f} B/enrollment); {nkeys} keys in the "
        f"db, MEMORY USAGE sum {kbytes} B = {kbytes / million:.3f} B/enrollment"
    )
    # The contrast: one delayed RQ job per enrollment, as a naive design would keep.
    b.flush()
    time.sleep(0.5)
    before = redis_used(b.redis)
    queue = Queue(SCRATCH_QUEUE, connection=b.redis)
    now = datetime.now(UTC)
    t = time.perf_counter()
    for start in range(0, delayed, 1000):
        with b.redis.pipeline() as pipe:
            for i in range(start, min(start + 1000, delayed)):
                eid = 10_000_000 + i
                when = now + timedelta(seconds=60 + (i * 7919) % (14 * DAY))
                queue.enqueue_at(
                    when,
                    run_step,
                    [eid, b.step_id, 1],
                    job_id=step_job_id_for(eid, b.step_id),
                    result_ttl=3600,
                    failure_ttl=30 * DAY,
                    pipeline=pipe,
                )
            pipe.execute()
    used = redis_used(b.redis) - before
    _, dbytes = keys_memory(b.redis)
    log(
        f"memory: {delayed} delayed RQ jobs (enqueue_at run_step) in "
        f"{time.perf_counter() - t:.1f}s: used_memory +{used} B = {used / delayed:.0f} B/job; "
        f"MEMORY USAGE sum {dbytes} B = {dbytes / delayed:.0f} B/job -> estimate for "
        f"{million}: {mib(used / delayed * million)}"
    )
    b.flush()
    return Memory(
        enrollments=million,
        load_s=load,
        promote_s=took,
        stats=stats,
        base_used=base,
        after_used=after,
        keys_after=nkeys,
        keys_bytes=kbytes,
        delayed_n=delayed,
        delayed_used=used,
        delayed_keys_bytes=dbytes,
    )


def step_job_id_for(eid: int, step_id: int) -> str:
    return step_job_id(StepRef(eid, step_id, 1))


# --- 5. where a step's time goes --------------------------------------------------------------

# What a `cadence worker --burst --no-promoter` parent does before forking a work horse (build
# the runtime; never touch the database), then, like RQ, one fork per job of one step. The last
# horse runs under cProfile.
COLD_HORSE = r"""
import cProfile, io, os, pstats, sys, time
from cadence.engine import runtime
from cadence.engine.jobs import run_batch
runtime.configure(runtime.from_settings())
step, ids = int(sys.argv[1]), [int(x) for x in sys.argv[2].split(",")]
for i, eid in enumerate(ids):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        prof = cProfile.Profile() if i == len(ids) - 1 else None
        t, c = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        run_batch([[eid, step, 1]])
        if prof:
            prof.disable()
        out = f"HORSE {time.perf_counter() - t:.4f} {time.process_time() - c:.4f}\n"
        if prof:
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
            out += buf.getvalue()
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while data := os.read(r, 65536):
        chunks.append(data)
    os.waitpid(pid, 0)
    sys.stdout.write(b"".join(chunks).decode())
"""
COLD_KEYS = (
    "jobs.py",
    "delivery.py",
    "email.py:",
    "create_default_context",
    "_compile_w_cache",
    "pool/base.py",
    "initialize",
)


@contextmanager
def count_statements(b: Bench) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[statement.split(None, 1)[0].upper()] += 1

    event.listen(b.app.db.engine, "before_cursor_execute", before)
    try:
        yield counts
    finally:
        event.remove(b.app.db.engine, "before_cursor_execute", before)


def _category(filename: str) -> str:
    if "psycopg" in filename:
        return "psycopg (PostgreSQL round trips)"
    if "smtplib" in filename or "socket" in filename or "ssl" in filename:
        return "smtplib / socket"
    if "sqlalchemy" in filename or "sqlmodel" in filename:
        return "SQLAlchemy / SQLModel"
    if "pydantic" in filename:
        return "pydantic"
    if "/email/" in filename:
        return "stdlib email (building the message)"
    if "cadence" in filename:
        return "cadence"
    return "other"


def bench_profile(b: Bench, n: int) -> dict[str, str]:
    b.reset_data()
    b.flush()
    b.sink.reset()
    b.load(n, datetime.now(UTC) - timedelta(seconds=1))
    ids = [int(r[0]) for r in b.rows("SELECT id FROM crm_sequence_enrollments ORDER BY id")]
    items = [[e, b.step_id, 1] for e in ids]
    b.runtime()
    b.app.db.engine.dispose()  # start like a fresh horse: no pooled connection
    prof = cProfile.Profile()
    with count_statements(b) as counts:
        t = time.perf_counter()
        prof.enable()
        result = run_batch(items)
        prof.disable()
        took = time.perf_counter() - t
    total = sum(counts.values())
    log(
        f"profile: run_batch of {n} steps in this process (no fork) in {took:.2f}s -> "
        f"{n / took:.0f} steps/s, {took / n * 1000:.2f} ms/step; outcome {result}; "
        f"{total / n:.1f} SQL statements per step {dict(counts.most_common())}"
    )
    stats = pstats.Stats(prof)
    by_cat: Counter[str] = Counter()
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_cat[_category(filename)] += tt
    spent = sum(by_cat.values())
    log(
        "profile: own time by package: "
        + ", ".join(f"{k} {v / spent * 100:.0f}%" for k, v in by_cat.most_common())
    )
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"cadence/", 18)
    lines = [ln for ln in buf.getvalue().splitlines() if "cadence/" in ln]
    log("profile: cadence functions by cumulative time (ncalls tottime percall cumtime ...):")
    for ln in lines[:18]:
        print("    " + ln.strip()[:150], flush=True)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(10)
    log("profile: top own time:")
    body = buf.getvalue().split("filename:lineno(function)", 1)[-1]
    for ln in body.strip().splitlines()[:10]:
        print("    " + ln.strip()[:150], flush=True)
    # A work horse's first (and, with one step per job, only) step, cold, as RQ runs it.
    b.reset_data()
    b.load(6, datetime.now(UTC) - timedelta(seconds=1))
    probe_ids = [int(r[0]) for r in b.rows("SELECT id FROM crm_sequence_enrollments ORDER BY id")]
    out = subprocess.run(
        [sys.executable, "-c", COLD_HORSE, str(b.step_id), ",".join(map(str, probe_ids))],
        env=b.env(),
        capture_output=True,
        text=True,
        cwd=b.logdir,
        timeout=120,
        check=False,
    )
    horses = [ln.split()[1:] for ln in out.stdout.splitlines() if ln.startswith("HORSE ")]
    cold_wall = sorted(float(w) for w, _ in horses)
    cold_cpu = sorted(float(c) for _, c in horses)
    cold = f"{pct(cold_wall, 50) * 1000:.0f} ms wall, {pct(cold_cpu, 50) * 1000:.0f} ms CPU"
    log(
        f"profile: one-step job in a freshly forked horse (parent never touched the DB), median "
        f"of {len(horses)}: {cold}; the last one under cProfile (cumulative):"
    )
    if out.returncode != 0:
        log(f"profile: cold-horse probe failed:\n{out.stderr[-2000:]}")
    for ln in out.stdout.splitlines():
        if any(k in ln for k in COLD_KEYS) and ln.strip()[:1].isdigit():
            print("    " + ln.strip()[:150], flush=True)
    sender = SmtpSender(b.smtp_url)
    t = time.perf_counter()
    for _ in range(5):
        sender.connect().quit()
    connect_ms = (time.perf_counter() - t) / 5 * 1000
    t = time.perf_counter()
    for _ in range(5):
        ssl.create_default_context()
    ssl_ms = (time.perf_counter() - t) / 5 * 1000
    log(
        f"profile: SmtpSender.connect() to the local sink (plain smtp://) {connect_ms:.1f} ms, "
        f"(a TLS context, built only for TLS, would add {ssl_ms:.1f} ms once per sender)"
    )
    return {
        "cold": cold,
        "connect_ms": f"{connect_ms:.0f}",
        "ssl_ms": f"{ssl_ms:.0f}",
        "steps_per_s": f"{n / took:.0f}",
        "ms_per_step": f"{took / n * 1000:.2f}",
        "sql_per_step": f"{total / n:.1f}",
        "pg_share": f"{by_cat['psycopg (PostgreSQL round trips)'] / spent * 100:.0f}%",
        "sa_share": f"{by_cat['SQLAlchemy / SQLModel'] / spent * 100:.0f}%",
    }


# --- set-up and tear-down ---------------------------------------------------------------------


def check_local(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        sys.exit(f"{what} URL {url!r}: this benchmark only talks to 127.0.0.1")


def admin_conninfo(pg_url: str) -> str:
    return make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_db(pg_url: str) -> tuple[str, str]:
    name = f"cadence_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_conninfo(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_url).set(drivername="postgresql", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_db(pg_url: str, name: str) -> None:
    with psycopg.connect(admin_conninfo(pg_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--steps", type=int, default=2000, help="steps per throughput run")
    parser.add_argument("--million", type=int, default=1_000_000, help="enrollments, memory run")
    parser.add_argument("--quick", action="store_true", help="scale everything down ~10x")
    parser.add_argument(
        "--fork", action="store_true", help="RQ's forking Worker for baseline and Cadence alike"
    )
    args = parser.parse_args()
    global FORK
    FORK = args.fork
    check_local(args.pg_url, "PostgreSQL")
    check_local(args.redis_url, "Redis")
    redis = Redis.from_url(args.redis_url)
    db_number = int(redis.connection_pool.connection_kwargs.get("db", 0))
    if db_number == 0:
        sys.exit("refusing Redis db 0: pass --redis-url redis://127.0.0.1:6379/<n> with n > 0")
    scale = 10 if args.quick else 1
    steps = max(args.steps // scale, 20)
    steps_b1 = max(steps // 20, 20)
    million = max(args.million // scale, 1000)
    delayed = 10_000 // scale
    rate, duration, lead = 50.0, 60.0 / (6 if args.quick else 1), 20.0 / (2 if args.quick else 1)
    log(
        f"bench_engine: steps={steps} (batch-size-1 runs: {steps_b1}), million={million}, "
        f"lateness {rate:.0f}/s for {duration:.0f}s, delayed jobs {delayed}; Redis db "
        f"{db_number}; {os.cpu_count()} cores; python {sys.version.split()[0]}"
    )

    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    db_name = ""
    app: Cadence | None = None
    bench: Bench | None = None
    started = time.perf_counter()
    try:
        controller.start()
        log(f"SMTP sink on 127.0.0.1:{port}")
        redis.flushdb()
        db_name, pg_url = create_db(args.pg_url)
        log(f"PostgreSQL database {db_name} created")
        db = Database(pg_url)
        upgrade(db.engine)
        settings = Settings(
            _env_file=None,
            database_url=pg_url,
            redis_url=args.redis_url,
            auto_migrate=False,
        )
        app = Cadence(db=db, settings=settings)
        logdir = Path(tempfile.mkdtemp(prefix="cadence_bench_logs_"))
        bench = Bench(
            pg_url=pg_url,
            redis_url=args.redis_url,
            redis=redis,
            app=app,
            sink=handler,
            smtp_url=f"smtp://127.0.0.1:{port}",
            logdir=logdir,
        )
        bench.setup_sequence()
        log(f"schema at head; workspace, sequence and step ready; worker logs in {logdir}")

        background = background_load()
        log(f"background load before the runs (other processes): {background:.2f} cores")
        raw = bench_raw(bench, steps)
        c1 = bench_cadence(bench, steps, 1, 100)
        c2 = bench_cadence(bench, steps, 2, 100)
        b1 = bench_cadence(bench, steps_b1, 1, 1)
        lat = bench_lateness(bench, rate, duration, lead)
        prof = bench_profile(bench, 150 // (3 if args.quick else 1))
        mem = bench_memory(bench, million, delayed)
        summary(raw, [c1, c2, b1], lat, mem, prof, million, background)
    finally:
        if bench is not None:
            for proc in list(bench.procs):
                kill_tree(proc)
        runtime.reset()
        try:
            redis.flushdb()
        except Exception as exc:
            log(f"FLUSHDB failed: {exc}")
        if app is not None:
            app.db.dispose()
        if db_name:
            drop_db(args.pg_url, db_name)
            log(f"PostgreSQL database {db_name} dropped")
        controller.stop()
        log(f"total runtime {time.perf_counter() - started:.0f}s")


def summary(
    raw: Drain,
    runs: list[Drain],
    lat: Lateness,
    mem: Memory,
    prof: dict[str, str],
    million: int,
    background: float,
) -> None:
    c1, c2, b1 = runs
    print("\n=== SUMMARY " + "=" * 78, flush=True)
    head = (
        f"{'run':<26}{'items':>6}{'jobs':>6}{'window s':>10}{'items/s':>9}{'wall/s':>8}"
        f"{'vs raw':>8}{'wCPU ms/it':>11}{'box cores':>10}  check"
    )
    print(head)
    for d in [raw, *runs]:
        ratio = d.rate / raw.rate if raw.rate else float("nan")
        print(
            f"{d.label:<26}{d.items:>6}{d.jobs:>6}{d.window:>10.2f}{d.rate:>9.0f}"
            f"{d.wall_rate:>8.0f}{ratio:>8.2f}{d.cpu_workers / d.items * 1000:>11.2f}"
            f"{d.box_busy:>10.2f}  {'OK' if d.ok else 'FAILED'}"
        )
    print(
        f"Cadence/raw RQ per step (batch 100): 1 worker {c1.rate / raw.rate:.2f}x, "
        f"2 workers {c2.rate / raw.rate:.2f}x"
    )
    print(
        f"Cadence/raw RQ per job (batch 1, 1 worker): {b1.job_rate / raw.job_rate:.2f}x; extra "
        f"worker CPU per job {(b1.cpu_workers / b1.jobs - raw.cpu_workers / raw.jobs) * 1000:.0f}"
        " ms"
    )
    print(
        f"Scaling 2 workers / 1 worker (batch 100): {c2.rate / c1.rate:.2f}x ({os.cpu_count()} "
        f"cores shared with PostgreSQL, Redis, the sink and {background:.2f} cores of other load)"
    )
    print(
        f"In-process run_batch (no fork, cProfile on): {prof['steps_per_s']} steps/s, "
        f"{prof['ms_per_step']} ms/step, {prof['sql_per_step']} SQL statements/step; own "
        f"time psycopg {prof['pg_share']}, SQLAlchemy {prof['sa_share']}"
    )
    print(
        f"One-step job in a cold forked horse: {prof['cold']}; SMTP connect {prof['connect_ms']}"
        f" ms (a TLS context, built once per sender and only for TLS: {prof['ssl_ms']} ms)"
    )
    late = lat.late_ms
    unsent = (
        f"; the {lat.n - lat.sent} unsent count as late as the stop" if lat.sent < lat.n else ""
    )
    print(
        f"Lateness at 50 steps/s ({lat.sent}/{lat.n} sent, stopped by {lat.stopped}{unsent}): p50 "
        f"{pct(late, 50):.0f} ms, p99 {pct(late, 99):.0f} ms, max "
        f"{max(late) if late else float('nan'):.0f} ms, min "
        f"{min(late) if late else float('nan'):.0f} ms"
    )
    for name, values in lat.parts.items():
        print(
            f"    {name:<36} p50 {pct(values, 50):>7.0f} ms  p99 {pct(values, 99):>7.0f} ms  "
            f"max {max(values):>7.0f} ms"
        )
    delta = mem.after_used - mem.base_used
    est = mem.delayed_used / mem.delayed_n * million
    print(
        f"Redis, {million} enrollments over 14 days, promote horizon 300s: "
        f"{mem.stats.promoted} steps / {mem.stats.jobs} jobs promoted in {mem.promote_s:.2f}s; "
        f"used_memory +{delta} B ({delta / million:.3f} B/enrollment); keys' MEMORY USAGE "
        f"{mem.keys_bytes} B ({mem.keys_bytes / million:.3f} B/enrollment)"
    )
    print(
        f"  vs one delayed RQ job per enrollment: {mem.delayed_used / mem.delayed_n:.0f} B/job "
        f"measured on {mem.delayed_n} -> estimated {mib(est)} for {million} "
        f"({est / max(delta, 1):.0f}x the promoter's footprint)"
    )


if __name__ == "__main__":
    main()
