"""Metrics against Keras 3: per-sample values, the running mean over batches, which accuracy
``"accuracy"`` means for a given output and target shape, and the History key names."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from descentlab import losses, metrics
from descentlab.errors import ConfigError

# Keras' torch backend converts tensors with np.array(x, copy=False): numpy 2 warns, not our code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

N = 23
BATCH = 5          # 23 = 4·5 + 3: the last batch is smaller, so weighting by batch size matters


def make_data(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Targets and outputs for a metric: ties and exact 0.5 thresholds have probability 0."""
    if name == "binary_accuracy":
        return rng.integers(0, 2, size=(N, 3)).astype(float), rng.uniform(size=(N, 3))
    if name in ("categorical_accuracy", "categorical_crossentropy"):
        return np.eye(4)[rng.integers(0, 4, size=N)], rng.dirichlet(np.ones(4), size=N)
    if name in ("sparse_categorical_accuracy", "sparse_categorical_crossentropy"):
        return rng.integers(0, 4, size=N), rng.dirichlet(np.ones(4), size=N)
    if name == "binary_crossentropy":
        return rng.integers(0, 2, size=(N, 1)).astype(float), rng.uniform(size=(N, 1))
    return rng.normal(size=(N, 2)), rng.normal(size=(N, 2))        # mae, mse


def running_mean(metric: metrics.Metric, y: np.ndarray, p: np.ndarray) -> float:
    total, count = 0.0, 0
    for start in range(0, len(y), BATCH):
        t, c = metric.batch_values(y[start:start + BATCH], p[start:start + BATCH])
        total += t
        count += c
    return total / count


def keras_running_mean(name: str, y: np.ndarray, p: np.ndarray) -> float:
    metric = keras.metrics.get(name)     # what compile builds for the string: a fresh Mean metric
    for start in range(0, len(y), BATCH):
        metric.update_state(y[start:start + BATCH], p[start:start + BATCH])
    return float(metric.result())


METRIC_NAMES = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                "mae", "mean_absolute_error", "mse", "mean_squared_error",
                "binary_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy"]

KERAS_FUNCTION = {"mae": "mean_absolute_error", "mse": "mean_squared_error"}


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_metric_matches_keras(name, rng):
    y, p = make_data(name, rng)
    metric = metrics.get(name)
    keras_function = getattr(keras.metrics, KERAS_FUNCTION.get(name, name))
    keras_values = keras.ops.convert_to_numpy(keras_function(y, p))
    if keras_values.ndim > 1:                       # binary_accuracy: Mean averages per sample
        keras_values = keras_values.mean(axis=-1)
    np.testing.assert_allclose(metric.values(y, p), keras_values, rtol=1e-6)
    np.testing.assert_allclose(running_mean(metric, y, p), keras_running_mean(name, y, p),
                               rtol=1e-6)
    np.testing.assert_allclose(metric(y, p), keras_values.mean(), rtol=1e-6)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_sums_are_each_members_total_of_keras_values(name, rng):
    """A population's batch (members, n, ...): one sum of the per-sample values per member."""
    data = [make_data(name, rng) for _ in range(3)]
    y, p = np.stack([d[0] for d in data]), np.stack([d[1] for d in data])
    keras_function = getattr(keras.metrics, KERAS_FUNCTION.get(name, name))
    want = []
    for y_k, p_k in data:
        values = keras.ops.convert_to_numpy(keras_function(y_k, p_k))
        want.append((values.mean(axis=-1) if values.ndim > 1 else values).sum())
    got = metrics.get(name).sums(y, p)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    if name == "sparse_categorical_accuracy":  # labels (members, n, 1), as fit holds them
        np.testing.assert_array_equal(metrics.get(name).sums(y[..., np.newaxis], p), got)


