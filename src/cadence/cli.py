"""The ``cadence`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cadence.config import Settings, get_settings
from cadence.errors import CadenceError
from cadence.inbound.cli import inbound_app

app = typer.Typer(help="Cadence: outreach sequences for a CRM.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(inbound_app, name="inbound")
console = Console()


def _fail(exc: CadenceError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: Annotated[
        str | None, typer.Option(help="Overrides CADENCE_DATABASE_URL.")
    ] = None,
) -> None:
    """Upgrade the database schema (Alembic) to the newest revision."""
    from cadence.store.db import Database, current_revision, upgrade

    url = database_url or get_settings().database_url
    try:
        db = Database(url)
        upgrade(db.engine, revision)
        console.print(
            f"schema at revision [bold]{current_revision(db.engine)}[/bold] ({db.dialect})"
        )
        db.dispose()
    except CadenceError as exc:
        raise _fail(exc) from None


@app.command()
def demo(
    database: Annotated[Path, typer.Option(help="SQLite file to (re)create.")] = Path(
        "cadence-demo.db"
    ),
) -> None:
    """Run the demo: sequences, a worker, an SMTP sink and a simulated week, end to end."""
    from cadence.demo import run_demo

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}")
    try:
        run_demo(settings, console)
    except CadenceError as exc:
        raise _fail(exc) from None


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
    promoter: Annotated[bool, typer.Option(help="Run the promoter in this process.")] = True,
    fork: Annotated[bool, typer.Option(help="Fork a work horse per job (RQ's Worker).")] = False,
) -> None:
    """Run an RQ worker on crm:sequences, with the scheduler and the promoter."""
    import logging

    from cadence.engine.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run_worker(burst=burst, promoter=promoter, fork=fork)
    except CadenceError as exc:
        raise _fail(exc) from None


@app.command()
def promote() -> None:
    """Run the promoter once: move due steps into RQ, re-queue vanished ones, sweep stuck sends."""
    from cadence.engine import runtime
    from cadence.engine.promoter import promote as run_promote

    try:
        stats = run_promote(runtime.configure(runtime.from_settings()))
    except CadenceError as exc:
        raise _fail(exc) from None
    console.print(stats)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app (unsubscribe links, admin queue counts, the RQ dashboard at /rq)."""
    import uvicorn

    from cadence.engine.connection import DEFAULT_LOCAL_REDIS
    from cadence.web import create_app

    settings = get_settings()
    redis_url = DEFAULT_LOCAL_REDIS if settings.redis_url == "auto" else settings.redis_url
    uvicorn.run(create_app(redis_url=redis_url), host=host, port=port)


@app.command()
def chat(
    workspace: Annotated[int, typer.Option(help="The workspace to act in.")],
    user: Annotated[str, typer.Option(help="Who is talking (recorded in the audit log).")] = "rep",
    timezone: Annotated[str, typer.Option(help="Your time zone, for times in answers.")] = "UTC",
    thread: Annotated[str | None, typer.Option(help="Resume this conversation thread.")] = None,
) -> None:
    """Talk to the Cadence agent in the terminal (needs CADENCE_MODEL)."""
    from cadence.graph.chat import run_chat

    raise typer.Exit(
        code=run_chat(workspace_id=workspace, user=user, timezone=timezone, thread_id=thread)
    )


@app.command(
    "eval",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def eval_(ctx: typer.Context) -> None:
    """Run an eval suite: send-time, personalization or agent (see `cadence eval --help`)."""
    from evals.cli import app as evals_app

    evals_app(args=ctx.args, prog_name="cadence eval")


@app.command()
def version() -> None:
    """Print Cadence's version."""
    from cadence import __version__

    console.print(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
