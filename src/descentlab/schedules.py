"""Learning-rate schedules with Keras 3's ``LearningRateSchedule`` semantics.

A schedule maps the optimizer's step counter (0 for the first update) to a learning rate. Any
optimizer accepts one as ``learning_rate``; the Keras 2 argument ``decay=`` of the textbook's
table is an :class:`InverseTimeDecay` with ``decay_steps=1``.
"""

from __future__ import annotations

import math
from typing import Any

from descentlab.errors import ConfigError, did_you_mean
from descentlab.validation import check_bool, check_float


def _positive(value: Any, what: str) -> float:
    return check_float(value, what, low=0.0, low_open=True)


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate`` for step = 0, 1, 2, ..."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate · decay_rate^(step / decay_steps)``
    (the exponent floored when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False) -> None:
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.decay_rate = _positive(decay_rate, "decay_rate")
        self.staircase = check_bool(staircase, "staircase")

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class InverseTimeDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate / (1 + decay_rate · step / decay_steps)``
    (the ratio floored when ``staircase``). Keras 2's ``decay=d`` is this with decay_steps 1."""

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False) -> None:
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.decay_rate = check_float(decay_rate, "decay_rate", low=0.0)
        self.staircase = check_bool(staircase, "staircase")

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class PiecewiseConstantDecay(LearningRateSchedule):
    """Step schedule: ``values[0]`` while step ≤ boundaries[0], ``values[1]`` while
    step ≤ boundaries[1], ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries: list[float], values: list[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise ConfigError(
                f"PiecewiseConstantDecay needs one more value than boundaries; got "
                f"{len(boundaries)} boundaries and {len(values)} values."
            )
        self.boundaries = [check_float(b, "each boundary") for b in boundaries]
        if self.boundaries != sorted(self.boundaries):
            raise ConfigError(f"boundaries must be increasing; got {boundaries!r}.")
        self.values = [_positive(v, "each value") for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, 2017), with an optional linear warm-up::

        warm-up (step < warmup_steps): lr = initial + (warmup_target − initial)·step/warmup_steps
        then, s = min(step − warmup_steps, decay_steps):
            lr = peak · ((1 − alpha)·½(1 + cos(π·s/decay_steps)) + alpha)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: float = 0) -> None:
        self.initial_learning_rate = check_float(initial_learning_rate,
                                                 "initial_learning_rate", low=0.0)
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.alpha = check_float(alpha, "alpha", low=0.0, high=1.0)
        self.warmup_target = None if warmup_target is None else check_float(
            warmup_target, "warmup_target", low=0.0)
        self.warmup_steps = check_float(warmup_steps, "warmup_steps", low=0.0)

    def _decay(self, step: float, peak: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (
                self.warmup_target - self.initial_learning_rate) * fraction
        return self._decay(min(step - self.warmup_steps, self.decay_steps), self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls
    for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay)
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(spec: dict[str, Any]) -> LearningRateSchedule:
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in SCHEDULES:
        raise ConfigError(f"Unknown learning-rate schedule {name!r}. "
                          f"{did_you_mean(str(name), list(SCHEDULES))}")
    return SCHEDULES[name].from_config(dict(spec.get("config", {})))


def get(identifier: Any) -> LearningRateSchedule:
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ConfigError(f"Expected a LearningRateSchedule or its dict form; got {identifier!r}.")
