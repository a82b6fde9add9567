"""Data sets that need no network: scikit-learn's bundled sets, ready for a Dense network.

Every loader returns ``(x, y)`` NumPy arrays: ``x`` float of shape ``(samples, features)``, ``y``
integer class labels of shape ``(samples,)`` (use ``sparse_categorical_crossentropy``, or
:func:`one_hot` for ``categorical_crossentropy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from descentlab.errors import ConfigError, DataError, did_you_mean


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    samples: int
    features: int
    classes: int
    description: str


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """8×8 images of handwritten digits (1,797 samples, 64 pixels scaled to [0, 1], 10 classes)."""
    from sklearn.datasets import load_digits as sk_load

    bunch = sk_load()
    return (bunch.data / 16.0).astype(np.float64), bunch.target.astype(np.int64)


def _sklearn(loader_name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64)

    return load


load_iris = _sklearn("load_iris")
load_iris.__doc__ = "Fisher's iris flowers (150 samples, 4 features, 3 classes); not standardised."
load_wine = _sklearn("load_wine")
load_wine.__doc__ = "Wine recognition (178 samples, 13 features, 3 classes); not standardised."
load_breast_cancer = _sklearn("load_breast_cancer")
load_breast_cancer.__doc__ = (
    "Breast cancer Wisconsin (569 samples, 30 features, 2 classes); not standardised."
)

LOADERS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def names() -> list[str]:
    return list(LOADERS)


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A built-in data set by name (see :func:`names`)."""
    try:
        loader = LOADERS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"Unknown data set {name!r}. {did_you_mean(name, names())}") from None
    return loader()


def one_hot(labels: np.ndarray, classes: int | None = None) -> np.ndarray:
    """Integer labels ``(n,)`` → one-hot rows ``(n, classes)`` of 0.0/1.0."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"one_hot needs a 1-D array of integer labels; got {labels.dtype} "
                        f"of shape {labels.shape}.")
    classes = int(labels.max()) + 1 if classes is None else classes
    if labels.min() < 0 or labels.max() >= classes:
        raise DataError(f"labels must lie in [0, {classes - 1}]; found {labels.min()} to "
                        f"{labels.max()}.")
    return np.eye(classes)[labels]


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale features to mean 0, std 1 using the training set's statistics only."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    return tuple((a - mean) / std for a in (x_train, *others))


def train_test_split(x: np.ndarray, y: np.ndarray, test_size: float = 0.25,
                     seed: int = 0, stratify: bool = True
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into training and test sets, seeded (and stratified by class for integer labels)."""
    if not 0 < test_size < 1:
        raise ConfigError(f"test_size must be a fraction in (0, 1); got {test_size!r}.")
    rng = np.random.default_rng(seed)
    n = len(x)
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        test_idx = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            test_idx.append(members[: int(round(len(members) * test_size))])
        test = np.sort(np.concatenate(test_idx))
    else:
        test = np.sort(rng.permutation(n)[: int(round(n * test_size))])
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    train = rng.permutation(np.flatnonzero(mask))
    return x[train], x[test], y[train], y[test]
