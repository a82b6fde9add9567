"""The playground's surfaces mode: the optimizer lab's 2-D functions, started where you click.

The trajectories come from :func:`descentlab.lab.surfaces.descend` — the engine's optimizer
objects stepping a point, as in ``descentlab surfaces`` — so the page shows exactly what the lab
measures. This module only validates the request and packs the answer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from descentlab.lab import surfaces as lab
from descentlab.playground.config import LIMITS, PlaygroundError
from descentlab.playground.trainer import heatmap

#: The contour image's resolution.
GRID = 96
#: Optimizers offered on surfaces (the lab's names; Adagrad's accumulator starts at 0 there).
OPTIMIZERS = tuple(lab.OPTIMIZER_SPECS)


def options() -> list[dict[str, Any]]:
    """What ``hello`` says about each surface."""
    out = []
    for name in lab.SURFACES:
        surface = lab.get(name)
        xmin, xmax, ymin, ymax = surface.box
        out.append({"name": name, "formula": surface.formula, "x": [xmin, xmax],
                    "y": [ymin, ymax], "start": list(surface.start),
                    "minimum": list(surface.minimum), "notes": surface.notes})
    return out


def _number(value: Any, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise PlaygroundError(f"{key} must be a number in [{low:g}, {high:g}]; got {value!r}.",
                              key)
    return float(value)


def trajectories(message: dict[str, Any]) -> dict[str, Any]:
    """The ``trajectories`` answer to a ``surface`` message (see docs/playground.md)."""
    name = message.get("surface")
    if name not in lab.SURFACES:
        raise PlaygroundError(f"surface {name!r} is not available; choose one of "
                              f"{', '.join(lab.SURFACES)}.", "surface")
    surface = lab.get(name)
    xmin, xmax, ymin, ymax = surface.box
    start = message.get("start")
    if start is None:
        start = surface.start
    elif not isinstance(start, list) or len(start) != 2:
        raise PlaygroundError(f"start must be [x, y] or null; got {start!r}.", "start")
    start = (_number(start[0], "start[0]", xmin, xmax), _number(start[1], "start[1]", ymin, ymax))
    steps = message.get("steps", 100)
    if isinstance(steps, bool) or not isinstance(steps, int) \
            or not 1 <= steps <= LIMITS["maxSurfaceSteps"]:
        raise PlaygroundError(f"steps must be a whole number from 1 to "
                              f"{LIMITS['maxSurfaceSteps']}; got {steps!r}.", "steps")
    runs = message.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= LIMITS["maxSurfaceRuns"]:
        raise PlaygroundError(f"runs must list 1 to {LIMITS['maxSurfaceRuns']} optimizers, each "
                              "{optimizer, learningRate}.", "runs")
    answers = []
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or set(run) - {"optimizer", "learningRate"}:
            raise PlaygroundError(f"runs[{i}] must be {{optimizer, learningRate}}; got {run!r}.",
                                  f"runs[{i}]")
        optimizer = run.get("optimizer")
        if optimizer not in OPTIMIZERS:
            raise PlaygroundError(f"runs[{i}].optimizer {optimizer!r} is not available; choose "
                                  f"one of {', '.join(OPTIMIZERS)}.", f"runs[{i}].optimizer")
        lr = _number(run.get("learningRate"), f"runs[{i}].learningRate", 1e-5, 10.0)
        with np.errstate(over="ignore", invalid="ignore"):
            path = lab.descend(surface, lab.make_optimizer(optimizer, lr), steps, start)
        points = np.where(np.isfinite(path.points), path.points, np.nan)
        answers.append({
            "optimizer": optimizer, "learningRate": lr,
            "path": [[_finite(x), _finite(y)] for x, y in points],
            "loss": [_finite(v) for v in path.values],
            "diverged": path.diverged_at is not None,
        })
    return {"type": "trajectories", "surface": name, "formula": surface.formula,
            "minimum": list(surface.minimum), "start": list(start), "steps": steps,
            "grid": contour(surface), "runs": answers}


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def contour(surface: lab.Surface) -> dict[str, Any]:
    """The surface over its box as a heatmap of log(1 + f − min f), scaled to [−1, 1]."""
    xmin, xmax, ymin, ymax = surface.box
    x = np.linspace(xmin, xmax, GRID)
    y = np.linspace(ymax, ymin, GRID)  # row 0 at the top
    xx, yy = np.meshgrid(x, y)
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(surface.value(xx, yy), dtype=np.float64)
    z = np.log1p(z - np.nanmin(z))
    top = float(np.nanmax(z)) or 1.0
    return {"size": GRID, "x": [xmin, xmax], "y": [ymin, ymax],
            "z": heatmap(z.ravel() / top * 2.0 - 1.0, GRID)}
