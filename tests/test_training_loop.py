"""fit's semantics: gradients, divergence, batching, validation, inputs, determinism, callbacks."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import descentlab as dl
from descentlab import activations, losses, optimizers
from descentlab.callbacks import Callback, EarlyStopping, ModelCheckpoint
from descentlab.errors import TrainingDiverged
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential, load_model

GEN = np.random.default_rng(3)
X = GEN.normal(size=(12, 4))
TARGETS = {
    "binary_crossentropy": (1, "sigmoid", (X[:, :1] > 0).astype(float)),
    "categorical_crossentropy": (3, "softmax", np.eye(3)[np.arange(12) % 3]),
    "sparse_categorical_crossentropy": (3, "softmax", np.arange(12) % 3),
    "mse": (2, "linear", X[:, :2] * 0.3),
}


def finite_difference_check(model: Sequential, x: np.ndarray, y: np.ndarray) -> None:
    """compute_gradients against central differences of the loss, in float64."""
    loss, grads = model.compute_gradients(x, y)
    h = 1e-6
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        numeric = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            keep = weight[index]
            weight[index] = keep + h
            up = model.compute_gradients(x, y)[0]
            weight[index] = keep - h
            down = model.compute_gradients(x, y)[0]
            weight[index] = keep
            numeric[index] = (up - down) / (2 * h)
        small = np.abs(numeric) < 1e-2
        np.testing.assert_allclose(grad[small], numeric[small], atol=1e-8)
        np.testing.assert_allclose(grad[~small], numeric[~small], rtol=1e-6)
    assert loss == model.compute_gradients(x, y)[0]


@pytest.mark.parametrize("activation", [a for a in activations.names() if a != "softmax"])
def test_compute_gradients_every_activation(float64, activation: str) -> None:
    dl.set_random_seed(0)
    units, out, y = TARGETS["categorical_crossentropy"]
    model = Sequential([Dense(5, activation=activation, input_dim=4),
                        Dense(units, activation=out)])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    finite_difference_check(model, X, y)


@pytest.mark.parametrize("loss", sorted(TARGETS))
def test_compute_gradients_every_loss(float64, loss: str) -> None:
    dl.set_random_seed(1)
    units, out, y = TARGETS[loss]
    model = Sequential([Dense(5, activation="tanh", input_dim=4), BatchNormalization(),
                        Dense(units), Activation(out)])
    model.compile(optimizer="sgd", loss=loss)
    model.fit(X, y, epochs=1, verbose=0)  # moving statistics away from their start
    finite_difference_check(model, X, y)


def test_compute_gradients_makes_no_update() -> None:
    units, out, y = TARGETS["mse"]
    model = Sequential([Dense(3, input_dim=4), Dense(units)])
    model.compile(optimizer="adam", loss="mse")
    before = model.get_weights()
    model.compute_gradients(X, y)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def regression_model(optimizer) -> Sequential:
    dl.set_random_seed(0)
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_divergence_raises_with_the_facts() -> None:
    x = np.random.default_rng(0).normal(size=(64, 4)) * 10
    y = x[:, :2] * 50
    model = regression_model(optimizers.SGD(learning_rate=5.0))
    with pytest.raises(TrainingDiverged, match=r"learning rate 5.*0\.5") as info:
        model.fit(x, y, epochs=50, batch_size=16, verbose=0)
    error = info.value
    assert error.learning_rate == 5.0 and error.epoch >= 1 and error.batch >= 1
    assert len(error.history.epoch) == error.epoch - 1
    quiet = regression_model(optimizers.SGD(learning_rate=5.0))
    history = quiet.fit(x, y, epochs=50, batch_size=16, verbose=0, on_divergence="stop")
    assert len(history.epoch) == error.epoch


class EveryBatch(Callback):
    """Reads every batch's logs, so fit computes each batch's loss as the batch comes."""

    def on_train_batch_end(self, batch, logs=None):
        assert np.isfinite(logs["loss"]) or np.isnan(logs["loss"])


class Boost(Callback):
    """Makes the learning rate absurd from the third epoch on: the loss becomes NaN there."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            self.model.optimizer.learning_rate = 1e300


