"""What a sweep found: each optimizer's learning-rate sensitivity and best setting.

Trials that differ only in their seed form a **setting**; its numbers are the mean, minimum and
maximum over the seeds of the trials' final measurements (the last epoch run).

For each optimizer, the **sensitivity** is one point per learning rate: the setting at that rate
whose mean metric is best over the other settings (batch size, width, …) — a profile, so that a
sweep over widths still gives one curve per optimizer. A setting with a diverged seed has no
mean (``None``) and is shown as diverged.

The **best setting** of an optimizer has the best mean metric among the settings whose trials all
ran to their last epoch. The **good range** is the span of learning rates whose point is within
a factor :data:`GOOD_FACTOR` of the best loss (or, for accuracy, within :data:`GOOD_POINTS` of
the best accuracy): its width in decades, log10(high / low), is the robustness the chapter
claims for adaptive methods, measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: A rate is "good" when its mean final loss is at most this many times the best one …
GOOD_FACTOR = 2.0
#: … or, for the validation accuracy, at most this far below the best.
GOOD_POINTS = 0.01

_FINALS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


def setting_key(config: dict[str, Any]) -> str:
    """The configuration without its seed, as canonical JSON."""
    return json.dumps({k: v for k, v in config.items() if k != "seed"}, sort_keys=True)


def _stats(values: Sequence[float | None]) -> dict[str, float | None]:
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return {"mean": None, "min": None, "max": None}
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "min": float(array.min()), "max": float(array.max())}


def settings(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per setting (records grouped over seeds; failed trials left out)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec["status"] != "failed":
            groups.setdefault(setting_key(rec["config"]), []).append(rec)
    out = []
    for runs in groups.values():
        runs = sorted(runs, key=lambda r: r["config"]["seed"])
        config = {k: v for k, v in runs[0]["config"].items() if k != "seed"}
        entry: dict[str, Any] = {
            "config": config, "seeds": [r["config"]["seed"] for r in runs],
            "ids": [r["id"] for r in runs],
            "diverged": sum(bool(r["diverged"]) for r in runs),
            "complete": all(r["status"] == "ok" for r in runs)}
        for name in _FINALS:
            entry[name] = _stats([r["final"][name] for r in runs])
        out.append(entry)
    return out


def _better(metric: str, mode: str) -> Any:
    """Sort key: best first, settings without a mean last."""
    sign = 1.0 if mode == "min" else -1.0
    return lambda s: math.inf if s[metric]["mean"] is None else sign * s[metric]["mean"]


def good_range(points: Sequence[dict[str, Any]], metric: str, mode: str
               ) -> dict[str, Any] | None:
    """The learning rates whose mean metric is close to the best one (see the module)."""
    means = [(p["learning_rate"], p[metric]["mean"]) for p in points
             if p[metric]["mean"] is not None]
    if not means:
        return None
    if mode == "min":
        best = min(m for _, m in means)
        good = [lr for lr, m in means if m <= GOOD_FACTOR * best]
        rule = f"mean final {metric} ≤ {GOOD_FACTOR:g} × the best"
    else:
        best = max(m for _, m in means)
        good = [lr for lr, m in means if m >= best - GOOD_POINTS]
        rule = f"mean final {metric} ≥ the best − {GOOD_POINTS:g}"
    low, high = min(good), max(good)
    return {"low": low, "high": high, "decades": math.log10(high / low), "rates": len(good),
            "of": len(points), "rule": rule}


def summarize(records: Sequence[dict[str, Any]], metric: str, mode: str,
              optimizers: Sequence[str]) -> dict[str, Any]:
    """Per optimizer: sensitivity points, best setting, good range; and the trial counts."""
    every = settings(records)
    by_optimizer: dict[str, Any] = {}
    key = _better(metric, mode)
    for name in optimizers:
        mine = [s for s in every if s["config"]["optimizer"] == name]
        points = []
        for rate in sorted({s["config"]["learning_rate"] for s in mine}):
            at_rate = sorted((s for s in mine if s["config"]["learning_rate"] == rate), key=key)
            chosen = at_rate[0]
            points.append({"learning_rate": rate, "config": chosen["config"],
                           "seeds": len(chosen["seeds"]), "diverged": chosen["diverged"],
                           **{m: chosen[m] for m in _FINALS}})
        complete = sorted((s for s in mine if s["complete"] and s[metric]["mean"] is not None),
                          key=key)
        best = complete[0] if complete else None
        by_optimizer[name] = {
            "points": points,
            "best": None if best is None else {
                "config": best["config"], "ids": best["ids"],
                **{m: best[m] for m in _FINALS}},
            "good_range": good_range(points, metric, mode)}
    statuses = [r["status"] for r in records]
    return {"metric": metric, "mode": mode, "optimizers": by_optimizer,
            "trials": {s: statuses.count(s) for s in ("ok", "stopped", "failed")},
            "diverged": sum(bool(r["diverged"]) for r in records)}
