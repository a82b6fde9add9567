"""datasets: scikit-learn's bundled sets, the generated 2-D sets, and files the tests write.

Oracles: scikit-learn's own arrays for the bundled sets, the geometry each generator promises
(at noise 0), pandas for the textbook's CSV files, and hand-built IDX bytes for MNIST's format.
Nothing here touches the network.
"""

import contextlib
import gzip
import os
import re
import resource
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sklearn.datasets

from descentlab import datasets
from descentlab.errors import ConfigError, DataError

BOOK_DATA = os.path.join(os.path.dirname(__file__), "data")  # the textbook's CSV files
GENERATED = list(datasets.SYNTHETIC)
BUNDLED = {"iris": ("load_iris", 3), "wine": ("load_wine", 3),
           "breast_cancer": ("load_breast_cancer", 2)}


# ---------------------------------------------------------------------------------------------
# scikit-learn's bundled sets
# ---------------------------------------------------------------------------------------------
def test_digits_are_sklearns_pixels_divided_by_16():
    x, y = datasets.load_digits()
    bunch = sklearn.datasets.load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x, bunch.data / 16.0)
    np.testing.assert_array_equal(y, bunch.target)


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_sets_are_sklearns_unscaled(name):
    loader, classes = BUNDLED[name]
    bunch = getattr(sklearn.datasets, loader)()
    x, y = datasets.load(name)
    assert x.shape == bunch.data.shape and y.shape == bunch.target.shape
    np.testing.assert_array_equal(x, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    assert y.dtype == np.int64 and len(np.unique(y)) == classes


def test_bundled_sets_load_without_importing_sklearn():
    # Importing scikit-learn takes 1–2 s, longer than a lab trains a population: the loaders
    # read its files directly (the arrays are held to scikit-learn's own loaders above).
    code = ("import sys; from descentlab import datasets\n"
            "for name in ('digits', 'iris', 'wine', 'breast_cancer'):\n"
            "    datasets.load(name)\n"
            "print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_sets_fall_back_to_sklearns_loader(name, monkeypatch):
    # Where scikit-learn keeps its files elsewhere, its loader gives the same arrays.
    monkeypatch.setattr(datasets, "_bundled_file", lambda filename: None)
    datasets._read_bundled.cache_clear()  # (read again, the other way; cleared after)
    monkeypatch.setattr(datasets, "_read_bundled",
                        datasets._read_bundled.__wrapped__)
    loader, _ = BUNDLED[name]
    bunch = getattr(sklearn.datasets, loader)()
    x, y = datasets.load(name)
    scale = 16.0 if name == "digits" else 1.0
    np.testing.assert_array_equal(x, bunch.data / scale)
    np.testing.assert_array_equal(y, bunch.target)
    assert x.dtype == np.float64 and y.dtype == np.int64


def test_a_loaded_set_is_the_callers_to_change():
    x, y = datasets.load("iris")
    x[:] = 0.0
    y[:] = -1
    again_x, again_y = datasets.load("iris")
    assert again_x.max() > 0 and again_y.min() == 0

# ---------------------------------------------------------------------------------------------
# Generated 2-D sets
# ---------------------------------------------------------------------------------------------
def generate(name, **kwargs):
    return datasets.SYNTHETIC[name](**kwargs)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_shape_and_binary_labels(name):
    x, y = generate(name, n=301, noise=0.1, seed=3)
    assert x.shape == (301, 2) and x.dtype == np.float64 and np.isfinite(x).all()
    assert y.shape == (301,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize("name", ["circles", "moons", "spirals", "blobs"])
def test_generated_classes_are_balanced_by_design(name):
    _, y = generate(name, n=301)
    assert sorted(np.bincount(y)) == [150, 151]


def test_xor_is_roughly_balanced():
    _, y = datasets.make_xor(n=2000, seed=1)
    assert abs(y.mean() - 0.5) < 0.05  # four equal quadrants, two per class


def test_blobs_with_more_centers_has_one_balanced_class_per_center():
    x, y = datasets.make_blobs(n=301, centers=3)
    assert x.shape == (301, 2)
    assert np.bincount(y).tolist() == [101, 100, 100]


@pytest.mark.parametrize("name", GENERATED)
def test_generated_is_deterministic_for_a_seed_and_differs_across_seeds(name):
    x1, y1 = generate(name, noise=0.1, seed=7)
    x2, y2 = generate(name, noise=0.1, seed=7)
    x3, _ = generate(name, noise=0.1, seed=8)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(x1, x3)


@pytest.mark.parametrize("name", GENERATED)
def test_noise_moves_points_but_keeps_their_labels(name):
    x_clean, y_clean = generate(name, noise=0.0, seed=5)
    x_noisy, y_noisy = generate(name, noise=0.2, seed=5)
    np.testing.assert_array_equal(y_clean, y_noisy)
    shift = np.abs(x_noisy - x_clean)
    assert shift.mean() > 0.1


def test_xor_noise_is_gaussian_with_std_five_times_noise():
    x_clean, _ = datasets.make_xor(n=20000, noise=0.0, seed=2)
    x_noisy, _ = datasets.make_xor(n=20000, noise=0.1, seed=2)
    assert (x_noisy - x_clean).std() == pytest.approx(0.5, rel=0.02)


def test_clean_xor_labels_are_the_sign_of_x_times_y():
    x, y = datasets.make_xor(n=1000, noise=0.0, seed=4)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(int))
    # kept off the axes (by 0.3, as the Playground does) and inside the box
    assert np.abs(x).min() >= 0.3 and np.abs(x).max() <= 5.3


def test_clean_circles_are_a_disc_inside_a_ring():
    x, y = datasets.make_circles(n=1000, noise=0.0, seed=4)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[y == 1].max() < 2.0
    assert radius[y == 0].min() >= 3.5 and radius[y == 0].max() <= 5.0


def test_clean_moons_lie_on_sklearns_two_half_circles():
    x, y = datasets.make_moons(n=1000, noise=0.0, seed=4)
    u, v = (x / 3 + [0.5, 0.25]).T  # undo the scaling into the Playground's box
    upper, lower = y == 0, y == 1
    np.testing.assert_allclose(u[upper] ** 2 + v[upper] ** 2, 1.0)
    np.testing.assert_allclose((u[lower] - 1) ** 2 + (v[lower] - 0.5) ** 2, 1.0)
    assert v[upper].min() >= -1e-12 and v[lower].max() <= 0.5 + 1e-12
    # the same curves as scikit-learn's moons (outer = class 0, inner = class 1)
    sk_x, sk_y = sklearn.datasets.make_moons(n_samples=1000, noise=0.0)
    np.testing.assert_allclose(sk_x[sk_y == 0, 0] ** 2 + sk_x[sk_y == 0, 1] ** 2, 1.0)


def test_clean_spirals_are_two_point_symmetric_arms_of_growing_radius():
    x, y = datasets.make_spirals(n=400, noise=0.0)
    arm0, arm1 = x[y == 0], x[y == 1]
    np.testing.assert_allclose(arm1, -arm0, atol=1e-12)  # the second arm is the first turned by π
    radius = np.hypot(arm0[:, 0], arm0[:, 1])
    assert np.all(np.diff(radius) > 0) and radius[0] == 0.0 and radius[-1] < 5.0
    angle = np.unwrap(np.arctan2(arm0[1:, 0], arm0[1:, 1]))  # points 1..199 (point 0 is r = 0)
    assert np.all(np.diff(angle) > 0)
    assert (angle[-1] - angle[0]) / (2 * np.pi) == pytest.approx(1.75 * 198 / 200)  # 1.75 turns


def test_clean_blobs_are_centred_on_a_circle_of_radius_three():
    x, y = datasets.make_blobs(n=900, noise=0.0, centers=3, seed=1)
    for k in range(3):
        angle = 2 * np.pi * k / 3 + np.pi / 4
        centre = 3 * np.array([np.cos(angle), np.sin(angle)])
        np.testing.assert_allclose(x[y == k].mean(axis=0), centre, atol=0.12)
        assert x[y == k].std(axis=0) == pytest.approx([0.5, 0.5], rel=0.15)


@contextlib.contextmanager
def memory_headroom(headroom=256 * 2**20):
    """No more than ``headroom`` bytes of address space beyond what the process uses now (so
    that a huge allocation fails at once instead of swapping the machine)."""
    with open("/proc/self/status") as status:
        used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + headroom if hard == resource.RLIM_INFINITY else min(used + headroom, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


N_MESSAGE = r"n \(number of samples\) must be an integer from 2 to 10,000,000; got "
NOISE_MESSAGE = r"noise must be a finite number in \[0, 10\]; got "
SEED_MESSAGE = r"seed must be an integer from 0 to 2\*\*32 - 1; got "
BAD_GENERATOR_ARGUMENTS = {
    # case: (arguments, the message's end)
    "n=1": ({"n": 1}, N_MESSAGE + r"1\."),
    "n-negative": ({"n": -5}, N_MESSAGE + r"-5\."),
    "n-float": ({"n": 10.0}, N_MESSAGE + r"10\.0\."),
    "n-numpy-float": ({"n": np.float64(10)}, N_MESSAGE + r"(np\.float64\()?10\.0\)?\."),
    "n-bool": ({"n": True}, N_MESSAGE + r"True\."),
    "n-str": ({"n": "400"}, N_MESSAGE + r"'400'\."),
    "n-just-too-many": ({"n": datasets.MAX_SAMPLES + 1}, N_MESSAGE + r"10000001\."),
    "n-10**12": ({"n": 10**12}, N_MESSAGE + r"1000000000000\."),
    "noise-negative": ({"noise": -0.1}, NOISE_MESSAGE + r"-0\.1\."),
    "noise-nan": ({"noise": float("nan")}, NOISE_MESSAGE + r"nan\."),
    "noise-inf": ({"noise": float("inf")}, NOISE_MESSAGE + r"inf\."),
    "noise-str": ({"noise": "0.1"}, NOISE_MESSAGE + r"'0\.1'\."),
    "noise-bool": ({"noise": True}, NOISE_MESSAGE + r"True\."),
    "noise-too-large": ({"noise": 10.5}, NOISE_MESSAGE + r"10\.5\."),
    "noise-1e308": ({"noise": 1e308}, NOISE_MESSAGE + r"1e\+308\."),
    "seed-negative": ({"seed": -1}, SEED_MESSAGE + r"-1\."),
    "seed-2**32": ({"seed": 2**32}, SEED_MESSAGE + r"4294967296\."),
    "seed-float": ({"seed": 1.5}, SEED_MESSAGE + r"1\.5\."),
    "seed-bool": ({"seed": True}, SEED_MESSAGE + r"True\."),
    "seed-none": ({"seed": None}, SEED_MESSAGE + r"None\."),
    "seed-str": ({"seed": "3"}, SEED_MESSAGE + r"'3'\."),
}


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize(("kwargs", "message"), list(BAD_GENERATOR_ARGUMENTS.values()),
                         ids=list(BAD_GENERATOR_ARGUMENTS))
def test_generated_rejects_bad_size_noise_and_seed(name, kwargs, message):
    """Checked before anything is allocated: with little memory to spare, 10**12 samples are
    refused with the sentence, not a MemoryError (or minutes of swapping)."""
    with memory_headroom(), pytest.raises(ConfigError, match="^" + message + "$"):
        generate(name, **kwargs)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_at_the_limits(name):
    x, y = generate(name, n=2, noise=datasets.MAX_NOISE, seed=datasets.MAX_SEED)
    assert x.shape == (2, 2) and y.shape == (2,) and np.isfinite(x).all()
    x, y = generate(name, n=np.int32(3), noise=np.float32(0.5), seed=np.uint32(7))
    assert x.shape == (3, 2) and np.isfinite(x).all()


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -1}, SEED_MESSAGE + r"-1\."), ({"noise": float("nan")}, NOISE_MESSAGE + r"nan\.")])
def test_load_by_name_checks_seed_and_noise_as_the_generators_do(name, kwargs, message):
    with pytest.raises(ConfigError, match="^" + message + "$"):
        datasets.load(name, **kwargs)


