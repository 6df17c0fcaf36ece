"""The shared report helpers: valid JSON, escaped self-contained HTML, SVG charts."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from evals.report import (
    Card,
    Interval,
    fmt_ci,
    fmt_pct,
    histogram_chart,
    html_page,
    html_table,
    interval_chart,
    jsonable,
    matrix_chart,
    write_json,
)


def _strict_loads(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_percentages_and_intervals_format_and_survive_nan() -> None:
    assert fmt_pct(0.1234) == "12.3%"
    assert fmt_pct(0.05, signed=True) == "+5.0%"
    assert fmt_pct(float("nan")) == "n/a" and fmt_pct(None) == "n/a"
    assert fmt_ci([0.01, 0.032]) == "[1.0%, 3.2%]"
    assert fmt_ci(None) == "n/a"


def test_json_reports_are_strictly_valid_even_with_nan(tmp_path: Path) -> None:
    data = {"lift": float("nan"), "ci": [float("-inf"), 0.2], "path": tmp_path, "n": 3}
    path = write_json(tmp_path / "sub" / "report.json", data)
    loaded = _strict_loads(path.read_text())
    assert loaded == {"lift": None, "ci": [None, 0.2], "path": str(tmp_path), "n": 3}
    assert jsonable((1.0, math.inf)) == [1.0, None]


def test_interval_chart_draws_a_bar_and_whisker_per_row_and_escapes_labels() -> None:
    rows = [
        Interval("all", 0.05, 0.02, 0.08, "n=300", "Overall"),
        Interval("<script>x</script>", -0.01, -0.03, 0.01, "n=12", "By role"),
        Interval("empty", float("nan"), None, None, "n=0", "By role"),
    ]
    svg = interval_chart(rows, title="Lift & more", reference=0.0)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 2  # the NaN row has no bar
    assert svg.count('stroke-width="1.4"') == 2  # two whiskers
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Lift &amp; more" in svg and "n/a" in svg


def test_histogram_puts_each_score_in_its_bin() -> None:
    svg = histogram_chart({"spam": [1.0, 1.0, 0.0, 0.55], "empty": []}, title="Scores", bins=10)
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert "0.9-1.0: 2" in titles and "0.0-0.1: 1" in titles and "0.5-0.6: 1" in titles
    assert "no scores" in svg


def test_matrix_marks_pass_fail_and_not_run() -> None:
    svg = matrix_chart(
        ["a", "b"], ["x", "y"], {("a", "x"): True, ("a", "y"): False}, title="checks"
    )
    assert svg.count("✓") == 1 and svg.count("✗") == 1 and svg.count("–") == 2


def test_html_pages_are_self_contained_and_escape_data() -> None:
    chart = interval_chart([Interval("a", 0.1)], title="t")
    page = html_page(
        "Eval <b>",
        subtitle="from <img src=x>",
        cards=[Card("lift", "+5%", "CI [1%, 9%]", "ok")],
        sections=[("Chart", chart), ("Table", html_table(["k"], [["<script>alert(1)</script>"]]))],
    )
    assert "<svg" in page and page.startswith("<!doctype html>")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Nothing is fetched: no external stylesheet, script or image.
    assert not re.search(r"<(link|script|img)\b", page)
    assert not re.search(r"(src|href)=\"https?://", page)
