"""Whole-model parity: descentlab's fit against the same training run in PyTorch and in Keras 3.

Same initial weights, same batch order, float64: after 5 epochs the weights and the per-epoch
history must agree to rtol 1e-9. This proves the forward pass, every backward formula, the
loss reductions, the fused output gradients, the optimizers and fit's bookkeeping at once.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab import optimizers
from descentlab.layers import Dense
from descentlab.models import Sequential

EPOCHS = 5
N, FEATURES, BATCH = 90, 6, 16  # 90 = 5 full batches + a smaller last one, as in Keras
HIDDEN = [(8, "tanh"), (7, "relu"), (5, "sigmoid")]

# loss name -> (output units, output activation, targets maker)
LOSSES = {
    "binary_crossentropy": (1, "sigmoid"),
    "categorical_crossentropy": (3, "softmax"),
    "sparse_categorical_crossentropy": (3, "softmax"),
    "mse": (2, "linear"),
}


def make_data(loss: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(N, FEATURES))
    units = LOSSES[loss][0]
    if loss == "binary_crossentropy":
        y = (x[:, :1] + 0.5 * gen.normal(size=(N, 1)) > 0).astype(float)
    elif loss == "categorical_crossentropy":
        y = np.eye(units)[gen.integers(0, units, N)]
    elif loss == "sparse_categorical_crossentropy":
        y = gen.integers(0, units, N)
    else:
        y = x[:, :units] * 0.5 + 0.1 * gen.normal(size=(N, units))
    return x, y


def build_model(loss: str, optimizer: optimizers.Optimizer) -> Sequential:
    units, out_act = LOSSES[loss]
    model = Sequential()
    model.add(Dense(HIDDEN[0][0], activation=HIDDEN[0][1], input_dim=FEATURES))
    for width, act in HIDDEN[1:]:
        model.add(Dense(width, activation=act))
    model.add(Dense(units, activation=out_act))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"] if loss != "mse" else [])
    return model


def batch_orders(seed: int) -> list[np.ndarray]:
    gen = np.random.default_rng(seed)
    return [gen.permutation(N) for _ in range(EPOCHS)]


# --------------------------------------------------------------------------------------------
# PyTorch reference
# --------------------------------------------------------------------------------------------
def torch_activation(name: str):
    return {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
            "softmax": lambda z: torch.softmax(z, dim=-1), "linear": lambda z: z}[name]


def torch_forward(params: list[torch.Tensor], acts: list[str], h: torch.Tensor) -> torch.Tensor:
    """The Dense stack in torch: h ← f(h·W + b) layer by layer."""
    for k, act in enumerate(acts):
        h = torch_activation(act)(h @ params[2 * k] + params[2 * k + 1])
    return h


def torch_loss(loss: str, y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Keras' loss formulas (the ones descentlab implements), written in torch."""
    eps = 1e-7
    if loss == "binary_crossentropy":
        p = p.clamp(eps, 1 - eps)
        return torch.nn.functional.binary_cross_entropy(p, y, reduction="none").mean(-1).mean()
    if loss == "categorical_crossentropy":
        p = (p / p.sum(-1, keepdim=True)).clamp(eps, 1 - eps)
        return -(y * torch.log(p)).sum(-1).mean()
    if loss == "sparse_categorical_crossentropy":
        p = (p / p.sum(-1, keepdim=True)).clamp(eps, 1 - eps)
        return -torch.log(p.gather(1, y.long().view(-1, 1))).mean()
    return ((p - y) ** 2).mean(-1).mean()


def torch_run(loss: str, weights: list[np.ndarray], x: np.ndarray, y: np.ndarray,
              orders: list[np.ndarray], make_opt) -> tuple[list[np.ndarray], list[float]]:
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    acts = [a for _, a in HIDDEN] + [LOSSES[loss][1]]
    opt = make_opt(params)
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y if y.ndim > 1 or loss.startswith("sparse") else y.reshape(-1, 1),
                      dtype=torch.float64)
    epoch_losses = []
    for order in orders:
        total = 0.0
        for start in range(0, N, BATCH):
            idx = torch.tensor(order[start:start + BATCH])
            value = torch_loss(loss, yt[idx], torch_forward(params, acts, xt[idx]))
            opt.zero_grad()
            value.backward()
            opt.step()
            total += value.item() * len(idx)
        epoch_losses.append(total / N)
    return [p.detach().numpy() for p in params], epoch_losses


TORCH_OPTIMIZERS = {
    "adam": (lambda: optimizers.Adam(learning_rate=0.01, flavor="pytorch"),
             lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7)),
    "sgd_momentum": (lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, flavor="pytorch"),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
}


