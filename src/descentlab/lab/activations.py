"""Activation functions under the microscope: their derivatives, and what weight scale does.

Two experiments, both computed with the engine's own ``descentlab.activations`` (the same code
that trains networks), both returning JSON-able dicts:

* :func:`activation_curves` — f(x) and f'(x) on a plotting grid, and the maximum of f' measured
  on a fine grid next to the documented one (``max_derivative``): sigmoid 0.25 at x = 0 (not
  "about 0.3"), tanh 1 at 0, relu exactly 1 for x > 0, softplus' derivative is the sigmoid
  (0.5 at 0, → 1 as x → ∞, never reached). Through L sigmoid layers the derivative factors
  multiply to at most 0.25^L.

  Schema ``descentlab.activation_curves/1``::

      {"schema": "descentlab.activation_curves/1", "library": {...},
       "x": [...],                                  # the plotting grid
       "functions": {"sigmoid": {"y": [...], "dy": [...],
                                 "max_derivative": {"measured": 0.25, "at": 0.0,
                                                    "documented": 0.25,
                                                    "abs_difference": ..,
                                                    "reached": true}},  # false: a supremum
                     ...},
       "measure_grid": {"min": -20, "max": 20, "points": ..},
       "sigmoid_product_bound": {"depths": [1, ...], "bound": [0.25, 0.0625, ...]}}

* :func:`weight_scale_experiment` — *Deep Learning from Scratch*, ch. 6: 1000 samples of 100
  standard-normal features pass through 5 layers of 100 units, no bias, weights N(0, s²).
  With n inputs per unit, Var(z) = n·s²·E[a²]: s = 1 makes z huge (sigmoid and tanh saturate,
  relu explodes); s = 0.01 makes it tiny (sigmoid collapses to 0.5, relu and tanh to 0);
  Xavier s = √(1/n) keeps a spread for sigmoid/tanh and He s = √(2/n) keeps relu's scale
  (half of relu's units are off, hence the 2).

  Schema ``descentlab.weight_scale/1``::

      {"schema": "descentlab.weight_scale/1", "library": {...},
       "configuration": {"samples": 1000, "units": 100, "layers": 5, "bins": 30, "seed": 0,
                         "activations": [...], "scales": [...]},
       "runs": [{"activation": "sigmoid", "scale": "1", "std": 1.0,
                 "edges": [...],                   # bins + 1 edges shared by the 5 layers
                 "layers": [{"counts": [...], "mean": .., "std": .., "min": .., "max": ..,
                             "near_0": ..,         # share with |a| < 0.05
                             "near_1": ..,         # share with |a| > 0.95 (saturated sigmoid
                                                   #   or tanh: ±1)
                             "near_half": ..,      # share with |a − 0.5| < 0.05
                             "zero": ..},          # share exactly 0 (dead relu outputs)
                            ...]},
                ...]}

  Histogram ranges: sigmoid [0, 1], tanh [−1, 1] (its negative half is never clipped), relu
  [0, largest output over the 5 layers of that run].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import descentlab
from descentlab import activations as activations_module
from descentlab.errors import ConfigError

CURVES_SCHEMA = "descentlab.activation_curves/1"
WEIGHT_SCALE_SCHEMA = "descentlab.weight_scale/1"

MAIN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
EXTRA_ACTIVATIONS = ("leaky_relu", "elu", "gelu", "silu")

#: Where the derivative's maximum lies, as the engine's docstrings state it (None: a supremum
#: approached as x → ∞, or reached on all of x > 0).
DOCUMENTED_ARGMAX: dict[str, float | None] = {
    "sigmoid": 0.0, "tanh": 0.0, "relu": None, "softplus": None, "leaky_relu": None,
    "elu": None, "gelu": math.sqrt(2.0), "silu": 2.3994,
}

#: The named weight scales of the chapter: s = 1, s = 0.01, Xavier √(1/n), He √(2/n).
SCALES = ("1", "0.01", "xavier", "he")


def _library() -> dict[str, str]:
    return {"name": "descentlab", "version": descentlab.__version__}


# ---------------------------------------------------------------------------------------------
# f and f'
# ---------------------------------------------------------------------------------------------
def activation_curves(names: Sequence[str] = MAIN_ACTIVATIONS + EXTRA_ACTIVATIONS,
                      x_min: float = -6.0, x_max: float = 6.0, points: int = 601,
                      measure_range: float = 20.0, measure_step: float = 1e-4,
                      max_depth: int = 10) -> dict[str, Any]:
    """f and f' of each activation on ``[x_min, x_max]``, and max f' measured on a fine grid.

    The maximum is measured on ``[−measure_range, measure_range]`` with spacing
    ``measure_step`` in float64 (the grid contains 0 exactly). It is compared with the engine's
    ``max_derivative``; ``reached`` is False when the largest value lies on the edge of the
    grid: the documented value is then a supremum that no finite x attains (softplus:
    σ(20) = 1 − 2·10⁻⁹).
    """
    if not x_max > x_min or points < 2:
        raise ConfigError("activation_curves needs x_min < x_max and at least 2 points.")
    x = np.linspace(x_min, x_max, int(points), dtype=np.float64)
    half = int(round(measure_range / measure_step))
    fine = np.arange(-half, half + 1, dtype=np.float64) * measure_step
    functions: dict[str, Any] = {}
    for name in names:
        activation = activations_module.hidden(name)
        d_fine = activation.derivative(fine)
        k = int(np.argmax(d_fine))
        measured = float(d_fine[k])
        documented = float(activation.max_derivative)
        functions[name] = {
            "y": activation(x).tolist(),
            "dy": activation.derivative(x).tolist(),
            "max_derivative": {
                "measured": measured, "at": float(fine[k]), "documented": documented,
                "documented_at": DOCUMENTED_ARGMAX.get(name),
                "abs_difference": abs(measured - documented),
                # At the edge of the grid the maximum is still growing: a supremum (x → ∞).
                "reached": bool(0 < k < fine.size - 1),
            },
        }
    depths = list(range(1, int(max_depth) + 1))
    return {
        "schema": CURVES_SCHEMA, "library": _library(), "x": x.tolist(),
        "functions": functions,
        "measure_grid": {"min": float(fine[0]), "max": float(fine[-1]), "points": int(fine.size)},
        "sigmoid_product_bound": {"depths": depths, "bound": [0.25 ** d for d in depths]},
    }


# ---------------------------------------------------------------------------------------------
# Weight scale (Deep Learning from Scratch, ch. 6)
# ---------------------------------------------------------------------------------------------
def weight_std(scale: str | float, units: int) -> float:
    """The standard deviation s of the weights for a named scale and ``units`` inputs per unit."""
    if scale == "xavier":
        return math.sqrt(1.0 / units)
    if scale == "he":
        return math.sqrt(2.0 / units)
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise ConfigError(f"unknown weight scale {scale!r}; use a number or one of "
                          f"{', '.join(SCALES)}.") from None
    if not value > 0:
        raise ConfigError(f"a weight scale must be positive; got {scale!r}.")
    return value


def _histogram_range(activation: str, outputs: list[np.ndarray]) -> tuple[float, float]:
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    low = min(float(a.min()) for a in outputs)
    high = max(float(a.max()) for a in outputs)
    if activation == "relu" or low >= 0:
        return 0.0, high if high > 0 else 1.0
    return low, high


def _layer_summary(a: np.ndarray, edges: np.ndarray) -> dict[str, Any]:
    counts, _ = np.histogram(a, bins=edges)
    magnitude = np.abs(a)
    return {
        "counts": counts.tolist(),
        "mean": float(a.mean()), "std": float(a.std()),
        "min": float(a.min()), "max": float(a.max()),
        "near_0": float(np.mean(magnitude < 0.05)),
        "near_1": float(np.mean(magnitude > 0.95)),
        "near_half": float(np.mean(np.abs(a - 0.5) < 0.05)),
        "zero": float(np.mean(a == 0.0)),
    }


def weight_scale_experiment(activations: Sequence[str] = ("sigmoid", "tanh", "relu"),
                            scales: Sequence[str | float] = SCALES, samples: int = 1000,
                            units: int = 100, layers: int = 5, bins: int = 30,
                            seed: int = 0) -> dict[str, Any]:
    """Activations of ``layers`` bias-free layers of ``units`` units, weights N(0, s²).

    One seeded draw serves every run: the input X (samples × units, standard normal) and one
    standard-normal matrix Zₗ per layer, so that the weights Wₗ = s·Zₗ differ between runs
    only by the scale s. Computed in float64.
    """
    for value, what in ((samples, "samples"), (units, "units"), (layers, "layers"),
                        (bins, "bins")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{what} must be a positive integer; got {value!r}.")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, units))
    standard = [rng.standard_normal((units, units)) for _ in range(layers)]
    runs = []
    for name in activations:
        activation = activations_module.hidden(name)
        for scale in scales:
            s = weight_std(scale, units)
            a, outputs = x, []
            for z_matrix in standard:
                a = activation(a @ (s * z_matrix))
                outputs.append(a)
            edges = np.linspace(*_histogram_range(activation.name, outputs), bins + 1)
            runs.append({"activation": name, "scale": str(scale), "std": s,
                         "edges": edges.tolist(),
                         "layers": [_layer_summary(out, edges) for out in outputs]})
    return {
        "schema": WEIGHT_SCALE_SCHEMA, "library": _library(),
        "configuration": {"samples": samples, "units": units, "layers": layers, "bins": bins,
                          "seed": seed, "activations": list(activations),
                          "scales": [str(s) for s in scales]},
        "runs": runs,
    }


def find_run(results: dict[str, Any], activation: str, scale: str) -> dict[str, Any]:
    """The run of one activation × scale in :func:`weight_scale_experiment`'s results."""
    for run in results["runs"]:
        if run["activation"] == activation and run["scale"] == str(scale):
            return run
    raise ConfigError(f"no weight-scale run for {activation} with scale {scale!r}.")
