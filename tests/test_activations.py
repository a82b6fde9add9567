"""Activations: values and derivatives against PyTorch, finite differences, extremes, maxima.

PyTorch is the oracle (value from ``torch.nn.functional``, derivative from autograd), compared in
float64 at rtol 1e-12. Where PyTorch's own formula cancels (1 + erf(·) and 1 + tanh(·) in gelu's
negative tail, 1 − σ and 1 − tanh² in saturated derivatives, e^x − 1 in elu near 0⁻), its
absolute error is a few ε times the size of the terms it subtracts, so the comparison also allows
``4·ε·scale(x)`` with that size as ``scale`` (at least 1). descentlab's formulas avoid most of these
cancellations, so it is the oracle that needs the floor.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from descentlab import activations
from descentlab.errors import ConfigError

EPS = np.finfo(np.float64).eps
KAPPA = 0.044715
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _one(x):
    return np.ones_like(x)


# case id → (descentlab activation, torch function, scale of the value, scale of the derivative)
CASES = {
    "linear": (activations.Linear(), lambda t: t, _one, _one),
    "sigmoid": (activations.Sigmoid(), torch.sigmoid, _one, _one),
    "tanh": (activations.Tanh(), torch.tanh, _one, _one),
    "relu": (activations.ReLU(), F.relu, _one, _one),
    # The exact form log(1 + e^x) = logaddexp(x, 0); F.softplus cuts over to x above 20 (tested
    # separately below).
    "softplus": (activations.Softplus(), lambda t: torch.logaddexp(t, torch.zeros_like(t)),
                 _one, _one),
    "leaky_relu": (activations.LeakyReLU(), lambda t: F.leaky_relu(t, 0.2), _one, _one),
    "leaky_relu_0.01": (activations.LeakyReLU(0.01), lambda t: F.leaky_relu(t, 0.01), _one, _one),
    "elu": (activations.ELU(), F.elu, _one, _one),
    "elu_0.5": (activations.ELU(0.5), lambda t: F.elu(t, 0.5), _one, _one),
    "selu": (activations.SELU(), F.selu, _one, _one),
    "gelu": (activations.GELU(), F.gelu, lambda x: np.maximum(1, np.abs(x)), _one),
    "gelu_tanh": (activations.GELU(approximate=True), lambda t: F.gelu(t, approximate="tanh"),
                  lambda x: np.maximum(1, np.abs(x)),
                  lambda x: 1 + np.abs(x) * (1 + 3 * KAPPA * x * x)),
    "silu": (activations.SiLU(), F.silu, _one, lambda x: 1 + np.abs(x)),
}

# A dense grid, the kink at 0 from both sides, tiny inputs (where e^x − 1 and 1 + erf cancel)
# and the tails.
X = np.concatenate([
    np.linspace(-30, 30, 6001),
    [0.0, -0.0, 1e-300, -1e-300, 1e-12, -1e-12, 1e-6, -1e-6, -100.0, 100.0, -700.0, 700.0],
])


def _torch_value_and_derivative(fn, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def _assert_close(actual, expected, scale, rtol=1e-12):
    bound = rtol * np.abs(expected) + 4 * EPS * scale
    err = np.abs(actual - expected)
    worst = np.argmax(err - bound)
    assert np.all(err <= bound), (
        f"worst at x={X[worst] if len(X) == len(err) else worst}: got {actual[worst]!r}, "
        f"expected {expected[worst]!r}"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_value_and_derivative_match_pytorch(case):
    act, fn, value_scale, derivative_scale = CASES[case]
    y_torch, d_torch = _torch_value_and_derivative(fn, X)
    _assert_close(act(X), y_torch, value_scale(X))
    _assert_close(act.derivative(X), d_torch, derivative_scale(X))


@pytest.mark.parametrize("case", sorted(CASES))
def test_derivative_matches_central_differences(case):
    act = CASES[case][0]
    x = np.linspace(-6, 6, 1201)
    x = x[np.abs(x) > 1e-3]  # away from the kink of relu, leaky_relu, elu, selu
    h = 1e-6
    numeric = (act(x + h) - act(x - h)) / (2 * h)
    # Truncation error ~h²·f''' and rounding ~ε·|f|/h: both below 1e-8 here.
    np.testing.assert_allclose(act.derivative(x), numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_is_grad_times_derivative_and_leaves_inputs_alone(case, dtype, rng):
    act = CASES[case][0]
    x = (rng.standard_normal((32, 16)) * 4).astype(dtype)
    grad = rng.standard_normal((32, 16)).astype(dtype)
    y = act(x)
    copies = [x.copy(), y.copy(), grad.copy()]
    dx = act.backward(x, y, grad)
    assert dx.dtype == dtype and dx.shape == x.shape
    # backward may use y where the derivative uses x (softplus: σ(x) = 1 − e^{−y}): a few ulp.
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(dx, grad * act.derivative(x), rtol=rtol,
                               atol=rtol * np.abs(grad).max())
    for before, after in zip(copies, [x, y, grad], strict=True):
        np.testing.assert_array_equal(before, after)
    if case != "linear":  # linear passes grad through untouched; the others return a new array
        assert not np.shares_memory(dx, grad)


@pytest.mark.parametrize("name", [n for n in activations.names() if activations.get(n).writes_out])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_receives_the_very_bits_of_a_fresh_result(name, dtype, rng):
    """``f(x, out=...)`` and ``df_given(x, y, out=...)`` compute in the caller's array (a
    part of a population's) exactly what they return fresh, touching nothing else."""
    act = activations.get(name)
    x = (rng.standard_normal((3, 32, 16)) * 30).astype(dtype)
    x[0, 0, :4] = [0.0, -0.0, 1e-30, -1e-30]
    grad = rng.standard_normal(x.shape).astype(dtype)
    y = act.f(x)
    slope = act.df_given(x, y)
    copies = [x.copy(), y.copy(), grad.copy()]
    for result, compute in ((y, lambda out: act.f(x, out=out)),
                            (slope, lambda out: act.df_given(x, y, out=out))):
        whole = np.full((5, *x.shape[1:]), np.nan, dtype)
        got = compute(whole[1:4])
        assert np.shares_memory(got, whole)
        assert whole[1:4].tobytes() == result.tobytes()
        assert np.isnan(whole[[0, 4]]).all()
    for before, after in zip(copies, [x, y, grad], strict=True):
        np.testing.assert_array_equal(before, after)


