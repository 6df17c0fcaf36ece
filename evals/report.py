"""Shared report code for the evals: rich tables and progress, JSON files, and HTML with SVG charts.

Every eval prints a table, writes ``report.json`` and writes ``report.html``: one self-contained
page (inline CSS and SVG, no script, no network) with headline cards, a chart and tables. The
chart helpers return SVG text:

* :func:`interval_chart`: one bar per row with a 95% interval whisker (send time per segment);
* :func:`histogram_chart`: one small histogram of scores in [0, 1] per scorer (personalization);
* :func:`matrix_chart`: a pass/fail grid, rows by columns (agent scenarios by check).

Everything a page shows that came from data is HTML-escaped: eval datasets hold ``<script>`` on
purpose.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = [
    "Card",
    "Interval",
    "fmt_ci",
    "fmt_pct",
    "histogram_chart",
    "html_page",
    "html_table",
    "interval_chart",
    "jsonable",
    "matrix_chart",
    "print_table",
    "progress_bar",
    "write_html",
    "write_json",
]

Status = Literal["ok", "bad", "neutral"]
_GREEN, _RED, _GREY, _BLUE, _INK = "#2e7d4f", "#c0392b", "#9aa3ad", "#3b6ea8", "#1f2933"
_FONT = "font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif"


def fmt_pct(value: float | None, digits: int = 1, *, signed: bool = False) -> str:
    """``0.123`` as ``12.3%`` (``+12.3%`` when signed); ``n/a`` for None or NaN."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:{'+' if signed else ''}.{digits}f}%"


