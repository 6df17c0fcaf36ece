"""Loading one row by id: within the caller's workspace, or (for the engine) by id alone."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlmodel import Session, select

from cadence.errors import NotFound
from cadence.service.context import Scope
from cadence.store.models import CrmSequenceEnrollment

__all__ = ["load_scoped", "lock_enrollment"]


class _Scoped(Protocol):
    id: Any
    workspace_id: Any


T = TypeVar("T", bound=_Scoped)


def load_scoped(
    session: Session, scope: Scope, model: type[T], ident: int, *, kind: str, lock: bool = False
) -> T:
    """The row of ``model`` with this id in the caller's workspace, locked if asked.

    Raises:
        NotFound: no such row in this workspace (whether or not another workspace has it).
    """
    query = select(model).where(model.id == ident, model.workspace_id == scope.workspace_id)
    if lock:
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise NotFound(kind, ident)
    return row


def lock_enrollment(session: Session, enrollment_id: int) -> CrmSequenceEnrollment | None:
    """An enrollment by id under a row lock, for the engine (its workspace is the row's own)."""
    return session.exec(
        select(CrmSequenceEnrollment)
        .where(CrmSequenceEnrollment.id == enrollment_id)
        .with_for_update()
    ).first()
