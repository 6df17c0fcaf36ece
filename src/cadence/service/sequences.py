"""Sequences: create, edit (steps keep their ids), activate, pause, archive, read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cadence.domain.specs import (
    SequenceSpec,
    SequenceStatus,
    StepSpec,
    parse,
)
from cadence.domain.templates import check_template
from cadence.errors import InvalidInput, InvalidStep, NotFound
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.lookup import load_scoped
from cadence.service.views import SequencePublic, StepPublic
from cadence.store.models import CrmSequence, CrmSequenceEnrollment, CrmSequenceStep, Workspace

__all__ = [
    "activate_sequence",
    "archive_sequence",
    "create_sequence",
    "enrollment_counts",
    "get_sequence",
    "list_sequences",
    "pause_sequence",
    "update_sequence",
    "validate_sequence",
]

# Which status changes a sequence allows; archived is final.
_SEQUENCE_MOVES: dict[SequenceStatus, frozenset[SequenceStatus]] = {
    SequenceStatus.DRAFT: frozenset({SequenceStatus.ACTIVE, SequenceStatus.ARCHIVED}),
    SequenceStatus.ACTIVE: frozenset({SequenceStatus.PAUSED, SequenceStatus.ARCHIVED}),
    SequenceStatus.PAUSED: frozenset({SequenceStatus.ACTIVE, SequenceStatus.ARCHIVED}),
    SequenceStatus.ARCHIVED: frozenset(),
}


def _workspace(session: Session, scope: Scope) -> Workspace:
    ws = session.get(Workspace, scope.workspace_id)
    if ws is None:
        raise NotFound("workspace", scope.workspace_id)
    return ws


def load_sequence(
    session: Session, scope: Scope, sequence_id: int, *, lock: bool = False
) -> CrmSequence:
    """The sequence, if it is in the caller's workspace.

    Raises:
        NotFound: no such sequence in this workspace.
    """
    return load_scoped(session, scope, CrmSequence, sequence_id, kind="sequence", lock=lock)


def live_steps(session: Session, sequence_id: int) -> list[CrmSequenceStep]:
    """The steps that still run, in order."""
    return list(
        session.exec(
            select(CrmSequenceStep)
            .where(
                CrmSequenceStep.sequence_id == sequence_id,
                col(CrmSequenceStep.deleted_at).is_(None),
            )
            .order_by(col(CrmSequenceStep.position), col(CrmSequenceStep.id))
        )
    )


def _check_merge_fields(spec: SequenceSpec, known: Sequence[str]) -> None:
    for number, step in enumerate(spec.steps, start=1):
        for where, text in (
            ("subject", step.subject),
            ("body", step.body),
            ("html_body", step.html_body),
        ):
            if text:
                check_template(text, known, step=number, where=where)


def validate_sequence(scope: Scope, spec: SequenceSpec | dict[str, Any]) -> SequenceSpec:
    """Check a sequence as saving it would (fields, steps, merge fields), without saving.

    Raises:
        InvalidInput / InvalidStep / UnknownMergeField: the spec is wrong.
    """
    spec = parse(SequenceSpec, spec)
    with scope.db.session() as session:
        _check_merge_fields(spec, _workspace(session, scope).custom_fields)
    return spec


def _step_values(step: StepSpec) -> dict[str, Any]:
    return {
        "channel": step.channel,
        "delay_hours": step.delay_hours,
        "delay_business_days": step.delay_business_days,
        "subject": step.subject,
        "body": step.body,
        "html_body": step.html_body,
        "conditions": step.conditions.model_dump(),
    }


def _view(session: Session, seq: CrmSequence) -> SequencePublic:
    assert seq.id is not None
    steps = [StepPublic.model_validate(s) for s in live_steps(session, seq.id)]
    data = seq.model_dump()
    return SequencePublic.model_validate({**data, "active": seq.active, "steps": steps})


def create_sequence(
    scope: Scope, spec: SequenceSpec | dict[str, Any], *, activate: bool = False
) -> SequencePublic:
    """Save a new sequence (a draft unless ``activate``).

    Raises:
        InvalidInput / InvalidStep / UnknownMergeField: the spec is wrong; nothing is written.
    """
    spec = parse(SequenceSpec, spec)
    if any(s.id is not None for s in spec.steps):
        raise InvalidStep("a new sequence's steps cannot carry ids", field="steps.id")
    now = scope.now()
    with scope.db.transaction() as session:
        ws = _workspace(session, scope)
        _check_merge_fields(spec, ws.custom_fields)
        seq = CrmSequence(
            workspace_id=scope.workspace_id,
            name=spec.name,
            description=spec.description,
            status=SequenceStatus.ACTIVE if activate else SequenceStatus.DRAFT,
            channels=[c.value for c in spec.channels],
            send_window=spec.send_window.model_dump() if spec.send_window else None,
            settings=spec.settings.model_dump(),
            owner=scope.actor,
            created_by=scope.actor,
            created_at=now,
            updated_at=now,
        )
        session.add(seq)
        session.flush()
        assert seq.id is not None
        for position, step in enumerate(spec.steps):
            session.add(
                CrmSequenceStep(
                    workspace_id=scope.workspace_id,
                    sequence_id=seq.id,
                    position=position,
                    created_at=now,
                    updated_at=now,
                    **_step_values(step),
                )
            )
        session.flush()
        return _view(session, seq)


def update_sequence(
    scope: Scope, sequence_id: int, spec: SequenceSpec | dict[str, Any]
) -> SequencePublic:
    """Replace a sequence's definition. Steps named by ``id`` are edited in place, steps without
    an id are added, and existing steps left out are deleted (enrollments skip them). Steps
    already executed keep what was sent; edits apply to what has not run yet.

    Raises:
        NotFound: the sequence, or a step id, is not in this workspace's sequence.
        InvalidInput: the spec is wrong, or the sequence is archived; nothing is written.
    """
    spec = parse(SequenceSpec, spec)
    now = scope.now()
    with scope.db.transaction() as session:
        ws = _workspace(session, scope)
        seq = load_sequence(session, scope, sequence_id, lock=True)
        if seq.status is SequenceStatus.ARCHIVED:
            raise InvalidInput(
                "an archived sequence cannot be edited", field="status", value="archived"
            )
        _check_merge_fields(spec, ws.custom_fields)
        existing = {s.id: s for s in live_steps(session, sequence_id)}
        old_order = [i for i in existing if i is not None]
        for position, step in enumerate(spec.steps):
            if step.id is None:
                session.add(
                    CrmSequenceStep(
                        workspace_id=scope.workspace_id,
                        sequence_id=sequence_id,
                        position=position,
                        created_at=now,
                        updated_at=now,
                        **_step_values(step),
                    )
                )
                continue
            row = existing.pop(step.id, None)
            if row is None:
                raise NotFound("step", step.id)
            for key, value in _step_values(step).items():
                setattr(row, key, value)
            row.position = position
            row.updated_at = now
            session.add(row)
        deleted = [i for i in existing if i is not None]
        for row in existing.values():
            row.deleted_at = now
            session.add(row)
        seq.name = spec.name
        seq.description = spec.description
        seq.channels = [c.value for c in spec.channels]
        seq.send_window = spec.send_window.model_dump() if spec.send_window else None
        seq.settings = spec.settings.model_dump()
        seq.updated_at = now
        session.add(seq)
        session.flush()
        scheduling.reposition_enrollments(session, seq, now, old_order=old_order, deleted=deleted)
        return _view(session, seq)


def _move(scope: Scope, sequence_id: int, target: SequenceStatus) -> SequencePublic:
    now = scope.now()
    with scope.db.transaction() as session:
        seq = load_sequence(session, scope, sequence_id, lock=True)
        if seq.status is target:
            return _view(session, seq)
        if target not in _SEQUENCE_MOVES[seq.status]:
            raise InvalidInput(
                f"a {seq.status.value} sequence cannot become {target.value}",
                field="status",
                value=target.value,
            )
        seq.status = target
        seq.updated_at = now
        session.add(seq)
        if target is SequenceStatus.ACTIVE:
            scheduling.schedule_created(session, seq, now)
        elif target is SequenceStatus.ARCHIVED:
            scheduling.stop_all(session, seq, now, reason="sequence archived")
        session.flush()
        return _view(session, seq)


def activate_sequence(scope: Scope, sequence_id: int) -> SequencePublic:
    """Start (or restart) sending; enrollments waiting in ``created`` are scheduled from now."""
    return _move(scope, sequence_id, SequenceStatus.ACTIVE)


def pause_sequence(scope: Scope, sequence_id: int) -> SequencePublic:
    """Stop sending for the whole sequence; enrollments keep their place."""
    return _move(scope, sequence_id, SequenceStatus.PAUSED)


def archive_sequence(scope: Scope, sequence_id: int) -> SequencePublic:
    """Retire a sequence for good; its live enrollments are removed."""
    return _move(scope, sequence_id, SequenceStatus.ARCHIVED)


def get_sequence(scope: Scope, sequence_id: int) -> SequencePublic:
    with scope.db.session() as session:
        return _view(session, load_sequence(session, scope, sequence_id))


def list_sequences(scope: Scope, *, status: SequenceStatus | None = None) -> list[SequencePublic]:
    with scope.db.session() as session:
        query = select(CrmSequence).where(CrmSequence.workspace_id == scope.workspace_id)
        if status is not None:
            query = query.where(CrmSequence.status == status)
        return [_view(session, s) for s in session.exec(query.order_by(col(CrmSequence.id)))]


def enrollment_counts(scope: Scope, sequence_id: int) -> dict[str, int]:
    """How many of the sequence's enrollments are in each state.

    Raises:
        NotFound: the sequence is not in this workspace.
    """
    from sqlalchemy import func

    with scope.db.session() as session:
        load_sequence(session, scope, sequence_id)
        rows = session.exec(
            select(CrmSequenceEnrollment.status, func.count())
            .where(
                CrmSequenceEnrollment.workspace_id == scope.workspace_id,
                CrmSequenceEnrollment.sequence_id == sequence_id,
            )
            .group_by(CrmSequenceEnrollment.status)
        )
        return {str(status): int(n) for status, n in rows}
