"""Score :class:`cadence.ai.sendtime.SendTimeModel` on a send-time dataset with known truth.

The model is fitted on every contact's history (the whole file is one workspace), then asked for
one slot per contact inside the contact's window (Monday-Friday 08-18 local by default). With
``truth[c]`` the contact's true reply probability per local hour of the week:

* ``lift_over_baseline`` = mean truth at the recommended slots / mean truth at Tuesday 10:00
  local (the baseline slot), **minus 1** (0.10 means 10% more replies than always-Tuesday-10:00).
* ``oracle_share`` = sum of truth at the recommended slots / sum of each contact's best truth
  inside their window (1.0 = perfect).
* ``..._cold``: the same over contacts with no history.
* ``ci``: 95% percentile-bootstrap intervals over contacts for each of those four metrics.
* ``segments``: the same figures by role family (from the title) and by history size.

Usage::

    python evals/send_time/score.py DATASET [--seed 0] [--bootstrap 1000] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cadence.ai.sendtime import (
    ContactProfile,
    EngagementEvent,
    SendTimeModel,
    Window,
    role_family,
)

__all__ = ["BASELINE_SLOT", "HISTORY_BUCKETS", "load_dataset", "main", "run", "write_outputs"]

BASELINE_SLOT = 1 * 24 + 10  # Tuesday 10:00 local
HISTORY_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 0),
    ("1-9", 1, 9),
    ("10-19", 10, 19),
    ("20-39", 20, 39),
    ("40+", 40, 1 << 30),
)
METRICS = ("lift_over_baseline", "oracle_share", "lift_over_baseline_cold", "oracle_share_cold")
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as :func:`run` moves through its stages."""
_PROGRESS_EVERY = 100  # contacts between progress calls while recommending

Array = NDArray[np.float64]


def load_dataset(
    path: str | Path,
) -> tuple[list[ContactProfile], list[EngagementEvent], list[Window], Array, list[int]]:
    """Read a dataset.

    Args:
        path: JSON-lines file, one contact per line.

    Returns:
        ``(contacts, events, windows, truth (n, 168), history sizes)``.
    """
    contacts: list[ContactProfile] = []
    events: list[EngagementEvent] = []
    windows: list[Window] = []
    truth: list[list[float]] = []
    sizes: list[int] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            c = row["contact"]
            contact = ContactProfile(
                id=str(c["id"]),
                timezone=str(c["timezone"]),
                title=c.get("title"),
                company=c.get("company"),
                domain=c.get("domain"),
            )
            contacts.append(contact)
            history = row.get("history") or []
            sizes.append(len(history))
            for ev in history:
                at = datetime.fromisoformat(ev["at"])
                events.append(EngagementEvent(contact.id, ev["type"], at))
            w = row.get("window")
            windows.append(
                Window(
                    frozenset(int(d) for d in w["days"]), int(w["start_hour"]), int(w["end_hour"])
                )
                if w
                else Window()
            )
            truth.append([float(x) for x in row["truth"]["reply_prob_by_local_hour_of_week"]])
    return contacts, events, windows, np.asarray(truth, dtype=np.float64).reshape(-1, 168), sizes


def _ratio(num: Array, den: Array) -> float:
    d = float(den.sum())
    return float(num.sum()) / d if d > 0 else float("nan")


def _figures(rec: Array, base: Array, best: Array) -> dict[str, float | int]:
    return {
        "n": len(rec),
        "lift_over_baseline": _ratio(rec, base) - 1.0,
        "oracle_share": _ratio(rec, best),
        "mean_truth_recommended": float(rec.mean()) if len(rec) else float("nan"),
        "mean_truth_baseline": float(base.mean()) if len(base) else float("nan"),
        "mean_truth_oracle": float(best.mean()) if len(best) else float("nan"),
    }


