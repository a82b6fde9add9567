"""Fuzzing load_model with Hypothesis: genuine model files, mutated (bytes flipped, cut short,
entries swapped, dropped or recompressed, values of the description replaced). Every outcome is
a working model or a DescentLabError — never another exception, never a hang, and never more
memory than a limit set with ``resource.setrlimit`` allows.

A loaded model must also work: it predicts and, if compiled, trains an epoch (or stops with
TrainingDiverged, a DescentLabError too): a file that loads and then crashes ``fit`` is a bug.
The runs are derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import tempfile
import time
import warnings
import zipfile
from datetime import timedelta
from functools import cache

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import descentlab as dl  # noqa: E402
from descentlab.errors import DescentLabError  # noqa: E402
from descentlab.layers import BatchNormalization, Dense, Dropout  # noqa: E402
from descentlab.models import Sequential, load_model  # noqa: E402

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5), derandomize=True,
                database=None, suppress_health_check=[HealthCheck.too_slow])
#: Address space the loading may add to the process (the models here hold a few KB).
MEMORY_HEADROOM = 1 * 2**30
#: Wall-clock time one load (and its predict and fit) may take.
SECONDS_PER_FILE = 5.0

X = np.random.default_rng(0).random((16, 3))
Y = np.random.default_rng(1).integers(0, 2, 16)


@cache
def genuine_files() -> tuple[bytes, ...]:
    """A few genuine files: compiled and trained with different optimizers, uncompiled,
    unbuilt, float64."""
    folder = tempfile.mkdtemp(prefix="descentlab-fuzz-")
    made = []
    for k, (optimizer, built, floatx) in enumerate([("adam", True, "float32"),
                                                   ("nadam", True, "float64"),
                                                   ("momentum", True, "float32"),
                                                   (None, True, "float32"),
                                                   (None, False, "float32")]):
        dl.set_floatx(floatx)
        dl.set_random_seed(k)
        first = Dense(4, input_dim=3, activation="relu") if built else Dense(4, activation="relu")
        model = Sequential([first, BatchNormalization(), Dropout(0.25),
                            Dense(2, activation="softmax")])
        if optimizer is not None:
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
        path = os.path.join(folder, f"{k}.dlab")
        model.save(path)
        with open(path, "rb") as handle:
            made.append(handle.read())
        dl.set_floatx("float32")
    return tuple(made)


@contextlib.contextmanager
def address_space_limit(headroom: int):
    """Lower the process's address-space limit to what it uses now plus ``headroom`` (a
    MemoryError instead of a swapping machine if loading allocated what a file declares)."""
    with open("/proc/self/status") as status:
        used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check_outcome(data: bytes) -> None:
    """Load ``data`` from a file: a working model or a DescentLabError, in bounded time and
    memory."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzzed.dlab")
        with open(path, "wb") as handle:
            handle.write(data)
        started = time.perf_counter()
        with address_space_limit(MEMORY_HEADROOM):
            try:
                model = load_model(path)
                use(model)
            except DescentLabError:
                pass
        assert time.perf_counter() - started < SECONDS_PER_FILE


def use(model: Sequential) -> None:
    """What a user does next with a loaded model."""
    if not model.built:
        if any((getattr(layer, "units", None) or 0) > 10_000 for layer in model.layers):
            return  # building a wide unbuilt model is the user's request, not the file's
        model.build(3)
    if model.input_dim != 3:
        return  # a different, consistent architecture: nothing of ours to feed it
    model.predict(X)
    if model.compiled:
        with contextlib.suppress(DescentLabError):
            model.evaluate(X, Y, verbose=0)
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)


def entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def archive(content: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as out, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, data in content:
            out.writestr(name, data)
    return buffer.getvalue()


files = st.integers(0, 4).map(lambda k: genuine_files()[k])


@pytest.fixture(autouse=True, scope="module")
def _build_the_files_first():
    genuine_files()  # outside any test's deadline and memory limit


def test_the_genuine_files_load_and_train() -> None:
    for data in genuine_files():
        check_outcome(data)
    assert len({len(d) for d in genuine_files()}) > 1


@FUZZ
@given(data=files, flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                            st.integers(1, 255)), min_size=1, max_size=8))
def test_flipped_bytes(data: bytes, flips: list[tuple[float, int]]) -> None:
    mutated = bytearray(data)
    for where, mask in flips:
        mutated[int(where * len(mutated))] ^= mask
    check_outcome(bytes(mutated))


