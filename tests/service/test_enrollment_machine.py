"""Hypothesis drives the real service with random event sequences against a real database."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cadence.clock import ManualClock
from cadence.config import Settings
from cadence.domain.states import TERMINAL_STATES, EnrollmentStatus
from cadence.errors import InvalidTransition
from cadence.service import enrollments, outcomes, sequences
from cadence.service.context import Cadence, Scope
from cadence.store.db import Database
from tests import factories as f
from tests.conftest import START


def test_random_event_sequences_respect_the_state_machine(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "machine.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    clock = ManualClock(START)
    app = Cadence(db=db, clock=clock, settings=Settings(database_url=db.url, auto_migrate=False))
    scope: Scope = f.workspace(app)
    counter = iter(range(1, 10_000))

    class Enrollment(RuleBasedStateMachine):
        @initialize()
        def enroll(self) -> None:
            n = next(counter)
            self.seq = f.sequence(scope, f"S{n}")
            self.person = f.contact(scope, n)
            self.e = f.enroll(scope, self.person.id, self.seq.id)
            self.paused_at_step: int | None = None
            self.was_terminal = False

        def _apply(self, call: object, *args: object) -> None:
            before = enrollments.get_enrollment(scope, self.e.id)
            try:
                call(scope, *args)  # type: ignore[operator]
            except InvalidTransition:
                after = enrollments.get_enrollment(scope, self.e.id)
                assert after == before, "a refused event changed the enrollment"
            self.e = enrollments.get_enrollment(scope, self.e.id)

        @rule(hours=st.integers(0, 200))
        def time_passes(self, hours: int) -> None:
            clock.advance(hours=hours)

        @rule()
        def pause(self) -> None:
            status = self.e.status
            self._apply(enrollments.pause_enrollment, self.e.id)
            if status is not EnrollmentStatus.PAUSED and self.e.status is EnrollmentStatus.PAUSED:
                self.paused_at_step = self.e.current_step_id

        @rule()
        def resume(self) -> None:
            was_paused = self.e.status is EnrollmentStatus.PAUSED
            self._apply(enrollments.resume_enrollment, self.e.id)
            if was_paused:
                assert self.e.current_step_id == self.paused_at_step
                assert (
                    self.e.next_send_at is None
                    or self.e.next_send_at >= clock.now()
                    or (self.e.status is not EnrollmentStatus.PENDING)
                )

        @rule()
        def reply(self) -> None:
            self._apply(outcomes.record_reply, self.e.id)

        @rule()
        def remove(self) -> None:
            self._apply(enrollments.remove_enrollment, self.e.id)

        @rule(which=st.sampled_from(["bounce", "unsubscribe", "complaint"]))
        def stop_contact(self, which: str) -> None:
            call = {
                "bounce": outcomes.record_bounce,
                "unsubscribe": outcomes.record_unsubscribe,
                "complaint": outcomes.record_complaint,
            }[which]
            call(scope, self.person.id)
            self.e = enrollments.get_enrollment(scope, self.e.id)

        @rule(active=st.booleans())
        def toggle_sequence(self, active: bool) -> None:
            if active:
                sequences.activate_sequence(scope, self.seq.id)
            else:
                sequences.pause_sequence(scope, self.seq.id)

        @invariant()
        def terminal_is_final_and_schedules_nothing(self) -> None:
            if not hasattr(self, "e"):
                return
            if self.was_terminal:
                assert self.e.status == self.terminal_status
            if self.e.status in TERMINAL_STATES:
                assert self.e.next_send_at is None
                assert self.e.finished_at is not None
                self.was_terminal, self.terminal_status = True, self.e.status

    run_state_machine_as_test(
        Enrollment,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    db.dispose()
