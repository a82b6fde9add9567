"""BatchNormalization against Keras 3 (torch backend): forward in training and inference mode,
the moving statistics over several batches, the gradients through a loss, and inside ``fit``.

Keras' layer casts its inputs to ``result_type(dtype, "float32")``, which is float32 on the
torch backend even with floatx float64 (see test_model_parity). So the float64 comparisons
replay the layer's ``call`` with Keras' own ops (``keras.ops.moments``,
``keras.ops.batch_normalization``) on float64 tensors, to 1e-12; the layer object itself is
compared at float32 precision.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab import losses, optimizers
from descentlab.layers import Activation, BatchNormalization, Dense
from descentlab.models import Sequential

FEATURES = 5
# (momentum, epsilon, center, scale): Keras' defaults first.
SETTINGS = [(0.99, 1e-3, True, True), (0.9, 1e-5, True, True), (0.5, 0.1, False, True),
            (0.99, 1e-3, True, False)]


def batches(count: int, size: int = 16, seed: int = 0) -> list[np.ndarray]:
    """Inputs far from N(0, 1) (mean 3, per-feature scales 0.5..4), so normalising matters."""
    gen = np.random.default_rng(seed)
    scales = np.linspace(0.5, 4.0, FEATURES)
    return [3.0 + scales * gen.normal(size=(size, FEATURES)) for _ in range(count)]


def make_layer(momentum: float, epsilon: float, center: bool, scale: bool,
               seed: int = 1) -> BatchNormalization:
    """A built layer with non-trivial γ, β (those it has) and moving statistics."""
    layer = BatchNormalization(momentum=momentum, epsilon=epsilon, center=center, scale=scale)
    layer.build(FEATURES)
    gen = np.random.default_rng(seed)
    gamma, beta = gen.uniform(0.5, 2.0, FEATURES), gen.normal(size=FEATURES)
    if scale:
        layer.gamma[...] = gamma
    if center:
        layer.beta[...] = beta
    layer.moving_mean[...] = gen.normal(size=FEATURES)
    layer.moving_variance[...] = gen.uniform(0.5, 2.0, FEATURES)
    return layer


class KerasOps:
    """Keras 3's ``BatchNormalization.call`` written with Keras' ops, in float64::

        training:  μ, σ² = ops.moments(x, axes=[0])            (σ² = E[x²] − E[x]², biased)
                   moving_mean ← moving_mean·m + μ·(1 − m)        (same for the variance)
        inference: μ, σ² = moving_mean, moving_variance
        y = ops.batch_normalization(x, μ, σ², axis=−1, offset=β, scale=γ, epsilon=ε)
    """

    def __init__(self, keras, layer: BatchNormalization) -> None:
        self.ops = keras.ops
        self.momentum, self.epsilon = layer.momentum, layer.epsilon
        self.gamma = torch.tensor(layer.gamma, requires_grad=True) if layer.scale else None
        self.beta = torch.tensor(layer.beta, requires_grad=True) if layer.center else None
        self.moving_mean = torch.tensor(layer.moving_mean)
        self.moving_variance = torch.tensor(layer.moving_variance)

    def __call__(self, x: torch.Tensor, training: bool) -> torch.Tensor:
        if training:
            mean, variance = self.ops.moments(x, axes=[0])
            m = self.momentum
            self.moving_mean = self.moving_mean * m + mean.detach() * (1.0 - m)
            self.moving_variance = self.moving_variance * m + variance.detach() * (1.0 - m)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return self.ops.batch_normalization(x, mean, variance, axis=-1, offset=self.beta,
                                            scale=self.gamma, epsilon=self.epsilon)


@pytest.mark.parametrize("momentum, epsilon, center, scale", SETTINGS)
def test_forward_and_moving_statistics_match_keras_ops(float64, keras64, momentum, epsilon,
                                                       center, scale) -> None:
    layer = make_layer(momentum, epsilon, center, scale)
    reference = KerasOps(keras64, layer)
    for x in batches(6):
        got = layer.forward(x, training=True)
        want = reference(torch.tensor(x), training=True)
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.moving_mean, reference.moving_mean.numpy(),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.moving_variance, reference.moving_variance.numpy(),
                                   rtol=1e-12)
    # After 6 batches the moving statistics have moved: momentum m keeps m^6 of the start.
    assert not np.allclose(layer.moving_mean, make_layer(momentum, epsilon, center,
                                                         scale).moving_mean)
    x = batches(1, seed=9)[0]
    got = layer.forward(x, training=False)
    want = reference(torch.tensor(x), training=False)
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum, epsilon, center, scale", SETTINGS)
def test_gradients_through_a_loss_match_keras_ops(float64, keras64, momentum, epsilon, center,
                                                   scale, training) -> None:
    """L = MSE(BN(x), t): ∂L/∂x, ∂L/∂γ, ∂L/∂β against autograd through Keras' ops."""
    layer = make_layer(momentum, epsilon, center, scale)
    reference = KerasOps(keras64, layer)
    x = batches(1, seed=3)[0]
    t = np.random.default_rng(4).normal(size=x.shape)
    mse = losses.get("mse")
    out = layer.forward(x, training=training)
    dx = layer.backward(mse.gradient(t, out))

    xt = torch.tensor(x, requires_grad=True)
    loss = ((reference(xt, training=training) - torch.tensor(t)) ** 2).mean()
    params = [p for p in (reference.gamma, reference.beta) if p is not None]
    want_dx, *want_params = torch.autograd.grad(loss, [xt, *params])
    np.testing.assert_allclose(mse(t, out), loss.item(), rtol=1e-12)
    np.testing.assert_allclose(dx, want_dx.numpy(), rtol=1e-9, atol=1e-14)
    assert len(layer.grads) == len(want_params) == int(center) + int(scale)
    for got, want in zip(layer.grads, want_params, strict=True):  # order: γ then β, as Keras
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-14)
    if training:  # normalised in training mode: the batch statistics absorb shifts of x
        np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-14)


