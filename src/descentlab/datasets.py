"""Data that needs no network: scikit-learn's bundled sets, generated 2-D sets, and files.

* ``load_digits``, ``load_iris``, ``load_wine``, ``load_breast_cancer``: scikit-learn's bundled
  copies (no download), read from scikit-learn's data files without importing scikit-learn.
* ``make_xor``, ``make_circles``, ``make_moons``, ``make_spirals``, ``make_blobs``: TensorFlow
  Playground's 2-D sets, generated from a seed and a noise level.
* ``load_csv``: a CSV file the user points to (the textbook's data sets are such files).
* ``load_idx`` / ``load_mnist``: MNIST's IDX files from a folder on disk (never downloaded).

Every loader returns ``(x, y)`` NumPy arrays: ``x`` float of shape ``(samples, features)``, ``y``
integer class labels of shape ``(samples,)`` (use ``sparse_categorical_crossentropy``, or
:func:`one_hot` for ``categorical_crossentropy``).

Sizes, counts, seeds and noise levels are checked before anything is allocated, within the
limits below (:data:`MAX_SAMPLES`, :data:`MAX_NOISE`, :data:`MAX_SEED`, :data:`MAX_CLASSES`,
:data:`MAX_ONE_HOT_VALUES`): a value outside them is a :class:`~descentlab.errors.ConfigError`
or :class:`~descentlab.errors.DataError` that names it, never a NumPy error or an attempt to
allocate terabytes.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from descentlab.errors import ConfigError, DataError, did_you_mean
from descentlab.validation import check_bool, check_float, check_int, fail

#: With ``task="auto"``, a target of whole numbers with more different values than this is a
#: quantity (a price, a year, a count), learnt by regression, not that many classes.
MAX_AUTO_CLASSES = 20
TASKS = ("auto", "classification", "regression")
#: Most samples a generated set (``make_xor``, ...) may have: 10 million points (x takes 160 MB).
MAX_SAMPLES = 10_000_000
#: Largest noise level of a generated set: at 10 the points move by a Gaussian of std 30 to 50,
#: ten times the size of the set itself (the Playground's noise is 0 to 0.5 here).
MAX_NOISE = 10.0
#: Seeds are those NumPy's ``np.random.seed`` and :func:`descentlab.set_random_seed` take.
MAX_SEED = 2**32 - 1
#: Most classes :func:`one_hot` makes.
MAX_CLASSES = 100_000
#: Most values (labels × classes) a :func:`one_hot` array may hold: 10**8, 800 MB of float64.
MAX_ONE_HOT_VALUES = 10**8


@dataclass(frozen=True)
class DatasetInfo:
    """What a loaded data set is: its size, its classes and where it came from."""

    name: str
    samples: int
    features: int
    classes: int
    description: str
    class_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    target_name: str = ""
    task: str = "classification"  # or "regression": what the target is learnt as


#: scikit-learn's copies of the sets, as files in its package (sklearn/datasets/data/): the
#: file, and whether its first line is a header ("samples,features,class names...").
_BUNDLED_FILES = {"digits": ("digits.csv.gz", False), "iris": ("iris.csv", True),
                  "wine": ("wine_data.csv", True), "breast_cancer": ("breast_cancer.csv", True)}
#: scikit-learn's own loader of each set: the way used when its file is not where it is expected.
_SKLEARN_LOADERS = {"digits": "load_digits", "iris": "load_iris", "wine": "load_wine",
                    "breast_cancer": "load_breast_cancer"}


def _bundled_file(filename: str) -> str | None:
    """The path of one of scikit-learn's bundled data files, found without importing
    scikit-learn (its import takes 1–2 s, longer than a lab's training of a population), or
    ``None`` if scikit-learn keeps it elsewhere."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package, does not run it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "datasets", "data", filename)
        if os.path.isfile(path):
            return path
    return None


def _load_bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A scikit-learn bundled set as float64 features and int64 labels (fresh arrays: the
    caller may change them; the parsed file is kept, since a lab loads it once per trial)."""
    x, y = _read_bundled(name)
    return x.copy(), y.copy()


@functools.cache
def _read_bundled(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled set read from its file as scikit-learn reads it (comma-separated numbers, the
    label last; iris, wine and breast cancer open with a header line), or through
    scikit-learn when the file is not found."""
    filename, header = _BUNDLED_FILES[name]
    path = _bundled_file(filename)
    if path is None:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, _SKLEARN_LOADERS[name])()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    opener: Callable[..., Any] = gzip.open if filename.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as stream:
        table = np.loadtxt(stream, delimiter=",", skiprows=1 if header else 0,
                           dtype=np.float64, ndmin=2)
    return np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """8×8 images of handwritten digits (1,797 samples, 64 pixels scaled to [0, 1], 10 classes)."""
    x, y = _load_bundled("digits")
    return x / 16.0, y


