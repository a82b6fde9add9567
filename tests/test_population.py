"""Population training: every member is the network its own ``Sequential.fit`` would train.

The oracle is a separate ``fit`` run per member, with the same seed and settings (float64,
rtol 1e-12): the members' initial weights, shuffling orders, dropout masks, learning rates and
optimizer constants all differ, so a population that mixed up two members, shared one random
stream, or broadcast one member's constant to all would fail here.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

import numpy as np
import pytest

import descentlab as dl
from descentlab import layers as layers_module
from descentlab import optimizers
from descentlab import population as population_module
from descentlab.errors import ConfigError, TrainingDiverged
from descentlab.layers import BatchNormalization, Dense, Dropout
from descentlab.models import Sequential, load_model
from descentlab.population import Population, seeded

N, FEATURES, CLASSES, BATCH, EPOCHS = 45, 4, 3, 16, 3  # 16 + 16 + 13 per epoch
RTOL = 1e-12


def make_data(regression: bool = False) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(3)
    x = gen.normal(size=(N, FEATURES))
    if regression:
        return x, np.tanh(x[:, :2]) + 0.1 * gen.normal(size=(N, 2))
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)


def network(optimizer: optimizers.Optimizer, *, loss: str = "sparse_categorical_crossentropy",
            output: tuple[int, str] = (CLASSES, "softmax"), activation: str = "tanh",
            initializer: str = "glorot_uniform", **dense: Any) -> Sequential:
    """Dense → BatchNormalization → Dropout → Dense: every layer kind the engine has."""
    model = Sequential([
        Dense(6, activation=activation, input_dim=FEATURES, kernel_initializer=initializer,
              **dense),
        BatchNormalization(), Dropout(0.25), Dense(output[0], activation=output[1])])
    metrics = ["accuracy"] if "crossentropy" in loss else ["mae"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def separate_run(make, seed: int, x, y, **fit: Any) -> Sequential:
    """The oracle: set_random_seed(seed), build, fit — one network alone."""
    dl.set_random_seed(seed)
    model = make()
    model.history_returned = model.fit(x, y, verbose=0, **fit)
    return model


def assert_same_member(member: Sequential, alone: Sequential, history) -> None:
    for got, want in zip(member.get_weights(), alone.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300)
    expected = alone.history_returned.history
    assert list(history.history) == list(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, rtol=RTOL)
    assert history.epoch == alone.history_returned.epoch
    got_state, want_state = member.optimizer.get_state(), alone.optimizer.get_state()
    assert got_state["iterations"] == want_state["iterations"]
    for name, arrays in want_state["slots"].items():
        for got, want in zip(got_state["slots"][name], arrays, strict=True):
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300)
    # The training streams end in the same state: a later fit shuffles alike.
    assert member.get_training_state() == alone.get_training_state()


#: Every optimizer, with members that differ in the learning rate and in the constants below.
MEMBER_SETTINGS = {
    "sgd": (optimizers.SGD, [{"learning_rate": 0.1}, {"learning_rate": 0.03}]),
    "momentum": (optimizers.SGD, [{"learning_rate": 0.05, "momentum": 0.9},
                                  {"learning_rate": 0.1, "momentum": 0.5},
                                  {"learning_rate": 0.1, "momentum": 0.0}]),
    "nesterov": (optimizers.SGD, [{"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
                                  {"learning_rate": 0.02, "momentum": 0.8, "nesterov": True}]),
    "adagrad": (optimizers.Adagrad, [{"learning_rate": 0.1},
                                     {"learning_rate": 0.05, "epsilon": 1e-3,
                                      "initial_accumulator_value": 0.5}]),
    "rmsprop": (optimizers.RMSprop, [{"learning_rate": 0.01, "rho": 0.8},
                                     {"learning_rate": 0.003, "momentum": 0.5}]),
    "rmsprop-centered": (optimizers.RMSprop, [
        {"learning_rate": 0.01, "centered": True, "momentum": 0.3},
        {"learning_rate": 0.02, "centered": True, "epsilon": 1e-4}]),
    "adam": (optimizers.Adam, [{"learning_rate": 0.01, "beta_1": 0.8},
                               {"learning_rate": 0.02, "beta_2": 0.99, "weight_decay": 0.01}]),
    "amsgrad": (optimizers.Adam, [{"learning_rate": 0.01, "amsgrad": True},
                                  {"learning_rate": 0.03, "amsgrad": True, "epsilon": 1e-3}]),
    "adamw": (optimizers.AdamW, [{"learning_rate": 0.01},
                                 {"learning_rate": 0.02, "weight_decay": 0.1}]),
    "nadam": (optimizers.Nadam, [{"learning_rate": 0.01, "beta_1": 0.8},
                                 {"learning_rate": 0.02, "momentum_decay": 0.01}]),
}


@pytest.mark.parametrize("flavor", optimizers.FLAVORS)
@pytest.mark.parametrize("name", sorted(MEMBER_SETTINGS))
def test_each_member_equals_its_own_fit(float64, name: str, flavor: str) -> None:
    cls, settings = MEMBER_SETTINGS[name]
    x, y = make_data()
    seeds = [11, 12, 13][:len(settings)]
    makers = [lambda s=s: network(cls(**s, flavor=flavor)) for s in settings]
    population = Population([seeded(make, seed) for make, seed in zip(makers, seeds,
                                                                     strict=True)])
    histories = population.fit(x, y, batch_size=BATCH, epochs=EPOCHS, validation_split=0.2)
    assert population.diverged == {}
    for k, (make, seed) in enumerate(zip(makers, seeds, strict=True)):
        alone = separate_run(make, seed, x, y, batch_size=BATCH, epochs=EPOCHS,
                             validation_split=0.2)
        assert_same_member(population.models[k], alone, histories[k])
        assert population.models[k].history is histories[k]


@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clipping_is_per_member(float64, option: str) -> None:
    """Thresholds small enough to act every step, one per member: a norm taken over all
    members, or one member's threshold applied to all, changes the trajectories."""
    x, y = make_data(regression=True)
    thresholds = {"clipnorm": (0.05, 0.2), "clipvalue": (0.01, 0.05),
                  "global_clipnorm": (0.05, 0.3)}[option]
    makers = [lambda c=c: network(optimizers.SGD(0.1, momentum=0.9, **{option: c}), loss="mse",
                                  output=(2, "linear")) for c in thresholds]
    population = Population([seeded(make, 5 + i) for i, make in enumerate(makers)])
    histories = population.fit(x, y, batch_size=BATCH, epochs=EPOCHS)
    for k, make in enumerate(makers):
        alone = separate_run(make, 5 + k, x, y, batch_size=BATCH, epochs=EPOCHS)
        assert_same_member(population.models[k], alone, histories[k])


