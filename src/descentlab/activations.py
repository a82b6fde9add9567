"""Activation functions: the value f(z), its derivative f'(z), and the backward pass.

In a layer ``a = f(z)`` with ``z = x·W + b``; backpropagation multiplies the upstream gradient by
f'(z) elementwise::

    ∂L/∂z = ∂L/∂a ⊙ f'(z)

That factor is where gradients vanish: |f'(z)| ≤ ``max_derivative``, so through L sigmoid layers
the product of derivatives is at most 0.25^L (0.25^5 ≈ 0.001).

Each activation is one small class with

- ``f(x)``, ``df(x)``: the formula and its derivative (float arrays of at least one dimension);
- ``__call__(x)``, ``derivative(x)``: the same for anything array-like (lists, scalars, ints);
- ``df_given(x, y)``: f'(x) given also the output ``y = f(x)`` kept from the forward pass,
  used where it is cheaper (sigmoid: ``y·(1−y)``); ``df(x)`` unless a class has a better way;
- ``backward(x, y, grad)``: ∂L/∂x = ``grad`` ⊙ ``df_given(x, y)``, given the upstream gradient
  ``grad``. This runs on every training step, so it works in one fresh temporary; it never
  modifies ``x``, ``y`` or ``grad`` (linear and softmax have their own);
- ``writes_out``: True when ``f`` and ``df_given`` also take ``out=``, an array of the result's
  shape and dtype to compute in instead of a fresh one (sigmoid, tanh, relu, softplus: a
  population comparing them computes each group of members in its part of one array);
- ``name``, ``max_derivative`` (sup |f'|), ``saturating`` (f' → 0 on both sides: the unit can
  saturate), ``relu_family`` (the unit can die: f = 0 and f' = 0 on a whole half-line — only
  ``relu``; leaky_relu, elu, selu keep a non-zero slope for x < 0), ``output_only`` (softmax);
- ``get_config()``: ``{"name": ..., <parameters>}``.

Numerics: every formula is written so that no ``exp`` can overflow (only exponents ≤ 0 are
taken), so inputs of ±1000, ±1e6 or ±1e30 give the right limits with no warning.
Output dtype = input dtype (float32 in, float32 out).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from descentlab import backend
from descentlab.errors import ConfigError, did_you_mean, instantiate
from descentlab.validation import check_bool, check_float, check_int

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _float_input(x: Any) -> np.ndarray:
    """``x`` as a float array: float arrays as they are (no copy), anything else (ints, Python
    numbers, lists) in ``floatx()``, as Keras converts its inputs."""
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
        return np.asarray(x)
    return np.asarray(x, dtype=backend.floatx())


def _sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{−x}), in four passes over x, in ``out`` if given (the vanishing lab's
    deep sigmoid networks spend a quarter of their time here).

    Accurate in both tails: for x ≪ 0, e^{−x} is large and 1/(1 + e^{−x}) keeps its relative
    precision (σ(−40) ≈ 4.2e−18, not 0); where e^{−x} overflows to ∞ (x below −88 in float32,
    −709 in float64) the result is 1/∞ = 0, the nearest float to the truth but for subnormals
    (σ(−1e6) = 0 exactly). That overflow is expected, not reported.
    """
    with np.errstate(over="ignore"):
        y = np.negative(x, out=out)
        np.exp(y, out=y)  # e^{−x}
    y += 1.0
    np.reciprocal(y, out=y)
    return y


