"""The demo behind ``make demo``: Cadence on the embedded default, end to end.

SQLite, Redis if one answers on 127.0.0.1:6379 (else an in-process fakeredis), a local SMTP sink
and an RQ worker in this process. Time is simulated: the clock moves an hour at a time through a
business week, and at each hour the promoter and the worker run as they would in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from rq import SimpleWorker

from cadence.channels.email import SmtpSender
from cadence.channels.sink import SmtpSink
from cadence.clock import ManualClock
from cadence.config import Settings
from cadence.engine import runtime
from cadence.engine.connection import connect_redis, is_memory
from cadence.engine.jobs import queue_for
from cadence.engine.promoter import promote
from cadence.service import (
    contacts,
    enrolling,
    enrollments,
    outcomes,
    sequences,
    tasks,
    workspaces,
)
from cadence.service.context import Cadence
from cadence.service.explain import why_not_sent
from cadence.store.db import Database

__all__ = ["run_demo"]

BOUNCING = "katherine@orbit.example.com"
PEOPLE: list[dict[str, Any]] = [
    {
        "email": "ada@analytical.example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "title": "CTO",
        "timezone": "Europe/London",
        "linkedin_url": "https://www.linkedin.com/in/ada",
    },
    {
        "email": "grace@cobol.example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "company": "Compilers Inc",
        "title": "VP Engineering",
        "timezone": "America/New_York",
        "linkedin_url": "https://www.linkedin.com/in/grace",
    },
    {
        "email": "alan@enigma.example.com",
        "first_name": "Alan",
        "last_name": "Turing",
        "company": "Bletchley Labs",
        "title": "Head of Research",
        "timezone": "Europe/London",
        "linkedin_url": "https://www.linkedin.com/in/alan",
    },
    {
        "email": BOUNCING,
        "first_name": "Katherine",
        "last_name": "Johnson",
        "company": "Orbital Mechanics",
        "title": "Director of Operations",
        "timezone": "America/Chicago",
        "linkedin_url": "https://www.linkedin.com/in/katherine",
    },
    {
        "email": "edsger@paths.example.com",
        "last_name": "Dijkstra",
        "company": "Shortest Paths BV",
        "title": "Founder",
        "timezone": "Europe/Amsterdam",
    },
]
WINDOW = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
FOLLOW_UP = {
    "name": "Q3 webinar follow-up",
    "steps": [
        {
            "channel": "email",
            "subject": "Thanks for joining, {{first_name|there}}",
            "body": "Hi {{first_name|there}},\n\nThanks for joining our webinar. How is "
            "{{company|your team}} handling outreach today?\n\n{{sender_name}}",
        },
        {
            "channel": "linkedin",
            "delay_hours": 24,
            "body": "Connect with {{first_name|them}} and mention the webinar.",
        },
        {
            "channel": "email",
            "delay_hours": 48,
            "body": "Hi {{first_name|there}}, following up on my note. Worth a chat?",
        },
    ],
    "send_window": WINDOW,
}


def _one_email(name: str, subject: str) -> dict[str, Any]:
    return {
        "name": name,
        "send_window": WINDOW,
        "steps": [{"channel": "email", "subject": subject, "body": "Hi {{first_name|there}}"}],
    }


def run_demo(settings: Settings, console: Console) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # Monday morning in London
    app = Cadence(
        db=Database(settings.database_url, auto_migrate=True), clock=clock, settings=settings
    )
    redis = connect_redis(settings.redis_url)
    where = "in-process fakeredis" if is_memory(redis) else "Redis at 127.0.0.1:6379"
    with SmtpSink(
        reject={BOUNCING: "550 5.1.1 <katherine@orbit.example.com>: no such user"}
    ) as sink:
        rt = runtime.configure(
            runtime.EngineRuntime(
                app=app,
                redis=redis,
                email=SmtpSender(sink.url, timeout=10),
                retry_intervals=[0, 0, 0],
            )
        )
        console.print(
            f"[bold]Cadence demo[/bold]: {settings.database_url}, {where}, SMTP sink at {sink.url}"
        )
        ws = workspaces.create_workspace(
            app,
            "Demo Sales",
            timezone="Europe/London",
            sender_name="Rita Rep",
            sender_email="rita@demo.example.com",
            postal_address="1 Demo Street, London",
        )
        scope = app.scope(ws.id, actor="rita")
        people = contacts.upsert_contacts(scope, PEOPLE)
        seq = sequences.create_sequence(scope, FOLLOW_UP, activate=True)
        console.print(
            f"sequence [bold]{seq.name}[/bold]: "
            + " → ".join(f"{s.channel.value} (+{s.delay_hours}h)" for s in seq.steps)
        )
        ids = [c.id for c in people]
        for item in enrolling.check_sequence_conflicts(scope, seq.id, ids).contacts:
            for conflict in item.conflicts:
                console.print(
                    f"  conflict for {people[ids.index(item.contact_id)].email}: "
                    f"[yellow]{conflict.code}[/yellow] — {conflict.message}"
                )
        result = enrolling.enroll_many(scope, seq.id, ids, resolution="skip")
        console.print(f"bulk enroll (resolution 'skip'): {result.counts}")
        # Ada is also in two one-email sequences: three emails due Monday, the limit is two.
        for name in ("Product launch", "Customer story"):
            other = sequences.create_sequence(
                scope, _one_email(name, f"{name} for {{{{company}}}}"), activate=True
            )
            enrolling.enroll(scope, people[0].id, other.id, resolution="parallel")
        by_id = {c.id: c.email for c in people}
        grace = next(o.enrollment for o in result.outcomes if o.contact_id == people[1].id)
        assert grace is not None
        seen = 0
        noted: set[tuple[int, str]] = set()
        console.print("\n[bold]A simulated week, an hour at a time[/bold]")
        for _ in range(5 * 24):
            promote(rt, horizon=timedelta(0))
            SimpleWorker([queue_for(redis)], connection=redis).work(
                burst=True, logging_level="ERROR"
            )
            for msg in sink.messages[seen:]:
                thread = f"  ↳ threaded under {msg['In-Reply-To']}" if msg["In-Reply-To"] else ""
                console.print(
                    f"{clock.now():%a %H:%M} UTC  sent to {msg['To']}: “{msg['Subject']}”{thread}"
                )
            seen = len(sink.messages)
            _narrate(console, scope, clock, by_id, noted)
            for task in tasks.list_tasks(scope):
                tasks.complete_task(scope, task.id)
                console.print(f"{clock.now():%a %H:%M} UTC  rita completed task “{task.title}”")
            row = enrollments.get_enrollment(scope, grace.id)
            if row.status == "sent" and row.current_step == 0:
                outcomes.record_reply(scope, grace.id)
                console.print(
                    f"{clock.now():%a %H:%M} UTC  [green]Grace replied[/green]: enrollment done"
                )
            clock.advance(hours=1)
        _report(console, scope, by_id)
    app.db.dispose()


def _narrate(
    console: Console,
    scope: Any,
    clock: ManualClock,
    by_id: dict[int, str | None],
    noted: set[tuple[int, str]],
) -> None:
    """Say once when an enrollment bounced or a touch was deferred by the daily limit."""
    for e in enrollments.list_enrollments(scope):
        if e.status == "bounced" and (e.id, "bounced") not in noted:
            noted.add((e.id, "bounced"))
            console.print(
                f"{clock.now():%a %H:%M} UTC  [red]{by_id[e.contact_id]} bounced (550)[/red]: "
                "the address is suppressed and every enrollment of the contact stopped"
            )
        elif e.status == "pending" and (e.id, "daily_limit") not in noted:
            why = why_not_sent(scope, e.id)
            if why.reason == "daily_limit":
                noted.add((e.id, "daily_limit"))
                console.print(
                    f"{clock.now():%a %H:%M} UTC  [yellow]daily limit[/yellow] for "
                    f"{by_id[e.contact_id]}: {why.message}"
                )


def _report(console: Console, scope: Any, by_id: dict[int, str | None]) -> None:
    table = Table(title="Enrollments at the end of the week")
    for column in ("sequence", "contact", "status", "step", "why"):
        table.add_column(column)
    names = {s.id: s.name for s in sequences.list_sequences(scope)}
    for e in enrollments.list_enrollments(scope):
        why = why_not_sent(scope, e.id)
        table.add_row(
            names[e.sequence_id],
            by_id.get(e.contact_id) or "",
            e.status.value,
            str(e.current_step + 1),
            why.message,
        )
    console.print(table)
