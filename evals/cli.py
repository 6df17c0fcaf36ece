"""``cadence eval``: the eval suites as commands (also ``python -m evals``).

::

    cadence eval send-time --dataset population.jsonl [--out DIR] [--seed N] [--bootstrap N]
    cadence eval personalization [--dataset PATH] [--out DIR] [--model NAME] [--deterministic]
    cadence eval agent [--scenarios PATH] [--out DIR] [--model NAME] [--fake]

Each prints a table, writes ``report.json`` and ``report.html`` under ``--out`` (default
``out/evals/<suite>``), and exits non-zero when the suite fails: a missed threshold
(personalization), a failed scenario or a malformed one (agent). Exit code 2 is a usage or
configuration error (e.g. a model that cannot be built).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["DEFAULT_OUT", "app"]

DEFAULT_OUT = Path("out") / "evals"

app = typer.Typer(
    help="Offline evals: send time, personalization and the agent.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Report directory (default: out/evals/<suite>).")
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="Chat model ('anthropic:claude-sonnet-4-5'); default: CADENCE_MODEL."
    ),
]


def _model(name: str | None) -> tuple[object | None, str | None]:
    from cadence.ai.models import load_chat_model
    from cadence.config import get_settings
    from cadence.errors import ConfigurationError

    chosen = name or get_settings().model
    try:
        return load_chat_model(chosen), chosen
    except ConfigurationError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=2) from None


@app.command("send-time")
def send_time(
    dataset: Annotated[
        Path,
        typer.Option("--dataset", exists=True, dir_okay=False, help="Population (JSON lines)."),
    ],
    out: OutOption = None,
    seed: Annotated[int, typer.Option(help="Seeds the model and the bootstrap.")] = 0,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap resamples per interval.")] = 1000,
) -> None:
    """Score the send-time model on a generated population, with 95% intervals."""
    from evals.send_time.runner import run_eval

    run_eval(
        dataset, out or DEFAULT_OUT / "send-time", seed=seed, bootstrap=bootstrap, console=console
    )


@app.command("personalization")
def personalization(
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", exists=True, dir_okay=False, help="Cases (JSON lines)."),
    ] = None,
    out: OutOption = None,
    model: ModelOption = None,
    deterministic: Annotated[
        bool, typer.Option(help="Evaluate the deterministic personalizer even with a model.")
    ] = False,
) -> None:
    """Score personalization on the dataset; exit 1 when a scorer misses its threshold."""
    from langchain_core.language_models import BaseChatModel

    from evals.personalization.runner import DEFAULT_DATASET, run_eval

    chat, _name = _model(model)
    run = run_eval(
        dataset or DEFAULT_DATASET,
        out or DEFAULT_OUT / "personalization",
        model=chat if isinstance(chat, BaseChatModel) else None,
        deterministic=deterministic,
        console=console,
    )
    if not run.passed:
        raise typer.Exit(code=1)


@app.command("agent")
def agent(
    scenarios: Annotated[
        Path | None,
        typer.Option("--scenarios", exists=True, dir_okay=False, help="Scenarios (JSON lines)."),
    ] = None,
    out: OutOption = None,
    model: ModelOption = None,
    fake: Annotated[
        bool, typer.Option("--fake", help="Replay each expected trajectory with a scripted model.")
    ] = False,
) -> None:
    """Run the agent scenarios (live with a model, or --fake); without either, validate them."""
    from langchain_core.language_models import BaseChatModel

    from evals.agent.evaluate import run_eval
    from evals.agent.scenarios import DEFAULT_SCENARIOS

    chat, name = (None, None) if fake else _model(model)
    run = run_eval(
        scenarios or DEFAULT_SCENARIOS,
        out or DEFAULT_OUT / "agent",
        model=chat if isinstance(chat, BaseChatModel) else None,
        model_name=name,
        fake=fake,
        console=console,
    )
    if not run.passed:
        raise typer.Exit(code=1)
