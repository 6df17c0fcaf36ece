"""Who is calling: the workspace, the acting user and their time zone, injected at run time.

The context reaches tools through LangGraph's runtime (``graph.invoke(..., context=...)``, then
``ToolRuntime.context``), never through arguments the model writes, so a model cannot name another
workspace. A host that serves the graph over HTTP must set the context from its own authenticated
session, not from the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.errors import ConfigurationError
from cadence.service.context import Cadence, Scope

__all__ = ["CadenceContext", "default_app", "resolve_context"]


@dataclass(frozen=True)
class CadenceContext:
    """The run-time context of the Cadence tools and graph.

    Attributes:
        workspace_id: The workspace every tool acts in.
        user: The person the agent acts for; recorded as the actor of every write.
        timezone: The user's IANA time zone, for times shown to them.
        app: The Cadence runtime; ``None`` means the process-wide ``Cadence.from_settings()``.
    """

    workspace_id: int
    user: str
    timezone: str = "UTC"
    app: Cadence | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.workspace_id, int) or isinstance(self.workspace_id, bool):
            raise ConfigurationError(
                f"CadenceContext.workspace_id must be an int, not {self.workspace_id!r}"
            )
        if not self.user:
            raise ConfigurationError("CadenceContext.user must name the acting user")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"CadenceContext.timezone {self.timezone!r} is unknown"
            ) from None

    @property
    def cadence(self) -> Cadence:
        """The runtime to use: ``app``, or the process-wide one."""
        return self.app if self.app is not None else default_app()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def scope(self) -> Scope:
        """The service scope: this workspace, with the user as actor."""
        return self.cadence.scope(self.workspace_id, actor=self.user)


@lru_cache(maxsize=1)
def default_app() -> Cadence:
    """The process-wide Cadence, built once from ``CADENCE_*`` settings."""
    return Cadence.from_settings()


_NO_CONTEXT = (
    "Cadence tools need a CadenceContext(workspace_id=..., user=...) as the run-time context: "
    "invoke the graph with context=CadenceContext(...), or call the tools through "
    "cadence.tools.invoke_tool(...)."
)


def resolve_context(value: object) -> CadenceContext:
    """The ``CadenceContext`` from a runtime's context (a ``CadenceContext`` or a mapping).

    A mapping is accepted because LangGraph's server passes the context of a run as JSON.

    Raises:
        ConfigurationError: there is no usable context; a developer error, not the model's.
    """
    if isinstance(value, CadenceContext):
        return value
    if isinstance(value, Mapping):
        names = {f.name for f in fields(CadenceContext)}
        data: dict[str, Any] = {k: v for k, v in value.items() if k in names}
        try:
            return CadenceContext(**data)
        except TypeError as exc:
            raise ConfigurationError(f"{_NO_CONTEXT} ({exc})") from None
    raise ConfigurationError(_NO_CONTEXT)