def fmt_ci(ci: Sequence[float | None] | None, *, signed: bool = False) -> str:
    """A ``[lo, hi]`` interval as ``[1.0%, 3.2%]``."""
    if not ci or len(ci) != 2:
        return "n/a"
    return f"[{fmt_pct(ci[0], signed=signed)}, {fmt_pct(ci[1], signed=signed)}]"


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` and paths as text, so JSON stays valid."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented, valid JSON (NaN as null); parents are created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def write_html(path: str | Path, page: str) -> Path:
    """Write an HTML page; parents are created."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    console: Console | None = None,
) -> Table:
    """Print a rich table (first column left-aligned, the others right-aligned) and return it."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    (console or Console()).print(table)
    return table


def progress_bar(console: Console | None = None) -> Progress:
    """A rich progress bar (description, bar, done/total, elapsed); use it as a context."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# --- SVG charts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """One row of an :func:`interval_chart`: a value and its interval, within a group."""

    label: str
    value: float
    lo: float | None = None
    hi: float | None = None
    note: str = ""
    group: str = ""


def _finite(*values: float | None) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def interval_chart(
    rows: Sequence[Interval],
    *,
    title: str,
    fmt: Callable[[float], str] = fmt_pct,
    reference: float | None = 0.0,
    width: int = 760,
) -> str:
    """Horizontal bars from ``reference`` (or the axis' left end) with 95% interval whiskers.

    Args:
        rows: The bars, in order; a change of ``group`` starts a labelled block.
        title: Shown above the chart.
        fmt: Formats values for the axis and the labels.
        reference: A vertical reference line, where bars start (e.g. 0 for a lift).
        width: SVG width in pixels.

    Returns:
        The ``<svg>`` element as text.
    """
    label_w, value_w, row_h, top = 190, 150, 22, 42
    plot_w = width - label_w - value_w - 10
    values = [v for r in rows for v in _finite(r.value, r.lo, r.hi)]
    if reference is not None:
        values.append(reference)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.05 or 0.05
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    parts: list[str] = []
    y = top
    group = None
    for row in rows:
        if row.group and row.group != group:
            group = row.group
            y += 6
            parts.append(
                f'<text x="4" y="{y + 12}" font-weight="600" fill="{_INK}">{escape(group)}</text>'
            )
            y += row_h
        mid = y + row_h / 2
        parts.append(
            f'<text x="{label_w - 8}" y="{mid + 4}" text-anchor="end" fill="{_INK}">'
            f"{escape(row.label)}</text>"
        )
        if math.isfinite(row.value):
            base = reference if reference is not None else lo
            x0, x1 = sorted((x(base), x(row.value)))
            colour = _GREEN if reference is None or row.value >= reference else _RED
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" '
                f'height="{row_h - 10}" fill="{colour}" opacity="0.75"><title>'
                f"{escape(row.label)}: {escape(fmt(row.value))}</title></rect>"
            )
            if (
                row.lo is not None
                and row.hi is not None
                and _finite(row.lo, row.hi)
                == [
                    row.lo,
                    row.hi,
                ]
            ):
                a, b = x(row.lo), x(row.hi)
                parts.append(
                    f'<path d="M{a:.1f},{mid:.1f}H{b:.1f}M{a:.1f},{mid - 5:.1f}V{mid + 5:.1f}'
                    f'M{b:.1f},{mid - 5:.1f}V{mid + 5:.1f}" stroke="{_INK}" stroke-width="1.4" '
                    'fill="none"/>'
                )
            text = fmt(row.value) + (f"  {row.note}" if row.note else "")
        else:
            text = "n/a" + (f"  {row.note}" if row.note else "")
        parts.append(
            f'<text x="{label_w + plot_w + 8}" y="{mid + 4}" fill="{_INK}">{escape(text)}</text>'
        )
        y += row_h
    axis_y = y + 4
    grid = []
    for t in _ticks(lo, hi):
        grid.append(
            f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{axis_y}" stroke="#e3e7eb"/>'
            f'<text x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#52606d" '
            f'font-size="11">{escape(fmt(t))}</text>'
        )
    if reference is not None:
        grid.append(
            f'<line x1="{x(reference):.1f}" y1="{top - 4}" x2="{x(reference):.1f}" '
            f'y2="{axis_y}" stroke="{_INK}" stroke-dasharray="3,3"/>'
        )
    height = axis_y + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12" style="{_FONT}" role="img">'
        f'<text x="4" y="20" font-size="15" font-weight="600" fill="{_INK}">{escape(title)}</text>'
        + "".join(grid)
        + "".join(parts)
        + "</svg>"
    )


def histogram_chart(
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    notes: Mapping[str, str] | None = None,
    bins: int = 10,
    width: int = 760,
) -> str:
    """Small multiples: one histogram of scores in [0, 1] per series (e.g. per scorer).

    Args:
        series: Name -> scores; an empty series is drawn as "no scores".
        title: Shown above the panels.
        notes: Name -> a line under the panel's name (e.g. its pass rate and threshold).
        bins: Bins over [0, 1]; a score of 1 falls in the last.
        width: SVG width in pixels.
    """
    cols = 3
    panel_w, panel_h, top = (width - 20) // cols, 150, 34
    rows = max(1, math.ceil(len(series) / cols))
    parts: list[str] = []
    for i, (name, scores) in enumerate(series.items()):
        px, py = 10 + (i % cols) * panel_w, top + (i // cols) * (panel_h + 14)
        counts = [0] * bins
        for s in scores:
            if math.isfinite(s):
                counts[min(bins - 1, max(0, int(s * bins)))] += 1
        peak = max(counts) or 1
        plot_x, plot_y, plot_w, plot_h = px + 6, py + 40, panel_w - 22, panel_h - 64
        parts.append(
            f'<text x="{px + 6}" y="{py + 14}" font-weight="600" fill="{_INK}">{escape(name)}'
            f'</text><text x="{px + 6}" y="{py + 29}" font-size="11" fill="#52606d">'
            f"{escape((notes or {}).get(name, f'n={len(scores)}'))}</text>"
        )
        bar_w = plot_w / bins
        for b, count in enumerate(counts):
            h = count / peak * plot_h
            share = (b + 0.5) / bins
            colour = _GREEN if share >= 0.8 else _RED if share < 0.5 else "#d68910"
            parts.append(
                f'<rect x="{plot_x + b * bar_w + 1:.1f}" y="{plot_y + plot_h - h:.1f}" '
                f'width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{colour}" opacity="0.8">'
                f"<title>{b / bins:.1f}-{(b + 1) / bins:.1f}: {count}</title></rect>"
            )
            if count:
                parts.append(
                    f'<text x="{plot_x + (b + 0.5) * bar_w:.1f}" y="{plot_y + plot_h - h - 3:.1f}"'
                    f' text-anchor="middle" font-size="10" fill="#52606d">{count}</text>'
                )
        if not scores:
            parts.append(
                f'<text x="{plot_x + plot_w / 2:.1f}" y="{plot_y + plot_h / 2:.1f}" '
                f'text-anchor="middle" fill="{_GREY}">no scores</text>'
            )
        base = plot_y + plot_h
        parts.append(
            f'<line x1="{plot_x}" y1="{base}" x2="{plot_x + plot_w}" y2="{base}" stroke="#52606d"/>'
            f'<text x="{plot_x}" y="{base + 13}" font-size="10" fill="#52606d">0</text>'
            f'<text x="{plot_x + plot_w}" y="{base + 13}" font-size="10" text-anchor="end" '
            f'fill="#52606d">1</text>'
        )
    height = top + rows * (panel_h + 14)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12" style="{_FONT}" role="img">'
        f'<text x="10" y="20" font-size="15" font-weight="600" fill="{_INK}">{escape(title)}</text>'
        + "".join(parts)
        + "</svg>"
    )


def matrix_chart(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: Mapping[tuple[str, str], bool | None],
    *,
    title: str,
    width: int = 760,
) -> str:
    """A grid of pass (green), fail (red) and not run (grey) cells, ``rows`` by ``cols``."""
    label_w, top, cell_h = 260, 56, 24
    cell_w = (width - label_w - 10) / max(1, len(cols))
    parts: list[str] = []
    for j, col in enumerate(cols):
        parts.append(
            f'<text x="{label_w + (j + 0.5) * cell_w:.1f}" y="{top - 8}" text-anchor="middle" '
            f'fill="{_INK}" font-weight="600">{escape(col)}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="{_INK}">'
            f"{escape(row)}</text>"
        )
        for j, col in enumerate(cols):
            value = cells.get((row, col))
            colour, mark = (
                (_GREY, "–") if value is None else (_GREEN, "✓") if value else (_RED, "✗")
            )
            cx = label_w + j * cell_w
            parts.append(
                f'<rect x="{cx + 2:.1f}" y="{y + 2}" width="{cell_w - 4:.1f}" height="{cell_h - 4}"'
                f' rx="3" fill="{colour}" opacity="0.85"/><text x="{cx + cell_w / 2:.1f}" '
                f'y="{y + 16}" text-anchor="middle" fill="#fff" font-weight="700">{mark}</text>'
            )
    height = top + len(rows) * cell_h + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12" style="{_FONT}" role="img">'
        f'<text x="4" y="20" font-size="15" font-weight="600" fill="{_INK}">{escape(title)}</text>'
        + "".join(parts)
        + "</svg>"
    )


# --- HTML ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A headline figure at the top of a page."""

    label: str
    value: str
    detail: str = ""
    status: Status = "neutral"


def html_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """An HTML table; every cell is escaped."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = f"""
body{{{_FONT};color:{_INK};margin:2rem auto;max-width:820px;padding:0 1rem;line-height:1.4}}
h1{{font-size:1.5rem;margin-bottom:.2rem}} h2{{font-size:1.1rem;margin-top:2rem}}
.sub{{color:#52606d;margin-top:0}} .cards{{display:flex;flex-wrap:wrap;gap:.6rem}}
.card{{border:1px solid #d9e2ec;border-radius:8px;padding:.6rem .8rem;min-width:150px;flex:1}}
.card .v{{font-size:1.35rem;font-weight:700}} .card .l{{font-size:.8rem;color:#52606d}}
.card .d{{font-size:.75rem;color:#52606d}} .ok{{border-left:5px solid {_GREEN}}}
.bad{{border-left:5px solid {_RED}}} .neutral{{border-left:5px solid {_BLUE}}}
table{{border-collapse:collapse;width:100%;font-size:.85rem}}
th,td{{border-bottom:1px solid #e3e7eb;padding:.25rem .4rem;text-align:left;vertical-align:top}}
th{{background:#f5f7fa}} svg{{max-width:100%;height:auto}}
"""


def html_page(
    title: str,
    *,
    subtitle: str = "",
    cards: Sequence[Card] = (),
    sections: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained HTML page: title, headline cards, then ``(heading, html)`` sections.

    Section bodies are trusted HTML (charts and tables from this module); titles, subtitles and
    cards are escaped.
    """
    card_html = "".join(
        f'<div class="card {c.status}"><div class="l">{escape(c.label)}</div>'
        f'<div class="v">{escape(c.value)}</div><div class="d">{escape(c.detail)}</div></div>'
        for c in cards
    )
    body = "".join(f"<h2>{escape(h)}</h2>{content}" for h, content in sections)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>'
        f'<div class="cards">{card_html}</div>{body}</body></html>\n'
    )
