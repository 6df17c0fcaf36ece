"""create_sequence, list_sequences and get_sequence through the tools."""

from __future__ import annotations

import pytest

from cadence.service import sequences
from cadence.service.audit import audit_entries
from cadence.service.context import Scope
from cadence.tools import CadenceContext, ToolFailed, call_tool, invoke_tool
from tests import factories as f
from tests.tools.conftest import email_step


def test_create_sequence_saves_a_draft_and_audits_who_did_it(
    ctx: CadenceContext, scope: Scope
) -> None:
    out = call_tool(
        "create_sequence",
        ctx,
        tool_call_id="call-1",
        name="Q3 intro",
        steps=[email_step(), {"channel": "linkedin", "delay_hours": 48, "body": "Connect"}],
        send_window={"days": [0, 1, 2], "start": "09:00", "end": "17:00"},
    )
    assert out["status"] == "draft" and out["replayed"] is False
    saved = sequences.get_sequence(scope, out["sequence_id"])
    assert [s.channel.value for s in saved.steps] == ["email", "linkedin"]
    assert saved.send_window is not None and saved.send_window["days"] == [0, 1, 2]
    [entry] = audit_entries(scope)
    assert (entry.actor, entry.source, entry.action) == (
        "rita",
        "tool:create_sequence",
        "create_sequence",
    )
    assert entry.target_type == "sequence" and entry.target_id == str(out["sequence_id"])
    assert entry.idempotency_key == "call-1"


def test_create_sequence_can_start_sending_at_once(ctx: CadenceContext, scope: Scope) -> None:
    out = call_tool("create_sequence", ctx, name="Live", steps=[email_step()], activate=True)
    assert sequences.get_sequence(scope, out["sequence_id"]).status.value == "active"


def test_create_sequence_dry_run_validates_and_writes_nothing(
    ctx: CadenceContext, scope: Scope
) -> None:
    out = call_tool("create_sequence", ctx, name="Preview", steps=[email_step()], dry_run=True)
    assert out["dry_run"] is True and out["sequence_id"] is None
    assert out["steps"][0]["subject"] == "Hi {{first_name|there}}"
    assert sequences.list_sequences(scope) == []
    assert audit_entries(scope) == []


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([{"channel": "fax", "body": "x"}], "steps.0.channel"),
        ([{"channel": "email", "body": "no subject"}], "the first email step needs a subject"),
        ([email_step(body="Hi {{favourite_color}}")], "unknown merge field {{favourite_color}}"),
        ([{"channel": "email", "subject": "s", "body": "b", "delay_hours": -1}], "delay_hours"),
    ],
)
def test_invalid_sequence_comes_back_as_a_readable_error_and_nothing_is_written(
    ctx: CadenceContext, scope: Scope, steps: list[dict[str, object]], expected: str
) -> None:
    for dry_run in (False, True):
        message = invoke_tool(
            "create_sequence", {"name": "Bad", "steps": steps, "dry_run": dry_run}, ctx
        )
        assert message.status == "error"
        assert str(message.content).startswith("Error in create_sequence")
        assert expected in str(message.content)
        assert "Nothing was changed" in str(message.content)
        assert "Traceback" not in str(message.content)
    assert sequences.list_sequences(scope) == []
    assert audit_entries(scope) == []


def test_missing_required_arguments_are_named(ctx: CadenceContext) -> None:
    with pytest.raises(ToolFailed) as failed:
        call_tool("create_sequence", ctx, steps=[email_step()])
    assert "- name: Field required" in failed.value.message


def test_list_and_get_sequence_show_steps_and_live_counts(
    ctx: CadenceContext, scope: Scope
) -> None:
    seq = f.sequence(scope, "Follow-up")
    f.sequence(scope, "Draft one", activate=False)
    for n in (1, 2):
        f.enroll(scope, f.contact(scope, n).id, seq.id)
    listed = call_tool("list_sequences", ctx)["sequences"]
    assert [(s["name"], s["status"]) for s in listed] == [
        ("Follow-up", "active"),
        ("Draft one", "draft"),
    ]
    assert listed[0]["enrollments"] == {"pending": 2}
    assert [s["name"] for s in call_tool("list_sequences", ctx, status="draft")["sequences"]] == [
        "Draft one"
    ]
    detail = call_tool("get_sequence", ctx, sequence_id=seq.id)
    assert [s["number"] for s in detail["steps"]] == [1, 2, 3]
    assert detail["steps"][1]["channel"] == "linkedin"
    assert detail["enrollments"] == {"pending": 2}


def test_unknown_sequence_is_not_found(ctx: CadenceContext) -> None:
    message = invoke_tool("get_sequence", {"sequence_id": 999}, ctx)
    assert message.status == "error"
    assert "(not_found): sequence 999 not found" in str(message.content)
