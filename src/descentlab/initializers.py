"""Initializers: the starting weights, drawn with Keras 3's formulas.

The scale of the initial weights decides whether signals and gradients keep their size through
depth. With n inputs per unit, Var(z) = n·Var(w)·E[x²]: weights with Var(w) ≈ 1/n keep the
variance of z constant from layer to layer. The variance-scaling initializers set

    Var(w) = scale / n,   n = fan_in, fan_out or (fan_in + fan_out)/2 ("fan_avg")

==============  =====  =======  ===================================  ================
initializer     scale  n        distribution                         std of w
==============  =====  =======  ===================================  ================
glorot_uniform  1      fan_avg  U(−a, a), a = √(6/(fan_in+fan_out))  √(2/(in + out))
glorot_normal   1      fan_avg  truncated normal                     √(2/(in + out))
he_uniform      2      fan_in   U(−a, a), a = √(6/fan_in)            √(2/fan_in)
he_normal       2      fan_in   truncated normal                     √(2/fan_in)
lecun_uniform   1      fan_in   U(−a, a), a = √(3/fan_in)            √(1/fan_in)
lecun_normal    1      fan_in   truncated normal                     √(1/fan_in)
==============  =====  =======  ===================================  ================

Glorot (Xavier) suits tanh/sigmoid, He suits relu (half the units are off, so twice the variance),
LeCun suits selu. The "normal" ones follow Keras: a normal truncated at ±2σ₀ whose σ₀ is divided by
0.87962566103423978 — the standard deviation of a standard normal truncated to (−2, 2) — so that
after truncation the weights have exactly the target standard deviation √(scale/n).

For a Dense kernel of shape (inputs, units): fan_in = inputs, fan_out = units (Keras' rule; see
:func:`compute_fans`).

Every initializer is called as ``init(shape, dtype=None, rng=None)``. The values come from ``rng``
(a NumPy ``Generator``); by default from ``seed`` if the initializer was given one (then every call
returns the same values, as in Keras), else from the global generator that
``descentlab.set_random_seed`` seeds. Draws are made in float64 and then cast to ``dtype``
(default ``floatx()``), so float32 and float64 models seeded alike start from the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab import backend
from descentlab.errors import ConfigError, did_you_mean, instantiate, name_and_params
from descentlab.validation import check_float, check_int

#: Standard deviation of a standard normal truncated to (−2, 2), the constant Keras divides by.
TRUNCATED_NORMAL_STD = 0.87962566103423978


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as Keras computes them.

    ``()`` → (1, 1); ``(n,)`` → (n, n); ``(inputs, units)`` → (inputs, units); a convolution
    kernel ``(*receptive_field, in_channels, out_channels)`` → both channels times the receptive
    field size.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise ConfigError(
            f"A weight shape must be a tuple of non-negative integers; got {shape!r}."
        )
    return tuple(int(d) for d in dims)


def _dtype(dtype: Any, floating: bool = True) -> np.dtype:
    if dtype is None:
        return backend.dtype()
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ConfigError(f"Unknown dtype {dtype!r}; use 'float32' or 'float64'.") from exc
    if floating and dt.kind != "f":
        raise ConfigError(f"Random initial weights must be floats; got dtype {dt.name!r}.")
    return dt


def _cast(w: Any, dtype: np.dtype) -> np.ndarray:
    # np.asarray: arithmetic on a 0-d array gives a NumPy scalar; callers always get an ndarray.
    return np.asarray(w).astype(dtype, copy=False)


def _number(value: Any, what: str, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite number (> 0 if ``positive``, ≥ 0 if ``nonnegative``)."""
    low = 0.0 if positive or nonnegative else None
    return check_float(value, what, low=low, low_open=positive)


def _seed(seed: Any) -> int | None:
    if seed is None:
        return None
    return check_int(seed, "An initializer seed", low=0, what="an integer ≥ 0 or None")