def _bundled_loader(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        return _load_bundled(name)

    return load


load_iris = _bundled_loader("iris")
load_iris.__doc__ = "Fisher's iris flowers (150 samples, 4 features, 3 classes); not standardised."
load_wine = _bundled_loader("wine")
load_wine.__doc__ = "Wine recognition (178 samples, 13 features, 3 classes); not standardised."
load_breast_cancer = _bundled_loader("breast_cancer")
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
    """Names of the built-in data sets: scikit-learn's bundled ones, then the generated ones."""
    return [*LOADERS, *SYNTHETIC]


def load(name: str, seed: int = 0, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A built-in data set by name (see :func:`names`); ``seed``/``noise`` for generated ones
    (checked for every name: an integer from 0 to :data:`MAX_SEED`, a number from 0 to
    :data:`MAX_NOISE`)."""
    _check_name(name)
    _check_seed(seed)
    _check_noise(noise)
    if name in LOADERS:
        return LOADERS[name]()
    if name in SYNTHETIC:
        return SYNTHETIC[name](seed=seed, noise=noise)
    raise ConfigError(f"Unknown data set {name!r}. {did_you_mean(name, names())}")


def catalog() -> list[DatasetInfo]:
    """Every built-in data set with its size (generated ones at their default size)."""
    descriptions = {
        "digits": "8x8 handwritten digit images, pixels scaled to [0, 1]",
        "iris": "Fisher's iris flowers",
        "wine": "wine recognition (chemical analysis)",
        "breast_cancer": "breast cancer Wisconsin (diagnostic)",
        "xor": "2-D XOR pattern (generated)",
        "circles": "2-D disc inside a ring (generated)",
        "moons": "2-D interleaving half moons (generated)",
        "spirals": "2-D two spirals (generated)",
        "blobs": "2-D Gaussian clusters (generated)",
    }
    infos = []
    for name in names():
        x, y = load(name)
        infos.append(DatasetInfo(name=name, samples=len(x), features=x.shape[1],
                                 classes=len(np.unique(y)), description=descriptions[name]))
    return infos


def one_hot(labels: np.ndarray, classes: int | None = None) -> np.ndarray:
    """Integer labels ``(n,)`` → one-hot rows ``(n, classes)`` of 0.0/1.0.

    ``classes`` (default: the largest label + 1) is an integer from 1 to :data:`MAX_CLASSES`
    (100,000), and the result holds at most :data:`MAX_ONE_HOT_VALUES` (10**8) values; beyond
    that, train on the integer labels with ``sparse_categorical_crossentropy`` instead.
    """
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise DataError(f"one_hot needs a 1-D array of integer labels; it could not be "
                        f"converted: {exc}.") from None
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"one_hot needs a 1-D array of integer labels; got {labels.dtype} "
                        f"of shape {labels.shape}.")
    if classes is None:
        if labels.size == 0:
            raise DataError("one_hot of an empty array needs the number of classes (classes=).")
        if labels.max() >= MAX_CLASSES:
            raise DataError(f"labels must lie in [0, {MAX_CLASSES - 1}] (one_hot makes at most "
                            f"{MAX_CLASSES:,} classes); found {labels.min()} to {labels.max()}.")
        classes = int(labels.max()) + 1
    classes = check_int(classes, "classes", low=1, high=MAX_CLASSES,
                        what=f"an integer from 1 to {MAX_CLASSES:,}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"labels must lie in [0, {classes - 1}]; found {labels.min()} to "
                        f"{labels.max()}.")
    if labels.size * classes > MAX_ONE_HOT_VALUES:
        raise DataError(f"one_hot of {labels.size:,} labels into {classes:,} classes would hold "
                        f"{labels.size * classes:,} values, more than the "
                        f"{MAX_ONE_HOT_VALUES:,} it makes; train on the integer labels with "
                        "sparse_categorical_crossentropy instead.")
    out = np.zeros((labels.size, classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale features to mean 0, std 1 using the training set's statistics only.

    Features whose sums go beyond float64 (values near 1e308) get the same statistics computed
    on the feature divided by its largest magnitude, so finite features stay finite."""
    scale = np.ones(x_train.shape[1:])
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
    overflowed = ~(np.isfinite(mean) & np.isfinite(std))
    if overflowed.any():
        scale[overflowed] = np.abs(x_train[:, overflowed]).max(axis=0)
        mean[overflowed] = (x_train[:, overflowed] / scale[overflowed]).mean(axis=0)
        std[overflowed] = (x_train[:, overflowed] / scale[overflowed]).std(axis=0)
    std[std == 0] = 1.0
    return tuple((a / scale - mean) / std for a in (x_train, *others))


def train_test_split(x: np.ndarray, y: np.ndarray, test_size: float = 0.25,
                     seed: int = 0, stratify: bool = True, name: str = "test_size",
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into training and test sets, seeded (and stratified by class for integer labels).

    ``test_size`` is a fraction in (0, 1); ``seed`` an integer from 0 to :data:`MAX_SEED`;
    ``name``: what the caller calls the fraction, in the messages (a sweep's
    ``validation_fraction``)."""
    check_float(test_size, name, low=0, high=1, low_open=True, high_open=True,
                what="a fraction in (0, 1)")
    _check_seed(seed)
    check_bool(stratify, "stratify")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise DataError(f"x and y must be arrays of samples; got shapes {x.shape} and "
                        f"{y.shape}.")
    if len(x) != len(y):
        raise DataError(f"x and y must have the same number of samples; got {len(x)} and "
                        f"{len(y)}.")
    rng = np.random.default_rng(seed)
    n = len(x)
    stratified = stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    if stratified:
        test_idx = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            test_idx.append(members[: int(round(len(members) * test_size))])
        test = np.sort(np.concatenate(test_idx))
    else:
        test = np.sort(rng.permutation(n)[: int(round(n * test_size))])
    if len(test) in (0, n):
        per_class = ", rounded class by class," if stratified else ""
        held_out = "the validation set" if "validation" in name else "the test set"
        side = held_out if len(test) == 0 else "the training set"
        raise ConfigError(f"{name}={test_size} of {n} samples{per_class} leaves {side} "
                          f"empty; give more samples, or a {name} that puts at least one sample "
                          "on each side.")
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    train = rng.permutation(np.flatnonzero(mask))
    return x[train], x[test], y[train], y[test]


# ---------------------------------------------------------------------------------------------
# TensorFlow Playground's 2-D sets
# ---------------------------------------------------------------------------------------------
# Each generator takes ``n`` samples (an integer from 2 to MAX_SAMPLES), a ``noise`` level (a
# number from 0 to MAX_NOISE) and a ``seed`` (an integer from 0 to MAX_SEED), checked before
# anything is drawn.
def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        raise fail("the data set name", "text such as 'iris' or 'xor'", name)


def _check_seed(seed: Any) -> int:
    return check_int(seed, "seed", low=0, high=MAX_SEED, what="an integer from 0 to 2**32 - 1")


def _check_noise(noise: Any) -> float:
    return check_float(noise, "noise", low=0, high=MAX_NOISE)


def _check_synthetic(n: int, noise: float, seed: int) -> None:
    check_int(n, "n (number of samples)", low=2, high=MAX_SAMPLES,
              what=f"an integer from 2 to {MAX_SAMPLES:,}")
    _check_noise(noise)
    _check_seed(seed)


def make_xor(n: int = 400, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in the square [−5, 5]², class 1 where x·y > 0 (the XOR pattern); noise shifts points
    by a Gaussian of std ``noise`` × 5 before labelling is read off the clean position."""
    _check_synthetic(n, noise, seed)
    rng = np.random.default_rng(seed)
    clean = rng.uniform(-5, 5, size=(n, 2))
    clean += np.where(clean >= 0, 0.3, -0.3)  # keep points off the axes, as the Playground does
    y = (clean[:, 0] * clean[:, 1] > 0).astype(np.int64)
    return clean + noise * 5 * rng.normal(size=(n, 2)), y


def make_circles(n: int = 400, noise: float = 0.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An inner disc (class 1, radius < 2) inside a ring (class 0, radius 3.5–5)."""
    _check_synthetic(n, noise, seed)
    rng = np.random.default_rng(seed)
    inner = n // 2
    radius = np.concatenate([rng.uniform(0, 2, inner), rng.uniform(3.5, 5, n - inner)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    y = np.concatenate([np.ones(inner, np.int64), np.zeros(n - inner, np.int64)])
    return x + noise * 5 * rng.normal(size=(n, 2)), y


def make_moons(n: int = 400, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's moons, scaled to the Playground's box)."""
    _check_synthetic(n, noise, seed)
    rng = np.random.default_rng(seed)
    upper = n // 2
    t = np.concatenate([rng.uniform(0, np.pi, upper), rng.uniform(0, np.pi, n - upper)])
    x = np.empty((n, 2))
    x[:upper, 0], x[:upper, 1] = np.cos(t[:upper]), np.sin(t[:upper])
    x[upper:, 0], x[upper:, 1] = 1 - np.cos(t[upper:]), 0.5 - np.sin(t[upper:])
    x = (x - [0.5, 0.25]) * 3
    y = np.concatenate([np.zeros(upper, np.int64), np.ones(n - upper, np.int64)])
    return x + noise * 3 * rng.normal(size=(n, 2)), y


def make_spirals(n: int = 400, noise: float = 0.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals, the hardest of the Playground's sets."""
    _check_synthetic(n, noise, seed)
    rng = np.random.default_rng(seed)
    half = n // 2
    parts, labels = [], []
    for label, count, delta in ((0, half, 0.0), (1, n - half, np.pi)):
        r = np.arange(count) / count * 5
        t = 1.75 * np.arange(count) / count * 2 * np.pi + delta
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(count, label, np.int64))
    return np.concatenate(parts) + noise * 2 * rng.normal(size=(n, 2)), np.concatenate(labels)


def make_blobs(n: int = 400, noise: float = 0.0, seed: int = 0,
               centers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around ``centers`` points on a circle of radius 3 (std 0.5 + noise·5);
    ``centers`` is an integer from 2 to ``n`` (each cluster gets at least one point)."""
    _check_synthetic(n, noise, seed)
    check_int(centers, "centers", low=2, high=n,
              what=f"an integer from 2 to n, the number of samples ({n:,})")
    rng = np.random.default_rng(seed)
    y = np.arange(n, dtype=np.int64) % centers
    angle = 2 * np.pi * y / centers + np.pi / 4
    x = np.stack([3 * np.cos(angle), 3 * np.sin(angle)], axis=1)
    return x + (0.5 + noise * 5) * rng.normal(size=(n, 2)), y


SYNTHETIC: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "xor": make_xor,
    "circles": make_circles,
    "moons": make_moons,
    "spirals": make_spirals,
    "blobs": make_blobs,
}


# ---------------------------------------------------------------------------------------------
# Files on disk
# ---------------------------------------------------------------------------------------------
def load_csv(path: str | os.PathLike[str], target: str | int = -1, header: bool | None = None,
             standardize_features: bool = False, task: str | None = None,
             ) -> tuple[np.ndarray, np.ndarray, DatasetInfo]:
    """A CSV file as ``(x, y, info)``.

    Args:
        path: the file.
        target: the label column, by name (needs a header) or by index (negative counts from
            the end; default: the last column).
        header: whether the first row holds column names; ``None`` guesses: it does when one
            of its cells is text above a column of numbers (``sepal_length`` over ``5.1``) or
            when all of its cells are text, so a header-less file with text labels
            (``5.1,3.5,1.4,0.2,Iris-setosa``) keeps its first row.
        standardize_features: scale each feature to mean 0, std 1.
        task: what the target is. ``None``: text and whole numbers are classes, other numbers
            a regression target. ``"auto"``: the same, except that whole numbers with more
            than :data:`MAX_AUTO_CLASSES` different values (prices, years) are a regression
            target. ``"classification"``: every different value is a class (fractional numbers
            are refused). ``"regression"``: numbers as they are (text is refused).

    String labels (``Iris-setosa``) become integer codes in sorted order (``info.class_names``);
    numeric class labels that are whole numbers are kept as integers.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"CSV file {path!r} does not exist (or is not a file).")
    return _read_table(lambda: path, repr(path), os.path.basename(path), f"CSV file {path}",
                       target, header, standardize_features, task)


def parse_csv(text: str, name: str = "data.csv", target: str | int = -1,
              header: bool | None = None, standardize_features: bool = False,
              ) -> tuple[np.ndarray, np.ndarray, DatasetInfo]:
    """CSV *text* (an upload held in memory, never written to disk) as ``(x, y, info)``, read
    exactly as :func:`load_csv` reads a file; ``name`` only labels messages and ``info``."""
    import io

    if not isinstance(text, str):
        raise DataError(f"CSV text must be a string; got {type(text).__name__}.")
    return _read_table(lambda: io.StringIO(text), repr(name), name, f"uploaded CSV {name}",
                       target, header, standardize_features)


def _read_table(open_source: Callable[[], Any], label: str, name: str, description: str,
                target: str | int, header: bool | None, standardize_features: bool,
                task: str | None = None) -> tuple[np.ndarray, np.ndarray, DatasetInfo]:
    """The reading and checking behind :func:`load_csv` and :func:`parse_csv`; ``label`` names
    the source in messages."""
    import pandas as pd

    if task is not None and task not in TASKS:
        raise ConfigError(f"Unknown task {task!r}. {did_you_mean(str(task), list(TASKS))}")
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (str, int, np.integer)):
        raise fail("target", "a column name or index such as 'species' or -1", target)
    if header is not None:
        check_bool(header, "header")
    check_bool(standardize_features, "standardize_features")
    try:
        if header is None:
            head = pd.read_csv(open_source(), header=None, nrows=100, dtype=str,
                               keep_default_na=False)
            numeric = head.apply(lambda column: pd.to_numeric(column, errors="coerce")).notna()
            first, rest = ~numeric.iloc[0], numeric.iloc[1:]
            header = bool(first.all() or (first & rest.all()).any())
        frame = pd.read_csv(open_source(), header=0 if header else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{label} cannot be read as CSV: {exc}".rstrip()) from None
    if not frame.index.equals(pd.RangeIndex(len(frame))):  # pandas took column 0 as the index
        raise DataError(f"{label} has more fields in its rows than names in its header; "
                        "remove the extra (often trailing) commas.")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if len(frame) == 0:
        raise DataError(f"{label} has no data rows.")
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        if target not in columns:
            raise DataError(f"{label} has no column {target!r}; its columns are "
                            f"{', '.join(columns)}.")
        target_name = target
    else:
        index = int(target)
        if not -len(columns) <= index < len(columns):
            raise DataError(f"target column index {index} does not exist: {label} has "
                            f"{len(columns)} columns (valid: 0 to {len(columns) - 1}, or -1 "
                            "for the last).")
        target_name = columns[index]
    if len(columns) < 2:
        raise DataError(f"{label} has only one column; it needs features and a target.")
    features = frame.drop(columns=[target_name])
    for column_name in features.columns:
        if not pd.api.types.is_numeric_dtype(features[column_name]):
            column = features[column_name]
            # As text: pandas' reader keeps whole numbers beyond 64 bits as Python integers,
            # which to_numeric cannot take (OverflowError), but their digits it reads (as ±inf
            # beyond float64).
            as_numbers = pd.to_numeric(column.astype(str), errors="coerce")
            sample = column[column.notna() & as_numbers.isna()]
            if sample.empty:  # all numbers, as such integers are: a numeric feature
                features[column_name] = as_numbers.astype(np.float64)
                continue
            raise DataError(f"feature column {column_name!r} of {label} is not numeric (e.g. "
                            f"{sample.iloc[0]!r} in row {sample.index[0] + 1}); encode it first.")
    missing = features.isna().to_numpy()
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise DataError(f"{label} has an empty or NaN cell in column {features.columns[col]!r}, "
                        f"row {row + 1}; fill or drop such rows first.")
    labels = frame[target_name]
    if labels.isna().any():
        raise DataError(f"target column {target_name!r} of {label} has empty cells (row "
                        f"{int(np.flatnonzero(labels.isna().to_numpy())[0]) + 1}).")
    # ±inf (written "inf", or a number beyond float64 such as 1e309) is reported at its row in
    # the file, before any shuffling can move it.
    numeric = features.copy()
    if pd.api.types.is_numeric_dtype(labels):
        numeric[target_name] = labels
    infinite = np.isinf(numeric.to_numpy(dtype=np.float64))
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(f"{label} has an infinite value in column {numeric.columns[col]!r}, "
                        f"row {row + 1}; replace or drop it first.")
    whole = pd.api.types.is_numeric_dtype(labels) and bool(np.all(np.mod(labels.to_numpy(),
                                                                         1) == 0))
    if pd.api.types.is_numeric_dtype(labels) and task == "classification" and not whole:
        example = labels[np.mod(labels.to_numpy(), 1) != 0].iloc[0]
        raise DataError(f"target column {target_name!r} of {label} holds fractional numbers "
                        f"(e.g. {example:g}); with task 'classification' its values must be "
                        "class labels.")
    if whole and not bool(np.all(np.abs(labels.to_numpy(dtype=np.float64)) < 2.0**63)):
        # Whole numbers beyond the 64-bit integers (1e300) are quantities, not class labels.
        if task == "classification":
            example = labels[np.abs(labels.to_numpy(dtype=np.float64)) >= 2.0**63].iloc[0]
            raise DataError(f"target column {target_name!r} of {label} holds numbers too large "
                            f"for class labels (e.g. {example:g}); with task 'classification' "
                            "its values must be class labels.")
        whole = False
    if not pd.api.types.is_numeric_dtype(labels) and task == "regression":
        raise DataError(f"target column {target_name!r} of {label} holds text; with task "
                        "'regression' it must hold numbers.")
    many = whole and labels.nunique() > MAX_AUTO_CLASSES
    if whole and not (task == "regression" or (task == "auto" and many)):
        y = labels.to_numpy().astype(np.int64)
        class_names = [str(v) for v in np.unique(y)]  # '1', not '1.0', for a column of 1.0
    elif pd.api.types.is_numeric_dtype(labels):
        y = labels.to_numpy(dtype=np.float64)  # a regression target
        class_names = []
    else:
        class_names = sorted(str(v) for v in labels.unique())
        codes = {name: i for i, name in enumerate(class_names)}
        y = np.array([codes[str(v)] for v in labels], dtype=np.int64)
    if class_names and len(class_names) < 2:
        raise DataError(f"target column {target_name!r} of {label} holds a single class "
                        f"({class_names[0]!r}); a classifier needs at least two.")
    x = features.to_numpy(dtype=np.float64)
    if standardize_features:
        (x,) = standardize(x)
    info = DatasetInfo(name=name, samples=len(x), features=x.shape[1],
                       classes=len(class_names), description=description,
                       class_names=class_names, feature_names=list(features.columns),
                       target_name=target_name,
                       task="classification" if class_names else "regression")
    return x, y, info


def csv_target(data: str, target: Any, flag: str = "") -> str:
    """The target column to read from ``data``: ``"-1"`` (the last) when ``target`` is None or
    "-1"; a column named for a built-in set, which has its own labels, is refused rather than
    ignored. ``flag`` prefixes the setting names in the message (``"--"`` on the command line)."""
    if target is None or str(target) == "-1":
        return "-1"
    if data in names():
        raise ConfigError(f"{flag}target picks the target column of a CSV file; {flag}data "
                          f"{data!r} is a built-in set with its own labels (drop {flag}target).")
    return str(target)


def load_any(spec: str, seed: int = 0, noise: float = 0.0, target: str | int = -1,
             standardize_features: bool = False, what: str = "", task: str | None = None,
             ) -> tuple[np.ndarray, np.ndarray, str]:
    """A built-in data set by name, or a CSV file by path: ``(x, y, description)``.

    ``what`` prefixes the error for a spec that is neither (the CLI passes ``"--data "``);
    ``task`` is :func:`load_csv`'s (the built-in sets are all classification).
    """
    if not isinstance(spec, (str, os.PathLike)):
        raise fail(f"{what or 'the data'}".strip(), "a built-in data set's name or a CSV path",
                   spec)
    spec = os.fspath(spec)
    if spec in names():
        return *load(spec, seed=seed, noise=noise), spec
    if os.path.splitext(spec)[1].lower() in (".csv", ".txt") or os.path.exists(spec):
        x, y, info = load_csv(spec, target=target, standardize_features=standardize_features,
                              task=task)
        return x, y, f"{info.name} ({info.samples} rows, {info.features} features)"
    raise DataError(f"{what}{spec!r} is neither a built-in data set nor a CSV file. "
                    f"{did_you_mean(spec, names())}")


def load_classification(spec: str, seed: int = 0, target: str | int = -1,
                        ) -> tuple[np.ndarray, np.ndarray, str]:
    """:func:`load_any`, ready for a classifier: ``y`` integer classes 0..K−1.

    CSV features are standardised (the labs' networks expect features of unit scale; the
    bundled sets are already scaled); class labels are renumbered 0..K−1 in sorted order.
    """
    x, y, description = load_any(spec, seed=seed, target=target, standardize_features=True)
    if not np.issubdtype(np.asarray(y).dtype, np.integer):
        raise DataError(f"{description} has a numeric (regression) target; the labs need "
                        "class labels.")
    classes, y = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"{description} holds a single class; a classifier needs two or more.")
    return np.asarray(x, dtype=np.float64), y.astype(np.int64), description


_IDX_TYPES: dict[int, np.dtype] = {
    code: np.dtype(name) for code, name in
    {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.items()}


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """An array from an IDX file (MNIST's format; ``.gz`` compressed or not).

    Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
    dimension, then the values in row-major order.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"IDX file {path!r} does not exist.")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path!r} cannot be read: {exc}.") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"{path!r} is not an IDX file (bad magic number).")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DataError(f"{path!r} is truncated (header cut short).")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[data[2]]
    expected = math.prod(shape) * dtype.itemsize  # Python's integers: no overflow
    if len(data) - offset != expected:
        raise DataError(f"{path!r} is truncated or too long: the header announces shape "
                        f"{shape} ({expected} bytes of data), the file holds "
                        f"{len(data) - offset}.")
    values = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def load_mnist(folder: str | os.PathLike[str], kind: str = "train"
               ) -> tuple[np.ndarray, np.ndarray]:
    """MNIST from its four IDX files in ``folder`` (as downloaded by the user; plain or ``.gz``).

    Returns ``x`` of shape ``(n, 784)`` scaled to [0, 1] and integer labels ``y``.
    ``kind`` is ``"train"`` or ``"t10k"`` (the test set).
    """
    if kind not in ("train", "t10k"):
        raise ConfigError(f"kind must be 'train' or 't10k'; got {kind!r}.")
    folder = os.fspath(folder)

    def find(stem: str) -> str:
        for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        raise DataError(f"{folder!r} has no file {stem!r} (nor {stem}.gz).")

    images = load_idx(find(f"{kind}-images-idx3-ubyte"))
    labels = load_idx(find(f"{kind}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"MNIST files in {folder!r} disagree: images {images.shape}, labels "
                        f"{labels.shape}.")
    return images.reshape(len(images), -1).astype(np.float64) / 255.0, labels.astype(np.int64)