# -- softmax --------------------------------------------------------------------------------------
def test_softmax_value_jacobian_diagonal_and_vjp_match_pytorch(rng):
    act = activations.get("softmax")
    x = rng.standard_normal((8, 5)) * 5
    grad = rng.standard_normal((8, 5))
    t = torch.tensor(x, requires_grad=True)
    y_t = torch.softmax(t, dim=-1)
    y_t.backward(torch.tensor(grad))
    y = act(x)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-12, atol=4 * EPS)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(act.backward(x, y, grad), t.grad.numpy(), rtol=1e-10, atol=1e-15)
    jac = torch.autograd.functional.jacobian(lambda r: torch.softmax(r, dim=-1),
                                             torch.tensor(x[0]))
    np.testing.assert_allclose(act.derivative(x[:1])[0], np.diag(jac.numpy()), rtol=1e-12,
                               atol=4 * EPS)
    # Shifting a row changes nothing (the max is subtracted before exp).
    np.testing.assert_allclose(act(x + 1000.0), y, rtol=1e-12, atol=1e-15)


def test_softmax_extremes_no_warning():
    x = np.array([[-1e6, 0.0, 1e6], [-1000.0, -1000.0, -1000.0]])
    act = activations.Softmax()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        for dtype in (np.float32, np.float64):
            xd = x.astype(dtype)
            y = act(xd)
            assert y.dtype == dtype
            np.testing.assert_array_equal(y[0], [0, 0, 1])
            np.testing.assert_allclose(y[1], 1 / 3, rtol=1e-6)
            assert np.isfinite(act.backward(xd, y, np.ones_like(xd))).all()