def sparse_run(per_batch: bool, on_divergence: str, boost: bool, dtype: str):
    dl.set_floatx(dtype)
    dl.set_random_seed(5)
    x = np.random.default_rng(5).normal(size=(203, 6)) * 3
    model = Sequential([Dense(8, activation="relu", input_dim=6), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = ([EveryBatch()] if per_batch else []) + ([Boost()] if boost else [])
    try:
        history = model.fit(x, np.arange(203) % 3, batch_size=20, epochs=5, verbose=0,
                            validation_split=0.1, callbacks=callbacks,
                            on_divergence=on_divergence)
        outcome = (history.epoch, history.history)
    except TrainingDiverged as error:
        outcome = (str(error), error.epoch, error.batch, error.history.history)
    return outcome, model.get_weights(), model.optimizer.iterations


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("on_divergence", "boost"), [
    ("raise", False), ("raise", True), ("stop", True), ("continue", True)])
@pytest.mark.parametrize("kept_bytes", [None, 1000])
def test_losses_summed_per_epoch_equal_batch_by_batch(dtype, on_divergence, boost, kept_bytes,
                                                      monkeypatch) -> None:
    """Without callbacks that read every batch's logs, sparse crossentropy's batch losses are
    computed from the outputs kept (Sequential._lean_epoch; with kept_bytes, a buffer of a
    batch or two, folded many times an epoch): the History, the weights and the divergence
    (epoch, batch, what is left behind) are those of the batch-by-batch loop, bit for bit."""
    if kept_bytes is not None:
        monkeypatch.setattr(losses._SparseEpochLosses, "KEPT_BYTES", kept_bytes)
    lean = sparse_run(False, on_divergence, boost, dtype)
    per_batch = sparse_run(True, on_divergence, boost, dtype)
    assert repr(lean[0]) == repr(per_batch[0])  # NaN compares equal in its repr
    assert lean[2] == per_batch[2]
    for a, b in zip(lean[1], per_batch[1], strict=True):
        np.testing.assert_array_equal(a, b)
    if boost:  # it did diverge, in the third epoch
        diverged = lean[0][1] == 3 if on_divergence == "raise" else np.isnan(
            lean[0][1]["loss"][2])
        assert diverged


def test_batching_full_and_last_batch() -> None:
    model = regression_model("sgd")
    model.fit(X, X[:, :2], batch_size="full", epochs=3, verbose=0)
    assert model.optimizer.iterations == 3
    model.fit(X, X[:, :2], batch_size=5, epochs=1, verbose=0)  # 5 + 5 + 2
    assert model.optimizer.iterations == 6


def test_validation_split_takes_the_last_samples() -> None:
    x = np.random.default_rng(1).normal(size=(40, 4))
    y = x[:, :2]
    model = regression_model("sgd")
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(x[30:], y[30:], verbose=0), rtol=1e-6)