def truncated_standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal values restricted to (−2, 2): every value outside is drawn again.

    Vectorised and deterministic: one draw for the whole array, then one draw per round for the
    values still out of range (4.55 % of them, so a few rounds suffice).
    """
    z = rng.standard_normal(math.prod(shape))
    redraw = np.flatnonzero(np.abs(z) >= 2.0)
    while redraw.size:
        z[redraw] = rng.standard_normal(redraw.size)
        redraw = redraw[np.abs(z[redraw]) >= 2.0]
    return z.reshape(shape)


class Initializer:
    """Base class: ``init(shape, dtype=None, rng=None) -> ndarray`` and ``get_config()``."""

    name: str = ""

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k != "name"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


class Zeros(Initializer):
    """w = 0 (the default for biases)."""

    name = "zeros"

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        return np.zeros(_shape(shape), dtype=_dtype(dtype, floating=False))


class Ones(Initializer):
    """w = 1."""

    name = "ones"

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        return np.ones(_shape(shape), dtype=_dtype(dtype, floating=False))


class Constant(Initializer):
    """w = value (a scalar)."""

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = _number(value, "constant value")

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        return np.full(_shape(shape), self.value, dtype=_dtype(dtype, floating=False))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class RandomInitializer(Initializer):
    """Base of the random initializers: where the random numbers come from."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = _seed(seed)

    def generator(self, rng: np.random.Generator | None = None) -> np.random.Generator:
        """``rng`` if given; else a fresh generator from ``seed``; else the global generator."""
        if rng is not None:
            return rng
        if self.seed is not None:
            return np.random.default_rng(self.seed)
        return backend.rng()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed}


class RandomNormal(RandomInitializer):
    """w ~ N(mean, stddev²); Keras' defaults mean = 0, stddev = 0.05."""

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean = _number(mean, "random_normal mean")
        self.stddev = _number(stddev, "random_normal stddev", nonnegative=True)

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        z = self.generator(rng).standard_normal(shape)
        return _cast(self.mean + self.stddev * z, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """w ~ N(mean, stddev²) restricted to (mean − 2·stddev, mean + 2·stddev), values outside drawn
    again. The result has standard deviation ≈ 0.8796·stddev. Keras' defaults 0 and 0.05."""

    name = "truncated_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean = _number(mean, "truncated_normal mean")
        self.stddev = _number(stddev, "truncated_normal stddev", nonnegative=True)

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        z = truncated_standard_normal(self.generator(rng), shape)
        return _cast(self.mean + self.stddev * z, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """w ~ U(minval, maxval), Keras' defaults ±0.05; ``limit=a`` means minval=−a, maxval=a."""

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None,
                 *, limit: float | None = None) -> None:
        super().__init__(seed)
        if limit is not None:
            limit = _number(limit, "random_uniform limit", nonnegative=True)
            minval, maxval = -limit, limit
        self.minval = _number(minval, "random_uniform minval")
        self.maxval = _number(maxval, "random_uniform maxval")
        if self.minval > self.maxval:
            raise ConfigError(
                f"random_uniform needs minval ≤ maxval; got minval={self.minval!r}, "
                f"maxval={self.maxval!r} (for ±a write limit=a)."
            )

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        w = self.generator(rng).uniform(self.minval, self.maxval, shape)
        return _cast(w, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Weights with Var(w) = scale / n, n from the shape (Keras' ``VarianceScaling``).

    n = fan_in, fan_out or (fan_in + fan_out)/2 for ``mode`` = "fan_in", "fan_out", "fan_avg"
    (at least 1). ``distribution``:

    - "truncated_normal" (alias "normal"): normal truncated at ±2σ₀, σ₀ = √(scale/n) / 0.8796…,
      so the truncated weights have standard deviation √(scale/n);
    - "untruncated_normal": N(0, scale/n);
    - "uniform": U(−limit, limit) with limit = √(3·scale/n) (the variance of U(−a, a) is a²/3).
    """

    name = "variance_scaling"
    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        super().__init__(seed)
        self.scale = _number(scale, "variance_scaling scale", positive=True)
        if mode not in self.MODES:
            raise ConfigError(
                f"Unknown variance_scaling mode {mode!r}. {did_you_mean(mode, list(self.MODES))}"
            )
        dist = str(distribution).lower()
        dist = "truncated_normal" if dist == "normal" else dist
        if dist not in self.DISTRIBUTIONS:
            raise ConfigError(
                f"Unknown variance_scaling distribution {distribution!r}. "
                f"{did_you_mean(dist, list(self.DISTRIBUTIONS))}"
            )
        self.mode = mode
        self.distribution = dist

    def target_stddev(self, shape: Any) -> float:
        """√(scale / n): the standard deviation of the weights this draws for ``shape``."""
        fan_in, fan_out = compute_fans(_shape(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return math.sqrt(self.scale / max(1.0, n))

    def __call__(self, shape: Any, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        shape, dtype = _shape(shape), _dtype(dtype)
        rng = self.generator(rng)
        std = self.target_stddev(shape)
        if self.distribution == "truncated_normal":
            w = (std / TRUNCATED_NORMAL_STD) * truncated_standard_normal(rng, shape)
        elif self.distribution == "untruncated_normal":
            w = std * rng.standard_normal(shape)
        else:
            limit = math.sqrt(3.0) * std  # √(3·scale/n)
            w = rng.uniform(-limit, limit, shape)
        return _cast(w, dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution}


class _NamedVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution; only ``seed`` is free."""

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(self.SCALE, self.MODE, self.DISTRIBUTION, seed)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed}


class GlorotUniform(_NamedVarianceScaling):
    """Glorot/Xavier uniform (Keras' default kernel initializer):
    w ~ U(−a, a), a = √(6 / (fan_in + fan_out)); Var(w) = 2 / (fan_in + fan_out)."""

    name = "glorot_uniform"
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_NamedVarianceScaling):
    """Glorot/Xavier normal: truncated normal with std √(2 / (fan_in + fan_out))."""

    name = "glorot_normal"
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_NamedVarianceScaling):
    """He uniform: w ~ U(−a, a), a = √(6 / fan_in); Var(w) = 2 / fan_in (for relu)."""

    name = "he_uniform"
    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "uniform"


