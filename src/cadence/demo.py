"""The demo behind ``make demo``: Cadence on the embedded default, end to end as far as it goes."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from cadence.config import Settings
from cadence.service import contacts, enrolling, enrollments, outcomes, sequences, workspaces
from cadence.service.context import Cadence

__all__ = ["run_demo"]

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
        "email": "katherine@orbit.example.com",
        "first_name": "Katherine",
        "last_name": "Johnson",
        "company": "Orbital Mechanics",
        "title": "Director of Operations",
        "timezone": "America/Chicago",
    },
    {
        "email": "edsger@paths.example.com",
        "first_name": None,
        "last_name": "Dijkstra",
        "company": "Shortest Paths BV",
        "title": "Founder",
        "timezone": "Europe/Amsterdam",
        "linkedin_url": "https://www.linkedin.com/in/edsger",
    },
]

SEQUENCE = {
    "name": "Q3 webinar follow-up",
    "steps": [
        {
            "channel": "email",
            "delay_hours": 0,
            "subject": "Thanks for joining, {{first_name|there}}",
            "body": "Hi {{first_name|there}},\n\nThanks for joining our webinar. How is "
            "{{company|your team}} handling outreach today?\n\n{{sender_name}}",
        },
        {
            "channel": "linkedin",
            "delay_hours": 48,
            "body": "Connect with {{first_name|them}} and mention the webinar.",
        },
        {
            "channel": "email",
            "delay_hours": 72,
            "body": "Hi {{first_name|there}}, following up on my note. Worth a chat?",
        },
    ],
    "send_window": {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"},
}


def run_demo(settings: Settings, console: Console) -> None:
    app = Cadence.from_settings(settings)
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
    seq = sequences.create_sequence(scope, SEQUENCE, activate=True)
    console.print(
        f"workspace [bold]{ws.name}[/bold]: {len(people)} contacts, sequence "
        f"[bold]{seq.name}[/bold] ({' → '.join(s.channel.value for s in seq.steps)})"
    )
    ids = [c.id for c in people]
    report = enrolling.check_sequence_conflicts(scope, seq.id, ids)
    for item in report.contacts:
        for conflict in item.conflicts:
            console.print(
                f"conflict for contact {item.contact_id}: [yellow]{conflict.code}[/yellow] "
                f"{conflict.message} (allowed: {', '.join(conflict.resolutions)})"
            )
    result = enrolling.enroll_many(scope, seq.id, ids, resolution="skip")
    console.print(f"bulk enroll with resolution 'skip': {result.counts}")
    enrolled = [o.enrollment for o in result.outcomes if o.enrollment is not None]
    outcomes.record_reply(scope, enrolled[1].id)
    outcomes.record_unsubscribe(scope, enrolled[2].contact_id, source="demo")

    names = {c.id: c.email for c in people}
    table = Table(title=f"Enrollments in '{seq.name}' (database {settings.database_url})")
    for column in ("enrollment", "contact", "status", "step", "next send (UTC)", "why stopped"):
        table.add_column(column)
    for e in enrollments.list_enrollments(scope, sequence_id=seq.id):
        table.add_row(
            str(e.id),
            names[e.contact_id] or "",
            e.status.value,
            str(e.current_step + 1),
            e.next_send_at.strftime("%a %d %b %H:%M") if e.next_send_at else "-",
            e.stop_reason or "",
        )
    console.print(table)
    app.db.dispose()
