from __future__ import annotations

from datetime import UTC, datetime

from cadence.clock import ManualClock
from cadence.service import contacts, enrollments, outcomes, sequences
from cadence.service.context import Cadence
from cadence.service.explain import why_not_sent
from cadence.service.governor import reserve_touch_for
from tests import factories as f

WINDOW = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}


def test_outside_the_send_window(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope, send_window=WINDOW), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)  # 04:00 in New York
    why = why_not_sent(scope, e.id)
    assert why.reason == "outside_send_window" and "window" in why.message
    assert why.facts["next_send_at"] == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_waiting_for_delay_then_due(app: Cadence, clock: ManualClock) -> None:
    scope = f.workspace(app)
    seq = f.sequence(
        scope, steps=[{"channel": "email", "subject": "s", "body": "b", "delay_hours": 5}]
    )
    e = f.enroll(scope, f.contact(scope).id, seq.id)
    assert why_not_sent(scope, e.id).reason == "waiting_for_delay"
    clock.advance(hours=5)
    assert why_not_sent(scope, e.id).reason == "due"


def test_paused_suppressed_finished_and_sequence_paused(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope)
    a, b, c = (f.contact(scope, n) for n in (1, 2, 3))
    ea, eb, ec = (f.enroll(scope, p.id, seq.id) for p in (a, b, c))
    enrollments.pause_enrollment(scope, ea.id)
    assert why_not_sent(scope, ea.id).reason == "paused"
    outcomes.record_reply(scope, eb.id)
    assert why_not_sent(scope, eb.id).reason == "finished"
    sequences.pause_sequence(scope, seq.id)
    assert why_not_sent(scope, ec.id).reason == "sequence_paused"


def test_missing_field(app: Cadence) -> None:
    scope = f.workspace(app)
    f.contact(scope, 5, attributes={"deal_size": "9"})
    seq = f.sequence(scope, steps=[{"channel": "email", "subject": "s", "body": "{{deal_size}}"}])
    other = f.contact(scope, 6, attributes={"deal_size": "9"})
    e2 = f.enroll(scope, other.id, seq.id)
    contacts.upsert_contact(scope, {"email": other.email, "attributes": {"deal_size": ""}})
    why = why_not_sent(scope, e2.id)
    assert why.reason == "missing_field" and why.facts["fields"] == ["deal_size"]


def test_daily_limit(app: Cadence, clock: ManualClock) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)
    ids = [
        f.enroll(scope, person.id, f.sequence(scope, n).id, resolution="parallel").id for n in "ABC"
    ]
    reserve_touch_for(scope, ids[0])
    reserve_touch_for(scope, ids[1])
    # the engine moves a deferred step to the next day; emulate it on the row
    with app.db.transaction() as s:
        from cadence.store.models import CrmSequenceEnrollment

        row = s.get(CrmSequenceEnrollment, ids[2])
        assert row is not None
        row.next_send_at = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
        s.add(row)
    why = why_not_sent(scope, ids[2])
    assert why.reason == "daily_limit" and why.facts["touches_today"] == 2
