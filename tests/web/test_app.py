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