@pytest.mark.parametrize("loss, output, activation, initializer", [
    ("mse", (2, "linear"), "relu", "he_normal"),
    ("mae", (2, "linear"), "selu", "lecun_normal"),
    ("binary_crossentropy", (1, "sigmoid"), "gelu", "he_uniform"),
    ("categorical_crossentropy", (CLASSES, "softmax"), "elu", "glorot_normal"),
    ("sparse_categorical_crossentropy", (CLASSES, "softmax"), "silu", "random_normal"),
    ("mse", (1, "sigmoid"), "leaky_relu", "lecun_uniform"),      # no fused gradient
])
def test_losses_activations_initializers(float64, loss, output, activation, initializer) -> None:
    x, y = make_data(regression=output[1] == "linear")
    if loss == "binary_crossentropy" or output == (1, "sigmoid"):
        y = (x[:, 0] > 0).astype(float)
    elif loss == "categorical_crossentropy":
        y = np.eye(CLASSES)[y]
    makers = [lambda lr=lr: network(optimizers.Adam(lr), loss=loss, output=output,
                                    activation=activation, initializer=initializer,
                                    kernel_regularizer="l2")
              for lr in (0.01, 0.05)]
    population = Population([seeded(make, 21 + i) for i, make in enumerate(makers)])
    histories = population.fit(x, y, batch_size=BATCH, epochs=2,
                               validation_data=(x[:10], y[:10]))
    for k, make in enumerate(makers):
        alone = separate_run(make, 21 + k, x, y, batch_size=BATCH, epochs=2,
                             validation_data=(x[:10], y[:10]))
        assert_same_member(population.models[k], alone, histories[k])


@pytest.fixture(params=["epoch", "batch"])
def gather(request, monkeypatch) -> str:
    """Both ways fit takes its batches: an epoch's samples gathered at once, or (a copy too
    large for that) batch by batch."""
    if request.param == "batch":
        monkeypatch.setattr(population_module, "_GATHER_BYTES", 0)
    return request.param


@pytest.mark.parametrize("data", ["shared", "own"])
def test_a_diverging_member_stops_and_the_others_finish(float64, gather: str, data: str,
                                                        ) -> None:
    """Member 1's learning rate is far too large: it stops where fit(on_divergence="stop")
    stops it, is reported, and members 0 and 2 train every epoch as they would alone (on
    their own data, member 2 then still on its own samples, not member 1's)."""
    x, y = make_data(regression=True)
    xs, ys = (x, y) if data == "shared" else own_data(3, regression=True)
    mine = (lambda k: (x, y)) if data == "shared" else (lambda k: (xs[k], ys[k]))
    rates = (0.01, 1e4, 0.02)
    makers = [lambda lr=lr: network(optimizers.SGD(lr), loss="mse", output=(2, "linear"))
              for lr in rates]
    population = Population([seeded(make, 30 + i) for i, make in enumerate(makers)])
    histories = population.fit(xs, ys, batch_size=BATCH, epochs=4)
    assert list(population.diverged) == [1]
    error = population.diverged[1]
    assert isinstance(error, TrainingDiverged)
    for k, make in enumerate(makers):
        alone = separate_run(make, 30 + k, *mine(k), batch_size=BATCH, epochs=4,
                             on_divergence="stop")
        assert_same_member(population.models[k], alone, histories[k])
    assert len(histories[0].epoch) == len(histories[2].epoch) == 4
    assert len(histories[1].epoch) < 4 and not np.isfinite(histories[1].history["loss"][-1])
    dl.set_random_seed(31)
    with pytest.raises(TrainingDiverged) as raised:
        makers[1]().fit(*mine(1), batch_size=BATCH, epochs=4, verbose=0)
    assert (error.epoch, error.batch) == (raised.value.epoch, raised.value.batch)


