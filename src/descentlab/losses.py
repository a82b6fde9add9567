"""Loss functions: the number training pushes down, and its gradient ∂L/∂ŷ.

Every loss follows Keras 3 to the formula (Keras' PyTorch backend, ``keras.config.epsilon()`` =
1e-7), with Keras' default reduction ``"sum_over_batch_size"``: a loss value per sample, then the
mean over the n samples of the batch::

    L = (1/n) Σ_i ℓ(y_i, ŷ_i)

so ``gradient`` returns ∂L/∂ŷ of that mean (already divided by n), with ŷ's shape and dtype.

The crossentropies clip probabilities into [ε, 1−ε] before the logarithm, as Keras does; where the
clip is active the Keras formula is flat, so its gradient there is exactly zero. When the output
layer's activation and the loss fit together (sigmoid + binary crossentropy, softmax +
(sparse) categorical crossentropy), ``fused_gradient`` gives ∂L/∂z for the pre-activation z in one
stable step (p − y), the form every textbook derives.

Fused versus Keras' gradient — a deliberate difference. The two agree wherever ε ≤ p ≤ 1 − ε.
Where the clip is active (p within 1e-7 of 0 or 1), Keras' formula is flat and its gradient,
chained through the activation, is exactly zero: a saturated, confidently *wrong* output gets no
learning signal at all. ``fused_gradient`` returns the true derivative of the unclipped loss
there instead — finite, with the right sign, the p − y of the textbook. The loss *value* stays
Keras' clipped one; only the gradient at saturation differs, and only when fused.

In a population (:mod:`descentlab.population`) the outputs carry a leading member axis,
(K, n, d): ``per_sample``, ``gradient`` and ``fused_gradient`` treat each member's batch on its
own (the batch axis is −2), so each member's gradient is exactly its own network's.

Quick use::

    >>> from descentlab import losses
    >>> bce = losses.get("binary_crossentropy")
    >>> bce([[1.0], [0.0]], [[0.9], [0.2]])      # (−log 0.9 − log 0.8) / 2
    0.16425203348601802
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np

from descentlab.activations import sum_last
from descentlab.errors import ConfigError, DataError, did_you_mean

__all__ = [
    "EPSILON", "Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "mean_squared_error", "mse",
    "mean_absolute_error", "mae", "binary_crossentropy", "bce", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "get", "names", "serialize", "EpochLosses",
]

#: Keras' fuzz factor ``keras.config.epsilon()``: probabilities are clipped into [ε, 1 − ε].
EPSILON = 1e-7


def _clip(p: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """clip(p, ε, 1 − ε). (np.maximum/np.minimum: the same result as np.clip, and on the small
    arrays of a training step about twice as fast.)"""
    p = np.maximum(p, EPSILON, out=out)
    return np.minimum(p, 1.0 - EPSILON, out=p)


def _as_arrays(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """``y_pred`` as an array, ``y_true`` in its dtype, both of the same rank (Keras' rule).

    Keras' ``squeeze_or_expand_to_same_rank``: labels of shape (n,) against an output of shape
    (n, 1) become (n, 1). Targets prepared by ``prepare_targets`` already fit, so in training
    this is two no-op conversions.
    """
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float64)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., np.newaxis]
    return y_true, y_pred


def _samples(p: np.ndarray) -> int:
    """n, the samples of one batch: the axis −2 (a population's outputs are (K, n, d)), or the
    only axis of a 1-D array."""
    return p.shape[-2] if p.ndim >= 2 else len(p)


def _size(p: np.ndarray) -> int:
    """n·d, the outputs of one batch (of one member, in a population)."""
    return p.shape[-2] * p.shape[-1] if p.ndim >= 2 else p.size


def _describe(y: np.ndarray) -> str:
    return f"y of shape {y.shape}"


def _looks_like_labels(y: np.ndarray) -> bool:
    """True for integer class labels of shape (n,) or (n, 1)."""
    return (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) and bool(
        np.all(y == np.round(y)) and np.all(y >= 0))


def _check_samples(name: str, y: np.ndarray, output_shape: tuple[int, ...]) -> None:
    if y.ndim == 0 or y.shape[0] != output_shape[0]:
        raise DataError(
            f"{name} got {_describe(y)}, but the model's output has {output_shape[0]} samples; "
            "give one target per sample."
        )
    if y.ndim > 2:
        raise DataError(
            f"{name} needs targets of shape (samples,) or (samples, units); got "
            f"{_describe(y)}. Flatten them first, e.g. y.reshape(len(y), -1)."
        )


class Loss:
    """Base class: a loss ℓ(y, ŷ) per sample, reduced by the mean over the batch.

    Subclasses define ``per_sample`` and ``gradient``; ``fused_gradient`` is ``None`` unless the
    output activation and the loss combine exactly.
    """

    name: str = "loss"
    aliases: tuple[str, ...] = ()

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        """L = (1/n) Σ_i ℓ(y_i, ŷ_i), the mean loss over the batch, as a Python float."""
        values = self.per_sample(y_true, y_pred)
        return float(values.sum()) / values.size

    def members(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """A population's batch losses: for outputs (K, n, d), the K numbers
        ``self(y_true[k], y_pred[k])``, each computed exactly as for one network (bit for bit,
        so a member's history is its own fit's), as float64."""
        return np.array([self(t, p) for t, p in zip(y_true, y_pred, strict=True)])

    def members_samples_last(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """:meth:`members` for outputs laid out samples last, (K, units, n) (see
        ``Population._losses_on_arrays``): here, the same numbers from the outputs turned back."""
        return self.members(y_true, np.swapaxes(y_pred, -1, -2))

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """ℓ(y_i, ŷ_i) for each sample i: an array of shape (n,)."""
        raise NotImplementedError

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        """∂L/∂ŷ of the mean loss L, with ŷ's shape and dtype."""
        raise NotImplementedError

    def fused_gradient(self, y_true: Any, z: Any, y_pred: Any,
                       activation_name: str | None) -> np.ndarray | None:
        """∂L/∂z through the output activation in one step, or ``None`` when no fused form exists.

        ``z`` is the output layer's pre-activation and ``y_pred`` = activation(z). The fused forms
        here need only ``y_pred``; ``z`` is part of the interface for forms that need the logits.
        ``None`` tells the model to chain ``gradient`` with the activation's own backward pass.
        """
        return None

    def epoch_losses(self, samples: int, batch_size: int, output_units: int, dtype: Any,
                     softmax_output: bool) -> EpochLosses | None:
        """For ``fit``: an :class:`EpochLosses` that gives an epoch's batch losses at its end,
        bit for bit the values ``__call__`` gives batch by batch, for less work per step; or
        ``None`` (the default): ``fit`` then calls the loss on every batch as it comes.
        ``softmax_output``: whether every row of the model's output is a softmax."""
        return None

    def check_targets(self, y_true: Any, output_shape: tuple[int, ...]) -> None:
        """Raise :class:`DataError` if ``y_true`` cannot be targets of this loss.

        ``output_shape`` is the model's output shape ``(samples, units)``. Called once per
        ``fit``/``evaluate``, not per batch.
        """
        y = np.asarray(y_true)
        _check_samples(self.name, y, output_shape)
        units = output_shape[-1]
        if y.shape[1:] != (units,) and not (y.ndim == 1 and units == 1):
            hint = ""
            if units == 1 and y.ndim == 2:
                hint = (" For one-hot labels give the output layer one unit per class with "
                        "softmax and use loss='categorical_crossentropy'.")
            elif units > 1 and _looks_like_labels(y):
                hint = (" These look like integer class labels: use "
                        "loss='sparse_categorical_crossentropy' with a softmax output, or one-hot "
                        "encode them.")
            raise DataError(
                f"{self.name} needs targets of the output's shape (samples, {units}); got "
                f"{_describe(y)}.{hint}"
            )

    def prepare_targets(self, y: Any, output_units: int, dtype: Any) -> np.ndarray:
        """Targets in the array form this loss computes with: ``dtype``, (n,) → (n, 1) for one unit.

        Done once per ``fit``/``evaluate``, so that batches are plain slices.
        """
        y = np.asarray(y, dtype=dtype)
        if y.ndim == 1 and output_units == 1:
            y = y.reshape(-1, 1)
        return np.ascontiguousarray(y)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class EpochLosses:
    """An epoch's batch losses, computed at its end from what each step kept of its output.

    ``fit`` calls ``start`` with the epoch's targets, ``record`` after each step, and
    ``batch_losses`` once the epoch is over. A loss offers one (``Loss.epoch_losses``) when part
    of its formula can wait for the end of the epoch and run there once on all the samples.
    """

    def start(self, y: np.ndarray) -> None:
        """A new epoch, with these targets (in the order the batches take them)."""

    def record(self, start: int, output: np.ndarray) -> bool:
        """Keep what the loss needs of the output of the batch that starts at sample ``start``;
        return whether that batch's loss is finite (``fit`` stops or raises at once if not)."""
        raise NotImplementedError

    def batch_losses(self, samples: int) -> list[float]:
        """The losses of the batches recorded, over the first ``samples`` samples."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------
class MeanSquaredError(Loss):
    """Mean squared error, Keras' ``mean_squared_error`` (``"mse"``).

    ℓ_i = (1/d) Σ_k (y_ik − ŷ_ik)²,  L = (1/n) Σ_i ℓ_i,  ∂L/∂ŷ = 2(ŷ − y)/(n·d)

    for n samples of d outputs. Targets of shape (n,) count as (n, 1) for a one-unit output.
    """

    name = "mean_squared_error"
    aliases = ("mse",)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        y, p = _as_arrays(y_true, y_pred)
        r = p - y
        # Every sample has d outputs, so the mean of the per-sample means is the overall mean.
        return float(np.vdot(r, r)) / r.size

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        return np.mean(np.square(y - p), axis=-1)

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        grad = p - y
        grad *= 2.0 / _size(grad)
        return grad


class MeanAbsoluteError(Loss):
    """Mean absolute error, Keras' ``mean_absolute_error`` (``"mae"``).

    ℓ_i = (1/d) Σ_k |y_ik − ŷ_ik|,  ∂L/∂ŷ = sign(ŷ − y)/(n·d)   (0 where ŷ = y, as torch's abs)
    """

    name = "mean_absolute_error"
    aliases = ("mae",)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        y, p = _as_arrays(y_true, y_pred)
        r = np.abs(p - y)
        return float(r.sum()) / r.size

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        return np.mean(np.abs(y - p), axis=-1)

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        grad = np.sign(p - y)
        grad /= _size(grad)
        return grad


# --------------------------------------------------------------------------------------------
# Probabilistic: crossentropies with Keras' clipping
# --------------------------------------------------------------------------------------------
class BinaryCrossentropy(Loss):
    """Binary crossentropy, Keras' ``binary_crossentropy`` on probabilities (``from_logits=False``).

    With p = clip(ŷ, ε, 1 − ε) elementwise (ε = 1e-7) and d outputs per sample::

        ℓ_i = (1/d) Σ_k −[ y_ik log p_ik + (1 − y_ik) log(1 − p_ik) ]

    (torch's ``binary_cross_entropy``, which computes log(1 − p) as log1p(−p) and clamps both
    logarithms at −100; after the clip they are ≥ log ε ≈ −16.1, so that clamp never acts.)
    Labels y are probabilities of the positive class, in [0, 1].

    Gradient of the Keras formula (zero where the clip is active, i.e. ŷ < ε or ŷ > 1 − ε)::

        ∂L/∂ŷ = (p − y) / (p (1 − p)) / (n·d)

    Fused with a sigmoid output p = σ(z), since σ'(z) = p(1 − p) the division cancels::

        ∂L/∂z = (p − y) / (n·d)
    """

    name = "binary_crossentropy"
    aliases = ("bce",)

    @staticmethod
    def _elementwise(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        p = _clip(p)
        out = np.log1p(-p)
        out *= 1.0 - y
        out += y * np.log(p)
        return np.negative(out, out=out)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        y, p = _as_arrays(y_true, y_pred)
        p = _clip(p)
        # −(1/(n·d)) Σ [y log p + (1 − y) log(1 − p)], the two sums as dot products.
        total = np.vdot(y, np.log(p)) + np.vdot(1.0 - y, np.log1p(-p))
        return -float(total) / p.size

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        return np.mean(self._elementwise(y, p), axis=-1)

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        inside = (p >= EPSILON) & (p <= 1.0 - EPSILON)   # torch.clip passes the gradient here
        p = _clip(p)
        grad = (p - y) / ((1.0 - p) * p)
        grad *= inside
        grad /= _size(grad)
        return grad

    def fused_gradient(self, y_true: Any, z: Any, y_pred: Any,
                       activation_name: str | None) -> np.ndarray | None:
        """sigmoid + binary crossentropy: ∂L/∂z = (p − y)/(n·d) with p = ŷ = σ(z); else ``None``.

        Differs from Keras' chained gradient only where p is within 1e-7 of 0 or 1: there Keras'
        clip gives exactly 0 and this gives the true derivative (see the module docstring).
        """
        if activation_name != "sigmoid":
            return None
        y, p = _as_arrays(y_true, y_pred)
        grad = p - y
        grad /= _size(grad)
        return grad

    def check_targets(self, y_true: Any, output_shape: tuple[int, ...]) -> None:
        super().check_targets(y_true, output_shape)
        y = np.asarray(y_true)
        low, high = y.min(), y.max()
        if low < 0 or high > 1:
            bad = low if low < 0 else high
            raise DataError(
                f"binary_crossentropy needs labels in [0, 1] (the probability of the positive "
                f"class); got {bad:g}. For more than two classes use a softmax output with "
                "sparse_categorical_crossentropy (integer labels) or categorical_crossentropy "
                "(one-hot labels)."
            )


class CategoricalCrossentropy(Loss):
    """Categorical crossentropy, Keras' ``categorical_crossentropy`` on probabilities.

    Keras first renormalises the output row to sum to 1, then clips (ε = 1e-7)::

        q_i = ŷ_i / Σ_k ŷ_ik,   c_i = clip(q_i, ε, 1 − ε),   ℓ_i = −Σ_k y_ik log c_ik

    y is one-hot (or any distribution over the classes). Gradient of that formula, with
    g = −y/c where ε ≤ q ≤ 1 − ε and 0 where the clip is active, s_i = Σ_k ŷ_ik::

        ∂L/∂ŷ_ik = (g_ik − Σ_j g_ij q_ij) / s_i / n

    Fused with a softmax output p = softmax(z) (which already sums to 1)::

        ∂L/∂z = (p · Σ_k y_k − y) / n         (= (p − y)/n for one-hot y)

    exact for any label vector, also one that does not sum to 1.
    """

    name = "categorical_crossentropy"

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        q = p / p.sum(axis=-1, keepdims=True)
        _clip(q, out=q)
        return -np.sum(y * np.log(q, out=q), axis=-1)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        y, p = _as_arrays(y_true, y_pred)
        q = p / np.add.reduce(p, axis=-1, keepdims=True)
        _clip(q, out=q)
        return -float(np.vdot(y, np.log(q, out=q))) / len(q)

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y, p = _as_arrays(y_true, y_pred)
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        inside = (q >= EPSILON) & (q <= 1.0 - EPSILON)
        g = -y / _clip(q)
        g *= inside
        grad = g - np.sum(g * q, axis=-1, keepdims=True)
        grad /= s
        grad /= _samples(grad)
        return grad

    def fused_gradient(self, y_true: Any, z: Any, y_pred: Any,
                       activation_name: str | None) -> np.ndarray | None:
        """softmax + categorical crossentropy: ∂L/∂z = (p·Σy − y)/n; else ``None``.

        Differs from Keras' chained gradient only where p is within 1e-7 of 0 or 1: there Keras'
        clip gives exactly 0 and this gives the true derivative (see the module docstring).
        """
        if activation_name != "softmax":
            return None
        y, p = _as_arrays(y_true, y_pred)
        grad = p * y.sum(axis=-1, keepdims=True)
        grad -= y
        grad /= _samples(grad)
        return grad

    def check_targets(self, y_true: Any, output_shape: tuple[int, ...]) -> None:
        y = np.asarray(y_true)
        _check_samples(self.name, y, output_shape)
        units = output_shape[-1]
        if y.ndim != 2 or y.shape[1] != units:
            if units > 1 and _looks_like_labels(y):
                hint = (" These look like integer class labels: use "
                        "loss='sparse_categorical_crossentropy', or one-hot encode them "
                        "(e.g. keras.utils.to_categorical or pandas.get_dummies).")
            else:
                hint = ""
            raise DataError(
                f"categorical_crossentropy needs one-hot targets with one column per output "
                f"unit, shape (samples, {units}); got {_describe(y)}.{hint}"
            )
        if units == 1:
            warnings.warn(
                "categorical_crossentropy with a 1-unit output is always 0 (the normalised "
                "output is 1): use binary_crossentropy with a sigmoid output for two classes.",
                UserWarning, stacklevel=2,
            )


class SparseCategoricalCrossentropy(Loss):
    """Sparse categorical crossentropy: categorical crossentropy with integer labels.

    Labels t_i ∈ {0, …, units − 1}, of shape (n,) or (n, 1). As Keras (normalise, clip, pick)::

        q_i = ŷ_i,t_i / Σ_k ŷ_ik,   ℓ_i = −log clip(q_i, ε, 1 − ε)

    Gradient of that formula, with g_i = −1/q_i where ε ≤ q_i ≤ 1 − ε (else 0), s_i = Σ_k ŷ_ik::

        ∂L/∂ŷ_ik = g_i ([k = t_i] − q_i) / s_i / n

    Fused with a softmax output p::

        ∂L/∂z = (p − onehot(t)) / n
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self) -> None:
        self._rows = np.arange(0)
        self._samples = np.arange(0)  # 0, ..., n − 1 of members_samples_last, kept
        self._eye = np.eye(0)

    def _arrays(self, y_true: Any, y_pred: Any,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
        """Labels t and outputs p with one row per sample — a population's (K, n, ·) outputs
        as K·n rows, member after member —, the row numbers, to pick ŷ_i,t_i, and p's shape."""
        p = np.asarray(y_pred)
        shape = p.shape
        t = np.asarray(y_true)
        if t.ndim == p.ndim:
            t = t.reshape(t.shape[:-1])
        if t.dtype.kind not in "iu":
            t = t.astype(np.intp)
        if t.ndim > 1:
            t, p = t.reshape(-1), p.reshape(-1, shape[-1])
        if len(self._rows) != len(t):
            self._rows = np.arange(len(t))
        return t, p, self._rows, shape

    def _target_probability(self, y_true: Any, y_pred: Any) -> tuple[Any, ...]:
        t, p, rows, shape = self._arrays(y_true, y_pred)
        s = sum_last(p)[:, 0]  # Σ_k ŷ_ik (1 for a softmax, to rounding), every step
        q = p[rows, t] / s
        return t, p, rows, shape, s, q

    def per_sample(self, y_true: Any, y_pred: Any) -> np.ndarray:
        *_, shape, _, q = self._target_probability(y_true, y_pred)
        return -np.log(_clip(q)).reshape(shape[:-1])

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        q = self._target_probability(y_true, y_pred)[-1]
        _clip(q, out=q)
        return -float(np.add.reduce(np.log(q, out=q))) / len(q)

    def members(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """All members at once: each row of log q is summed as one network's (NumPy sums a
        contiguous row pairwise, as it sums a 1-D array), so each equals ``self(t_k, p_k)``."""
        *_, shape, _, q = self._target_probability(y_true, y_pred)
        _clip(q, out=q)
        sums = np.add.reduce(np.log(q, out=q).reshape(shape[:-1]), axis=-1)
        return -sums.astype(np.float64) / shape[-2]

    def members_samples_last(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """:meth:`members` for outputs p laid out (K, units, n): the same formula, with the sums
        over the classes taken down the columns (K, n) instead of along 10-long rows — one pass
        over whole rows of samples. The same numbers to rounding: a row's 10 probabilities are
        added in another order (float64: ~1e-16; float32: ~1e-7, relative)."""
        t = np.asarray(y_true)
        if t.ndim == y_pred.ndim:  # labels (..., n, 1)
            t = t[..., 0]
        if t.ndim == 2 and t.strides[0] == 0:  # labels shared, broadcast to the members
            t = t[0]
        t = t.astype(np.intp, copy=False)
        n = y_pred.shape[-1]
        s = np.add.reduce(y_pred, axis=-2)  # Σ_k ŷ_ik, (K, n)
        if t.ndim == 1:  # labels shared by the members
            if len(self._samples) != n:
                self._samples = np.arange(n)
            # ŷ[k, t_i, i] as the flat element t_i·n + i of member k's (units·n): np.take gives
            # q C-contiguous, so that its sum below is NumPy's pairwise one, as in __call__
            # (y_pred[:, t, i] would give q strided, summed one element after another).
            q = np.take(y_pred.reshape(*y_pred.shape[:-2], -1), t * n + self._samples, axis=-1)
        else:  # each member its own labels (K, n)
            q = np.take_along_axis(y_pred, t[:, np.newaxis, :], axis=-2)[:, 0]
        q /= s
        _clip(q, out=q)
        sums = np.add.reduce(np.log(q, out=q), axis=-1)
        return -sums.astype(np.float64) / n

    def gradient(self, y_true: Any, y_pred: Any) -> np.ndarray:
        t, p, rows, shape, s, q = self._target_probability(y_true, y_pred)
        inside = (q >= EPSILON) & (q <= 1.0 - EPSILON)
        g = -1.0 / _clip(q)
        g *= inside
        g /= s * shape[-2]  # n samples (per member)
        grad = np.empty_like(p)
        grad[...] = (-g * q)[:, np.newaxis]
        grad[rows, t] += g
        return grad.reshape(shape)

    def fused_gradient(self, y_true: Any, z: Any, y_pred: Any,
                       activation_name: str | None) -> np.ndarray | None:
        """softmax + sparse categorical crossentropy: ∂L/∂z = (p − onehot(t))/n; else ``None``.

        Differs from Keras' chained gradient only where p is within 1e-7 of 0 or 1: there Keras'
        clip gives exactly 0 and this gives the true derivative (see the module docstring).
        """
        if activation_name != "softmax":
            return None
        t, p, _, shape = self._arrays(y_true, y_pred)
        if len(self._eye) != shape[-1] or self._eye.dtype != p.dtype:
            self._eye = np.eye(shape[-1], dtype=p.dtype)  # row t: onehot(t), kept
        grad = p - self._eye.take(t, axis=0)  # p − 0 is p: only p_i,t_i changes
        grad /= shape[-2]  # n samples (per member)
        return grad if grad.shape == shape else grad.reshape(shape)  # a population's (K, n, d)

    def epoch_losses(self, samples: int, batch_size: int, output_units: int, dtype: Any,
                     softmax_output: bool) -> EpochLosses | None:
        # This class's own __call__, on rows of a softmax (see _SparseEpochLosses).
        if type(self) is not SparseCategoricalCrossentropy or not softmax_output:
            return None
        return _SparseEpochLosses(samples, batch_size, output_units, dtype)

    def check_targets(self, y_true: Any, output_shape: tuple[int, ...]) -> None:
        y = np.asarray(y_true)
        _check_samples(self.name, y, output_shape)
        units = output_shape[-1]
        if y.ndim == 2 and y.shape[1] != 1:
            hint = (" These look one-hot: use loss='categorical_crossentropy'."
                    if y.shape[1] == units else "")
            raise DataError(
                f"sparse_categorical_crossentropy needs integer class labels of shape (samples,) "
                f"or (samples, 1); got {_describe(y)}.{hint}"
            )
        if y.dtype.kind not in "iub":
            fractional = y != np.round(y)
            if fractional.any():
                raise DataError(
                    f"sparse_categorical_crossentropy needs integer class labels; got "
                    f"{y[fractional].flat[0]:g}. Valid labels are the integers 0 to {units - 1}."
                )
        low, high = y.min(), y.max()
        if low < 0 or high > units - 1:
            bad = low if low < 0 else high
            hint = (" For two classes with one sigmoid unit use binary_crossentropy."
                    if units == 1 else "")
            raise DataError(
                f"sparse_categorical_crossentropy got label {bad:g}, but the output layer has "
                f"{units} unit{'s' if units != 1 else ''} (classes), so valid labels are the "
                f"integers 0 to {units - 1}.{hint}"
            )

    def prepare_targets(self, y: Any, output_units: int, dtype: Any) -> np.ndarray:
        """Labels as int64 of shape (n,) (``dtype`` is the model's float type, not used here)."""
        return np.ascontiguousarray(np.asarray(y).reshape(len(y)).astype(np.int64))


class _SparseEpochLosses(EpochLosses):
    """Sparse categorical crossentropy over an epoch of ``fit`` whose outputs are softmax rows,
    computed from the rows kept, not step by step.

    Each step keeps a copy of its batch's output ŷ and looks for a NaN in it. A softmax row is
    either in [0, 1] and sums to at least 1/units, or holds a NaN; so q_i = ŷ_i,t_i / Σ_k ŷ_ik is
    a number, and the batch's loss −(1/n) Σ_i log clip(q_i, ε, 1 − ε) finite, exactly when the
    batch's output holds no NaN. The lines of ``SparseCategoricalCrossentropy.__call__`` then run
    on many rows at once: the row sums and q whenever the rows kept fill their buffer (at most
    ``KEPT_BYTES``) and at the end of the epoch, the clip and the logarithm at the end. Each works
    on every row or element on its own, so the numbers are the same; each batch's values are then
    summed as ``__call__`` sums them (one row per batch: the same sums, bit for bit).
    """

    #: The most bytes of outputs kept before they are folded into q (whole batches; at least one).
    KEPT_BYTES = 4 << 20

    def __init__(self, samples: int, batch_size: int, units: int, dtype: Any) -> None:
        self.batch_size = batch_size
        batches = max(1, self.KEPT_BYTES // (batch_size * units * np.dtype(dtype).itemsize))
        self.outputs = np.empty((min(samples, batches * batch_size), units), dtype=dtype)
        self.q = np.empty(samples, dtype=dtype)
        self._row_starts = np.arange(len(self.outputs)) * units  # row i, flattened: i · units
        self.y = np.empty(0, dtype=np.intp)
        self.kept_from = 0  # the sample whose output is the first row kept
        self.kept = 0  # the rows kept

    def start(self, y: np.ndarray) -> None:
        self.y, self.kept_from, self.kept = y, 0, 0

    def record(self, start: int, output: np.ndarray) -> bool:
        kept, rows = self.kept, len(output)
        if kept + rows > len(self.outputs):
            self._fold()
            kept = 0
        self.outputs[kept:kept + rows] = output
        self.kept = kept + rows
        return not math.isnan(np.vdot(output, output))  # Σ ŷ² is NaN exactly when some ŷ is

    def _fold(self) -> None:
        """q_i = ŷ_i,t_i / Σ_k ŷ_ik of the rows kept, into q; the buffer is free again."""
        first, rows = self.kept_from, self.kept
        outputs, q = self.outputs[:rows], self.q[first:first + rows]
        outputs.take(self._row_starts[:rows] + self.y[first:first + rows], out=q)  # ŷ_i,t_i
        q /= sum_last(outputs)[:, 0]  # the row sums as __call__ takes them
        self.kept_from, self.kept = first + rows, 0

    def batch_losses(self, samples: int) -> list[float]:
        if self.kept:
            self._fold()
        q = _clip(self.q[:samples])  # a copy: q stays as it is
        np.log(q, out=q)
        size = self.batch_size
        whole = samples // size * size
        sums = np.add.reduce(q[:whole].reshape(-1, size), axis=-1)  # Σ_i log clip(q_i) per batch
        losses = (-sums.astype(np.float64) / size).tolist()  # __call__'s −float(total) / n
        if whole < samples:  # a last, smaller batch
            losses.append(-float(np.add.reduce(q[whole:])) / (samples - whole))
        return losses


# --------------------------------------------------------------------------------------------
# Keras-style functions (per-sample values) and look-up by name
# --------------------------------------------------------------------------------------------
_CLASSES: tuple[type[Loss], ...] = (
    MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean squared error, as ``keras.losses.mean_squared_error``."""
    return MeanSquaredError().per_sample(y_true, y_pred)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample mean absolute error, as ``keras.losses.mean_absolute_error``."""
    return MeanAbsoluteError().per_sample(y_true, y_pred)


def binary_crossentropy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample binary crossentropy, as ``keras.losses.binary_crossentropy``."""
    return BinaryCrossentropy().per_sample(y_true, y_pred)


def categorical_crossentropy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample categorical crossentropy, as ``keras.losses.categorical_crossentropy``."""
    return CategoricalCrossentropy().per_sample(y_true, y_pred)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any) -> np.ndarray:
    """Per-sample sparse categorical crossentropy, as Keras' function of that name."""
    return SparseCategoricalCrossentropy().per_sample(y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error
bce = binary_crossentropy

_FUNCTIONS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}
_BY_NAME: dict[str, type[Loss]] = {}
for _cls in _CLASSES:
    for _key in (_cls.name, *_cls.aliases, _cls.__name__):
        _BY_NAME[_key.lower()] = _cls


def names() -> list[str]:
    """The loss names ``compile`` accepts (aliases included)."""
    return [key for cls in _CLASSES for key in (cls.name, *cls.aliases)]


def get(identifier: Any) -> Loss:
    """A :class:`Loss` from a name (``"mse"``, ``"binary_crossentropy"``, ``"BinaryCrossentropy"``),
    a ``Loss`` object or class, one of this module's functions, or a ``serialize`` dict."""
    if isinstance(identifier, Loss):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        key = identifier.get("class_name") or identifier.get("config", {}).get("name") \
            or identifier.get("name")
        if not isinstance(key, str):
            raise ConfigError(
                f"A loss dict needs a 'class_name' or 'name' entry; got {identifier!r}. "
                + did_you_mean("", names())
            )
        return get(key)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ConfigError(f"Unknown loss {identifier!r}. " + did_you_mean(identifier, names()))
        return cls()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    raise ConfigError(
        f"Could not interpret the loss {identifier!r}: give a name or a descentlab.losses.Loss "
        "(a custom loss needs a gradient, so it must subclass Loss). " + did_you_mean("", names())
    )


def serialize(loss: Loss) -> dict[str, Any]:
    """A JSON-ready description of ``loss`` that :func:`get` turns back into the same loss."""
    loss = get(loss)
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
