"""Weight regularizers against Keras 3 (torch backend), the oracle of their semantics.

* Each penalty equals Keras' own regularizer object on the same float64 weights, and each
  gradient equals torch autograd through that Keras penalty (sign(0) = 0 included).
* Whole training runs in float64, SGD and Adam, fixed batch order (shuffle=False): the network
  replayed in torch, the penalties computed by Keras' regularizer objects, every update made by
  Keras' optimizer objects — weights, per-epoch loss history and ``evaluate`` at rtol 1e-10.
  (Keras' own layers cannot be the float64 oracle: on the torch backend they compute float64 in
  float32, see tests/test_model_parity.py.)
* The same runs through Keras' own ``Dense(kernel_regularizer=...)``, ``fit`` and ``evaluate`` in
  float32: what Keras reports as the loss (penalties included) equals what descentlab reports.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab import optimizers, regularizers
from descentlab.errors import ConfigError
from descentlab.layers import Dense
from descentlab.models import Sequential, load_model

N, FEATURES, BATCH, EPOCHS = 90, 6, 16, 4  # 90 = 5 batches of 16 + one of 10
HIDDEN = [(8, "tanh"), (5, "relu")]
CLASSES = 3


def make_data(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(N, FEATURES))
    y = np.eye(CLASSES)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)]
    return x, y


# Per case: (descentlab factory, keras factory) for the kernel and bias regularizers of the
# three Dense layers (None: that weight is not regularized; the middle layer never is).
# The factors are large enough that dropping any term moves the result far beyond rtol.
def _pair(kind: str, **factors: float):
    classes = {"l1": ("L1", "L1"), "l2": ("L2", "L2"), "l1_l2": ("L1L2", "L1L2")}[kind]
    return (lambda: getattr(regularizers, classes[0])(**factors),
            lambda k: getattr(k.regularizers, classes[1])(**factors))


CASES = {
    "l1": {"kernel": _pair("l1", l1=0.01), "bias": _pair("l1", l1=0.02)},
    "l2": {"kernel": _pair("l2", l2=0.03), "bias": _pair("l2", l2=0.05)},
    "l1_l2": {"kernel": _pair("l1_l2", l1=0.01, l2=0.02), "bias": _pair("l1_l2", l1=0.02, l2=0.04)},
}
# Layer k gets (kernel regularizer?, bias regularizer?).
REGULARIZED = [(True, False), (False, False), (True, True)]

OPTIMIZERS = {
    "sgd": (lambda: optimizers.SGD(learning_rate=0.1),
            lambda k: k.optimizers.SGD(learning_rate=0.1)),
    "adam": (lambda: optimizers.Adam(learning_rate=0.01),
             lambda k: k.optimizers.Adam(learning_rate=0.01)),
}


def build_model(case: str, optimizer: optimizers.Optimizer) -> Sequential:
    make = CASES[case]
    widths = [w for w, _ in HIDDEN] + [CLASSES]
    acts = [a for _, a in HIDDEN] + ["softmax"]
    model = Sequential()
    for k, (width, act) in enumerate(zip(widths, acts, strict=True)):
        kernel, bias = REGULARIZED[k]
        model.add(Dense(width, activation=act, input_dim=FEATURES if k == 0 else None,
                        kernel_regularizer=make["kernel"][0]() if kernel else None,
                        bias_regularizer=make["bias"][0]() if bias else None))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_regularizers(keras, case: str) -> list:
    """Keras' regularizer objects, aligned with [kernel0, bias0, kernel1, ...] (None: none)."""
    make = CASES[case]
    out = []
    for kernel, bias in REGULARIZED:
        out.append(make["kernel"][1](keras) if kernel else None)
        out.append(make["bias"][1](keras) if bias else None)
    return out


