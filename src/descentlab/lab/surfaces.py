"""2-D loss surfaces on which the engine's own optimizers take steps (chapter 9.2's pictures).

Each :class:`Surface` has a value, a gradient, its minimum, a default start and a plotting box.
:func:`descend` moves a point with any optimizer object of ``descentlab.optimizers`` — the same
objects that train networks, not a second implementation — and records the trajectory, marking
divergence instead of cutting it silently. No gradient clipping unless the optimizer asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from descentlab import optimizers
from descentlab.errors import ConfigError, did_you_mean

#: A point farther than this from the origin, or a non-finite value, counts as diverged.
DIVERGENCE_RADIUS = 1e6


#: One coordinate: a float for one point, an array for a grid of points.
Point = float | np.ndarray


@dataclass(frozen=True)
class Surface:
    """A function of two variables with what a plot of it needs."""

    name: str
    formula: str
    value: Callable[[Point, Point], Point]  # of a point (floats) or of a grid (arrays)
    gradient: Callable[[float, float], tuple[float, float]]
    minimum: tuple[float, float]
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    notes: str = ""
    hessian_eigenvalues: tuple[float, float] | None = None  # for quadratics: (λ₁, λ₂)


def dlfs_quadratic() -> Surface:
    """f(x, y) = x²/20 + y² — *Deep Learning from Scratch*, ch. 6: steep in y, flat in x."""
    return Surface(
        name="dlfs", formula="x²/20 + y²",
        value=lambda x, y: x ** 2 / 20.0 + y ** 2,
        gradient=lambda x, y: (x / 10.0, 2.0 * y),
        minimum=(0.0, 0.0), start=(-7.0, 2.0), box=(-10, 10, -5, 5),
        notes="The y direction is 20 times steeper than x: plain SGD zig-zags in y.",
        hessian_eigenvalues=(0.1, 2.0),
    )


def ill_conditioned(kappa: float = 100.0, lambda_1: float = 1.0) -> Surface:
    """f(x, y) = ½(λ₁x² + λ₂y²) with condition number κ = λ₂/λ₁."""
    if not 1 <= kappa <= MAX_KAPPA:
        raise ConfigError(f"the condition number kappa must lie in [1, {MAX_KAPPA:g}]; got "
                          f"{kappa!r}.")
    l1, l2 = float(lambda_1), float(lambda_1 * kappa)
    return Surface(
        name="quadratic", formula=f"½({l1:g}x² + {l2:g}y²)",
        value=lambda x, y: 0.5 * (l1 * x ** 2 + l2 * y ** 2),
        gradient=lambda x, y: (l1 * x, l2 * y),
        minimum=(0.0, 0.0), start=(1.0, 1.0), box=(-1.5, 1.5, -1.5, 1.5),
        notes=f"Condition number κ = {kappa:g}.", hessian_eigenvalues=(l1, l2),
    )


def rosenbrock() -> Surface:
    """(1 − x)² + 100(y − x²)²: a curved, narrow valley; minimum (1, 1)."""
    return Surface(
        name="rosenbrock", formula="(1 − x)² + 100(y − x²)²",
        value=lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
        gradient=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)),
        minimum=(1.0, 1.0), start=(-2.0, 2.0), box=(-2.5, 2.5, -1.5, 4.0),
    )


def beale() -> Surface:
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: minimum (3, 0.5)."""
    def value(x, y):
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                + (2.625 - x + x * y ** 3) ** 2)

    def gradient(x, y):
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3
        gx = 2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1)
        gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y ** 2
        return gx, gy

    return Surface(name="beale", formula="(1.5−x+xy)² + (2.25−x+xy²)² + (2.625−x+xy³)²",
                   value=value, gradient=gradient, minimum=(3.0, 0.5), start=(1.0, 1.5),
                   box=(-4.5, 4.5, -4.5, 4.5))


def saddle() -> Surface:
    """x² − y²: a saddle at the origin. Started on y ≈ 0, plain gradient descent creeps."""
    return Surface(
        name="saddle", formula="x² − y²",
        value=lambda x, y: x ** 2 - y ** 2,
        gradient=lambda x, y: (2 * x, -2 * y),
        minimum=(0.0, 0.0), start=(-2.0, 1e-3), box=(-2.5, 2.5, -2.5, 2.5),
        notes="Unbounded below: 'minimum' marks the saddle point. Escaping it is the goal.",
    )


