"""Tasks: LinkedIn touches and manual steps a person does; the enrollment waits for them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from cadence.domain.specs import ChannelKind
from cadence.domain.states import EnrollmentStatus
from cadence.errors import InvalidInput
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.enrollments import record_event
from cadence.service.lifecycle import underlying_status
from cadence.service.lookup import load_scoped, lock_enrollment
from cadence.store.enums import EventType, TaskStatus, TouchStatus
from cadence.store.models import Contact, CrmSequence, Task, Touch, Workspace

__all__ = ["TaskPublic", "complete_task", "list_tasks"]


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    enrollment_id: int
    contact_id: int
    step_id: int
    kind: ChannelKind
    owner: str | None
    title: str
    body: str
    status: TaskStatus
    due_at: datetime
    completed_at: datetime | None


def list_tasks(
    scope: Scope, *, status: TaskStatus | None = TaskStatus.OPEN, owner: str | None = None
) -> list[TaskPublic]:
    with scope.db.session() as session:
        query = select(Task).where(Task.workspace_id == scope.workspace_id)
        if status is not None:
            query = query.where(Task.status == status)
        if owner is not None:
            query = query.where(Task.owner == owner)
        return [
            TaskPublic.model_validate(t) for t in session.exec(query.order_by(col(Task.due_at)))
        ]


def complete_task(scope: Scope, task_id: int, *, skipped: bool = False) -> TaskPublic:
    """Mark a task done (or skipped); its enrollment goes on to the next step's delay from now.

    Raises:
        NotFound: no such task in this workspace.
        InvalidInput: the task is not open.
    """
    now = scope.now()
    with scope.db.transaction() as session:
        task = load_scoped(session, scope, Task, task_id, kind="task", lock=True)
        if task.status is not TaskStatus.OPEN:
            raise InvalidInput(
                f"task {task_id} is {task.status.value}, not open",
                field="status",
                value=task.status.value,
            )
        task.status = TaskStatus.SKIPPED if skipped else TaskStatus.DONE
        task.completed_at, task.completed_by = now, scope.actor
        session.add(task)
        if task.touch_id is not None:
            touch = session.get(Touch, task.touch_id)
            if touch is not None:
                touch.status = TouchStatus.SKIPPED if skipped else TouchStatus.DONE
                touch.sent_at = now
                session.add(touch)
        row = lock_enrollment(session, task.enrollment_id)
        assert row is not None  # enrollments are never deleted under a live row
        waiting = row.current_step_id == task.step_id
        if waiting and underlying_status(row) is EnrollmentStatus.SENT and row.next_send_at is None:
            seq = session.get(CrmSequence, row.sequence_id)
            contact = session.get(Contact, row.contact_id)
            assert seq is not None
            zone = scheduling.zone_for(contact, seq, session.get(Workspace, row.workspace_id))
            row.next_send_at = scheduling.next_due_after(
                session, scope.app, row, seq, contact, zone, now
            )
            row.updated_at = now
            session.add(row)
        record_event(
            session,
            scope,
            EventType.TASK_SKIPPED if skipped else EventType.TASK_COMPLETED,
            contact_id=task.contact_id,
            enrollment_id=task.enrollment_id,
            task_id=task.id,
        )
        return TaskPublic.model_validate(task)