# -- extremes -------------------------------------------------------------------------------------
# name → (f at −∞, f at +∞, f' at −∞, f' at +∞); a callable means "as a function of x".
LIMITS = {
    "linear": (lambda x: x, lambda x: x, 1, 1),
    "sigmoid": (0, 1, 0, 0),
    "tanh": (-1, 1, 0, 0),
    "relu": (0, lambda x: x, 0, 1),
    "softplus": (0, lambda x: x, 0, 1),
    "leaky_relu": (lambda x: 0.2 * x, lambda x: x, 0.2, 1),
    "elu": (-1, lambda x: x, 0, 1),
    "selu": (-SELU_SCALE * SELU_ALPHA, lambda x: SELU_SCALE * x, 0, SELU_SCALE),
    "gelu": (0, lambda x: x, 0, 1),
    "gelu_tanh": (0, lambda x: x, 0, 1),
    "silu": (0, lambda x: x, 0, 1),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_give_limits_without_warnings(name, dtype):
    act = CASES[name][0]
    big = [1000.0, 1e6, 1e30] + ([1e300] if dtype == np.float64 else [])
    neg, pos = -np.array(big, dtype=dtype), np.array(big, dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        # Overflow, invalid and division warnings are errors. Underflow is not: a value below the
        # smallest float rounding to 0 (e^−1000) is the correct result, not a fault.
        warnings.simplefilter("error")
        results = {}
        for side, x in (("neg", neg), ("pos", pos)):
            y, d = act(x), act.derivative(x)
            dx = act.backward(x, y, np.ones_like(x))
            for arr in (y, d, dx):
                assert arr.dtype == dtype and np.isfinite(arr).all()
            results[side] = (x, y, d, dx)
    f_neg, f_pos, d_neg, d_pos = LIMITS[name]
    for (x, y, d, dx), f_lim, d_lim in ((results["neg"], f_neg, d_neg),
                                        (results["pos"], f_pos, d_pos)):
        expected = f_lim(x.astype(np.float64)) if callable(f_lim) else np.full(x.shape, f_lim)
        np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(d, d_lim, rtol=1e-6, atol=1e-30)
        np.testing.assert_array_equal(dx, d)


@pytest.mark.parametrize("name", activations.names())
def test_dtype_preserved_and_array_likes_accepted(name, rng):
    act = activations.get(name)
    x32 = rng.standard_normal((4, 3)).astype(np.float32)
    assert act(x32).dtype == np.float32
    assert act.derivative(x32).dtype == np.float32
    assert act(x32.astype(np.float64)).dtype == np.float64
    # Lists, ints and scalars become floatx() arrays (float32 by default).
    assert act([[1, -2, 3]]).dtype == np.float32
    assert act(np.arange(-3, 3)).dtype == np.float32
    y0 = act(0.5)
    assert y0.shape == () and y0.dtype == np.float32
    assert act.derivative(0.5).shape == ()


# -- maxima of the derivatives --------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in activations.names() if n != "softmax"])
def test_max_derivative_equals_numerical_maximum(name):
    act = activations.get(name)
    x = np.concatenate([np.arange(-10, 10, 1e-4), np.linspace(10, 40, 3001)])
    d = np.abs(act.derivative(x))
    # Never exceeded; reached (or, for softplus, approached: σ(40) = 1 in float64) on the grid,
    # to within the grid's resolution (1e-4 steps put the max within ~1e-8 of the true one).
    assert d.max() <= act.max_derivative * (1 + 1e-12)
    assert d.max() == pytest.approx(act.max_derivative, rel=1e-7)


@pytest.mark.parametrize("act", [activations.GELU(approximate=True), activations.LeakyReLU(1.5),
                                 activations.ELU(2.0), activations.ELU(0.5)])
def test_max_derivative_of_parameterised_activations(act):
    x = np.arange(-10, 10, 1e-4)
    assert np.abs(act.derivative(x)).max() == pytest.approx(act.max_derivative, rel=1e-7)


def test_sigmoid_derivative_peaks_at_exactly_a_quarter_at_zero():
    sig = activations.get("sigmoid")
    x = np.linspace(-8, 8, 160001)  # contains 0 exactly
    d = sig.derivative(x)
    assert x[np.argmax(d)] == 0.0
    assert d.max() == 0.25 == sig.max_derivative  # exactly ¼, not "about 0.3"
    assert activations.get("tanh").derivative(0.0) == 1.0
    np.testing.assert_allclose(activations.get("softplus").derivative([0.0]), [0.5])


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8])
def test_product_of_sigmoid_derivatives_through_depth_is_at_most_quarter_power(depth):
    # Backpropagate through `depth` stacked sigmoids (no weights): ∂a_L/∂x = Π σ'(a_{l−1}).
    sig = activations.get("sigmoid")
    x = np.linspace(-10, 10, 20001)
    inputs, a = [], x
    for _ in range(depth):
        inputs.append(a)
        a = sig(a)
    grad = np.ones_like(x)
    for z in reversed(inputs):
        grad = sig.backward(z, sig(z), grad)
    assert grad.max() <= 0.25 ** depth
    if depth == 1:
        assert grad.max() == 0.25
    # Same chain through PyTorch autograd.
    t = torch.tensor(x, requires_grad=True)
    out = t
    for _ in range(depth):
        out = torch.sigmoid(out)
    out.sum().backward()
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=4 * EPS)


