"""Weight regularizers: a penalty on the size of the weights, added to the loss (Keras 3's).

A regularizer ``R`` attached to a weight ``W`` (``Dense(..., kernel_regularizer=l2(0.01))``)
changes what training minimises and what the model reports as its loss::

    total loss = L(y, ŷ) + Σ R(W)             (in fit, train_on_batch, evaluate, compute_gradients)
    ∂total/∂W  = ∂L/∂W + ∂R/∂W                (the layer adds ∂R/∂W after the chain rule)

============  ==========================  ==========================  ================
regularizer   penalty R(W)                gradient ∂R/∂W              Keras default
============  ==========================  ==========================  ================
L1(l1)        l1·Σ|w|                     l1·sign(w)                  l1 = 0.01
L2(l2)        l2·Σw²                      2·l2·w                      l2 = 0.01
L1L2(l1, l2)  l1·Σ|w| + l2·Σw²            l1·sign(w) + 2·l2·w         l1 = l2 = 0.0
============  ==========================  ==========================  ================

L2 has no ½ in front (Keras' convention, unlike some textbooks), so its gradient carries the
factor 2. |w| has no derivative at 0; like Keras and PyTorch, sign(0) = 0 is used there. L2 pulls
every weight towards 0 in proportion to its size ("weight decay"); L1 pulls each by the same
amount, so small weights reach exactly 0 (sparse weights).

The penalty is computed on the weights before the step, and the per-epoch loss of ``fit`` is the
mean of those batch losses, exactly as in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from descentlab.errors import ConfigError, did_you_mean, instantiate, name_and_params
from descentlab.validation import check_float


def _factor(value: Any, what: str, default: float) -> float:
    """A regularization factor: a finite number ≥ 0 (None means the default, as in Keras)."""
    if value is None:
        return default
    return check_float(value, what, low=0.0)


class Regularizer:
    """Base class: ``R(w)`` → the penalty (a float), ``R.gradient(w)`` → ∂R/∂w (an array)."""

    name: str = ""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        params = {k: v for k, v in config.items() if k != "name"}
        return instantiate("Regularizer", cls.name, cls, params)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({params})"


class L1(Regularizer):
    """L1 penalty: ``R(W) = l1·Σ|w|``, gradient ``l1·sign(w)`` (sign(0) = 0).

    Every weight is pulled towards 0 by the same step, whatever its size, so weights the data
    does not need end at exactly 0.
    """

    name = "l1"

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(l1, "L1 regularization factor l1", 0.01)

    def __call__(self, w: np.ndarray) -> float:
        return float(self.l1 * np.sum(np.abs(w)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.l1 * np.sign(w)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "l1": self.l1}


class L2(Regularizer):
    """L2 penalty: ``R(W) = l2·Σw²``, gradient ``2·l2·w`` (no ½ in front, as in Keras).

    Each weight is pulled towards 0 in proportion to its size: with SGD at learning rate η the
    step shrinks ``w`` by the factor (1 − 2·η·l2) before the data's gradient acts ("weight decay").
    """

    name = "l2"

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(l2, "L2 regularization factor l2", 0.01)

    def __call__(self, w: np.ndarray) -> float:
        return float(self.l2 * np.sum(np.square(w)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return 2.0 * self.l2 * w

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "l2": self.l2}


class L1L2(Regularizer):
    """Both penalties: ``R(W) = l1·Σ|w| + l2·Σw²``, gradient ``l1·sign(w) + 2·l2·w``.

    The defaults are 0.0 and 0.0 (Keras 3's), so ``L1L2(l2=0.1)`` is a pure L2 penalty; a term
    whose factor is 0 is skipped, as in Keras.
    """

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "L1L2 regularization factor l1", 0.0)
        self.l2 = _factor(l2, "L1L2 regularization factor l2", 0.0)

    def __call__(self, w: np.ndarray) -> float:
        penalty = 0.0
        if self.l1:
            penalty += float(self.l1 * np.sum(np.abs(w)))
        if self.l2:
            penalty += float(self.l2 * np.sum(np.square(w)))
        return penalty

    def gradient(self, w: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(w)
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += 2.0 * self.l2 * w
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "l1": self.l1, "l2": self.l2}


# Keras' lower-case spellings: in Keras 3 they are the classes themselves.
l1, l2, l1_l2 = L1, L2, L1L2

_CLASSES: dict[str, type[Regularizer]] = {"l1": L1, "l2": L2, "l1_l2": L1L2}
#: Other spellings a Keras user may write: the class names ("L1L2" is how Keras serializes it).
_ALIASES = {"L1": "l1", "L2": "l2", "L1L2": "l1_l2", "l1l2": "l1_l2"}
#: A bare name means these factors. For "l1_l2" they are the ones Keras documents for the string
#: (0.01 each); the class L1L2() itself defaults to 0.0 each, which would penalise nothing.
_NAME_DEFAULTS: dict[str, dict[str, float]] = {"l1_l2": {"l1": 0.01, "l2": 0.01}}


def names() -> list[str]:
    """The valid regularizer names, sorted."""
    return sorted(_CLASSES)


def _from_name(name: str, params: dict[str, Any]) -> Regularizer:
    key = _ALIASES.get(name, name)
    if key not in _CLASSES:
        raise ConfigError(f"Unknown regularizer {name!r}. {did_you_mean(name, names())}")
    return instantiate("Regularizer", key, _CLASSES[key], {**_NAME_DEFAULTS.get(key, {}), **params})


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from a name (``"l1"``, ``"l2"``, ``"l1_l2"``), a config dict
    (``{"name": "l2", "l2": 0.1}`` or Keras' ``{"class_name": "L2", "config": {"l2": 0.1}}``),
    a regularizer object or class, or None (no regularizer).

    A name gives Keras' defaults: ``"l1"`` → ``L1(0.01)``, ``"l2"`` → ``L2(0.01)``,
    ``"l1_l2"`` → ``L1L2(l1=0.01, l2=0.01)``.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier, {})
    if isinstance(identifier, dict):
        return _from_name(*name_and_params(identifier, "A regularizer", names()))
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        raise ConfigError(
            f"A regularizer must also give its gradient, so a plain function such as "
            f"{identifier!r} cannot be one; subclass descentlab.regularizers.Regularizer "
            "(__call__ for the penalty, gradient for ∂R/∂w) or use a name: "
            f"{', '.join(names())}."
        )
    raise ConfigError(
        f"A regularizer must be a name, a config dict, a regularizer object or None; got "
        f"{identifier!r}. {did_you_mean(str(identifier), names())}"
    )


def serialize(regularizer: Any) -> dict[str, Any] | None:
    """The JSON-ready config ``{"name": ..., <factors>}`` of a regularizer (None for None)."""
    reg = get(regularizer)
    return None if reg is None else reg.get_config()


def deserialize(config: Any) -> Regularizer | None:
    """The regularizer described by ``config`` (the inverse of :func:`serialize`)."""
    return get(config)
