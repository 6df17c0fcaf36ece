"""The service's runtime: database, clock and settings, and the workspace scope of a caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cadence.clock import Clock, SystemClock
from cadence.config import Settings, get_settings
from cadence.store.db import Database

__all__ = ["Cadence", "Scope"]


@dataclass
class Cadence:
    """One per process: what every use case needs besides its arguments."""

    db: Database
    clock: Clock = field(default_factory=SystemClock)
    settings: Settings = field(default_factory=get_settings)
    # Per-app memo for derived data that is costly to rebuild (fitted models); it lives and dies
    # with the app, so tests and hosts with several apps never share it.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, clock: Clock | None = None) -> Cadence:
        settings = settings or get_settings()
        db = Database(settings.database_url, auto_migrate=settings.auto_migrate)
        return cls(db=db, clock=clock or SystemClock(), settings=settings)

    def scope(self, workspace_id: int, actor: str = "system") -> Scope:
        """The scope of one caller. The workspace comes from who is calling, never from input."""
        return Scope(app=self, workspace_id=workspace_id, actor=actor)


@dataclass(frozen=True)
class Scope:
    """A workspace and the person or process acting in it; every query is filtered by it."""

    app: Cadence
    workspace_id: int
    actor: str = "system"

    @property
    def db(self) -> Database:
        return self.app.db

    def now(self) -> datetime:
        return self.app.clock.now()
