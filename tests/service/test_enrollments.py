from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from cadence.clock import ManualClock
from cadence.errors import AlreadyEnrolled, InvalidTransition, NotFound, SequenceNotEnrollable
from cadence.service import enrollments, outcomes, sequences
from cadence.service.context import Cadence
from cadence.store.models import CrmSequenceEnrollment, EngagementEvent, Suppression
from tests import factories as f


def test_enrolling_in_an_active_sequence_schedules_the_first_step(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    assert e.status == "pending" and e.current_step_id == seq.steps[0].id
    assert e.next_send_at == app.clock.now()


def test_first_step_waits_for_the_send_window_in_the_contacts_zone(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope, send_window={"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"})
    person = f.contact(scope, timezone="America/New_York")  # 09:00 UTC is 04:00 in New York
    e = f.enroll(scope, person.id, seq.id)
    assert e.next_send_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_enrolling_in_a_draft_waits_until_activation(app: Cadence, clock: ManualClock) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope, activate=False), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    assert e.status == "created" and e.next_send_at is None
    clock.advance(hours=3)
    sequences.activate_sequence(scope, seq.id)
    e = enrollments.get_enrollment(scope, e.id)
    assert e.status == "pending" and e.next_send_at == clock.now()


def test_enrolling_twice_is_already_enrolled_and_writes_nothing(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    f.enroll(scope, person.id, seq.id)
    with pytest.raises(AlreadyEnrolled):
        f.enroll(scope, person.id, seq.id)
    with app.db.session() as s:
        assert s.exec(select(func.count()).select_from(CrmSequenceEnrollment)).one() == 1


def test_enrolling_into_an_archived_sequence_is_refused(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    sequences.archive_sequence(scope, seq.id)
    with pytest.raises(SequenceNotEnrollable, match="archived"):
        f.enroll(scope, person.id, seq.id)


def test_another_workspaces_contact_or_sequence_is_not_found(app: Cadence) -> None:
    mine, theirs = f.workspace(app, "Mine"), f.workspace(app, "Theirs")
    my_seq, my_person = f.sequence(mine), f.contact(mine)
    their_seq, their_person = f.sequence(theirs), f.contact(theirs, 2)
    with pytest.raises(NotFound, match="contact"):
        f.enroll(mine, their_person.id, my_seq.id)
    with pytest.raises(NotFound, match="sequence"):
        f.enroll(mine, my_person.id, their_seq.id)
    e = f.enroll(mine, my_person.id, my_seq.id)
    for call in (enrollments.pause_enrollment, enrollments.get_enrollment, outcomes.record_reply):
        with pytest.raises(NotFound):
            call(theirs, e.id)
    with pytest.raises(NotFound):
        outcomes.record_bounce(theirs, my_person.id)
    assert enrollments.get_enrollment(mine, e.id).status == "pending"


def test_pause_then_resume_keeps_the_step_and_is_due_no_earlier_than_now(
    app: Cadence, clock: ManualClock
) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    paused = enrollments.pause_enrollment(scope, e.id)
    assert paused.status == "paused" and paused.current_step_id == e.current_step_id
    clock.advance(days=2)
    resumed = enrollments.resume_enrollment(scope, e.id)
    assert resumed.status == "pending" and resumed.current_step_id == e.current_step_id
    assert resumed.next_send_at == clock.now()
    with pytest.raises(InvalidTransition):
        enrollments.resume_enrollment(scope, e.id)


def test_reply_completes_only_that_enrollment(app: Cadence) -> None:
    scope = f.workspace(app)
    a, b, person = f.sequence(scope, "A"), f.sequence(scope, "B"), f.contact(scope)
    ea = f.enroll(scope, person.id, a.id)
    eb = f.enroll(scope, person.id, b.id, resolution="parallel")
    done = outcomes.record_reply(scope, ea.id)
    assert done.status == "replied" and done.next_send_at is None and done.finished_at
    assert enrollments.get_enrollment(scope, eb.id).status == "pending"
    with pytest.raises(InvalidTransition, match="replied"):
        outcomes.record_reply(scope, ea.id)


@pytest.mark.parametrize(
    ("record", "status", "email_status"),
    [
        (outcomes.record_bounce, "bounced", "bounced"),
        (outcomes.record_unsubscribe, "unsubscribed", "unsubscribed"),
        (outcomes.record_complaint, "unsubscribed", "complained"),
    ],
)
def test_bounce_or_unsubscribe_stops_every_enrollment_and_suppresses(
    app: Cadence, record: object, status: str, email_status: str
) -> None:
    scope = f.workspace(app)
    person, other = f.contact(scope), f.contact(scope, 2)
    seqs = [f.sequence(scope, n) for n in ("A", "B", "C")]
    mine = [f.enroll(scope, person.id, s.id, resolution="parallel") for s in seqs]
    enrollments.pause_enrollment(scope, mine[1].id)
    outcomes.record_reply(scope, mine[2].id)
    theirs = f.enroll(scope, other.id, seqs[0].id)
    stopped = record(scope, person.id)  # type: ignore[operator]
    assert sorted(e.id for e in stopped) == sorted([mine[0].id, mine[1].id])
    assert {e.status for e in stopped} == {status}
    assert enrollments.get_enrollment(scope, mine[2].id).status == "replied"
    assert enrollments.get_enrollment(scope, theirs.id).status == "pending"
    with app.db.session() as s:
        sup = s.exec(select(Suppression)).all()
        assert [(x.email, x.contact_id) for x in sup] == [(person.email, person.id)]
    from cadence.service.contacts import get_contact

    assert get_contact(scope, person.id).email_status == email_status


def test_every_change_leaves_an_engagement_event(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    enrollments.pause_enrollment(scope, e.id)
    enrollments.resume_enrollment(scope, e.id)
    outcomes.record_reply(scope, e.id)
    with app.db.session() as s:
        kinds = [ev.type for ev in s.exec(select(EngagementEvent).order_by(EngagementEvent.id))]
        actors = {ev.data["actor"] for ev in s.exec(select(EngagementEvent))}
    assert kinds == ["enrolled", "paused", "resumed", "replied"]
    assert actors == {"rita"}


def test_deleting_the_step_an_enrollment_waits_on_moves_it_to_the_next(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    keep = [s for s in seq.steps[1:]]
    sequences.update_sequence(
        scope,
        seq.id,
        {
            "name": seq.name,
            "steps": [
                {"id": keep[0].id, "channel": "linkedin", "body": "Connect"},
                {"id": keep[1].id, "channel": "email", "subject": "Hello", "body": "Hi"},
            ],
        },
    )
    moved = enrollments.get_enrollment(scope, e.id)
    assert moved.current_step_id == keep[0].id and moved.current_step == 0


def test_timestamps_come_from_the_injected_clock(app: Cadence, clock: ManualClock) -> None:
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    assert e.enrolled_at == datetime(2030, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(minutes=5))
    assert outcomes.record_reply(scope, e.id).finished_at == datetime(2030, 1, 1, 0, 5, tzinfo=UTC)
