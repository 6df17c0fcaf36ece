"""Request dependencies: the app, and the caller's workspace scope.

The workspace and user come from the host, never from a form or a query string: by default from
the ``X-Cadence-Workspace`` and ``X-Cadence-User`` headers that the host's authenticating proxy
sets, or from ``app.dependency_overrides[current_scope]`` when a host mounts Cadence in its own
FastAPI app and already knows who is calling.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from cadence.service.context import Cadence, Scope

__all__ = ["current_scope", "get_cadence"]


def get_cadence(request: Request) -> Cadence:
    cadence: Cadence = request.app.state.cadence
    return cadence


def current_scope(
    cadence: Annotated[Cadence, Depends(get_cadence)],
    workspace: Annotated[int | None, Header(alias="X-Cadence-Workspace")] = None,
    user: Annotated[str | None, Header(alias="X-Cadence-User")] = None,
) -> Scope:
    if workspace is None:
        raise HTTPException(
            status_code=401, detail="no workspace: the host must say who is calling"
        )
    return cadence.scope(workspace, actor=user or "web")