def test_pandas_and_list_inputs_equal_numpy() -> None:
    frame = pd.DataFrame(X, columns=list("abcd"))
    labels = pd.Series(np.array(["x", "y", "z"])[np.arange(12) % 3])
    one_hot = pd.get_dummies(labels)  # booleans, as the textbook gets them
    results = []
    for x, y in [(X, np.eye(3)[np.arange(12) % 3]), (frame, one_hot), (X.tolist(),
                                                                       one_hot.values.tolist())]:
        dl.set_random_seed(4)
        model = Sequential([Dense(5, activation="relu", input_dim=4),
                            Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
        results.append((model.get_weights(), history.history))
    for weights, history in results[1:]:
        assert history == results[0][1]
        for a, b in zip(weights, results[0][0], strict=True):
            np.testing.assert_array_equal(a, b)


def run_once(seed: int, optimizer: str = "adam"):
    dl.set_random_seed(seed)
    model = Sequential([Dense(6, activation="relu", input_dim=4), Dropout(0.3),
                        Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, np.arange(12) % 3, epochs=4, batch_size=5, verbose=0)
    return model.get_weights(), history.history


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_same_seed_same_bits(optimizer: str) -> None:
    (w1, h1), (w2, h2), (w3, _) = (run_once(7, optimizer), run_once(7, optimizer),
                                   run_once(8, optimizer))
    assert h1 == h2
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(w1[0], w3[0])


def test_float64_is_float64_throughout(float64) -> None:
    weights, _ = run_once(1)
    assert all(w.dtype == np.float64 for w in weights)


def test_dropout_only_in_training() -> None:
    layer = Dropout(0.25, seed=0)
    x = np.ones((400, 50))
    np.testing.assert_array_equal(layer(x), x)
    dropped = layer.forward(x, training=True)
    assert abs((dropped == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(dropped[dropped != 0], 1 / 0.75)


def scripted_early_stopping(callback, values: list[float]) -> tuple[int, int | None]:
    """Drive a (Keras or descentlab) EarlyStopping with scripted val_loss values."""

    class Dummy:
        stop_training = False
        restored = None
        epoch = 0

        def get_weights(self):
            return [np.array([self.epoch])]

        def set_weights(self, weights):
            self.restored = int(weights[0][0])

    model = Dummy()
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        model.epoch = epoch
        callback.on_epoch_end(epoch, {"val_loss": value, "loss": value})
        if model.stop_training:
            break
    callback.on_train_end({})
    return epoch, model.restored


@pytest.mark.parametrize("kwargs", [
    {"patience": 0}, {"patience": 2}, {"patience": 2, "min_delta": 0.05},
    {"patience": 3, "restore_best_weights": True}, {"patience": 1, "baseline": 0.5},
    {"patience": 2, "start_from_epoch": 3, "restore_best_weights": True},
])
def test_early_stopping_matches_keras(kwargs: dict) -> None:
    import keras

    values = [1.0, 0.8, 0.79, 0.81, 0.6, 0.62, 0.61, 0.63, 0.64, 0.5, 0.7, 0.71, 0.72]
    ours = scripted_early_stopping(EarlyStopping(**kwargs), values)
    theirs = scripted_early_stopping(keras.callbacks.EarlyStopping(**kwargs), values)
    assert ours == theirs


def test_model_checkpoint_saves_only_improvements(tmp_path) -> None:
    x = np.random.default_rng(2).normal(size=(60, 4))
    y = x[:, :2]
    model = regression_model(optimizers.SGD(0.05))
    saved = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append((logs["val_loss"], self.model.get_weights()))

    pattern = str(tmp_path / "new" / "{epoch:02d}-{val_loss:.4f}.hdf5")
    history = model.fit(x, y, epochs=8, validation_split=0.25, verbose=0,
                        callbacks=[ModelCheckpoint(pattern, save_best_only=True), Snapshot()])
    val = history.history["val_loss"]
    improving = [i for i, v in enumerate(val) if v < min(val[:i], default=np.inf)]
    expected = sorted(f"{i + 1:02d}-{val[i]:.4f}.hdf5" for i in improving)
    assert sorted(os.listdir(tmp_path / "new")) == expected
    best = int(np.argmin(val))
    reloaded = load_model(str(tmp_path / "new" / expected[-1]))
    for a, b in zip(reloaded.get_weights(), saved[best][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_callback_hooks_in_order() -> None:
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    regression_model("sgd").fit(X, X[:, :2], epochs=2, batch_size=6, verbose=0,
                                callbacks=[Recorder()])
    assert events == ["train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1",
                      "epoch_end 0 ['loss']", "epoch_begin 1", "batch_end 0", "batch_end 1",
                      "epoch_end 1 ['loss']", "train_end"]


def test_progress_output(capsys) -> None:
    model = regression_model("sgd")
    history = model.fit(X, X[:, :2], epochs=2, batch_size=5, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("3/3 - ") and "/step" in lines[1]
    assert lines[3].endswith(f"loss: {history.history['loss'][1]:.4f}")
    model.fit(X, X[:, :2], epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(X, X[:, :2], epochs=1, verbose=1)
    assert "━" * 20 in capsys.readouterr().out


def test_summary_counts(capsys) -> None:
    model = Sequential([Dense(12, input_dim=8, activation="relu"), Dense(8), Dense(1),
                        BatchNormalization()])
    model.summary()
    text = capsys.readouterr().out
    assert "dense (Dense)" in text and "dense_2 (Dense)" in text
    assert "108" in text and "104" in text and " 9 " in text
    assert "Total params: 225" in text
    assert "Trainable params: 223" in text and "Non-trainable params: 2" in text
