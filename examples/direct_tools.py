"""Call the Cadence tools straight from Python: no model, no graph, no network.

Run it from the repository root (a throwaway SQLite database is created and removed):

    python examples/direct_tools.py

Each tool takes the arguments a model would write and acts in the workspace and as the user
named by the ``CadenceContext``; ``call_tool`` returns the tool's JSON result as a dict and
raises ``ToolFailed`` with the text a model would read when the tool refuses.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from cadence.config import Settings
from cadence.service.contacts import upsert_contacts
from cadence.service.context import Cadence
from cadence.service.workspaces import create_workspace
from cadence.tools import CadenceContext, ToolFailed, call_tool


def show(title: str, data: Any) -> None:
    print(f"\n== {title}\n{json.dumps(data, indent=2, default=str)[:1200]}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = Cadence.from_settings(
            Settings(database_url=f"sqlite:///{tmp}/cadence.db", redis_url="memory://")
        )
        try:
            run(app)
        finally:
            app.db.dispose()


def run(app: Cadence) -> None:
    ws = create_workspace(
        app,
        "Acme Sales",
        sender_name="Rita Rep",
        sender_email="rita@acme.example.com",
        postal_address="1 Main St, Springfield",
    )
    scope = app.scope(ws.id, actor="rita")
    upsert_contacts(
        scope,
        [
            {
                "email": "pat@globex.example.com",
                "first_name": "Pat",
                "last_name": "Lee",
                "company": "Globex",
                "title": "VP Sales",
                "industry": "Logistics",
                "linkedin_url": "https://www.linkedin.com/in/patlee",
            },
            {
                "email": "sam@initech.example.com",
                "first_name": "Sam",
                "company": "Initech",
                "title": "Head of Marketing",
                "linkedin_url": "https://www.linkedin.com/in/sam",
            },
        ],
    )
    ctx = CadenceContext(workspace_id=ws.id, user="rita", timezone="Europe/Paris", app=app)

    seq = call_tool(
        "create_sequence",
        ctx,
        name="Q3 intro",
        activate=True,
        steps=[
            {
                "channel": "email",
                "subject": "Quick question, {{first_name|there}}",
                "body": "Hi {{first_name|there}},\n\nHow does {{company|your team}} plan Q3?",
            },
            {"channel": "linkedin", "delay_hours": 48, "body": "Connect with {{first_name}}"},
        ],
    )
    show("create_sequence", seq)
    contacts = ["pat@globex.example.com", "sam@initech.example.com"]
    show(
        "check_sequence_conflicts",
        call_tool(
            "check_sequence_conflicts", ctx, sequence_id=seq["sequence_id"], contacts=contacts
        ),
    )
    enrolled = call_tool(
        "enroll_contacts",
        ctx,
        contacts=contacts,
        sequence_id=seq["sequence_id"],
        tool_call_id="enroll-q3",  # the idempotency key: calling again would not enroll twice
    )
    show("enroll_contacts", enrolled["counts"])
    try:
        call_tool(
            "enroll_contact", ctx, contact="pat@globex.example.com", sequence_id=seq["sequence_id"]
        )
    except ToolFailed as refused:
        show("enroll_contact again (refused, as a model would read it)", refused.message)
    show(
        "get_enrollment_status",
        call_tool("get_enrollment_status", ctx, contact="pat@globex.example.com"),
    )
    show(
        "suggest_personalization",
        call_tool(
            "suggest_personalization",
            ctx,
            contact="pat@globex.example.com",
            sequence_id=seq["sequence_id"],
        ),
    )
    show("suggest_ab_test", call_tool("suggest_ab_test", ctx, sequence_id=seq["sequence_id"]))
    show(
        "pause_sequence (one contact)",
        call_tool(
            "pause_sequence", ctx, sequence_id=seq["sequence_id"], contact="sam@initech.example.com"
        ),
    )
    show("list_sequences", call_tool("list_sequences", ctx))


if __name__ == "__main__":
    main()