def test_flags_saturating_relu_family_output_only():
    sat = {n for n in activations.names() if activations.get(n).saturating}
    assert sat == {"sigmoid", "tanh", "softmax"}
    assert [n for n in activations.names() if activations.get(n).relu_family] == ["relu"]
    assert [n for n in activations.names() if activations.get(n).output_only] == ["softmax"]
    # The reason: only relu passes exactly no gradient on a whole half-line (a unit can die).
    x = -np.logspace(-6, 2, 50)
    assert np.all(activations.get("relu").derivative(x) == 0)
    for name in ("leaky_relu", "elu", "selu", "softplus", "gelu", "silu"):
        assert np.all(activations.get(name).derivative(x[:40]) != 0), name


# -- gelu, softplus and leaky_relu against their references ---------------------------------------
def test_gelu_exact_and_tanh_forms_differ_slightly():
    x = np.linspace(-6, 6, 12001)
    exact, approx = activations.GELU()(x), activations.GELU(approximate=True)(x)
    gap = np.abs(exact - approx).max()
    assert 1e-4 < gap < 1e-3  # close, but a different function
    assert activations.GELU().get_config() == {"name": "gelu", "approximate": False}


def test_softplus_exact_form_vs_torch_linear_cutover():
    x = np.linspace(-30, 60, 9001)
    ours = activations.get("softplus")(x)
    theirs = F.softplus(torch.tensor(x)).numpy()
    below = x <= 20
    np.testing.assert_allclose(ours[below], theirs[below], rtol=1e-12, atol=4 * EPS)
    # Above 20 torch returns x; the exact value is x + log1p(e^{−x}) < x + 2.07e−9.
    assert np.all(np.abs(ours[~below] - theirs[~below]) <= math.log1p(math.exp(-20)) + 1e-13)


SOFTPLUS_FORMS = {"log1p": lambda x: activations._softplus(x, with_log1p=True),
                  "log": lambda x: activations._softplus(x, with_log1p=False)}


@pytest.mark.parametrize("form", sorted(SOFTPLUS_FORMS))
@pytest.mark.parametrize("dtype, ulps", [(np.float32, 4), (np.float64, 3)])
def test_softplus_is_accurate_to_a_few_ulps_relative_even_where_it_is_tiny(dtype, ulps, form):
    # softplus(−80) ≈ 1.8e−35: log(1 + e^x) computed as log of the rounded 1 + e^x would give 0
    # there (and lose digits wherever e^x < 1); the relative error must stay at a few ulps over
    # the whole range, in both forms (each CPU runs one). Oracle: torch's logaddexp in float64.
    x = np.concatenate([np.linspace(-80, 80, 16001), [-1e-7, 1e-7, 0.0]]).astype(dtype)
    expected = torch.logaddexp(torch.tensor(x, dtype=torch.float64),
                               torch.zeros(len(x), dtype=torch.float64)).numpy()
    got = SOFTPLUS_FORMS[form](x)
    assert got.dtype == dtype
    ulp = np.spacing(expected.astype(dtype)).astype(np.float64)
    worst = np.argmax(np.abs(got - expected) / ulp)
    assert np.abs(got[worst] - expected[worst]) <= ulps * ulp[worst], (
        f"softplus({x[worst]!r}) = {got[worst]!r}, expected {expected[worst]!r}")


