"""Where descentlab behaves as Keras does, checked against Keras itself (torch backend):
seeding, automatic names (given at construction), ModelCheckpoint's messages, the progress
lines of fit, evaluate and predict, and no floating-point warnings from a diverging fit."""

from __future__ import annotations

import contextlib
import random
import re
import sys
import warnings

import numpy as np
import pytest

import descentlab as dl
from descentlab import optimizers
from descentlab.callbacks import ModelCheckpoint
from descentlab.errors import ConfigError, TrainingDiverged
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential

keras = pytest.importorskip("keras")


def global_draws() -> tuple:
    """What code beside the model draws from the global generators."""
    return (np.random.rand(3).tolist(), np.random.permutation(10).tolist(),
            random.random(), random.sample(range(100), 5))


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1])
def test_set_random_seed_seeds_numpy_and_python_as_keras_does(seed) -> None:
    keras.utils.set_random_seed(seed)
    expected = global_draws()
    np.random.seed(seed + 1 if seed < 2**32 - 1 else 0)
    random.seed(-1)
    dl.set_random_seed(seed)
    assert global_draws() == expected


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64, 1.5, "3", True, None])
def test_seeds_numpy_cannot_take_are_refused(seed) -> None:
    with pytest.raises(ConfigError, match=r"seed must be an integer from 0 to 2\*\*32 - 1"):
        dl.set_random_seed(seed)


def test_automatic_names_count_across_the_process_as_in_keras() -> None:
    """The same sequence of models, built in Keras and in descentlab: the same names."""
    layers = keras.layers

    def keras_names() -> list:
        keras.backend.clear_session()
        m1 = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(2)])
        m2 = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dropout(0.1),
                               layers.BatchNormalization(), layers.Activation("relu"),
                               layers.Dense(2, name="dense_9"), layers.Dense(1)])
        m3 = keras.Sequential([keras.Input((3,)), layers.Dense(1)], name="mine")
        m4 = keras.Sequential([keras.Input((3,)), layers.Dropout(0.2)])
        return [(m.name, [layer.name for layer in m.layers]) for m in (m1, m2, m3, m4)]

    def descentlab_names() -> list:
        dl.backend.clear_session()
        m1 = Sequential([Dense(4, input_dim=3), Dense(2)])
        m2 = Sequential([Dense(4, input_dim=3), Dropout(0.1), BatchNormalization(),
                         Activation("relu"), Dense(2, name="dense_9"), Dense(1)])
        m3 = Sequential([Dense(1, input_dim=3)], name="mine")
        m4 = Sequential([Dropout(0.2, input_dim=3)])
        return [(m.name, [layer.name for layer in m.layers]) for m in (m1, m2, m3, m4)]

    expected = keras_names()
    assert expected[1] == ("sequential_1", ["dense_2", "dropout", "batch_normalization",
                                            "activation", "dense_9", "dense_3"])
    assert descentlab_names() == expected


#: What a sequence of constructions may hold: a layer of each kind, one with a name of its own
#: (which does not count), a model, and clear_session.
_STEPS = ["Dense", "Dense", "Dropout", "BatchNormalization", "Activation", "named", "model",
          "clear"]


def _construct(steps: list[str], backend, layers, sequential) -> list[list[str | None]]:
    """The names of the layers and models made by ``steps``, read right after construction,
    in runs separated by clear_session."""
    runs: list[list[str | None]] = [[]]
    made = {"Dense": lambda: layers.Dense(3), "Dropout": lambda: layers.Dropout(0.5),
            "BatchNormalization": lambda: layers.BatchNormalization(),
            "Activation": lambda: layers.Activation("relu"),
            "named": lambda: layers.Dense(2, name="dense_2"), "model": lambda: sequential()}
    backend.clear_session()
    for step in steps:
        if step == "clear":
            backend.clear_session()
            runs.append([])
        else:
            runs[-1].append(made[step]().name)
    return runs


@pytest.mark.parametrize("seed", range(8))
def test_layers_are_named_at_construction_as_in_keras(seed) -> None:
    """Random sequences of constructions (layers of each kind, a named one, models,
    clear_session between): each layer has its name right away, the same as Keras gives, and
    counting across the process."""
    steps = [str(s) for s in np.random.default_rng(seed).choice(_STEPS, size=25)]
    expected = _construct(steps, keras.backend, keras.layers, keras.Sequential)
    got = _construct(steps, dl.backend, dl.layers, Sequential)
    assert any(len(run) > 3 for run in expected)
    assert got == expected