class HeNormal(_NamedVarianceScaling):
    """He normal: truncated normal with std √(2 / fan_in) (for relu)."""

    name = "he_normal"
    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_NamedVarianceScaling):
    """LeCun uniform: w ~ U(−a, a), a = √(3 / fan_in); Var(w) = 1 / fan_in."""

    name = "lecun_uniform"
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "uniform"


class LecunNormal(_NamedVarianceScaling):
    """LeCun normal: truncated normal with std √(1 / fan_in) (for selu)."""

    name = "lecun_normal"
    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


# Keras spells each initializer both ways: keras.initializers.glorot_uniform is GlorotUniform.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal

_CLASSES: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                LecunUniform, LecunNormal)
}
_CLASS_NAMES = {cls.__name__: name for name, cls in _CLASSES.items()}  # "GlorotUniform" → ...


def names() -> list[str]:
    """The valid initializer names, sorted."""
    return sorted(_CLASSES)


def _from_name(name: str, params: dict[str, Any]) -> Initializer:
    key = _CLASS_NAMES.get(name, name)
    if key not in _CLASSES:
        raise ConfigError(f"Unknown initializer {name!r}. {did_you_mean(name, names())}")
    return instantiate("Initializer", key, _CLASSES[key], params)


def get(identifier: Any) -> Any:
    """An initializer from a name (``"he_normal"`` or Keras' ``"HeNormal"``), a config dict
    (``{"name": ..., ...}`` or Keras' ``{"class_name": ..., "config": {...}}``), an initializer
    object or class, or any callable ``f(shape, dtype=None)`` (returned as is)."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier, {})
    if isinstance(identifier, dict):
        return _from_name(*name_and_params(identifier, "An initializer", names()))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ConfigError(
        f"An initializer must be a name, a config dict or an initializer object; got "
        f"{identifier!r}. {did_you_mean(str(identifier), names())}"
    )


def serialize(initializer: Any) -> dict[str, Any]:
    """The JSON-ready config ``{"name": ..., <parameters>}`` of an initializer."""
    init = get(initializer)
    if not isinstance(init, Initializer):
        raise ConfigError(
            f"Cannot save the custom initializer {init!r}: only descentlab initializers "
            f"({', '.join(names())}) can be written to a model file."
        )
    return init.get_config()


def deserialize(config: Any) -> Initializer:
    """The initializer described by ``config`` (the inverse of :func:`serialize`)."""
    return get(config)