def _standard_normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) = ½(1 + erf(x/√2)), accurate in both tails (Φ(−10) ≈ 7.6e−24, not 0)."""
    # NumPy has no erf. SciPy comes with scikit-learn (a dependency); it is imported here, on first
    # use, so that importing descentlab does not pay for loading scipy.special.
    from scipy.special import ndtr

    return ndtr(x)


def reduce_along(ufunc: np.ufunc, x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``ufunc.reduce(x, axis, keepdims=True)``: e.g. the max of each row of classes.

    NumPy reduces a short last axis (10 classes) one row at a time, at ~40–150 ns per row: most
    of a softmax over a population's 1,024 rows. Over the first axis of a transposed copy it
    combines whole columns instead, 5× faster; that pays from 16 rows on (one batch of 32: 2.3
    → 1.6 µs). (For a maximum the order makes no difference; sums over the last axis use
    :func:`sum_last`.)"""
    if axis != -1 or x.ndim < 2 or x.shape[-1] > 32 or x.size < 16 * x.shape[-1]:
        return ufunc.reduce(x, axis=axis, keepdims=True)
    rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
    combined = ufunc.reduce(rows.T.copy(), axis=0)  # over the columns (classes, rows)
    return combined[:, np.newaxis] if x.ndim == 2 else combined.reshape(x.shape[:-1] + (1,))


def sum_last(x: np.ndarray) -> np.ndarray:
    """Σ over the last axis, kept as an axis of 1: ``x.sum(axis=-1, keepdims=True)``.

    Computed as ``x @ 1``, a product with a column of ones: one BLAS call per network — per
    member of a population's (K, batch, classes) — 2–7× faster than NumPy's sums of short rows,
    and each member's sums are bit for bit those of its network alone, whatever K."""
    return np.matmul(x, backend.ones((x.shape[-1], 1), x.dtype))


