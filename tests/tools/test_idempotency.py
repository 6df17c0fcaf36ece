"""Write tools are audited and idempotent: a retried tool call does not act twice."""

from __future__ import annotations

import threading

import pytest

from cadence.errors import InvalidInput, NotFound
from cadence.service import enrollments
from cadence.service.audit import audit_entries, record_audit, run_idempotent
from cadence.service.context import Scope
from cadence.tools import CadenceContext, call_tool, invoke_tool
from tests import factories as f


def test_a_retried_tool_call_returns_the_first_result_and_enrolls_once(
    ctx: CadenceContext, scope: Scope
) -> None:
    contact = f.contact(scope, 1)
    seq = f.sequence(scope)
    args = {"contact": contact.id, "sequence_id": seq.id}
    first = call_tool("enroll_contact", ctx, tool_call_id="toolu_1", **args)
    again = call_tool("enroll_contact", ctx, tool_call_id="toolu_1", **args)
    assert first["replayed"] is False and again["replayed"] is True
    assert again["enrollment"] == first["enrollment"]
    assert len(enrollments.list_enrollments(scope)) == 1
    assert len(audit_entries(scope)) == 1


def test_an_explicit_key_overrides_the_tool_call_id(ctx: CadenceContext, scope: Scope) -> None:
    steps = [{"channel": "email", "subject": "Hi", "body": "Hello"}]
    one = call_tool(
        "create_sequence", ctx, tool_call_id="a", name="X", steps=steps, idempotency_key="create-x"
    )
    two = call_tool(
        "create_sequence", ctx, tool_call_id="b", name="X", steps=steps, idempotency_key="create-x"
    )
    assert two["replayed"] and two["sequence_id"] == one["sequence_id"]
    assert [e.idempotency_key for e in audit_entries(scope)] == ["create-x"]


def test_a_key_reused_for_a_different_call_is_refused(ctx: CadenceContext, scope: Scope) -> None:
    seq = f.sequence(scope)
    a, b = f.contact(scope, 1), f.contact(scope, 2)
    call_tool("enroll_contact", ctx, tool_call_id="k", contact=a.id, sequence_id=seq.id)
    message = invoke_tool(
        "enroll_contact", {"contact": b.id, "sequence_id": seq.id}, ctx, tool_call_id="k"
    )
    assert "already used for a different call" in str(message.content)
    assert [e.contact_id for e in enrollments.list_enrollments(scope)] == [a.id]


def test_a_failed_write_leaves_no_audit_row_and_its_key_can_be_used_again(
    ctx: CadenceContext, scope: Scope
) -> None:
    seq = f.sequence(scope)
    failed = invoke_tool(
        "enroll_contact", {"contact": 999, "sequence_id": seq.id}, ctx, tool_call_id="retry-me"
    )
    assert failed.status == "error" and audit_entries(scope) == []
    contact = f.contact(scope, 1)
    ok = call_tool(
        "enroll_contact", ctx, tool_call_id="retry-me", contact=contact.id, sequence_id=seq.id
    )
    assert ok["replayed"] is False
    assert len(audit_entries(scope)) == 1


def test_run_idempotent_runs_once_under_concurrent_retries(scope: Scope) -> None:
    runs: list[int] = []
    results: list[object] = []
    gate = threading.Barrier(4)

    def work() -> dict[str, object]:
        runs.append(1)
        return {"n": len(runs)}

    def attempt() -> None:
        gate.wait()
        try:
            results.append(
                run_idempotent(scope, key="same", source="test", action="x", fn=work).result
            )
        except InvalidInput as exc:  # the winner's write had not finished yet
            results.append(exc.message)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runs == [1]
    assert len(audit_entries(scope)) == 1
    assert {"n": 1} in results


def test_run_idempotent_without_a_key_always_runs_and_audits(scope: Scope) -> None:
    for _ in range(2):
        done = run_idempotent(
            scope,
            key=None,
            source="cli",
            action="noop",
            fn=lambda: {"ok": 1},
            target_type="thing",
            target_id=lambda r: r["ok"],
        )
        assert not done.replayed
    entries = audit_entries(scope)
    assert [(e.source, e.target_type, e.target_id) for e in entries] == [("cli", "thing", "1")] * 2


def test_run_idempotent_reraises_and_forgets_a_failed_write(scope: Scope) -> None:
    def boom() -> dict[str, object]:
        raise NotFound("sequence", 5)

    with pytest.raises(NotFound):
        run_idempotent(scope, key="k", source="test", action="x", fn=boom)
    assert audit_entries(scope) == []


def test_record_audit_writes_in_the_callers_transaction(scope: Scope) -> None:
    with scope.db.transaction() as session:
        row = record_audit(
            session,
            scope,
            source="web",
            action="edit",
            target_type="sequence",
            target_id=3,
            arguments={"a": 1},
            result={"b": 2},
        )
        assert row.id is not None
    [entry] = audit_entries(scope)
    assert (entry.actor, entry.arguments, entry.result) == ("rita", {"a": 1}, {"b": 2})
