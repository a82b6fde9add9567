"""The optimizer's stages inside ``fit``, and the public ``apply`` it goes through.

``fit`` hands the optimizer the model's weights as one flat array, or weight by weight when
``clipnorm`` must rescale each gradient apart. These tests train a small network with clipping
under momentum and replay the same steps with Keras' optimizer (flavor 'keras') and with
``torch.optim`` after clipping the gradients in the test (flavor 'pytorch'): dropping the clipping
stage, or clipping the flat array as if it were one gradient, changes the trajectory.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from descentlab import optimizers
from descentlab.errors import ConfigError
from descentlab.layers import Dense
from descentlab.models import Sequential

N, FEATURES, BATCH, EPOCHS = 40, 4, 16, 5  # 40 = 16 + 16 + 8: three steps per epoch

#: Thresholds small enough that clipping acts at every step of this problem.
CLIPS = {"clipnorm": 0.05, "clipvalue": 0.01, "global_clipnorm": 0.05}


def make_problem() -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(21)
    x = gen.normal(size=(N, FEATURES))
    y = np.tanh(x[:, :2]) + 0.1 * gen.normal(size=(N, 2))
    return x, y


def train(optimizer: optimizers.Optimizer) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """fit without shuffling: the initial and the final weights."""
    x, y = make_problem()
    model = Sequential([Dense(6, activation="tanh", input_dim=FEATURES), Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    initial = model.get_weights()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    return initial, model.get_weights()


def batch_loss(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The same network and mean squared error, written in torch."""
    hidden = torch.tanh(x @ params[0] + params[1])
    return ((hidden @ params[2] + params[3] - y) ** 2).mean(-1).mean()


def batches():
    x, y = (torch.tensor(a) for a in make_problem())
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            yield x[start:start + BATCH], y[start:start + BATCH]


def clipped_in_test(grads: list[torch.Tensor], option: str, c: float) -> list[torch.Tensor]:
    """Keras' clipping rules, written here apart from the engine's."""
    if option == "clipvalue":
        return [g.clamp(-c, c) for g in grads]
    if option == "clipnorm":
        return [g * min(1.0, c / float(g.norm())) for g in grads]
    total = float(torch.sqrt(sum((g * g).sum() for g in grads)))
    return [g * min(1.0, c / total) for g in grads]


@pytest.mark.parametrize("option", sorted(CLIPS))
def test_fit_clips_under_momentum_like_keras(float64, keras64, option: str) -> None:
    settings = {"learning_rate": 0.1, "momentum": 0.9, option: CLIPS[option]}
    initial, got = train(optimizers.SGD(**settings))

    variables = [keras64.Variable(w, dtype="float64") for w in initial]
    reference = keras64.optimizers.SGD(**settings)
    for xb, yb in batches():
        params = [v.value for v in variables]
        grads = torch.autograd.grad(batch_loss(params, xb, yb), params)
        reference.apply(list(grads), variables)
    # Keras on the torch backend computes clip norms in float32: float32-level agreement.
    for a, b in zip(got, variables, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-6, atol=1e-8)

    _, unclipped = train(optimizers.SGD(learning_rate=0.1, momentum=0.9))
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(got, unclipped, strict=True)) > 1e-3


@pytest.mark.parametrize("option", sorted(CLIPS))
def test_fit_clips_under_momentum_pytorch_flavor(float64, option: str) -> None:
    """flavor 'pytorch': the clipping of Keras' options, then torch.optim.SGD's momentum."""
    c = CLIPS[option]
    initial, got = train(optimizers.SGD(0.1, momentum=0.9, flavor="pytorch", **{option: c}))

    params = [torch.tensor(w, requires_grad=True) for w in initial]
    reference = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for xb, yb in batches():
        grads = torch.autograd.grad(batch_loss(params, xb, yb), params)
        for p, g in zip(params, clipped_in_test(list(grads), option, c), strict=True):
            p.grad = g
        reference.step()
    for a, b in zip(got, params, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_apply_and_apply_gradients_are_one_path() -> None:
    """The same numbers, bit for bit, through ``apply(grads, params)`` and
    ``apply_gradients(zip(grads, params))``; neither touches the gradients."""
    gen = np.random.default_rng(3)
    shapes = [(3, 2), (2,)]
    start = [gen.normal(size=s) for s in shapes]
    steps = [[gen.normal(size=s) for s in shapes] for _ in range(10)]
    for flavor in optimizers.FLAVORS:
        one, two = optimizers.Adam(0.1, flavor=flavor), optimizers.Adam(0.1, flavor=flavor)
        p1, p2 = [a.copy() for a in start], [a.copy() for a in start]
        for grads in steps:
            before = [g.copy() for g in grads]
            one.apply(grads, p1)
            two.apply_gradients(zip(grads, p2, strict=True))
            for g, b in zip(grads, before, strict=True):
                np.testing.assert_array_equal(g, b)
        for a, b in zip(p1, p2, strict=True):
            np.testing.assert_array_equal(a, b)


def test_apply_converts_gradients_to_the_parameters_dtype() -> None:
    params = [np.ones(3, dtype=np.float32)]
    optimizers.SGD(0.5).apply([[1.0, 2.0, 4.0]], params)
    assert params[0].dtype == np.float32
    np.testing.assert_array_equal(params[0], [0.5, 0.0, -1.0])


@pytest.mark.parametrize("grads, params, message", [
    ([np.ones(2)], [np.ones(2), np.ones(3)], "one gradient per parameter; got 1 gradients for 2"),
    ([np.ones(4)], [np.ones(3)], r"gradient of shape \(4,\) was paired with a parameter of "
                                 r"shape \(3,\)"),
    ([[1.0, 2.0]], [[0.0, 0.0]], "updates NumPy arrays in place; got <class 'list'>"),
])
def test_apply_names_what_is_wrong(grads, params, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        optimizers.SGD().apply(grads, params)
