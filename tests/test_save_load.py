"""Model files: exact round trips, exact resumption, atomic writes, and refusal of bad files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import descentlab as dl
from descentlab import datasets, files, saving
from descentlab.errors import ModelFileError
from descentlab.lab import results
from descentlab.layers import BatchNormalization, Dense, Dropout
from descentlab.models import Sequential, load_model


def digits_model(optimizer: str = "adam") -> Sequential:
    dl.set_random_seed(1)
    model = Sequential([Dense(16, activation="relu", input_dim=64), Dropout(0.2),
                        BatchNormalization(), Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits()


@pytest.mark.parametrize("name", ["model.dlab", "model.keras", "model.h5", "best.hdf5"])
def test_round_trip_is_exact(tmp_path, digits, name: str) -> None:
    x, y = digits
    model = digits_model()
    model.fit(x[:300], y[:300], epochs=2, verbose=0)
    path = tmp_path / name
    model.save(str(path))
    again = load_model(str(path))
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x[:50]), again.predict(x[:50]))
    assert [type(layer).__name__ for layer in again.layers] == \
        ["Dense", "Dropout", "BatchNormalization", "Dense"]
    assert again.optimizer.iterations == model.optimizer.iterations
    assert again.evaluate(x[:100], y[:100], verbose=0) == model.evaluate(x[:100], y[:100],
                                                                         verbose=0)


RESUME = """
import sys, numpy as np
from descentlab import datasets
from descentlab.models import load_model
x, y = datasets.load_digits()
model = load_model(sys.argv[1])
model.fit(x, y, epochs=3, verbose=0)
np.savez(sys.argv[2], *model.get_weights())
"""


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "nadam"])
def test_resume_in_a_new_process_is_bit_identical(tmp_path, digits, optimizer: str) -> None:
    """Train 3 epochs, save, resume for 3 more in a fresh Python: the same weights as 6
    uninterrupted epochs (shuffling and dropout streams included)."""
    x, y = digits
    uninterrupted = digits_model(optimizer)
    uninterrupted.fit(x, y, epochs=6, verbose=0)
    first = digits_model(optimizer)
    first.fit(x, y, epochs=3, verbose=0)
    first.save(str(tmp_path / "mid.dlab"))
    subprocess.run([sys.executable, "-c", RESUME, str(tmp_path / "mid.dlab"),
                    str(tmp_path / "after.npz")], check=True)
    after = np.load(tmp_path / "after.npz")
    for i, w in enumerate(uninterrupted.get_weights()):
        np.testing.assert_array_equal(w, after[f"arr_{i}"])


def test_a_crash_mid_save_keeps_the_old_file(tmp_path, digits, monkeypatch) -> None:
    x, y = digits
    model = digits_model()
    path = tmp_path / "model.dlab"
    model.save(str(path))
    good = path.read_bytes()
    model.fit(x[:200], y[:200], epochs=1, verbose=0)
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save(str(path))
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.dlab"], "no temporary file is left behind"


def saved_bytes(tmp_path) -> bytes:
    model = digits_model()
    model.save(str(tmp_path / "m.dlab"))
    return (tmp_path / "m.dlab").read_bytes()


def corrupt_array_byte(data: bytes) -> bytes:
    """Flip one byte inside the stored weights (the archive itself stays readable)."""
    marker = data.index(b"arrays/0.npy")
    position = data.index(b"\x93NUMPY", marker) + 200
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]


@pytest.mark.parametrize("make, message", [
    (lambda good: good[: len(good) // 2], "truncated or corrupted"),
    (lambda good: b"", "not a descentlab model file"),
    (lambda good: b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5 file"),
    (lambda good: b"epoch,loss\n1,0.5\n", "not a descentlab model file"),
    (corrupt_array_byte, "fails its checksum|truncated or corrupted"),
])
def test_bad_files_raise_model_file_error(tmp_path, make, message: str) -> None:
    bad = tmp_path / "bad.dlab"
    bad.write_bytes(make(saved_bytes(tmp_path)))
    with pytest.raises(ModelFileError, match=message):
        load_model(str(bad))


def test_missing_path_and_folder(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="No model file at"):
        load_model(str(tmp_path / "nothing.dlab"))
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(str(tmp_path))
    with pytest.raises(ModelFileError, match="it is a folder"):
        digits_model().save(str(tmp_path))


def test_save_into_a_missing_folder_creates_it(tmp_path) -> None:
    """As Keras' model.save does (the book's chapter 13 saves into ./model/)."""
    model = digits_model()
    path = tmp_path / "no" / "such" / "dir.dlab"
    model.save(str(path))
    again = load_model(str(path))
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_zip_without_header(tmp_path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="ZIP archive but not a descentlab model file"):
        load_model(str(path))


def test_loading_never_unpickles(tmp_path) -> None:
    """A file whose array is a pickle (object dtype) that would create a marker file when
    unpickled: loading refuses it and the marker never appears."""
    good = tmp_path / "good.dlab"
    digits_model().save(str(good))
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = np.empty(1, dtype=object)
    evil[0] = Payload()
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, evil, allow_pickle=True)
    bad = tmp_path / "evil.dlab"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        header = json.loads(src.read("descentlab.json"))
        # A consistent header, so that only allow_pickle=False stands in the way.
        header["arrays"][0] = {"shape": [1], "dtype": "|O",
                               "sha256": hashlib.sha256(buffer.getvalue()).hexdigest()}
        for name in src.namelist():
            data = {"arrays/0.npy": buffer.getvalue(),
                    "descentlab.json": json.dumps(header).encode()}.get(name, src.read(name))
            dst.writestr(name, data)
    with pytest.raises(ModelFileError, match="corrupted"):
        load_model(str(bad))
    assert not marker.exists()
    assert saving.FORMAT_TAG == "descentlab-model"


# --------------------------------------------------------------------------------------------
# The one atomic writer (descentlab.files.atomic_write): modes, long names, interruptions
# --------------------------------------------------------------------------------------------
@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it after."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


WRITERS = {
    "atomic_write": lambda path: files.atomic_write(path, b"data"),
    "write_atomic (lab results)": lambda path: results.write_atomic(path, "text"),
    "model.save": lambda path: Sequential([Dense(2, input_dim=3)]).save(path),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, writer, mask, expected):
    umask(mask)
    path = tmp_path / "new.file"
    WRITERS[writer](str(path))
    assert mode_of(path) == expected == 0o666 & ~mask
    with open(tmp_path / "plain.file", "wb"):  # what open() itself gives a new file
        pass
    assert mode_of(tmp_path / "plain.file") == expected


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("existing", [0o644, 0o640, 0o600])
def test_an_existing_file_keeps_its_mode(tmp_path, umask, writer, existing: int) -> None:
    umask(0o077)  # a umask that would give 0600 to a new file
    path = tmp_path / "old.file"
    path.write_bytes(b"old")
    os.chmod(path, existing)
    WRITERS[writer](str(path))
    assert mode_of(path) == existing
    assert path.read_bytes() != b"old"


@pytest.mark.parametrize("name", ["a" * 250 + ".dlab", "가" * 83 + ".dlab"])
def test_a_name_of_the_longest_legal_length_works(tmp_path, name: str) -> None:
    assert len(os.fsencode(name)) in (255, 254)
    model = digits_model()
    model.save(str(tmp_path / name))
    again = load_model(str(tmp_path / name))
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])
    files.atomic_write(tmp_path / name, b"over")  # and over an existing one
    assert (tmp_path / name).read_bytes() == b"over"
    assert os.listdir(tmp_path) == [name]


def test_an_interrupted_write_leaves_the_old_file_intact(tmp_path) -> None:
    path = tmp_path / "results.json"
    files.atomic_write(path, "old contents")

    def write_then_fail(stream) -> None:
        stream.write(b"half of the new")
        raise KeyboardInterrupt  # a crash, Ctrl-C: anything between the first byte and rename

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, write_then_fail)
    assert path.read_text() == "old contents"
    assert os.listdir(tmp_path) == ["results.json"], "no temporary file is left behind"


def test_atomic_write_creates_missing_folders_and_writes_text_as_utf8(tmp_path) -> None:
    path = tmp_path / "a" / "b" / "c.txt"
    assert files.atomic_write(path, "기울기 ∂L/∂W") == str(path)
    assert path.read_bytes() == "기울기 ∂L/∂W".encode()
