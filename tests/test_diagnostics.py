"""Gradient-flow diagnostics: every statistic against an oracle, the monitor against an
unmonitored run, and diagnose against networks that are known to be sick (or healthy)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import descentlab as dl
from descentlab import datasets, diagnostics, optimizers
from descentlab.callbacks import Callback, GradientMonitor, History
from descentlab.diagnostics import (
    LAYER_FIELDS,
    Diagnosis,
    diagnose,
    gradient_flow,
    to_dataframe,
    to_table,
)
from descentlab.errors import ConfigError, DataError
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return datasets.load_digits()


def dense_stack(hidden: int, activation: str, init: str, width: int = 32,
                optimizer: object = "sgd") -> Sequential:
    """digits 64 → hidden × width → 10 softmax, sparse categorical crossentropy."""
    model = Sequential([Dense(width, activation=activation, input_dim=64,
                              kernel_initializer=init)])
    for _ in range(hidden - 1):
        model.add(Dense(width, activation=activation, kernel_initializer=init))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


# --------------------------------------------------------------------------------------------
# gradient_flow against PyTorch (the same network, the same weights)
# --------------------------------------------------------------------------------------------
def test_gradient_norms_at_init_match_pytorch(float64, digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    dl.set_random_seed(7)
    model = dense_stack(5, "sigmoid", "glorot_uniform")
    rows = gradient_flow(model, x, y)

    weights = model.get_weights()
    linears = []
    for kernel, bias in zip(weights[::2], weights[1::2], strict=True):
        linear = torch.nn.Linear(*kernel.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(kernel.T))  # torch keeps (out, in)
            linear.bias.copy_(torch.from_numpy(bias))
        linears.append(linear)
    h = torch.from_numpy(x)
    zs, activations = [], []
    for linear in linears[:-1]:
        z = linear(h)
        h = torch.sigmoid(z)
        zs.append(z)
        activations.append(h)
    logits = linears[-1](h)
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))  # mean, as Keras
    loss.backward()

    assert len(rows) == 6 and [r["layer"] for r in rows] == [1, 2, 3, 4, 5, 6]
    kernel_norms = [float(lin.weight.grad.norm()) for lin in linears]
    bias_norms = [float(lin.bias.grad.norm()) for lin in linears]
    np.testing.assert_allclose([r["kernel_grad_norm"] for r in rows], kernel_norms, rtol=1e-6)
    np.testing.assert_allclose([r["bias_grad_norm"] for r in rows], bias_norms, rtol=1e-6)
    np.testing.assert_allclose([r["grad_norm_ratio"] for r in rows],
                               np.array(kernel_norms) / kernel_norms[-1], rtol=1e-6)
    # The per-unit statistics of the hidden layers, from torch's z and a.
    for row, z, a in zip(rows, zs, activations, strict=False):
        z, a = z.detach(), a.detach()
        s = torch.sigmoid(z)
        derivative = (s * (1 - s)).numpy()
        assert row["activation"] == "sigmoid" and row["units"] == 32
        np.testing.assert_allclose(row["mean_abs_derivative"], derivative.mean(), rtol=1e-9)
        np.testing.assert_allclose(row["saturated_fraction"], (derivative < 0.025).mean())
        np.testing.assert_allclose(row["activation_mean"], float(a.mean()), rtol=1e-9)
        np.testing.assert_allclose(row["activation_std"], float(a.std(unbiased=False)),
                                   rtol=1e-9)
    # Vanishing, measured: each sigmoid layer passes back at most ×0.25 of the σ' factor.
    ratios = [r["grad_norm_ratio"] for r in rows]
    assert ratios == sorted(ratios) and ratios[0] < 0.01


# --------------------------------------------------------------------------------------------
# Each statistic against a direct NumPy computation on a tiny hand-made network
# --------------------------------------------------------------------------------------------
X_TINY = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [-1.5, 0.5, 0.25], [0.0, 2.0, 1.0]])
Y_TINY = np.array([[0.1, -0.2], [0.3, 0.0], [-0.4, 0.2], [0.0, 0.5]])


def tiny_model() -> Sequential:
    """3 → 4 sigmoid → 3 relu → 2 linear, MSE, SGD(0.1), with hand-set weights:

    sigmoid unit 0 gets weights ±20 (saturated for every sample: |z| ≥ 10), the others small;
    relu unit 0 gets a bias of −50 (dead on every sample), unit 1 a bias of −0.3 (active on
    some samples only), unit 2 a bias of +1 (always active).
    """
    model = Sequential([Dense(4, activation="sigmoid", input_dim=3),
                        Dense(3, activation="relu"), Dense(2)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    w1 = np.array([[20.0, 0.1, -0.2, 0.3], [-20.0, 0.2, 0.1, -0.1], [20.0, -0.3, 0.2, 0.1]])
    b1 = np.array([0.0, 0.1, -0.1, 0.0])
    w2 = np.array([[0.5, 1.0, -0.4], [0.2, -0.8, 0.3], [-0.1, 0.6, 0.2], [0.3, -0.5, 0.1]])
    b2 = np.array([-50.0, -0.3, 1.0])
    w3 = np.array([[0.7, -0.2], [0.4, 0.9], [-0.6, 0.3]])
    b3 = np.array([0.05, -0.05])
    model.set_weights([w1, b1, w2, b2, w3, b3])
    return model


def tiny_reference(model: Sequential) -> dict[str, list]:
    """Forward, backward and every statistic of the tiny network, written out in NumPy."""
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    z1 = X_TINY @ w1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    d1 = a1 * (1 - a1)
    z2 = a1 @ w2 + b2
    a2 = np.maximum(z2, 0)
    d2 = (z2 > 0).astype(float)
    out = a2 @ w3 + b3
    n, k = Y_TINY.shape
    g3 = 2 * (out - Y_TINY) / (n * k)  # Keras' MSE: mean over outputs, then over the batch
    g2 = (g3 @ w3.T) * d2
    g1 = (g2 @ w2.T) * d1
    kernel_grads = [X_TINY.T @ g1, a1.T @ g2, a2.T @ g3]
    bias_grads = [g1.sum(0), g2.sum(0), g3.sum(0)]
    kernels = [w1, w2, w3]
    return {
        "kernel_grad_norm": [np.linalg.norm(g) for g in kernel_grads],
        "bias_grad_norm": [np.linalg.norm(g) for g in bias_grads],
        "mean_abs_derivative": [np.abs(d1).mean(), np.abs(d2).mean(), 1.0],
        "saturated_fraction": [(d1 < 0.1 * 0.25).mean(), None, None],
        "dead_fraction": [None, np.all(a2 == 0, axis=0).mean(), None],
        "activation_mean": [a1.mean(), a2.mean(), out.mean()],
        "activation_std": [a1.std(), a2.std(), out.std()],
        "weight_norm": [np.linalg.norm(w) for w in kernels],
        "update_ratio": [0.1 * np.linalg.norm(g) / np.linalg.norm(w)
                         for g, w in zip(kernel_grads, kernels, strict=True)],
    }


def test_each_statistic_matches_numpy_on_a_tiny_network(float64) -> None:
    model = tiny_model()
    rows = gradient_flow(model, X_TINY, Y_TINY)
    expected = tiny_reference(model)
    for key, values in expected.items():
        for row, value in zip(rows, values, strict=True):
            if value is None:
                assert row[key] is None, (key, row["layer"])
            else:
                np.testing.assert_allclose(row[key], value, rtol=1e-12, err_msg=key)
    # The hand-set weights give these exact values (so the formulas above are not vacuous).
    assert rows[0]["saturated_fraction"] == 0.25  # unit 0 of 4, on all 4 samples
    assert rows[1]["dead_fraction"] == pytest.approx(1 / 3)  # unit 0 of 3; unit 1 is only idle
    assert 0 < rows[1]["mean_abs_derivative"] < 2 / 3  # ... on some samples, so below 2/3
    assert [r["activation"] for r in rows] == ["sigmoid", "relu", "linear"]
    assert [r["learning_rate"] for r in rows] == [0.1] * 3
    assert rows[-1]["grad_norm_ratio"] == 1.0


def test_learning_rate_argument_scales_update_ratio(float64) -> None:
    model = tiny_model()
    default = gradient_flow(model, X_TINY, Y_TINY)
    given = gradient_flow(model, X_TINY, Y_TINY, learning_rate=0.001)
    for a, b in zip(default, given, strict=True):
        assert b["update_ratio"] == pytest.approx(a["update_ratio"] / 100, rel=1e-12)
        assert b["kernel_grad_norm"] == a["kernel_grad_norm"]


def test_records_are_plain_json(float64) -> None:
    rows = gradient_flow(tiny_model(), X_TINY, Y_TINY)
    assert [list(r) for r in rows] == [list(LAYER_FIELDS)] * 3
    for row in rows:
        for key, value in row.items():
            assert value is None or type(value) in (int, float, str), (key, type(value))
    assert json.loads(json.dumps(rows)) == rows


def test_activation_layer_after_a_linear_dense_is_the_layers_activation(float64) -> None:
    """Dense(4) → Activation('sigmoid') is measured as a sigmoid layer, at the activation's
    input: the same numbers as Dense(4, activation='sigmoid') with the same weights."""
    fused = tiny_model()
    split = Sequential([Dense(4, input_dim=3), Activation("sigmoid"),
                        Dense(3, activation="relu"), Dense(2)])
    split.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    split.set_weights(fused.get_weights())

    def numbers(rows: list[dict]) -> list[dict]:  # the layers' names differ (dense_3, dense)
        return [{k: v for k, v in row.items() if k != "name"} for row in rows]

    assert numbers(gradient_flow(split, X_TINY, Y_TINY)) == \
        numbers(gradient_flow(fused, X_TINY, Y_TINY))


def test_batchnorm_between_dense_and_activation(float64) -> None:
    """Dense → BatchNormalization → Activation('tanh'): f' is taken at the normalised input
    (inference mode: the moving statistics, initially mean 0 and variance 1)."""
    x = np.random.default_rng(0).normal(size=(30, 3))
    y = np.arange(30) % 2
    model = Sequential([Dense(8, input_dim=3), BatchNormalization(), Activation("tanh"),
                        Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    kernel, bias = model.get_weights()[:2]
    normalised = (x @ kernel + bias) / np.sqrt(1.0 + 1e-3)
    row = gradient_flow(model, x, y)[0]
    assert row["activation"] == "tanh"
    np.testing.assert_allclose(row["mean_abs_derivative"],
                               (1 - np.tanh(normalised) ** 2).mean(), rtol=1e-12)
    np.testing.assert_allclose(row["activation_std"], np.tanh(normalised).std(), rtol=1e-12)


def test_gradient_flow_changes_nothing(float64, digits) -> None:
    """No update to weights, optimizer state, BatchNormalization statistics or random stream."""
    x, y = digits
    model = Sequential([Dense(16, activation="relu", input_dim=64), BatchNormalization(),
                        Dropout(0.5), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:64], y[:64], epochs=1, batch_size=16, verbose=0)
    weights = model.get_weights()
    optimizer_state = model.optimizer.get_state()
    training_state = model.get_training_state()
    first = gradient_flow(model, x[:100], y[:100])
    second = gradient_flow(model, x[:100], y[:100])
    assert first == second  # inference mode: no dropout mask, so the same numbers twice
    for before, after in zip(weights, model.get_weights(), strict=True):
        assert np.array_equal(before, after)
    after = model.optimizer.get_state()
    assert after["iterations"] == optimizer_state["iterations"]
    assert set(after["slots"]) == {"momentum", "velocity"}
    for key, values in optimizer_state["slots"].items():
        for before, now in zip(values, after["slots"][key], strict=True):
            assert np.array_equal(before, now)
    assert model.get_training_state() == training_state


# --------------------------------------------------------------------------------------------
# GradientMonitor
# --------------------------------------------------------------------------------------------
def monitored_model() -> Sequential:
    """A model in which the monitor could disturb training: dropout draws from the model's
    random stream and BatchNormalization updates its moving statistics in training mode."""
    model = Sequential([Dense(32, activation="relu", input_dim=64), BatchNormalization(),
                        Dropout(0.3), Dense(16, activation="tanh"),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_monitor_records_every_epoch_and_changes_no_result(digits) -> None:
    x, y = digits[0][:300], digits[1][:300]
    epochs, batch = 3, 32
    dl.set_random_seed(11)
    plain = monitored_model()
    plain_history = plain.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)

    dl.set_random_seed(11)
    model = monitored_model()
    before = gradient_flow(model, x[:100], y[:100])
    monitor = GradientMonitor(x, y, max_samples=100)
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[monitor])

    for got, want in zip(model.get_weights(), plain.get_weights(), strict=True):
        assert np.array_equal(got, want)  # bit-identical, moving statistics included
    assert history.history == plain_history.history
    records = monitor.records
    assert history.gradients is records
    assert len(records) == epochs + 1
    steps = -(-len(x) // batch)
    assert [r["tag"] for r in records] == ["init"] + ["epoch"] * epochs
    assert [r["epoch"] for r in records] == list(range(epochs + 1))
    assert [r["step"] for r in records] == [steps * e for e in range(epochs + 1)]
    assert [r["batch"] for r in records] == [0] + [steps] * epochs
    assert {r["samples"] for r in records} == {100}
    assert records[0]["layers"] == before  # the init record is taken before any update
    assert records[-1]["layers"] != before
    np.testing.assert_array_equal(monitor.probe[0], x[:100].astype("float32"))

    table = to_table(history.gradients)
    assert len(table) == len(records) * 3  # 3 Dense layers
    assert table[4]["epoch"] == 1 and table[4]["layer"] == 2
    frame = to_dataframe(records)
    assert frame.shape[0] == len(table)
    assert list(frame["layer"]) == [1, 2, 3] * len(records)
    assert frame["kernel_grad_norm"].tolist() == [row["kernel_grad_norm"] for row in table]


def test_monitor_every_n_batches(digits) -> None:
    x, y = digits[0][:100], digits[1][:100]  # 4 batches of 32 per epoch, 12 steps in all
    model = dense_stack(2, "relu", "he_normal")
    monitor = GradientMonitor(x, y, every=5)
    assert isinstance(monitor, GradientMonitor)
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[monitor])
    records = history.gradients
    assert [r["tag"] for r in records] == ["init", "batch", "batch"]
    assert [r["step"] for r in records] == [0, 5, 10]
    assert [(r["epoch"], r["batch"]) for r in records] == [(0, 0), (2, 1), (3, 2)]


def test_per_epoch_monitor_adds_nothing_to_each_batch() -> None:
    """The training loop skips batch hooks that a callback does not define: per-epoch
    monitoring must not define one, so that it costs nothing between epochs."""
    x, y = np.zeros((4, 3)), np.zeros(4)
    hook = "on_train_batch_end"
    assert getattr(type(GradientMonitor(x, y)), hook) is getattr(Callback, hook)
    assert getattr(type(GradientMonitor(x, y, every=2)), hook) is not getattr(Callback, hook)


def test_monitor_takes_pandas_inputs(digits) -> None:
    x, y = digits[0][:50], digits[1][:50]
    monitor = GradientMonitor(pd.DataFrame(x), pd.Series(y), max_samples=20)
    np.testing.assert_array_equal(monitor.probe[0], x[:20])
    np.testing.assert_array_equal(monitor.probe[1], y[:20])


# --------------------------------------------------------------------------------------------
# diagnose
# --------------------------------------------------------------------------------------------
def test_diagnose_finds_vanishing_in_a_deep_sigmoid_network(digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    dl.set_random_seed(0)
    diagnosis = diagnose(dense_stack(10, "sigmoid", "glorot_uniform"), x, y)
    vanishing = [f for f in diagnosis.findings if f.kind == "vanishing"]
    assert len(vanishing) == 1
    finding = vanishing[0]
    assert finding.severity in ("warning", "critical")
    assert finding.evidence["first_last_ratio"] < 1e-3
    assert 1 in finding.layers and 11 not in finding.layers
    # ≈ σ'(0) = 0.25 per layer with glorot weights, as the theory says
    assert 0.1 < finding.evidence["factor_per_layer"] < 0.4
    assert "relu" in finding.remedy_en and "he_normal" in finding.remedy_en
    assert "relu" in finding.remedy_ko and "기울기" in finding.message_ko
    assert diagnosis.findings[0].severity == max(
        (f.severity for f in diagnosis.findings), key=["info", "warning", "critical"].index)
    english, korean = diagnosis.text("en"), diagnosis.text("ko")
    assert "Vanishing gradients" in english and "Remedy:" in english
    assert "기울기 소실" in korean and "해결책" in korean
    assert json.loads(json.dumps(diagnosis.to_dict()))["findings"][0]["kind"] == \
        diagnosis.findings[0].kind


def test_diagnose_finds_nothing_critical_in_a_relu_he_network(digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    for seed in (0, 1, 2):
        dl.set_random_seed(seed)
        diagnosis = diagnose(dense_stack(3, "relu", "he_normal"), x, y)
        assert not diagnosis.critical, diagnosis.text()
        assert not {"vanishing", "exploding", "dead_units"} & set(diagnosis.kinds)
    assert "No gradient-flow problem found" in Diagnosis([], layers=[{}]).text()


def test_diagnose_finds_dead_relu_units(digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    model = dense_stack(3, "relu", "he_normal")
    for layer in model.layers[:-1]:
        layer.bias[...] = -100.0  # every pre-activation negative: relu outputs 0 everywhere
    diagnosis = diagnose(model, x, y)
    dead = [f for f in diagnosis.findings if f.kind == "dead_units"]
    assert len(dead) == 1 and dead[0].severity == "critical"
    assert dead[0].layers == [1, 2, 3]
    assert dead[0].evidence["dead_fraction"] == {"1": 1.0, "2": 1.0, "3": 1.0}
    assert diagnosis.critical
    assert "leaky_relu" in dead[0].remedy_en and "leaky_relu" in dead[0].remedy_ko


def test_diagnose_half_dead_layer_is_a_warning(float64) -> None:
    model = Sequential([Dense(4, activation="relu", input_dim=2), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.eye(2, 4), np.array([0.0, 0.0, -5.0, -5.0]), np.ones((4, 1)),
                       np.zeros(1)])
    x = np.array([[1.0, 2.0], [0.5, 0.1], [2.0, 0.0]])
    diagnosis = diagnose(model, x, np.ones(3))
    assert "dead_units" not in diagnosis.kinds
    assert diagnosis.layers[0]["dead_fraction"] == 0.5  # exactly half: not above the 50 % line
    model.layers[0].bias[1] = -5.0
    dead = [f for f in diagnose(model, x, np.ones(3)).findings if f.kind == "dead_units"]
    assert [(f.severity, f.layers) for f in dead] == [("warning", [1])]


def test_diagnose_finds_saturation(float64, digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    model = dense_stack(2, "sigmoid", "glorot_uniform")
    for layer in model.layers[:-1]:
        layer.kernel *= 30.0  # large weights push every sigmoid into its flat tails
    diagnosis = diagnose(model, x, y)
    saturation = [f for f in diagnosis.findings if f.kind == "saturation"]
    assert len(saturation) == 1 and saturation[0].layers == [1, 2]
    assert all(v > 0.5 for v in saturation[0].evidence["saturated_fraction"].values())
    assert "glorot_uniform" in saturation[0].remedy_en


def test_diagnose_finds_exploding_steps_and_non_finite_weights(float64, digits) -> None:
    x, y = digits[0][:256], digits[1][:256]
    dl.set_random_seed(0)
    model = dense_stack(2, "tanh", "glorot_uniform", optimizer=optimizers.SGD(1e4))
    exploding = [f for f in diagnose(model, x, y).findings if f.kind == "exploding"]
    assert len(exploding) == 1 and exploding[0].severity == "warning"
    assert exploding[0].evidence["max_update_ratio"] > 1
    assert "learning rate" in exploding[0].remedy_en and "학습률" in exploding[0].remedy_ko

    model.layers[1].kernel[0, 0] = np.nan
    diagnosis = diagnose(model, x, y)
    assert diagnosis.critical and diagnosis.findings[0].kind == "exploding"
    assert 2 in diagnosis.findings[0].evidence["non_finite_layers"]


def test_diagnose_finds_stalled_updates(float64) -> None:
    model = tiny_model()
    diagnosis = diagnose(model, X_TINY, Y_TINY)
    assert "stalled_updates" not in diagnosis.kinds
    model.optimizer.learning_rate = 1e-9
    stalled = [f for f in diagnose(model, X_TINY, Y_TINY).findings if f.kind == "stalled_updates"]
    assert len(stalled) == 1 and stalled[0].severity == "warning"
    assert stalled[0].layers == [1, 2, 3] and stalled[0].evidence["learning_rate"] == 1e-9


def test_diagnose_history_uses_the_latest_record(digits) -> None:
    x, y = digits[0][:200], digits[1][:200]
    dl.set_random_seed(0)
    model = dense_stack(10, "sigmoid", "glorot_uniform")
    monitor = GradientMonitor(x, y, max_samples=64)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[monitor])
    diagnosis = diagnose(history)
    assert diagnosis.layers == history.gradients[-1]["layers"]
    assert diagnosis.context["epoch"] == 2 and diagnosis.context["source"] == "history"
    assert "vanishing" in diagnosis.kinds
    assert "epoch 2" in diagnosis.text() and "2번째 에포크" in diagnosis.text("ko")
    assert diagnose(monitor).to_dict() == diagnosis.to_dict()


# --------------------------------------------------------------------------------------------
# Errors: each names the value and what is valid
# --------------------------------------------------------------------------------------------
def test_errors(digits) -> None:
    x, y = digits[0][:20], digits[1][:20]
    model = dense_stack(2, "relu", "he_normal")
    with pytest.raises(DataError, match="diagnose\\(model, x, y\\) needs the data.*x=None"):
        diagnose(model)
    with pytest.raises(DataError, match="y=None"):
        diagnose(model, x)
    with pytest.raises(ConfigError, match="no gradient records.*GradientMonitor"):
        diagnose(History())
    history = model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="no gradient records"):
        diagnose(history)
    with pytest.raises(ConfigError, match="only used with a model"):
        diagnose(history, x, y)
    with pytest.raises(ConfigError, match="diagnose takes a compiled Sequential.*got int"):
        diagnose(42)
    diagnosis = diagnose(model, x, y)
    with pytest.raises(ConfigError, match="lang must be 'en'.*'ko'.*got 'fr'"):
        diagnosis.text("fr")
    with pytest.raises(ConfigError, match="learning_rate must be a finite number.*got -1"):
        gradient_flow(model, x, y, learning_rate=-1)
    uncompiled = Sequential([Dense(3, input_dim=64)])
    with pytest.raises(ConfigError, match="compile"):
        gradient_flow(uncompiled, x, y)
    with pytest.raises(ConfigError, match="has none"):
        gradient_flow(Sequential([Activation("relu", input_dim=3)]), x, y)
    with pytest.raises(ConfigError, match="needs a descentlab Sequential model"):
        gradient_flow("model", x, y)
    with pytest.raises(ConfigError, match="every must be a positive integer.*'epoch'.*got 0"):
        GradientMonitor(x, y, every=0)
    with pytest.raises(ConfigError, match="got 'batch'"):
        GradientMonitor(x, y, every="batch")
    with pytest.raises(ConfigError, match="max_samples must be a positive integer; got 0"):
        GradientMonitor(x, y, max_samples=0)
    with pytest.raises(DataError, match="different numbers of samples: 20 and 5"):
        GradientMonitor(x, y[:5])
    with pytest.raises(DataError, match="needs the data"):
        GradientMonitor(None, y)
    with pytest.raises(ConfigError, match="to_table takes GradientMonitor records.*got str"):
        to_table("records")
    assert diagnostics.KINDS == ("vanishing", "exploding", "saturation", "dead_units",
                                 "stalled_updates")


def test_public_names_of_the_api_contract() -> None:
    """docs/API.md: GradientMonitor comes with the callbacks (defined there, a Callback, so
    that diagnostics, which it uses, need not import the callbacks), diagnose is dl.diagnose."""
    from descentlab import callbacks, diagnostics

    assert callbacks.GradientMonitor.__module__ == "descentlab.callbacks"
    assert issubclass(callbacks.GradientMonitor, callbacks.Callback)
    assert dl.diagnose is diagnostics.diagnose
    with pytest.raises(AttributeError, match="no attribute 'Monitor'"):
        callbacks.Monitor  # noqa: B018
