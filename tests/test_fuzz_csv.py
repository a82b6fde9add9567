"""Fuzzing the CSV loader (``datasets.load_csv`` for files, ``parse_csv`` for text in memory)
with Hypothesis: generated tables of random cells — numbers, huge numbers, empty cells, text,
inf and NaN spelled the ways pandas knows, quotes (balanced or not), a byte-order mark, mixed
line endings, ragged rows, many columns — and random arguments (target, header, task,
standardisation).

Every outcome is a valid table or a DescentLabError: ``x`` finite float64 of shape (samples,
features), ``y`` finite and as long as ``x``, integer classes 0..K−1 for a classification, and
an ``info`` that agrees; never another exception, never more than MEMORY_HEADROOM of memory
(each load runs in a forked child under ``resource.setrlimit(RLIMIT_AS)``, the limit of
``test_fuzz_model_files``), never more than SECONDS_PER_TABLE (the child is killed then). A
clean numeric table must load, with exactly the numbers written; ``parse_csv`` must read text
exactly as ``load_csv`` reads the same bytes in a file. The runs are derandomized, so CI sees
the same examples every time.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import resource
import select
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from descentlab import datasets  # noqa: E402
from descentlab.errors import DescentLabError  # noqa: E402

FUZZ = settings(max_examples=35, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Address space a load may add to the process (the tables here hold a few KB).
MEMORY_HEADROOM = 512 * 2**20
#: Wall-clock time one load may take before its child is killed.
SECONDS_PER_TABLE = 10.0


# ---------------------------------------------------------------------------------------------
# Running one load in a forked child, within memory and time limits
# ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _load_pandas_before_forking():
    """One load in this process first, so that each child starts with pandas imported and its
    reader warm (importing it anew in every child would take a second each)."""
    datasets.parse_csv("a,y\n1,0\n2,1\n")


def _used_address_space() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status
                    if line.startswith("VmSize"))


def in_child(call: Callable[[], Any], seconds: float = SECONDS_PER_TABLE) -> tuple[str, Any]:
    """``call()`` in a forked child whose address space may grow by MEMORY_HEADROOM, killed
    after ``seconds``: ``("ok", result)``, ``("refused", (error type, message))`` for a
    DescentLabError, or ``("bug", traceback)`` for anything else (a MemoryError included)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = _used_address_space() + MEMORY_HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY
                                                    else min(limit, hard), hard))
            try:
                outcome: tuple[str, Any] = ("ok", call())
            except DescentLabError as exc:
                outcome = ("refused", (type(exc).__name__, str(exc)))
            except BaseException:  # noqa: B036 - everything else is the finding
                outcome = ("bug", traceback.format_exc())
            data = pickle.dumps(outcome)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + seconds
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([pipe], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "bug", f"the load took more than {seconds:g} s"
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    if not chunks:
        return "bug", "the child died without an answer"
    return pickle.loads(b"".join(chunks))


def load_file(data: bytes, **kwargs: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzzed.csv")
        with open(path, "wb") as handle:
            handle.write(data)
        return datasets.load_csv(path, **kwargs)


def check_table(outcome: tuple[str, Any]) -> None:
    """A valid table or a DescentLabError."""
    kind, value = outcome
    assert kind != "bug", value
    event(kind)
    if kind == "refused":
        name, message = value
        assert message.strip() and "\n" not in message.strip(), (name, message)
        return
    x, y, info = value
    assert isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 2
    assert isinstance(y, np.ndarray) and y.ndim == 1
    samples, features = x.shape
    assert samples >= 1 and features >= 1 and len(y) == samples
    assert np.isfinite(x).all(), x
    assert (info.samples, info.features) == (samples, features)
    assert len(info.feature_names) == features and info.target_name not in info.feature_names
    if info.task == "classification":
        # Text labels become codes 0..K−1 in the order of their names; whole numbers stay as
        # they are, named by their values. Either way each class occurs.
        assert y.dtype == np.int64 and info.classes == len(info.class_names) >= 2
        assert len(np.unique(y)) == info.classes
        assert (info.class_names == [str(v) for v in np.unique(y)]
                or np.unique(y).tolist() == list(range(info.classes))), (y, info.class_names)
    else:
        assert info.task == "regression" and info.classes == 0 and info.class_names == []
        assert np.issubdtype(y.dtype, np.number) and np.isfinite(y.astype(np.float64)).all()


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------
SPELLINGS = ["", " ", "inf", "-inf", "+inf", "Inf", "INF", "Infinity", "-Infinity", "infinity",
             "nan", "NaN", "NAN", "-nan", "-NaN", "N/A", "NA", "n/a", "#N/A", "#NA", "-1.#IND",
             "1.#QNAN", "1.#INF", "null", "NULL", "None", "<NA>", "True", "false", "TRUE"]
ODD_NUMBERS = ["1e308", "-1e308", "1.7976931348623157e308", "1e309", "-1e400", "1e-400",
               "4.9e-324", "0x1F", "1_000", "+5", "-0", ".5", "5.", "1e5", "1,5", "١٢٣",
               "9223372036854775807", "9223372036854775808", "18446744073709551616",
               "-9223372036854775809", " 7 ", "3\t"]

numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**400, 10**400).map(str),  # far beyond float64 and int64
    st.sampled_from(ODD_NUMBERS))
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