def test_a_layer_keeps_the_name_it_was_constructed_with_in_a_model() -> None:
    keras.backend.clear_session()
    dl.backend.clear_session()
    for layers, sequential in ((keras.layers, keras.Sequential), (dl.layers, Sequential)):
        first, second, dropout = layers.Dense(4), layers.Dense(2), layers.Dropout(0.1)
        assert (first.name, second.name, dropout.name) == ("dense", "dense_1", "dropout")
        before = [second.name, first.name]
        model = sequential([keras.Input((3,)), second, first] if layers is keras.layers
                           else [second, first])
        assert [layer.name for layer in model.layers] == before
        keras.backend.clear_session()
        dl.backend.clear_session()


def test_an_automatic_name_skips_one_the_user_gave_in_the_same_model() -> None:
    model = Sequential([Dense(2, input_dim=3, name="dense"), Dense(1)])
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    dl.backend.clear_session()
    automatic = Dense(1)
    assert automatic.name == "dense"  # before it meets the model
    model = Sequential([Dense(2, input_dim=3, name="dense"), automatic])
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]


@pytest.mark.parametrize("name", [None, "mine"])
def test_the_same_layer_twice_in_a_model_is_refused(name) -> None:
    layer = Dense(2, input_dim=3, name=name)
    model = Sequential([layer])
    with pytest.raises(ConfigError, match=rf"A layer named '{layer.name}' is already in this "
                                          r"model\."):
        model.add(layer)
    assert [existing.name for existing in model.layers] == [layer.name]


@pytest.mark.parametrize("name", [5, ["a"], b"m"])
def test_a_model_name_must_be_text(name) -> None:
    with pytest.raises(ConfigError, match="Sequential name must be a string or None"):
        Sequential(name=name)


