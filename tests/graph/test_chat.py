"""The terminal chat loop, with scripted input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from cadence.graph import run_chat
from cadence.graph.chat import format_question
from cadence.graph.fake import ScriptedChatModel, last_result, tool_call
from cadence.service import enrollments
from cadence.service.context import Cadence, Scope
from tests import factories as f


def _lines(*answers: str) -> Any:
    it: Iterator[str] = iter(answers)

    def read(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return read


def test_a_chat_turn_with_a_question_and_an_answer(app: Cadence, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    old, new = f.sequence(scope, "Old"), f.sequence(scope, "New")
    f.enroll(scope, contact.id, old.id)
    model = ScriptedChatModel(
        script=[
            tool_call("enroll_contact", contact=contact.email, sequence_id=new.id),
            lambda m: AIMessage(f"Enrolled ({last_result(m)['resolution']})."),
        ]
    )
    out: list[str] = []
    code = run_chat(
        workspace_id=scope.workspace_id,
        user="rita",
        model=model,
        app=app,
        checkpointer=InMemorySaver(),
        read=_lines("put Pat in New", "parallel", "exit"),
        write=out.append,
    )
    assert code == 0
    text = "\n".join(out)
    assert "Active in 'Old'" in text and "choices: replace, parallel, skip" in text
    assert "cadence> Enrolled (parallel)." in text
    assert len(enrollments.list_enrollments(scope)) == 2


def test_chat_without_a_model_explains_and_exits(app: Cadence, scope: Scope) -> None:
    out: list[str] = []
    code = run_chat(
        workspace_id=scope.workspace_id, user="rita", app=app, write=out.append, read=_lines()
    )
    assert code == 2 and "CADENCE_MODEL" in out[0]


def test_questions_read_plainly() -> None:
    text = format_question(
        {
            "question": "Pause 'Busy'?",
            "choices": ["approve", "cancel"],
            "details": {},
            "error": "'maybe' is not one of approve, cancel",
        }
    )
    assert text.splitlines() == [
        "? Pause 'Busy'?",
        "  ('maybe' is not one of approve, cancel)",
        "  choices: approve, cancel",
    ]
