"""Whole conversations through the compiled graph, driven by a scripted model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import ValidationError
from sqlmodel import select

from cadence.graph.fake import last_result, tool_call
from cadence.service import enrollments, sequences
from cadence.service.audit import audit_entries
from cadence.service.context import Scope
from cadence.store.enums import EventType
from cadence.store.models import EngagementEvent
from cadence.tools.messages import CANCELLED_BY_USER_TEMPLATE
from tests import factories as f

NEW_SEQUENCE = {
    "name": "Q3 expansion",
    "activate": True,
    "steps": [
        {
            "channel": "email",
            "subject": "Hi {{first_name|there}}",
            "body": "Hello {{company|team}}",
        },
        {"channel": "task", "delay_hours": 48, "body": "Call them"},
    ],
}


def _tool_messages(messages: list[Any]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def _statuses(scope: Scope, sequence_id: int) -> dict[int, str]:
    return {
        e.contact_id: e.status.value
        for e in enrollments.list_enrollments(scope, sequence_id=sequence_id)
    }


@pytest.mark.parametrize("choice", ["replace", "parallel", "skip"])
def test_create_then_enroll_into_a_conflict_waits_for_the_reps_choice(
    converse: Any, scope: Scope, choice: str
) -> None:
    contact = f.contact(scope, 1)
    old_seq = f.sequence(scope, "Old nurture")
    old = f.enroll(scope, contact.id, old_seq.id)
    chat, model = converse(
        [
            tool_call("create_sequence", **NEW_SEQUENCE),
            lambda m: tool_call(
                "enroll_contact", contact=contact.email, sequence_id=last_result(m)["sequence_id"]
            ),
            AIMessage("Done."),
        ]
    )
    chat.say("Create the Q3 sequence and put Pat in it")

    [new_seq] = [s for s in sequences.list_sequences(scope) if s.name == "Q3 expansion"]
    assert new_seq.status.value == "active"
    question = chat.question
    assert question["kind"] == "enrollment_conflict" and question["tool"] == "enroll_contact"
    assert question["choices"] == ["replace", "parallel", "skip"]
    conflicts = question["details"]["report"]["contacts"][0]["conflicts"]
    assert [c["code"] for c in conflicts] == ["active_in_other_sequence"]
    assert _statuses(scope, new_seq.id) == {}  # nothing happens before the rep answers

    chat.answer(choice)

    assert chat.interrupts == ()
    result = json.loads(str(_tool_messages(chat.messages)[-1].content))
    assert result["resolution"] == choice
    old_status = enrollments.get_enrollment(scope, old.id).status.value
    if choice == "replace":
        assert old_status == "removed"
        assert _statuses(scope, new_seq.id) == {contact.id: "pending"}
        assert result["replaced_enrollment_ids"] == [old.id]
    elif choice == "parallel":
        assert old_status == "pending"
        assert _statuses(scope, new_seq.id) == {contact.id: "pending"}
    else:
        assert old_status == "pending"
        assert _statuses(scope, new_seq.id) == {}
        assert result["action"] == "skipped"
        with scope.db.session() as session:
            kinds = list(session.exec(select(EngagementEvent.type)))
        assert EventType.ENROLL_SKIPPED in kinds
    audit = audit_entries(scope)
    assert [(e.source, e.actor) for e in audit] == [
        ("tool:create_sequence", "rita"),
        ("tool:enroll_contact", "rita"),
    ]
    assert audit[1].arguments["resolution"] == choice
    assert isinstance(chat.messages[-1], AIMessage) and chat.messages[-1].content == "Done."
    assert len(model.seen) == 3


def test_enrolling_without_conflicts_does_not_ask(converse: Any, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    chat, _ = converse(
        [tool_call("enroll_contact", contact=contact.id, sequence_id=seq.id), AIMessage("ok")]
    )
    chat.say("enroll Pat")
    assert chat.interrupts == ()
    assert _statuses(scope, seq.id) == {contact.id: "pending"}


@pytest.mark.parametrize("answer", [True, "approve", {"choice": "approve"}])
def test_a_bulk_enrollment_runs_once_the_rep_approves(
    converse: Any, scope: Scope, answer: Any
) -> None:
    people = [f.contact(scope, n) for n in (1, 2, 3)]
    seq = f.sequence(scope)
    chat, _ = converse(
        [
            tool_call("enroll_contacts", contacts=[p.id for p in people], sequence_id=seq.id),
            AIMessage("Enrolled 3."),
        ]
    )
    chat.say("enroll all three")
    assert chat.question["kind"] == "confirm_bulk_enrollment"
    assert chat.question["choices"] == ["approve", "cancel"]
    assert chat.question["details"]["contacts"] == 3
    assert _statuses(scope, seq.id) == {}
    chat.answer(answer)
    assert len(_statuses(scope, seq.id)) == 3


def test_a_declined_bulk_enrollment_never_runs(converse: Any, scope: Scope) -> None:
    people = [f.contact(scope, n) for n in (1, 2)]
    seq = f.sequence(scope)
    chat, model = converse(
        [
            tool_call("enroll_contacts", contacts=[p.email for p in people], sequence_id=seq.id),
            AIMessage("Understood, nothing enrolled."),
        ]
    )
    chat.say("enroll both")
    chat.answer("cancel")
    assert _statuses(scope, seq.id) == {}
    assert audit_entries(scope) == []
    [message] = _tool_messages(chat.messages)
    assert str(message.content).startswith(CANCELLED_BY_USER_TEMPLATE.split("{")[0])
    assert isinstance(model.seen[-1][-1], ToolMessage)  # the model saw the refusal


def test_a_bulk_enrollment_with_conflicts_asks_for_a_policy(converse: Any, scope: Scope) -> None:
    busy, free = f.contact(scope, 1), f.contact(scope, 2)
    old_seq, seq = f.sequence(scope, "Old"), f.sequence(scope, "New")
    f.enroll(scope, busy.id, old_seq.id)
    chat, _ = converse(
        [
            tool_call("enroll_contacts", contacts=[busy.id, free.id], sequence_id=seq.id),
            AIMessage("done"),
        ]
    )
    chat.say("enroll both")
    assert chat.question["choices"] == ["replace", "parallel", "skip", "cancel"]
    assert chat.question["details"]["with_conflicts"] == 1
    chat.answer("skip")
    assert _statuses(scope, seq.id) == {free.id: "pending"}
    assert _statuses(scope, old_seq.id) == {busy.id: "pending"}


@pytest.mark.parametrize(("answer", "status"), [("approve", "paused"), ("no", "active")])
def test_pausing_a_whole_sequence_asks_first(
    converse: Any, scope: Scope, answer: str, status: str
) -> None:
    seq = f.sequence(scope, "Busy")
    f.enroll(scope, f.contact(scope, 1).id, seq.id)
    chat, _ = converse([tool_call("pause_sequence", sequence_id=seq.id), AIMessage("ok")])
    chat.say("pause Busy")
    assert chat.question["kind"] == "confirm_pause_sequence"
    assert chat.question["details"]["enrollments"] == {"pending": 1}
    chat.answer(answer)
    assert sequences.get_sequence(scope, seq.id).status.value == status


def test_pausing_one_contact_does_not_ask(converse: Any, scope: Scope) -> None:
    seq = f.sequence(scope)
    contact = f.contact(scope, 1)
    f.enroll(scope, contact.id, seq.id)
    chat, _ = converse(
        [tool_call("pause_sequence", sequence_id=seq.id, contact=contact.id), AIMessage("ok")]
    )
    chat.say("pause Pat")
    assert chat.interrupts == ()
    assert _statuses(scope, seq.id) == {contact.id: "paused"}


def test_a_choice_that_was_not_offered_is_asked_again(converse: Any, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    f.enroll(scope, contact.id, seq.id)
    chat, _ = converse(
        [tool_call("enroll_contact", contact=contact.id, sequence_id=seq.id), AIMessage("ok")]
    )
    chat.say("enroll Pat again")
    assert chat.question["choices"] == ["skip"]  # already enrolled allows nothing else
    chat.answer("parallel")
    assert chat.question["error"] == "'parallel' is not one of skip"
    chat.answer("skip")
    assert chat.interrupts == ()
    assert json.loads(str(_tool_messages(chat.messages)[-1].content))["action"] == "skipped"


def test_an_unreadable_answer_fails_and_the_question_stands(converse: Any, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    old, seq = f.sequence(scope, "Old"), f.sequence(scope, "New")
    f.enroll(scope, contact.id, old.id)
    chat, _ = converse(
        [tool_call("enroll_contact", contact=contact.id, sequence_id=seq.id), AIMessage("ok")]
    )
    chat.say("enroll Pat")
    with pytest.raises(ValidationError):
        chat.answer("maybe later")
    assert chat.question["kind"] == "enrollment_conflict"
    chat.answer({"choice": "parallel"})
    assert _statuses(scope, seq.id) == {contact.id: "pending"}


def test_a_tool_error_reaches_the_model_which_corrects_itself(converse: Any, scope: Scope) -> None:
    bad = {"name": "Broken", "steps": [{"channel": "email", "body": "no subject"}]}
    good = {"name": "Fixed", "steps": [{"channel": "email", "subject": "Hi", "body": "Hello"}]}
    chat, model = converse(
        [tool_call("create_sequence", **bad), tool_call("create_sequence", **good), AIMessage("ok")]
    )
    chat.say("make a sequence")
    error = model.seen[1][-1]
    assert isinstance(error, ToolMessage) and error.status == "error"
    assert "first email step needs a subject" in str(error.content)
    assert [s.name for s in sequences.list_sequences(scope)] == ["Fixed"]
    assert len(audit_entries(scope)) == 1


def test_a_model_forging_another_workspace_stays_in_its_own(
    converse: Any, scope: Scope, app: Any
) -> None:
    other = f.workspace(app, "Other team")
    theirs = f.sequence(other, "Theirs")
    contact = f.contact(other, 9)
    chat, _ = converse(
        [
            tool_call("list_sequences", workspace_id=other.workspace_id),
            tool_call(
                "enroll_contact",
                contact=contact.id,
                sequence_id=theirs.id,
                workspace_id=other.workspace_id,
                user="admin",
                runtime={"context": {"workspace_id": other.workspace_id}},
            ),
            AIMessage("ok"),
        ]
    )
    chat.say("list everything")
    listed, enrolled = _tool_messages(chat.messages)
    assert json.loads(str(listed.content)) == {"sequences": []}
    assert enrolled.status == "error" and "(not_found)" in str(enrolled.content)
    assert enrollments.list_enrollments(other) == []


def test_a_repeated_tool_call_id_acts_once(converse: Any, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    args = {"call_id": "toolu_same", "contact": contact.id, "sequence_id": seq.id}
    chat, _ = converse(
        [tool_call("enroll_contact", **args), tool_call("enroll_contact", **args), AIMessage("ok")]
    )
    chat.say("enroll Pat")
    _, second = _tool_messages(chat.messages)
    assert json.loads(str(second.content))["replayed"] is True
    assert len(enrollments.list_enrollments(scope)) == 1
