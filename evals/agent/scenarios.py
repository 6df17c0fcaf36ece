"""Agent scenarios: the schema of ``scenarios.jsonl`` and the checks that a scenario is well-formed.

One JSON object a line::

    {"id": "bulk-enroll-approved", "description": "...",
     "request": "Enroll Ana, Ben and Chloe in Nurture",
     "seed": {"contacts": [{"email": "ana@globex.example", "first_name": "Ana"}, ...],
              "sequences": [{"name": "Nurture", "status": "active"}],
              "enrollments": [{"contact": "pat@globex.example", "sequence": "Old"}]},
     "trajectory": [{"tool": "enroll_contacts",
                     "args": {"contacts": ["ana@globex.example", ...],
                              "sequence_id": "$seq:Nurture"},
                     "match": ["contacts", "sequence_id"]}],
     "answers": ["approve"], "questions": ["confirm_bulk_enrollment"],
     "forbidden_tools": [],
     "end_state": {"enrollments": {"Nurture": {"pending": 3}}}}

* ``trajectory`` is the expected tool calls: their full arguments (the ``--fake`` model replays
  them) and, in ``match``, the key arguments a live run must reproduce (default: all). A live
  trajectory passes when it contains every expected call (superset, any order).
* ``"$seq:NAME"`` stands for the id of the sequence named NAME (seeded, or created earlier in
  the run); contacts are named by email, and ids and emails are compared as the same contact.
* ``answers`` are the rep's replies to the agent's questions (interrupts), in order; a question
  beyond them is answered ``cancel``. ``questions`` are the question kinds expected, in order.
* ``end_state``: sequences that must exist (status, step count), the total sequence count,
  enrollments per sequence by status (exact; ``{}`` for none), contacts that must not have been
  enrolled anywhere during the run, ``no_writes`` (no audited tool write), the audit sources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "DEFAULT_SCENARIOS",
    "VALIDATION_CHECKS",
    "EndState",
    "ExpectedCall",
    "Scenario",
    "Seed",
    "load_scenarios",
    "resolve_refs",
    "scenario_problems",
]

DEFAULT_SCENARIOS = Path(__file__).with_name("scenarios.jsonl")
VALIDATION_CHECKS = ("seed", "tools", "arguments", "references", "answers", "end_state")
SEQ_REF = re.compile(r"^\$seq:(.+)$")
_PLACEHOLDER_ID = 1  # stands in for a "$seq:..." reference when arguments are validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedContact(_Strict):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    industry: str | None = None
    notes: str | None = None
    timezone: str | None = "America/New_York"


class SeedStep(_Strict):
    channel: Literal["email", "linkedin", "task"] = "email"
    delay_hours: int = 0
    subject: str | None = None
    body: str = ""


def _default_steps() -> list[SeedStep]:
    return [
        SeedStep(subject="Quick question, {{first_name|there}}", body="Hi {{first_name|there}}"),
        SeedStep(channel="task", delay_hours=48, body="Call {{first_name|them}}"),
    ]


class SeedSequence(_Strict):
    name: str
    status: Literal["draft", "active", "paused"] = "active"
    steps: list[SeedStep] = Field(default_factory=_default_steps, min_length=1)


class SeedEnrollment(_Strict):
    contact: str = Field(description="The contact's email.")
    sequence: str = Field(description="The sequence's name.")


class Seed(_Strict):
    """What the scenario's fresh workspace holds before the request."""

    contacts: list[SeedContact] = Field(default_factory=list)
    sequences: list[SeedSequence] = Field(default_factory=list)
    enrollments: list[SeedEnrollment] = Field(default_factory=list)


class ExpectedCall(_Strict):
    """One expected tool call: full arguments for replay, key arguments for matching."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    match: list[str] | None = None

    def key_args(self) -> dict[str, Any]:
        """The arguments a live call must reproduce."""
        keys = self.args.keys() if self.match is None else self.match
        return {k: self.args[k] for k in keys if k in self.args}


class SequenceExpectation(_Strict):
    status: Literal["draft", "active", "paused", "archived"] | None = None
    steps: int | None = None


class EndState(_Strict):
    """The database after the run (see the module docstring)."""

    sequences: dict[str, SequenceExpectation] = Field(default_factory=dict)
    sequence_count: int | None = None
    enrollments: dict[str, dict[str, int]] = Field(default_factory=dict)
    not_enrolled: list[str] = Field(default_factory=list)
    no_writes: bool = False
    audit: list[str] | None = None


class Scenario(_Strict):
    """A rep's request, the workspace it starts from, and what should happen."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    request: str = Field(min_length=1)
    seed: Seed = Field(default_factory=Seed)
    trajectory: list[ExpectedCall] = Field(default_factory=list)
    forbidden_tools: list[str] = Field(default_factory=list)
    answers: list[str] = Field(default_factory=list)
    questions: list[str] | None = None
    end_state: EndState
    reply: str = Field("Done.", description="The fake model's last message.")


