"""Enrolling contacts: conflict reports, resolutions, and bulk enrollment with set-based queries.

``check_sequence_conflicts`` reports; ``enroll`` and ``enroll_many`` act on the report:

- no conflicts: the contact is enrolled;
- conflicts and no resolution: ``EnrollmentConflict`` (``AlreadyEnrolled`` when that is the only
  one) carrying the report; nothing is written;
- a resolution every conflict allows: applied (``replace`` stops the contact's other live
  enrollments first, or restarts a finished enrollment here when the sequence allows it);
- a resolution a conflict does not allow: ``ResolutionNotAllowed`` for one contact; in bulk that
  contact is skipped with the reason, since one unsubscribed lead must not block five hundred.

Queries are per chunk of contacts, never per contact; one transaction covers the whole call, so a
contact is never half-enrolled (its replacements and its enrollment commit together or not at all).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert
from sqlalchemy import select as sa_select  # sqlmodel's select takes four columns at most
from sqlmodel import Session, col, select

from cadence.domain.conflicts import (
    Conflict,
    ConflictCode,
    ContactFacts,
    EnrollmentFact,
    Resolution,
    SequenceFacts,
    StepFacts,
    allowed_resolutions,
    find_conflicts,
)
from cadence.domain.schedule import local_day_bounds
from cadence.domain.specs import SequenceStatus
from cadence.domain.states import (
    LIVE_STATES,
    TERMINAL_STATES,
    EnrollmentEvent,
    EnrollmentStatus,
)
from cadence.errors import (
    AlreadyEnrolled,
    EnrollmentConflict,
    InvalidInput,
    NotFound,
    ResolutionNotAllowed,
    SequenceNotEnrollable,
)
from cadence.service import scheduling
from cadence.service.context import Scope
from cadence.service.lifecycle import finish
from cadence.service.rendering import merge_context
from cadence.service.sequences import live_steps, load_sequence
from cadence.service.views import EnrollmentPublic
from cadence.store.enums import EventType, TouchStatus
from cadence.store.models import (
    Contact,
    CrmSequence,
    CrmSequenceEnrollment,
    CrmSequenceStep,
    EngagementEvent,
    Suppression,
    Touch,
    Workspace,
)

__all__ = [
    "BulkEnrollResult",
    "ConflictReport",
    "ContactConflicts",
    "EnrollOutcome",
    "check_sequence_conflicts",
    "enroll",
    "enroll_many",
    "parse_resolution",
]

_CHUNK = 900
# Touches that count against the daily limit: everything that reached, or will reach, the contact.
COUNTED_TOUCHES = (TouchStatus.RESERVED, TouchStatus.SENT, TouchStatus.TASK_OPEN, TouchStatus.DONE)
_SCHEDULED = (EnrollmentStatus.PENDING, EnrollmentStatus.SENT)


class ContactConflicts(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_id: int
    conflicts: list[Conflict]
    allowed: list[Resolution]


class ConflictReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    sequence_id: int
    sequence_name: str
    contacts: list[ContactConflicts]

    @property
    def has_conflicts(self) -> bool:
        return any(c.conflicts for c in self.contacts)


class EnrollOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_id: int
    action: Literal["enrolled", "reenrolled", "skipped"]
    reason: str | None = None
    replaced: list[int] = []  # enrollments stopped to make way
    conflicts: list[Conflict] = []
    enrollment: EnrollmentPublic | None = None  # None for a skip or a dry run


class BulkEnrollResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    sequence_id: int
    resolution: Resolution | None
    dry_run: bool
    outcomes: list[EnrollOutcome]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for o in self.outcomes:
            counts[o.action] += 1
        counts["replaced"] = sum(len(o.replaced) for o in self.outcomes)
        return dict(counts)


def parse_resolution(value: Resolution | str | None) -> Resolution | None:
    """A resolution from its name.

    Raises:
        InvalidInput: not one of replace, parallel, skip.
    """
    if value is None or isinstance(value, Resolution):
        return value
    try:
        return Resolution(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"resolution: must be one of replace, parallel, skip (got {value!r})",
            field="resolution",
            value=value,
        ) from None


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _sequence_facts(
    seq: CrmSequence, steps: Sequence[CrmSequenceStep], limit: int
) -> SequenceFacts:
    assert seq.id is not None
    return SequenceFacts(
        sequence_id=seq.id,
        name=seq.name,
        allow_reenroll=bool((seq.settings or {}).get("allow_reenroll")),
        daily_limit=limit,
        steps=tuple(
            StepFacts(
                number=n,
                channel=s.channel,
                templates=tuple(
                    (w, t)
                    for w, t in (
                        ("subject", s.subject),
                        ("body", s.body),
                        ("html_body", s.html_body),
                    )
                    if t
                ),
            )
            for n, s in enumerate(steps, start=1)
        ),
    )


class _Gathered:
    """Everything the conflict rules need for a set of contacts, in a handful of queries."""

    def __init__(
        self,
        session: Session,
        scope: Scope,
        seq: CrmSequence,
        contact_ids: Sequence[int],
        *,
        lock: bool,
    ):
        assert seq.id is not None
        now = scope.now()
        self.ws = session.get(Workspace, scope.workspace_id)
        if self.ws is None:
            raise NotFound("workspace", scope.workspace_id)
        self.limit = self.ws.daily_touch_limit or scope.app.settings.daily_touch_limit
        self.steps = live_steps(session, seq.id)
        self.seq_facts = _sequence_facts(seq, self.steps, self.limit)
        ids = list(dict.fromkeys(contact_ids))
        self.contacts: dict[int, Contact] = {}
        rows_by_contact: dict[int, list[tuple[CrmSequenceEnrollment, str]]] = defaultdict(list)
        for chunk in _chunks(ids):
            query = select(Contact).where(
                Contact.workspace_id == scope.workspace_id, col(Contact.id).in_(chunk)
            )
            if lock:
                query = query.with_for_update()
            for c in session.exec(query):
                assert c.id is not None
                self.contacts[c.id] = c
            joined = session.exec(
                select(CrmSequenceEnrollment, CrmSequence.name)
                .join(CrmSequence, col(CrmSequence.id) == col(CrmSequenceEnrollment.sequence_id))
                .where(
                    CrmSequenceEnrollment.workspace_id == scope.workspace_id,
                    col(CrmSequenceEnrollment.contact_id).in_(chunk),
                )
            )
            for row, name in joined:
                rows_by_contact[row.contact_id].append((row, name))
        missing = [i for i in ids if i not in self.contacts]
        if missing:
            raise NotFound("contact", missing[0] if len(missing) == 1 else missing)
        self.ids = ids
        self.rows = rows_by_contact
        emails = sorted({c.email for c in self.contacts.values() if c.email})
        self.suppressed: dict[str, str] = {}
        for start in range(0, len(emails), _CHUNK):
            for email, reason in session.exec(
                select(Suppression.email, Suppression.reason).where(
                    Suppression.workspace_id == scope.workspace_id,
                    col(Suppression.email).in_(emails[start : start + _CHUNK]),
                )
            ):
                self.suppressed[email] = str(reason)
        first = self.steps[0] if self.steps else None
        self.first_due: dict[int, datetime] = {}
        self.bounds: dict[int, tuple[datetime, datetime]] = {}
        for cid, c in self.contacts.items():
            zone = scheduling.zone_for(c, seq, self.ws)
            due = scheduling.due_for_step(now, first, seq, zone) if first else now
            due = scheduling.smart_due(session, scope.app, seq, c, zone, due)
            self.first_due[cid] = due
            self.bounds[cid] = local_day_bounds(due, zone)
        self.touches: dict[int, list[datetime]] = defaultdict(list)
        self.touched_steps: set[tuple[int, int, int]] = set()  # (enrollment, step, cycle)
        if self.bounds:
            low = min(b[0] for b in self.bounds.values())
            high = max(b[1] for b in self.bounds.values())
            for chunk in _chunks(ids):
                for cid, at, eid, sid, cycle in session.execute(
                    sa_select(
                        col(Touch.contact_id),
                        col(Touch.touched_at),
                        col(Touch.enrollment_id),
                        col(Touch.step_id),
                        col(Touch.cycle),
                    ).where(
                        col(Touch.contact_id).in_(chunk),
                        col(Touch.touched_at) >= low,
                        col(Touch.touched_at) < high,
                        col(Touch.status).in_(list(COUNTED_TOUCHES)),
                    )
                ):
                    self.touches[cid].append(at)
                    self.touched_steps.add((eid, sid, cycle))

    def facts(self, contact_id: int, seq: CrmSequence) -> ContactFacts:
        c = self.contacts[contact_id]
        here: EnrollmentFact | None = None
        elsewhere: list[EnrollmentFact] = []
        start, end = self.bounds[contact_id]
        scheduled = 0
        for row, name in self.rows.get(contact_id, []):
            assert row.id is not None
            fact = EnrollmentFact(
                row.id, row.sequence_id, name, row.status, row.current_step, row.next_send_at
            )
            if row.sequence_id == seq.id:
                here = fact
            elif row.status in LIVE_STATES:
                elsewhere.append(fact)
                # Scheduled: its current step is due that day and has no touch yet (one that
                # has is counted among the touches already).
                if (
                    row.status in _SCHEDULED
                    and row.next_send_at
                    and start <= row.next_send_at < end
                    and (row.id, row.current_step_id, row.cycle) not in self.touched_steps
                ):
                    scheduled += 1
        sent = sum(1 for at in self.touches.get(contact_id, []) if start <= at < end)
        suppressed = self.suppressed.get(c.email or "") or (
            str(c.email_status)
            if str(c.email_status) in {"bounced", "unsubscribed", "complained"}
            else None
        )
        assert self.ws is not None
        return ContactFacts(
            contact_id=contact_id,
            email=c.email,
            linkedin_url=c.linkedin_url,
            suppressed=suppressed,
            merge_context=merge_context(c, self.ws),
            here=here,
            elsewhere=tuple(elsewhere),
            first_due=self.first_due[contact_id],
            first_day=start.astimezone(scheduling.zone_for(c, seq, self.ws)).date(),
            touches_that_day=sent + scheduled,
        )


def _report(seq: CrmSequence, g: _Gathered) -> ConflictReport:
    assert seq.id is not None
    items = []
    for cid in g.ids:
        conflicts = find_conflicts(g.facts(cid, seq), g.seq_facts)
        items.append(
            ContactConflicts(
                contact_id=cid, conflicts=conflicts, allowed=allowed_resolutions(conflicts)
            )
        )
    return ConflictReport(sequence_id=seq.id, sequence_name=seq.name, contacts=items)


def check_sequence_conflicts(
    scope: Scope, sequence_id: int, contact_ids: int | Sequence[int]
) -> ConflictReport:
    """Why each contact should not simply enter the sequence, and what may be done about it.

    Raises:
        NotFound: the sequence or a contact is not in this workspace.
    """
    ids = [contact_ids] if isinstance(contact_ids, int) else list(contact_ids)
    with scope.db.session() as session:
        seq = load_sequence(session, scope, sequence_id)
        return _report(seq, _Gathered(session, scope, seq, ids, lock=False))


def enroll(
    scope: Scope,
    contact_id: int,
    sequence_id: int,
    *,
    resolution: Resolution | str | None = None,
    dry_run: bool = False,
) -> EnrollOutcome:
    """Enroll one contact, applying ``resolution`` to its conflicts.

    Raises:
        NotFound: the contact or the sequence is not in this workspace.
        SequenceNotEnrollable: the sequence is archived.
        AlreadyEnrolled: the contact is already in this sequence and no resolution was given.
        EnrollmentConflict: other conflicts and no resolution; ``report`` lists them.
        ResolutionNotAllowed: a conflict does not allow ``resolution``. Nothing is written.
    """
    result = _enroll(
        scope, sequence_id, [contact_id], parse_resolution(resolution), dry_run, strict=True
    )
    return result.outcomes[0]


def enroll_many(
    scope: Scope,
    sequence_id: int,
    contact_ids: Sequence[int],
    *,
    resolution: Resolution | str | None = None,
    dry_run: bool = False,
) -> BulkEnrollResult:
    """Enroll many contacts with one resolution policy, in one transaction.

    With a policy, a contact whose conflicts do not allow it is skipped with the reason.

    Raises:
        NotFound: the sequence or any contact is not in this workspace (nothing is written).
        SequenceNotEnrollable: the sequence is archived.
        EnrollmentConflict: some contact has conflicts and no resolution was given.
    """
    return _enroll(
        scope, sequence_id, contact_ids, parse_resolution(resolution), dry_run, strict=False
    )


def _enroll(
    scope: Scope,
    sequence_id: int,
    contact_ids: Sequence[int],
    resolution: Resolution | None,
    dry_run: bool,
    *,
    strict: bool,
) -> BulkEnrollResult:
    if not contact_ids:
        raise InvalidInput("contact_ids: give at least one contact", field="contact_ids", value=[])
    now = scope.now()
    with scope.db.transaction() as session:
        seq = load_sequence(session, scope, sequence_id, lock=not dry_run)
        if seq.status is SequenceStatus.ARCHIVED:
            raise SequenceNotEnrollable(f"sequence {sequence_id} is archived")
        g = _Gathered(session, scope, seq, contact_ids, lock=not dry_run)
        if not g.steps:
            raise SequenceNotEnrollable(f"sequence {sequence_id} has no steps")
        report = _report(seq, g)
        if resolution is None and report.has_conflicts:
            blocked = [c for c in report.contacts if c.conflicts]
            codes = sorted({x.code.value for c in blocked for x in c.conflicts})
            if strict and codes == [ConflictCode.ALREADY_ENROLLED.value]:
                raise AlreadyEnrolled(blocked[0].contact_id, sequence_id, report=report)
            raise EnrollmentConflict(
                f"{len(blocked)} contact(s) have conflicts ({', '.join(codes)}); "
                "choose replace, parallel or skip",
                report,
            )
        plan = _plan(report, resolution, strict)
        if dry_run:
            session.rollback()
            return BulkEnrollResult(
                sequence_id=sequence_id, resolution=resolution, dry_run=True, outcomes=plan
            )
        outcomes = _apply(session, scope, seq, g, plan, now)
        return BulkEnrollResult(
            sequence_id=sequence_id, resolution=resolution, dry_run=False, outcomes=outcomes
        )


def _plan(
    report: ConflictReport, resolution: Resolution | None, strict: bool
) -> list[EnrollOutcome]:
    plan: list[EnrollOutcome] = []
    for item in report.contacts:
        codes = ", ".join(c.code.value for c in item.conflicts)
        if not item.conflicts:
            plan.append(EnrollOutcome(contact_id=item.contact_id, action="enrolled"))
        elif resolution is Resolution.SKIP:
            plan.append(
                EnrollOutcome(
                    contact_id=item.contact_id,
                    action="skipped",
                    reason=f"skipped: {codes}",
                    conflicts=item.conflicts,
                )
            )
        elif resolution not in item.allowed:
            refusing = [c.code.value for c in item.conflicts if resolution not in c.resolutions]
            if strict:
                raise ResolutionNotAllowed(
                    f"resolution {resolution} is not allowed for {', '.join(refusing)} "
                    f"(allowed: {', '.join(r.value for r in item.allowed)})",
                    field="resolution",
                    value=str(resolution),
                )
            plan.append(
                EnrollOutcome(
                    contact_id=item.contact_id,
                    action="skipped",
                    reason=f"{resolution} not allowed for {', '.join(refusing)}",
                    conflicts=item.conflicts,
                )
            )
        else:
            again = any(c.code is ConflictCode.ALREADY_ENROLLED for c in item.conflicts)
            replaced: list[int] = []
            if resolution is Resolution.REPLACE:
                for c in item.conflicts:
                    if c.code is ConflictCode.ACTIVE_IN_OTHER_SEQUENCE:
                        replaced += [e["enrollment_id"] for e in c.facts["enrollments"]]
            plan.append(
                EnrollOutcome(
                    contact_id=item.contact_id,
                    action="reenrolled" if again else "enrolled",
                    replaced=replaced,
                    conflicts=item.conflicts,
                )
            )
    return plan


def _apply(
    session: Session,
    scope: Scope,
    seq: CrmSequence,
    g: _Gathered,
    plan: list[EnrollOutcome],
    now: datetime,
) -> list[EnrollOutcome]:
    assert seq.id is not None
    active = seq.status is SequenceStatus.ACTIVE
    first = g.steps[0]
    status = EnrollmentStatus.PENDING if active else EnrollmentStatus.CREATED
    stop_ids = [i for o in plan for i in o.replaced]
    if stop_ids:
        _stop_replaced(session, scope, stop_ids, seq, now)
    fresh = [o for o in plan if o.action == "enrolled"]
    ids: dict[int, int] = {}
    views: dict[int, EnrollmentPublic] = {}
    if fresh:
        values = [
            {
                "workspace_id": scope.workspace_id,
                "contact_id": o.contact_id,
                "sequence_id": seq.id,
                "current_step_id": first.id,
                "current_step": 0,
                "cycle": 1,
                "status": status,
                "next_send_at": g.first_due[o.contact_id] if active else None,
                "enrolled_by": scope.actor,
                "enrolled_at": now,
                "updated_at": now,
            }
            for o in fresh
        ]
        for start in range(0, len(values), 2000):
            rows = session.execute(
                insert(CrmSequenceEnrollment).returning(
                    col(CrmSequenceEnrollment.id), col(CrmSequenceEnrollment.contact_id)
                ),
                values[start : start + 2000],
            )
            ids.update({cid: eid for eid, cid in rows})
        by_contact = {v["contact_id"]: v for v in values}
        for cid, eid in ids.items():
            v = by_contact[cid]
            views[cid] = EnrollmentPublic(
                id=eid,
                contact_id=cid,
                sequence_id=seq.id,
                current_step_id=v["current_step_id"],
                current_step=0,
                status=status,
                next_send_at=v["next_send_at"],
                stop_reason=None,
                enrolled_at=now,
                finished_at=None,
            )
    for o in plan:
        if o.action == "reenrolled":
            view = _restart(
                session, scope, seq, o.contact_id, first, g.first_due[o.contact_id], active, now
            )
            ids[o.contact_id], views[o.contact_id] = view.id, view
    events = [
        {
            "workspace_id": scope.workspace_id,
            "contact_id": o.contact_id,
            "enrollment_id": ids.get(o.contact_id),
            "touch_id": None,
            "type": EventType.ENROLL_SKIPPED if o.action == "skipped" else EventType.ENROLLED,
            "occurred_at": now,
            "data": {
                "actor": scope.actor,
                "sequence_id": seq.id,
                "reason": o.reason,
                "conflicts": [c.code.value for c in o.conflicts],
                "replaced": o.replaced,
            },
        }
        for o in plan
    ]
    for start in range(0, len(events), 2000):
        session.execute(insert(EngagementEvent), events[start : start + 2000])
    out = []
    for o in plan:
        out.append(o.model_copy(update={"enrollment": views.get(o.contact_id)}))
    return out


def _stop_replaced(
    session: Session, scope: Scope, ids: list[int], seq: CrmSequence, now: datetime
) -> None:
    for chunk in _chunks(ids):
        rows = session.exec(
            select(CrmSequenceEnrollment)
            .where(
                CrmSequenceEnrollment.workspace_id == scope.workspace_id,
                col(CrmSequenceEnrollment.id).in_(chunk),
            )
            .with_for_update()
        )
        for row in rows:
            if row.status in TERMINAL_STATES:
                continue
            finish(
                row,
                EnrollmentEvent.REMOVE,
                now=now,
                reason=f"replaced by sequence {seq.id} ({seq.name})",
            )
            session.add(row)
            session.add(
                EngagementEvent(
                    workspace_id=scope.workspace_id,
                    contact_id=row.contact_id,
                    enrollment_id=row.id,
                    type=EventType.REPLACED,
                    occurred_at=now,
                    data={"actor": scope.actor, "by_sequence_id": seq.id},
                )
            )


def _restart(
    session: Session,
    scope: Scope,
    seq: CrmSequence,
    contact_id: int,
    first: CrmSequenceStep,
    due: datetime,
    active: bool,
    now: datetime,
) -> EnrollmentPublic:
    row = session.exec(
        select(CrmSequenceEnrollment)
        .where(
            CrmSequenceEnrollment.contact_id == contact_id,
            CrmSequenceEnrollment.sequence_id == seq.id,
        )
        .with_for_update()
    ).one()
    assert row.id is not None
    row.cycle += 1
    row.status = EnrollmentStatus.PENDING if active else EnrollmentStatus.CREATED
    row.current_step_id = first.id
    row.current_step = 0
    row.next_send_at = due if active else None
    row.paused_from = None
    row.paused_until = None
    row.stop_reason = None
    row.finished_at = None
    row.enrolled_by = scope.actor
    row.enrolled_at = now
    row.updated_at = now
    session.add(row)
    session.flush()
    return EnrollmentPublic.model_validate(row)
