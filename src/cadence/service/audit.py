"""The audit log: who changed what through which entry point, and idempotent writes.

``record_audit`` adds one row in the caller's transaction. ``run_idempotent`` wraps a write so that
a retried call with the same ``(workspace, idempotency_key)`` returns the stored result instead of
writing again (an agent that retries a tool call does not enroll a contact twice):

1. claim the key: insert a pending audit row and commit (the unique constraint makes one caller
   the winner; a loser reads the winner's row);
2. run the write in its own transaction;
3. store the result on the claimed row; if the write failed, delete the claim, so nothing about
   the failed attempt remains and a corrected retry may use the same key.

A claim whose write never finished (the process died between 1 and 3) stays pending; a retry with
its key is refused rather than risk writing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cadence.errors import InvalidInput
from cadence.service.context import Scope
from cadence.store.models import AuditEntry

__all__ = [
    "AuditEntryPublic",
    "IdempotentRun",
    "audit_entries",
    "find_by_key",
    "record_audit",
    "run_idempotent",
]

_PENDING = "__pending__"  # result key of a claim whose write has not finished
_FINGERPRINT = "__fingerprint__"  # argument key holding the hash of the call's arguments
MAX_KEY_LENGTH = 200


class AuditEntryPublic(BaseModel):
    """One audit row as callers see it (the idempotency bookkeeping left out)."""

    model_config = ConfigDict(frozen=True)

    id: int
    actor: str
    source: str
    action: str
    target_type: str | None
    target_id: str | None
    arguments: dict[str, Any]
    result: dict[str, Any]
    idempotency_key: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryPublic:
        assert entry.id is not None
        return cls(
            id=entry.id,
            actor=entry.actor,
            source=entry.source,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            arguments={k: v for k, v in entry.arguments.items() if k != _FINGERPRINT},
            result=entry.result,
            idempotency_key=entry.idempotency_key,
            created_at=entry.created_at,
        )


@dataclass(frozen=True)
class IdempotentRun:
    """What ``run_idempotent`` did.

    Attributes:
        result: The write's JSON result (stored, when ``replayed``).
        replayed: True when the key had been used already and nothing was written now.
        audit_id: The audit row of the write.
    """

    result: dict[str, Any]
    replayed: bool
    audit_id: int


def record_audit(
    session: Session,
    scope: Scope,
    *,
    source: str,
    action: str,
    target_type: str | None = None,
    target_id: object = None,
    arguments: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> AuditEntry:
    """Add an audit row for a write made by ``scope.actor`` through ``source``.

    Args:
        session: The transaction the write happens in.
        scope: The workspace and the actor.
        source: The entry point, e.g. ``"tool:enroll_contact"``, ``"web"``, ``"cli"``.
        action: What was done, e.g. ``"enroll"``.
        target_type: The kind of thing changed (``"sequence"``, ``"contact"``...).
        target_id: Its id.
        arguments: The call's arguments, JSON-able.
        result: The call's result, JSON-able.
        idempotency_key: Makes a retried call harmless; unique per workspace.

    Returns:
        The row, added to ``session`` (flushed, so it has an id).
    """
    entry = AuditEntry(
        workspace_id=scope.workspace_id,
        actor=scope.actor[:200],
        source=source[:100],
        action=action[:100],
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:100],
        arguments=dict(arguments or {}),
        result=dict(result or {}),
        idempotency_key=idempotency_key,
        created_at=scope.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def _fingerprint(source: str, action: str, arguments: Mapping[str, Any]) -> str:
    blob = json.dumps([source, action, arguments], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _load(session: Session, scope: Scope, key: str) -> AuditEntry | None:
    return session.exec(
        select(AuditEntry).where(
            AuditEntry.workspace_id == scope.workspace_id, AuditEntry.idempotency_key == key
        )
    ).first()


def _replay(entry: AuditEntry, fingerprint: str, key: str) -> IdempotentRun:
    assert entry.id is not None
    if entry.arguments.get(_FINGERPRINT) != fingerprint:
        raise InvalidInput(
            f"idempotency_key {key!r} was already used for a different call",
            field="idempotency_key",
            value=key,
        )
    if entry.result.get(_PENDING):
        raise InvalidInput(
            f"the call with idempotency_key {key!r} is still running or did not finish; "
            "check the current state before trying again with a new key",
            field="idempotency_key",
            value=key,
        )
    return IdempotentRun(result=dict(entry.result), replayed=True, audit_id=entry.id)


def run_idempotent(
    scope: Scope,
    *,
    key: str | None,
    source: str,
    action: str,
    fn: Callable[[], dict[str, Any]],
    arguments: Mapping[str, Any] | None = None,
    target_type: str | None = None,
    target_id: object | Callable[[dict[str, Any]], object] = None,
) -> IdempotentRun:
    """Run the write ``fn`` once per ``(workspace, key)`` and audit it.

    Args:
        scope: The workspace and the actor.
        key: The idempotency key; ``None`` runs ``fn`` every time (still audited).
        source: The entry point, e.g. ``"tool:enroll_contact"``.
        action: What ``fn`` does.
        fn: The write; it runs its own transaction and returns a JSON-able result.
        arguments: The call's arguments; a key reused with other arguments is refused.
        target_type: The kind of thing changed.
        target_id: Its id, or a function of the result that gives it (for creations).

    Returns:
        The result, and whether it was replayed from an earlier call.

    Raises:
        InvalidInput: the key was used for a different call, or its call never finished.
        CadenceError: whatever ``fn`` raises; then no audit row remains.
    """
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"idempotency_key: at most {MAX_KEY_LENGTH} characters",
            field="idempotency_key",
            value=key,
        )
    args = dict(arguments or {})
    fingerprint = _fingerprint(source, action, args)
    stored_args = {**args, _FINGERPRINT: fingerprint}
    try:
        with scope.db.transaction() as session:
            if key is not None and (found := _load(session, scope, key)) is not None:
                return _replay(found, fingerprint, key)
            claim = record_audit(
                session,
                scope,
                source=source,
                action=action,
                target_type=target_type,
                arguments=stored_args,
                result={_PENDING: True},
                idempotency_key=key,
            )
            claim_id = claim.id
    except IntegrityError:
        # Another caller claimed the key between our read and our insert.
        assert key is not None
        with scope.db.session() as session:
            found = _load(session, scope, key)
        if found is None:  # pragma: no cover - the winner rolled back in between
            raise
        return _replay(found, fingerprint, key)
    assert claim_id is not None
    try:
        result = fn()
    except BaseException:
        with scope.db.transaction() as session:
            row = session.get(AuditEntry, claim_id)
            if row is not None:
                session.delete(row)
        raise
    target = target_id(result) if callable(target_id) else target_id
    with scope.db.transaction() as session:
        row = session.get(AuditEntry, claim_id)
        assert row is not None
        row.result = result
        row.target_id = None if target is None else str(target)[:100]
        session.add(row)
    return IdempotentRun(result=result, replayed=False, audit_id=claim_id)


def find_by_key(scope: Scope, key: str) -> AuditEntryPublic | None:
    """The audit row of the call made with idempotency ``key``, if there was one."""
    with scope.db.session() as session:
        entry = _load(session, scope, key)
        return AuditEntryPublic.of(entry) if entry is not None else None


def audit_entries(scope: Scope, *, source: str | None = None) -> list[AuditEntryPublic]:
    """The workspace's audit rows, oldest first (optionally of one ``source``)."""
    with scope.db.session() as session:
        query = select(AuditEntry).where(AuditEntry.workspace_id == scope.workspace_id)
        if source is not None:
            query = query.where(AuditEntry.source == source)
        rows = session.exec(query.order_by(col(AuditEntry.id)))
        return [AuditEntryPublic.of(row) for row in rows]
