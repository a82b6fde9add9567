"""The playground's data: TensorFlow Playground's six 2-D sets, its input features, and CSV uploads.

The generators follow TF Playground's ``dataset.ts`` formula by formula (the same shapes, ranges,
noise and label rules), drawn from a NumPy generator seeded by the configuration's ``seed``
instead of the browser's ``Math.random``: the same seed gives the same points on every machine.

Classification labels are 0 (TF's −1, orange) and 1 (TF's +1, blue), for a sigmoid output and
binary cross-entropy; regression targets lie in about [−1, 1], for a linear output and MSE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from descentlab import datasets
from descentlab.errors import DataError
from descentlab.playground.config import PlaygroundError, features

#: TF Playground's numbers of points and its input box.
SAMPLES_CLASSIFY = 500
SAMPLES_REGRESS = 1200
DOMAIN = (-6.0, 6.0)

#: The input features: name → (label shown on the page, f(x₁, x₂)).
FEATURE_FUNCTIONS = {
    "x": ("x₁", lambda a, b: a),
    "y": ("x₂", lambda a, b: b),
    "xSquared": ("x₁²", lambda a, b: a * a),
    "ySquared": ("x₂²", lambda a, b: b * b),
    "xTimesY": ("x₁x₂", lambda a, b: a * b),
    "sinX": ("sin(x₁)", lambda a, b: np.sin(a)),
    "sinY": ("sin(x₂)", lambda a, b: np.sin(b)),
    "cosX": ("cos(x₁)", lambda a, b: np.cos(a)),
    "cosY": ("cos(x₂)", lambda a, b: np.cos(b)),
}


@dataclass
class Points:
    """2-D points (``xy``, shape (n, 2)) with their labels or targets (``label``, shape (n,))."""

    xy: np.ndarray
    label: np.ndarray


@dataclass
class Upload:
    """A CSV the page sent: two feature columns rescaled into the playground's box."""

    name: str
    points: Points
    columns: list[str]
    x1: str
    x2: str
    target: str
    classes: list[str] | None  # None: a regression target


