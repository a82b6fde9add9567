"""The textbook's models, with the book's calls unchanged but for the imports, against Keras 3.

Each test runs the book's code twice on the book's data: once with descentlab's imports and once
with Keras' (on its torch backend), from the same initial weights and the same train/test split.
descentlab must reach comparable accuracy; the figures are printed (``pytest -s``) and quoted in
the README.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import descentlab as dl

BOOK_DATA = os.path.join(os.path.dirname(__file__), "data")  # the textbook's CSV files

#: How far descentlab's accuracy may fall below Keras' before the test fails. Shuffling streams
#: differ between the libraries, so the runs agree in distribution, not bit for bit.
TOLERANCE = 0.06


def book_csv(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(os.path.join(BOOK_DATA, name), **kwargs)


def descentlab_api():
    from descentlab.callbacks import EarlyStopping, ModelCheckpoint
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    return Sequential, Dense, EarlyStopping, ModelCheckpoint


def keras_api():
    import keras

    return (keras.models.Sequential, keras.layers.Dense, keras.callbacks.EarlyStopping,
            keras.callbacks.ModelCheckpoint)


def keras_model_like(model, Sequential, Dense):
    """The same architecture in Keras, starting from descentlab's initial weights."""
    import keras

    clone = Sequential([keras.Input((model.input_dim,))] + [
        Dense(layer.units, activation=layer.activation.name) for layer in model.layers
    ])
    clone.set_weights(model.get_weights())
    return clone


def report(name: str, ours: float, theirs: float) -> None:
    print(f"\n[book] {name}: descentlab accuracy {ours:.4f}, Keras {theirs:.4f}")
    assert ours >= theirs - TOLERANCE, (name, ours, theirs)


# -------------------------------------------------------------------------------------------
# Each book example as a function of the API: the body is the book's code.
# -------------------------------------------------------------------------------------------
def pima(api, initial=None):
    Sequential, Dense, _, _ = api
    df = book_csv("pima-indians-diabetes3.csv")
    X = df.iloc[:, 0:8]
    y = df.iloc[:, 8]
    model = Sequential()
    model.add(Dense(12, input_dim=8, activation="relu"))
    model.add(Dense(8, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    if initial is not None:
        model = initial
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(X, y, epochs=100, batch_size=5, verbose=0)
    return model, history, model.evaluate(X, y, verbose=0)[1]


def iris(api, initial=None):
    Sequential, Dense, _, _ = api
    df = book_csv("iris3.csv")
    X = df.iloc[:, 0:4]
    y = df.iloc[:, 4]
    y = pd.get_dummies(y)
    model = Sequential()
    model.add(Dense(12, input_dim=4, activation="relu"))
    model.add(Dense(8, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    if initial is not None:
        model = initial
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(X, y, epochs=50, batch_size=5, verbose=0)
    return model, history, model.evaluate(X, y, verbose=0)[1]


def sonar(api, initial=None):
    Sequential, Dense, _, _ = api
    df = book_csv("sonar3.csv", header=None)
    X = df.iloc[:, 0:60]
    y = df.iloc[:, 60]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, shuffle=True,
                                                        random_state=0)
    model = Sequential()
    model.add(Dense(24, input_dim=60, activation="relu"))
    model.add(Dense(10, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    if initial is not None:
        model = initial
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=200, batch_size=10, verbose=0)
    return model, history, model.evaluate(X_test, y_test, verbose=0)[1]


def wine(api, initial=None, folder="."):
    Sequential, Dense, EarlyStopping, ModelCheckpoint = api
    df = book_csv("wine.csv", header=None)
    X = df.iloc[:, 0:12]
    y = df.iloc[:, 12]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, shuffle=True,
                                                        random_state=0)
    model = Sequential()
    model.add(Dense(30, input_dim=12, activation="relu"))
    model.add(Dense(12, activation="relu"))
    model.add(Dense(8, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    if initial is not None:
        model = initial
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    early_stopping_callback = EarlyStopping(monitor="val_loss", patience=20)
    modelpath = os.path.join(folder, "model", "Ch14-4-bestmodel.keras")
    checkpointer = ModelCheckpoint(filepath=modelpath, monitor="val_loss", verbose=0,
                                   save_best_only=True)
    history = model.fit(X_train, y_train, epochs=2000, batch_size=500, validation_split=0.25,
                        verbose=0, callbacks=[early_stopping_callback, checkpointer])
    return model, history, model.evaluate(X_test, y_test, verbose=0)[1]


@pytest.mark.parametrize("example", [pima, iris, sonar], ids=["pima", "iris", "sonar"])
def test_book_example_matches_keras(example) -> None:
    import keras

    dl.set_random_seed(2024)
    model, history, ours = example(descentlab_api())
    assert len(history.history["loss"]) == len(history.epoch)
    assert history.history["loss"][-1] < history.history["loss"][0]

    keras.utils.set_random_seed(2024)
    start = _initial_model(example)
    k_Sequential, k_Dense, *_ = keras_api()
    reference = keras_model_like(start, k_Sequential, k_Dense)
    _, _, theirs = example(keras_api(), initial=reference)
    report(example.__name__, ours, theirs)


def _initial_model(example):
    """descentlab's model of ``example`` before training, built exactly as the example builds it."""
    dl.set_random_seed(2024)
    Sequential, Dense, _, _ = descentlab_api()
    captured = {}

    class Capture(Exception):
        pass

    class CapturingSequential(Sequential):
        def compile(self, *args, **kwargs):
            captured["model"] = self
            raise Capture

    with pytest.raises(Capture):
        example((CapturingSequential, Dense, None, None))
    return captured["model"]


def test_wine_with_checkpoint_and_early_stopping(tmp_path) -> None:
    import keras

    from descentlab.models import load_model

    dl.set_random_seed(2024)
    model, history, ours = wine(descentlab_api(), folder=str(tmp_path / "dl"))
    epochs_run = len(history.epoch)
    assert epochs_run < 2000, "EarlyStopping(patience=20) should end training early"
    best_file = tmp_path / "dl" / "model" / "Ch14-4-bestmodel.keras"
    assert best_file.exists()
    best = load_model(str(best_file))
    val_losses = history.history["val_loss"]
    # EarlyStopping(patience=20): the best epoch is the 21st from the end.
    assert int(np.argmin(val_losses)) == epochs_run - 21
    # The checkpoint holds the epoch with the lowest val_loss: it reproduces that value on the
    # validation part (the last 25 % of the training data, as Keras' validation_split takes).
    df = book_csv("wine.csv", header=None)
    X_train, _, y_train, _ = train_test_split(df.iloc[:, 0:12], df.iloc[:, 12], test_size=0.2,
                                              shuffle=True, random_state=0)
    split_at = int(len(X_train) * 0.75)
    best_val = best.evaluate(X_train[split_at:], y_train[split_at:], batch_size=500, verbose=0)
    np.testing.assert_allclose(best_val[0], min(val_losses), rtol=1e-6)

    start = _initial_model(wine)
    keras.utils.set_random_seed(2024)
    k_Sequential, k_Dense, *_ = keras_api()
    reference = keras_model_like(start, k_Sequential, k_Dense)
    _, _, theirs = wine(keras_api(), initial=reference, folder=str(tmp_path / "keras"))
    report("wine", ours, theirs)