@pytest.mark.parametrize("vectorised", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_follows_the_cpu_and_its_gradient_is_accurate_either_way(monkeypatch, dtype,
                                                                          vectorised):
    # Where NumPy's log1p and expm1 are vectorised softplus uses them (forward: log1p;
    # backward: σ(x) = −expm1(−y)); elsewhere log with its rounding error added back, and σ(x).
    # Either way the gradient is σ(x)·grad to a few ulps, relative, down to σ(−80) ≈ 1.8e−35.
    for ufunc in ("log1p", "expm1"):
        monkeypatch.setitem(activations._vectorised, (ufunc, np.dtype(dtype)), vectorised)
    x = np.concatenate([np.linspace(-80, 80, 16001), [-1e-7, 1e-7, 0.0]]).astype(dtype)
    softplus = activations.get("softplus")
    y = softplus.f(x)
    expected_form = SOFTPLUS_FORMS["log1p" if vectorised else "log"](x)
    np.testing.assert_array_equal(y, expected_form)
    # the forms are what they are called: the first NumPy's log1p as written, the second not
    with_log1p = np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)
    np.testing.assert_array_equal(SOFTPLUS_FORMS["log1p"](x), with_log1p)
    assert (SOFTPLUS_FORMS["log"](x) != with_log1p).any()
    grad = np.random.default_rng(0).uniform(0.5, 2.0, len(x)).astype(dtype)
    got = softplus.backward(x, y, grad)
    expected = (torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy()
                * grad.astype(np.float64))
    ulp = np.spacing(expected.astype(dtype)).astype(np.float64)
    assert np.max(np.abs(got - expected) / ulp) <= 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_torchs_relu_bit_for_bit_and_its_output_is_the_callers(dtype):
    # relu takes its maximum against a shared read-only array of zeros (backend.zeros), not the
    # scalar 0: torch's numbers, NaN and infinities included, and, bit for bit, those of the
    # maximum with the scalar (which makes relu(−0) +0, where torch keeps −0), in a fresh array.
    x = np.array([[-2.5, -0.0, 0.0, 1e-30, np.inf, -np.inf, np.nan, 3.0]], dtype=dtype)
    got = activations.get("relu").f(x)
    np.testing.assert_array_equal(got, torch.relu(torch.tensor(x)).numpy())
    bits = {np.float32: np.uint32, np.float64: np.uint64}[dtype]
    np.testing.assert_array_equal(got.view(bits), np.maximum(x, 0.0).view(bits))
    got[0, 0] = 7.0  # the caller's to change: the constant beneath it stays zeros
    np.testing.assert_array_equal(activations.get("relu").f(x)[0, :2], [0.0, 0.0])


@pytest.mark.parametrize("shape", [(1, 10), (15, 10), (16, 10), (32, 10), (3, 32, 10), (2, 4, 8, 2),
                                   (40, 33), (5,)])
def test_reduce_along_is_numpys_reduction_whichever_path_it_takes(shape):
    # Rows by rows below 16 rows (or more than 32 columns), column by column from 16 on: the
    # row maxima NumPy's own max gives, in its shape, NaN included.
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    x.flat[len(x.flat) // 2] = np.nan
    got = activations.reduce_along(np.maximum, x)
    expected = x.max(axis=-1, keepdims=True)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_the_shared_constants_are_read_only_and_their_memory_is_bounded(monkeypatch):
    from descentlab import backend

    zeros = backend.zeros((3, 5), np.float32)
    assert zeros.dtype == np.float32 and zeros.shape == (3, 5) and not zeros.any()
    assert backend.zeros((3, 5), np.float32) is zeros  # made once
    with pytest.raises(ValueError, match="read-only"):
        zeros[0, 0] = 1.0
    np.testing.assert_array_equal(backend.ones((2, 1), np.float64), [[1.0], [1.0]])
    monkeypatch.setattr(backend, "CONSTANT_BYTES", 4096)
    for rows in range(1, 40):  # 39 shapes, 156 to 6,084 bytes each
        backend.zeros((rows, 39), np.float32)
        assert sum(a.nbytes for a in backend._zeros.values()) <= 4096 or len(backend._zeros) == 1


def test_defaults_match_keras():
    import keras

    def default(fn, arg):
        return inspect.signature(fn).parameters[arg].default

    assert default(keras.activations.leaky_relu, "negative_slope") == 0.2
    assert activations.LeakyReLU().negative_slope == 0.2
    assert default(keras.activations.elu, "alpha") == activations.ELU().alpha == 1.0
    assert default(keras.activations.gelu, "approximate") is activations.GELU().approximate
    x = np.linspace(-5, 5, 101).astype(np.float32)
    for name in ("leaky_relu", "elu", "selu", "gelu", "silu", "softplus", "sigmoid", "tanh"):
        theirs = getattr(keras.activations, name)(torch.tensor(x)).detach().cpu().numpy()
        # float32; torch's gelu computes ½x(1 + erf) and loses up to |x|·ε₃₂ ≈ 6e−7 at x = −5.
        np.testing.assert_allclose(activations.get(name)(x), theirs, rtol=2e-6,
                                   atol=8 * np.finfo(np.float32).eps * 5, err_msg=name)


# -- lookup, errors, serialization ----------------------------------------------------------------
def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError) as info:
        activations.get("sigmod")
    message = str(info.value)
    assert "'sigmod'" in message and "Did you mean 'sigmoid'?" in message
    for name in activations.names():
        assert name in message