@pytest.mark.parametrize("momentum, epsilon, center, scale", SETTINGS)
def test_layer_matches_keras_layer(float64, keras64, momentum, epsilon, center,
                                   scale) -> None:
    """The Keras layer object itself (float32 inside), weights exchanged through
    ``get_weights``/``set_weights`` in Keras' order: gamma, beta, moving_mean, moving_variance."""
    keras = keras64
    layer = make_layer(momentum, epsilon, center, scale)
    model = Sequential([Dense(FEATURES, input_dim=FEATURES), layer])
    ours = model.get_weights()[2:]
    reference = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon,
                                                center=center, scale=scale)
    reference.build((None, FEATURES))
    assert [w.path.split("/")[-1] for w in reference.weights] == \
        ["gamma"] * scale + ["beta"] * center + ["moving_mean", "moving_variance"]
    reference.set_weights(ours)
    for x in batches(4, seed=5):
        xt = torch.tensor(x, requires_grad=True)
        want = reference(xt, training=True)
        got = layer.forward(x, training=True)
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-5, atol=2e-6)
        upstream = np.random.default_rng(6).normal(size=x.shape)
        (want * torch.tensor(upstream)).sum().backward()
        np.testing.assert_allclose(layer.backward(upstream), xt.grad.numpy(), rtol=1e-4,
                                   atol=1e-5)
        for got_w, want_w in zip(model.get_weights()[2:], reference.get_weights(),
                                 strict=True):
            # Keras' float32 σ² = E[x²] − E[x]² loses digits when the mean is large.
            np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    x = batches(1, seed=8)[0]
    np.testing.assert_allclose(layer.forward(x, training=False),
                               reference(torch.tensor(x), training=False).detach().numpy(),
                               rtol=1e-5, atol=2e-6)


def test_fit_with_batchnorm_matches_keras_train_on_batch() -> None:
    """Dense → BatchNormalization → relu → Dense softmax, trained by descentlab's fit and by
    Keras' train_on_batch from the same weights and batch order (float32, as Keras computes):
    weights, moving statistics, losses and the inference-mode predictions agree."""
    import keras

    gen = np.random.default_rng(2)
    x = (2.0 + 3.0 * gen.normal(size=(80, 6))).astype("float32")
    y = gen.integers(0, 3, 80)
    epochs, size = 4, 16
    dl.set_random_seed(4)
    model = Sequential([Dense(8, input_dim=6), BatchNormalization(), Activation("relu"),
                        Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy")
    initial = model.get_weights()
    model.set_training_seed(21)  # fix the shuffling to replay it in Keras
    history = model.fit(x, y, batch_size=size, epochs=epochs, verbose=0)

    reference = keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"), keras.layers.Dense(3, activation="softmax")])
    reference.set_weights(initial)
    reference.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss="sparse_categorical_crossentropy")
    orders = np.random.default_rng(21)
    losses_per_epoch = []
    for _ in range(epochs):
        order = orders.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), size):
            idx = order[start:start + size]
            reference.reset_metrics()
            total += float(reference.train_on_batch(x[idx], y[idx])) * len(idx)
        losses_per_epoch.append(total / len(x))
    np.testing.assert_allclose(history.history["loss"], losses_per_epoch, rtol=1e-4)
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.predict(x), reference.predict(x, verbose=0), rtol=1e-4,
                               atol=1e-5)
