"""A search space over the engine's settings, and the list of trials it stands for.

A space names, for each setting of a trial, the values to try::

    optimizer      ["sgd", "momentum", "adam"]        names of descentlab.optimizers
    learning_rate  {low: 1e-4, high: 1, num: 9}       a log-scale range, or a list of rates
    batch_size     [32, "full"]                       "full" = every training sample per step
    activation     ["relu"]    depth [1]    width [32]    initializer ["glorot_uniform"]
    batch_norm     [false]     epochs [20]  seeds [0, 1, 2]

**Grid search** takes every combination: 3 optimizers × 9 rates × 3 seeds = 81 trials.
**Random search** draws ``samples`` configurations — each setting uniformly from its list, a
learning-rate range log-uniformly, ``10 ** U(log10 low, log10 high)`` — from a generator seeded
with ``search_seed``, and runs each on every seed (the seeds give the spread).

The space is expanded *here*, into a plain list of trial configurations, before any executor
sees it: the local pool and Ray Tune run the same list, so the same space gives the same trials
and — trials being pure functions of their configuration — the same numbers everywhere.

A mistake in a space (a negative rate, an unknown optimizer, an empty range) is a one-line
:class:`~descentlab.errors.ConfigError` before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from descentlab.errors import ConfigError, did_you_mean

#: The settings a trial has, in the order of its configuration.
AXES = ("optimizer", "learning_rate", "batch_size", "activation", "depth", "width",
        "initializer", "batch_norm", "epochs")
SEARCHES = ("grid", "random")
#: What "best" means, and which way: the metric is read at a trial's last epoch.
METRICS = {"train_loss": "min", "val_loss": "min", "val_accuracy": "max"}
#: A sweep of more trials than this is a typo (``--seeds 0-100000``), refused before it starts.
MAX_TRIALS = 100_000
MAX_DEPTH = 1000
MAX_EPOCHS = 100_000


@dataclass
class SearchSpace:
    """The settings to try, the data, the search, and the early-stopping rule.

    ``learning_rate`` is a list of rates or a ``{"low", "high", "num"}`` range on a log scale
    (``num`` points for a grid; a random search draws from [low, high]).
    """

    optimizer: list[str] = field(default_factory=lambda: ["sgd", "momentum", "adam"])
    learning_rate: list[float] | dict[str, float] = field(
        default_factory=lambda: {"low": 1e-3, "high": 1.0, "num": 4})
    batch_size: list[int | str] = field(default_factory=lambda: [32])
    activation: list[str] = field(default_factory=lambda: ["relu"])
    depth: list[int] = field(default_factory=lambda: [1])
    width: list[int] = field(default_factory=lambda: [32])
    initializer: list[str] = field(default_factory=lambda: ["glorot_uniform"])
    batch_norm: list[bool] = field(default_factory=lambda: [False])
    epochs: list[int] = field(default_factory=lambda: [10])
    seeds: list[int] = field(default_factory=lambda: [0, 1])
    data: str = "digits"
    target: str = "-1"
    validation_fraction: float = 0.2
    split_seed: int = 0
    search: str = "grid"
    samples: int = 10
    search_seed: int = 0
    metric: str = "train_loss"
    early_stopping: bool = False
    grace_period: int = 2
    reduction_factor: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def mode(self) -> str:
        """``"min"`` or ``"max"``: which way the metric is better."""
        return METRICS[self.metric]


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _names(value: Any, axis: str, valid: list[str]) -> list[str]:
    names = [str(v).strip().lower() if axis == "optimizer" else str(v).strip()
             for v in _listed(value)]
    for name in names:
        if name not in valid:
            raise ConfigError(f"Unknown {axis} {name!r} in the search space. "
                              f"{did_you_mean(name, valid)}")
    return names


def _hidden_activations(value: Any) -> list[str]:
    from descentlab import activations

    names = _names(value, "activation", activations.names())
    for name in names:
        activations.hidden(name)  # softmax, an output activation, is refused in a sentence
    return names


def _ints(value: Any, axis: str, low: int, high: int) -> list[int]:
    values = _listed(value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= high:
            raise ConfigError(f"{axis} must be whole numbers from {low:,} to {high:,}; "
                              f"got {v!r}.")
    return [int(v) for v in values]


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{what} must be a positive number; got {value!r}.")
    return float(value)


def _learning_rates(value: Any, search: str) -> list[float] | dict[str, float]:
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"low", "high", "num"})
        if unknown:
            raise ConfigError(f"a learning_rate range has the keys low, high and num; got "
                              f"{', '.join(map(repr, unknown))}.")
        if "low" not in value or "high" not in value:
            raise ConfigError("a learning_rate range needs both low and high "
                              f"(e.g. {{low = 1e-4, high = 1, num = 9}}); got {value!r}.")
        low = _rate(value["low"], "learning_rate low")
        high = _rate(value["high"], "learning_rate high")
        if low > high:
            raise ConfigError(f"the learning_rate range is empty: low {low:g} > high {high:g}.")
        out: dict[str, float] = {"low": low, "high": high}
        if "num" in value or search == "grid":
            num = value.get("num")
            if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
                raise ConfigError("a learning_rate range on a grid needs num, the number of "
                                  f"rates (a positive whole number); got {num!r}.")
            if low == high and num > 1:
                raise ConfigError(f"the learning_rate range {low:g}..{high:g} holds one rate; "
                                  f"got num = {num}.")
            out["num"] = int(num)
        return out
    return [_rate(v, "learning_rate") for v in _listed(value)]


def _batch_sizes(value: Any) -> list[int | str]:
    out: list[int | str] = []
    for v in _listed(value):
        if v == "full":
            out.append("full")
        elif isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"batch_size must be positive whole numbers or 'full'; got {v!r}.")
        else:
            out.append(int(v))
    return out


def _bools(value: Any) -> list[bool]:
    values = _listed(value)
    for v in values:
        if not isinstance(v, (bool, np.bool_)):
            raise ConfigError(f"batch_norm must be true or false; got {v!r}.")
    return [bool(v) for v in values]


def check(space: SearchSpace) -> SearchSpace:
    """``space`` with every value checked and put in its plain form; the first mistake is a
    one-line :class:`ConfigError`."""
    from descentlab import datasets, initializers, optimizers

    datasets.csv_target(str(space.data), space.target)  # a built-in set has its own labels
    if space.search not in SEARCHES:
        raise ConfigError(f"Unknown search {space.search!r}. "
                          f"{did_you_mean(space.search, list(SEARCHES))}")
    if space.metric not in METRICS:
        raise ConfigError(f"Unknown metric {space.metric!r}. "
                          f"{did_you_mean(space.metric, list(METRICS))}")
    checked = SearchSpace(
        optimizer=_names(space.optimizer, "optimizer", optimizers.names()),
        learning_rate=_learning_rates(space.learning_rate, space.search),
        batch_size=_batch_sizes(space.batch_size),
        activation=_hidden_activations(space.activation),
        depth=_ints(space.depth, "depth", 0, MAX_DEPTH),
        width=_ints(space.width, "width", 1, 100_000),
        initializer=_names(space.initializer, "initializer", initializers.names()),
        batch_norm=_bools(space.batch_norm),
        epochs=_ints(space.epochs, "epochs", 1, MAX_EPOCHS),
        seeds=_ints(space.seeds, "seeds", 0, 2**32 - 1),
        data=str(space.data), target=str(space.target),
        validation_fraction=space.validation_fraction, split_seed=space.split_seed,
        search=space.search, samples=space.samples, search_seed=space.search_seed,
        metric=space.metric, early_stopping=bool(space.early_stopping),
        grace_period=space.grace_period, reduction_factor=space.reduction_factor)
    for name in ("optimizer", "learning_rate", "batch_size", "activation", "depth", "width",
                 "initializer", "batch_norm", "epochs", "seeds"):
        values = getattr(checked, name)
        if isinstance(values, list):
            if not values:
                raise ConfigError(f"{name} is empty: the search space needs at least one value.")
            if len({json.dumps(v) for v in values}) != len(values):
                raise ConfigError(f"{name} lists a value twice: {values}.")
    if not checked.data:
        raise ConfigError("data must name a built-in data set or a CSV file; got ''.")
    fraction = checked.validation_fraction
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not 0 < fraction < 1:
        raise ConfigError(f"validation_fraction must be a number in (0, 1); got {fraction!r}.")
    for name, low in (("split_seed", 0), ("samples", 1), ("search_seed", 0),
                      ("grace_period", 1), ("reduction_factor", 2)):
        value = getattr(checked, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name} must be a whole number ≥ {low}; got {value!r}.")
    count = trial_count(checked)
    if count > MAX_TRIALS:
        raise ConfigError(f"the search space holds {count:,} trials; a sweep runs at most "
                          f"{MAX_TRIALS:,}: use fewer values or a random search.")
    return checked


def from_dict(values: dict[str, Any], what: str = "the search space") -> SearchSpace:
    """A checked space from a dict (a config file's contents); unknown keys are errors."""
    known = [f.name for f in fields(SearchSpace)]
    for key in values:
        if key not in known:
            raise ConfigError(f"Unknown setting {key!r} in {what}. {did_you_mean(key, known)}")
    return check(SearchSpace(**values))


def load(path: str) -> dict[str, Any]:
    """The settings of a TOML or JSON config file, as a dict (checked by :func:`from_dict`)."""
    import tomllib

    extension = os.path.splitext(path)[1].lower()
    if extension not in (".toml", ".json"):
        raise ConfigError(f"the config file {path!r} must be a .toml or .json file.")
    try:
        with open(path, "rb") as stream:
            if extension == ".toml":
                values = tomllib.load(stream)
            else:
                values = json.loads(stream.read().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the config file {path!r} does not exist.") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path!r} is not valid {extension[1:].upper()}: {first_line}") \
            from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path!r} must hold a table of settings; got a "
                          f"{type(values).__name__}.")
    return values