def load_scenarios(path: str | Path) -> tuple[list[Scenario], list[str]]:
    """Parse every line; returns the scenarios that parse and one problem text per line that not."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            scenarios.append(Scenario.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            problems.append(f"line {n}: {exc}")
    return scenarios, problems


def resolve_refs(value: Any, sequence_id: Callable[[str], int | None]) -> Any:
    """``value`` with every ``"$seq:NAME"`` replaced by that sequence's id (None if unknown)."""
    if isinstance(value, str) and (m := SEQ_REF.match(value)):
        return sequence_id(m.group(1))
    if isinstance(value, dict):
        return {k: resolve_refs(v, sequence_id) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, sequence_id) for v in value]
    return value


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, str) and (m := SEQ_REF.match(value)):
        yield m.group(1)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


def _contact_refs(args: dict[str, Any]) -> list[str]:
    refs = [args["contact"]] if isinstance(args.get("contact"), str) else []
    refs += [c for c in args.get("contacts") or [] if isinstance(c, str)]
    return refs


def scenario_problems(scenario: Scenario, tools: Sequence[BaseTool]) -> list[tuple[str, str]]:
    """Why ``scenario`` is not well-formed, as ``(check, message)``; empty when it is.

    The checks are ``seed``, ``tools``, ``arguments``, ``references``, ``answers`` and
    ``end_state`` (``VALIDATION_CHECKS``).

    Checks that every tool named exists, every expected call's arguments validate against the
    tool's schema, ``match`` keys are arguments, ``$seq:`` references and contacts name seeded
    (or earlier created) entities, answers are valid decisions, and the end state names known
    sequences and contacts.
    """
    from cadence.graph.review import Decision  # the graph is heavy; only needed here

    by_name = {t.name: t for t in tools}
    problems: list[tuple[str, str]] = []
    emails = {c.email.lower() for c in scenario.seed.contacts}
    sequences = {s.name for s in scenario.seed.sequences}
    if len(emails) != len(scenario.seed.contacts):
        problems.append(("seed", "duplicate contact emails"))
    for e in scenario.seed.enrollments:
        if e.contact.lower() not in emails or e.sequence not in sequences:
            problems.append(("seed", f"enrollment names an unknown contact or sequence: {e}"))
    for i, call in enumerate(scenario.trajectory, start=1):
        where = f"trajectory[{i}] {call.tool}"
        tool = by_name.get(call.tool)
        if tool is None:
            problems.append(
                ("tools", f"{where}: no such tool (tools: {', '.join(sorted(by_name))})")
            )
            continue
        for name in _refs(call.args):
            if name not in sequences:
                problems.append(
                    ("references", f"{where}: $seq:{name} is neither seeded nor created before")
                )
        for ref in _contact_refs(call.args):
            if "@" in ref and ref.lower() not in emails:
                problems.append(("references", f"{where}: contact {ref!r} is not seeded"))
        missing = [k for k in call.match or [] if k not in call.args]
        if missing:
            problems.append(
                ("arguments", f"{where}: match names arguments it does not give: {missing}")
            )
        schema = tool.args_schema
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            concrete = resolve_refs(call.args, lambda _name: _PLACEHOLDER_ID)
            try:
                schema.model_validate(concrete)
            except ValidationError as exc:
                errors = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                problems.append(("arguments", f"{where}: arguments do not validate: {errors}"))
        if call.tool == "create_sequence" and isinstance(call.args.get("name"), str):
            sequences.add(call.args["name"])
    for name in scenario.forbidden_tools:
        if name not in by_name:
            problems.append(("tools", f"forbidden_tools: no such tool {name!r}"))
        if any(c.tool == name for c in scenario.trajectory):
            problems.append(
                ("tools", f"forbidden_tools: {name!r} is also expected in the trajectory")
            )
    for answer in scenario.answers:
        try:
            Decision.model_validate(answer)
        except ValidationError:
            problems.append(("answers", f"{answer!r} is not a decision"))
    end = scenario.end_state
    for name in [*end.sequences, *end.enrollments]:
        if name not in sequences:
            problems.append(("end_state", f"sequence {name!r} is neither seeded nor created"))
    for email in end.not_enrolled:
        if email.lower() not in emails:
            problems.append(("end_state", f"contact {email!r} in not_enrolled is not seeded"))
    if end.no_writes and end.audit:
        problems.append(("end_state", "no_writes contradicts a non-empty audit"))
    return problems