def test_names_and_lookup():
    assert activations.names() == sorted([
        "linear", "sigmoid", "tanh", "relu", "softplus", "leaky_relu", "elu", "selu", "gelu",
        "silu", "swish", "softmax",
    ])
    assert activations.get(None).name == "linear"
    relu = activations.ReLU()
    assert activations.get(relu) is relu
    assert activations.get("swish") == activations.SiLU()
    assert activations.get(" ReLU ").name == "relu"
    assert activations.get(activations.relu) == relu  # Keras style: activation=activations.relu
    x = np.linspace(-3, 3, 7)
    np.testing.assert_array_equal(activations.relu(x), relu(x))
    np.testing.assert_array_equal(activations.leaky_relu(x, negative_slope=0.1),
                                  activations.LeakyReLU(0.1)(x))
    np.testing.assert_array_equal(activations.swish(x), activations.silu(x))


@pytest.mark.parametrize("act", [*(activations.get(n) for n in activations.names()),
                                 activations.LeakyReLU(0.01), activations.ELU(0.5),
                                 activations.GELU(approximate=True), activations.Softmax(axis=0)])
def test_serialize_get_round_trip(act):
    config = activations.serialize(act)
    assert config["name"] == act.name
    rebuilt = activations.get(json.loads(json.dumps(config)))
    assert rebuilt == act and type(rebuilt) is type(act)
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    np.testing.assert_array_equal(rebuilt(x), act(x))


def test_bad_configs_raise_config_error():
    with pytest.raises(ConfigError, match="negative_slope"):
        activations.get({"name": "leaky_relu", "slope": 0.1})
    with pytest.raises(ConfigError, match="no parameters"):
        activations.get({"name": "relu", "alpha": 1.0})
    with pytest.raises(ConfigError, match="'name'"):
        activations.get({"negative_slope": 0.1})
    with pytest.raises(ConfigError, match="negative_slope"):
        activations.LeakyReLU(-0.1)
    with pytest.raises(ConfigError, match="alpha"):
        activations.ELU(float("nan"))
    with pytest.raises(ConfigError, match="approximate"):
        activations.GELU(approximate="tanh")
    with pytest.raises(ConfigError, match="activation"):
        activations.get(3.5)


@pytest.mark.parametrize("rows", [32, 256, 450])
@pytest.mark.parametrize("members", [3, 20])
def test_softmax_of_a_population_is_each_members_own_bit_for_bit(rows: int, members: int):
    # A population's outputs (members, rows, classes): each member's softmax must be the one
    # its network computes alone, to the last bit, however many members stand beside it (the
    # sum over classes may not change its order with the array's size).
    x = (np.random.default_rng(rows + members).normal(size=(members, rows, 10)) * 5
         ).astype(np.float32)
    softmax = activations.get("softmax")
    together = softmax.f(x)
    for k in range(members):
        np.testing.assert_array_equal(together[k], softmax.f(x[k].copy()))