def test_same_seeds_give_bit_identical_populations() -> None:
    x, y = make_data()
    runs = []
    for _ in range(2):
        population = Population.from_seeds(lambda: network(optimizers.Adam(0.01)), [1, 2, 3])
        histories = population.fit(x, y, batch_size=BATCH, epochs=EPOCHS)
        runs.append(([m.get_weights() for m in population.models],
                     [h.history for h in histories]))
    (weights_a, logs_a), (weights_b, logs_b) = runs
    for a, b in zip(weights_a, weights_b, strict=True):
        for wa, wb in zip(a, b, strict=True):
            np.testing.assert_array_equal(wa, wb)
    assert logs_a == logs_b
    # and the members differ from each other: each has its own seed
    assert not np.array_equal(weights_a[0][0], weights_a[1][0])


def test_float32_members_agree_with_separate_runs() -> None:
    """float32, members differing in the learning rate and β₁ (constants computed in float64
    in the population): float32 agreement."""
    x, y = make_data()
    settings = [{"learning_rate": 0.01, "beta_1": 0.8}, {"learning_rate": 0.02}]
    makers = [lambda s=s: network(optimizers.Adam(**s)) for s in settings]
    population = Population([seeded(make, 40 + i) for i, make in enumerate(makers)])
    population.fit(x, y, batch_size=BATCH, epochs=EPOCHS)
    for k, make in enumerate(makers):
        alone = separate_run(make, 40 + k, x, y, batch_size=BATCH, epochs=EPOCHS)
        for got, want in zip(population.models[k].get_weights(), alone.get_weights(),
                             strict=True):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_members_are_ordinary_models(float64, tmp_path) -> None:
    """After fit, a member predicts, evaluates, saves and resumes on its own; the population's
    predict and evaluate are the members' own."""
    x, y = make_data()
    population = Population.from_seeds(lambda: network(optimizers.RMSprop(0.01)), [7, 8])
    population.fit(x, y, batch_size=BATCH, epochs=2)
    outputs = population.predict(x)
    results = population.evaluate(x, y)
    for k, member in enumerate(population.models):
        np.testing.assert_allclose(outputs[k], member.predict(x), rtol=RTOL)
        np.testing.assert_allclose(results[k], member.evaluate(x, y, verbose=0), rtol=RTOL)
        member.save(tmp_path / f"member{k}.dlab")
        loaded = load_model(tmp_path / f"member{k}.dlab")
        np.testing.assert_array_equal(loaded.predict(x), member.predict(x))
    # Training on: the population's next fit equals each member's own next fit.
    copies = [load_model(tmp_path / f"member{k}.dlab") for k in range(2)]
    histories = population.fit(x, y, batch_size=BATCH, epochs=1)
    for k, alone in enumerate(copies):
        alone.history_returned = alone.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        assert_same_member(population.models[k], alone, histories[k])


def test_on_epoch_end_sees_each_member_as_it_is_then(float64) -> None:
    """The hook the labs measure with: after each epoch, every member's model holds the
    weights its own fit would hold after that many epochs."""
    x, y = make_data()
    population = Population.from_seeds(lambda: network(optimizers.SGD(0.1, momentum=0.9)),
                                       [4, 5])
    seen: list[tuple[int, dict, list]] = []

    def measure(epoch: int, logs: dict) -> None:
        if epoch % 2:  # measured on the stack first: the models are still written back
            population.evaluate(x, y)
        seen.append((epoch, logs, [m.get_weights() for m in population.models]))

    population.fit(x, y, batch_size=BATCH, epochs=EPOCHS, on_epoch_end=measure)
    assert [epoch for epoch, _, _ in seen] == list(range(EPOCHS))
    for k, seed in enumerate((4, 5)):
        dl.set_random_seed(seed)
        alone = network(optimizers.SGD(0.1, momentum=0.9))
        for _, logs, weights in seen:
            history = alone.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
            np.testing.assert_allclose(logs[k]["loss"], history.history["loss"][0], rtol=RTOL)
            for got, want in zip(weights[k], alone.get_weights(), strict=True):
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300)


def test_members_may_differ_in_initializer(float64) -> None:
    x, y = make_data()
    makers = [lambda i=i: network(optimizers.Adam(0.01), initializer=i)
              for i in ("glorot_uniform", "he_normal")]
    population = Population([seeded(make, 9) for make in makers])
    histories = population.fit(x, y, batch_size=BATCH, epochs=2)
    for k, make in enumerate(makers):
        alone = separate_run(make, 9, x, y, batch_size=BATCH, epochs=2)
        assert_same_member(population.models[k], alone, histories[k])


