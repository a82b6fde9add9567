"""Metrics: numbers reported during training that the optimizer does not follow.

Each metric gives a value per sample; over an epoch the model keeps Keras' running mean::

    metric = (Σ over batches of Σ_i value_i) / (number of samples seen)

which is what ``batch_values`` feeds: ``(sum of the batch's values, number of samples)``. (Keras'
``Mean`` metric does the same: ``total += sum(values)``, ``count += batch size``.)

``"accuracy"`` is resolved the way Keras 3 resolves it at compile time
(``keras/src/trainers/compile_utils.py``, ``get_metric``), from the output and target shapes:

- the output has 1 unit                      → binary accuracy (ŷ > 0.5 counts as class 1);
- the targets are integer labels — fewer dimensions than the output, or a last dimension of 1
  against a multi-unit output               → sparse categorical accuracy (argmax ŷ = y);
- otherwise (one-hot targets)                → categorical accuracy (argmax ŷ = argmax y).

The History key is the name the user wrote, as in Keras: ``metrics=["acc"]`` logs ``"acc"``,
``["mae"]`` logs ``"mae"``, ``["mean_absolute_error"]`` logs ``"mean_absolute_error"``.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from descentlab import losses
from descentlab.errors import ConfigError, did_you_mean

_ACCURACY_ALIASES = ("accuracy", "acc")


class Metric:
    """Base class: a value per sample, averaged over all samples seen."""

    name: str = "metric"

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """The metric's value for each sample: an array of shape (n,)."""
        raise NotImplementedError

    def sums(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """Σ_i value_i over the samples of each network: a population's outputs
        (members, n, ...) give one sum per member (a count for the accuracies)."""
        return self.values(y_true, y_pred).sum(axis=-1)

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        """``(Σ_i value_i, n)`` for one batch: the pieces of an exact running mean."""
        v = self.values(y_true, y_pred)
        return float(np.sum(v)), len(v)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        """The mean value over the samples given."""
        total, count = self.batch_values(y_true, y_pred)
        return total / count

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _pred_and_true(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of equal rank: labels (n,) against an output (n, 1) become (n, 1), as in Keras."""
    p = np.asarray(y_pred)
    y = np.asarray(y_true)
    if y.ndim == p.ndim - 1 and p.shape[-1] == 1:
        y = y[..., np.newaxis]
    return y, p


class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold``: [(ŷ > 0.5) = y].

    Per sample: the mean of that match over the sample's outputs (Keras' rule for d > 1).
    """

    name = "binary_accuracy"

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        super().__init__(name)
        self.threshold = threshold

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _pred_and_true(y_true, y_pred)
        return np.mean(y == (p > self.threshold), axis=-1)

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        y, p = _pred_and_true(y_true, y_pred)
        # Σ_i mean_k match_ik = (number of matches) / d, as every sample has d outputs.
        return np.count_nonzero(y == (p > self.threshold)) / p.shape[-1], len(p)


class CategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the one-hot target's class: argmax ŷ = argmax y.

    Ties go to the first largest output (numpy and torch agree).
    """

    name = "categorical_accuracy"

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = np.asarray(y_true), np.asarray(y_pred)
        return (np.argmax(y, axis=-1) == np.argmax(p, axis=-1)).astype(p.dtype)

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        y, p = np.asarray(y_true), np.asarray(y_pred)
        return float(np.count_nonzero(np.argmax(y, axis=-1) == np.argmax(p, axis=-1))), len(p)


class SparseCategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the integer label: argmax ŷ = y.

    Labels of shape (n,) or (n, 1).
    """

    name = "sparse_categorical_accuracy"

    @staticmethod
    def _matches(y_true: Any, y_pred: Any) -> np.ndarray:
        p = np.asarray(y_pred)
        y = np.asarray(y_true)
        if y.ndim == p.ndim:
            y = y.reshape(y.shape[:-1])
        return y == np.argmax(p, axis=-1)

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return self._matches(y_true, y_pred).astype(np.asarray(y_pred).dtype)

    def sums(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return self._matches(y_true, y_pred).sum(axis=-1)  # counted, not added as floats

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        m = self._matches(y_true, y_pred)
        return float(np.count_nonzero(m)), len(m)


class MeanAbsoluteError(Metric):
    """Mean absolute error: per sample (1/d) Σ_k |y_k − ŷ_k|."""

    name = "mean_absolute_error"

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _pred_and_true(y_true, y_pred)
        return np.mean(np.abs(y - p), axis=-1)

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        y, p = _pred_and_true(y_true, y_pred)
        return float(np.sum(np.abs(y - p))) / p.shape[-1], len(p)


class MeanSquaredError(Metric):
    """Mean squared error: per sample (1/d) Σ_k (y_k − ŷ_k)²."""

    name = "mean_squared_error"

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _pred_and_true(y_true, y_pred)
        return np.mean(np.square(y - p), axis=-1)

    def batch_values(self, y_true: Any, y_pred: Any) -> tuple[float, int]:
        y, p = _pred_and_true(y_true, y_pred)
        r = (y - p).ravel()
        return float(np.dot(r, r)) / p.shape[-1], len(p)


class LossMetric(Metric):
    """A loss reported as a metric (``metrics=["binary_crossentropy"]``): its per-sample value."""

    def __init__(self, loss: Any, name: str | None = None) -> None:
        self.loss = losses.get(loss)
        super().__init__(name or self.loss.name)

    def values(self, y_true: Any, y_pred: Any) -> np.ndarray:
        return self.loss.per_sample(y_true, y_pred)


_CLASSES: dict[str, type[Metric]] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}
_LOSS_METRICS = ("binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy")
_BY_KEY: dict[str, type[Metric]] = dict(_CLASSES)
_BY_KEY.update({cls.__name__.lower(): cls for cls in _CLASSES.values()})


def names() -> list[str]:
    """The metric names ``compile`` accepts."""
    return [*_ACCURACY_ALIASES, *_CLASSES, *_LOSS_METRICS]


def resolve_accuracy(output_units: int | None, y_shape: tuple[int, ...] | None = None,
                     loss_name: str | None = None) -> type[Metric]:
    """Which accuracy ``"accuracy"`` means, by Keras 3's rule (see the module docstring).

    The rule reads the shapes; only when the target shape is unknown does the loss decide.
    """
    if output_units == 1:
        return BinaryAccuracy
    if y_shape is not None:
        integer_labels = len(y_shape) < 2 or (y_shape[-1] == 1 and (output_units or 2) > 1)
        return SparseCategoricalAccuracy if integer_labels else CategoricalAccuracy
    if loss_name == "binary_crossentropy":
        return BinaryAccuracy
    if loss_name == "sparse_categorical_crossentropy":
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


def get(identifier: Any, loss_name: str | None = None, output_units: int | None = None,
        y_shape: tuple[int, ...] | None = None) -> Metric:
    """A :class:`Metric` from a name, a ``Metric`` object or class, or ``{"name": ...}``.

    ``loss_name``, ``output_units`` and ``y_shape`` (the model's loss, output width and target
    shape) resolve ``"accuracy"``/``"acc"`` as Keras does; the metric's ``name`` — its History
    key — is the string given.
    """
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        key = identifier.get("name") or identifier.get("config", {}).get("name") \
            or identifier.get("class_name")
        if not isinstance(key, str):
            raise ConfigError(
                f"A metric dict needs a 'name' entry; got {identifier!r}. "
                + did_you_mean("", names())
            )
        identifier = key
    if not isinstance(identifier, str):
        raise ConfigError(
            f"Could not interpret the metric {identifier!r}: give a name or a "
            "descentlab.metrics.Metric. " + did_you_mean("", names())
        )
    key = identifier.lower()
    if key in _ACCURACY_ALIASES:
        return resolve_accuracy(output_units, y_shape, loss_name)(name=identifier)
    if key in _BY_KEY:
        return _BY_KEY[key](name=identifier)
    if key in _LOSS_METRICS:
        return LossMetric(key, name=identifier)
    raise ConfigError(f"Unknown metric {identifier!r}. " + did_you_mean(identifier, names()))


__all__ = [
    "Metric", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "MeanAbsoluteError", "MeanSquaredError", "LossMetric", "get", "names", "resolve_accuracy",
]
