"""Fixtures for the tool tests: a workspace with a rep, and the context the tools run in."""

from __future__ import annotations

import pytest

from cadence.service.context import Cadence, Scope
from cadence.tools import CadenceContext
from tests import factories as f


@pytest.fixture
def scope(app: Cadence) -> Scope:
    return f.workspace(app)


@pytest.fixture
def ctx(app: Cadence, scope: Scope) -> CadenceContext:
    return CadenceContext(workspace_id=scope.workspace_id, user="rita", app=app)


def email_step(
    subject: str = "Hi {{first_name|there}}", body: str = "Hello {{company|team}}"
) -> dict[str, object]:
    return {"channel": "email", "subject": subject, "body": body}
