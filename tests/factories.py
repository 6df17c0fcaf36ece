"""Builders for test data: a workspace, contacts and sequences with sensible defaults."""

from __future__ import annotations

from typing import Any

from cadence.service import contacts, enrolling, sequences, workspaces
from cadence.service.context import Cadence, Scope
from cadence.service.views import ContactPublic, EnrollmentPublic, SequencePublic


def workspace(app: Cadence, name: str = "Acme Sales", **kwargs: Any) -> Scope:
    ws = workspaces.create_workspace(
        app,
        name,
        sender_name=kwargs.pop("sender_name", "Rita Rep"),
        sender_email=kwargs.pop("sender_email", "rita@acme.example.com"),
        postal_address=kwargs.pop("postal_address", "1 Main St, Springfield"),
        **kwargs,
    )
    return app.scope(ws.id, actor="rita")


def contact(scope: Scope, n: int = 1, **fields: Any) -> ContactPublic:
    data: dict[str, Any] = {
        "email": f"person{n}@example.com",
        "first_name": f"Pat{n}",
        "last_name": "Lee",
        "company": "Globex",
        "title": "VP Sales",
        "timezone": "America/New_York",
        "linkedin_url": f"https://www.linkedin.com/in/person{n}",
    }
    data.update(fields)
    return contacts.upsert_contact(scope, data)


def steps(*, channels: tuple[str, ...] = ("email", "linkedin", "email")) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, ch in enumerate(channels):
        step: dict[str, Any] = {"channel": ch, "delay_hours": 0 if i == 0 else 48}
        if ch == "email":
            step["body"] = "Hi {{first_name|there}}, a note for {{company|your team}}."
            if not any(s["channel"] == "email" for s in out):
                step["subject"] = "Quick question, {{first_name|there}}"
        else:
            step["body"] = "Connect with {{first_name|them}} on LinkedIn"
        out.append(step)
    return out


def sequence(
    scope: Scope, name: str = "Follow-up", *, activate: bool = True, **kwargs: Any
) -> SequencePublic:
    spec: dict[str, Any] = {"name": name, "steps": kwargs.pop("steps", None) or steps()}
    spec.update(kwargs)
    return sequences.create_sequence(scope, spec, activate=activate)


def enroll(scope: Scope, contact_id: int, sequence_id: int, **kwargs: Any) -> EnrollmentPublic:
    outcome = enrolling.enroll(scope, contact_id, sequence_id, **kwargs)
    assert outcome.enrollment is not None, outcome
    return outcome.enrollment
