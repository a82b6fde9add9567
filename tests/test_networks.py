"""One Dense-stack builder (``descentlab.lab.networks.dense_stack``) for the five places that
build a network: ``train``, ``demo``, the vanishing lab, the optimizer lab and the playground.

Each caller must build exactly the model it built when it wrote its own loop. The oracles below
are those loops, copied from the code before the builder existed: same layers, same
configuration, same initial weights from the same seed, same optimizer and loss.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import descentlab as dl
from descentlab import optimizers
from descentlab.errors import ConfigError
from descentlab.lab import networks, training, vanishing
from descentlab.lab import optimizers as lab_optimizers
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential
from descentlab.playground import config as cfg
from descentlab.playground import trainer


def _without_names(node: Any) -> Any:
    """A config with every ``name`` removed: layer names count per process, not per model."""
    if isinstance(node, dict):
        return {k: _without_names(v) for k, v in node.items() if k != "name"}
    if isinstance(node, list):
        return [_without_names(v) for v in node]
    return node


def assert_same_model(built: Sequential, oracle: Sequential, inputs: int) -> None:
    for model in (built, oracle):
        if not model.built:
            model.build(inputs)
    # Automatic model names count per process too ("sequential", "sequential_1"), as in Keras.
    assert re.sub(r"^sequential_\d+$", "sequential", built.name) == \
        re.sub(r"^sequential_\d+$", "sequential", oracle.name)
    assert _without_names(built.get_config()) == _without_names(oracle.get_config())
    assert [type(layer) for layer in built.layers] == [type(layer) for layer in oracle.layers]
    weights, expected = built.get_weights(), oracle.get_weights()
    assert len(weights) == len(expected)
    for w, e in zip(weights, expected, strict=True):
        np.testing.assert_array_equal(w, e)
    if oracle.optimizer is not None:
        assert _without_names(optimizers.serialize(built.optimizer)) == \
            _without_names(optimizers.serialize(oracle.optimizer))
        assert built.loss.name == oracle.loss.name


def seeded(build, seed: int = 0) -> Sequential:
    dl.set_random_seed(seed)
    return build()


# -- the builders as they were written before (the oracles) ----------------------------------
def old_training(features, hidden, units, output_activation, loss, metric, activation,
                 initializer, optimizer):
    model = Sequential()
    for i, width in enumerate(hidden):
        model.add(Dense(width, activation=activation, kernel_initializer=initializer,
                        input_dim=features if i == 0 else None))
    model.add(Dense(units, activation=output_activation, input_dim=None if hidden else features))
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    return model


def old_vanishing(config, features, classes):
    model = Sequential(name=f"{config['activation']}_{config['depth']}")
    for i in range(config["depth"]):
        input_dim = features if i == 0 else None
        if config.get("batch_norm"):
            model.add(Dense(config["width"], kernel_initializer=config["initializer"],
                            input_dim=input_dim))
            model.add(BatchNormalization())
            model.add(Activation(config["activation"]))
        else:
            model.add(Dense(config["width"], activation=config["activation"],
                            kernel_initializer=config["initializer"], input_dim=input_dim))
    model.add(Dense(classes, activation="softmax"))
    model.compile(optimizer=optimizers.SGD(learning_rate=config["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def old_optimizer_lab(config, input_dim, classes, total_updates=1):
    dl.set_random_seed(int(config["seed"]))
    model = Sequential()
    width_in = input_dim
    for width in config["hidden"]:
        model.add(Dense(int(width), activation=config["activation"], input_dim=width_in))
        width_in = None
    model.add(Dense(classes, activation="softmax", input_dim=width_in))
    spec = lab_optimizers.SPECS[config["optimizer"]]
    rate = lab_optimizers.make_schedule(config.get("schedule", "constant"),
                                        float(config["learning_rate"]), total_updates)
    model.compile(optimizer=optimizers.deserialize({"class_name": spec["class_name"],
                                                    "config": dict(spec["config"],
                                                                   learning_rate=rate)}),
                  loss="sparse_categorical_crossentropy")
    model.build(input_dim)
    return model


def old_playground(config, inputs):
    model = Sequential(name="playground")
    regularizer = trainer.kernel_regularizer(config)
    for i, (units, activation, initializer) in enumerate(cfg.layer_settings(config)):
        input_dim = inputs if i == 0 else None
        if config["batchNorm"]:
            model.add(Dense(units, kernel_initializer=initializer, input_dim=input_dim,
                            kernel_regularizer=regularizer))
            model.add(BatchNormalization())
            model.add(Activation(activation))
        else:
            model.add(Dense(units, activation=activation, kernel_initializer=initializer,
                            input_dim=input_dim, kernel_regularizer=regularizer))
        if config["dropout"] > 0:
            model.add(Dropout(config["dropout"]))
    classification = config["problem"] == "classification"
    model.add(Dense(1, activation="sigmoid" if classification else "linear",
                    input_dim=inputs if not config["networkShape"] else None,
                    kernel_regularizer=regularizer))
    model.compile(optimizer=trainer.build_optimizer(config),
                  loss="binary_crossentropy" if classification else "mean_squared_error")
    return model


def old_demo():
    model = Sequential()
    model.add(Dense(32, input_dim=64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


# -- each caller against its old builder -----------------------------------------------------
@pytest.mark.parametrize(("hidden", "labels", "activation", "initializer", "optimizer"), [
    ((12, 8), [0, 1, 2], "relu", "glorot_uniform", "adam"),
    ((5,), [0, 1], "tanh", "he_normal", "sgd"),
    ((), [0.5, 1.5], "relu", "glorot_uniform", "rmsprop"),  # numeric target, no hidden layer
])
def test_train_builds_the_network_it_built_before(hidden, labels, activation, initializer,
                                                  optimizer):
    y = np.array(labels * 4)
    output = training.output_for(y)
    built = seeded(lambda: training.build_network(
        3, hidden, output, activation=activation, initializer=initializer,
        optimizer=optimizers.get(optimizer)))
    oracle = seeded(lambda: old_training(3, hidden, output.units, output.activation,
                                         output.loss, output.metric, activation, initializer,
                                         optimizers.get(optimizer)))
    assert_same_model(built, oracle, 3)


@pytest.mark.parametrize("overrides", [
    {"activation": "sigmoid", "depth": 3},
    {"activation": "relu", "depth": 2, "initializer": "he_normal", "width": 7},
    {"activation": "tanh", "depth": 4, "batch_norm": True},
])
def test_vanishing_lab_builds_the_network_it_built_before(overrides):
    config = vanishing.make_config(**overrides)
    built = seeded(lambda: vanishing.build_model(config, 64, 10))
    oracle = seeded(lambda: old_vanishing(config, 64, 10))
    assert_same_model(built, oracle, 64)


@pytest.mark.parametrize("config", [
    {"seed": 3, "hidden": [16, 8], "activation": "relu", "optimizer": "momentum",
     "learning_rate": 0.05},
    {"seed": 1, "hidden": [], "activation": "relu", "optimizer": "adam", "learning_rate": 0.01,
     "schedule": "cosine"},
])
def test_optimizer_lab_builds_the_network_it_built_before(config):
    built = lab_optimizers._build(config, 64, 10, total_updates=100)
    oracle = old_optimizer_lab(config, 64, 10, total_updates=100)
    assert_same_model(built, oracle, 64)


@pytest.mark.parametrize("changes", [
    {},
    {"networkShape": [5, 3, 2], "activations": ["relu", "tanh", "sigmoid"],
     "initializers": ["he_normal", "glorot_uniform", "lecun_normal"]},
    {"batchNorm": True, "dropout": 0.25, "regularization": "L2", "regularizationRate": 0.01},
    {"networkShape": [], "problem": "regression", "regularization": "L1",
     "regularizationRate": 0.003, "optimizer": "adam"},
])
def test_playground_builds_the_network_it_built_before(changes):
    config = cfg.validate(changes)
    built = seeded(lambda: trainer.build_model(config, 2))
    oracle = seeded(lambda: old_playground(config, 2))
    assert_same_model(built, oracle, 2)


def test_demo_builds_the_network_it_built_before():
    run = training.prepare("digits", test_size=0.25, seed=5, hidden=(32,))
    oracle = seeded(old_demo, 5)
    assert_same_model(run.model, oracle, 64)


# -- the builder itself ----------------------------------------------------------------------
def test_dense_stack_lays_out_the_layers_in_order():
    model = networks.dense_stack(4, [6, 5], 3, "softmax", activation=["relu", "tanh"],
                                 batch_norm=True, dropout=0.5)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "BatchNormalization", "Activation", "Dropout",
        "Dense", "BatchNormalization", "Activation", "Dropout", "Dense"]
    assert [layer.activation.name for layer in model.layers if isinstance(layer, Activation)] \
        == ["relu", "tanh"]
    model.build(4)
    assert [layer.kernel.shape for layer in model.layers if isinstance(layer, Dense)] == [
        (4, 6), (6, 5), (5, 3)]
    assert model.layers[-1].units == 3 and model.layers[-1].activation.name == "softmax"


def test_dense_stack_wants_one_name_per_hidden_layer():
    with pytest.raises(ConfigError, match=r"activation needs one name per hidden layer: 2 "
                                          r"expected, got 1 \(relu\)"):
        networks.dense_stack(4, [6, 5], 1, activation=["relu"])


@pytest.mark.parametrize(("hidden", "shown"), [
    ([60_000, 60_000], "hidden layers [60000, 60000] and"),
    ([100_000] * 1000, "hidden layers 1,000 × [100000] and"),
    ([9000, 8000, 7000] + [6000] * 20 + [5000, 4000, 3000],
     "hidden layers [9000, 8000, 7000, …, 5000, 4000, 3000] (26 layers) and"),
])
def test_a_too_large_network_is_described_in_one_readable_line(hidden, shown) -> None:
    # a sweep of 1,000 layers listed all 1,000 widths in its error
    with pytest.raises(ConfigError) as caught:
        networks.check_size(64, hidden, 10)
    message = str(caught.value)
    assert shown in message and len(message) < 220 and "\n" not in message
    assert f"{networks.count_weights(64, hidden, 10):,} weights" in message