cells = st.one_of(
    numbers, st.sampled_from(SPELLINGS), texts,
    st.one_of(numbers, texts).map(_quoted),  # quoted, commas and newlines inside included
    st.sampled_from(['"', '"unclosed', 'a"b', '""', '"a""b"', "'x'", "\x00", "\ufeff1"]))
line_endings = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def random_tables(draw: Any) -> str:
    """Rows of random cells, as ragged as they come, with a random line ending after each."""
    width = draw(st.one_of(st.integers(1, 8), st.integers(8, 8), st.integers(40, 120)))
    if width > 8:  # many columns: one cell drawn, repeated across the row
        rows = [[draw(cells)] * width for _ in range(draw(st.integers(1, 3)))]
    else:
        rows = draw(st.lists(st.lists(cells, min_size=max(0, width - 2), max_size=width + 1),
                             min_size=0, max_size=30))
    return "".join(",".join(row) + draw(line_endings) for row in rows)


@st.composite
def clean_tables(draw: Any) -> tuple[str, np.ndarray, np.ndarray]:
    """A header and rows of finite numbers (features) and whole numbers (classes): the text,
    and the numbers it holds."""
    features = draw(st.integers(1, 6))
    samples = draw(st.integers(2, 30))
    finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
    x = np.array(draw(st.lists(st.lists(finite, min_size=features, max_size=features),
                               min_size=samples, max_size=samples)), dtype=np.float64)
    labels = draw(st.lists(st.integers(0, 3), min_size=samples, max_size=samples))
    if len(set(labels)) < 2:  # a classifier needs two classes
        labels[-1] = (labels[0] + 1) % 4
    header = ",".join([f"f{i}" for i in range(features)] + ["label"])
    rows = [",".join([repr(float(v)) for v in row] + [str(label)])
            for row, label in zip(x, labels, strict=True)]
    ending = draw(line_endings)
    return header + ending + ending.join(rows) + ending, x, np.array(labels)


@st.composite
def mutated_tables(draw: Any) -> str:
    """A clean table with a few of its cells, rows or line endings replaced."""
    text, _, _ = draw(clean_tables())
    rows = [line.split(",") for line in text.replace("\r\n", "\n").replace("\r", "\n")
            .splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(rows) - 1))
        operation = draw(st.sampled_from(["cell", "cell", "drop-cell", "add-cell",
                                          "drop-row", "blank-row"]))
        if operation == "cell":
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(cells)
        elif operation == "drop-cell" and len(rows[i]) > 1:
            rows[i].pop()
        elif operation == "add-cell":
            rows[i].append(draw(cells))
        elif operation == "drop-row" and len(rows) > 1:
            rows.pop(i)
        elif operation == "blank-row":
            rows.insert(i, [""])
    return "".join(",".join(row) + draw(line_endings) for row in rows)