@pytest.mark.parametrize("name", [["xor"], None, 3, b"iris"])
def test_load_needs_a_name_as_text(name):
    with pytest.raises(ConfigError, match=r"^the data set name must be text such as 'iris' or "
                                          r"'xor'; got "):
        datasets.load(name)


@pytest.mark.parametrize(("centers", "n", "shown"), [
    (1, 400, "1"), (2.0, 400, r"2\.0"), (True, 400, "True"), (401, 400, "401"),
    (10**12, 400, "1000000000000"), (-2, 400, "-2"), (3, 2, "3")])
def test_blobs_rejects_bad_centers(centers, n, shown):
    with memory_headroom(), pytest.raises(
            ConfigError, match=rf"^centers must be an integer from 2 to n, the number of "
                               rf"samples \({n}\); got {shown}\.$"):
        datasets.make_blobs(n=n, centers=centers)


def test_blobs_may_have_as_many_centers_as_points():
    x, y = datasets.make_blobs(n=5, centers=5)
    assert sorted(y.tolist()) == [0, 1, 2, 3, 4] and x.shape == (5, 2)


# ---------------------------------------------------------------------------------------------
# By name, and the catalog
# ---------------------------------------------------------------------------------------------
def test_names_are_bundled_then_generated():
    assert datasets.names() == ["digits", "iris", "wine", "breast_cancer",
                                "xor", "circles", "moons", "spirals", "blobs"]