def rastrigin(a: float = 10.0) -> Surface:
    """2A + Σ (xᵢ² − A·cos 2πxᵢ): many local minima around the global one at (0, 0)."""
    def value(x, y):
        return 2 * a + x ** 2 - a * np.cos(2 * np.pi * x) + y ** 2 - a * np.cos(2 * np.pi * y)

    def gradient(x, y):
        return (2 * x + 2 * np.pi * a * math.sin(2 * np.pi * x),
                2 * y + 2 * np.pi * a * math.sin(2 * np.pi * y))

    return Surface(name="rastrigin", formula=f"{2 * a:g} + Σ(xᵢ² − {a:g}·cos 2πxᵢ)",
                   value=value, gradient=gradient, minimum=(0.0, 0.0), start=(-2.0, 3.5),
                   box=(-4.5, 4.5, -4.5, 4.5))


SURFACES: dict[str, Callable[[], Surface]] = {
    "dlfs": dlfs_quadratic, "quadratic": ill_conditioned, "rosenbrock": rosenbrock,
    "beale": beale, "saddle": saddle, "rastrigin": rastrigin,
}


def get(name: str) -> Surface:
    if name not in SURFACES:
        raise ConfigError(f"Unknown surface {name!r}. {did_you_mean(name, list(SURFACES))}")
    return SURFACES[name]()


@dataclass
class Trajectory:
    """The points an optimizer visited: ``points[0]`` is the start, one row per step."""

    surface: str
    optimizer: str
    learning_rate: float
    points: np.ndarray
    values: np.ndarray
    diverged_at: int | None  # the step at which the point left the finite world, if it did
    final_distance: float  # from the last point to the surface's minimum (inf if diverged)
    config: dict = field(default_factory=dict)


def descend(surface: Surface, optimizer: optimizers.Optimizer | str, steps: int = 30,
            start: tuple[float, float] | None = None) -> Trajectory:
    """Take ``steps`` optimizer steps on ``surface`` from ``start`` (default: its own start)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ConfigError(f"steps must be a positive integer; got {steps!r}.")
    opt = optimizers.get(optimizer)
    point = np.array(start if start is not None else surface.start, dtype=np.float64)
    points = [point.copy()]
    diverged = None
    for step in range(1, steps + 1):
        gx, gy = surface.gradient(float(point[0]), float(point[1]))
        opt.apply_gradients([(np.array([gx, gy]), point)])
        points.append(point.copy())
        if not np.all(np.isfinite(point)) or float(np.abs(point).max()) > DIVERGENCE_RADIUS:
            diverged = step
            break
    array = np.array(points)
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(surface.value(array[:, 0], array[:, 1]), dtype=np.float64)
    distance = float(np.hypot(*(array[-1] - np.array(surface.minimum))))
    return Trajectory(surface=surface.name, optimizer=type(opt).__name__,
                      learning_rate=float(opt.learning_rate_at(0)), points=array, values=values,
                      diverged_at=diverged,
                      final_distance=float("inf") if diverged is not None else distance,
                      config=optimizers.serialize(opt))


def sign_changes(values: np.ndarray) -> int:
    """How often consecutive entries change sign: the zig-zag count of a coordinate's updates."""
    signs = np.sign(np.asarray(values))
    signs = signs[signs != 0]
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def quadratic_theory(lambda_1: float, lambda_2: float) -> dict[str, float]:
    """Optimal settings and convergence rates on ½(λ₁x² + λ₂y²) ("Why Momentum Really Works").

    Gradient descent: α* = 2/(λ₁+λ₂), rate (κ−1)/(κ+1).
    Momentum (heavy ball): α* = (2/(√λ₁+√λ₂))², β* = ((√κ−1)/(√κ+1))², rate (√κ−1)/(√κ+1).
    """
    kappa = lambda_2 / lambda_1
    root = math.sqrt(kappa)
    return {
        "kappa": kappa,
        "gd_learning_rate": 2.0 / (lambda_1 + lambda_2),
        "gd_rate": (kappa - 1) / (kappa + 1),
        "momentum_learning_rate": (2.0 / (math.sqrt(lambda_1) + math.sqrt(lambda_2))) ** 2,
        "momentum_beta": ((root - 1) / (root + 1)) ** 2,
        "momentum_rate": (root - 1) / (root + 1),
    }


