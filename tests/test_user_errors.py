"""Every user mistake the engine can see becomes a DescentLabError naming the value and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import descentlab as dl
from descentlab import activations, initializers, losses, optimizers
from descentlab.errors import ConfigError, DataError, DescentLabError
from descentlab.layers import Dense, Dropout
from descentlab.models import Sequential


def model(loss: str = "binary_crossentropy", units: int = 1, out: str = "sigmoid") -> Sequential:
    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(units, activation=out)])
    m.compile(optimizer="sgd", loss=loss)
    return m


X = np.random.default_rng(0).normal(size=(10, 3))
Y = (X[:, :1] > 0).astype(float)


@pytest.mark.parametrize("x, y, kind, message", [
    (X, Y[:7], DataError, "different numbers of samples: 10 and 7"),
    (np.where(np.arange(30).reshape(10, 3) == 7, np.nan, X), Y, DataError,
     r"x contains nan at index \(2, 1\)"),
    (np.where(np.arange(30).reshape(10, 3) == 4, np.inf, X), Y, DataError,
     r"x contains inf at index \(1, 1\)"),
    (X[:, :2], Y, DataError, "x has 2 features per sample, but the model expects 3"),
    (X[:0], Y[:0], DataError, "x is empty"),
    (X[:, 0], Y, DataError, "x must be 2-D"),
    (X.reshape(10, 3, 1), Y, DataError, "x must be 2-D"),
    ([["a", "b", "c"]] * 10, Y, DataError, "x must be numeric"),
    (pd.DataFrame({"a": ["x"] * 10, "b": 1.0, "c": 2.0}), Y, DataError,
     "column 'a' holds non-numeric values"),
    (X, Y * 2, DataError, "binary_crossentropy"),
])
def test_bad_data(x, y, kind, message: str) -> None:
    with pytest.raises(kind, match=message):
        model().fit(x, y, verbose=0)


@pytest.mark.parametrize("loss, units, out, y, message", [
    ("sparse_categorical_crossentropy", 3, "softmax", np.array([0, 1, 5] * 3 + [0]),
     "5"),
    ("categorical_crossentropy", 3, "softmax", np.eye(4)[np.arange(10) % 4],
     "4"),
    ("sparse_categorical_crossentropy", 3, "softmax", np.full(10, 1.5), "integer"),
])
def test_labels_out_of_range_for_the_loss(loss, units, out, y, message: str) -> None:
    with pytest.raises(DataError, match=message):
        model(loss, units, out).fit(X, y, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer or 'full'.*got 0"),
    ({"batch_size": -1}, "got -1"),
    ({"batch_size": 2.5}, "got 2.5"),
    ({"batch_size": True}, "got True"),
    ({"batch_size": "all"}, "got 'all'"),
    ({"epochs": 0}, "epochs must be a positive integer; got 0"),
    ({"epochs": -3}, "got -3"),
    ({"validation_split": 1.0}, r"validation_split must be a fraction in \[0, 1\); got 1.0"),
    ({"validation_split": -0.1}, "got -0.1"),
    ({"verbose": 3}, "verbose must be 0, 1, 2 or 'auto'; got 3"),
    ({"on_divergence": "ignore"}, "on_divergence must be one of raise, stop, continue"),
])
def test_bad_fit_arguments(kwargs: dict, message: str) -> None:
    args = {"verbose": 0, **kwargs}
    with pytest.raises(ConfigError, match=message):
        model().fit(X, Y, **args)


@pytest.mark.parametrize("make, message", [
    (lambda: activations.get("sigmoud"), "Did you mean 'sigmoid'"),
    (lambda: Dense(3, activation="rellu"), "Did you mean 'relu'"),
    (lambda: initializers.get("he_normall"), "he_normal"),
    (lambda: losses.get("binary_crosentropy"), "binary_crossentropy"),
    (lambda: optimizers.get("rmsporp"), "rmsprop"),
    (lambda: Dense(0), "Dense units must be a positive integer; got 0"),
    (lambda: Dropout(1.5), r"Dropout rate must be a number in \[0, 1\); got 1.5"),
    (lambda: dl.set_floatx("float16"), "valid values are 'float32' and 'float64'"),
    (lambda: dl.set_random_seed(-1), "non-negative integer; got -1"),
    (lambda: Sequential().compile(optimizer="adam"), "compile needs a loss"),
    (lambda: Sequential([Dense(2, input_dim=3)]).fit(X, Y), "needs a compiled model"),
    (lambda: Sequential().add("dense"), "expects a layer"),
])
def test_bad_names_and_settings(make, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


def test_every_error_is_a_descentlab_error_and_a_builtin() -> None:
    assert issubclass(ConfigError, (DescentLabError, ValueError))
    assert issubclass(DataError, (DescentLabError, ValueError))
    with pytest.raises(ValueError):
        model().fit(X, Y[:3], verbose=0)


def test_unknown_activation_lists_every_valid_name() -> None:
    with pytest.raises(ConfigError) as info:
        activations.get("nope")
    for name in activations.names():
        assert name in str(info.value)
