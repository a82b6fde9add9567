"""The playground's state: TensorFlow Playground's keys plus the chapter's, with their bounds.

A configuration is a flat dict of JSON values — the same keys the page keeps in its URL hash
(TF Playground's own names where TF has them, so a TF Playground link works here). This module
is the one authority on what is valid: :func:`validate` turns what a browser sent into a
complete, checked configuration, or raises :class:`PlaygroundError` naming the key, the value
received and what is valid. Nothing else in the playground checks input by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from descentlab.errors import ConfigError, did_you_mean

# -- what may be chosen ---------------------------------------------------------------------------
PROBLEMS = ("classification", "regression")
DATASETS = ("circle", "xor", "gauss", "spiral", "csv")
REG_DATASETS = ("reg-plane", "reg-gauss", "csv")
FEATURES = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY", "cosX", "cosY")
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softplus", "leaky_relu", "elu", "selu",
               "gelu", "silu")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal", "random_normal", "random_uniform", "zeros", "ones")
#: The book's table. Each optimizer lists the hyperparameters (state keys) it reads.
OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "gd": (),
    "sgd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "adagrad": ("epsilon",),
    "rmsprop": ("rho", "epsilon"),
    "adam": ("beta1", "beta2", "epsilon"),
    "adamw": ("beta1", "beta2", "epsilon", "weightDecay"),
    "nadam": ("beta1", "beta2", "epsilon"),
}
FLAVORS = ("keras", "pytorch")
REGULARIZATIONS = ("none", "L1", "L2")

#: Hard limits: what one tab may ask of the server.
LIMITS = {
    "maxLayers": 16,
    "maxNeurons": 16,
    "maxBatch": 500,
    "maxSamples": 2000,
    "maxUploadBytes": 1 << 20,
    "maxMessageBytes": 64 << 10,
    "maxSurfaceRuns": 9,
    "maxSurfaceSteps": 1000,
}

DEFAULTS: dict[str, Any] = {
    "problem": "classification",
    "dataset": "circle",
    "regDataset": "reg-plane",
    "noise": 0,
    "percTrainData": 50,
    "batchSize": 10,
    "x": True, "y": True, "xSquared": False, "ySquared": False, "xTimesY": False,
    "sinX": False, "sinY": False, "cosX": False, "cosY": False,
    "networkShape": [4, 2],
    "activation": "tanh",
    "activations": [],
    "initializer": "glorot_uniform",
    "initializers": [],
    "optimizer": "sgd",
    "learningRate": 0.03,
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "rho": 0.9,
    "epsilon": 1e-7,
    "weightDecay": 0.004,
    "flavor": "keras",
    "regularization": "none",
    "regularizationRate": 0.0,
    "batchNorm": False,
    "dropout": 0.0,
    "seed": 0,
}

#: Keys whose change applies to the running network without rebuilding it (as in TF Playground,
#: where moving the learning rate does not reset training).
LIVE_KEYS = frozenset({"learningRate", "momentum", "beta1", "beta2", "rho", "epsilon",
                       "weightDecay", "regularizationRate"})


class PlaygroundError(ConfigError):
    """A message or setting from the page that cannot be used; ``key`` names the field."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


