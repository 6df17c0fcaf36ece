"""Bulk enrollment and conflict-check figures for Cadence, on SQLite and on PostgreSQL.

What it measures, per backend, each figure against a baseline taken in the same run:

1. ``enroll_many`` of 10,000 fresh contacts (resolution "parallel") into an active sequence while
   100,000 enrollments already exist: enrollments per second, and the ratio to a plain bulk insert
   (SQLAlchemy Core ``insert(CrmSequenceEnrollment)`` executemany, one transaction) of the same
   rows into a second sequence. The service does more than the insert: it gathers conflict facts,
   computes each first due time, writes an event per contact and returns a view per contact.
2. ``check_sequence_conflicts`` for one contact (median, p99) at 100,000 and at 1,000,000
   existing enrollments (contacts with enrollments elsewhere, already in the sequence, or in none).
3. The query plans of the SQL the conflict check runs (captured from the engine, then EXPLAINed
   with the same parameters), for one contact and for one 900-contact chunk, and of the
   promoter's due query; the index each step uses, and "SEQ SCAN!" for any sequential scan on
   crm_sequence_enrollments or crm_touches.

Data are loaded with set-based SQL (generate_series / a recursive CTE), not through the service:
one workspace, 20 email-only sequences with 3 steps, enrollments spread over them with mixed
statuses (pending, sent, paused, completed, replied, removed, bounced, unsubscribed) and
next_send_at over 14 days, a touch for every enrollment that has sent, 10% of the fresh contacts
live in another sequence, and 1% of them suppressed.

Each backend gets a database of its own: a temporary SQLite file, and a fresh PostgreSQL
database ``cadence_bench_<random>`` created on the server named by ``--pg-url`` and dropped at
the end, also on error. Figures are printed, never asserted: benchmarks do not gate CI.

Run::

    cd /work/main && .venv/bin/python bench/bench_enroll.py \
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--skip-sqlite-1m] \
        [--existing 100000] [--million 1000000] [--enroll 10000] [--backends sqlite,postgresql] \
        [--profile]

``--pg-url`` defaults to ``$CADENCE_TEST_POSTGRES_URL`` or the URL above; ``--profile`` also
runs one extra ``enroll_many`` under cProfile and prints where its time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from cadence.clock import ManualClock
from cadence.config import Settings
from cadence.domain.states import EnrollmentStatus
from cadence.service import enrolling, sequences, workspaces
from cadence.service.context import Cadence, Scope
from cadence.store.db import Database, upgrade
from cadence.store.models import CrmSequenceEnrollment

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # a Monday afternoon, UTC; the clock stands still
N_SEQUENCES = 20  # existing sequences the loaded enrollments are spread over
N_IDLE = 1_000  # contacts with no enrollment at all
STEPS_PER_SEQUENCE = 3
SAMPLES = 300  # conflict checks timed per measurement
DAY = 86_400

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


# --- the sequences ----------------------------------------------------------------------------


def spec(name: str, *, window: bool) -> dict[str, Any]:
    steps = [
        {
            "channel": "email",
            "delay_hours": 0,
            "subject": "Quick question, {{first_name|there}}",
            "body": "Hi {{first_name|there}}, a note for {{company|your team}}.",
        },
        {
            "channel": "email",
            "delay_hours": 72,
            "body": "Hi {{first_name|there}}, following up.",
        },
        {
            "channel": "email",
            "delay_hours": 96,
            "body": "Last note, {{first_name|there}}. {{sender_first_name|The team}}",
        },
    ]
    out: dict[str, Any] = {"name": name, "steps": steps}
    if window:
        out["send_window"] = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}
    return out


# --- dialect-specific SQL fragments ------------------------------------------------------------


@dataclass(frozen=True)
class Sql:
    """The few fragments that differ between PostgreSQL and SQLite in the loading SQL."""

    pg: bool

    def series(self) -> tuple[str, str]:
        """(prefix, from-item) giving rows ``i`` = 0 .. :n - 1."""
        if self.pg:
            return "", "generate_series(0, CAST(:n AS bigint) - 1) AS s(i)"
        return (
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) ",
            "s",
        )

    def ts(self, offset: str) -> str:
        """The instant ``:base + offset seconds`` (UTC; SQLite: SQLAlchemy's naive text form)."""
        if self.pg:
            return f"(CAST(:base AS timestamptz) + ({offset}) * INTERVAL '1 second')"
        return f"(datetime(:base, ({offset}) || ' seconds') || '.000000')"

    @property
    def json_obj(self) -> str:
        return "CAST('{}' AS jsonb)" if self.pg else "'{}'"

    def base(self) -> Any:
        return NOW if self.pg else NOW.strftime("%Y-%m-%d %H:%M:%S")


def contacts_sql(q: Sql) -> str:
    pre, src = q.series()
    stamp = q.ts("-(i % 86400) - 86400")
    return f"""{pre}INSERT INTO crm_contacts (id, workspace_id, external_id, email, first_name,
    last_name, company, title, industry, timezone, linkedin_url, notes, attributes, email_status,
    created_at, updated_at)
SELECT :id0 + i, :ws, 'ext-' || (:id0 + i), 'p' || (:id0 + i) || '@bench.example.com',
    'Pat' || (:id0 + i), 'Lee', 'Globex ' || (i % 500), 'VP Sales', 'Software',
    CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Europe/Berlin'
        ELSE 'Asia/Tokyo' END,
    NULL, NULL, {q.json_obj}, 'unknown', {stamp}, {stamp}
FROM {src}"""


_ENROLL_COLUMNS = """workspace_id, contact_id, sequence_id, current_step_id, current_step,
    cycle, status, paused_from, next_send_at, paused_until, last_touched_at, stop_reason, job_id,
    enqueued_at, enrolled_by, enrolled_at, finished_at, updated_at"""


def pool_enrollments_sql(q: Sql) -> str:
    """Rows j = :j0 + i: contact ordinal j % :p, round j / :p, sequence slot (round + 7·ordinal)
    % :s; a contact's rounds land in distinct sequences, so (contact, sequence) stays unique."""
    pre, src = q.series()
    status = """CASE WHEN b < 40 THEN 'pending' WHEN b < 55 THEN 'sent' WHEN b < 60 THEN 'paused'
        WHEN b < 85 THEN 'completed' WHEN b < 93 THEN 'replied' WHEN b < 97 THEN 'removed'
        WHEN b < 99 THEN 'bounced' ELSE 'unsubscribed' END"""
    return f"""{pre}INSERT INTO crm_sequence_enrollments ({_ENROLL_COLUMNS})
SELECT :ws, :pool_base + o, :seq_base + slot, :step_base + slot * {STEPS_PER_SEQUENCE} + cur, cur,
    1, {status},
    CASE WHEN b >= 55 AND b < 60 THEN 'pending' END,
    CASE WHEN b < 55 THEN {q.ts("-86400 + (j * 7919) % 1209600")} END,
    NULL, NULL,
    CASE WHEN b >= 93 AND b < 97 THEN 'removed by bench' END,
    NULL, NULL, 'bench', {q.ts("-2592000 - j % 5184000")},
    CASE WHEN b >= 60 THEN {q.ts("-(j % 2592000)")} END, {q.ts("-(j % 2592000)")}
FROM (SELECT j, o, slot, b, CASE WHEN b < 60 THEN j % 3 ELSE 2 END AS cur
      FROM (SELECT j, j % :p AS o, ((j / :p) + (j % :p) * 7) % :s AS slot,
                   (j * 2654435761) % 100 AS b
            FROM (SELECT :j0 + i AS j FROM {src}) AS q1) AS q2) AS q3"""


def elsewhere_sql(q: Sql) -> str:
    """Every tenth fresh contact (k = 10·i) live (pending) in one of the existing sequences."""
    pre, src = q.series()
    slot = f"(i % {N_SEQUENCES})"
    return f"""{pre}INSERT INTO crm_sequence_enrollments ({_ENROLL_COLUMNS})
SELECT :ws, :fresh_base + i * 10, :seq_base + {slot},
    :step_base + {slot} * {STEPS_PER_SEQUENCE}, 0, 1, 'pending', NULL,
    {q.ts("(i * 7919) % 1209600 - 3600")}, NULL, NULL, NULL, NULL, NULL, 'bench',
    {q.ts("-86400")}, NULL, {q.ts("-86400")}
FROM {src}"""


def suppressions_sql(q: Sql) -> str:
    """Every hundredth fresh contact (k = 100·i + 5) unsubscribed."""
    pre, src = q.series()
    return f"""{pre}INSERT INTO crm_suppressions (workspace_id, email, contact_id, reason, source,
    created_at)
SELECT :ws, 'p' || (:fresh_base + i * 100 + 5) || '@bench.example.com', :fresh_base + i * 100 + 5,
    'unsubscribed', 'bench', {q.ts("-86400")}
FROM {src}"""


def touches_sql(q: Sql) -> str:
    """One sent touch (first step) for each enrollment past its first send, in the last 14 days."""
    off = "-((e.id * 104729) % 1209600)"
    return f"""INSERT INTO crm_touches (workspace_id, enrollment_id, contact_id, sequence_id,
    step_id, cycle, channel, status, touched_at, sent_at, message_id, attempts,
    subject, body, error)
SELECT e.workspace_id, e.id, e.contact_id, e.sequence_id,
    :step_base + (e.sequence_id - :seq_base) * {STEPS_PER_SEQUENCE}, 1, 'email', 'sent',
    {q.ts(off)}, {q.ts(off)}, '<t' || e.id || '@bench.example.com>', 1, 'Hello',
    NULL, NULL
FROM crm_sequence_enrollments AS e
WHERE e.id > :after AND e.status IN ('sent', 'completed', 'replied', 'bounced', 'unsubscribed')
    AND e.sequence_id >= :seq_base AND e.sequence_id < :seq_base + :s"""


# --- one backend ------------------------------------------------------------------------------


@dataclass
class Bench:
    name: str
    app: Cadence
    scope: Scope
    q: Sql
    n_enroll: int
    seq_base: int = 0
    step_base: int = 0
    target_id: int = 0
    baseline_id: int = 0
    fresh_base: int = 1
    idle_base: int = 0
    pool_base: int = 0
    pool_contacts: int = 0  # pool ordinals 0 .. pool_contacts - 1 exist
    pool_rows: int = 0  # pool enrollment rows j = 0 .. pool_rows - 1 exist
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.app.db.engine

    def params(self, **kw: Any) -> dict[str, Any]:
        base = {
            "ws": self.scope.workspace_id,
            "base": self.q.base(),
            "seq_base": self.seq_base,
            "step_base": self.step_base,
            "s": N_SEQUENCES,
            "fresh_base": self.fresh_base,
            "pool_base": self.pool_base,
        }
        base.update(kw)
        return base

    def run(self, sql: str, **kw: Any) -> int:
        with self.engine.begin() as conn:
            return conn.execute(text(sql), self.params(**kw)).rowcount

    def scalar(self, sql: str, **kw: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), kw).scalar()

    def count_enrollments(self) -> int:
        return int(self.scalar("SELECT count(*) FROM crm_sequence_enrollments"))

    def analyze(self) -> None:
        if self.q.pg:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")

    def finish_load(self) -> None:
        if self.q.pg:  # contacts were given explicit ids: move the id sequence past them
            self.run(
                "SELECT setval(pg_get_serial_sequence('crm_contacts', 'id'), "
                "(SELECT max(id) FROM crm_contacts))"
            )
        self.analyze()