@pytest.mark.parametrize("name", GENERATED)
def test_load_by_name_passes_seed_and_noise(name):
    x, y = datasets.load(name, seed=3, noise=0.05)
    x_direct, y_direct = generate(name, seed=3, noise=0.05)
    np.testing.assert_array_equal(x, x_direct)
    np.testing.assert_array_equal(y, y_direct)


def test_load_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        datasets.load("irsi")
    message = str(info.value)
    assert message.startswith("Unknown data set 'irsi'.")
    assert f"Valid names: {', '.join(datasets.names())}." in message
    assert "Did you mean 'iris'?" in message


def test_catalog_sizes_agree_with_the_loaders():
    infos = datasets.catalog()
    assert [info.name for info in infos] == datasets.names()
    for info in infos:
        x, y = datasets.load(info.name)
        assert (info.samples, info.features, info.classes) == (len(x), x.shape[1],
                                                                len(np.unique(y)))
        assert info.description
    sizes = {info.name: (info.samples, info.features, info.classes) for info in infos}
    assert sizes["digits"] == (1797, 64, 10) and sizes["iris"] == (150, 4, 3)
    assert sizes["wine"] == (178, 13, 3) and sizes["breast_cancer"] == (569, 30, 2)


# ---------------------------------------------------------------------------------------------
# train_test_split, one_hot, standardize
# ---------------------------------------------------------------------------------------------
def labelled_rows(counts):
    """Rows that carry their own index (so a split can be checked), labels with these counts."""
    y = np.repeat(np.arange(len(counts)), counts)
    x = np.stack([np.arange(len(y)), y], axis=1).astype(float)
    return x, y


@pytest.mark.parametrize("stratify", [True, False])
def test_split_is_disjoint_complete_and_keeps_rows_with_labels(stratify):
    x, y = labelled_rows([60, 30, 10])
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.2, seed=1,
                                                                 stratify=stratify)
    train_ids, test_ids = x_train[:, 0].astype(int), x_test[:, 0].astype(int)
    assert len(test_ids) == 20 and len(train_ids) == 80
    assert not set(train_ids) & set(test_ids)
    assert sorted([*train_ids, *test_ids]) == list(range(100))
    np.testing.assert_array_equal(y_train, x_train[:, 1])
    np.testing.assert_array_equal(y_test, x_test[:, 1])