@pytest.mark.parametrize("where", ["dense", "activation_layer"])
def test_members_may_differ_in_hidden_activations(float64, where: str) -> None:
    """Sigmoid, tanh, ReLU and softplus networks of one shape in one population (sigmoid at
    members 0 and 3: a group that is not one slice), in a Dense layer's activation or in an
    Activation layer after BatchNormalization: each member is its own fit."""
    x, y = make_data()
    names = ("sigmoid", "tanh", "relu", "sigmoid", "softplus")

    def make(name: str) -> Sequential:
        if where == "dense":
            return network(optimizers.SGD(0.1, momentum=0.9), activation=name)
        model = Sequential([Dense(6, input_dim=FEATURES), BatchNormalization(),
                            layers_module.Activation(name), Dropout(0.25),
                            Dense(CLASSES, activation="softmax")])
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    makers = [lambda n=n: make(n) for n in names]
    population = Population([seeded(m, 20 + k) for k, m in enumerate(makers)])
    histories = population.fit(x, y, batch_size=BATCH, epochs=EPOCHS)
    for k, m in enumerate(makers):
        alone = separate_run(m, 20 + k, x, y, batch_size=BATCH, epochs=EPOCHS)
        assert_same_member(population.models[k], alone, histories[k])
        assert [getattr(layer, "activation", None) and layer.activation.name
                for layer in population.models[k].layers] == \
            [getattr(layer, "activation", None) and layer.activation.name for layer in alone.layers]
    losses, gradients = population.compute_gradients(x, y)
    for k, member in enumerate(population.models):
        loss, want = member.compute_gradients(x, y)
        np.testing.assert_allclose(losses[k], loss, rtol=RTOL)
        for got, expected in zip(gradients, want, strict=True):
            np.testing.assert_allclose(got[k], expected, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("names", [
    ("sigmoid", "sigmoid", "tanh", "relu", "relu", "softplus"),  # each group one slice
    ("elu", "relu", "elu", "softplus", "leaky_relu", "leaky_relu"),  # scattered; some return
    ("softmax", "softmax", "tanh"),  # a fresh array only (elu, leaky_relu); softmax's
])  # backward is a Jacobian-vector product, not f' ⊙ grad
def test_member_activations_are_each_members_own_bit_for_bit(dtype, names) -> None:
    from descentlab import activations

    functions = [activations.get(name) for name in names]
    per_member = layers_module.MemberActivations(functions)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((len(names), 7, 4)) * 20).astype(dtype)
    grad = rng.standard_normal(x.shape).astype(dtype)
    y = per_member.f(x)
    results = (y, per_member.df(x), per_member.backward(x, y, grad))
    for k, function in enumerate(functions):
        alone = function.f(x[k])
        wanted = (alone, function.df(x[k]), function.backward(x[k], alone, grad[k]))
        for got, want in zip(results, wanted, strict=True):
            assert got.dtype == dtype and got[k].tobytes() == want.tobytes()


def test_members_must_share_what_changes_the_equations() -> None:
    def make(**kwargs):
        return lambda: network(optimizers.SGD(0.1, **kwargs))

    with pytest.raises(ConfigError, match="nesterov"):
        Population([seeded(make(momentum=0.9, nesterov=True), 0),
                    seeded(make(momentum=0.9), 1)])
    with pytest.raises(ConfigError, match="optimizer class"):
        Population([seeded(make(), 0), seeded(lambda: network(optimizers.Adam()), 1)])
    with pytest.raises(ConfigError, match="clipnorm"):
        Population([seeded(make(clipnorm=1.0), 0), seeded(make(), 1)])
    with pytest.raises(ConfigError, match="differs from member 0"):
        Population([seeded(make(), 0),
                    seeded(lambda: network(optimizers.SGD(0.1), use_bias=False), 1)])
    # Hidden activations may differ; the output's may not (the loss's gradient is fused with
    # the output's activation).
    with pytest.raises(ConfigError, match="differs from member 0"):
        Population([seeded(make(), 0), seeded(lambda: network(
            optimizers.SGD(0.1), output=(CLASSES, "sigmoid")), 1)])
    unbuilt = Sequential([Dense(2)])
    unbuilt.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ConfigError, match="not built"):
        Population([unbuilt])
    model = seeded(make(), 0)
    with pytest.raises(ConfigError, match="twice"):
        Population([model, model])


def test_population_layers_treat_each_member_apart(float64) -> None:
    """A stacked BatchNormalization normalises each member by its own batch statistics (forward
    and backward), and a stacked Dropout draws each member's mask from its own generator."""
    x, _ = make_data()
    batch = np.stack([x[:8], 100 * x[8:16] + 5])  # two very different members
    stacked = layers_module.stack([_built_norm(), _built_norm()])
    out = stacked.forward(batch, training=True)
    grad = np.random.default_rng(0).normal(size=batch.shape)
    back = stacked.backward(grad)
    for k in range(2):
        alone = _built_norm()
        np.testing.assert_allclose(out[k], alone.forward(batch[k], training=True), rtol=RTOL)
        np.testing.assert_allclose(back[k], alone.backward(grad[k]), rtol=RTOL)
        for got, want in zip(stacked.grads, alone.grads, strict=True):
            np.testing.assert_allclose(got[k], want, rtol=RTOL)
        np.testing.assert_allclose(stacked.moving_mean[k], alone.moving_mean, rtol=RTOL)
    dropout = layers_module.stack([Dropout(0.5), Dropout(0.5)])
    dropout.member_rngs = [np.random.default_rng(1), np.random.default_rng(2)]
    masked = dropout.forward(batch, training=True)
    for k, seed in enumerate((1, 2)):
        alone = Dropout(0.5)
        alone.model_rng = np.random.default_rng(seed)
        np.testing.assert_array_equal(masked[k], alone.forward(batch[k], training=True))