def _bootstrap(
    rec: Array, base: Array, best: Array, rng: np.random.Generator, draws: int
) -> tuple[list[float], list[float]]:
    """95% percentile intervals of (lift, oracle share)."""
    n = len(rec)
    if n == 0 or draws <= 0:
        return [float("nan")] * 2, [float("nan")] * 2
    lifts = np.empty(draws)
    shares = np.empty(draws)
    for lo in range(0, draws, 100):
        hi = min(draws, lo + 100)
        idx = rng.integers(0, n, (hi - lo, n))
        r, b, o = rec[idx].sum(axis=1), base[idx].sum(axis=1), best[idx].sum(axis=1)
        lifts[lo:hi] = r / np.where(b > 0, b, np.nan) - 1.0
        shares[lo:hi] = r / np.where(o > 0, o, np.nan)
    q = (2.5, 97.5)
    return (
        [float(x) for x in np.nanpercentile(lifts, q)],
        [float(x) for x in np.nanpercentile(shares, q)],
    )


def run(
    dataset_path: str | Path,
    *,
    seed: int = 0,
    bootstrap: int = 1000,
    explore: float | None = None,
    progress: Progress | None = None,
    segment_ci: bool = False,
) -> dict[str, Any]:
    """Fit, recommend and score one dataset.

    Args:
        dataset_path: The JSON-lines dataset.
        seed: Seeds the model's exploration and the bootstrap.
        bootstrap: Bootstrap resamples for the confidence intervals (0 to skip).
        explore: Overrides the model's exploration temperature (``None`` keeps its default).
        progress: Called with ``(stage, done, total)``: stages ``load``, ``fit``,
            ``recommend`` (every 100 contacts) and ``score``.
        segment_ci: Also bootstrap each segment's lift and oracle share; adds the key
            ``segment_ci`` (``role``/``history``/``level`` -> name -> metric -> ``[lo, hi]``).

    Returns:
        A JSON-able dict: the four metrics, ``n_contacts``, ``n_cold``, ``ci`` (metric ->
        ``[lo, hi]``), ``segments`` (``role`` and ``history`` -> name -> figures), ``model``,
        ``timing_s`` and ``recommendations`` (``id``, ``day``, ``hour``, ``slot``, ``level``).
    """

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    t0 = time.perf_counter()
    report("load", 0, 1)
    contacts, events, windows, truth, sizes = load_dataset(dataset_path)
    t_load = time.perf_counter()
    report("fit", 0, 1)
    model = (
        SendTimeModel(seed=seed) if explore is None else SendTimeModel(seed=seed, explore=explore)
    )
    model.fit(events, contacts)
    t_fit = time.perf_counter()
    recs = []
    for i, (c, w) in enumerate(zip(contacts, windows, strict=True)):
        if i % _PROGRESS_EVERY == 0:
            report("recommend", i, len(contacts))
        recs.append(model.recommend(c, w))
    report("recommend", len(contacts), len(contacts))
    t_rec = time.perf_counter()
    report("score", 0, 1)

    n = len(contacts)
    rows = np.arange(n)
    slots = np.array([r.slot for r in recs], dtype=np.int64)
    rec_truth = truth[rows, slots]
    base_truth = truth[:, BASELINE_SLOT]
    best_truth = np.array(
        [truth[i, w.slots()].max() for i, w in enumerate(windows)], dtype=np.float64
    )
    cold = np.array([s == 0 for s in sizes], dtype=np.bool_)

    overall = _figures(rec_truth, base_truth, best_truth)
    cold_fig = _figures(rec_truth[cold], base_truth[cold], best_truth[cold])
    rng = np.random.default_rng(seed)
    ci_all = _bootstrap(rec_truth, base_truth, best_truth, rng, bootstrap)
    ci_cold = _bootstrap(rec_truth[cold], base_truth[cold], best_truth[cold], rng, bootstrap)

    roles = np.array([role_family(c.title) for c in contacts])
    by_role = {
        str(r): _figures(rec_truth[roles == r], base_truth[roles == r], best_truth[roles == r])
        for r in sorted(set(roles.tolist()))
    }
    size_arr = np.asarray(sizes)
    by_history: dict[str, dict[str, float | int]] = {}
    for name, lo, hi in HISTORY_BUCKETS:
        m = (size_arr >= lo) & (size_arr <= hi)
        if m.any():
            by_history[name] = _figures(rec_truth[m], base_truth[m], best_truth[m])
    levels = np.array([r.level for r in recs])
    by_level = {
        str(lv): _figures(
            rec_truth[levels == lv], base_truth[levels == lv], best_truth[levels == lv]
        )
        for lv in sorted(set(levels.tolist()))
    }
    distinct = len(set(slots.tolist()))
    extra: dict[str, Any] = {}
    if segment_ci:
        masks = {
            "role": {r: roles == r for r in by_role},
            "history": {
                name: (size_arr >= lo) & (size_arr <= hi)
                for name, lo, hi in HISTORY_BUCKETS
                if name in by_history
            },
            "level": {lv: levels == lv for lv in by_level},
        }
        extra["segment_ci"] = {
            group: {
                name: dict(
                    zip(
                        ("lift_over_baseline", "oracle_share"),
                        _bootstrap(rec_truth[m], base_truth[m], best_truth[m], rng, bootstrap),
                        strict=True,
                    )
                )
                for name, m in group_masks.items()
            }
            for group, group_masks in masks.items()
        }
    report("score", 1, 1)
    t_end = time.perf_counter()
    return {
        "dataset": str(dataset_path),
        "n_contacts": n,
        "n_cold": int(cold.sum()),
        "lift_over_baseline": overall["lift_over_baseline"],
        "oracle_share": overall["oracle_share"],
        "lift_over_baseline_cold": cold_fig["lift_over_baseline"],
        "oracle_share_cold": cold_fig["oracle_share"],
        "ci": {
            "lift_over_baseline": ci_all[0],
            "oracle_share": ci_all[1],
            "lift_over_baseline_cold": ci_cold[0],
            "oracle_share_cold": ci_cold[1],
        },
        "definitions": {
            "lift_over_baseline": "mean truth at recommended slot / mean truth at Tuesday 10:00 "
            "local, minus 1",
            "oracle_share": "sum truth at recommended slot / sum of best in-window truth",
            "baseline_slot": BASELINE_SLOT,
            "ci": "95% percentile bootstrap over contacts",
        },
        "overall": overall,
        "cold": cold_fig,
        "segments": {"role": by_role, "history": by_history, "level": by_level},
        "distinct_slots_recommended": distinct,
        "model": {"seed": seed, "explore": model.explore, "kappa": model.kappa},
        "bootstrap": bootstrap,
        "timing_s": {
            "load": t_load - t0,
            "fit": t_fit - t_load,
            "recommend": t_rec - t_fit,
            "score": t_end - t_rec,
            "total": t_end - t0,
        },
        "recommendations": [
            {"id": c.id, "day": r.day, "hour": r.hour, "slot": r.slot, "level": r.level}
            for c, r in zip(contacts, recs, strict=True)
        ],
        **extra,
    }


def write_outputs(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.json`` (everything but the recommendations) and ``recommendations.jsonl``.

    Args:
        result: What :func:`run` returned.
        out_dir: Directory, created if missing.

    Returns:
        ``{"report": path, "recommendations": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {k: v for k, v in result.items() if k != "recommendations"}
    report_path = out / "report.json"
    report_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    recs_path = out / "recommendations.jsonl"
    with recs_path.open("w", encoding="utf-8") as fh:
        for rec in result.get("recommendations", []):
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    return {"report": report_path, "recommendations": recs_path}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: score a dataset, print the headline figures."""
    ap = argparse.ArgumentParser(description="Score the send-time model on a dataset.")
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--explore", type=float, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    result = run(args.dataset, seed=args.seed, bootstrap=args.bootstrap, explore=args.explore)
    if args.out is not None:
        write_outputs(result, args.out)
    summary = {k: result[k] for k in ("n_contacts", "n_cold", *METRICS, "ci", "timing_s")}
    summary["kappa"] = result["model"]["kappa"]
    summary["distinct_slots_recommended"] = result["distinct_slots_recommended"]
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