# --------------------------------------------------------------------------------------------
# The torch replay, with Keras' penalties and Keras' optimizers
# --------------------------------------------------------------------------------------------
def torch_forward(params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    acts = [torch.tanh, torch.relu, lambda z: torch.softmax(z, dim=-1)]
    for k, act in enumerate(acts):
        h = act(h @ params[2 * k] + params[2 * k + 1])
    return h


def data_loss(y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Keras' categorical cross-entropy (renormalise, clip to [1e-7, 1 − 1e-7]), batch mean."""
    p = (p / p.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p)).sum(-1).mean()


def penalty(regs: list, params: list[torch.Tensor]) -> torch.Tensor:
    """Σ R(W) by Keras' own regularizer objects (what Keras' compute_loss adds)."""
    total = torch.zeros((), dtype=torch.float64)
    for reg, w in zip(regs, params, strict=True):
        if reg is not None:
            total = total + reg(w)
    return total


def keras_replay(keras, case: str, opt_name: str, initial: list[np.ndarray], x: np.ndarray,
                 y: np.ndarray) -> tuple[list[np.ndarray], list[float], float]:
    variables = [keras.Variable(w, dtype="float64") for w in initial]
    optimizer = OPTIMIZERS[opt_name][1](keras)
    regs = keras_regularizers(keras, case)
    xt, yt = torch.tensor(x), torch.tensor(y)
    history = []
    for _ in range(EPOCHS):
        total = 0.0
        for start in range(0, N, BATCH):  # shuffle=False: the batches in order
            xb, yb = xt[start:start + BATCH], yt[start:start + BATCH]
            params = [v.value for v in variables]
            value = data_loss(yb, torch_forward(params, xb)) + penalty(regs, params)
            grads = torch.autograd.grad(value, params)
            optimizer.apply(list(grads), variables)
            total += value.item() * len(xb)
        history.append(total / N)
    with torch.no_grad():
        params = [v.value for v in variables]
        evaluated = (data_loss(yt, torch_forward(params, xt)) + penalty(regs, params)).item()
    return [np.asarray(v) for v in variables], history, evaluated


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_matches_keras_float64(float64, keras64, case: str, opt_name: str) -> None:
    x, y = make_data()
    dl.set_random_seed(3)
    model = build_model(case, OPTIMIZERS[opt_name][0]())
    initial = model.get_weights()
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    evaluated, _accuracy = model.evaluate(x, y, verbose=0)

    want_weights, want_history, want_evaluated = keras_replay(keras64, case, opt_name, initial,
                                                              x, y)
    np.testing.assert_allclose(history.history["loss"], want_history, rtol=1e-10)
    for got, want in zip(model.get_weights(), want_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(evaluated, want_evaluated, rtol=1e-10)
    # The penalties are a visible part of the loss, not a rounding error.
    assert sum(model.losses) > 1e-3 * evaluated


@pytest.mark.parametrize("case", sorted(CASES))
def test_compute_gradients_and_train_on_batch_include_the_penalty(float64, keras64,
                                                                  case: str) -> None:
    x, y = make_data()
    dl.set_random_seed(4)
    model = build_model(case, optimizers.SGD(learning_rate=0.1))
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)  # biases off zero
    weights = model.get_weights()
    loss, grads = model.compute_gradients(x[:BATCH], y[:BATCH])

    params = [torch.tensor(w, requires_grad=True) for w in weights]
    regs = keras_regularizers(keras64, case)
    xb, yb = torch.tensor(x[:BATCH]), torch.tensor(y[:BATCH])
    value = data_loss(yb, torch_forward(params, xb)) + penalty(regs, params)
    want = torch.autograd.grad(value, params)
    np.testing.assert_allclose(loss, value.item(), rtol=1e-12)
    for got, w in zip(grads, want, strict=True):
        np.testing.assert_allclose(got, w.numpy(), rtol=1e-10, atol=1e-14)

    reported, _accuracy = model.train_on_batch(x[:BATCH], y[:BATCH])
    np.testing.assert_allclose(reported, value.item(), rtol=1e-12)
    for w, before, g in zip(model.get_weights(), weights, grads, strict=True):
        np.testing.assert_allclose(w, before - 0.1 * g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_matches_keras_own_model_float32(case: str, opt_name: str) -> None:
    """Keras' own layers, fit and evaluate (float32): Keras reports the loss with the penalties,
    and descentlab reports the same."""
    import keras

    x, y = make_data()
    dl.set_random_seed(3)
    model = build_model(case, OPTIMIZERS[opt_name][0]())
    initial = model.get_weights()
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    evaluated = model.evaluate(x, y, verbose=0)

    regs = keras_regularizers(keras, case)
    layers = [keras.Input((FEATURES,))]
    for k, (width, act) in enumerate(zip([w for w, _ in HIDDEN] + [CLASSES],
                                         [a for _, a in HIDDEN] + ["softmax"], strict=True)):
        layers.append(keras.layers.Dense(width, activation=act, kernel_regularizer=regs[2 * k],
                                         bias_regularizer=regs[2 * k + 1]))
    reference = keras.Sequential(layers)
    reference.set_weights(initial)
    reference.compile(optimizer=OPTIMIZERS[opt_name][1](keras), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    xf, yf = x.astype("float32"), y.astype("float32")
    want = reference.fit(xf, yf, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    want_evaluated = reference.evaluate(xf, yf, verbose=0)

    np.testing.assert_allclose(history.history["loss"], want.history["loss"], rtol=2e-5)
    for got, w in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, np.asarray(w), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(evaluated, want_evaluated, rtol=2e-5)
    # Keras' evaluate includes the penalties: without them it would differ far beyond rtol.
    penalties = sum(float(keras.ops.convert_to_numpy(p)) for p in reference.losses)
    assert penalties > 100 * 2e-5 * want_evaluated[0]
    np.testing.assert_allclose(sum(model.losses), penalties, rtol=1e-5)


# --------------------------------------------------------------------------------------------
# Each regularizer on its own
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_penalty_and_gradient_match_keras(keras64, case: str) -> None:
    ours, theirs = CASES[case]["kernel"]
    w = np.random.default_rng(2).normal(size=(7, 5))
    w[0, :3] = 0.0  # |w| at 0: sign(0) = 0 in Keras (torch autograd) and here
    t = torch.tensor(w, requires_grad=True)
    value = theirs(keras64)(t)
    (grad,) = torch.autograd.grad(value, t)
    np.testing.assert_allclose(ours()(w), value.item(), rtol=1e-13)
    np.testing.assert_allclose(ours().gradient(w), grad.numpy(), rtol=1e-13, atol=0)


def test_formulas_by_hand() -> None:
    """The docstrings' formulas on numbers small enough to check by eye."""
    w = np.array([[-2.0, 0.0], [0.5, 3.0]])
    assert regularizers.L1(0.1)(w) == pytest.approx(0.1 * 5.5)
    assert regularizers.L2(0.1)(w) == pytest.approx(0.1 * 13.25)  # no ½
    np.testing.assert_allclose(regularizers.L1(0.1).gradient(w), [[-0.1, 0.0], [0.1, 0.1]])
    np.testing.assert_allclose(regularizers.L2(0.1).gradient(w), [[-0.4, 0.0], [0.1, 0.6]])
    both = regularizers.L1L2(l1=0.1, l2=0.1)
    assert both(w) == pytest.approx(0.1 * 5.5 + 0.1 * 13.25)
    np.testing.assert_allclose(both.gradient(w), [[-0.5, 0.0], [0.2, 0.7]])
    assert regularizers.L1L2()(w) == 0.0  # Keras 3's defaults: l1 = l2 = 0
    w32 = w.astype("float32")
    assert regularizers.L2(0.1).gradient(w32).dtype == np.float32
    assert both.gradient(w32).dtype == np.float32


# --------------------------------------------------------------------------------------------
# Names, configs, files
# --------------------------------------------------------------------------------------------
def test_names_defaults_and_aliases(keras64) -> None:
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    assert dl.regularizers is regularizers
    assert regularizers.get(None) is None
    assert regularizers.get("l1") == regularizers.L1(0.01)
    assert regularizers.get("l2") == regularizers.L2(0.01)
    assert regularizers.get("L2") == regularizers.L2(0.01)
    assert regularizers.get("l1_l2") == regularizers.L1L2(l1=0.01, l2=0.01)  # Keras' docs
    assert regularizers.get(regularizers.L2) == regularizers.L2(0.01)
    reg = regularizers.L1L2(l2=0.3)
    assert regularizers.get(reg) is reg
    assert reg.get_config() == {"name": "l1_l2", "l1": 0.0, "l2": 0.3}
    assert regularizers.deserialize(regularizers.serialize(reg)) == reg
    assert regularizers.serialize(None) is None
    assert regularizers.L2.from_config({"name": "l2", "l2": 0.2}) == regularizers.L2(0.2)
    # Keras' own serialized form is understood.
    keras_config = keras64.regularizers.serialize(keras64.regularizers.L1L2(l1=0.02, l2=0.05))
    assert regularizers.get(keras_config) == regularizers.L1L2(l1=0.02, l2=0.05)
    # Keras' defaults for the classes.
    assert keras64.regularizers.L1().get_config()["l1"] == regularizers.L1().l1 == 0.01
    assert keras64.regularizers.L2().get_config()["l2"] == regularizers.L2().l2 == 0.01
    assert keras64.regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}


@pytest.mark.parametrize("make, message", [
    (lambda: regularizers.L2(-1),
     "L2 regularization factor l2 must be a finite number ≥ 0; got -1."),
    (lambda: regularizers.L1(float("nan")),
     "L1 regularization factor l1 must be a finite number ≥ 0; got nan."),
    (lambda: regularizers.L1L2(l2=float("inf")),
     "L1L2 regularization factor l2 must be a finite number ≥ 0; got inf."),
    (lambda: regularizers.L1L2(l1="0.1"),
     "L1L2 regularization factor l1 must be a finite number ≥ 0; got '0.1'."),
    (lambda: regularizers.L1(True),
     "L1 regularization factor l1 must be a finite number ≥ 0; got True."),
    (lambda: regularizers.get("l3"),
     "Unknown regularizer 'l3'. Valid names: l1, l1_l2, l2."),
    (lambda: regularizers.get("weight_decay"),
     "Unknown regularizer 'weight_decay'. Valid names: l1, l1_l2, l2."),
    (lambda: regularizers.get({"name": "l2", "l1": 0.1}),
     "Regularizer 'l2' got parameters ['l1']; it takes l2."),
    (lambda: regularizers.get({"l2": 0.1}),
     "A regularizer config needs a 'name'; got {'l2': 0.1}. Valid names: l1, l1_l2, l2."),
    (lambda: regularizers.get(0.01),
     "A regularizer must be a name, a config dict, a regularizer object or None; got 0.01. "
     "Valid names: l1, l1_l2, l2."),
    (lambda: Dense(3, kernel_regularizer="l2x"),
     "Unknown regularizer 'l2x'. Valid names: l1, l1_l2, l2. Did you mean 'l2'?"),
    (lambda: Dense(3, bias_regularizer=-0.5),
     "A regularizer must be a name, a config dict, a regularizer object or None; got -0.5. "
     "Valid names: l1, l1_l2, l2."),
])
def test_bad_arguments(make, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value) == message


def test_a_plain_function_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="must also give its gradient.*subclass "
                                          r"descentlab\.regularizers\.Regularizer"):
        Dense(3, kernel_regularizer=lambda w: 0.01 * np.sum(w ** 2))


def test_save_load_keeps_the_regularizers_and_resumes_exactly(tmp_path) -> None:
    x, y = make_data()
    dl.set_random_seed(5)
    model = build_model("l1_l2", optimizers.Adam(learning_rate=0.01))
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    path = tmp_path / "regularized.dlab"
    model.save(str(path))
    again = load_model(str(path))
    for a, b in zip(model.layers, again.layers, strict=True):
        assert a.get_config() == b.get_config()
        assert a.kernel_regularizer == b.kernel_regularizer
        assert a.bias_regularizer == b.bias_regularizer
    assert again.layers[0].kernel_regularizer == regularizers.L1L2(l1=0.01, l2=0.02)
    assert again.layers[1].kernel_regularizer is None
    assert again.layers[2].bias_regularizer == regularizers.L1L2(l1=0.02, l2=0.04)
    assert again.losses == model.losses
    assert again.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    a = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history["loss"]
    b = again.fit(x, y, batch_size=BATCH, epochs=2, verbose=0).history["loss"]
    assert a == b
    for wa, wb in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_without_regularizers_nothing_changes() -> None:
    """No regularizer: no penalty, the training step skips it, and Dense's config says None."""
    x, y = make_data()
    dl.set_random_seed(6)
    model = Sequential([Dense(4, activation="tanh", input_dim=FEATURES),
                        Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.losses == [] and model._regularized is False
    config = model.layers[0].get_config()
    assert config["kernel_regularizer"] is None and config["bias_regularizer"] is None
    # A model file written before regularizers existed (no such keys) still loads.
    del config["kernel_regularizer"], config["bias_regularizer"]
    assert Dense.from_config(config).kernel_regularizer is None


def test_diagnostics_see_the_regularized_gradients(float64) -> None:
    """dl.diagnostics reads gradients through compute_gradients, penalty included."""
    x, y = make_data()
    dl.set_random_seed(7)
    model = build_model("l2", optimizers.SGD(learning_rate=0.1))
    _, grads = model.compute_gradients(x, y)
    flow = dl.diagnostics.gradient_flow(model, x, y)
    kernel_norms = [row["kernel_grad_norm"] for row in flow]
    np.testing.assert_allclose(kernel_norms, [np.linalg.norm(g) for g in grads[::2]],
                               rtol=1e-12)