class ActivationFunction:
    """Base class: subclasses set the attributes and write ``f``, ``df`` and ``backward``."""

    name: str = ""
    #: Supremum of |f'(x)| over all x: the most one layer can multiply a gradient by.
    max_derivative: float = 1.0
    #: True when f'(x) → 0 for x → −∞ and x → +∞ (bounded output: sigmoid, tanh, softmax).
    saturating: bool = False
    #: True when a unit can die: f(x) = 0 and f'(x) = 0 for all x < 0 (only relu).
    relu_family: bool = False
    #: True for activations that only make sense on the output layer (softmax).
    output_only: bool = False
    #: True when ``f(x, out=...)`` and ``df_given(x, y, out=...)`` compute in ``out``.
    writes_out: bool = False

    # -- the formulas (float ndarray in, at least 1-D) -------------------------------------------
    def f(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def df(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def df_given(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """f'(x), given also y = f(x) (from the forward pass): a class overrides this where the
        derivative is cheaper from y."""
        return self.df(x)

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """∂L/∂x = grad ⊙ f'(x), given x, y = f(x) from the forward pass and grad = ∂L/∂y."""
        d = self.df_given(x, y)
        d *= grad
        return d

    # -- public entry points (anything array-like) -----------------------------------------------
    def __call__(self, x: Any) -> np.ndarray:
        """f(x) elementwise (softmax: along the last axis); float32 in, float32 out."""
        x = _float_input(x)
        if x.ndim == 0:
            return self.f(x.reshape(1)).reshape(())
        return self.f(x)

    def derivative(self, x: Any) -> np.ndarray:
        """f'(x) elementwise, with respect to the pre-activation x."""
        x = _float_input(x)
        if x.ndim == 0:
            return self.df(x.reshape(1)).reshape(())
        return self.df(x)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        params = {k: v for k, v in self.get_config().items() if k != "name"}
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActivationFunction):
            return NotImplemented
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


class Linear(ActivationFunction):
    """f(x) = x,  f'(x) = 1 (no activation). ``__call__`` returns x itself, as Keras does."""

    name = "linear"
    max_derivative = 1.0

    def f(self, x: np.ndarray) -> np.ndarray:
        return x

    def df(self, x: np.ndarray) -> np.ndarray:
        return np.ones_like(x)

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return grad  # f' = 1: the gradient passes through unchanged (same array, not a copy)


class Sigmoid(ActivationFunction):
    """σ(x) = 1 / (1 + e^{−x}),  σ'(x) = σ(x)(1 − σ(x)).

    σ'(x) ≤ 0.25, with equality exactly at x = 0 (σ(0) = ½, ½·½ = ¼) — not "about 0.3".
    Through L sigmoid layers the derivative factors multiply to at most 0.25^L.
    """

    name = "sigmoid"
    max_derivative = 0.25
    saturating = True
    writes_out = True

    def f(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return _sigmoid(x, out)

    def df(self, x: np.ndarray) -> np.ndarray:
        return self.df_given(x, _sigmoid(x))

    def df_given(self, x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None,
                 ) -> np.ndarray:
        d = np.subtract(1.0, y, out=out)
        d *= y  # σ' = y(1 − y)
        return d


class Tanh(ActivationFunction):
    """tanh(x) = (e^{x} − e^{−x}) / (e^{x} + e^{−x}),  tanh'(x) = 1 − tanh²(x) ≤ 1 (= 1 at 0).

    tanh(x) = 2σ(2x) − 1: a sigmoid rescaled to (−1, 1), zero-centred, with four times the slope.
    """

    name = "tanh"
    max_derivative = 1.0
    saturating = True
    writes_out = True

    def f(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.tanh(x, out=out)

    def df(self, x: np.ndarray) -> np.ndarray:
        return self.df_given(x, np.tanh(x))

    def df_given(self, x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None,
                 ) -> np.ndarray:
        d = np.multiply(y, y, out=out)
        np.subtract(1.0, d, out=d)  # tanh' = 1 − y²
        return d


class ReLU(ActivationFunction):
    """relu(x) = max(x, 0),  relu'(x) = 1 for x > 0, 0 for x ≤ 0 (0 at the kink, as in PyTorch).

    The derivative is exactly 1 wherever the unit is active, so it does not shrink gradients;
    but a unit whose input is negative for every sample passes no gradient at all (a dead unit).
    """

    name = "relu"
    max_derivative = 1.0
    relu_family = True
    writes_out = True

    def f(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.maximum(x, backend.zeros(x.shape, x.dtype), out=out)  # (see backend.zeros)

    def df(self, x: np.ndarray) -> np.ndarray:
        return self.df_given(x, x)  # relu' needs x only (y is not read)

    def df_given(self, x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None,
                 ) -> np.ndarray:
        # relu'(x): 1 where x > 0, else 0, as floats (backward's product with a bool array
        # would cast it on the fly, slower)
        return np.greater(x, 0, out=np.empty_like(x) if out is None else out)


def vectorised(ufunc: str, dtype: Any) -> bool:
    """Whether NumPy runs a vectorised (SIMD) loop for ``ufunc`` on ``dtype`` on this CPU.

    NumPy has vectorised ``log1p`` and ``expm1`` only for AVX-512 (x86-64-v4); elsewhere they
    are scalar loops, 3–4× slower than ``exp`` and ``log``, which are vectorised from AVX2 on.
    ``numpy.lib.introspect.opt_func_info`` (NumPy 2.1+) says which loop it dispatches to; an
    older NumPy answers False. Asked once per ufunc and dtype (this runs every step)."""
    known = _vectorised.get((ufunc, dtype))
    if known is None:
        known = _vectorised[(ufunc, dtype)] = _asked_numpy(ufunc, np.dtype(dtype).name)
    return known


_vectorised: dict[tuple[str, Any], bool] = {}


def _asked_numpy(ufunc: str, dtype: str) -> bool:
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # pragma: no cover - NumPy < 2.1
        return False
    loops = opt_func_info(func_name=f"^{ufunc}$", signature=f"^{dtype}$").get(ufunc, {})
    return any(not loop["current"].startswith("baseline") for loop in loops.values())


def _softplus(x: np.ndarray, with_log1p: bool, out: np.ndarray | None = None) -> np.ndarray:
    """softplus(x) = log(1 + e^{−|x|}) + max(x, 0), the log by log1p (six passes, where it is
    vectorised) or by log with the rounding error of 1 + e^{−|x|} added back (ten passes);
    in ``out`` if given (not overlapping x)."""
    e = np.abs(x, out=out)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e = e^{−|x|} ∈ (0, 1]
    if with_log1p:
        y = np.log1p(e, out=e)
    else:
        # u = 1 + e rounded, and its rounding error r = e − (u − 1), exact (u − 1 is exact for
        # u in [1, 2]); then log(1 + e) = log(u + r) = log(u) + r/u to far below an ulp
        # (|r/u| ≤ ulp(1)/2). For tiny e, u = 1 and the result is r = e, as it should be.
        u = e + 1.0
        r = u - 1.0
        np.subtract(e, r, out=r)
        r /= u
        y = np.log(u, out=e)
        y += r
    y += np.maximum(x, backend.zeros(x.shape, x.dtype))
    return y


class Softplus(ActivationFunction):
    """softplus(x) = log(1 + e^{x}),  softplus'(x) = σ(x) ∈ (0, 1).

    A smooth relu: its derivative is the sigmoid, ½ at 0 and → 1 as x → ∞ (supremum 1, never
    reached). Computed in the exact form log(1 + e^{−|x|}) + max(x, 0), which never overflows
    (PyTorch instead returns x itself above x = 20; the two differ there by < 2.1e−9).

    Deep softplus networks spend a quarter of their time here, so the form follows the CPU
    (see :func:`vectorised`): with log1p and expm1 vectorised, log1p(e^{−|x|}) and, backward,
    σ(x) = 1 − e^{−y} = −expm1(−y) from the output y; without, log(1 + e^{−|x|}) with the
    rounding error of 1 + e^{−|x|} added back, and σ(x) itself. Both are accurate to a few ulps
    (relative, even where softplus is tiny); their last bits differ, so results are
    reproducible on one kind of CPU, as NumPy's own vectorised loops make them.
    """

    name = "softplus"
    max_derivative = 1.0
    writes_out = True

    def f(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return _softplus(x, vectorised("log1p", x.dtype), out)

    def df(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(x)

    def df_given(self, x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None,
                 ) -> np.ndarray:
        if vectorised("expm1", y.dtype):
            d = np.negative(y, out=out)
            np.expm1(d, out=d)  # e^{−y} − 1 = −σ(x)
            return np.negative(d, out=d)
        return _sigmoid(x, out)  # softplus' = σ


class LeakyReLU(ActivationFunction):
    """leaky_relu(x) = x for x > 0, αx otherwise;  derivative 1 for x > 0, α for x ≤ 0.

    α = ``negative_slope``, 0.2 by default (Keras 3; PyTorch's default is 0.01). The slope α keeps
    a gradient flowing for negative inputs, so units cannot die (``relu_family`` is False).
    """

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2) -> None:
        self.negative_slope = _parameter(negative_slope, "leaky_relu negative_slope")
        self.max_derivative = max(1.0, self.negative_slope)

    def f(self, x: np.ndarray) -> np.ndarray:
        y = x * self.negative_slope
        # For 0 ≤ α ≤ 1 the larger of x and αx is the right branch on both sides (smaller if α > 1).
        if self.negative_slope <= 1.0:
            np.maximum(y, x, out=y)
        else:
            np.minimum(y, x, out=y)
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return np.where(x > 0, grad, grad * self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "negative_slope": self.negative_slope}


class ELU(ActivationFunction):
    """elu(x) = x for x > 0, α(e^{x} − 1) otherwise;  derivative 1 for x > 0, αe^{x} for x ≤ 0.

    α = ``alpha`` (1.0). Negative outputs down to −α pull the mean activation towards 0; the
    derivative αe^{x} decays for very negative x but never reaches 0. sup f' = max(1, α).
    """

    name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _parameter(alpha, "elu alpha")
        self.max_derivative = max(1.0, self.alpha)

    def f(self, x: np.ndarray) -> np.ndarray:
        y = np.minimum(x, 0.0)  # e^{min(x,0)} never overflows
        np.expm1(y, out=y)
        if self.alpha != 1.0:
            y *= self.alpha
        y += np.maximum(x, 0.0)  # the expm1 branch is exactly 0 for x > 0
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        # Computed from x, not from y: αe^{x} = y + α would cancel to zero error-prone digits in
        # the tail, while e^{min(x,0)} is exact, exactly 1 for x > 0, and just as cheap.
        d = np.minimum(x, 0.0)
        np.exp(d, out=d)
        if self.alpha != 1.0:
            d *= self.alpha
            d = np.where(x > 0, 1.0, d)
        return d

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "alpha": self.alpha}


class SELU(ELU):
    """selu(x) = λ·elu(x, α) with α ≈ 1.67326, λ ≈ 1.05070 (fixed, as in Keras and PyTorch).

    Derivative λ for x > 0, λαe^{x} for x ≤ 0; sup f' = λα ≈ 1.7581 (approached as x → 0⁻).
    The constants make mean 0 and variance 1 a fixed point of a layer with ``lecun_normal`` weights.
    """

    name = "selu"
    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def __init__(self) -> None:
        super().__init__(alpha=self.ALPHA)
        self.max_derivative = self.SCALE * self.ALPHA

    def f(self, x: np.ndarray) -> np.ndarray:
        y = super().f(x)
        y *= self.SCALE
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        d = super().df(x)
        d *= self.SCALE
        return d

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class GELU(ActivationFunction):
    """gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)),  gelu'(x) = Φ(x) + x·φ(x).

    Φ, φ: the standard normal CDF and density. gelu' peaks at x = √2 with value
    Φ(√2) + e^{−1}/√π ≈ 1.12890, dips to ≈ −0.170 near x = −0.75, and → 0 / 1 in the tails.

    ``approximate=True``: Hendrycks & Gimpel's tanh form
    ½x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³), written as x·σ(2u) (the same function,
    without the cancellation of 1 + tanh(u) for negative x); its derivative peaks at ≈ 1.12899.
    """

    name = "gelu"
    _C = math.sqrt(2.0 / math.pi)
    _K = 0.044715
    # Beyond |x| = 40, φ(x) = e^{−x²/2}/√(2π) underflows to 0 and σ(2u) is exactly 0 or 1 in
    # double precision: clipping x inside u, u' and φ changes no result and keeps x², x³ from
    # overflowing for huge inputs.
    _CLIP = 40.0

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = check_bool(approximate, "gelu approximate")
        self.max_derivative = 1.1289930686587718 if self.approximate else 1.1289041451851548

    def _two_u(self, xc: np.ndarray) -> np.ndarray:
        t = xc * xc
        t *= self._K
        t += 1.0
        t *= xc
        t *= 2.0 * self._C  # 2u = 2√(2/π)(x + 0.044715x³)
        return t

    def f(self, x: np.ndarray) -> np.ndarray:
        if not self.approximate:
            y = _standard_normal_cdf(x)
            y *= x
            return y
        xc = np.clip(x, -self._CLIP, self._CLIP)
        y = _sigmoid(self._two_u(xc))
        y *= x
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        xc = np.clip(x, -self._CLIP, self._CLIP)
        if not self.approximate:
            d = xc * xc
            d *= -0.5
            np.exp(d, out=d)
            d *= xc
            d *= 1.0 / _SQRT_2PI  # x·φ(x)
            d += _standard_normal_cdf(x)
            return d
        # d/dx [x·σ(2u)] = σ(2u) + x·2σ(2u)σ(−2u)·u',  u' = √(2/π)(1 + 3·0.044715x²)
        two_u = self._two_u(xc)
        s = _sigmoid(two_u)  # ½(1 + tanh u)
        np.negative(two_u, out=two_u)
        d = _sigmoid(two_u)  # σ(−2u) = 1 − σ(2u), without the cancellation of 1 − s
        d *= s
        du = xc * xc
        du *= 3.0 * self._K
        du += 1.0
        du *= 2.0 * self._C
        d *= du
        d *= xc
        d += s
        return d

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "approximate": self.approximate}


class SiLU(ActivationFunction):
    """silu(x) = swish(x) = x·σ(x),  silu'(x) = σ(x)(1 + x(1 − σ(x))).

    Smooth and non-monotonic: the minimum ≈ −0.278 at x ≈ −1.278; the derivative peaks at
    ≈ 1.09984 near x ≈ 2.3994 and → 0 / 1 in the tails.
    """

    name = "silu"
    max_derivative = 1.0998393201288669

    def f(self, x: np.ndarray) -> np.ndarray:
        y = _sigmoid(x)
        y *= x
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        # From x rather than y: y + σ(1 − y) would cancel to |x|·ε for large x.
        s = _sigmoid(x)
        d = 1.0 - s
        d *= x
        d += 1.0
        d *= s
        return d


class Softmax(ActivationFunction):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``axis`` (the last one by default).

    Output layers only (probabilities over classes). Its Jacobian is ∂y_i/∂x_j = y_i(δ_ij − y_j);
    ``derivative`` returns the diagonal y_i(1 − y_i) ≤ 0.25, and ``backward`` the full
    Jacobian-vector product y ⊙ (grad − Σ_j grad_j·y_j). The maximum e^{x} is subtracted first,
    so no exponent is positive (the result is unchanged: the factor cancels).
    """

    name = "softmax"
    max_derivative = 0.25
    saturating = True
    output_only = True

    def __init__(self, axis: int = -1) -> None:
        # A layer's output is (batch, units): an axis beyond those would fail in every call.
        self.axis = check_int(axis, "softmax axis", low=-2, high=1,
                              what="-1 (the units, the default), -2, 0 or 1")

    def f(self, x: np.ndarray) -> np.ndarray:
        y = x - reduce_along(np.maximum, x, self.axis)
        np.exp(y, out=y)
        y /= sum_last(y) if self.axis == -1 else reduce_along(np.add, y, self.axis)
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        y = self.f(x)
        d = 1.0 - y
        d *= y
        return d

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        d = grad * y
        d = grad - d.sum(axis=self.axis, keepdims=True)
        d *= y
        return d

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "axis": self.axis}


def _parameter(value: Any, what: str) -> float:
    return check_float(value, what, low=0.0)


# -- lookup by name -------------------------------------------------------------------------------
_CLASSES: dict[str, type[ActivationFunction]] = {
    "linear": Linear,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "softplus": Softplus,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "silu": SiLU,
    "swish": SiLU,
    "softmax": Softmax,
}


def names() -> list[str]:
    """The valid activation names, sorted (``swish`` is another name for ``silu``)."""
    return sorted(_CLASSES)


def hidden_names() -> list[str]:
    """The names of the activations a hidden layer can take: all but the output-only
    (``softmax``)."""
    return [name for name in names() if not _CLASSES[name].output_only]


def hidden(identifier: Any) -> ActivationFunction:
    """:func:`get`, for where an activation acts on each unit alone — a hidden layer of a lab's
    network, a curve f(x): an output-only activation (softmax, which turns a layer's units into
    probabilities) is refused in a sentence. (A ``Dense`` layer itself takes any, as Keras.)"""
    function = get(identifier)
    if getattr(function, "output_only", False):
        raise ConfigError(
            f"{function.name} is an output activation: it turns a layer's units into "
            "probabilities that sum to 1, so it is not a function of each unit alone — no curve "
            f"f(x), no hidden layer here. Hidden activations: {', '.join(hidden_names())}.")
    return function


def _from_name(name: str, **params: Any) -> ActivationFunction:
    key = name.strip().lower()
    if key not in _CLASSES:
        raise ConfigError(f"Unknown activation {name!r}. {did_you_mean(name, names())}")
    return instantiate("Activation", key, _CLASSES[key], params)


def get(identifier: Any) -> ActivationFunction:
    """An activation object from a name, a config dict, an activation object, or None (linear).

    >>> get("relu"), get(None).name, get({"name": "leaky_relu", "negative_slope": 0.1})
    (ReLU(), 'linear', LeakyReLU(negative_slope=0.1))
    """
    if identifier is None:
        return Linear()
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        return _from_name(identifier)
    if isinstance(identifier, dict):
        params = dict(identifier)
        name = params.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(
                f"An activation config needs a 'name' entry; got {identifier!r}. "
                f"{did_you_mean(str(name), names())}"
            )
        return _from_name(name, **params)
    if isinstance(identifier, type) and issubclass(identifier, ActivationFunction):
        return identifier()
    function_name = next((n for fn, n in _FUNCTIONS.items() if fn is identifier), None)
    if function_name is not None:  # activations.relu, as Keras users write it
        return _from_name(function_name)
    if all(callable(getattr(identifier, a, None)) for a in ("__call__", "derivative", "backward")):
        return identifier  # a user-defined activation object with the same interface
    raise ConfigError(
        f"An activation must be a name, a config dict or an activation object (with derivative "
        f"and backward); got {identifier!r}. {did_you_mean(str(identifier), names())}"
    )


def serialize(activation: Any) -> dict[str, Any]:
    """The JSON-ready config of an activation: ``{"name": ..., <parameters>}``."""
    return get(activation).get_config()


def deserialize(config: Any) -> ActivationFunction:
    """The activation described by ``config`` (the inverse of :func:`serialize`)."""
    return get(config)


# -- Keras-style functions: activations.relu(x), activations.leaky_relu(x, negative_slope=0.1) ----
_LINEAR, _SIGMOID, _TANH, _RELU = Linear(), Sigmoid(), Tanh(), ReLU()
_SOFTPLUS, _SELU, _SILU = Softplus(), SELU(), SiLU()


def linear(x: Any) -> np.ndarray:
    """x (no activation)."""
    return _LINEAR(x)


def sigmoid(x: Any) -> np.ndarray:
    """σ(x) = 1 / (1 + e^{−x})."""
    return _SIGMOID(x)


def tanh(x: Any) -> np.ndarray:
    """tanh(x)."""
    return _TANH(x)


def relu(x: Any) -> np.ndarray:
    """max(x, 0)."""
    return _RELU(x)


def softplus(x: Any) -> np.ndarray:
    """log(1 + e^{x})."""
    return _SOFTPLUS(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> np.ndarray:
    """x for x > 0, negative_slope·x otherwise."""
    return LeakyReLU(negative_slope)(x)


def elu(x: Any, alpha: float = 1.0) -> np.ndarray:
    """x for x > 0, alpha·(e^{x} − 1) otherwise."""
    return ELU(alpha)(x)


def selu(x: Any) -> np.ndarray:
    """λ·elu(x, α) with SELU's fixed α, λ."""
    return _SELU(x)


def gelu(x: Any, approximate: bool = False) -> np.ndarray:
    """x·Φ(x) (tanh approximation if ``approximate``)."""
    return GELU(approximate)(x)


def silu(x: Any) -> np.ndarray:
    """x·σ(x)."""
    return _SILU(x)


swish = silu


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """e^{x_i} / Σ_j e^{x_j} along ``axis``."""
    return Softmax(axis)(x)


_FUNCTIONS: dict[Any, str] = {
    linear: "linear", sigmoid: "sigmoid", tanh: "tanh", relu: "relu", softplus: "softplus",
    leaky_relu: "leaky_relu", elu: "elu", selu: "selu", gelu: "gelu", silu: "silu",
    softmax: "softmax",
}
