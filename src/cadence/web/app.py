"""The web app: what email recipients reach (one-click unsubscribe) and the queue admin views.

Errors from the service become HTTP 4xx with the error's message; nothing else is translated.
"""

from __future__ import annotations

import html
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cadence.channels.links import InvalidToken, verify_click, verify_open, verify_unsubscribe
from cadence.errors import CadenceError, InvalidInput, NotFound
from cadence.service import outcomes
from cadence.service.context import Cadence, Scope
from cadence.service.queue import StepCounts, step_counts
from cadence.service.tracking import record_engagement
from cadence.store.enums import EventType
from cadence.web.deps import current_scope, get_cadence

__all__ = ["create_app"]

log = logging.getLogger(__name__)
_STATUS = {NotFound: 404, InvalidInput: 422, InvalidToken: 400}
# The smallest transparent GIF.
_PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)


def _status(exc: CadenceError) -> int:
    for kind, code in _STATUS.items():
        if isinstance(exc, kind):
            return code
    return 409


def create_app(cadence: Cadence | None = None, *, redis_url: str | None = None) -> FastAPI:
    """The FastAPI app. ``redis_url`` (a real Redis) mounts rq-dashboard-fast at ``/rq``."""
    app = FastAPI(title="Cadence")
    app.state.cadence = cadence or Cadence.from_settings()

    @app.exception_handler(CadenceError)
    async def _cadence_error(request: Request, exc: CadenceError) -> JSONResponse:
        return JSONResponse(status_code=_status(exc), content=exc.to_dict())

    @app.get("/u/{token}", response_class=HTMLResponse)
    def unsubscribe_page(token: str, cadence: Annotated[Cadence, Depends(get_cadence)]) -> str:
        verify_unsubscribe(token, cadence.settings.secret_key, now=cadence.clock.now())
        action = html.escape(f"/u/{token}", quote=True)
        return (
            f'<!doctype html><title>Unsubscribe</title><form method=post action="{action}">'
            "<p>Stop receiving these emails?</p><button>Unsubscribe</button></form>"
        )

    @app.post("/u/{token}", response_class=HTMLResponse)
    def unsubscribe(token: str, cadence: Annotated[Cadence, Depends(get_cadence)]) -> str:
        """RFC 8058 one-click: a POST (``List-Unsubscribe=One-Click``, or the form) unsubscribes."""
        data = verify_unsubscribe(token, cadence.settings.secret_key, now=cadence.clock.now())
        # The workspace comes from our own signed token, not from anything the sender chose.
        scope = cadence.scope(data.workspace_id, actor="recipient")
        try:
            outcomes.record_unsubscribe(
                scope, data.contact_id, source="one-click", detail=data.touch_key
            )
        except NotFound:
            log.warning("unsubscribe for a contact that no longer exists: %s", data.contact_id)
        return "<!doctype html><title>Unsubscribed</title><p>You are unsubscribed.</p>"

    @app.get("/o/{token}")
    def open_pixel(token: str, cadence: Annotated[Cadence, Depends(get_cadence)]) -> Response:
        """The open pixel: records an open (a weak signal: proxies fetch pixels too)."""
        try:
            data = verify_open(token, cadence.settings.secret_key, now=cadence.clock.now())
            record_engagement(cadence, data.touch_key, EventType.OPENED)
        except InvalidToken:
            pass  # a broken pixel must still render as a pixel
        return Response(
            content=_PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"}
        )

    @app.get("/c/{token}")
    def click(token: str, cadence: Annotated[Cadence, Depends(get_cadence)]) -> RedirectResponse:
        """A tracked link: records the click and redirects to the signed target."""
        data = verify_click(token, cadence.settings.secret_key, now=cadence.clock.now())
        record_engagement(cadence, data.touch_key, EventType.CLICKED, url=data.target_url)
        return RedirectResponse(data.target_url, status_code=302)

    @app.get("/admin/queue")
    def queue_counts(scope: Annotated[Scope, Depends(current_scope)]) -> StepCounts:
        return step_counts(scope)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    if redis_url and not redis_url.startswith("memory://"):
        from rq_dashboard_fast import RedisQueueDashboard

        app.mount("/rq", RedisQueueDashboard(redis_url, "/rq"))
    return app
