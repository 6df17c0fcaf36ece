"""Human in the loop: the model's tool calls are reviewed before they run.

Three kinds of call wait for the person (``langgraph.types.interrupt``):

- ``enroll_contact`` without a resolution, when the contact has conflicts: the conflict report
  and the allowed choices (replace, parallel, skip); the choice becomes the call's resolution;
- ``enroll_contacts`` (not a dry run): confirm, or, with conflicts and no resolution, choose
  replace, parallel or skip for all, or cancel;
- ``pause_sequence`` of a whole sequence: confirm or cancel.

Resume with ``Command(resume="parallel")`` (or ``{"choice": "parallel"}``, ``"approve"``,
``"cancel"``, ``True``/``False``). A declined call is answered with a tool message
(``CANCELLED_BY_USER_TEMPLATE``) and never runs; the others go to the tool node, one ``Send``
each. Calls whose arguments do not parse pass through: the tool answers them with its error.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langgraph.runtime import Runtime
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel, ValidationError, model_validator

from cadence.errors import CadenceError
from cadence.graph.state import CadenceState
from cadence.service import enrolling, sequences
from cadence.service.audit import find_by_key
from cadence.service.context import Scope
from cadence.service.records import contact_id_of, contact_ids_of
from cadence.tools.context import CadenceContext, resolve_context
from cadence.tools.enrollments import EnrollContactArgs, EnrollContactsArgs
from cadence.tools.messages import CANCELLED_BY_USER_TEMPLATE
from cadence.tools.pausing import PauseArgs

__all__ = ["Decision", "Question", "review_tool_calls"]

Choice = Literal["replace", "parallel", "skip", "approve", "cancel"]
_YES = {"approve", "approved", "yes", "y", "ok", "confirm", "true"}
_NO = {"cancel", "no", "n", "decline", "reject", "false"}
_SHOWN_CONTACTS = 50  # conflicted contacts listed in a bulk question


class Decision(BaseModel):
    """The person's answer to a ``Question``."""

    choice: Choice

    @model_validator(mode="before")
    @classmethod
    def _loose(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return {"choice": "approve" if data else "cancel"}
        if isinstance(data, str):
            word = data.strip().lower()
            return {"choice": "approve" if word in _YES else "cancel" if word in _NO else word}
        return data


class Question(BaseModel):
    """What an interrupt shows the person: the call, the question, the facts, the choices."""

    kind: Literal["enrollment_conflict", "confirm_bulk_enrollment", "confirm_pause_sequence"]
    tool: str
    tool_call_id: str | None
    question: str
    choices: list[Choice]
    details: dict[str, Any]
    error: str | None = None


def _ask(question: Question) -> Choice:
    """Interrupt until the person picks one of the offered choices."""
    while True:
        decision = interrupt(question.model_dump(mode="json"), response_schema=Decision)
        if decision.choice in question.choices:
            return decision.choice
        question = question.model_copy(
            update={"error": f"{decision.choice!r} is not one of {', '.join(question.choices)}"}
        )


def _enroll_one(scope: Scope, call: ToolCall) -> Question | None:
    args = EnrollContactArgs.model_validate(call["args"])
    if args.dry_run or args.resolution is not None:
        return None
    report = enrolling.check_sequence_conflicts(
        scope, args.sequence_id, [contact_id_of(scope, args.contact)]
    )
    if not report.has_conflicts:
        return None
    item = report.contacts[0]
    reasons = "; ".join(c.message for c in item.conflicts)
    return Question(
        kind="enrollment_conflict",
        tool=call["name"],
        tool_call_id=call["id"],
        question=f"Contact {item.contact_id} has conflicts with '{report.sequence_name}': "
        f"{reasons} Replace, run in parallel, or skip?",
        choices=list(item.allowed),
        details={"report": report.model_dump(mode="json")},
    )


def _enroll_many(scope: Scope, call: ToolCall) -> Question | None:
    args = EnrollContactsArgs.model_validate(call["args"])
    if args.dry_run:
        return None
    ids = list(dict.fromkeys(contact_ids_of(scope, args.contacts)))
    report = enrolling.check_sequence_conflicts(scope, args.sequence_id, ids)
    blocked = [c for c in report.contacts if c.conflicts]
    details: dict[str, Any] = {
        "sequence_id": report.sequence_id,
        "sequence_name": report.sequence_name,
        "contacts": len(ids),
        "with_conflicts": len(blocked),
        "resolution": args.resolution,
        "conflicts": [c.model_dump(mode="json") for c in blocked[:_SHOWN_CONTACTS]],
    }
    text = f"Enroll {len(ids)} contacts in '{report.sequence_name}'?"
    choices: list[Choice] = ["approve", "cancel"]
    if blocked and args.resolution is None:
        text += f" {len(blocked)} have conflicts: replace, run in parallel, skip them, or cancel?"
        choices = ["replace", "parallel", "skip", "cancel"]
    elif blocked:
        text += f" {len(blocked)} have conflicts; they will be handled as '{args.resolution}'."
    return Question(
        kind="confirm_bulk_enrollment",
        tool=call["name"],
        tool_call_id=call["id"],
        question=text,
        choices=choices,
        details=details,
    )


def _pause_all(scope: Scope, call: ToolCall) -> Question | None:
    args = PauseArgs.model_validate(call["args"])
    if args.contact is not None:
        return None
    seq = sequences.get_sequence(scope, args.sequence_id)
    counts = sequences.enrollment_counts(scope, seq.id)
    return Question(
        kind="confirm_pause_sequence",
        tool=call["name"],
        tool_call_id=call["id"],
        question=f"Pause the whole sequence '{seq.name}' ({seq.status.value}) and every send "
        "in it?",
        choices=["approve", "cancel"],
        details={"sequence_id": seq.id, "sequence_name": seq.name, "enrollments": counts},
    )


_REVIEWS = {
    "enroll_contact": _enroll_one,
    "enroll_contacts": _enroll_many,
    "pause_sequence": _pause_all,
}


def _already_made(scope: Scope, call: ToolCall) -> bool:
    """Whether this call ran before (same idempotency key): the tool will replay it as is."""
    key = call["args"].get("idempotency_key") or call["id"]
    return isinstance(key, str) and find_by_key(scope, key) is not None


def _decide(scope: Scope, call: ToolCall) -> ToolCall | ToolMessage:
    review = _REVIEWS.get(call["name"])
    if review is None or _already_made(scope, call):
        return call
    try:
        question = review(scope, call)
    except (ValidationError, CadenceError):
        return call  # the tool itself reports what is wrong
    if question is None:
        return call
    choice = _ask(question)
    if choice == "cancel":
        return ToolMessage(
            CANCELLED_BY_USER_TEMPLATE.format(tool=call["name"], what=question.question),
            tool_call_id=call["id"] or "",
            name=call["name"],
        )
    if choice == "approve":
        return call
    return {**call, "args": {**call["args"], "resolution": choice}}


def review_tool_calls(
    state: CadenceState, runtime: Runtime[CadenceContext]
) -> Command[Literal["tools", "model"]]:
    """Ask the person about the calls that need it, then send the others to the tool node."""
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    scope = resolve_context(runtime.context).scope()
    answered: list[ToolMessage] = []
    sends: list[Send] = []
    for call in last.tool_calls:
        outcome = _decide(scope, call)
        if isinstance(outcome, ToolMessage):
            answered.append(outcome)
        else:
            payload = {"__type": "tool_call_with_context", "tool_call": outcome, "state": state}
            sends.append(Send("tools", payload))
    update = {"messages": answered} if answered else None
    return Command(update=update, goto=sends if sends else "model")