def _grid_rates(space: SearchSpace) -> list[float]:
    rates = space.learning_rate
    if isinstance(rates, list):
        return rates
    return [float(r) for r in np.geomspace(rates["low"], rates["high"], int(rates["num"]))]


def trial_count(space: SearchSpace) -> int:
    """How many trials the space expands to."""
    if space.search == "random":
        return space.samples * len(space.seeds)
    count = len(_grid_rates(space)) * len(space.seeds)
    for name in AXES:
        if name != "learning_rate":
            count *= len(getattr(space, name))
    return count


def trial_id(config: dict[str, Any]) -> str:
    """A short, stable name of a configuration: the first 12 hex digits of the SHA-256 of its
    canonical JSON. Two trials share an id only when their configurations are equal."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def expand(space: SearchSpace) -> list[dict[str, Any]]:
    """The trials of ``space``: one configuration per combination (grid) or per sample ×
    seed (random), each ``{axis: value, …, "seed": s}``, in a fixed order."""
    settings: list[dict[str, Any]] = []
    if space.search == "grid":
        lists = [_grid_rates(space) if name == "learning_rate" else getattr(space, name)
                 for name in AXES]
        settings = [dict(zip(AXES, combo, strict=True)) for combo in itertools.product(*lists)]
    else:
        rng = np.random.default_rng(space.search_seed)
        for _ in range(space.samples):
            sample: dict[str, Any] = {}
            for name in AXES:
                values = space.learning_rate if name == "learning_rate" else getattr(space, name)
                if isinstance(values, dict):  # a log-uniform draw from [low, high]
                    low, high = math.log10(values["low"]), math.log10(values["high"])
                    sample[name] = float(10 ** rng.uniform(low, high))
                else:
                    sample[name] = values[int(rng.integers(len(values)))]
            settings.append(sample)
    return [dict(setting, seed=seed) for setting in settings for seed in space.seeds]