def measured_rate(trajectory: Trajectory, minimum: tuple[float, float] = (0.0, 0.0)) -> float:
    """Geometric mean of the per-step contraction of the distance to the minimum."""
    distances = np.hypot(*(trajectory.points - np.array(minimum)).T)
    steps = len(distances) - 1
    return float((distances[-1] / distances[0]) ** (1.0 / steps))


# -- comparisons: every optimizer on one surface, with shared, tuned or the book's rates --------

SCHEMA = "descentlab.surfaces/1"

#: Surface optimizers by name: the class and its settings apart from the learning rate.
#: Adagrad's accumulator starts at 0 (as in torch.optim and *Deep Learning from Scratch*).
OPTIMIZER_SPECS: dict[str, tuple[str, dict]] = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nag": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {"initial_accumulator_value": 0.0}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "nadam": ("Nadam", {}),
}
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")

#: *Deep Learning from Scratch*, ch. 6 (its optimizer_compare_naive.py): per-optimizer rates.
DLFS_RATES = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3}

LR_MODES = ("shared", "tuned", "dlfs")
#: The most steps a run may take: a million 2-D points (16 MB) per optimizer is far more than
#: any figure can show; more is a typo that would fill the memory.
MAX_STEPS = 1_000_000
#: The largest condition number of :func:`ill_conditioned`: beyond it the theory's optimal
#: momentum ((√κ−1)/(√κ+1))² rounds to 1 in float64 and α* to 0.
MAX_KAPPA = 1e12
#: The tuning grid: 1e-4 … 10 in thirds of a decade (16 values).
TUNING_GRID = tuple(float(10 ** (e / 3)) for e in range(-12, 4))


def make_optimizer(name: str, learning_rate: float, flavor: str = "keras") -> optimizers.Optimizer:
    if name not in OPTIMIZER_SPECS:
        raise ConfigError(f"Unknown optimizer {name!r} for the surfaces lab. "
                          f"{did_you_mean(name, list(OPTIMIZER_SPECS))}")
    class_name, config = OPTIMIZER_SPECS[name]
    return optimizers.deserialize({"class_name": class_name,
                                   "config": dict(config, learning_rate=float(learning_rate),
                                                  flavor=flavor)})


def _score(trajectory: Trajectory, surface: Surface) -> float:
    """What tuning minimises: the final value above the minimum's (inf once diverged)."""
    if trajectory.diverged_at is not None or not np.isfinite(trajectory.values[-1]):
        return float("inf")
    return float(trajectory.values[-1] - surface.value(*surface.minimum))


def tune_learning_rate(surface: Surface, name: str, steps: int, start=None,
                       flavor: str = "keras", grid=TUNING_GRID) -> tuple[float, list[float]]:
    """The grid rate whose run ends lowest on ``surface`` (ties: the smaller rate)."""
    scores = [_score(descend(surface, make_optimizer(name, lr, flavor), steps, start), surface)
              for lr in grid]
    return float(grid[int(np.argmin(scores))]), scores


def _trajectory_dict(t: Trajectory, name: str, surface: Surface) -> dict:
    updates = np.diff(t.points, axis=0)
    steep = 1 if surface.hessian_eigenvalues is None or \
        surface.hessian_eigenvalues[1] >= surface.hessian_eigenvalues[0] else 0
    return {"optimizer": name, "class_name": t.optimizer, "learning_rate": t.learning_rate,
            "points": t.points.tolist(), "values": t.values.tolist(),
            "diverged_at": t.diverged_at,
            "final_distance": t.final_distance if np.isfinite(t.final_distance) else None,
            "final_value": float(t.values[-1]) if np.isfinite(t.values[-1]) else None,
            "steep_axis": "xy"[steep],
            "sign_changes": sign_changes(updates[:, steep]) if len(updates) else 0,
            "config": t.config}