def test_stratified_split_keeps_class_proportions():
    x, y = labelled_rows([60, 30, 10])
    _, _, y_train, y_test = datasets.train_test_split(x, y, test_size=0.2, seed=4)
    assert np.bincount(y_test).tolist() == [12, 6, 2]
    assert np.bincount(y_train).tolist() == [48, 24, 8]


def test_split_is_seeded():
    x, y = labelled_rows([50, 50])
    first = datasets.train_test_split(x, y, seed=3)
    again = datasets.train_test_split(x, y, seed=3)
    other = datasets.train_test_split(x, y, seed=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_split_of_a_numeric_target_is_not_stratified():
    x = np.arange(40.0).reshape(20, 2)
    y = np.linspace(0, 1, 20)
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.25)
    assert len(x_test) == 5 and len(x_train) == 15
    np.testing.assert_allclose(y_test, x_test[:, 0] / 38)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.2, float("nan"), True, "0.2", None])
def test_split_rejects_a_test_size_outside_zero_one(test_size):
    x, y = labelled_rows([5, 5])
    with pytest.raises(ConfigError, match=rf"^test_size must be a fraction in \(0, 1\); got "
                                          rf"{re.escape(repr(test_size))}\.$"):
        datasets.train_test_split(x, y, test_size=test_size)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -1}, SEED_MESSAGE + r"-1\."), ({"seed": 2**40}, SEED_MESSAGE + r"1099511627776\."),
    ({"seed": 0.5}, SEED_MESSAGE + r"0\.5\."), ({"seed": False}, SEED_MESSAGE + r"False\."),
    ({"stratify": "no"}, r"stratify must be True or False; got 'no'\."),
    ({"stratify": 1}, r"stratify must be True or False; got 1\.")])
def test_split_rejects_bad_seed_and_stratify(kwargs, message):
    x, y = labelled_rows([5, 5])
    with pytest.raises(ConfigError, match="^" + message + "$"):
        datasets.train_test_split(x, y, **kwargs)


@pytest.mark.parametrize(("test_size", "labels", "message"), [
    # 5 of each class × 0.05 = 0.25: no class puts a sample in the test set
    (0.05, "int", r"test_size=0\.05 of 10 samples, rounded class by class, leaves the test set "),
    # 5 × 0.95 = 4.75 → 5: every sample goes to the test set
    (0.95, "int", r"test_size=0\.95 of 10 samples, rounded class by class, leaves the training "
                  r"set "),
    (0.04, "float", r"test_size=0\.04 of 10 samples leaves the test set ")])
def test_split_refuses_a_test_size_that_leaves_one_side_empty(test_size, labels, message):
    x, y = labelled_rows([5, 5])
    if labels == "float":
        y = y.astype(float)  # a numeric target: not stratified
    with pytest.raises(ConfigError, match="^" + message + r"empty; give more samples, or a "
                                          r"test_size that puts at least one sample on each "
                                          r"side\.$"):
        datasets.train_test_split(x, y, test_size=test_size)
    # a caller's own name for the fraction (a sweep's validation_fraction), in the sentence
    theirs = message.replace("test_size", "validation_fraction").replace("test set",
                                                                         "validation set")
    with pytest.raises(ConfigError, match="^" + theirs + r"empty; give more samples, or a "
                                          r"validation_fraction that puts"):
        datasets.train_test_split(x, y, test_size=test_size, name="validation_fraction")


def test_split_takes_lists_as_arrays():
    x, y = labelled_rows([6, 4])
    from_lists = datasets.train_test_split(x.tolist(), y.tolist(), test_size=0.5, seed=2)
    from_arrays = datasets.train_test_split(x, y, test_size=0.5, seed=2)
    for a, b in zip(from_lists, from_arrays, strict=True):
        np.testing.assert_array_equal(a, b)


def test_split_rejects_x_and_y_of_different_lengths():
    with pytest.raises(DataError, match="same number of samples; got 5 and 4"):
        datasets.train_test_split(np.zeros((5, 2)), np.zeros(4, dtype=int))


@pytest.mark.parametrize("seed", range(5))
def test_one_hot_is_the_identity_rows_of_the_labels(seed):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(1, 50))
    labels = rng.integers(0, classes, size=int(rng.integers(0, 200)))
    np.testing.assert_array_equal(datasets.one_hot(labels, classes), np.eye(classes)[labels])
    if labels.size:
        np.testing.assert_array_equal(datasets.one_hot(labels),
                                      np.eye(labels.max() + 1)[labels])