def _built_norm() -> BatchNormalization:
    layer = BatchNormalization()
    layer.build(FEATURES)
    return layer


# --------------------------------------------------------------------------------------------
# Each member its own data; step by step (train_on_batch); gradients without an update.
# --------------------------------------------------------------------------------------------
def own_data(members: int, regression: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Member k's samples: the data set shuffled by its own permutation and shifted by k."""
    x, y = make_data(regression=regression)
    orders = [np.random.default_rng(50 + k).permutation(N) for k in range(members)]
    return (np.stack([x[order] + 0.1 * k for k, order in enumerate(orders)]),
            np.stack([y[order] for order in orders]))


@pytest.mark.parametrize("validation", ["none", "split", "own"])
def test_each_member_may_train_on_its_own_data(float64, validation: str, gather: str) -> None:
    """x (members, n, features): member k is the network its fit on x[k] trains, validation
    split from its own part or given per member."""
    xs, ys = own_data(3)
    make = lambda: network(optimizers.Adam(0.02))  # noqa: E731
    population = Population.from_seeds(make, [60, 61, 62])
    extra: dict[str, Any] = {"none": {}, "split": {"validation_split": 0.2},
                             "own": {"validation_data": (xs[:, :9], ys[:, :9])}}[validation]
    histories = population.fit(xs, ys, batch_size=BATCH, epochs=EPOCHS, **extra)
    for k in range(3):
        member_extra = dict(extra)
        if validation == "own":
            member_extra["validation_data"] = (xs[k, :9], ys[k, :9])
        alone = separate_run(make, 60 + k, xs[k], ys[k], batch_size=BATCH, epochs=EPOCHS,
                             **member_extra)
        assert_same_member(population.models[k], alone, histories[k])
        if validation != "none":
            assert "val_loss" in histories[k].history
    results = population.evaluate(xs, ys)
    outputs = population.predict(xs)
    for k, member in enumerate(population.models):
        np.testing.assert_allclose(results[k], member.evaluate(xs[k], ys[k], verbose=0),
                                   rtol=RTOL)
        np.testing.assert_allclose(outputs[k], member.predict(xs[k]), rtol=RTOL)


@pytest.mark.parametrize("name", ["momentum", "adam", "nadam", "rmsprop-centered"])
def test_train_on_batch_steps_every_member_as_its_own(float64, name: str) -> None:
    """A loop of train_on_batch calls, each member its own batches (and some batches shared):
    each member's losses, weights and optimizer state are those of its own model stepped by
    Sequential.train_on_batch on the same batches."""
    cls, settings = MEMBER_SETTINGS[name]
    makers = [lambda s=s: network(cls(**s)) for s in settings]
    members = len(makers)
    population = Population([seeded(make, 70 + k) for k, make in enumerate(makers)])
    alone = [seeded(make, 70 + k) for k, make in enumerate(makers)]
    xs, ys = own_data(members)
    gen = np.random.default_rng(0)
    for step in range(7):
        if step % 3 == 2:  # one batch shared by every member
            rows = gen.choice(N, BATCH, replace=False)
            got = population.train_on_batch(xs[0, rows], ys[0, rows])
            want = [m.train_on_batch(xs[0, rows], ys[0, rows]) for m in alone]
        else:
            rows = np.stack([gen.choice(N, BATCH, replace=False) for _ in range(members)])
            index = (np.arange(members)[:, None], rows)
            got = population.train_on_batch(xs[index], ys[index])
            want = [m.train_on_batch(xs[k, rows[k]], ys[k, rows[k]])
                    for k, m in enumerate(alone)]
        np.testing.assert_allclose(got, want, rtol=RTOL)  # [loss, accuracy] per member
    for member, model in zip(population.models, alone, strict=True):
        model.history_returned = model.history  # assert_same_member compares histories
        for a, b in zip(member.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-300)
        assert member.optimizer.get_state()["iterations"] == 7
        for slot, arrays in model.optimizer.get_state()["slots"].items():
            for a, b in zip(member.optimizer.get_state()["slots"][slot], arrays, strict=True):
                np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-300)
    assert population.diverged == {}


