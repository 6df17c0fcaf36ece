from __future__ import annotations

from fastapi.testclient import TestClient

from cadence.channels.links import unsubscribe_url
from cadence.service import enrollments
from cadence.service.contacts import get_contact
from cadence.service.context import Cadence
from cadence.web import create_app
from tests import factories as f


def _client(app: Cadence) -> TestClient:
    return TestClient(create_app(app))


def test_one_click_unsubscribe_stops_and_suppresses(app: Cadence) -> None:
    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    url = unsubscribe_url(
        "http://testserver",
        app.settings.secret_key,
        workspace_id=scope.workspace_id,
        contact_id=person.id,
        touch_key="t1",
    )
    client = _client(app)
    path = url.removeprefix("http://testserver")
    assert "Unsubscribe" in client.get(path).text  # a GET only asks
    assert enrollments.get_enrollment(scope, e.id).status == "pending"
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.text
    assert enrollments.get_enrollment(scope, e.id).status == "unsubscribed"
    assert get_contact(scope, person.id).email_status == "unsubscribed"


def test_a_tampered_unsubscribe_token_is_a_400_and_changes_nothing(app: Cadence) -> None:
    scope = f.workspace(app)
    person = f.contact(scope)
    url = unsubscribe_url(
        "http://t",
        app.settings.secret_key,
        workspace_id=scope.workspace_id,
        contact_id=person.id,
        touch_key="t1",
    )
    token = url.rsplit("/", 1)[1]
    bad = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = _client(app).post(f"/u/{bad}")
    assert response.status_code == 400 and response.json()["error"] == "invalid_token"
    assert get_contact(scope, person.id).email_status == "unknown"


def test_admin_queue_counts_need_a_workspace_and_are_scoped(app: Cadence) -> None:
    mine, theirs = f.workspace(app, "Mine"), f.workspace(app, "Theirs")
    f.enroll(mine, f.contact(mine).id, f.sequence(mine).id)
    client = _client(app)
    assert client.get("/admin/queue").status_code == 401
    body = client.get(
        "/admin/queue", headers={"X-Cadence-Workspace": str(mine.workspace_id)}
    ).json()
    assert body["scheduled"] == 1
    other = client.get(
        "/admin/queue", headers={"X-Cadence-Workspace": str(theirs.workspace_id)}
    ).json()
    assert other["scheduled"] == 0


def test_open_pixel_and_click_redirect_record_engagement_once(app: Cadence) -> None:
    from sqlmodel import select

    from cadence.channels.links import click_url, open_pixel_url
    from cadence.store.enums import TouchStatus
    from cadence.store.models import EngagementEvent, Touch

    scope = f.workspace(app)
    seq, person = f.sequence(scope), f.contact(scope)
    e = f.enroll(scope, person.id, seq.id)
    with app.db.transaction() as s:
        touch = Touch(
            workspace_id=scope.workspace_id,
            enrollment_id=e.id,
            contact_id=person.id,
            sequence_id=seq.id,
            step_id=seq.steps[0].id,
            channel="email",
            status=TouchStatus.SENT,
            touched_at=app.clock.now(),
        )
        s.add(touch)
        s.flush()
        key = f"t{touch.id}-{e.id}-{seq.steps[0].id}-1"
    client = _client(app)
    pixel = open_pixel_url("http://t", app.settings.secret_key, touch_key=key).removeprefix(
        "http://t"
    )
    for _ in range(3):  # proxies fetch pixels again and again
        r = client.get(pixel)
        assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    link = click_url(
        "http://t", app.settings.secret_key, touch_key=key, target_url="https://example.com/webinar"
    ).removeprefix("http://t")
    r = client.get(link, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://example.com/webinar"
    assert client.get("/o/garbage").status_code == 200  # still a pixel
    assert client.get("/c/garbage", follow_redirects=False).status_code == 400
    with app.db.session() as s:
        kinds = [
            ev.type
            for ev in s.exec(select(EngagementEvent).where(EngagementEvent.touch_id.is_not(None)))
        ]  # type: ignore[union-attr]
    assert sorted(kinds) == ["clicked", "opened"]
