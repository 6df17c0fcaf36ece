"""enroll_contact, enroll_contacts, check_sequence_conflicts and get_enrollment_status."""

from __future__ import annotations

import json

from cadence.service import enrolling, enrollments
from cadence.service.audit import audit_entries
from cadence.service.context import Scope
from cadence.tools import CadenceContext, call_tool, invoke_tool
from tests import factories as f


def test_enroll_contact_by_email_enrolls_and_audits(ctx: CadenceContext, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    out = call_tool("enroll_contact", ctx, contact="PERSON1@example.com", sequence_id=seq.id)
    assert (out["contact_id"], out["action"]) == (contact.id, "enrolled")
    assert out["enrollment"]["status"] == "pending"
    [row] = enrollments.list_enrollments(scope, sequence_id=seq.id)
    assert row.contact_id == contact.id
    [entry] = audit_entries(scope)
    assert (entry.source, entry.action, entry.target_id) == (
        "tool:enroll_contact",
        "enroll",
        str(contact.id),
    )


def test_enroll_contact_dry_run_changes_nothing(ctx: CadenceContext, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    out = call_tool("enroll_contact", ctx, contact=contact.id, sequence_id=seq.id, dry_run=True)
    assert out["dry_run"] is True and out["action"] == "enrolled" and out["enrollment"] is None
    assert enrollments.list_enrollments(scope) == []
    assert audit_entries(scope) == []


def test_conflict_without_resolution_returns_the_report_and_writes_nothing(
    ctx: CadenceContext, scope: Scope
) -> None:
    contact = f.contact(scope, 1)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    f.enroll(scope, contact.id, first.id)
    message = invoke_tool("enroll_contact", {"contact": contact.id, "sequence_id": second.id}, ctx)
    assert message.status == "error"
    text = str(message.content)
    assert "(enrollment_conflict)" in text and "active_in_other_sequence" in text
    assert "replace" in text and "parallel" in text and "skip" in text
    details = json.loads(text.split("Details: ", 1)[1])
    assert details["report"]["contacts"][0]["allowed"] == ["replace", "parallel", "skip"]
    assert len(enrollments.list_enrollments(scope)) == 1
    assert audit_entries(scope) == []


def test_resolution_replace_stops_the_other_enrollment(ctx: CadenceContext, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    old = f.enroll(scope, contact.id, first.id)
    out = call_tool(
        "enroll_contact", ctx, contact=contact.id, sequence_id=second.id, resolution="replace"
    )
    assert out["replaced_enrollment_ids"] == [old.id]
    assert enrollments.get_enrollment(scope, old.id).status.value == "removed"


def test_a_resolution_the_conflict_forbids_is_explained(ctx: CadenceContext, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    f.enroll(scope, contact.id, seq.id)
    message = invoke_tool(
        "enroll_contact",
        {"contact": contact.id, "sequence_id": seq.id, "resolution": "parallel"},
        ctx,
    )
    assert "(resolution_not_allowed)" in str(message.content)
    assert "allowed: skip" in str(message.content)


def test_bulk_enrollment_applies_one_policy(ctx: CadenceContext, scope: Scope) -> None:
    people = [f.contact(scope, n) for n in (1, 2, 3)]
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    f.enroll(scope, people[0].id, first.id)
    out = call_tool(
        "enroll_contacts",
        ctx,
        contacts=[people[0].id, "person2@example.com", people[2].id, people[2].id],
        sequence_id=second.id,
        resolution="skip",
    )
    assert out["counts"]["enrolled"] == 2 and out["counts"]["skipped"] == 1
    assert [o["action"] for o in out["outcomes"]] == ["skipped", "enrolled", "enrolled"]
    assert len(enrollments.list_enrollments(scope, sequence_id=second.id)) == 2


def test_check_conflicts_returns_the_service_report_unchanged(
    ctx: CadenceContext, scope: Scope
) -> None:
    contact = f.contact(scope, 1)
    other = f.contact(scope, 2)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    f.enroll(scope, contact.id, first.id)
    out = call_tool(
        "check_sequence_conflicts", ctx, sequence_id=second.id, contacts=[contact.id, other.email]
    )
    expected = enrolling.check_sequence_conflicts(scope, second.id, [contact.id, other.id])
    assert out == expected.model_dump(mode="json")
    assert enrollments.list_enrollments(scope, sequence_id=second.id) == []


def test_enrollment_status_explains_why_nothing_was_sent(ctx: CadenceContext, scope: Scope) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    row = f.enroll(scope, contact.id, seq.id)
    enrollments.pause_enrollment(scope, row.id)
    by_id = call_tool("get_enrollment_status", ctx, enrollment_id=row.id)
    by_contact = call_tool("get_enrollment_status", ctx, contact=contact.email, sequence_id=seq.id)
    assert by_id == by_contact
    [item] = by_id["enrollments"]
    assert item["why_not_sent"]["reason"] == "paused"
    assert "paused" in item["why_not_sent"]["message"]


def test_enrollment_status_needs_an_enrollment_or_a_contact(ctx: CadenceContext) -> None:
    message = invoke_tool("get_enrollment_status", {"sequence_id": 1}, ctx)
    assert message.status == "error"
    assert "give enrollment_id, or contact" in str(message.content)


def test_a_contact_reference_that_is_neither_id_nor_email_is_refused(
    ctx: CadenceContext, scope: Scope
) -> None:
    seq = f.sequence(scope)
    message = invoke_tool("enroll_contact", {"contact": "Pat Lee", "sequence_id": seq.id}, ctx)
    assert "(invalid_input): contact: give a contact id or an email address" in str(message.content)
