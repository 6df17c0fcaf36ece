"""The enrollment state machine: states, events and the table of allowed transitions.

An enrollment moves through a sequence one step at a time:

    created ──schedule──▶ pending ──send──▶ sent ──advance──▶ pending … ──advance──▶ completed
       │                     │                │
       └──────── reply / bounce / unsubscribe / remove (from any live state) ────────▶ terminal
                 pause ▶ paused ──resume──▶ the state it was paused from
                 pending ──fail──▶ failed ──retry──▶ pending

- ``created``: enrolled in a sequence that is not active yet (draft or paused); nothing scheduled.
- ``pending``: the current step is due at ``next_send_at``.
- ``sent``: the current step went out (or its task was opened); at ``next_send_at`` (the next
  step's delay) the enrollment advances with no reply, or completes after the last step; a soft
  bounce sends the same step again (``resend``).
- ``paused``: nothing runs; resume returns to the state it was paused from, at the same step.
- ``failed``: a step ran out of retries (a dead letter); a person may retry it.
- ``replied``, ``completed``, ``bounced``, ``unsubscribed``, ``removed``: terminal; they never
  move again.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from cadence.errors import InvalidTransition

__all__ = [
    "ACTIVE_STATES",
    "LIVE_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "EnrollmentEvent",
    "EnrollmentStatus",
    "allowed_events",
    "can",
    "transition",
]


class EnrollmentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SENT = "sent"
    PAUSED = "paused"
    FAILED = "failed"
    REPLIED = "replied"
    COMPLETED = "completed"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    REMOVED = "removed"


class EnrollmentEvent(StrEnum):
    SCHEDULE = "schedule"
    SEND = "send"
    ADVANCE = "advance"
    RESEND = "resend"  # the step that went out bounced softly: send it again
    PAUSE = "pause"
    RESUME = "resume"
    FAIL = "fail"
    RETRY = "retry"
    REPLY = "reply"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    REMOVE = "remove"


S = EnrollmentStatus
E = EnrollmentEvent

TERMINAL_STATES: frozenset[EnrollmentStatus] = frozenset(
    {S.REPLIED, S.COMPLETED, S.BOUNCED, S.UNSUBSCRIBED, S.REMOVED}
)
LIVE_STATES: frozenset[EnrollmentStatus] = frozenset(set(S) - TERMINAL_STATES)
# "Active in a sequence" for conflict checks and the daily limit: everything live.
ACTIVE_STATES: frozenset[EnrollmentStatus] = LIVE_STATES

_STOPS: dict[EnrollmentEvent, EnrollmentStatus] = {
    E.REPLY: S.REPLIED,
    E.BOUNCE: S.BOUNCED,
    E.UNSUBSCRIBE: S.UNSUBSCRIBED,
    E.REMOVE: S.REMOVED,
}


def _table() -> dict[EnrollmentStatus, dict[EnrollmentEvent, frozenset[EnrollmentStatus]]]:
    table: dict[EnrollmentStatus, dict[EnrollmentEvent, frozenset[EnrollmentStatus]]] = {
        S.CREATED: {E.SCHEDULE: frozenset({S.PENDING}), E.PAUSE: frozenset({S.PAUSED})},
        S.PENDING: {
            E.SEND: frozenset({S.SENT}),
            E.PAUSE: frozenset({S.PAUSED}),
            E.FAIL: frozenset({S.FAILED}),
        },
        S.SENT: {
            E.ADVANCE: frozenset({S.PENDING, S.COMPLETED}),
            E.RESEND: frozenset({S.PENDING}),
            E.PAUSE: frozenset({S.PAUSED}),
        },
        # Resume returns to the state the pause left; the caller names it.
        S.PAUSED: {E.RESUME: frozenset({S.CREATED, S.PENDING, S.SENT})},
        S.FAILED: {E.RETRY: frozenset({S.PENDING}), E.PAUSE: frozenset({S.PAUSED})},
    }
    for state in LIVE_STATES:
        for event, target in _STOPS.items():
            table.setdefault(state, {})[event] = frozenset({target})
    for state in TERMINAL_STATES:
        table[state] = {}
    return table


TRANSITIONS: Mapping[EnrollmentStatus, Mapping[EnrollmentEvent, frozenset[EnrollmentStatus]]] = (
    _table()
)


def can(state: EnrollmentStatus | str, event: EnrollmentEvent | str) -> bool:
    """Whether ``event`` is allowed in ``state``."""
    return EnrollmentEvent(event) in TRANSITIONS[EnrollmentStatus(state)]


def allowed_events(state: EnrollmentStatus | str) -> frozenset[EnrollmentEvent]:
    return frozenset(TRANSITIONS[EnrollmentStatus(state)])


def transition(
    state: EnrollmentStatus | str,
    event: EnrollmentEvent | str,
    target: EnrollmentStatus | str | None = None,
) -> EnrollmentStatus:
    """The state after ``event``; ``target`` picks among several allowed ones.

    Raises:
        InvalidTransition: the table does not allow ``event`` in ``state`` (or not to ``target``).
    """
    src, ev = EnrollmentStatus(state), EnrollmentEvent(event)
    targets = TRANSITIONS[src].get(ev)
    if not targets:
        raise InvalidTransition(src.value, ev.value)
    if target is None:
        if len(targets) != 1:
            raise InvalidTransition(src.value, ev.value, target="(ambiguous)")
        return next(iter(targets))
    dst = EnrollmentStatus(target)
    if dst not in targets:
        raise InvalidTransition(src.value, ev.value, target=dst.value)
    return dst
