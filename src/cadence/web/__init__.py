"""cadence.web: the FastAPI app (one-click unsubscribe, admin queue counts, the RQ dashboard)."""

from cadence.web.app import create_app

__all__ = ["create_app"]
