"""Losses against three oracles: Keras 3 itself, the same formula replayed in PyTorch (autograd for
the gradients), and central finite differences.

A note on tolerances. On the torch backend Keras' ``ops.mean`` and ``ops.divide_no_nan`` compute in
float32 even for float64 tensors (Keras' ``result_type`` maps float64 to float32 off TensorFlow). So
Keras' per-sample MSE, MAE and binary crossentropy (a mean over the last axis) and every Loss
object's batch mean (``sum / n`` by ``divide_no_nan``) are only float32-accurate: those comparisons
use rtol 1e-6. The per-sample crossentropies are float64-exact (rtol 1e-12), and every formula is
also checked to 1e-12 against the same formula written in float64 torch.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from descentlab import losses
from descentlab.errors import ConfigError, DataError

# Keras' torch backend converts tensors with np.array(x, copy=False): numpy 2 warns, not our code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

EPS = 1e-7
N, D = 7, 4
NAMES = ["mean_squared_error", "mean_absolute_error", "binary_crossentropy",
         "categorical_crossentropy", "sparse_categorical_crossentropy"]
KERAS_RTOL = {"mean_squared_error": 1e-6, "mean_absolute_error": 1e-6,
              "binary_crossentropy": 1e-6, "categorical_crossentropy": 1e-12,
              "sparse_categorical_crossentropy": 1e-12}


@pytest.fixture
def keras_float64():
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(old)


def make_data(name: str, rng: np.random.Generator, n: int = N, d: int = D,
              dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Targets and outputs that suit the loss, with no clip active and no |y − ŷ| kink."""
    if name in ("mean_squared_error", "mean_absolute_error"):
        return rng.normal(size=(n, d)).astype(dtype), rng.normal(size=(n, d)).astype(dtype)
    p = rng.uniform(0.05, 0.95, size=(n, d)).astype(dtype)
    if name == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, d)).astype(dtype)
        y[0] = rng.uniform(size=d)          # soft labels are valid too
        return y, p
    t = rng.integers(0, d, size=n)
    # Outputs that do not sum to 1: the formula's normalisation is part of what is tested.
    return (t if name.startswith("sparse") else np.eye(d, dtype=dtype)[t]), p


