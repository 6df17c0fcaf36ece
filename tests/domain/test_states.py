from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence.domain.states import (
    LIVE_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    EnrollmentEvent,
    EnrollmentStatus,
    can,
    transition,
)
from cadence.errors import InvalidTransition

S, E = EnrollmentStatus, EnrollmentEvent


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(EnrollmentStatus)


def test_terminal_states_allow_no_event() -> None:
    for state in TERMINAL_STATES:
        assert TRANSITIONS[state] == {}


@pytest.mark.parametrize("state", sorted(LIVE_STATES))
@pytest.mark.parametrize("event", [E.REPLY, E.BOUNCE, E.UNSUBSCRIBE, E.REMOVE])
def test_stops_apply_from_every_live_state(state: EnrollmentStatus, event: EnrollmentEvent) -> None:
    assert transition(state, event) in TERMINAL_STATES


def test_invalid_transition_names_both_state_and_event() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(S.COMPLETED, E.SEND)
    assert "completed" in str(info.value) and "send" in str(info.value)
    assert info.value.state == "completed" and info.value.event == "send"


def test_resume_goes_back_to_the_named_state_only() -> None:
    assert transition(S.PAUSED, E.RESUME, S.SENT) is S.SENT
    with pytest.raises(InvalidTransition):
        transition(S.PAUSED, E.RESUME, S.REPLIED)
    with pytest.raises(InvalidTransition):
        transition(S.PAUSED, E.RESUME)  # ambiguous without a target


def test_a_sent_step_advances_to_pending_or_completes() -> None:
    assert transition(S.SENT, E.ADVANCE, S.PENDING) is S.PENDING
    assert transition(S.SENT, E.ADVANCE, S.COMPLETED) is S.COMPLETED


def test_only_a_sent_step_can_be_resent() -> None:
    assert transition(S.SENT, E.RESEND) is S.PENDING
    for state in set(EnrollmentStatus) - {S.SENT}:
        assert not can(state, E.RESEND)


@given(st.sampled_from(list(EnrollmentStatus)), st.lists(st.sampled_from(list(EnrollmentEvent))))
def test_no_event_sequence_leaves_a_terminal_state(
    start: EnrollmentStatus, events: list[EnrollmentEvent]
) -> None:
    state = start
    for event in events:
        if not can(state, event):
            with pytest.raises(InvalidTransition):
                transition(state, event)
            continue
        was_terminal = state in TERMINAL_STATES
        targets = sorted(TRANSITIONS[state][event])
        state = transition(state, event, targets[0])
        assert not was_terminal
    if start in TERMINAL_STATES:
        assert state is start