def test_one_hot_at_its_limits():
    top = datasets.MAX_CLASSES - 1
    row = datasets.one_hot(np.array([top]))
    assert row.shape == (1, datasets.MAX_CLASSES) and row[0, top] == 1.0 and row.sum() == 1.0
    rows = datasets.one_hot(np.zeros(datasets.MAX_ONE_HOT_VALUES // 100_000, dtype=int),
                            classes=datasets.MAX_CLASSES)
    assert rows.shape == (1000, datasets.MAX_CLASSES) and rows[:, 0].sum() == 1000.0


def test_one_hot_rows_are_identity_rows():
    np.testing.assert_array_equal(datasets.one_hot(np.array([2, 0, 1, 2])),
                                  np.eye(3)[[2, 0, 1, 2]])
    wide = datasets.one_hot(np.array([0, 1]), classes=4)
    assert wide.shape == (2, 4) and wide.sum(axis=1).tolist() == [1.0, 1.0]
    assert datasets.one_hot(np.array([], dtype=int), classes=3).shape == (0, 3)


@pytest.mark.parametrize(("labels", "classes", "message"), [
    (np.array([0.0, 1.0]), None, r"1-D array of integer labels; got float64 of shape \(2,\)"),
    (np.array([[0, 1]]), None, r"1-D array of integer labels; got int64 of shape \(1, 2\)"),
    (np.array([0, -1, 2]), None, r"labels must lie in \[0, 2\]; found -1 to 2"),
    (np.array([0, 3]), 3, r"labels must lie in \[0, 2\]; found 0 to 3"),
    (np.array([], dtype=int), None, r"empty array needs the number of classes"),
], ids=["float", "2-D", "negative", "too-large", "empty"])
def test_one_hot_errors(labels, classes, message):
    with pytest.raises(DataError, match=message):
        datasets.one_hot(labels, classes)


@pytest.mark.parametrize(("labels", "classes", "error", "message"), [
    ([0, 10**12], None, DataError, r"labels must lie in \[0, 99999\] \(one_hot makes at most "
                                   r"100,000 classes\); found 0 to 1000000000000\."),
    ([0, 100_000], None, DataError, r"labels must lie in \[0, 99999\] .*found 0 to 100000\."),
    ([0, 1], 10**12, ConfigError, r"classes must be an integer from 1 to 100,000; got "
                                  r"1000000000000\."),
    ([0, 1], 100_001, ConfigError, r"classes must be an integer from 1 to 100,000; got 100001\."),
    (np.array([], dtype=int), 0, ConfigError,
     r"classes must be an integer from 1 to 100,000; got 0\."),
    ([0], -3, ConfigError, r"classes must be an integer from 1 to 100,000; got -3\."),
    ([0, 1], 2.0, ConfigError, r"classes must be an integer from 1 to 100,000; got 2\.0\."),
    ([0, 1], True, ConfigError, r"classes must be an integer from 1 to 100,000; got True\."),
    ([0, 1], "2", ConfigError, r"classes must be an integer from 1 to 100,000; got '2'\."),
    (np.zeros(1001, dtype=int), 100_000, DataError,
     r"one_hot of 1,001 labels into 100,000 classes would hold 100,100,000 values, more than "
     r"the 100,000,000 it makes; train on the integer labels with "
     r"sparse_categorical_crossentropy instead\."),
    ([[0, 1], [2]], None, DataError, r"one_hot needs a 1-D array of integer labels; it could "
                                     r"not be converted"),
    ([True, False], None, DataError, r"one_hot needs a 1-D array of integer labels; got bool "
                                     r"of shape \(2,\)\."),
], ids=["label-10**12", "label-just-too-large", "classes-10**12", "classes-just-too-many",
        "classes-0", "classes-negative", "classes-float", "classes-bool", "classes-str",
        "too-many-values", "ragged", "bools"])
def test_one_hot_refuses_absurd_sizes_before_allocating(labels, classes, error, message):
    with memory_headroom(), pytest.raises(error, match="^" + message):
        datasets.one_hot(labels, classes)


def test_standardize_uses_the_training_statistics_only(rng):
    x_train = rng.normal(3.0, 2.0, size=(200, 3))
    x_train[:, 2] = 7.0  # a constant feature must not divide by zero
    x_test = rng.normal(10.0, 5.0, size=(50, 3))
    before = x_train.copy()
    train_std, test_std = datasets.standardize(x_train, x_test)
    np.testing.assert_array_equal(x_train, before)  # inputs are not modified
    np.testing.assert_allclose(train_std[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train_std[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(train_std[:, 2], 0.0)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    np.testing.assert_allclose(test_std[:, :2], (x_test[:, :2] - mean[:2]) / std[:2])
    np.testing.assert_allclose(test_std[:, 2], x_test[:, 2] - 7.0)
    assert test_std[:, 0].mean() > 2  # the test set's own statistics were not used


# ---------------------------------------------------------------------------------------------
# load_csv
# ---------------------------------------------------------------------------------------------
def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_book_iris_has_a_header_and_string_labels():
    path = os.path.join(BOOK_DATA, "iris3.csv")
    x, y, info = datasets.load_csv(path, target="species")
    frame = pd.read_csv(path)
    assert x.shape == (150, 4)
    np.testing.assert_array_equal(x, frame.iloc[:, :4].to_numpy())
    assert info.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert info.class_names == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    np.testing.assert_array_equal(y, pd.Categorical(frame["species"]).codes)
    assert (info.samples, info.features, info.classes) == (150, 4, 3)


def test_book_sonar_has_no_header_and_keeps_its_first_row():
    path = os.path.join(BOOK_DATA, "sonar3.csv")
    x, y, info = datasets.load_csv(path)
    frame = pd.read_csv(path, header=None)
    assert x.shape == (208, 60) and info.feature_names == [str(i) for i in range(60)]
    np.testing.assert_array_equal(x, frame.iloc[:, :60].to_numpy())
    np.testing.assert_array_equal(y, frame[60].to_numpy())
    assert info.class_names == ["0", "1"]


def test_headerless_file_with_text_labels_keeps_its_first_row(tmp_path):
    # the textbook's original iris.csv: no header, the label column is text in every row
    path = write_csv(tmp_path,
                     "5.1,3.5,Iris-setosa\n4.9,3.0,Iris-setosa\n7.0,3.2,Iris-versicolor\n")
    x, y, info = datasets.load_csv(path)
    np.testing.assert_array_equal(x, [[5.1, 3.5], [4.9, 3.0], [7.0, 3.2]])
    assert y.tolist() == [0, 0, 1] and info.feature_names == ["0", "1"]


@pytest.mark.parametrize(("header", "rows"), [(None, 2), (True, 2), (False, 3)])
def test_header_can_be_forced(tmp_path, header, rows):
    path = write_csv(tmp_path, "1,2,0\n3,4,1\n5,6,0\n" if header is False
                     else "a,b,y\n1,2,0\n3,4,1\n")
    x, _, info = datasets.load_csv(path, header=header)
    assert len(x) == rows
    assert info.feature_names == (["0", "1"] if header is False else ["a", "b"])


@pytest.mark.parametrize(("target", "label_column"), [
    ("label", 1), (1, 1), ("1", 1), (-3, 1), ("-3", 1), (0, 0), (-1, 3), ("d", 3)])
def test_target_by_name_or_index(tmp_path, target, label_column):
    table = np.array([[0, 1, 5, 0], [1, 0, 6, 1], [0, 1, 7, 1], [1, 0, 8, 0]])
    names = ["a", "label", "c", "d"]
    path = write_csv(tmp_path, ",".join(names) + "\n"
                     + "".join(",".join(map(str, row)) + "\n" for row in table))
    x, y, info = datasets.load_csv(path, target=target)
    np.testing.assert_array_equal(y, table[:, label_column])
    features = [i for i in range(4) if i != label_column]
    np.testing.assert_array_equal(x, table[:, features])
    assert info.feature_names == [names[i] for i in features]


def test_string_labels_are_coded_in_sorted_order(tmp_path):
    path = write_csv(tmp_path, "f,kind\n1,pear\n2,apple\n3,fig\n4,apple\n")
    _, y, info = datasets.load_csv(path)
    assert info.class_names == ["apple", "fig", "pear"]
    assert y.tolist() == [2, 0, 1, 0] and y.dtype == np.int64 and info.classes == 3


def test_whole_number_labels_stay_integers_and_fractions_are_a_regression_target(tmp_path):
    _, y, info = datasets.load_csv(write_csv(tmp_path, "f,y\n1,2.0\n2,1.0\n3,2.0\n"))
    assert y.tolist() == [2, 1, 2] and y.dtype == np.int64 and info.class_names == ["1", "2"]
    _, y, info = datasets.load_csv(write_csv(tmp_path, "f,y\n1,0.5\n2,1.5\n", "reg.csv"))
    assert y.tolist() == [0.5, 1.5] and y.dtype == np.float64
    assert info.class_names == [] and info.classes == 0


def test_standardize_features_scales_each_column(tmp_path):
    path = write_csv(tmp_path, "a,b,y\n1,10,0\n2,30,1\n3,50,0\n4,70,1\n")
    x, _, _ = datasets.load_csv(path, standardize_features=True)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1.0)
    raw, _, _ = datasets.load_csv(path)
    np.testing.assert_allclose(x, (raw - raw.mean(axis=0)) / raw.std(axis=0))


GOOD_CSV = "a,b,y\n1,2,0\n3,4,1\n"
CSV_ERRORS = {
    # case: (file text, load_csv arguments, what the message must say)
    "text-feature": ("a,b,y\n1,x,0\n3,4,1\n", {},
                     r"feature column 'b' of '.*data\.csv' is not numeric \(e\.g\. 'x' in row 1\)"),
    "text-after-empty": ("a,b,y\n1,,0\n3,yes,1\n", {},
                         r"feature column 'b' of '.*' is not numeric \(e\.g\. 'yes' in row 2\)"),
    "empty-cell": ("a,b,y\n1,2,0\n3,,1\n", {}, r"empty or NaN cell in column 'b', row 2"),
    "nan-cell": ("a,b,y\n1,2,0\nNaN,4,1\n", {}, r"empty or NaN cell in column 'a', row 2"),
    "empty-target": ("a,b,y\n1,2,0\n3,4,\n", {},
                     r"target column 'y' of '.*' has empty cells \(row 2\)"),
    "single-class": ("a,b,y\n1,2,0\n3,4,0\n", {},
                     r"target column 'y' of '.*' holds a single class \('0'\)"),
    "single-text-class": ("a,b,y\n1,2,yes\n3,4,yes\n", {},
                          r"holds a single class \('yes'\); a classifier needs at least two"),
    "unknown-target-name": (GOOD_CSV, {"target": "label"},
                            r"has no column 'label'; its columns are a, b, y\."),
    "index-too-large": (GOOD_CSV, {"target": 3},
                        r"target column index 3 does not exist: '.*' has 3 columns \(valid: 0"),
    "index-too-small": (GOOD_CSV, {"target": -4}, r"target column index -4 does not exist"),
    "index-as-text": (GOOD_CSV, {"target": "-4"}, r"target column index -4 does not exist"),
    "header-only": ("a,b,y\n", {}, r"has no data rows"),
    "empty-file": ("", {}, r"cannot be read as CSV"),
    "one-column": ("y\n0\n1\n", {}, r"has only one column; it needs features and a target"),
    "ragged-row": ("a,b,y\n1,2,0\n3,4,1,7\n", {}, r"cannot be read as CSV: .*Expected 3 fields"),
    "extra-field": ("a,b,y\n9,1,2,0\n3,4,1\n", {"header": True},
                    r"more fields in its rows than names in its header"),
}


@pytest.mark.parametrize(("text", "kwargs", "message"), list(CSV_ERRORS.values()),
                         ids=list(CSV_ERRORS))
def test_csv_errors_name_the_problem(tmp_path, text, kwargs, message):
    path = write_csv(tmp_path, text)
    with pytest.raises(DataError, match=message):
        datasets.load_csv(path, **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"target": True}, r"target must be a column name or index such as 'species' or -1; got "
                       r"True\."),
    ({"target": 1.5}, r"target must be a column name or index such as 'species' or -1; got "
                      r"1\.5\."),
    ({"target": None}, r"target must be a column name or index .*; got None\."),
    ({"target": [1]}, r"target must be a column name or index .*; got \[1\]\."),
    ({"header": "yes"}, r"header must be True or False; got 'yes'\."),
    ({"header": 1}, r"header must be True or False; got 1\."),
    ({"standardize_features": 1}, r"standardize_features must be True or False; got 1\."),
])
def test_csv_arguments_are_checked(tmp_path, kwargs, message):
    path = write_csv(tmp_path, GOOD_CSV)
    for read in (lambda: datasets.load_csv(path, **kwargs),
                 lambda: datasets.parse_csv(GOOD_CSV, **kwargs)):
        with pytest.raises(ConfigError, match="^" + message + "$"):
            read()


