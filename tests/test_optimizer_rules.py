"""The optimizer's stages inside ``fit``, and the public ``apply`` it goes through.

``fit`` hands ``optimizer.apply`` the model's named weights (each layer's kernel and bias) and
their gradients. These tests train a small network with clipping under momentum and replay the
same steps with Keras' optimizer (flavor 'keras') and with ``torch.optim`` after clipping the
gradients in the test (flavor 'pytorch'): dropping the clipping stage, or clipping all weights
as if they were one gradient, changes the trajectory. The one speed-up (packed weights updated
as one buffer) is held equal, bit for bit, to the rule applied parameter by parameter.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab import optimizers
from descentlab.errors import ConfigError
from descentlab.layers import BatchNormalization, Dense, Dropout
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


# --------------------------------------------------------------------------------------------
# fit goes through the public apply, with the named weights; the packed speed-up changes nothing
# --------------------------------------------------------------------------------------------
class RecordingSGD(optimizers.SGD):
    """An SGD that remembers what it was handed (fit must use the public ``apply``)."""

    def apply(self, grads, params):
        self.handed = (list(grads), list(params))
        super().apply(grads, params)


def test_fit_updates_each_layers_named_weights_through_apply() -> None:
    x, y = make_problem()
    model = Sequential([Dense(6, activation="tanh", input_dim=FEATURES), BatchNormalization(),
                        Dense(2)])
    optimizer = RecordingSGD(0.1, momentum=0.9)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    grads, params = optimizer.handed
    dense, norm, out = model.layers
    expected = [dense.kernel, dense.bias, norm.gamma, norm.beta, out.kernel, out.bias]
    assert len(params) == len(expected)
    assert all(p is e for p, e in zip(params, expected, strict=True))
    assert [g.shape for g in grads] == [e.shape for e in expected]
    assert optimizer.iterations == 3  # 40 samples in batches of 16


#: Every optimizer with the options that change its rule.
SETTINGS = [
    (optimizers.SGD, {"learning_rate": 0.1}),
    (optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    (optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    (optimizers.Adagrad, {"learning_rate": 0.1}),
    (optimizers.RMSprop, {"momentum": 0.5, "centered": True}),
    (optimizers.RMSprop, {}),
    (optimizers.Adam, {"amsgrad": True, "weight_decay": 0.01}),
    (optimizers.Adam, {}),
    (optimizers.AdamW, {}),
    (optimizers.Nadam, {}),
]


def count_rule_calls(optimizer: optimizers.Optimizer) -> list[int]:
    """Wrap the optimizer's update rule so that its calls are counted."""
    calls = [0]
    name = "_keras_rule" if optimizer.flavor == "keras" else "_pytorch_rule"
    rule = getattr(optimizer, name)

    def counted(*args):
        calls[0] += 1
        rule(*args)
    setattr(optimizer, name, counted)
    return calls


@pytest.mark.parametrize("flavor", optimizers.FLAVORS)
@pytest.mark.parametrize("cls, settings", SETTINGS)
def test_packed_update_equals_the_rule_parameter_by_parameter(cls, settings, flavor) -> None:
    """Parameters packed in one buffer (the speed-up: one rule call per step) end bit for bit
    where the rule applied to each parameter apart (one call per parameter) leaves them."""
    gen = np.random.default_rng(5)
    shapes = [(5, 3), (3,), (3, 2), (2,)]
    start = [gen.normal(size=s).astype(np.float32) for s in shapes]
    steps = [[gen.normal(size=s).astype(np.float32) for s in shapes] for _ in range(6)]
    apart = [w.copy() for w in start]
    _, packed = optimizers.pack(start)
    _, packed_grads = optimizers.pack([np.zeros_like(w) for w in start])
    assert optimizers.packed_buffer(packed) is not None
    assert optimizers.packed_buffer(apart) is None
    one, two = cls(**settings, flavor=flavor), cls(**settings, flavor=flavor)
    calls_apart, calls_packed = count_rule_calls(one), count_rule_calls(two)
    for grads in steps:
        one.apply(grads, apart)
        for buffer, g in zip(packed_grads, grads, strict=True):
            buffer[...] = g
        two.apply(packed_grads, packed)
    for a, b in zip(apart, packed, strict=True):
        np.testing.assert_array_equal(a, b)
    assert calls_apart[0] == len(steps) * len(shapes)
    assert calls_packed[0] < len(steps) * len(shapes)  # the buffers, in one call per step
    state_one, state_two = one.get_state(), two.get_state()
    for name, arrays in state_one["slots"].items():
        for a, b in zip(arrays, state_two["slots"][name], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(0.01), lambda: optimizers.SGD(0.1, momentum=0.9, clipnorm=0.05),
    lambda: optimizers.Nadam(flavor="pytorch", global_clipnorm=0.1)])
def test_fit_packed_or_not_gives_the_same_weights(optimizer) -> None:
    """model.pack = False trains on the weights as the layers built them: the same numbers."""
    x, y = make_problem()
    results = []
    for pack in (True, False):
        dl.set_random_seed(8)
        model = Sequential([Dense(6, activation="relu", input_dim=FEATURES), Dropout(0.2),
                            BatchNormalization(), Dense(2)])
        model.pack = pack
        model.compile(optimizer=optimizer(), loss="mse")
        model.fit(x, y, batch_size=BATCH, epochs=4, verbose=0)
        assert (optimizers.packed_buffer(model.trainable_weights) is not None) == pack
        results.append(model.get_weights())
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