def torch_keras_loss(name: str, y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Keras 3's formula (keras/src/backend/torch/nn.py, losses.py) written in torch, batch mean."""
    if name == "mean_squared_error":
        per_sample = torch.mean(torch.square(y - p), dim=-1)
    elif name == "mean_absolute_error":
        per_sample = torch.mean(torch.abs(y - p), dim=-1)
    elif name == "binary_crossentropy":
        per_sample = F.binary_cross_entropy(torch.clip(p, EPS, 1 - EPS), y, reduction="none")
        per_sample = per_sample.mean(dim=-1)
    else:
        q = torch.clip(p / torch.sum(p, dim=-1, keepdim=True), EPS, 1 - EPS)
        if name == "categorical_crossentropy":
            per_sample = -torch.sum(y * torch.log(q), dim=-1)
        else:
            per_sample = F.nll_loss(torch.log(q), y.long().reshape(-1), reduction="none")
    return per_sample.mean()


def torch_value_and_grad(fn, y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """fn(y, x) and d fn / dx by torch autograd."""
    xt = torch.tensor(x, requires_grad=True)
    value = fn(torch.tensor(y), xt)
    value.backward()
    return float(value.detach()), xt.grad.numpy()


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_value_matches_keras(name, rng, keras_float64):
    y, p = make_data(name, rng)
    loss = losses.get(name)
    keras_class = keras.losses.get(type(loss).__name__)      # e.g. keras.losses.MeanSquaredError()
    keras_function = keras.losses.get(name)                  # per-sample values
    np.testing.assert_allclose(loss(y, p), float(keras_class(y, p)), rtol=1e-6)
    np.testing.assert_allclose(loss.per_sample(y, p),
                               keras.ops.convert_to_numpy(keras_function(y, p)),
                               rtol=KERAS_RTOL[name])


@pytest.mark.parametrize("name", NAMES)
def test_value_matches_keras_in_float32(name, rng):
    y, p = make_data(name, rng, dtype=np.float32)
    loss = losses.get(name)
    value = loss(y, p)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, float(keras.losses.get(type(loss).__name__)(y, p)),
                               rtol=2e-6)


@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_match_torch_autograd(name, rng):
    y, p = make_data(name, rng)
    loss = losses.get(name)
    value, grad = torch_value_and_grad(lambda yt, pt: torch_keras_loss(name, yt, pt), y, p)
    np.testing.assert_allclose(loss(y, p), value, rtol=1e-12)
    np.testing.assert_allclose(loss.gradient(y, p), grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_autograd_through_keras_itself(name, rng, keras_float64):
    # Keras' own per-sample loss code run on torch tensors: autograd sees exactly Keras' formula.
    y, p = make_data(name, rng)
    keras_function = keras.losses.get(name)
    _, grad = torch_value_and_grad(lambda yt, pt: keras_function(yt, pt).mean(), y, p)
    np.testing.assert_allclose(losses.get(name).gradient(y, p), grad, rtol=KERAS_RTOL[name])


def test_values_match_torch_builtin_losses(rng):
    # Where torch's own loss is the same formula (no clip active, outputs that sum to 1).
    y, p = make_data("mean_squared_error", rng)
    yt, pt = torch.tensor(y), torch.tensor(p)
    np.testing.assert_allclose(losses.get("mse")(y, p), float(F.mse_loss(pt, yt)), rtol=1e-12)
    np.testing.assert_allclose(losses.get("mae")(y, p), float(F.l1_loss(pt, yt)), rtol=1e-12)
    y, p = make_data("binary_crossentropy", rng)
    np.testing.assert_allclose(losses.get("binary_crossentropy")(y, p),
                               float(F.binary_cross_entropy(torch.tensor(p), torch.tensor(y))),
                               rtol=1e-12)
    t, p = make_data("sparse_categorical_crossentropy", rng)
    p /= p.sum(axis=1, keepdims=True)
    log_p = torch.log(torch.tensor(p))
    np.testing.assert_allclose(losses.get("sparse_categorical_crossentropy")(t, p),
                               float(F.nll_loss(log_p, torch.tensor(t))), rtol=1e-12)
    soft = rng.dirichlet(np.ones(D), size=N)      # probability targets: torch's cross_entropy
    np.testing.assert_allclose(losses.get("categorical_crossentropy")(soft, p),
                               float(F.cross_entropy(log_p, torch.tensor(soft))), rtol=1e-12)


def test_docstring_example():
    assert losses.get("binary_crossentropy")([[1.0], [0.0]], [[0.9], [0.2]]) == pytest.approx(
        (-np.log(0.9) - np.log(0.8)) / 2, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Gradients: finite differences, the clip, dtypes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name, rng):
    y, p = make_data(name, rng)
    loss = losses.get(name)
    h = 1e-6
    numeric = np.empty_like(p)
    for index in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (loss(y, up) - loss(y, down)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(y, p), numeric, rtol=1e-6, atol=1e-9)


def saturated_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Outputs on, inside and outside the clip boundaries [ε, 1 − ε], including exactly 0 and 1."""
    p = np.array([[0.0, 1e-9, EPS, 0.3],
                  [1.0, 1 - 1e-9, 1 - EPS, 0.6],
                  [0.5, 1e-12, 0.2, 0.2],
                  [EPS, 0.5, 0.5 - EPS, 0.0],     # rows summing to exactly 1: the normalised
                  [1 - EPS, EPS, 0.0, 0.0]])      # target probability is exactly ε or 1 − ε
    if name == "binary_crossentropy":
        return np.array([[1.0, 1, 0, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 0, 1, 0],
                         [0, 1, 1, 1]]), p
    t = np.array([1, 0, 1, 0, 0])
    return (t if name.startswith("sparse") else np.eye(4)[t]), p


@pytest.mark.parametrize("name", NAMES[2:])
def test_gradient_is_zero_where_keras_clips(name):
    y, p = saturated_data(name)
    loss = losses.get(name)
    value, grad = torch_value_and_grad(lambda yt, pt: torch_keras_loss(name, yt, pt), y, p)
    ours = loss.gradient(y, p)
    np.testing.assert_allclose(loss(y, p), value, rtol=1e-12)
    np.testing.assert_allclose(ours, grad, rtol=1e-12, atol=1e-15)
    if name == "binary_crossentropy":
        outside = (p < EPS) | (p > 1 - EPS)
        assert outside.any() and np.array_equal(ours == 0, outside)   # ε and 1 − ε: nonzero
    else:   # on the boundary q = ε or 1 − ε the clip still passes the gradient, as torch.clip
        assert np.all(ours[3:] != 0)


def test_binary_crossentropy_keeps_precision_for_near_perfect_outputs():
    # log(1 − p) as log1p(−p), as torch does: a loss of ~1e-6 keeps its relative precision.
    y, p = np.array([[0.0, 1.0]]), np.array([[1e-6, 1 - 1e-6]])
    expected = F.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    loss = losses.get("binary_crossentropy")
    np.testing.assert_allclose(loss.per_sample(y, p), expected.mean(dim=-1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(loss(y, p), float(expected.mean()), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_no_warnings_and_finite_for_outputs_exactly_0_or_1(name):
    if name in ("mean_squared_error", "mean_absolute_error"):
        y, p = np.ones((5, 4)), saturated_data("binary_crossentropy")[1]
    else:
        y, p = saturated_data(name)
    loss = losses.get(name)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        results = [loss(y, p), loss.per_sample(y, p), loss.gradient(y, p)]
        for activation in ("sigmoid", "softmax"):
            fused = loss.fused_gradient(y, np.zeros_like(p), p, activation)
            if fused is not None:
                results.append(fused)
    assert all(np.all(np.isfinite(r)) for r in results)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_shape_and_dtype(name, dtype, rng):
    y, p = make_data(name, rng, dtype=dtype)
    loss = losses.get(name)
    grads = [loss.gradient(y, p)]
    for activation in ("sigmoid", "softmax"):
        fused = loss.fused_gradient(y, p, p, activation)
        if fused is not None:
            grads.append(fused)
    for grad in grads:
        assert grad.shape == p.shape and grad.dtype == dtype
    reference = loss.gradient(y, p.astype(np.float64))
    np.testing.assert_allclose(grads[0], reference, rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Fused activation + loss
# --------------------------------------------------------------------------------------------
FUSED = [("binary_crossentropy", "sigmoid", "binary"),
         ("binary_crossentropy", "sigmoid", "soft"),
         ("categorical_crossentropy", "softmax", "one-hot"),
         ("categorical_crossentropy", "softmax", "unnormalised"),
         ("sparse_categorical_crossentropy", "softmax", "labels")]
TORCH_ACTIVATIONS = {"sigmoid": torch.sigmoid, "softmax": lambda z: torch.softmax(z, dim=-1)}


def fused_targets(kind: str, rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    t = rng.integers(0, d, size=n)
    return {"binary": lambda: rng.integers(0, 2, size=(n, d)).astype(float),
            "soft": lambda: rng.uniform(size=(n, d)),
            "one-hot": lambda: np.eye(d)[t],
            "unnormalised": lambda: rng.uniform(0, 2, size=(n, d)),   # rows do not sum to 1
            "labels": lambda: t}[kind]()


@pytest.mark.parametrize("name, activation, kind", FUSED)
def test_fused_gradient_matches_autograd_through_activation(name, activation, kind, rng):
    d = 1 if activation == "sigmoid" and kind == "binary" else 5
    y = fused_targets(kind, rng, 9, d)
    z = rng.normal(scale=2.0, size=(9, d))
    act = TORCH_ACTIVATIONS[activation]
    _, grad = torch_value_and_grad(lambda yt, zt: torch_keras_loss(name, yt, act(zt)), y, z)
    p = act(torch.tensor(z)).numpy()
    fused = losses.get(name).fused_gradient(y, z, p, activation)
    np.testing.assert_allclose(fused, grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name, activation, kind", FUSED[::2])
def test_fused_gradient_when_saturated_is_the_true_derivative(name, activation, kind):
    # z = ±50: the output is 0 or 1 to machine precision. The fused gradient equals the exact
    # derivative of the unclipped loss (torch's stable logits losses) — finite, right sign —
    # where Keras' clipped formula, chained through the activation, gives exactly zero.
    z = np.array([[50.0, -50.0, 0.0], [-50.0, 50.0, 0.0], [50.0, 0.0, -50.0]])
    if activation == "sigmoid":
        y = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
        exact = lambda yt, zt: F.binary_cross_entropy_with_logits(zt, yt)  # noqa: E731
    else:
        y = np.array([2, 1, 2]) if kind == "labels" else np.eye(3)[[2, 1, 2]]
        exact = lambda yt, zt: F.cross_entropy(zt, yt if kind != "labels" else yt.long())  # noqa: E731
    p = TORCH_ACTIVATIONS[activation](torch.tensor(z)).numpy()
    fused = losses.get(name).fused_gradient(y, z, p, activation)
    _, true_grad = torch_value_and_grad(exact, y, z)
    assert np.all(np.isfinite(fused))
    np.testing.assert_allclose(fused, true_grad, rtol=1e-10, atol=1e-20)
    wrong = (0, 0)                     # z = 50 for a wrong class: a confidently wrong output
    assert abs(fused[wrong]) > 0.1
    _, keras_chained = torch_value_and_grad(
        lambda yt, zt: torch_keras_loss(name, yt, TORCH_ACTIVATIONS[activation](zt)), y, z)
    assert keras_chained[wrong] == 0


@pytest.mark.parametrize("name, activation", [
    ("binary_crossentropy", "softmax"), ("binary_crossentropy", "linear"),
    ("categorical_crossentropy", "sigmoid"), ("sparse_categorical_crossentropy", None),
    ("mean_squared_error", "linear"), ("mean_squared_error", "sigmoid"),
    ("mean_absolute_error", "softmax"),
])
def test_no_fused_form_returns_none(name, activation, rng):
    y, p = make_data(name, rng)
    assert losses.get(name).fused_gradient(y, p, p, activation) is None


# --------------------------------------------------------------------------------------------
# Targets: checks and preparation
# --------------------------------------------------------------------------------------------
ints = np.array([0, 2, 1, 2], dtype=float)
BAD_TARGETS = [
    ("binary_crossentropy", np.array([0.0, 1.0, 2.0, 1.0]), 1, r"labels in \[0, 1\].*got 2"),
    ("binary_crossentropy", np.array([0.0, -1.0, 1.0, 1.0]), 1, r"got -1"),
    ("binary_crossentropy", np.eye(2)[[0, 1, 1, 0]], 1, r"shape \(samples, 1\).*categorical"),
    ("categorical_crossentropy", ints, 3, r"one-hot.*\(samples, 3\).*\(4,\).*sparse_categorical"),
    ("categorical_crossentropy", ints.reshape(-1, 1), 3, r"\(4, 1\).*sparse_categorical"),
    ("categorical_crossentropy", np.eye(4), 3, r"shape \(samples, 3\); got y of shape \(4, 4\)"),
    ("sparse_categorical_crossentropy", np.array([0, 1, 3, 2.0]), 3,
     r"label 3.*3 units.*0 to 2"),
    ("sparse_categorical_crossentropy", np.array([0, -1, 2, 2.0]), 3, r"label -1.*0 to 2"),
    ("sparse_categorical_crossentropy", np.array([0, 1.5, 2, 2]), 3, r"integer.*got 1\.5"),
    ("sparse_categorical_crossentropy", np.eye(3)[[0, 1, 2, 2]], 3,
     r"\(4, 3\).*one-hot.*loss='categorical_crossentropy'"),
    ("sparse_categorical_crossentropy", np.array([0, 1, 1, 0.0]), 1, r"1 unit .*binary"),
    ("mean_squared_error", np.zeros((4, 2)), 3, r"shape \(samples, 3\); got y of shape \(4, 2\)"),
    ("mean_squared_error", np.zeros(4), 3, r"\(4,\)"),
    ("mean_absolute_error", np.zeros((5, 1)), 1, r"5 samples|4 samples"),
]


@pytest.mark.parametrize("name, y, units, match", BAD_TARGETS)
def test_check_targets_rejects(name, y, units, match):
    with pytest.raises(DataError, match=match):
        losses.get(name).check_targets(y, (4, units))


@pytest.mark.parametrize("name, y, units", [
    ("binary_crossentropy", np.array([0.0, 1.0, 0.25, 1.0]), 1),
    ("binary_crossentropy", np.ones((4, 3)), 3),
    ("categorical_crossentropy", np.eye(3)[[0, 1, 2, 0]], 3),
    ("sparse_categorical_crossentropy", ints, 3),
    ("sparse_categorical_crossentropy", ints.reshape(-1, 1), 3),
    ("sparse_categorical_crossentropy", ints.astype(np.int32), 3),
    ("mean_squared_error", np.zeros(4), 1),
    ("mean_absolute_error", np.zeros((4, 3)), 3),
])
def test_check_targets_accepts(name, y, units):
    losses.get(name).check_targets(y, (4, units))


def test_categorical_crossentropy_warns_for_one_unit():
    with pytest.warns(UserWarning, match="binary_crossentropy"):
        losses.get("categorical_crossentropy").check_targets(np.ones((4, 1)), (4, 1))


@pytest.mark.parametrize("name, y, units, shape, dtype", [
    ("binary_crossentropy", [0, 1, 1], 1, (3, 1), np.float32),
    ("mean_squared_error", [0.5, 1, 2], 1, (3, 1), np.float64),
    ("mean_absolute_error", np.zeros((3, 2)), 2, (3, 2), np.float32),
    ("categorical_crossentropy", np.eye(3, dtype=bool), 3, (3, 3), np.float32),
    ("sparse_categorical_crossentropy", [[0.0], [2.0], [1.0]], 3, (3,), np.int64),
    ("sparse_categorical_crossentropy", [0, 2, 1], 3, (3,), np.int64),
])
def test_prepare_targets(name, y, units, shape, dtype):
    loss = losses.get(name)
    prepared = loss.prepare_targets(y, units, dtype if dtype is not np.int64 else np.float32)
    assert prepared.shape == shape and prepared.dtype == dtype
    assert prepared.flags.c_contiguous
    np.testing.assert_array_equal(prepared.ravel(), np.asarray(y, dtype=float).ravel())


@pytest.mark.parametrize("name, units", [
    ("binary_crossentropy", 1), ("mean_squared_error", 1), ("mean_absolute_error", 1),
    ("sparse_categorical_crossentropy", 3),
])
def test_prepared_targets_give_the_same_loss(name, units, rng):
    y, p = make_data(name, rng, d=units)
    # The raw forms users pass: (n,) for a one-unit output, float labels (n, 1) for sparse.
    raw = y.reshape(-1) if units == 1 else y.reshape(-1, 1).astype(float)
    loss = losses.get(name)
    prepared = loss.prepare_targets(raw, units, np.float64)
    assert loss(raw, p) == loss(prepared, p)
    np.testing.assert_array_equal(loss.gradient(raw, p), loss.gradient(prepared, p))


# --------------------------------------------------------------------------------------------
# Look-up by name
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("identifier, cls", [
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
    ("MSE", losses.MeanSquaredError), ("mae", losses.MeanAbsoluteError),
    ("bce", losses.BinaryCrossentropy), ("BinaryCrossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    (losses.CategoricalCrossentropy, losses.CategoricalCrossentropy),
    (losses.mse, losses.MeanSquaredError),
    ({"class_name": "BinaryCrossentropy", "config": {"name": "binary_crossentropy"}},
     losses.BinaryCrossentropy),
])
def test_get(identifier, cls):
    loss = losses.get(identifier)
    assert type(loss) is cls
    assert loss.name in losses.names()


@pytest.mark.parametrize("name", NAMES)
def test_serialize_round_trips(name):
    loss = losses.get(name)
    assert losses.get(loss) is loss
    restored = losses.get(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.name == name


def test_names_are_keras_names():
    assert set(NAMES) | {"mse", "mae"} <= set(losses.names())
    for name in losses.names():
        assert keras.losses.get(name) is not None


def test_module_functions_give_per_sample_values(rng):
    y, p = make_data("mean_squared_error", rng)
    np.testing.assert_array_equal(losses.mse(y, p), losses.MeanSquaredError().per_sample(y, p))
    assert losses.mean_squared_error(y, p).shape == (N,)


@pytest.mark.parametrize("identifier, match", [
    ("binary_crossentopy", r"Unknown loss 'binary_crossentopy'.*Did you mean "
                           r"'binary_crossentropy'\?"),
    ("hinge", r"Unknown loss 'hinge'\. Valid names: mean_squared_error, mse"),
    (lambda y, p: y - p, r"custom loss needs a gradient"),
    ({"config": {}}, r"'class_name' or 'name'"),
])
def test_unknown_loss(identifier, match):
    with pytest.raises(ConfigError, match=match):
        losses.get(identifier)