def test_a_member_changed_between_steps_is_stacked_afresh(float64) -> None:
    """population.models hands out the members with their current weights; a change made to
    one of them is what the next train_on_batch trains on."""
    x, y = make_data()
    population = Population.from_seeds(lambda: network(optimizers.SGD(0.1)), [1, 2])
    population.train_on_batch(x[:BATCH], y[:BATCH])
    member = population.models[1]
    weights = [w * 0.5 for w in member.get_weights()]
    member.set_weights(weights)
    reference = Population.from_seeds(lambda: network(optimizers.SGD(0.1)), [2])
    reference.models[0].set_weights(weights)
    reference.models[0].optimizer.set_state(member.optimizer.get_state())
    reference.models[0].set_training_state(member.get_training_state())
    np.testing.assert_allclose(population.train_on_batch(x, y)[1],
                               reference.train_on_batch(x, y)[0], rtol=RTOL)
    for a, b in zip(population.models[1].get_weights(), reference.models[0].get_weights(),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)


def test_a_member_diverging_in_train_on_batch_is_reported(float64) -> None:
    x, y = make_data(regression=True)
    makers = [lambda lr=lr: network(optimizers.SGD(lr), loss="mse", output=(2, "linear"))
              for lr in (0.01, 1e6)]
    population = Population([seeded(make, 80 + k) for k, make in enumerate(makers)])
    alone = seeded(makers[0], 80)
    for start in range(0, 40, 8):
        losses = population.train_on_batch(x[start:start + 8], y[start:start + 8])
        np.testing.assert_allclose(losses[0], alone.train_on_batch(x[start:start + 8],
                                                                    y[start:start + 8]),
                                   rtol=RTOL)  # [loss, mae] of member 0, as if alone
    assert list(population.diverged) == [1]
    error = population.diverged[1]
    assert isinstance(error, TrainingDiverged) and error.learning_rate == 1e6
    assert "member 1" in str(error)


