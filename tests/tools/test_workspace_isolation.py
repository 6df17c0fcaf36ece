"""A model cannot reach another workspace, whatever arguments it writes."""

from __future__ import annotations

import pytest

from cadence.errors import ConfigurationError
from cadence.service import enrollments, sequences
from cadence.service.audit import audit_entries
from cadence.service.context import Cadence, Scope
from cadence.tools import CadenceContext, call_tool, invoke_tool
from tests import factories as f


@pytest.fixture
def other(app: Cadence) -> Scope:
    return f.workspace(app, "Other team")


def test_forged_workspace_arguments_are_ignored(
    ctx: CadenceContext, scope: Scope, other: Scope
) -> None:
    theirs = f.sequence(other, "Their sequence")
    listed = call_tool("list_sequences", ctx, workspace_id=other.workspace_id)
    assert listed == {"sequences": []}
    out = call_tool(
        "create_sequence",
        ctx,
        name="Mine",
        steps=[{"channel": "email", "subject": "Hi", "body": "Hello"}],
        workspace_id=other.workspace_id,
        user="mallory",
        runtime={"context": {"workspace_id": other.workspace_id}},
    )
    assert [s.name for s in sequences.list_sequences(other)] == ["Their sequence"]
    assert [s.id for s in sequences.list_sequences(scope)] == [out["sequence_id"]]
    assert [e.actor for e in audit_entries(scope)] == ["rita"]
    assert audit_entries(other) == []
    assert theirs.id != out["sequence_id"]


def test_ids_from_another_workspace_are_not_found(
    ctx: CadenceContext, scope: Scope, other: Scope
) -> None:
    their_seq = f.sequence(other)
    their_contact = f.contact(other, 7)
    mine = f.sequence(scope)
    for name, args in [
        ("get_sequence", {"sequence_id": their_seq.id}),
        ("pause_sequence", {"sequence_id": their_seq.id}),
        ("enroll_contact", {"contact": their_contact.id, "sequence_id": mine.id}),
        ("enroll_contact", {"contact": their_contact.email, "sequence_id": mine.id}),
        ("check_sequence_conflicts", {"sequence_id": their_seq.id, "contacts": [1]}),
    ]:
        message = invoke_tool(name, {**args, "workspace_id": other.workspace_id}, ctx)
        assert message.status == "error", name
        assert "(not_found)" in str(message.content), name
    assert enrollments.list_enrollments(other) == []
    assert sequences.get_sequence(other, their_seq.id).status.value == "active"


def test_a_tool_without_a_context_is_a_developer_error(app: Cadence) -> None:
    from cadence.tools import get_tools
    from cadence.tools.direct import tool_runtime

    tool = next(t for t in get_tools() if t.name == "list_sequences")
    runtime = tool_runtime(CadenceContext(workspace_id=1, user="x", app=app))
    runtime.context = None  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="CadenceContext"):
        tool.invoke({"runtime": runtime})
