"""Train a Dense network chosen by name: what ``descentlab train`` does, as a function.

:func:`prepare` loads the data, splits it, and builds and compiles the network whose output
layer follows the target (:func:`output_for`); the caller prints the summary, calls ``fit`` and
:meth:`Training.evaluate`. Everything here goes through the engine's public API, so the same
run written by hand — ``Sequential``, ``Dense``, ``compile``, ``fit`` — gives the same weights.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab import datasets, optimizers
from descentlab.errors import ConfigError
from descentlab.lab.networks import dense_stack
from descentlab.models import Sequential


@dataclass(frozen=True)
class Output:
    """The output layer and loss a target calls for, and the metric reported on the test set."""

    units: int
    activation: str
    loss: str
    metric: str


def output_for(y: np.ndarray, description: str = "the data") -> Output:
    """Sigmoid + binary cross-entropy for 2 classes, softmax + sparse categorical
    cross-entropy for more, linear + mse for a numeric (non-integer) target. Class labels
    must be 0..K−1 (:func:`renumber_classes`)."""
    if not np.issubdtype(y.dtype, np.integer):
        return Output(1, "linear", "mse", "mae")
    classes = int(y.max()) + 1
    if classes < 2:
        raise ConfigError(f"{description} has a single class; nothing to classify.")
    if classes == 2:
        return Output(1, "sigmoid", "binary_crossentropy", "accuracy")
    return Output(classes, "softmax", "sparse_categorical_crossentropy", "accuracy")


def renumber_classes(y: np.ndarray) -> np.ndarray:
    """Class labels as 0..K−1 in sorted order (labels {1, 2} → {0, 1}; {0, 20000000} → {0, 1}):
    the output layer then has one unit per class that occurs, not max(y) + 1."""
    _, codes = np.unique(y, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def with_learning_rate(optimizer: str, learning_rate: float | None = None
                       ) -> optimizers.Optimizer:
    """The optimizer of that name with its defaults, and ``learning_rate`` if one is given."""
    chosen = optimizers.get(optimizer)
    if learning_rate is None:
        return chosen
    config = optimizers.serialize(chosen)
    config["config"]["learning_rate"] = learning_rate
    return optimizers.deserialize(config)


def build_network(features: int, hidden: Sequence[int], output: Output, *,
                  activation: str = "relu", initializer: str = "glorot_uniform",
                  optimizer: str | optimizers.Optimizer = "adam") -> Sequential:
    """``Dense(units, activation, kernel_initializer)`` per hidden width, then the output layer,
    compiled with ``optimizer`` and the output's loss and metric."""
    model = dense_stack(features, hidden, output.units, output.activation,
                        activation=activation, kernel_initializer=initializer)
    model.compile(optimizer=optimizer, loss=output.loss, metrics=[output.metric])
    return model


def check_save_path(path: str, flag: str = "--save") -> str:
    """Fail now, not after training, when a model cannot be saved at ``path``: an empty path,
    a folder, or a place that cannot be written (its folder is created if missing, as Keras'
    ``model.save`` does). ``flag`` names the option in the message."""
    from descentlab.lab.results import prepare_folder

    if not path:
        raise ConfigError(f"{flag} needs a file path; got an empty one.")
    if os.path.isdir(path):
        raise ConfigError(f"{flag} {path!r} is a folder; give a file name such as "
                          f"{os.path.join(path, 'model.dlab')!r}.")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        prepare_folder(folder, what="folder", flag=flag)
    except ConfigError as exc:
        raise ConfigError(f"{flag} {path!r} cannot be written: {exc}") from None
    return path


@dataclass
class Training:
    """A compiled network and the data it trains and is tested on."""

    model: Sequential
    description: str
    output: Output
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    note: str = ""  # how the target was read, when that was a choice (else empty)

    def fit(self, **kwargs: Any) -> Any:
        """``model.fit`` on the training split (``epochs``, ``batch_size``, … as keywords)."""
        return self.model.fit(self.x_train, self.y_train, **kwargs)

    def evaluate(self) -> tuple[float, float]:
        """(test loss, test metric) on the held-out split."""
        loss, metric = self.model.evaluate(self.x_test, self.y_test, verbose=0)
        return float(loss), float(metric)


def prepare(data: str = "digits", *, target: str = "-1", noise: float = 0.0,
            standardize: bool = False, test_size: float = 0.2, seed: int = 0,
            hidden: Sequence[int] = (12, 8), activation: str = "relu",
            initializer: str = "glorot_uniform", optimizer: str = "adam",
            learning_rate: float | None = None, task: str = "auto",
            what: str = "") -> Training:
    """Seed everything, load ``data`` (a built-in name or a CSV path), split off
    ``test_size`` (stratified for classes) and build the network for its target. ``task``
    is :func:`descentlab.datasets.load_csv`'s: with ``"auto"`` a CSV target of many
    different whole numbers (prices, years) is learnt by regression. ``what`` names the data
    in an error (the CLI passes ``"--data "``)."""
    import descentlab as dl

    dl.set_random_seed(seed)
    x, y, description = datasets.load_any(data, seed=seed, noise=noise, target=target,
                                          what=what, task=task)
    note = ""
    if task == "auto" and not np.issubdtype(y.dtype, np.integer) and np.all(y % 1 == 0):
        note = (f"the target holds {len(np.unique(y))} different whole numbers: regression "
                "(task 'classification' to classify)")
    if np.issubdtype(y.dtype, np.integer):
        y = renumber_classes(y)
    if standardize:
        (x,) = datasets.standardize(x)
    output = output_for(y, description)
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, y, test_size=test_size, seed=seed, stratify=output.metric == "accuracy")
    model = build_network(x.shape[1], hidden, output, activation=activation,
                          initializer=initializer,
                          optimizer=with_learning_rate(optimizer, learning_rate))
    return Training(model, description, output, x_train, x_test, y_train, y_test, note)
