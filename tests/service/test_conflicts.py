from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from cadence.clock import ManualClock
from cadence.errors import (
    AlreadyEnrolled,
    EnrollmentConflict,
    InvalidInput,
    NotFound,
    ResolutionNotAllowed,
)
from cadence.service import contacts, enrolling, enrollments, outcomes, sequences
from cadence.service.context import Cadence, Scope
from cadence.service.governor import reserve_touch_for
from cadence.store.models import CrmSequenceEnrollment, EngagementEvent
from tests import factories as f


def _codes(scope: Scope, seq_id: int, contact_id: int) -> list[str]:
    report = enrolling.check_sequence_conflicts(scope, seq_id, contact_id)
    return [c.code for c in report.contacts[0].conflicts]


def _rows(app: Cadence) -> int:
    with app.db.session() as s:
        return int(s.exec(select(func.count()).select_from(CrmSequenceEnrollment)).one())


def test_a_clean_contact_has_no_conflicts_and_all_resolutions(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    report = enrolling.check_sequence_conflicts(scope, seq.id, [person.id])
    assert report.contacts[0].conflicts == [] and not report.has_conflicts
    assert report.contacts[0].allowed == ["replace", "parallel", "skip"]


def test_active_in_other_sequence_names_it_with_step_and_next_send(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second, person = (
        f.sequence(scope, "Webinar"),
        f.sequence(scope, "Cold"),
        f.contact(scope),
    )
    f.enroll(scope, person.id, first.id)
    report = enrolling.check_sequence_conflicts(scope, second.id, person.id)
    (conflict,) = report.contacts[0].conflicts
    assert conflict.code == "active_in_other_sequence" and "'Webinar'" in conflict.message
    (other,) = conflict.facts["enrollments"]
    assert other["sequence_name"] == "Webinar" and other["current_step"] == 1
    assert other["next_send_at"] == app.clock.now().isoformat()
    assert conflict.resolutions == ["replace", "parallel", "skip"]


def test_enrolling_with_conflicts_and_no_resolution_raises_with_the_report(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second, person = f.sequence(scope, "A"), f.sequence(scope, "B"), f.contact(scope)
    f.enroll(scope, person.id, first.id)
    with pytest.raises(EnrollmentConflict) as info:
        enrolling.enroll(scope, person.id, second.id)
    assert info.value.report.contacts[0].conflicts[0].code == "active_in_other_sequence"
    assert _rows(app) == 1


def test_replace_stops_the_other_enrollments_with_a_reason_then_enrolls(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second, person = f.sequence(scope, "A"), f.sequence(scope, "B"), f.contact(scope)
    old = f.enroll(scope, person.id, first.id)
    outcome = enrolling.enroll(scope, person.id, second.id, resolution="replace")
    assert outcome.action == "enrolled" and outcome.replaced == [old.id]
    stopped = enrollments.get_enrollment(scope, old.id)
    assert stopped.status == "removed" and "replaced by sequence" in (stopped.stop_reason or "")
    assert outcome.enrollment is not None and outcome.enrollment.status == "pending"


def test_parallel_enrolls_alongside(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second, person = f.sequence(scope, "A"), f.sequence(scope, "B"), f.contact(scope)
    old = f.enroll(scope, person.id, first.id)
    outcome = enrolling.enroll(scope, person.id, second.id, resolution="parallel")
    assert outcome.action == "enrolled" and outcome.replaced == []
    assert enrollments.get_enrollment(scope, old.id).status == "pending"


def test_skip_does_not_enroll_and_is_recorded(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second, person = f.sequence(scope, "A"), f.sequence(scope, "B"), f.contact(scope)
    f.enroll(scope, person.id, first.id)
    outcome = enrolling.enroll(scope, person.id, second.id, resolution="skip")
    assert outcome.action == "skipped" and outcome.enrollment is None
    assert "active_in_other_sequence" in (outcome.reason or "")
    with app.db.session() as s:
        skipped = s.exec(
            select(EngagementEvent).where(EngagementEvent.type == "enroll_skipped")
        ).one()
    assert skipped.contact_id == person.id and skipped.data["sequence_id"] == second.id


def test_suppressed_allows_only_skip_and_parallel_is_refused_writing_nothing(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    outcomes.record_unsubscribe(scope, person.id)
    assert _codes(scope, seq.id, person.id) == ["suppressed"]
    for resolution in ("parallel", "replace"):
        with pytest.raises(ResolutionNotAllowed, match="suppressed"):
            enrolling.enroll(scope, person.id, seq.id, resolution=resolution)
    assert _rows(app) == 0


def test_already_enrolled_alone_raises_already_enrolled(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    f.enroll(scope, person.id, seq.id)
    with pytest.raises(AlreadyEnrolled) as info:
        enrolling.enroll(scope, person.id, seq.id)
    assert info.value.report.contacts[0].conflicts[0].facts["status"] == "pending"
    with pytest.raises(ResolutionNotAllowed):
        enrolling.enroll(scope, person.id, seq.id, resolution="replace")


def test_finished_contact_is_reenrolled_only_when_the_sequence_allows(app: Cadence) -> None:
    scope = f.workspace(app)
    strict = f.sequence(scope, "Strict")
    again = f.sequence(scope, "Again", settings={"allow_reenroll": True})
    person = f.contact(scope)
    a = f.enroll(scope, person.id, strict.id)
    b = f.enroll(scope, person.id, again.id, resolution="parallel")
    outcomes.record_reply(scope, a.id)
    outcomes.record_reply(scope, b.id)
    with pytest.raises(ResolutionNotAllowed):
        enrolling.enroll(scope, person.id, strict.id, resolution="replace")
    outcome = enrolling.enroll(scope, person.id, again.id, resolution="replace")
    assert outcome.action == "reenrolled" and outcome.enrollment is not None
    assert outcome.enrollment.id == b.id and outcome.enrollment.status == "pending"
    with app.db.session() as s:
        assert s.get(CrmSequenceEnrollment, b.id).cycle == 2  # type: ignore[union-attr]


def test_missing_merge_fields_name_fields_and_steps(app: Cadence) -> None:
    scope = f.workspace(app)
    f.contact(scope, 9, attributes={"deal_size": "10"})
    seq = f.sequence(
        scope,
        steps=[
            {"channel": "email", "subject": "Hi {{first_name}}", "body": "About {{deal_size}}"},
            {
                "channel": "email",
                "delay_hours": 24,
                "body": "{{deal_size}} again, {{first_name|friend}}",
            },
        ],
    )
    person = contacts.upsert_contact(scope, {"email": "nofirst@example.com"})
    report = enrolling.check_sequence_conflicts(scope, seq.id, person.id)
    (conflict,) = report.contacts[0].conflicts
    assert conflict.code == "missing_merge_fields"
    assert conflict.facts == {"fields": ["deal_size", "first_name"], "steps": [1, 2]}
    assert conflict.resolutions == ["skip"]


def test_invalid_contact_without_email_or_linkedin(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope)  # email, linkedin, email
    person = contacts.upsert_contact(
        scope, {"external_id": "crm-7", "first_name": "No", "company": "X"}
    )
    (conflict,) = enrolling.check_sequence_conflicts(scope, seq.id, person.id).contacts[0].conflicts
    assert conflict.code == "invalid_contact"
    problems = {p["problem"]: p["steps"] for p in conflict.facts["problems"]}
    assert problems == {
        "no email address for the email steps": [1, 3],
        "no LinkedIn URL for the LinkedIn steps": [2],
    }


def test_daily_limit_counts_sent_and_scheduled_touches_on_the_first_steps_day(app: Cadence) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)
    a, b, c = f.sequence(scope, "A"), f.sequence(scope, "B"), f.sequence(scope, "C")
    ea = f.enroll(scope, person.id, a.id)
    assert reserve_touch_for(scope, ea.id).__class__.__name__ == "Reserved"  # one touch sent today
    f.enroll(scope, person.id, b.id, resolution="parallel")  # one scheduled for today
    conflicts = enrolling.check_sequence_conflicts(scope, c.id, person.id).contacts[0].conflicts
    limit = next(x for x in conflicts if x.code == "daily_touch_limit")
    assert limit.facts["touches"] == 2 and limit.facts["limit"] == 2
    assert limit.resolutions == ["parallel", "skip"]


def test_unknown_resolution_contact_sequence_or_foreign_contact_are_typed_errors(
    app: Cadence,
) -> None:
    mine, theirs = f.workspace(app, "Mine"), f.workspace(app, "Theirs")
    seq, person, foreign = f.sequence(mine), f.contact(mine), f.contact(theirs, 2)
    with pytest.raises(InvalidInput, match=r"resolution.*'merge'"):
        enrolling.enroll(mine, person.id, seq.id, resolution="merge")
    with pytest.raises(NotFound, match="contact"):
        enrolling.enroll_many(mine, seq.id, [person.id, foreign.id], resolution="parallel")
    with pytest.raises(NotFound, match="sequence"):
        enrolling.enroll(mine, person.id, 99_999)
    with pytest.raises(NotFound):
        enrolling.check_sequence_conflicts(theirs, seq.id, person.id)
    assert _rows(app) == 0


def test_dry_run_reports_what_would_happen_and_writes_nothing(app: Cadence) -> None:
    scope = f.workspace(app)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    people = [f.contact(scope, n) for n in range(1, 4)]
    old = f.enroll(scope, people[0].id, first.id)
    result = enrolling.enroll_many(
        scope, second.id, [p.id for p in people], resolution="replace", dry_run=True
    )
    assert result.dry_run and [o.action for o in result.outcomes] == ["enrolled"] * 3
    assert result.outcomes[0].replaced == [old.id]
    assert _rows(app) == 1 and enrollments.get_enrollment(scope, old.id).status == "pending"


def test_bulk_enroll_reports_per_contact_and_skips_what_the_policy_cannot_cover(
    app: Cadence,
) -> None:
    scope = f.workspace(app)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    people = [f.contact(scope, n) for n in range(1, 6)]
    busy = f.enroll(scope, people[0].id, first.id)
    outcomes.record_bounce(scope, people[1].id)
    result = enrolling.enroll_many(scope, second.id, [p.id for p in people], resolution="replace")
    actions = [(o.contact_id, o.action) for o in result.outcomes]
    assert actions == [(people[0].id, "enrolled"), (people[1].id, "skipped")] + [
        (p.id, "enrolled") for p in people[2:]
    ]
    assert result.outcomes[0].replaced == [busy.id]
    assert "suppressed" in (result.outcomes[1].reason or "")
    assert result.counts == {"enrolled": 4, "skipped": 1, "replaced": 1}
    assert _rows(app) == 1 + 4


def test_bulk_enroll_uses_a_fixed_number_of_queries(app: Cadence) -> None:
    scope = f.workspace(app)
    seq = f.sequence(scope)
    people = contacts.upsert_contacts(
        scope,
        [
            {
                "email": f"p{n}@example.com",
                "first_name": "P",
                "company": "C",
                "linkedin_url": f"https://www.linkedin.com/in/p{n}",
            }
            for n in range(300)
        ],
    )
    statements: list[Any] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(app.db.engine, "before_cursor_execute", listener)
    try:
        result = enrolling.enroll_many(scope, seq.id, [p.id for p in people])
    finally:
        event.remove(app.db.engine, "before_cursor_execute", listener)
    assert result.counts["enrolled"] == 300
    assert len(statements) < 20, statements


def test_enrolling_under_a_lock_is_all_or_nothing_per_call(
    app: Cadence, clock: ManualClock
) -> None:
    scope = f.workspace(app)
    first, second = f.sequence(scope, "A"), f.sequence(scope, "B")
    person = f.contact(scope)
    old = f.enroll(scope, person.id, first.id)
    sequences.archive_sequence(scope, second.id)
    with pytest.raises(Exception, match="archived"):
        enrolling.enroll(scope, person.id, second.id, resolution="replace")
    assert enrollments.get_enrollment(scope, old.id).status == "pending"