@pytest.mark.parametrize("spec", [5, None, ["iris"]])
def test_load_any_needs_a_name_or_a_path(spec):
    with pytest.raises(ConfigError, match=r"^--data must be a built-in data set's name or a CSV "
                                          r"path; got "):
        datasets.load_any(spec, what="--data ")


@pytest.mark.parametrize("digits", [20, 25, 60, 300])
def test_whole_numbers_beyond_64_bits_are_numeric_features(tmp_path, digits):
    """pandas' reader keeps such numbers as Python integers (an object column): they are
    numbers all the same, up to float64's range."""
    big = int("9" * digits)
    x, y, _ = datasets.load_csv(write_csv(tmp_path, f"a,b,y\n{big},1,0\n-{big},2,1\n5,3,0\n"))
    np.testing.assert_array_equal(x, [[float(big), 1], [-float(big), 2], [5, 3]])
    assert y.tolist() == [0, 1, 0]


@pytest.mark.parametrize(("cells", "message"), [
    (["9" * 400, "1"], r"has an infinite value in column 'a', row 1"),
    (["5", "-" + "9" * 400], r"has an infinite value in column 'a', row 2"),
    (["9" * 30, "x"], r"feature column 'a' of '.*' is not numeric \(e\.g\. 'x' in row 2\)"),
    (["x", "9" * 30], r"feature column 'a' of '.*' is not numeric \(e\.g\. 'x' in row 1\)"),
])
def test_whole_numbers_beyond_float64_or_beside_text_are_refused(tmp_path, cells, message):
    path = write_csv(tmp_path, f"a,b,y\n{cells[0]},1,0\n{cells[1]},2,1\n")
    with pytest.raises(DataError, match=message):
        datasets.load_csv(path)


