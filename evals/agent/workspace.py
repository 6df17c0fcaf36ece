"""A fresh SQLite workspace per scenario: seeded as the scenario says, inspected afterwards.

The schema is migrated once into a template file (:class:`TemplateDatabase`); each scenario
copies it, so a scenario costs a file copy, not a migration. Seeding goes through the service,
like any host, so it writes no audit rows: every audit row after the run is the agent's doing.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from cadence.clock import ManualClock
from cadence.config import Settings
from cadence.domain.specs import normalize_email
from cadence.errors import CadenceError
from cadence.service import contacts, enrolling, enrollments, sequences, workspaces
from cadence.service.audit import audit_entries
from cadence.service.context import Cadence, Scope
from cadence.store.db import Database, upgrade
from cadence.store.models import Contact
from cadence.tools.context import CadenceContext
from evals.agent.scenarios import EndState, Seed

__all__ = ["START", "USER", "TemplateDatabase", "Workspace", "check_end_state", "open_workspace"]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
USER = "rita"


class TemplateDatabase:
    """A migrated SQLite file, copied for each scenario."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        db = Database(f"sqlite:///{self.path}")
        upgrade(db.engine)
        db.dispose()

    def copy(self, dest: Path) -> Path:
        """A fresh copy at ``dest``."""
        shutil.copy(self.path, dest)
        return dest


@dataclass
class Workspace:
    """The scenario's runtime, workspace and what the seed put there."""

    app: Cadence
    scope: Scope
    seeded: Counter[int] = field(default_factory=Counter)  # enrollments per contact id

    @property
    def context(self) -> CadenceContext:
        """The run-time context the agent and its tools act in."""
        return CadenceContext(
            workspace_id=self.scope.workspace_id, user=USER, timezone="Europe/Paris", app=self.app
        )

    def sequence_id(self, name: str) -> int | None:
        """The id of the newest sequence named ``name``, or None."""
        found = [s.id for s in sequences.list_sequences(self.scope) if s.name == name]
        return max(found) if found else None

    def contact_id(self, ref: Any) -> Any:
        """The id of a contact named by id or email; the reference itself if unknown."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            return ref
        text = str(ref).strip()
        if text.isdigit():
            return int(text)
        try:
            email = normalize_email(text)
        except (CadenceError, ValueError):
            return ref
        with self.scope.db.session() as session:
            found = session.exec(
                select(Contact.id).where(
                    Contact.workspace_id == self.scope.workspace_id, Contact.email == email
                )
            ).first()
        return found if found is not None else ref

    def snapshot(self) -> dict[str, Any]:
        """The database as the end-state checks see it."""
        seqs = {}
        for s in sequences.list_sequences(self.scope):
            counts = Counter(
                e.status.value for e in enrollments.list_enrollments(self.scope, sequence_id=s.id)
            )
            seqs[s.name] = {"status": s.status.value, "steps": len(s.steps), "enrollments": counts}
        per_contact = Counter(e.contact_id for e in enrollments.list_enrollments(self.scope))
        return {
            "sequences": seqs,
            "enrollments_per_contact": per_contact,
            "audit": [e.source for e in audit_entries(self.scope)],
        }

    def close(self) -> None:
        """Release the database."""
        self.app.db.dispose()


def open_workspace(
    seed: Seed, template: TemplateDatabase, db_path: Path, *, model: str | None = None
) -> Workspace:
    """A new workspace in a copy of ``template`` at ``db_path``, holding ``seed``."""
    url = f"sqlite:///{template.copy(db_path)}"
    settings = Settings(database_url=url, redis_url="memory://", auto_migrate=False, model=model)
    app = Cadence(db=Database(url), clock=ManualClock(START), settings=settings)
    ws = workspaces.create_workspace(
        app,
        "Eval Sales",
        sender_name="Rita Rep",
        sender_email="rita@cadence-eval.example",
        postal_address="1 Main St, Springfield",
    )
    scope = app.scope(ws.id, actor="seed")
    by_email = {}
    for c in seed.contacts:
        made = contacts.upsert_contact(scope, c.model_dump())
        by_email[c.email.lower()] = made.id
    by_name = {}
    for s in seed.sequences:
        spec = {"name": s.name, "steps": [step.model_dump() for step in s.steps]}
        made_seq = sequences.create_sequence(scope, spec, activate=s.status != "draft")
        by_name[s.name] = made_seq.id
    seeded: Counter[int] = Counter()
    for e in seed.enrollments:
        contact_id = by_email[e.contact.lower()]
        outcome = enrolling.enroll(scope, contact_id, by_name[e.sequence], resolution="parallel")
        if outcome.enrollment is None:
            raise RuntimeError(f"seeding could not enroll {e.contact} in {e.sequence}: {outcome}")
        seeded[contact_id] += 1
    for s in seed.sequences:  # pause after enrolling, so a paused sequence can hold people
        if s.status == "paused":
            sequences.pause_sequence(scope, by_name[s.name])
    return Workspace(app=app, scope=app.scope(ws.id, actor=USER), seeded=seeded)


def check_end_state(expected: EndState, ws: Workspace) -> list[str]:
    """The differences between the database and ``expected``; empty when it matches."""
    snap = ws.snapshot()
    seqs: dict[str, dict[str, Any]] = snap["sequences"]
    problems = []
    for name, want in expected.sequences.items():
        have = seqs.get(name)
        if have is None:
            problems.append(f"sequence {name!r} does not exist")
            continue
        if want.status is not None and have["status"] != want.status:
            problems.append(f"sequence {name!r} is {have['status']}, expected {want.status}")
        if want.steps is not None and have["steps"] != want.steps:
            problems.append(f"sequence {name!r} has {have['steps']} steps, expected {want.steps}")
    if expected.sequence_count is not None and len(seqs) != expected.sequence_count:
        problems.append(f"{len(seqs)} sequences, expected {expected.sequence_count}")
    for name, want_counts in expected.enrollments.items():
        have_counts = dict(seqs.get(name, {}).get("enrollments", {}))
        if have_counts != want_counts:
            problems.append(f"enrollments in {name!r}: {have_counts}, expected {want_counts}")
    for email in expected.not_enrolled:
        cid = ws.contact_id(email)
        extra = snap["enrollments_per_contact"].get(cid, 0) - ws.seeded.get(cid, 0)
        if extra:
            problems.append(f"{email} was enrolled {extra} time(s) during the run")
    audit: list[str] = snap["audit"]
    if expected.no_writes and audit:
        problems.append(f"expected no writes, the audit has {audit}")
    if expected.audit is not None and audit != expected.audit:
        problems.append(f"audit {audit}, expected {expected.audit}")
    return problems
