"""pause_sequence and resume_sequence, for a whole sequence and for one contact."""

from __future__ import annotations

from cadence.service import enrollments, sequences
from cadence.service.audit import audit_entries
from cadence.service.context import Scope
from cadence.tools import CadenceContext, call_tool, invoke_tool
from tests import factories as f


def test_pause_and_resume_a_whole_sequence(ctx: CadenceContext, scope: Scope) -> None:
    seq = f.sequence(scope)
    assert call_tool("pause_sequence", ctx, sequence_id=seq.id)["sequence_status"] == "paused"
    assert sequences.get_sequence(scope, seq.id).status.value == "paused"
    assert call_tool("resume_sequence", ctx, sequence_id=seq.id)["sequence_status"] == "active"
    assert [(e.action, e.target_type) for e in audit_entries(scope)] == [
        ("pause", "sequence"),
        ("resume", "sequence"),
    ]


def test_pause_and_resume_one_contacts_enrollment(ctx: CadenceContext, scope: Scope) -> None:
    seq = f.sequence(scope)
    contact = f.contact(scope, 1)
    other = f.contact(scope, 2)
    row = f.enroll(scope, contact.id, seq.id)
    f.enroll(scope, other.id, seq.id)
    out = call_tool("pause_sequence", ctx, sequence_id=seq.id, contact=contact.email)
    assert out["scope"] == "enrollment" and out["enrollment"]["status"] == "paused"
    assert sequences.get_sequence(scope, seq.id).status.value == "active"
    statuses = {e.contact_id: e.status.value for e in enrollments.list_enrollments(scope)}
    assert statuses == {contact.id: "paused", other.id: "pending"}
    out = call_tool("resume_sequence", ctx, sequence_id=seq.id, contact=contact.id)
    assert out["enrollment"]["status"] == "pending"
    assert audit_entries(scope)[-1].target_id == str(row.id)


def test_pausing_a_contact_not_in_the_sequence_is_not_found(
    ctx: CadenceContext, scope: Scope
) -> None:
    seq = f.sequence(scope)
    contact = f.contact(scope, 1)
    message = invoke_tool("pause_sequence", {"sequence_id": seq.id, "contact": contact.id}, ctx)
    assert "(not_found)" in str(message.content)


def test_an_archived_sequence_cannot_be_resumed(ctx: CadenceContext, scope: Scope) -> None:
    seq = f.sequence(scope)
    sequences.archive_sequence(scope, seq.id)
    message = invoke_tool("resume_sequence", {"sequence_id": seq.id}, ctx)
    assert "archived and cannot be resumed" in str(message.content)
    assert audit_entries(scope) == []