@pytest.mark.parametrize("task", [None, "auto", "regression"])
def test_a_target_of_whole_numbers_beyond_int64_is_a_quantity(tmp_path, task):
    path = write_csv(tmp_path, "a,y\n1,1e300\n2,0\n3,2e19\n")
    _, y, info = datasets.load_csv(path, task=task)
    assert info.task == "regression" and y.dtype == np.float64
    assert y.tolist() == [1e300, 0.0, 2e19]


def test_a_target_of_whole_numbers_beyond_int64_is_no_classification(tmp_path):
    path = write_csv(tmp_path, "a,y\n1,0\n2,1e300\n3,2e19\n")
    with pytest.raises(DataError, match=r"target column 'y' of '.*' holds numbers too large for "
                                        r"class labels \(e\.g\. 1e\+300\)"):
        datasets.load_csv(path, task="classification")


@pytest.mark.parametrize("scale", [1e300, 1e306, 1.7e308])
def test_standardize_of_features_near_the_largest_float(scale):
    """Sums beyond float64 must not turn finite features into NaN: standardising is the same
    for x and x·c, so x/scale is the oracle."""
    x = np.array([[1.0, 3.0], [0.5, 1.0], [-1.0, 2.0], [0.25, 2.0]])
    big = x * [scale, 1.0]
    (got,) = datasets.standardize(big)
    (expected,) = datasets.standardize(x)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_array_equal(got[:, 1], expected[:, 1])  # the plain column: bit for bit
    test = np.array([[0.5 * scale, 2.0]])
    np.testing.assert_allclose(datasets.standardize(big, test)[1],
                               datasets.standardize(x, np.array([[0.5, 2.0]]))[1], rtol=1e-12)


def test_load_csv_standardizes_features_near_the_largest_float(tmp_path):
    path = write_csv(tmp_path, "a,y\n1e308,0\n1.5e308,1\n-1e308,0\n")
    x, _, _ = datasets.load_csv(path, standardize_features=True)
    (expected,) = datasets.standardize(np.array([[1.0], [1.5], [-1.0]]))
    np.testing.assert_allclose(x, expected, rtol=1e-12)


def test_missing_csv_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError, match=rf"CSV file '{path}' does not exist"):
        datasets.load_csv(path)