@FUZZ
@given(data=files, keep=st.floats(0, 1, exclude_max=True), tail=st.binary(max_size=64))
def test_truncated_files(data: bytes, keep: float, tail: bytes) -> None:
    check_outcome(data[:int(keep * len(data))] + tail)


@FUZZ
@given(data=files, operations=st.lists(st.tuples(
    st.sampled_from(["swap", "drop", "duplicate", "rename", "empty", "garbage"]),
    st.integers(0, 40), st.integers(0, 40), st.binary(max_size=300)), min_size=1, max_size=4),
       deflate=st.booleans())
def test_entries_swapped_dropped_or_replaced(data: bytes, operations, deflate: bool) -> None:
    content = entries(data)
    for operation, i, j, blob in operations:
        i, j = i % len(content), j % len(content)
        if operation == "swap":
            (ni, di), (nj, dj) = content[i], content[j]
            content[i], content[j] = (ni, dj), (nj, di)
        elif operation == "drop" and len(content) > 1:
            content.pop(i)
        elif operation == "duplicate":
            content.append(content[i])
        elif operation == "rename":
            content[i] = (content[j][0], content[i][1])
        elif operation == "empty":
            content[i] = (content[i][0], b"")
        elif operation == "garbage":
            content[i] = (content[i][0], blob)
    check_outcome(archive(content, zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.sampled_from([0, -1, 1, 2**31, 2**53, 2**63, 5 * 10**7, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["Dense", "SGD", "Adam", "relu", "softmax", "float64", "float16",
                       "zeros", "mse", "sequential", "PCG64", "MT19937"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["class_name", "config", "units", "name", "shape", "dtype", "iterations"]),
        children, max_size=4),
    max_leaves=10)


def paths_of(value, prefix=()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value, the value itself included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_of(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, prefix + (index,))
    return found


edge_numbers = st.sampled_from([0, -1, 1, -10**6, 2**31, 2**53, 2**53 + 1, 2**63, 2**64,
                                 5 * 10**7, 10**400, -10**400, 0.5, 1.5, -1e300, 1e300,
                                 float("nan"), float("inf"), float("-inf"), True, None, "1"])
#: Stands for a value nested 100,000 deep (written into the JSON text directly).
DEEP = "\x00deep"
#: Stands for deleting the key.
delete = object()


def numeric_paths(header) -> list[tuple]:
    found = []
    for path in paths_of(header):
        value = header
        for key in path:
            value = value[key]
        if isinstance(value, (int, float)) and path:
            found.append(path)
    return found


@FUZZ
@given(data=files, draw=st.data(), count=st.integers(1, 4))
def test_description_values_replaced(data: bytes, draw, count: int) -> None:
    """Values of descentlab.json replaced or deleted, the arrays untouched (so every checksum
    still holds and only the description's own checks stand in the way). Half the changes put
    an edge number (negative, huge, NaN, a bool, ...) in place of a number of the description
    — a layer's units, a rate, the optimizer's step count, a shape —, the others put any JSON
    value (or one nested 100,000 deep) anywhere, or delete a key."""
    content = dict(entries(data))
    header = json.loads(content["descentlab.json"])
    for _ in range(count):
        numbers = numeric_paths(header)
        if numbers and draw.draw(st.booleans(), label="number"):
            path = draw.draw(st.sampled_from(numbers), label="path")
            value = draw.draw(edge_numbers, label="value")
        else:
            path = draw.draw(st.sampled_from([p for p in paths_of(header) if p]), label="path")
            value = draw.draw(json_values | st.just(DEEP) | st.just(delete), label="value")
        *parents, last = path
        parent = header
        for key in parents:
            parent = parent[key]
        if value is delete:
            if isinstance(parent, dict):
                del parent[last]
        else:
            parent[last] = value
    text = json.dumps(header).replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000)
    content["descentlab.json"] = text.encode()
    check_outcome(archive(list(content.items())))

