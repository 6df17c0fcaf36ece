"""Workspaces: the tenants. Creating one is the host's act, not a scoped use case."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.domain.specs import normalize_email
from cadence.errors import InvalidInput, NotFound
from cadence.service.context import Cadence, Scope
from cadence.service.views import WorkspacePublic
from cadence.store.models import Workspace

__all__ = ["create_workspace", "get_workspace"]


def create_workspace(
    app: Cadence,
    name: str,
    *,
    timezone: str = "UTC",
    sender_name: str | None = None,
    sender_email: str | None = None,
    postal_address: str | None = None,
    daily_touch_limit: int | None = None,
) -> WorkspacePublic:
    """Create a tenant.

    Raises:
        InvalidInput: empty name, unknown time zone, bad sender address or limit.
    """
    if not name.strip():
        raise InvalidInput("workspace name: must not be empty", field="name", value=name)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"timezone: unknown time zone {timezone!r}", field="timezone", value=timezone
        ) from None
    if daily_touch_limit is not None and not 1 <= daily_touch_limit <= 50:
        raise InvalidInput(
            f"daily_touch_limit: must be 1..50 (got {daily_touch_limit})",
            field="daily_touch_limit",
            value=daily_touch_limit,
        )
    with app.db.transaction() as session:
        ws = Workspace(
            name=name.strip(),
            timezone=timezone,
            sender_name=sender_name,
            sender_email=normalize_email(sender_email) if sender_email else None,
            postal_address=postal_address,
            daily_touch_limit=daily_touch_limit,
            created_at=app.clock.now(),
        )
        session.add(ws)
        session.flush()
        return WorkspacePublic.model_validate(ws)


def get_workspace(scope: Scope) -> WorkspacePublic:
    with scope.db.session() as session:
        ws = session.get(Workspace, scope.workspace_id)
        if ws is None:
            raise NotFound("workspace", scope.workspace_id)
        return WorkspacePublic.model_validate(ws)
