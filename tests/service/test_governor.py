"""The touch governor under concurrent workers: the daily limit is never passed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from cadence.clock import ManualClock
from cadence.service.context import Cadence
from cadence.service.governor import Deferred, Duplicate, Reserved, reserve_touch_for
from cadence.store.models import Touch
from tests import factories as f


def _many_enrollments(app: Cadence, n: int, **seq_kwargs: object) -> tuple[int, list[int]]:
    scope = f.workspace(app)
    person = f.contact(scope)
    ids = [
        f.enroll(
            scope, person.id, f.sequence(scope, f"S{i}", **seq_kwargs).id, resolution="parallel"
        ).id
        for i in range(n)
    ]
    return person.id, ids


def test_third_touch_of_the_day_is_deferred_to_the_next_local_day(
    app: Cadence, clock: ManualClock
) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)  # America/New_York; 09:00 UTC is 04:00 local on Monday 2 March
    ids = [
        f.enroll(scope, person.id, f.sequence(scope, n).id, resolution="parallel").id for n in "ABC"
    ]
    assert isinstance(reserve_touch_for(scope, ids[0]), Reserved)
    assert isinstance(reserve_touch_for(scope, ids[1]), Reserved)
    third = reserve_touch_for(scope, ids[2])
    assert isinstance(third, Deferred)
    assert third.count == 2 and third.limit == 2
    assert third.until == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # local midnight, EST
    assert isinstance(reserve_touch_for(scope, ids[0]), Duplicate)


def test_deferral_lands_inside_the_send_window(app: Cadence) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)
    window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
    ids = [
        f.enroll(
            scope, person.id, f.sequence(scope, n, send_window=window).id, resolution="parallel"
        ).id
        for n in "ABC"
    ]
    at = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday 10:00 in New York
    reserve_touch_for(scope, ids[0], at=at)
    reserve_touch_for(scope, ids[1], at=at)
    third = reserve_touch_for(scope, ids[2], at=at)
    assert isinstance(third, Deferred)
    assert third.until == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 EDT (DST began)


def test_a_new_local_day_has_room_again(app: Cadence, clock: ManualClock) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)
    ids = [
        f.enroll(scope, person.id, f.sequence(scope, n).id, resolution="parallel").id for n in "ABC"
    ]
    reserve_touch_for(scope, ids[0])
    reserve_touch_for(scope, ids[1])
    assert isinstance(reserve_touch_for(scope, ids[2]), Deferred)
    assert isinstance(
        reserve_touch_for(scope, ids[2], at=clock.now() + timedelta(hours=21)), Reserved
    )


@pytest.mark.parametrize("workers", [24])
def test_concurrent_reservations_never_pass_the_limit(app: Cadence, workers: int) -> None:
    contact_id, ids = _many_enrollments(app, workers)
    scope = app.scope(1, actor="worker")
    barrier = threading.Barrier(workers)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(enrollment_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            r = reserve_touch_for(scope, enrollment_id)
            with lock:
                results.append(r)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(isinstance(r, Reserved) for r in results) == 2
    assert sum(isinstance(r, Deferred) for r in results) == workers - 2
    with app.db.session() as s:
        assert (
            s.exec(
                select(func.count()).select_from(Touch).where(Touch.contact_id == contact_id)
            ).one()
            == 2
        )