# -- one checker per kind of value ------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    low: float
    high: float
    integer: bool = False

    def check(self, key: str, value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise PlaygroundError(f"{key} must be a number; got {value!r}.", key)
        if self.integer and value != int(value):
            raise PlaygroundError(f"{key} must be a whole number; got {value!r}.", key)
        if not self.low <= value <= self.high:
            raise PlaygroundError(
                f"{key} must lie in [{self.low:g}, {self.high:g}]; got {value!r}.", key)
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]

    def check(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise PlaygroundError(
                f"{key} {value!r} is not available. {did_you_mean(str(value), list(self.options))}",
                key)
        return value


@dataclass(frozen=True)
class Flag:
    def check(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise PlaygroundError(f"{key} must be true or false; got {value!r}.", key)
        return value


@dataclass(frozen=True)
class BatchSize:
    def check(self, key: str, value: Any) -> int | str:
        if value == "full":
            return "full"
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 1 <= value <= LIMITS["maxBatch"]:
            raise PlaygroundError(
                f"batchSize must be a whole number from 1 to {LIMITS['maxBatch']} or 'full' "
                f"(plain gradient descent); got {value!r}.", key)
        return value


@dataclass(frozen=True)
class ListOf:
    item: Number | Choice
    max_length: int
    min_length: int = 0

    def check(self, key: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise PlaygroundError(f"{key} must be a list; got {value!r}.", key)
        if not self.min_length <= len(value) <= self.max_length:
            raise PlaygroundError(
                f"{key} must have {self.min_length} to {self.max_length} entries; got "
                f"{len(value)}.", key)
        return [self.item.check(f"{key}[{i}]", v) for i, v in enumerate(value)]


SCHEMA: dict[str, Any] = {
    "problem": Choice(PROBLEMS),
    "dataset": Choice(DATASETS),
    "regDataset": Choice(REG_DATASETS),
    "noise": Number(0, 50),
    "percTrainData": Number(10, 90),
    "batchSize": BatchSize(),
    **{name: Flag() for name in FEATURES},
    "networkShape": ListOf(Number(1, LIMITS["maxNeurons"], integer=True), LIMITS["maxLayers"]),
    "activation": Choice(ACTIVATIONS),
    "activations": ListOf(Choice(ACTIVATIONS), LIMITS["maxLayers"]),
    "initializer": Choice(INITIALIZERS),
    "initializers": ListOf(Choice(INITIALIZERS), LIMITS["maxLayers"]),
    "optimizer": Choice(tuple(OPTIMIZERS)),
    "learningRate": Number(1e-5, 10),
    "momentum": Number(0, 0.999),
    "beta1": Number(0, 0.9999),
    "beta2": Number(0, 0.9999),
    "rho": Number(0, 0.9999),
    "epsilon": Number(1e-10, 1),
    "weightDecay": Number(0, 1),
    "flavor": Choice(FLAVORS),
    "regularization": Choice(REGULARIZATIONS),
    "regularizationRate": Number(0, 10),
    "batchNorm": Flag(),
    "dropout": Number(0, 0.9),
    "seed": Number(0, 2**31 - 1, integer=True),
}
assert set(SCHEMA) == set(DEFAULTS)


def validate(raw: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete, checked configuration: ``base`` (default: :data:`DEFAULTS`) updated with
    ``raw``. Unknown keys, wrong types and out-of-range values raise :class:`PlaygroundError`."""
    if not isinstance(raw, dict):
        raise PlaygroundError(f"config must be an object of settings; got {raw!r:.80}.", "config")
    config = dict(DEFAULTS if base is None else base)
    for key, value in raw.items():
        if key not in SCHEMA:
            raise PlaygroundError(
                f"Unknown setting {key!r}. {did_you_mean(str(key), list(SCHEMA))}", str(key))
        config[key] = SCHEMA[key].check(key, value)
    _check_together(config)
    return config


def _check_together(config: dict[str, Any]) -> None:
    """Rules that involve more than one key."""
    depth = len(config["networkShape"])
    for key in ("activations", "initializers"):
        if config[key] and len(config[key]) != depth:
            raise PlaygroundError(
                f"{key} lists {len(config[key])} layers but networkShape has {depth}; give one "
                "per hidden layer, or none to use the common setting.", key)
    if not any(config[name] for name in FEATURES):
        raise PlaygroundError("Choose at least one input feature (x₁, x₂, …).", "x")
    if config["optimizer"] == "nesterov" and config["momentum"] == 0:
        raise PlaygroundError("Nesterov momentum needs a momentum above 0 (e.g. 0.9).",
                              "momentum")


def features(config: dict[str, Any]) -> list[str]:
    """The input features switched on, in TF Playground's order."""
    return [name for name in FEATURES if config[name]]


def layer_settings(config: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(units, activation, initializer) of every hidden layer."""
    shape = config["networkShape"]
    acts = config["activations"] or [config["activation"]] * len(shape)
    inits = config["initializers"] or [config["initializer"]] * len(shape)
    return list(zip(shape, acts, inits, strict=True))


def only_live_changes(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` differs from ``old`` only in keys that apply without a rebuild.

    Momentum moving to or from 0 is not live: SGD keeps a velocity only when it has momentum.
    """
    if (old["momentum"] == 0) != (new["momentum"] == 0):
        return False
    return all(old[k] == new[k] for k in SCHEMA if k not in LIVE_KEYS)


def options() -> dict[str, Any]:
    """What the page may offer, sent once in ``hello``."""
    return {
        "problems": list(PROBLEMS),
        "datasets": list(DATASETS),
        "regDatasets": list(REG_DATASETS),
        "features": list(FEATURES),
        "activations": list(ACTIVATIONS),
        "initializers": list(INITIALIZERS),
        "optimizers": {name: list(keys) for name, keys in OPTIMIZERS.items()},
        "flavors": list(FLAVORS),
        "regularizations": list(REGULARIZATIONS),
        "liveKeys": sorted(LIVE_KEYS),
    }