tables = st.one_of(random_tables(), mutated_tables())
bom = st.sampled_from(["", "", "\ufeff"])
arguments = st.fixed_dictionaries({
    "target": st.one_of(st.just(-1), st.integers(-4, 4), st.sampled_from(["label", "f0", "0"])),
    "header": st.sampled_from([None, None, True, False]),
    "standardize_features": st.booleans()})
tasks = st.sampled_from([None, "auto", "classification", "regression"])


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------
@FUZZ
@given(table=tables, prefix=bom, kwargs=arguments, task=tasks)
def test_a_file_is_a_valid_table_or_a_descentlab_error(table: str, prefix: str, kwargs: dict,
                                                       task: str | None) -> None:
    check_table(in_child(lambda: load_file((prefix + table).encode("utf-8"), task=task,
                                           **kwargs)))


@settings(FUZZ, max_examples=15)
@given(table=tables, kwargs=arguments, cut=st.integers(0, 64),
       junk=st.binary(min_size=1, max_size=8))
def test_bytes_that_are_not_utf8_are_a_descentlab_error(table: str, kwargs: dict, cut: int,
                                                        junk: bytes) -> None:
    data = table.encode("utf-8")
    where = min(cut, len(data))
    check_table(in_child(lambda: load_file(data[:where] + junk + data[where:], **kwargs)))


@settings(FUZZ, max_examples=20)
@given(table=tables, prefix=bom, kwargs=arguments)
def test_text_in_memory_is_read_exactly_as_the_same_file(table: str, prefix: str,
                                                         kwargs: dict) -> None:
    text = prefix + table
    from_text = in_child(lambda: datasets.parse_csv(text, name="fuzzed.csv", **kwargs))
    from_file = in_child(lambda: load_file(text.encode("utf-8"), **kwargs))
    check_table(from_text)
    assert from_text[0] == from_file[0], (from_text, from_file)
    if from_text[0] == "refused":  # the same sentence, but for how the source is named
        assert from_text[1][1] == re.sub(r"'/[^']*/fuzzed\.csv'", "'fuzzed.csv'",
                                         from_file[1][1])
    else:
        for mine, theirs in zip(from_text[1][:2], from_file[1][:2], strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert from_text[1][2].class_names == from_file[1][2].class_names


@settings(FUZZ, max_examples=15)
@given(table=clean_tables(), prefix=bom, header=st.sampled_from([None, True]))
def test_a_clean_table_loads_with_exactly_its_numbers(table: tuple, prefix: str,
                                                      header: bool | None) -> None:
    text, x, labels = table
    kind, value = in_child(lambda: load_file((prefix + text).encode("utf-8"), header=header))
    assert kind == "ok", value
    x_read, y_read, info = value
    np.testing.assert_array_equal(x_read, x)  # repr(float) reads back exactly
    classes = sorted(set(labels.tolist()))
    assert y_read.tolist() == labels.tolist() and info.class_names == [str(c) for c in classes]
    assert info.feature_names == [f"f{i}" for i in range(x.shape[1])]


def test_the_limits_hold_in_the_child() -> None:
    """The harness itself: an allocation beyond the headroom fails in the child (and is
    reported), a hang is killed, and an answer comes back whole."""
    kind, value = in_child(lambda: np.ones(2 * MEMORY_HEADROOM // 8))
    assert kind == "bug" and "MemoryError" in value
    started = time.monotonic()
    kind, value = in_child(lambda: time.sleep(60), seconds=0.5)
    assert kind == "bug" and "took more than 0.5 s" in value
    assert time.monotonic() - started < 5
    big = np.arange(200_000.0)  # 1.6 MB: more than a pipe holds at once
    kind, value = in_child(lambda: big * 2)
    assert kind == "ok"
    np.testing.assert_array_equal(value, big * 2)
    assert in_child(lambda: datasets.parse_csv("a,b\n1,x\n"))[0] == "refused"
    assert math.isclose(in_child(lambda: sum([0.5, 0.25]))[1], 0.75)
