"""``cadence inbound``: read the mail that comes back (replies, bounces, auto-replies) from IMAP.

The sub-app is mounted by ``cadence.cli`` with ``app.add_typer(inbound_app, name="inbound")``.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cadence.errors import CadenceError, ConfigurationError

__all__ = ["SecurityChoice", "inbound_app", "run_imap_command"]

inbound_app = typer.Typer(
    help="Mail that comes back to reps' mailboxes: replies, bounces, auto-replies.",
    no_args_is_help=True,
)


@inbound_app.callback()
def _group() -> None:
    """Mail that comes back to reps' mailboxes: replies, bounces, auto-replies."""


class SecurityChoice(StrEnum):
    SSL = "ssl"
    STARTTLS = "starttls"
    PLAIN = "plain"


def run_imap_command(
    *,
    host: str,
    user: str,
    password: str,
    workspace_id: int,
    port: int | None = None,
    mailbox: str = "INBOX",
    security: SecurityChoice = SecurityChoice.SSL,
    ca_file: Path | None = None,
    loop_seconds: float | None = None,
    database_url: str | None = None,
    max_polls: int | None = None,
    echo: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll one IMAP mailbox once, or every ``loop_seconds`` until interrupted.

    In a loop a failed poll (server away, network down) is reported and tried again at the next
    turn; a single poll lets the error out.

    Args:
        host: IMAP server name.
        user: Login name.
        password: The password (the CLI reads it from an environment variable).
        workspace_id: The workspace the mailbox belongs to.
        port: Server port; the security's default when None.
        mailbox: Mailbox to read.
        security: ``ssl``, ``starttls`` or ``plain``.
        ca_file: PEM file of certificate authorities to trust instead of the system's.
        loop_seconds: Seconds between polls; None polls once.
        database_url: Overrides CADENCE_DATABASE_URL.
        max_polls: Stop after this many polls (for tests and supervised runs).
        echo: Where progress lines go.
        sleep: How to wait between polls.

    Returns:
        How many messages were ingested in all.

    Raises:
        MailboxError: a single poll could not read the mailbox.
        ConfigurationError: the CA file cannot be read.
    """
    from cadence.config import Settings, get_settings
    from cadence.inbound.imap import poll_mailbox
    from cadence.service.context import Cadence

    settings = Settings(database_url=database_url) if database_url else get_settings()
    context = _context(ca_file)
    app = Cadence.from_settings(settings)
    total = polls = 0
    try:
        while True:
            polls += 1
            try:
                result = poll_mailbox(
                    app,
                    workspace_id,
                    host=host,
                    user=user,
                    password=password,
                    port=port,
                    mailbox=mailbox,
                    security=security.value,
                    ssl_context=context,
                )
            except CadenceError as exc:
                if loop_seconds is None:
                    raise
                echo(f"error: {exc.message}")
            else:
                total += result.fetched
                counts = ", ".join(f"{n} {a.value}" for a, n in sorted(result.actions.items()))
                start = " (read from the start)" if result.reset and result.fetched else ""
                echo(
                    f"{mailbox}: {result.fetched} new{start}"
                    f"{f' ({counts})' if counts else ''}, last UID {result.last_uid}"
                )
            if loop_seconds is None or (max_polls is not None and polls >= max_polls):
                return total
            sleep(loop_seconds)
    except KeyboardInterrupt:
        return total
    finally:
        app.db.dispose()


def _context(ca_file: Path | None) -> ssl.SSLContext | None:
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"ca-file {ca_file}: {exc}") from exc


@inbound_app.command("imap")
def imap(
    host: Annotated[str, typer.Option(help="IMAP server name.")],
    user: Annotated[str, typer.Option(help="Login name.")],
    password_env: Annotated[
        str, typer.Option(help="Name of the environment variable that holds the password.")
    ],
    workspace: Annotated[int, typer.Option(help="Workspace id the mailbox belongs to.")],
    mailbox: Annotated[str, typer.Option(help="Mailbox to read.")] = "INBOX",
    port: Annotated[int | None, typer.Option(help="Port (993 for ssl, else 143).")] = None,
    security: Annotated[
        SecurityChoice, typer.Option(help="ssl (implicit TLS), starttls, or plain.")
    ] = SecurityChoice.SSL,
    ca_file: Annotated[
        Path | None, typer.Option(help="PEM certificate authorities to trust instead.")
    ] = None,
    loop: Annotated[
        float | None, typer.Option(help="Poll every this many seconds until interrupted.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Overrides CADENCE_DATABASE_URL.")
    ] = None,
) -> None:
    """Ingest new mail from an IMAP mailbox: replies complete, bounces stop, auto-replies pause."""
    password = os.environ.get(password_env)
    if not password:
        typer.echo(f"error: environment variable {password_env} is not set", err=True)
        raise typer.Exit(code=2)
    try:
        run_imap_command(
            host=host,
            user=user,
            password=password,
            workspace_id=workspace,
            port=port,
            mailbox=mailbox,
            security=security,
            ca_file=ca_file,
            loop_seconds=loop,
            database_url=database_url,
            echo=typer.echo,
        )
    except CadenceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