class _Saves:
    """A stand-in model for the callbacks: records where it is saved."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def save(self, path, *args, **kwargs) -> None:
        self.paths.append(path)


@pytest.mark.parametrize("save_best_only", [False, True])
@pytest.mark.parametrize("values", [[0.5, 0.6, 0.4, 0.4], [1.0, 0.9, 0.8]])
def test_model_checkpoint_prints_keras_lines(capsys, save_best_only, values) -> None:
    def run(callback) -> tuple[str, list[str]]:
        model = _Saves()
        callback.set_model(model)
        for epoch, value in enumerate(values):
            callback.on_epoch_end(epoch, {"loss": value + 1, "val_loss": value})
        return capsys.readouterr().out, model.paths

    path = "out/model-{epoch:02d}.keras"
    expected = run(keras.callbacks.ModelCheckpoint(path, verbose=1,
                                                   save_best_only=save_best_only))
    got = run(ModelCheckpoint(path, verbose=1, save_best_only=save_best_only))
    assert "finished saving model to" in expected[0]
    assert got == expected


_NUMBER = re.compile(r"\d+(\.\d+)?(e[-+]\d+)?")
_PER_STEP = re.compile(r"N(us|ms|s)/step")


def _shape(text: str) -> list[str]:
    """The lines with every number replaced by N and the time per step by T (times and
    losses differ between engines)."""
    return [_PER_STEP.sub("T/step", _NUMBER.sub("N", line)) for line in text.splitlines()]


@pytest.mark.parametrize("validation_split", [0.0, 0.2])
def test_not_a_terminal_output_is_keras_verbose_2(capsys, validation_split) -> None:
    """Redirected output (verbose="auto" off a terminal is 2): Keras' lines, word for word
    but for the numbers — fit's epoch lines and evaluate's line."""
    x = np.random.default_rng(0).random((100, 3)).astype("float32")
    y = x[:, :2]
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    k.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    k.fit(x, y, epochs=2, batch_size=10, verbose=2, validation_split=validation_split)
    k.evaluate(x, y, verbose=2)
    expected = _shape(capsys.readouterr().out)
    m = Sequential([Dense(2, input_dim=3)])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    m.fit(x, y, epochs=2, batch_size=10, verbose="auto", validation_split=validation_split)
    m.evaluate(x, y, verbose="auto")
    assert _shape(capsys.readouterr().out) == expected


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: The two timings of a final progress line: elapsed seconds, then the time per step.
_TIMINGS = re.compile(r"(?<= )\d+s( -)? \d+(us|ms|s)/step")


def _final_lines(text: str) -> list[str]:
    """What a terminal shows at the end: colours and clear-line codes removed, each line as it
    stands after the last carriage return or backspaces, the timings replaced by T."""
    shown = []
    for line in _ANSI.sub("", text).split("\n"):
        line = re.split(r"[\r\b]+", line)[-1].rstrip()
        if line:
            shown.append(_TIMINGS.sub(lambda m: "Ts" + (m.group(1) or "") + " T/step", line))
    return shown


@pytest.mark.parametrize("samples, batch_size", [(5, None), (32, None), (100, 10), (7, 3),
                                                 (64, 32)])
@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_predict_prints_keras_progress_line(capsys, samples, batch_size, verbose) -> None:
    """Keras' predict prints one progress line (steps, bar, time, time per step); descentlab's
    too, with the same steps (1024 samples per step by default, Keras 32: the cases that leave
    batch_size to the default have at most 32 samples)."""
    x = np.random.default_rng(samples).random((samples, 3)).astype("float32")
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras_output = k.predict(x, batch_size=batch_size, verbose=verbose)
    expected = _final_lines(capsys.readouterr().out)
    m = Sequential([Dense(2, input_dim=3)])
    output = m.predict(x, batch_size=batch_size, verbose=verbose)
    got = _final_lines(capsys.readouterr().out)
    assert output.shape == keras_output.shape
    steps = -(-samples // (batch_size or 32))
    line = {0: None, 1: f"{steps}/{steps} {'━' * 20} Ts T/step",
            2: f"{steps}/{steps} - Ts - T/step"}[verbose]
    assert expected == ([] if line is None else [line])
    assert got == expected


def test_predict_verbose_auto_is_evaluate_s_auto(capsys, monkeypatch) -> None:
    """"auto", the default as in Keras: the plain line when the output is not a terminal (as
    fit's and evaluate's "auto"), the bar on a terminal."""
    x, y = np.zeros((10, 3)), np.zeros((10, 2))
    m = Sequential([Dense(2, input_dim=3)])
    m.compile(optimizer="sgd", loss="mse")
    m.predict(x)
    m.evaluate(x, y)
    assert _final_lines(capsys.readouterr().out) == ["1/1 - Ts - T/step",
                                                     "1/1 - Ts - T/step - loss: 0.0000"]
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    m.predict(x)
    m.evaluate(x, y)
    assert _final_lines(capsys.readouterr().out) == [f"1/1 {'━' * 20} Ts T/step",
                                                     f"1/1 {'━' * 20} Ts T/step - loss: 0.0000"]


@pytest.mark.parametrize("verbose", [True, 3, -1, "1", None, "silent"])
def test_predict_takes_verbose_0_1_2_or_auto(verbose) -> None:
    with pytest.raises(ConfigError, match=r"^verbose must be one of 0, 1, 2, 'auto'; got "):
        Sequential([Dense(2, input_dim=3)]).predict(np.zeros((2, 3)), verbose=verbose)


# --------------------------------------------------------------------------------------------
# A diverging fit: one TrainingDiverged, no RuntimeWarning
# --------------------------------------------------------------------------------------------
X = np.random.default_rng(0).random((64, 4))


@pytest.mark.parametrize("activation, loss, y", [
    (None, "mse", X @ np.full((4, 1), 100.0)),
    ("softmax", "sparse_categorical_crossentropy", (X[:, 0] > 0.5).astype(int)),
    ("sigmoid", "binary_crossentropy", (X[:, :1] > 0.5).astype(float)),
    ("tanh", "mse", X[:, :1]),
])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Nadam"])
@pytest.mark.parametrize("on_divergence", ["raise", "stop", "continue"])
def test_a_diverging_fit_warns_nothing(activation, loss, y, optimizer, on_divergence) -> None:
    model = Sequential([Dense(32, input_dim=4, activation="relu"), BatchNormalization(),
                        Dense(y.shape[1] if y.ndim == 2 else 2, activation=activation)])
    model.compile(optimizer=optimizers.get({"class_name": optimizer,
                                            "config": {"learning_rate": 1e30}}), loss=loss)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y, epochs=3, batch_size=16, verbose=0, on_divergence=on_divergence)
        except TrainingDiverged:
            assert on_divergence == "raise"
        with contextlib.suppress(TrainingDiverged):
            model.train_on_batch(X, y)
        model.evaluate(X, y, verbose=0)
        model.predict(X)
        model.compute_gradients(X, y)
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_arithmetic_outside_descentlab_still_warns() -> None:
    """Only descentlab's own training and inference are quiet: the user's NumPy is not."""
    Sequential([Dense(1, input_dim=4)]).predict(X)
    with pytest.warns(RuntimeWarning, match="overflow"):
        np.float32(1e38) * np.float32(10)