@pytest.mark.parametrize("name, units", [
    ("binary_accuracy", 1), ("sparse_categorical_accuracy", 4), ("mae", 1), ("mse", 1),
])
def test_labels_of_shape_n_and_n1_give_the_same_value(name, units, rng):
    labels, p = rng.integers(0, max(units, 2), size=N).astype(float), rng.uniform(size=(N, units))
    metric = metrics.get(name)
    assert metric.batch_values(labels, p) == metric.batch_values(labels[:, np.newaxis], p)
    keras_metric = keras.metrics.get(name)
    keras_metric.update_state(labels, p)
    np.testing.assert_allclose(metric(labels, p), float(keras_metric.result()), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# "accuracy": which one, as Keras 3 decides in compile
# --------------------------------------------------------------------------------------------
def keras_targets(kind: str, rng: np.random.Generator, units: int) -> np.ndarray:
    labels = rng.integers(0, max(units, 2), size=N)
    return {"(n,)": labels.astype(float),
            "(n,1)": labels.reshape(-1, 1).astype(float),
            "one-hot": np.eye(units)[labels % units],
            "multi-hot": rng.integers(0, 2, size=(N, units)).astype(float),
            "real": rng.normal(size=N)}[kind]


RESOLUTION = [
    (1, "sigmoid", "binary_crossentropy", "(n,)", metrics.BinaryAccuracy),
    (1, "sigmoid", "binary_crossentropy", "(n,1)", metrics.BinaryAccuracy),
    (1, None, "mean_squared_error", "real", metrics.BinaryAccuracy),
    (3, "softmax", "sparse_categorical_crossentropy", "(n,)", metrics.SparseCategoricalAccuracy),
    (3, "softmax", "sparse_categorical_crossentropy", "(n,1)", metrics.SparseCategoricalAccuracy),
    (3, "softmax", "categorical_crossentropy", "one-hot", metrics.CategoricalAccuracy),
    # Keras' rule reads shapes only: multi-label sigmoid outputs get categorical accuracy.
    (3, "sigmoid", "binary_crossentropy", "multi-hot", metrics.CategoricalAccuracy),
]


@pytest.mark.parametrize("units, activation, loss, kind, expected", RESOLUTION)
def test_accuracy_is_resolved_as_keras_compile_does(units, activation, loss, kind, expected,
                                                    rng):
    y = keras_targets(kind, rng, units)
    x = rng.normal(size=(N, 4))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    model.compile(loss=loss, metrics=["accuracy"])
    keras_accuracy = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    chosen = model._compile_metrics._flat_metrics[0].metrics[0]      # the object Keras built
    assert type(chosen).__name__ == expected.__name__

    prepared = losses.get(loss).prepare_targets(y, units, np.float32)
    for shape in (y.shape, prepared.shape):       # the raw targets and the model's prepared ones
        metric = metrics.get("accuracy", loss_name=loss, output_units=units, y_shape=shape)
        assert type(metric) is expected and metric.name == "accuracy"
    output = model.predict(x, verbose=0)
    np.testing.assert_allclose(running_mean(metric, prepared, output),
                               keras_accuracy["accuracy"], rtol=1e-6)


@pytest.mark.parametrize("loss, units, expected", [
    ("binary_crossentropy", 1, metrics.BinaryAccuracy),
    ("sparse_categorical_crossentropy", 5, metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", 5, metrics.CategoricalAccuracy),
])
def test_accuracy_without_target_shape_follows_the_loss(loss, units, expected):
    assert type(metrics.get("acc", loss_name=loss, output_units=units)) is expected


# --------------------------------------------------------------------------------------------
# The epoch value and the History keys, as in keras fit
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("identifiers", [
    ["accuracy"], ["acc"], ["Accuracy"], ["mae", "mse"], ["mean_absolute_error", "accuracy"],
    ["binary_accuracy", "binary_crossentropy"],
])
def test_epoch_values_and_history_keys_match_keras_fit(identifiers, rng):
    # Learning rate 0: the outputs stay fixed, so Keras' epoch value is its running mean over
    # the batches (the last one smaller), which batch_values must reproduce.
    # Targets (n, 1): Keras' binary_crossentropy *metric* rejects (n,) against an (n, 1) output.
    x, y = rng.normal(size=(N, 4)), rng.integers(0, 2, size=(N, 1)).astype(float)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss="binary_crossentropy", metrics=identifiers)
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history
    output = model.predict(x, verbose=0)
    prepared = losses.get("binary_crossentropy").prepare_targets(y, 1, np.float32)
    ours = [metrics.get(i, loss_name="binary_crossentropy", output_units=1,
                        y_shape=prepared.shape) for i in identifiers]
    assert {m.name for m in ours} | {"loss"} == set(history)
    for metric in ours:
        np.testing.assert_allclose(running_mean(metric, prepared, output),
                                   history[metric.name][0], rtol=1e-5)


def test_running_mean_weights_batches_by_size(rng):
    # 23 samples in batches of 5: the mean over samples, not the mean of the batch means.
    y, p = make_data("mae", rng)
    metric = metrics.get("mae")
    batch_means = [metric(y[s:s + BATCH], p[s:s + BATCH]) for s in range(0, N, BATCH)]
    assert running_mean(metric, y, p) == pytest.approx(np.abs(y - p).mean(), rel=1e-12)
    assert abs(np.mean(batch_means) - np.abs(y - p).mean()) > 1e-4


# --------------------------------------------------------------------------------------------
# Look-up by name
# --------------------------------------------------------------------------------------------
def test_names_are_keras_metric_names():
    # "accuracy"/"acc" are resolved by compile (tested above); the rest keras.metrics.get knows.
    assert metrics.names()[:2] == ["accuracy", "acc"]
    for name in metrics.names()[2:]:
        assert isinstance(keras.metrics.get(name), keras.metrics.Metric)


@pytest.mark.parametrize("identifier, cls, name", [
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("mean_squared_error", metrics.MeanSquaredError, "mean_squared_error"),
    ("BinaryAccuracy", metrics.BinaryAccuracy, "BinaryAccuracy"),
    ({"name": "sparse_categorical_accuracy"}, metrics.SparseCategoricalAccuracy,
     "sparse_categorical_accuracy"),
    (metrics.CategoricalAccuracy, metrics.CategoricalAccuracy, "categorical_accuracy"),
    ("binary_crossentropy", metrics.LossMetric, "binary_crossentropy"),
])
def test_get(identifier, cls, name):
    metric = metrics.get(identifier)
    assert type(metric) is cls and metric.name == name
    assert metrics.get(metric) is metric


@pytest.mark.parametrize("identifier, match", [
    ("accuarcy", r"Unknown metric 'accuarcy'.*Did you mean 'accuracy'\?"),
    ("f1_score", r"Unknown metric 'f1_score'\. Valid names: accuracy, acc"),
    (3, r"Could not interpret the metric 3"),
])
def test_unknown_metric(identifier, match):
    with pytest.raises(ConfigError, match=match):
        metrics.get(identifier)