@pytest.mark.parametrize("opt_name", sorted(TORCH_OPTIMIZERS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_fit_matches_pytorch(float64, loss: str, opt_name: str) -> None:
    make_dl, make_torch = TORCH_OPTIMIZERS[opt_name]
    x, y = make_data(loss)
    dl.set_random_seed(3)
    model = build_model(loss, make_dl())
    initial = model.get_weights()
    model.set_training_seed(11)  # fix the shuffling stream to replay it in torch
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    expected_weights, expected_losses = torch_run(loss, initial, x, y, batch_orders(11),
                                                  make_torch)
    np.testing.assert_allclose(history.history["loss"], expected_losses, rtol=1e-9)
    for got, want in zip(model.get_weights(), expected_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Keras reference (flavor="keras", the default)
# --------------------------------------------------------------------------------------------
KERAS_OPTIMIZERS = {
    "adam": (lambda: optimizers.Adam(learning_rate=0.01),
             lambda k: k.optimizers.Adam(learning_rate=0.01)),
    "sgd_momentum": (lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9),
                     lambda k: k.optimizers.SGD(learning_rate=0.05, momentum=0.9)),
}


def keras_reference(keras, loss: str, initial: list[np.ndarray]):
    units, out_act = LOSSES[loss]
    reference = keras.Sequential(
        [keras.Input((FEATURES,))]
        + [keras.layers.Dense(w, activation=a) for w, a in HIDDEN]
        + [keras.layers.Dense(units, activation=out_act)]
    )
    reference.set_weights(initial)
    return reference


@pytest.mark.parametrize("opt_name", sorted(KERAS_OPTIMIZERS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_fit_matches_keras_optimizer(float64, keras64, loss: str, opt_name: str) -> None:
    """flavor='keras' end to end in float64: the network's forward and backward pass replayed
    in torch (Keras' layers cannot run in float64 on the torch backend, see below) and every
    update made by Keras' own optimizer object on Keras variables."""
    keras = keras64
    make_dl, make_keras = KERAS_OPTIMIZERS[opt_name]
    x, y = make_data(loss)
    dl.set_random_seed(5)
    model = build_model(loss, make_dl())
    initial = model.get_weights()
    model.set_training_seed(13)
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)

    variables = [keras.Variable(w, dtype="float64") for w in initial]
    optimizer = make_keras(keras)
    acts = [a for _, a in HIDDEN] + [LOSSES[loss][1]]
    xt = torch.tensor(x)
    yt = torch.tensor(y if y.ndim > 1 or loss.startswith("sparse") else y.reshape(-1, 1))
    epoch_losses = []
    for order in batch_orders(13):
        total = 0.0
        for start in range(0, N, BATCH):
            idx = torch.tensor(order[start:start + BATCH])
            params = [v.value for v in variables]
            value = torch_loss(loss, yt[idx], torch_forward(params, acts, xt[idx]))
            grads = torch.autograd.grad(value, params)
            optimizer.apply(list(grads), variables)
            total += value.item() * len(idx)
        epoch_losses.append(total / N)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-9)
    for got, want in zip(model.get_weights(), variables, strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-9, atol=1e-12)


def test_keras_computes_float64_in_float32_on_torch() -> None:
    """Why Keras' own layers are compared at float32 precision below: on every backend but
    TensorFlow, Keras 3 promotes float64 with float64 to float32 (its matmul and its loss
    reductions run in float32 even with floatx float64). If this starts failing, Keras changed
    and the end-to-end Keras comparison can be tightened to float64 precision."""
    from keras.src.backend.common import dtypes

    assert dtypes.result_type("float64", "float64") == "float32"


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_fit_matches_keras_train_on_batch(loss: str) -> None:
    """End to end through Keras' own model, loss and training step, in float32, from the same
    initial weights and batch order: equal to float32 precision."""
    import keras

    x, y = make_data(loss)
    dl.set_random_seed(5)
    model = build_model(loss, optimizers.Adam(learning_rate=0.01))
    initial = model.get_weights()
    model.set_training_seed(13)
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    reference = keras_reference(keras, loss, initial)
    reference.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=loss)
    xf = x.astype("float32")
    y_ref = (y if y.ndim > 1 or loss.startswith("sparse") else y.reshape(-1, 1))
    epoch_losses = []
    for order in batch_orders(13):
        total = 0.0
        for start in range(0, N, BATCH):
            idx = order[start:start + BATCH]
            reference.reset_metrics()  # train_on_batch would otherwise report a running mean
            total += float(reference.train_on_batch(xf[idx], y_ref[idx])) * len(idx)
        epoch_losses.append(total / N)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=2e-5)
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-5)


def test_full_batch_is_one_update_per_epoch(float64) -> None:
    """batch_size='full' is plain gradient descent: exactly one optimizer step per epoch."""
    x, y = make_data("mse")
    model = build_model("mse", optimizers.SGD(learning_rate=0.1))
    model.fit(x, y, batch_size="full", epochs=4, verbose=0)
    assert model.optimizer.iterations == 4
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    assert model.optimizer.iterations == 4 + int(np.ceil(N / BATCH))