def make_app(url: str) -> Cadence:
    db = Database(url, auto_migrate=False)
    upgrade(db.engine)
    settings = Settings(_env_file=None, database_url=url, auto_migrate=False, redis_url="memory://")
    return Cadence(db=db, clock=ManualClock(NOW), settings=settings)


def setup(bench: Bench, existing: int) -> None:
    """Workspace, sequences, contacts and ``existing`` enrollments (plus touches, suppressions)."""
    q = bench.q
    seq_ids = [
        sequences.create_sequence(bench.scope, spec(f"Existing {k}", window=False), activate=True)
        for k in range(N_SEQUENCES)
    ]
    bench.seq_base = seq_ids[0].id
    bench.step_base = seq_ids[0].steps[0].id
    for k, seq in enumerate(seq_ids):  # the loading SQL computes these ids by arithmetic
        assert seq.id == bench.seq_base + k, "sequence ids are not contiguous"
        for pos, step in enumerate(seq.steps):
            assert step.id == bench.step_base + k * STEPS_PER_SEQUENCE + pos, "step ids"
    target = sequences.create_sequence(bench.scope, spec("Target", window=True), activate=True)
    baseline = sequences.create_sequence(
        bench.scope, spec("Baseline copy", window=True), activate=True
    )
    bench.target_id, bench.baseline_id = target.id, baseline.id

    n = bench.n_enroll
    n_elsewhere = (n + 9) // 10
    bench.fresh_base = 1
    bench.idle_base = bench.fresh_base + n
    bench.pool_base = bench.idle_base + N_IDLE
    bench.pool_rows = max(existing - n_elsewhere, 0)
    bench.pool_contacts = bench.pool_rows

    t = time.perf_counter()
    bench.run(contacts_sql(q), n=n, id0=bench.fresh_base)
    bench.run(contacts_sql(q), n=N_IDLE, id0=bench.idle_base)
    bench.run(contacts_sql(q), n=bench.pool_contacts, id0=bench.pool_base)
    bench.run(elsewhere_sql(q), n=n_elsewhere)
    bench.run(suppressions_sql(q), n=n // 100)
    bench.run(pool_enrollments_sql(q), n=bench.pool_rows, j0=0, p=bench.pool_contacts)
    touches = bench.run(touches_sql(q), after=0)
    bench.finish_load()
    log(
        f"{bench.name:<8} loaded {bench.pool_contacts + n + N_IDLE} contacts, "
        f"{bench.count_enrollments()} enrollments, {touches} touches in "
        f"{time.perf_counter() - t:.1f}s (set-based SQL) and ANALYZEd"
    )


def scale(bench: Bench, million: int) -> None:
    """Add pool contacts and enrollments until there are about ``million`` enrollments."""
    current = bench.count_enrollments()
    need = million - current
    if need <= 0:
        return
    t = time.perf_counter()
    total_rows = bench.pool_rows + need
    # Four enrollments per pool contact on average (rounds < N_SEQUENCES keeps them unique).
    p = max(bench.pool_contacts, -(-total_rows // 4))
    assert -(-total_rows // p) <= N_SEQUENCES
    after = int(bench.scalar("SELECT coalesce(max(id), 0) FROM crm_sequence_enrollments"))
    if p > bench.pool_contacts:
        bench.run(
            contacts_sql(bench.q),
            n=p - bench.pool_contacts,
            id0=bench.pool_base + bench.pool_contacts,
        )
    # Rows j in [pool_rows, total_rows) with modulus p. The old rows were j < pool_rows with
    # modulus pool_rows: contact ordinal j, round 0. New j < p are round 0 of the new contacts;
    # new j >= p are rounds 1..3 of everyone, in slots other than round 0's; so every
    # (contact, sequence) pair stays unique.
    bench.run(pool_enrollments_sql(bench.q), n=need, j0=bench.pool_rows, p=p)
    bench.pool_contacts, bench.pool_rows = p, total_rows
    touches = bench.run(touches_sql(bench.q), after=after)
    bench.finish_load()
    log(
        f"{bench.name:<8} scaled to {bench.count_enrollments()} enrollments "
        f"({p} pool contacts, +{touches} touches) in {time.perf_counter() - t:.1f}s, ANALYZEd"
    )


# --- measurements -----------------------------------------------------------------------------


def bulk_enroll(bench: Bench, existing: int, profile: bool) -> None:
    ids = list(range(bench.fresh_base, bench.fresh_base + bench.n_enroll))
    before = bench.count_enrollments()
    with db_timer(bench.engine) as db:
        t, cpu = time.perf_counter(), time.process_time()
        result = enrolling.enroll_many(bench.scope, bench.target_id, ids, resolution="parallel")
        took, cpu = time.perf_counter() - t, time.process_time() - cpu
    counts = result.counts
    conflicts = Counter(c.code.value for o in result.outcomes for c in o.conflicts)
    made = [o.enrollment for o in result.outcomes if o.enrollment is not None]
    rate = len(made) / took
    log(
        f"{bench.name:<8} enroll_many: {len(ids)} contacts in {took:.2f}s ({cpu:.2f}s CPU in "
        f"this process); outcomes "
        f"{dict(sorted(counts.items()))}; conflicts seen {dict(sorted(conflicts.items()))}"
    )
    log(
        f"{bench.name:<8} enroll_many: {db.total:.2f}s ({db.total / took:.0%}) inside the driver "
        f"over {db.count} statements, the rest in Python; by statement: {db.top()}"
    )

    # Baseline: the very rows the service wrote, into a second sequence, plain executemany.
    first_step = int(
        bench.scalar(
            "SELECT min(id) FROM crm_sequence_steps WHERE sequence_id = :s", s=bench.baseline_id
        )
    )
    rows = [
        {
            "workspace_id": bench.scope.workspace_id,
            "contact_id": e.contact_id,
            "sequence_id": bench.baseline_id,
            "current_step_id": first_step,
            "current_step": e.current_step,
            "cycle": 1,
            "status": e.status,
            "next_send_at": e.next_send_at,
            "enrolled_by": bench.scope.actor,
            "enrolled_at": e.enrolled_at,
            "updated_at": e.enrolled_at,
        }
        for e in made
    ]
    t = time.perf_counter()
    with bench.engine.begin() as conn:
        conn.execute(insert(CrmSequenceEnrollment), rows)
    base_took = time.perf_counter() - t
    base_rate = len(rows) / base_took
    ratio = rate / base_rate
    log(
        f"{bench.name:<8} bulk enroll {len(ids)} into {before} existing: {rate:.0f} enroll/s "
        f"({took:.2f}s); plain insert {base_rate:.0f} rows/s ({base_took:.2f}s); "
        f"ratio {ratio:.3f} (service also checks conflicts, writes events, returns views)"
    )
    bench.figures[f"enroll_many {len(ids)} @ {existing:,} existing"] = (
        f"{rate:,.0f} enroll/s ({took:.2f}s, {cpu:.2f}s CPU)"
    )
    bench.figures["plain insert same rows (baseline)"] = (
        f"{base_rate:,.0f} rows/s ({base_took:.2f}s)"
    )
    bench.figures["ratio enroll_many / plain insert"] = f"{ratio:.3f} (1/{1 / ratio:.0f})"
    bench.figures["enroll_many time in DB driver"] = f"{db.total / took:.0%} ({db.count} stmts)"
    bench.figures["outcomes"] = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))

    if profile:
        extra = sequences.create_sequence(bench.scope, spec("Profiled", window=True), activate=True)
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        enrolling.enroll_many(bench.scope, extra.id, ids, resolution="parallel")
        prof.disable()
        log(
            f"{bench.name:<8} profiled enroll_many (same contacts, now also live in Target and "
            f"Baseline, into a fresh sequence) took {time.perf_counter() - t:.2f}s:"
        )
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order).print_stats(22)
            lines = [x for x in out.getvalue().splitlines() if x.strip()]
            start = next(i for i, x in enumerate(lines) if x.lstrip().startswith("ncalls"))
            print(f"    -- top by {order}")
            for line in lines[start : start + 23]:
                print("    " + line)


def sample_contacts(bench: Bench, rng: random.Random) -> list[int]:
    third = SAMPLES // 3
    pool = rng.sample(range(bench.pool_base, bench.pool_base + bench.pool_contacts), third)
    fresh = rng.sample(range(bench.fresh_base, bench.fresh_base + bench.n_enroll), third)
    idle = rng.sample(range(bench.idle_base, bench.idle_base + N_IDLE), SAMPLES - 2 * third)
    out = pool + fresh + idle
    rng.shuffle(out)
    return out


def conflict_latency(bench: Bench, label: str) -> None:
    ids = sample_contacts(bench, random.Random(42))
    for cid in ids[:10]:  # warm the pool and the statement cache
        enrolling.check_sequence_conflicts(bench.scope, bench.target_id, cid)
    times: list[float] = []
    found = 0
    with db_timer(bench.engine) as db:
        for cid in ids:
            t = time.perf_counter()
            report = enrolling.check_sequence_conflicts(bench.scope, bench.target_id, cid)
            times.append((time.perf_counter() - t) * 1000)
            found += report.has_conflicts
    in_db = db.total * 1000 / len(ids)
    med = statistics.median(times)
    p99 = statistics.quantiles(times, n=100, method="inclusive")[98]
    n = bench.count_enrollments()
    log(
        f"{bench.name:<8} conflict check, 1 contact, at {n:,} enrollments: median {med:.2f} ms, "
        f"p99 {p99:.2f} ms, max {max(times):.2f} ms ({len(ids)} contacts, {found} with "
        f"conflicts); inside the driver {in_db:.2f} ms a check over {db.count // len(ids)} "
        f"statements ({db.top(3, per=len(ids))}), the rest in Python"
    )
    bench.figures[f"conflict check @ {label}"] = (
        f"median {med:.2f} ms, p99 {p99:.2f} ms (driver {in_db:.2f} ms)"
    )


# --- query plans ------------------------------------------------------------------------------


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    got: list[tuple[str, Any]] = []

    def listen(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        got.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield got
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@dataclass
class DbTime:
    """Time spent inside the driver's cursor.execute (server work and round trips; COMMIT and,
    on SQLite, stepping through rows after the first are not included)."""

    total: float = 0.0
    count: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    def top(self, n: int = 4, per: int = 0) -> str:
        if per:
            return "; ".join(f"{k} {v * 1000 / per:.2f}ms" for k, v in self.by_kind.most_common(n))
        return "; ".join(f"{k} {v:.2f}s" for k, v in self.by_kind.most_common(n))


_KIND = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


@contextmanager
def db_timer(engine: Engine) -> Iterator[DbTime]:
    acc = DbTime()
    starts: list[float] = []

    def before(*_args: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        took = time.perf_counter() - starts.pop()
        m = _KIND.search(statement)
        kind = statement.split(None, 1)[0].upper() + (f" {m.group(1)}" if m else "")
        acc.total += took
        acc.count += 1
        acc.by_kind[kind] += took

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield acc
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


_INDEX = re.compile(r"\b(ix_crm_\w+|uq_crm_\w+|crm_\w+_pkey|sqlite_autoindex_\w+)\b")
_HOT = "crm_sequence_enrollments|crm_touches"
_PG_SEQ = re.compile(rf"Seq Scan on ({_HOT})\b")
_LITE_SEQ = re.compile(rf"^SCAN ({_HOT})\b(?! USING)")
_LITE_FULL_INDEX = re.compile(rf"^SCAN ({_HOT}) USING")


def explain(bench: Bench, statement: str, params: Any) -> list[str]:
    with bench.engine.connect() as conn:
        if bench.q.pg:
            lines = [str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, params)]
        else:
            rows = list(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + str(detail))
        conn.rollback()
    return lines


def judge(bench: Bench, lines: list[str]) -> tuple[list[str], list[str]]:
    """(indexes used, warnings) of one plan."""
    used: list[str] = []
    warn: list[str] = []
    for line in lines:
        used += [m for m in _INDEX.findall(line) if m not in used]
        if "INTEGER PRIMARY KEY" in line and "rowid" not in used:
            used.append("rowid")
        s = line.strip()
        seq = (_PG_SEQ if bench.q.pg else _LITE_SEQ).search(s)
        full = None if bench.q.pg else _LITE_FULL_INDEX.search(s)
        if seq:
            warn.append(f"SEQ SCAN! on {seq.group(1)}")
        elif full:
            warn.append(f"FULL INDEX SCAN on {full.group(1)}")
    return used, warn


def _table(statement: str) -> str:
    m = re.search(r"\bFROM\s+(\w+)", statement)
    return m.group(1) if m else "?"


def show_plans(
    bench: Bench, title: str, run: Callable[[], Any], *, full: bool, tag: str
) -> list[str]:
    with captured(bench.engine) as got:
        run()
    selects = [(s, p) for s, p in got if s.lstrip().upper().startswith("SELECT") and "crm_" in s]
    print(f"  -- {bench.name}: {title} ({len(selects)} SELECTs)")
    problems: list[str] = []
    for statement, params in selects:
        lines = explain(bench, statement, params)
        used, warn = judge(bench, lines)
        problems += [f"{tag}: {w}" for w in warn]
        head = " ".join(statement.split())
        if full:
            print(f"     SQL: {head[:150]}{'...' if len(head) > 150 else ''}")
            for line in lines:
                print(f"        {line}")
        verdict = ", ".join(used) if used else "NO INDEX"
        print(f"     [{_table(statement)}] uses index: {verdict}" + "".join(f"  {w}" for w in warn))
    return problems


def plans(bench: Bench) -> None:
    pool_one = bench.pool_base + 7
    chunk = list(range(bench.pool_base, bench.pool_base + 900))
    problems = show_plans(
        bench,
        f"check_sequence_conflicts, 1 contact (id {pool_one})",
        lambda: enrolling.check_sequence_conflicts(bench.scope, bench.target_id, pool_one),
        full=True,
        tag="1 contact",
    )
    problems += show_plans(
        bench,
        "check_sequence_conflicts, one 900-contact chunk (the enroll_many path)",
        lambda: enrolling.check_sequence_conflicts(bench.scope, bench.target_id, chunk),
        full=False,
        tag="900 contacts",
    )
    due = (
        select(
            col(CrmSequenceEnrollment.id),
            col(CrmSequenceEnrollment.workspace_id),
            col(CrmSequenceEnrollment.contact_id),
            col(CrmSequenceEnrollment.sequence_id),
            col(CrmSequenceEnrollment.current_step_id),
            col(CrmSequenceEnrollment.next_send_at),
        )
        .where(
            col(CrmSequenceEnrollment.status) == EnrollmentStatus.PENDING,
            col(CrmSequenceEnrollment.next_send_at) <= NOW,
        )
        .order_by(col(CrmSequenceEnrollment.next_send_at))
        .limit(500)
    )

    def run_due() -> int:
        with bench.engine.connect() as conn:
            return len(conn.execute(due).all())

    problems += show_plans(
        bench, "promoter due query (LIMIT 500)", run_due, full=True, tag="due query"
    )
    times = []
    got = 0
    for _ in range(20):
        t = time.perf_counter()
        got = run_due()
        times.append((time.perf_counter() - t) * 1000)
    med = statistics.median(times)
    log(f"{bench.name:<8} promoter due query: {got} rows, median {med:.2f} ms over 20 runs")
    bench.figures["promoter due query (500 rows)"] = f"median {med:.2f} ms"
    bench.figures["plan problems"] = "; ".join(sorted(set(problems))) or "none"


# --- backends ---------------------------------------------------------------------------------


def run_backend(bench: Bench, args: argparse.Namespace, do_million: bool) -> None:
    setup(bench, args.existing)
    conflict_latency(bench, f"{bench.count_enrollments():,}")
    bulk_enroll(bench, args.existing, args.profile)
    if do_million:
        scale(bench, args.million)
        conflict_latency(bench, f"{bench.count_enrollments():,}")
    else:
        msg = "skipped (--skip-sqlite-1m)"
        log(f"{bench.name:<8} {args.million:,}-enrollment scale {msg}")
        bench.figures[f"conflict check @ {args.million:,}"] = msg
    plans(bench)


def new_bench(name: str, url: str, n_enroll: int) -> Bench:
    app = make_app(url)
    ws = workspaces.create_workspace(
        app,
        "Bench Sales",
        sender_name="Rita Rep",
        sender_email="rita@bench.example.com",
        postal_address="1 Main St, Springfield",
    )
    scope = app.scope(ws.id, actor="bench")
    return Bench(
        name=name, app=app, scope=scope, q=Sql(pg=app.db.dialect != "sqlite"), n_enroll=n_enroll
    )


def sqlite_run(args: argparse.Namespace) -> dict[str, str]:
    tmp = Path(tempfile.mkdtemp(prefix="cadence_bench_"))
    bench: Bench | None = None
    try:
        url = f"sqlite:///{tmp / 'bench.db'}"
        log(f"sqlite   temp database {tmp / 'bench.db'}")
        bench = new_bench("sqlite", url, args.enroll)
        run_backend(bench, args, not args.skip_sqlite_1m)
        size = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
        bench.figures["database size"] = f"{size:,.0f} MiB (file + WAL)"
        return bench.figures
    finally:
        if bench is not None:
            bench.app.db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        log("sqlite   temp database removed")


def pg_run(args: argparse.Namespace) -> dict[str, str]:
    server = make_url(args.pg_url)
    admin_info = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cadence_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_info, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    log(f"postgres created database {name}")
    bench: Bench | None = None
    try:
        url = server.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
        bench = new_bench("postgres", url, args.enroll)
        run_backend(bench, args, True)
        size = bench.scalar("SELECT pg_database_size(current_database())") / 2**20
        bench.figures["database size"] = f"{size:,.0f} MiB"
        return bench.figures
    finally:
        if bench is not None:
            bench.app.db.dispose()
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"postgres dropped database {name}")


def summary(results: dict[str, dict[str, str]], load_start: tuple[float, float, float]) -> None:
    keys: list[str] = []
    for figs in results.values():
        keys += [k for k in figs if k not in keys]
    names = list(results)
    width = max(len(k) for k in keys)
    cols = {n: max(len(n), *(len(results[n].get(k, "-")) for k in keys)) for n in names}
    print()
    print("SUMMARY (figures from this run; ratios are against baselines from the same run)")
    print(f"{'':<{width}}  " + "  ".join(f"{n:<{cols[n]}}" for n in names))
    for k in keys:
        cells = "  ".join(f"{results[n].get(k, '-'):<{cols[n]}}" for n in names)
        print(f"{k:<{width}}  {cells}")
    end = os.getloadavg()
    print(
        f"load average {load_start[0]:.2f} at start, {end[0]:.2f} / {end[1]:.2f} (1/5 min) at end "
        f"on {os.cpu_count()} CPUs: absolute times are noisy on a shared box, ratios less so"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("CADENCE_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--skip-sqlite-1m", action="store_true")
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--enroll", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.enroll < 300 or args.existing < 2 * args.enroll:
        parser.error("need --enroll >= 300 and --existing >= 2 x --enroll")

    # SIGTERM unwinds like Ctrl-C, so the temporary databases are always removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    load_start = os.getloadavg()
    log(f"load average at start {load_start[0]:.2f} on {os.cpu_count()} CPUs")
    results: dict[str, dict[str, str]] = {}
    for b in backends:
        if b == "sqlite":
            results["sqlite"] = sqlite_run(args)
        elif b in ("postgresql", "postgres", "pg"):
            results["postgres"] = pg_run(args)
        else:
            parser.error(f"unknown backend {b!r}")
    summary(results, load_start)
    log("done")


if __name__ == "__main__":
    main()
