from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cadence.clock import ManualClock
from cadence.service.context import Cadence
from cadence.service.enrollments import record_event
from cadence.store.enums import EventType
from tests import factories as f


def _history(app: Cadence, scope: object, contact_id: int, weeks: int = 8) -> None:
    """Mailed at 09:00 UTC on weekdays; replies come at 15:00 the same day."""
    with app.db.transaction() as s:
        for week in range(weeks):
            for day in range(5):
                sent = datetime(2025, 12, 1, 9, 0, tzinfo=UTC) + timedelta(weeks=week, days=day)
                record_event(s, scope, EventType.SENT, contact_id=contact_id, at=sent)  # type: ignore[arg-type]
                if day in (1, 3):
                    record_event(
                        s,
                        scope,
                        EventType.REPLIED,
                        contact_id=contact_id,  # type: ignore[arg-type]
                        at=sent.replace(hour=15),
                    )


def test_smart_send_time_moves_the_step_to_the_companys_reply_hour(
    app: Cadence, clock: ManualClock
) -> None:
    scope = f.workspace(app)
    colleagues = [f.contact(scope, n, company="Initech", timezone="UTC") for n in range(1, 7)]
    for c in colleagues:
        _history(app, scope, c.id)
    window = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}
    smart = f.sequence(
        scope,
        "Smart",
        steps=[{"channel": "email", "subject": "S", "body": "B"}],
        send_window=window,
        settings={"smart_send_time": True},
    )
    plain = f.sequence(
        scope,
        "Plain",
        steps=[{"channel": "email", "subject": "S", "body": "B"}],
        send_window=window,
    )
    newcomer = f.contact(scope, 99, company="Initech", timezone="UTC")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))  # Tuesday 09:00
    e_smart = f.enroll(scope, newcomer.id, smart.id)
    other = f.contact(scope, 98, company="Initech", timezone="UTC")
    e_plain = f.enroll(scope, other.id, plain.id)
    assert e_plain.next_send_at == clock.now()
    assert e_smart.next_send_at is not None
    assert 13 <= e_smart.next_send_at.hour <= 16  # the afternoon the company answers in
    assert e_smart.next_send_at - clock.now() < timedelta(hours=24)