# ---------------------------------------------------------------------------------------------
# IDX files (MNIST's format)
# ---------------------------------------------------------------------------------------------
IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx(path, data):
    data = data if isinstance(data, bytes) else idx_bytes(data)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    return path


def sample_images(n=5):
    return np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("array", [
    sample_images(3),
    np.array([7, 2, 1, 0, 4], dtype=np.uint8),
    np.array([[1.5, -2.25, 3e-8], [0.0, 1e30, -7.0]], dtype=">f4"),
    np.array([-70000, 5, 2**31 - 1], dtype=">i4"),
], ids=["uint8-images", "uint8-labels", "float32", "int32"])
def test_idx_round_trip(tmp_path, array, suffix):
    loaded = datasets.load_idx(write_idx(tmp_path / f"a.idx{suffix}", array))
    assert loaded.shape == array.shape and loaded.dtype.isnative
    assert loaded.dtype.kind == array.dtype.kind and loaded.dtype.itemsize == array.dtype.itemsize
    np.testing.assert_array_equal(loaded, array)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


#: A header announcing 65536⁴ × 4 bytes = 2**66, which is 0 in 64-bit arithmetic.
WRAPPING = bytes([0, 0, 0x08, 5]) + (2**16).to_bytes(4, "big") * 4 + (4).to_bytes(4, "big")


@pytest.mark.parametrize(("data", "message"), [
    (WRAPPING, r"header announces shape \(65536, 65536, 65536, 65536, 4\) "
               r"\(73786976294838206464 bytes of data\), the file holds 0"),
    (b"\x01" + GOOD[1:], r"not an IDX file \(bad magic number\)"),
    (GOOD[:2] + b"\x07" + GOOD[3:], r"not an IDX file \(bad magic number\)"),
    (GOOD[:3], r"not an IDX file \(bad magic number\)"),
    (GOOD[:9], r"truncated \(header cut short\)"),
    (GOOD[:-1], r"header announces shape \(3, 4\) \(12 bytes of data\), the file holds 11"),
    (GOOD + b"\x00", r"header announces shape \(3, 4\) \(12 bytes of data\), the file holds 13"),
], ids=["size-wraps-in-64-bits", "first-byte", "type-code", "too-short", "header",
        "data-short", "data-long"])
def test_idx_errors(tmp_path, data, message):
    with pytest.raises(DataError, match=message):
        datasets.load_idx(write_idx(tmp_path / "bad.idx", data))


def test_idx_corrupt_gzip_and_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"cannot be read"):
        not_gzip = tmp_path / "plain.idx.gz"
        not_gzip.write_bytes(GOOD)
        datasets.load_idx(not_gzip)
    truncated = tmp_path / "cut.idx.gz"
    truncated.write_bytes(gzip.compress(idx_bytes(sample_images()))[:-20])
    with pytest.raises(DataError, match=r"cannot be read"):
        datasets.load_idx(truncated)
    with pytest.raises(DataError, match=r"IDX file '.*none\.idx' does not exist"):
        datasets.load_idx(tmp_path / "none.idx")


@pytest.mark.parametrize(("kind", "images_name", "labels_name"), [
    ("train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("t10k", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"),
])
def test_load_mnist_flattens_and_scales(tmp_path, kind, images_name, labels_name):
    images = sample_images(6)
    labels = np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8)
    write_idx(tmp_path / images_name, images)
    write_idx(tmp_path / labels_name, labels)
    x, y = datasets.load_mnist(tmp_path, kind=kind)
    assert x.shape == (6, 784) and x.dtype == np.float64
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x, images.reshape(6, 784) / 255.0)
    assert y.dtype == np.int64 and y.tolist() == labels.tolist()


def test_load_mnist_errors(tmp_path):
    with pytest.raises(DataError, match=r"has no file 'train-images-idx3-ubyte' \(nor "
                                        r"train-images-idx3-ubyte\.gz\)"):
        datasets.load_mnist(tmp_path)
    with pytest.raises(ConfigError, match=r"kind must be 'train' or 't10k'; got 'test'"):
        datasets.load_mnist(tmp_path, kind="test")
    write_idx(tmp_path / "train-images-idx3-ubyte", sample_images(4))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match=r"disagree: images \(4, 28, 28\), labels \(3,\)"):
        datasets.load_mnist(tmp_path)


def test_parse_csv_reads_text_as_load_csv_reads_the_file(tmp_path):
    """An upload held in memory is read exactly as the same bytes on disk."""
    text = "petal,sepal,kind\n1.5,2.0,b\n1.0,3.5,a\n2.5,0.5,b\n"
    path = tmp_path / "flowers.csv"
    path.write_text(text)
    x_file, y_file, info_file = datasets.load_csv(path, target="kind")
    x_text, y_text, info_text = datasets.parse_csv(text, name="flowers.csv", target="kind")
    np.testing.assert_array_equal(x_file, x_text)
    np.testing.assert_array_equal(y_file, y_text)
    assert info_text.name == info_file.name == "flowers.csv"
    assert info_text.feature_names == ["petal", "sepal"] and info_text.target_name == "kind"
    assert info_text.class_names == ["a", "b"]
    with pytest.raises(DataError, match="feature column 'sepal' of 'up.csv' is not numeric"):
        datasets.parse_csv("petal,sepal,kind\n1,x,a\n2,3,b\n", name="up.csv")