def compare(surface: str | Surface = "dlfs", names=DEFAULT_OPTIMIZERS, steps: int = 30,
            lr_mode: str = "shared", learning_rate: float | None = None,
            flavor: str = "keras", start=None) -> dict:
    """Every optimizer in ``names`` from the same start on one surface; plain JSON.

    ``lr_mode``: ``"shared"`` (one ``learning_rate`` for all, default 0.1), ``"tuned"`` (each
    optimizer's best rate of :data:`TUNING_GRID`, lowest final value, documented in the
    result) or ``"dlfs"`` (the per-optimizer rates of *Deep Learning from Scratch*, ch. 6).
    No gradient clipping. On a quadratic the result also holds the theory of GD and momentum
    at their optimal settings against the measured rates.
    """
    surf = get(surface) if isinstance(surface, str) else surface
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"steps must be an integer from 1 to at most {MAX_STEPS:,}; got "
                          f"{steps!r}.")
    names = [str(n).lower() for n in names]
    if not names:
        raise ConfigError(f"give at least one optimizer; valid: {', '.join(OPTIMIZER_SPECS)}.")
    for name in names:
        make_optimizer(name, 0.1, flavor)  # validates the name and the flavor
    if lr_mode not in LR_MODES:
        raise ConfigError(f"Unknown learning-rate mode {lr_mode!r}; valid modes are "
                          f"{', '.join(LR_MODES)}.")
    if learning_rate is not None and lr_mode != "shared":
        raise ConfigError(f"a learning_rate is only used with lr_mode 'shared'; got "
                          f"learning_rate={learning_rate!r} with lr_mode {lr_mode!r}.")
    shared_rate = 0.1 if learning_rate is None else learning_rate
    if lr_mode == "shared":
        if isinstance(shared_rate, bool) or not isinstance(shared_rate, (int, float)) \
                or not shared_rate > 0 or not math.isfinite(shared_rate):
            raise ConfigError(f"learning_rate must be a positive number; got {shared_rate!r}.")
    tuning = None
    if lr_mode == "dlfs":
        unknown = [n for n in names if n not in DLFS_RATES]
        if unknown:
            raise ConfigError(f"Deep Learning from Scratch gives rates only for "
                              f"{', '.join(DLFS_RATES)}; not for {', '.join(unknown)}.")
        rates = {n: DLFS_RATES[n] for n in names}
    elif lr_mode == "tuned":
        scores_by_name: dict[str, list[float | None]] = {}
        tuning = {"grid": list(TUNING_GRID), "criterion": "lowest final value after the steps",
                  "scores": scores_by_name}
        rates = {}
        for n in names:
            rates[n], scores = tune_learning_rate(surf, n, steps, start, flavor)
            scores_by_name[n] = [s if np.isfinite(s) else None for s in scores]
    else:
        rates = {n: float(shared_rate) for n in names}
    runs = [_trajectory_dict(descend(surf, make_optimizer(n, rates[n], flavor), steps, start),
                             n, surf) for n in names]
    result = {"schema": SCHEMA, "surface": {
        "name": surf.name, "formula": surf.formula, "minimum": list(surf.minimum),
        "start": list(start if start is not None else surf.start), "box": list(surf.box),
        "notes": surf.notes,
        "hessian_eigenvalues": (list(surf.hessian_eigenvalues)
                                if surf.hessian_eigenvalues else None)},
        "config": {"optimizers": names, "steps": steps, "lr_mode": lr_mode, "flavor": flavor,
                   "learning_rates": rates, "gradient_clipping": None},
        "tuning": tuning, "trajectories": runs}
    if surf.hessian_eigenvalues is not None:
        result["theory"] = theory_check(surf, steps=max(steps, 200), flavor=flavor)
    return result


def theory_check(surface: Surface, steps: int = 200, flavor: str = "keras") -> dict:
    """GD and heavy-ball momentum at their optimal settings: predicted vs measured rate."""
    if surface.hessian_eigenvalues is None:
        raise ConfigError(f"the theory needs a quadratic surface; {surface.name!r} is not one.")
    theory = quadratic_theory(*surface.hessian_eigenvalues)
    gd = descend(surface, optimizers.SGD(theory["gd_learning_rate"], flavor=flavor), steps)
    momentum = descend(surface, optimizers.SGD(theory["momentum_learning_rate"],
                                               momentum=theory["momentum_beta"], flavor=flavor),
                       steps)

    def distances(t: Trajectory) -> list[float]:
        return np.hypot(*(t.points - np.array(surface.minimum)).T).tolist()

    return {**theory, "steps": steps,
            "gd_measured_rate": measured_rate(gd, surface.minimum),
            "momentum_measured_rate": measured_rate(momentum, surface.minimum),
            "gd_distances": distances(gd), "momentum_distances": distances(momentum)}
