"""``python -m evals ...``: the same commands as ``cadence eval ...``."""

from evals.cli import app

app(prog_name="python -m evals")
