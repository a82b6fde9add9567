"""Shared test set-up.

Keras is an oracle here, run on its PyTorch backend: the backend must be chosen before keras is
first imported, so it is set at the top of conftest, which pytest imports before any test module.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import descentlab as dl  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_engine_defaults():
    """Each test starts with float32, a fixed seed and fresh automatic names ("sequential",
    "dense"), whatever the test before it changed."""
    dl.set_floatx("float32")
    dl.set_random_seed(0)
    dl.backend.clear_session()
    yield
    dl.set_floatx("float32")


@pytest.fixture
def float64():
    """Run the test with descentlab in float64 (the precision of the oracle comparisons)."""
    dl.set_floatx("float64")
    yield
    dl.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def keras64():
    """Keras with floatx float64 for the test (its optimizers keep the learning rate in floatx),
    restored afterwards."""
    import keras

    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield keras
    keras.config.set_floatx(previous)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium for the browser tests. Missing, it fails the test in CI (where
    `make test`, as root, installs it) and skips it elsewhere."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; `make test` installs it (Debian package "
                        "chromium) when run as root, as in CI.")
        pytest.skip("Chromium is not installed (outside CI; `make test` as root installs it)")
    return path