@pytest.mark.parametrize("training", [False, True])
def test_compute_gradients_are_each_members_own(float64, tmp_path, training: bool) -> None:
    xs, ys = own_data(2)
    make = lambda: network(optimizers.Adam(0.01), kernel_regularizer="l2")  # noqa: E731
    population = Population.from_seeds(make, [90, 91])
    population.fit(xs, ys, batch_size=BATCH, epochs=1)
    for x, y in ((xs, ys), (xs[0], ys[0])):  # own data, then data shared by both members
        copies = []  # independent copies: weights, optimizer state, training stream
        for k, member in enumerate(population.models):
            member.save(tmp_path / f"{k}.dlab")
            copies.append(load_model(tmp_path / f"{k}.dlab"))
        losses, grads = population.compute_gradients(x, y, training=training)
        for k, model in enumerate(copies):
            member_x, member_y = (x[k], y[k]) if x.ndim == 3 else (x, y)
            loss, want = model.compute_gradients(member_x, member_y, training=training)
            np.testing.assert_allclose(losses[k], loss, rtol=RTOL)
            assert len(grads) == len(want)
            for got, expected in zip(grads, want, strict=True):
                np.testing.assert_allclose(got[k], expected, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("x_shape, y_shape, match", [
    ((3, N, FEATURES), (3, N), "members = 2"),
    ((2, N, FEATURES), (2, N - 1), r"y must hold each member's targets"),
    ((2, N, FEATURES + 1), (2, N), "features per sample"),
    ((2, N, FEATURES), (N,), r"y must hold each member's targets"),
])
def test_own_data_of_the_wrong_shape_is_refused(x_shape, y_shape, match: str) -> None:
    from descentlab.errors import DataError

    population = Population.from_seeds(lambda: network(optimizers.SGD(0.1)), [1, 2])
    x = np.zeros(x_shape)
    y = np.zeros(y_shape, dtype=int)
    calls = [lambda: population.fit(x, y, epochs=1), lambda: population.evaluate(x, y),
             lambda: population.train_on_batch(x, y),
             lambda: population.compute_gradients(x, y)]
    if "members" in match or "features" in match:  # what predict, without targets, can check
        calls.append(lambda: population.predict(x))
    for call in calls:
        with pytest.raises(DataError, match=match):
            call()


def test_on_epoch_end_must_be_a_function_and_is_checked_before_training() -> None:
    from descentlab.errors import ConfigError

    population = Population.from_seeds(lambda: network(optimizers.SGD(0.1)), [1, 2])
    before = [m.get_weights() for m in population.models]
    with pytest.raises(ConfigError, match=r"on_epoch_end must be a function of \(epoch, logs\) "
                                          r"or None; got 3\."):
        population.fit(np.zeros((N, FEATURES)), np.zeros(N, dtype=int), on_epoch_end=3)
    for model, weights in zip(population.models, before, strict=True):  # no step was taken
        for got, expected in zip(model.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(got, expected)


def test_from_seeds_needs_a_function_that_makes_a_model() -> None:
    from descentlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"needs a function that builds and compiles one model "
                                          r"\(make_model\), called once per seed; got 3\."):
        Population.from_seeds(3, [0, 1])  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["mse", "mae", "binary_crossentropy",
                                  "categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_member_losses_are_each_members_own_bit_for_bit(name: str, dtype) -> None:
    """Loss.members gives, for a population's (K, n, d) outputs, exactly the float each
    member's own batch loss is (so a member's history equals its own fit's in float32 too)."""
    from descentlab import losses

    gen = np.random.default_rng(7)
    members, n, d = 3, 37, 10 if "categorical" in name else 4
    p = gen.random((members, n, d)).astype(dtype) + dtype(0.01)
    if "categorical" in name or name == "binary_crossentropy":
        p /= p.sum(axis=-1, keepdims=True)
    if name == "sparse_categorical_crossentropy":
        y = gen.integers(0, d, size=(members, n))
    elif name == "categorical_crossentropy":
        y = np.eye(d, dtype=dtype)[gen.integers(0, d, size=(members, n))]
    else:
        y = gen.random((members, n, d)).astype(dtype).round()
    loss = losses.get(name)
    got = loss.members(y, p)
    assert got.dtype == np.float64
    assert list(got) == [loss(y[k], p[k]) for k in range(members)]


def dense_network(optimizer: optimizers.Optimizer, *, loss: str, output: tuple[int, str],
                  activation: str, use_bias: bool = True) -> Sequential:
    """Dense → Dropout → Dense → Dense: what evaluate runs samples last (no BatchNormalization)."""
    model = Sequential([Dense(6, activation=activation, input_dim=FEATURES, use_bias=use_bias),
                        Dropout(0.25),
                        Dense(5, activation="relu"), Dense(output[0], activation=output[1])])
    model.compile(optimizer=optimizer, loss=loss,
                  metrics=["accuracy"] if "crossentropy" in loss else ["mae"])
    return model


@pytest.mark.parametrize("shared", [True, False], ids=["shared-data", "own-data"])
@pytest.mark.parametrize("loss, output, activation, use_bias", [
    ("sparse_categorical_crossentropy", (CLASSES, "softmax"), "tanh", True),
    ("sparse_categorical_crossentropy", (CLASSES, "softmax"), "relu", False),
    ("categorical_crossentropy", (CLASSES, "softmax"), "gelu", True),
    ("mse", (2, None), "leaky_relu", True)])
def test_dense_networks_measured_samples_last_are_each_members_own(
        float64, loss: str, output: tuple[int, str], activation: str, use_bias: bool,
        shared: bool) -> None:
    """The optimizer lab's measuring path runs Dense networks samples last, (members, units,
    samples), with all first kernels and biases as one matrix for shared inputs (or a first
    layer without bias): each member's loss and metric are its own evaluate's and its outputs
    its own predict's, over several batches, shared data or its own."""
    from descentlab import population as population_module

    make = lambda: dense_network(optimizers.Adam(0.02), loss=loss, output=output,  # noqa: E731
                                 activation=activation, use_bias=use_bias)
    population = Population.from_seeds(make, [70, 71, 72])
    x, y = make_data(regression=loss == "mse")
    if loss == "categorical_crossentropy":
        y = np.eye(CLASSES)[y]
    xs, ys = (x, y) if shared else (own_data(3)[0], np.stack([y, y[::-1], np.roll(y, 1, 0)]))
    population.fit(xs, ys, batch_size=BATCH, epochs=1)
    engine = population._lockstep()
    assert population_module._runs_samples_last(engine.model.layers)
    metric = population.models[0]._resolved_metrics(np.shape(ys)[0 if shared else 1:])
    inputs = population_module._samples_last_inputs(xs)
    losses, totals = engine.measure(xs, ys, 20, metric, inputs)  # 20 + 20 + 5 samples
    outputs = population_module._forward_samples_last(engine.model.layers, inputs)
    for k, member in enumerate(population.models):
        xk, yk = (xs, ys) if shared else (xs[k], ys[k])
        want = member.evaluate(xk, yk, batch_size=20, verbose=0)
        np.testing.assert_allclose([losses[k], totals[0, k] / N], want, rtol=RTOL)
        np.testing.assert_allclose(outputs[k].T, member.predict(xk, verbose=0), rtol=RTOL)


def test_evaluate_and_predict_are_each_members_own_bit_for_bit() -> None:
    """The public evaluate and predict run the layers as each member's model does (float32:
    the same bits), whatever the lab's measuring path does."""
    make = lambda: dense_network(optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",  # noqa: E731
                                 output=(10, "softmax"), activation="relu")
    population = Population.from_seeds(make, [90, 91, 92])
    gen = np.random.default_rng(9)
    x = gen.normal(size=(1000, FEATURES)).astype(np.float32)
    y = gen.integers(0, 10, size=1000)  # ten classes: sums of ten in some order
    population.fit(x, y, batch_size=BATCH, epochs=2)
    results = population.evaluate(x, y)
    outputs = population.predict(x)
    for k, member in enumerate(population.models):
        assert outputs.dtype == np.float32
        assert results[k] == member.evaluate(x, y, verbose=0)
        np.testing.assert_array_equal(outputs[k], member.predict(x, verbose=0))


def _spread_line(rows: list[dict[str, float]], names: list[str]) -> str:
    """The members' min, median and max of each name, computed here with the statistics module
    from what the population returned (not with the population's own formatting helper)."""
    return " - ".join(
        f"{name}: min {min(r[name] for r in rows):.4f}, "
        f"median {statistics.median(r[name] for r in rows):.4f}, "
        f"max {max(r[name] for r in rows):.4f}" for name in names)


def test_verbose_lines_of_fit_evaluate_and_predict(capsys) -> None:
    """verbose=2: fit prints each epoch's spread of the members' losses, evaluate one line of
    every log's spread, predict Keras' last line of a predict; verbose=0 (their default) prints
    nothing, and a bad verbose is refused before anything runs."""
    x, y = make_data()
    population = Population.from_seeds(lambda: network(optimizers.SGD(0.1)), [1, 2, 3, 4])
    histories = population.fit(x, y, batch_size=BATCH, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Epoch {e + 1}/2 - 4 members - " + _spread_line(
        [{"loss": h.history["loss"][e]} for h in histories], ["loss"]) for e in range(2)]
    results = population.evaluate(x, y, verbose=2, return_dict=True)
    assert capsys.readouterr().out == \
        "4 members - " + _spread_line(results, ["loss", "accuracy"]) + "\n"
    population.predict(x, batch_size=(N + 1) // 2, verbose=2)  # two batches
    assert re.fullmatch(r"2/2 - \d+m?s - \d+(ms|us|µs|s)/step\n", capsys.readouterr().out)
    population.evaluate(x, y)
    population.predict(x)
    assert capsys.readouterr().out == ""
    for call in (lambda: population.evaluate(x, y, verbose="loud"),
                 lambda: population.predict(x, verbose=3)):
        with pytest.raises(ConfigError, match=r"^verbose must be one of 0, 1, 2; got "):
            call()


def test_what_evaluate_runs_samples_last() -> None:
    """Dense layers with the engine's elementwise activations or a softmax over the units, and
    Dropout; anything else (BatchNormalization, a softmax over the samples) runs as the layers
    do."""
    from descentlab import activations
    from descentlab.population import _runs_samples_last

    class Doubled(activations.ReLU):  # a subclass may be anything: not elementwise for sure
        pass

    elementwise = ("relu", "tanh", "sigmoid", None, "selu", "softmax")
    assert _runs_samples_last([Dense(3, activation=a) for a in elementwise] + [Dropout(0.5)])
    assert not _runs_samples_last([Dense(3), BatchNormalization()])
    assert not _runs_samples_last([Dense(3, activation=activations.Softmax(axis=0))])
    assert not _runs_samples_last([Dense(3, activation=Doubled())])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["mse", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_member_losses_read_samples_last_are_the_same_numbers(name: str, dtype) -> None:
    """Loss.members_samples_last on outputs (K, units, n) gives Loss.members' numbers on the
    same outputs (K, n, units) — to rounding, the sums over a sample's classes being taken in
    another order (often they come out equal) — for labels each member's own or shared. Within
    one float32 rounding: the sum over the samples is NumPy's pairwise one, as members' (a
    strided q, summed one element after another, is off by up to ~1e-6 here)."""
    from descentlab import losses

    gen = np.random.default_rng(8)
    members, n, d = 3, 1347, 10
    p = gen.random((members, n, d)).astype(dtype) + dtype(0.01)
    p /= p.sum(axis=-1, keepdims=True)
    if name == "sparse_categorical_crossentropy":
        labels = gen.integers(0, d, size=n)
        cases = [gen.integers(0, d, size=(members, n)), labels,
                 np.broadcast_to(labels, (members, n))]
    elif name == "categorical_crossentropy":
        cases = [np.eye(d, dtype=dtype)[gen.integers(0, d, size=(members, n))]]
    else:
        cases = [gen.random((members, n, d)).astype(dtype)]
    loss = losses.get(name)
    rtol = 1e-7 if dtype == np.float32 else 1e-15
    for y in cases:
        want = loss.members(np.broadcast_to(y, (members, *y.shape[-1:])) if y.ndim == 1 else y,
                            p)
        got = loss.members_samples_last(y, np.ascontiguousarray(p.swapaxes(-1, -2)))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=rtol)


def test_losses_on_checked_arrays_are_evaluate_s(float64) -> None:
    """The lab's unchecked path: _losses_on_arrays gives evaluate's losses (one batch) on the
    arrays _data checked, keeping x samples last and the layers' outputs' arrays between calls
    — and for another x, or fewer samples, that x's."""
    make = lambda: dense_network(optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",  # noqa: E731
                                 output=(CLASSES, "softmax"), activation="relu")
    population = Population.from_seeds(make, [80, 81])
    x, y = make_data()
    x2 = x[::-1] * 2.0
    for xs, ys in ((x, y), (x, y), (x2, y), (x[:30], y[:30]), (x, y)):
        checked_x, checked_y = population._data(xs, ys)
        got = population._losses_on_arrays(checked_x, checked_y)
        want = [loss for loss, _ in population.evaluate(xs, ys, batch_size=N)]  # [loss, acc]
        np.testing.assert_allclose(got, want, rtol=RTOL)
        population._train_on_arrays(checked_x[:BATCH], checked_y[:BATCH])