# -- TF Playground's generators ------------------------------------------------------------------
def circle(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Class 1 inside radius 2.5, class 0 in the ring 3.5–5; labels read at the noisy position."""
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half),
                        rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    shifted = xy + rng.uniform(-radius, radius, (n, 2)) * noise
    label = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(np.int64)
    return Points(xy, label)


def xor(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Uniform in [−5, 5]² pushed 0.3 off the axes; class 1 where x₁·x₂ ≥ 0 (at the noisy point)."""
    xy = rng.uniform(-5, 5, (n, 2))
    xy += np.where(xy > 0, 0.3, -0.3)
    shifted = xy + rng.uniform(-5, 5, (n, 2)) * noise
    label = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return Points(xy, label)


def gauss(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Two Gaussians at (2, 2) (class 1) and (−2, −2) (class 0); variance 0.5 → 4 as noise grows."""
    variance = 0.5 + noise / 0.5 * 3.5
    half = n // 2
    centres = np.concatenate([np.full((half, 2), 2.0), np.full((n - half, 2), -2.0)])
    xy = centres + np.sqrt(variance) * rng.standard_normal((n, 2))
    label = np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])
    return Points(xy, label)


def spiral(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Two interleaved spirals (class 1 and, turned by π, class 0)."""
    half = n // 2
    parts, labels = [], []
    for delta, label, count in ((0.0, 1, half), (np.pi, 0, n - half)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        parts.append(xy + rng.uniform(-1, 1, (count, 2)) * noise)
        labels.append(np.full(count, label, np.int64))
    return Points(np.concatenate(parts), np.concatenate(labels))


def reg_plane(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Target (x₁ + x₂)/10 over [−6, 6]², read at a noisy position."""
    xy = rng.uniform(-6, 6, (n, 2))
    shifted = xy + rng.uniform(-6, 6, (n, 2)) * noise
    return Points(xy, (shifted[:, 0] + shifted[:, 1]) / 10.0)


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                       [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def reg_gauss(n: int, noise: float, rng: np.random.Generator) -> Points:
    """Six bumps of ±1 falling to 0 at distance 2; the largest in absolute value wins."""
    xy = rng.uniform(-6, 6, (n, 2))
    shifted = xy + rng.uniform(-6, 6, (n, 2)) * noise
    distance = np.hypot(shifted[:, None, 0] - _GAUSSIANS[:, 0],
                        shifted[:, None, 1] - _GAUSSIANS[:, 1])
    bumps = _GAUSSIANS[:, 2] * np.clip(1 - distance / 2, 0, 1)
    pick = np.argmax(np.abs(bumps), axis=1)
    return Points(xy, bumps[np.arange(n), pick])


GENERATORS = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral,
              "reg-plane": reg_plane, "reg-gauss": reg_gauss}


# -- the split and the features -----------------------------------------------------------------
@dataclass
class Split:
    train: Points
    test: Points


def make(config: dict, upload: Upload | None = None) -> Split:
    """The configuration's data, shuffled with its seed and split into train and test."""
    rng = np.random.default_rng(config["seed"])
    classification = config["problem"] == "classification"
    name = config["dataset"] if classification else config["regDataset"]
    if name == "csv":
        if upload is None:
            raise PlaygroundError("No CSV file has been uploaded yet; choose one first.",
                                  "dataset")
        if (upload.classes is None) == classification:
            kind = "a regression target" if upload.classes is None else "two classes"
            raise PlaygroundError(
                f"The uploaded file's label column {upload.target!r} holds {kind}; switch the "
                "problem type to match, or choose another label column.", "problem")
        points = upload.points
    else:
        n = SAMPLES_CLASSIFY if classification else SAMPLES_REGRESS
        points = GENERATORS[name](n, config["noise"] / 100.0, rng)
    order = rng.permutation(len(points.label))
    cut = int(len(order) * config["percTrainData"] / 100.0)
    if cut < 1 or cut >= len(order):
        raise PlaygroundError(
            f"percTrainData {config['percTrainData']} leaves no training or no test points "
            f"out of {len(order)}.", "percTrainData")
    train, test = order[:cut], order[cut:]
    return Split(Points(points.xy[train], points.label[train]),
                 Points(points.xy[test], points.label[test]))


def feature_matrix(config: dict, xy: np.ndarray) -> np.ndarray:
    """The network's input: one column per feature switched on, in TF Playground's order."""
    a, b = xy[:, 0], xy[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name][1](a, b) for name in features(config)], axis=1)


def grid(n: int) -> np.ndarray:
    """An n×n grid over the box, row 0 at the top (x₂ = max), column 0 on the left (x₁ = min)."""
    axis = np.linspace(DOMAIN[0], DOMAIN[1], n)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


# -- uploads -----------------------------------------------------------------------------------
def _column(columns: list[str], choice: str | int | None, default: int, what: str) -> int:
    if choice is None:
        return default
    if isinstance(choice, bool):
        raise PlaygroundError(f"{what} must be a column name or index; got {choice!r}.", what)
    if isinstance(choice, int):
        if not -len(columns) <= choice < len(columns):
            raise PlaygroundError(f"{what} column {choice} does not exist; the file has "
                                  f"{len(columns)} columns: {', '.join(columns)}.", what)
        return choice % len(columns)
    if choice not in columns:
        raise PlaygroundError(f"{what} column {choice!r} is not in the file; its columns are "
                              f"{', '.join(columns)}.", what)
    return columns.index(choice)


def parse_upload(name: str, text: str, x1: str | int | None = None, x2: str | int | None = None,
                 label: str | int | None = None) -> Upload:
    """An uploaded CSV, read in memory by the engine's CSV reader: two numeric columns become
    x₁ and x₂ (linearly rescaled into [−5, 5], so the features and the heatmap's box fit), a
    third is the label (two classes: classification; many numbers: regression)."""
    if len(text.encode("utf-8")) > (1 << 20):
        raise PlaygroundError("The CSV file is larger than 1 MiB; the playground takes small "
                              "data sets (a few thousand rows at most).", "upload")
    try:
        x_all, y, info = datasets.parse_csv(text, name=name,
                                            target=-1 if label is None else label)
    except DataError as exc:
        raise PlaygroundError(str(exc), "upload") from None
    columns = info.feature_names
    if len(columns) < 2 and x1 is None:
        raise PlaygroundError(f"{name!r} needs at least two numeric feature columns besides the "
                              "label.", "upload")
    i1 = _column(columns, x1, 0, "x1")
    i2 = _column(columns, x2, 1 if len(columns) > 1 else 0, "x2")
    if len(y) > 2000:
        raise PlaygroundError(f"{name!r} has {len(y)} rows; the playground draws at most 2000.",
                              "upload")
    xy = x_all[:, [i1, i2]].astype(np.float64)
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    xy = (xy - low) / span * 10.0 - 5.0
    if info.class_names:
        if len(info.class_names) != 2:
            raise PlaygroundError(
                f"The label column of {name!r} has {len(info.class_names)} classes "
                f"({', '.join(info.class_names[:6])}…); the playground draws two. Choose a "
                "two-valued column as the label.", "label")
        values = np.unique(y)
        labels = (y == values[1]).astype(np.int64)
        classes: list[str] | None = list(info.class_names)
    else:
        target = y.astype(np.float64)
        scale = max(float(np.max(np.abs(target))), 1e-12)
        labels, classes = target / scale, None  # regression targets in [−1, 1]
    return Upload(name=name, points=Points(xy, labels), columns=[*columns, info.target_name],
                  x1=columns[i1], x2=columns[i2], target=info.target_name, classes=classes)
