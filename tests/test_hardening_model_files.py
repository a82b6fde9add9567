"""Hostile and broken model files: every one is answered with ModelFileError, in bounded memory.

Each test covers a family of files (the issue's example and its relatives), built by rewriting a
genuine file: the architecture declared larger than the stored weights, compression bombs,
padded or deeply nested descriptions, lying ``.npy`` headers, unusual ZIP features, things that
are not regular files, and states that would load and then crash ``fit``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile

import numpy as np
import pytest

import descentlab as dl
from descentlab import layers as layers_module
from descentlab import models, saving
from descentlab.errors import ModelFileError
from descentlab.layers import BatchNormalization, Dense, Dropout
from descentlab.models import Sequential, load_model

X = np.random.default_rng(0).random((32, 3))
Y = np.random.default_rng(1).integers(0, 2, 32)
#: Loading a file of a few kilobytes may use this much memory for the description and the
#: archive's bookkeeping; anything that allocates what a hostile file declares is far above.
SMALL_FILE_PEAK = 4 * 2**20


def save_model(path, optimizer: str | None = "adam") -> str:
    dl.set_random_seed(3)
    model = Sequential([Dense(4, input_dim=3, activation="relu"), BatchNormalization(),
                        Dropout(0.1), Dense(2, activation="softmax")])
    if optimizer is not None:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    model.save(str(path))
    return str(path)


def entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_entries(path, content: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> str:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return str(path)


def with_header(tmp_path, change, optimizer: str | None = "adam", name: str = "bad.dlab") -> str:
    """A genuine file whose description ``change(header)`` rewrote (checksums stay valid: the
    arrays are untouched, so only the description's own checks stand in the way)."""
    content = entries(save_model(tmp_path / "good.dlab", optimizer))
    header = json.loads(content["descentlab.json"])
    change(header)
    content["descentlab.json"] = json.dumps(header).encode()
    return write_entries(tmp_path / name, content)


def npy(array: np.ndarray) -> bytes:
    return saving._array_bytes(array)


def patch_entry(data: bytes, name: str, **fields: int) -> bytes:
    """Rewrite fields of ``name``'s local and central ZIP headers: flag, method, size
    (uncompressed) — what a forged archive would declare."""
    out = bytearray(data)
    encoded = name.encode()
    # (signature, offset of the name, offsets of: flag, method, uncompressed size)
    layouts = [(b"PK\x03\x04", 30, 6, 8, 22), (b"PK\x01\x02", 46, 8, 10, 24)]
    for signature, name_at, flag_at, method_at, size_at in layouts:
        start = 0
        while (at := out.find(signature, start)) >= 0:
            start = at + 4
            if bytes(out[at + name_at:at + name_at + len(encoded)]) != encoded:
                continue
            if "flag" in fields:
                struct.pack_into("<H", out, at + flag_at, fields["flag"])
            if "method" in fields:
                struct.pack_into("<H", out, at + method_at, fields["method"])
            if "size" in fields:
                struct.pack_into("<L", out, at + size_at, fields["size"])
    return bytes(out)


@contextlib.contextmanager
def peak_memory():
    """Yields a dict whose "peak" is the most bytes Python and NumPy held inside the block."""
    result = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def refused(path, match: str | None = None, most: int = SMALL_FILE_PEAK) -> ModelFileError:
    """Load ``path``: it must raise ModelFileError (matching ``match``), holding at most
    ``most`` bytes meanwhile."""
    with peak_memory() as memory, pytest.raises(ModelFileError, match=match) as caught:
        load_model(path)
    assert memory["peak"] < most, f"peak {memory['peak']:,} bytes"
    return caught.value


# --------------------------------------------------------------------------------------------
# Resource exhaustion: what a small file declares is checked before it is built or allocated
# --------------------------------------------------------------------------------------------
def _set_units(header, units):
    header["model"]["config"]["layers"][0]["config"]["units"] = units


def _set_input_dim(header, width):
    header["model"]["config"]["layers"][0]["config"]["input_dim"] = width
    header["model"]["input_dim"] = width


def _second_dense_units(header, units):
    header["model"]["config"]["layers"][3]["config"]["units"] = units


def _unbuilt_first_layer_huge(header):
    header["model"]["config"]["layers"][0]["config"].pop("input_dim")
    header["model"]["input_dim"] = 10**8


@pytest.mark.parametrize("change", [
    lambda h: _set_units(h, 5 * 10**7),
    lambda h: _set_units(h, 10**6),
    lambda h: _set_units(h, 2**40),
    lambda h: _set_input_dim(h, 5 * 10**7),
    lambda h: _second_dense_units(h, 5 * 10**7),
    _unbuilt_first_layer_huge,
    lambda h: h["model"]["config"]["layers"][0]["config"].update(use_bias=False),
    lambda h: h["model"]["config"]["layers"][1]["config"].update(center=False),
], ids=["units-5e7", "units-1e6", "units-2^40", "input_dim-5e7", "second-dense-5e7",
        "model-input_dim-1e8", "bias-removed", "batchnorm-center-removed"])
def test_an_architecture_larger_than_its_weights_is_refused_before_it_is_built(
        tmp_path, change) -> None:
    path = with_header(tmp_path, change)
    assert os.path.getsize(path) < 16_000  # a small file...
    refused(path, "inconsistent|Dense units must be")  # ...refused holding a few MB at most


@pytest.mark.parametrize("units", [saving.MAX_MODEL_BYTES // 4 + 1, 2**63, 10**400])
def test_an_unbuilt_layer_wider_than_any_loadable_model_is_refused(tmp_path, units) -> None:
    """Without weights to compare with, a width no model file may hold is still refused."""
    Sequential([Dense(4), Dense(2)]).save(str(tmp_path / "unbuilt.dlab"))
    content = entries(tmp_path / "unbuilt.dlab")
    header = json.loads(content["descentlab.json"])
    _set_units(header, units)
    content["descentlab.json"] = json.dumps(header).encode()
    refused(write_entries(tmp_path / "wide.dlab", content), "Dense units must be")
    _set_units(header, saving.MAX_MODEL_BYTES // 4)
    content["descentlab.json"] = json.dumps(header).encode()
    assert not load_model(write_entries(tmp_path / "ok.dlab", content)).built


@pytest.mark.parametrize("axis", [2, -3, 10**6, -10**6])
def test_a_softmax_axis_the_output_does_not_have_is_refused_at_load(tmp_path, axis) -> None:
    """Found by the fuzz test: such a file loaded, then every predict raised IndexError."""
    path = with_header(tmp_path, lambda h: h["model"]["config"]["layers"][3]["config"][
        "activation"].update(axis=axis))
    refused(path, "softmax axis must be")


@pytest.mark.parametrize("layer_class", sorted(layers_module.LAYER_CLASSES))
@pytest.mark.parametrize("options", [{}, {"use_bias": False}, {"center": False},
                                     {"scale": False}, {"center": False, "scale": False}])
def test_the_declared_shapes_are_the_shapes_build_creates(layer_class, options) -> None:
    """load_model predicts each layer's weights from its config (to check them before
    building); the prediction must be what the layer's build really makes, for every kind of
    layer there is."""
    cls = layers_module.LAYER_CLASSES[layer_class]
    arguments = {"Dense": {"units": 5}, "Activation": {"activation": "tanh"},
                 "Dropout": {"rate": 0.5}, "BatchNormalization": {}}[layer_class]
    arguments.update({k: v for k, v in options.items()
                      if k in ("use_bias",) and layer_class == "Dense"
                      or k in ("center", "scale") and layer_class == "BatchNormalization"})
    layer = cls(**arguments)
    layer.build(7)
    config = layers_module.serialize(layer)["config"]
    shapes, width = models._WEIGHT_SHAPES[layer_class](config, 7)
    assert shapes == [w.shape for w in layer.weights]
    assert width == layer.units


def _declare_array(header, k, shape, dtype="<f4"):
    header["arrays"][k].update(shape=shape, dtype=dtype)


@pytest.mark.parametrize("shape, dtype", [
    ([2 * 10**9], "<f4"),          # the issue's .npy: 8 GB declared
    ([10**5, 10**5], "<f8"),       # 80 GB
    ([2**62, 2**62], "<f4"),       # a size that overflows int64
    ([2 * 10**8], "<f4"),          # 800 MB: under the limit, but the entry holds a few bytes
])
def test_arrays_declared_larger_than_stored_are_refused_before_allocating(
        tmp_path, shape, dtype) -> None:
    path = with_header(tmp_path, lambda h: _declare_array(h, 0, shape, dtype))
    refused(path, "bytes of weights|smaller than its shape|wrong shape")


@pytest.mark.parametrize("npy_shape", [(2 * 10**9,), (10**6, 10**6), (4, 3)])
def test_an_npy_header_that_lies_about_its_shape_is_refused(tmp_path, npy_shape) -> None:
    """The .npy header inside the entry declares a shape other than the description's (and
    than its data): refused, and the 2·10⁹ elements are never allocated."""
    content = entries(save_model(tmp_path / "good.dlab"))
    real = np.lib.format.read_array(io.BytesIO(content["arrays/0.npy"]))
    stream = io.BytesIO()  # the header numpy writes, with a lying shape
    np.lib.format.write_array_header_1_0(
        stream, {"descr": "<f4", "fortran_order": False, "shape": npy_shape})
    forged = stream.getvalue() + real.tobytes()
    description = json.loads(content["descentlab.json"])
    description["arrays"][0]["sha256"] = hashlib.sha256(forged).hexdigest()
    content["arrays/0.npy"] = forged
    content["descentlab.json"] = json.dumps(description).encode()
    refused(write_entries(tmp_path / "bad.dlab", content), "wrong shape")


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_padded_description_is_refused_unread(tmp_path, compression) -> None:
    """The issue's 1.5 GB of spaces, here 64 MB (four times the limit): refused from the ZIP
    directory's declared size, whether stored or deflated (a 64 KB bomb), without reading."""
    content = entries(save_model(tmp_path / "good.dlab"))
    content["descentlab.json"] += b" " * (64 * 2**20)
    path = write_entries(tmp_path / "padded.dlab", content, compression)
    refused(path, "declares .* bytes, more than it may hold")


def test_the_header_limit_is_the_documented_one(tmp_path) -> None:
    """Just under MAX_HEADER_BYTES loads; just over is refused."""
    content = entries(save_model(tmp_path / "good.dlab"))
    room = saving.MAX_HEADER_BYTES - len(content["descentlab.json"])
    content["descentlab.json"] += b" " * room
    assert load_model(write_entries(tmp_path / "full.dlab", content)).built
    content["descentlab.json"] += b" "
    refused(write_entries(tmp_path / "over.dlab", content, zipfile.ZIP_DEFLATED), "more than")


@pytest.mark.parametrize("declared", ["real", "small", "huge"])
def test_a_deflate_bomb_is_never_inflated_past_its_declared_size(tmp_path, declared) -> None:
    """An array entry that inflates to 256 MB (256 KB deflated): with its real size declared it
    is refused from the directory; declared small or huge, the reader stops at the declared
    size and the entry is refused, never inflated."""
    good = save_model(tmp_path / "good.dlab")
    content = entries(good)
    bomb = content["arrays/0.npy"] + b"\0" * (256 * 2**20)
    content["arrays/0.npy"] = bomb
    data = (tmp_path / "bomb.dlab")
    write_entries(data, content, zipfile.ZIP_DEFLATED)
    raw = data.read_bytes()
    if declared != "real":
        true_size = len(entries(good)["arrays/0.npy"])
        size = true_size if declared == "small" else 2**32 - 1
        raw = patch_entry(raw, "arrays/0.npy", size=size)
        data.write_bytes(raw)
    assert len(raw) < 2 * 2**20
    refused(str(data))


@pytest.mark.parametrize("count", [saving.MAX_ENTRIES + 1, 40_000])
def test_an_archive_listing_too_many_entries_is_refused_before_parsing(tmp_path, count) -> None:
    content = entries(save_model(tmp_path / "good.dlab"))
    content.update({f"extra/{k}": b"" for k in range(count - len(content))})
    refused(write_entries(tmp_path / "many.dlab", content), "more entries")


def test_the_model_size_limit_is_checked_against_the_declared_total(tmp_path, monkeypatch):
    """MAX_MODEL_BYTES bounds the total of the arrays' declared sizes: a genuine file just
    over a lowered limit is refused, at the limit it loads."""
    path = save_model(tmp_path / "good.dlab")
    header = json.loads(entries(path)["descentlab.json"])
    total = sum(int(np.prod(a["shape"])) * np.dtype(a["dtype"]).itemsize
                for a in header["arrays"])
    monkeypatch.setattr(saving, "MAX_MODEL_BYTES", total)
    assert load_model(path).built
    monkeypatch.setattr(saving, "MAX_MODEL_BYTES", total - 1)
    refused(path, "MAX_MODEL_BYTES")


CHILD = """
import resource, sys
from descentlab.errors import ModelFileError
from descentlab.models import load_model
with open("/proc/self/status") as status:
    used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (used + 256 * 2**20, resource.RLIM_INFINITY))
for path in sys.argv[1:]:
    try:
        load_model(path)
        print("loaded")
    except ModelFileError:
        print("ModelFileError")
"""


def test_the_issues_files_are_refused_under_a_256_mb_address_space_limit(tmp_path) -> None:
    """The issue's examples, loaded in a child process whose address space may grow by 256 MB
    at most (native allocations included, which tracemalloc does not see): each is refused.
    The padding and the bomb inflate to 320 MB, so reading either whole would fail here."""
    paths = [with_header(tmp_path, lambda h: _set_units(h, 5 * 10**7), name="units.dlab"),
             with_header(tmp_path, lambda h: _declare_array(h, 0, [2 * 10**9]), name="npy.dlab")]
    content = entries(save_model(tmp_path / "good.dlab"))
    padded = dict(content)
    padded["descentlab.json"] += b" " * (320 * 2**20)
    paths.append(write_entries(tmp_path / "padded.dlab", padded, zipfile.ZIP_DEFLATED))
    bomb = dict(content)
    bomb["arrays/0.npy"] += b"\0" * (320 * 2**20)
    paths.append(write_entries(tmp_path / "bomb.dlab", bomb, zipfile.ZIP_DEFLATED))
    done = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["ModelFileError"] * len(paths), done.stderr[-2000:]


# --------------------------------------------------------------------------------------------
# Peak memory of a genuine load: below twice what the loaded model holds (plus a constant)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [None, "sgd", "momentum", "adam", "nadam"])
def test_loading_peaks_below_twice_what_the_loaded_model_holds(tmp_path, optimizer) -> None:
    """What a loaded model holds (weights, gradient buffers, optimizer slots) is the least a
    load can need; the peak while loading stays under twice that plus 4 MB. More sharply: it
    is at most the file's arrays and the model together — no third copy (such as random
    initial weights drawn only to be overwritten)."""
    model = Sequential([Dense(1000, input_dim=1500, activation="relu"), Dense(10)])
    if optimizer is not None:
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(np.ones((4, 1500)), np.ones((4, 10)), verbose=0)
    model.save(str(tmp_path / "m.dlab"))
    del model
    tracemalloc.start()
    loaded = load_model(str(tmp_path / "m.dlab"))
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    weights = sum(w.nbytes for w in loaded.weights)
    stored = weights + sum(s.nbytes for slots in loaded.optimizer.get_state()["slots"].values()
                           for s in slots) if optimizer else weights
    assert held >= 2 * weights  # the weights and their gradient buffers, at least
    assert peak < 2 * held + 4 * 2**20, f"peak {peak:,} bytes for a model holding {held:,}"
    assert peak < held + stored + 4 * 2**20, f"peak {peak:,}: model {held:,}, file {stored:,}"


# --------------------------------------------------------------------------------------------
# ZIP features descentlab never writes, and things that are not regular files
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["descentlab.json", "arrays/0.npy", "arrays/5.npy"])
@pytest.mark.parametrize("fields, match", [
    ({"flag": 0x1}, "encrypted"),
    ({"flag": 0x41}, "encrypted"),                      # strong encryption
    ({"method": 9}, "compression method 9"),            # deflate64
    ({"method": 12}, "compression method 12"),          # bzip2
    ({"method": 14}, "compression method 14"),          # lzma
    ({"method": 99}, "compression method 99"),          # AES
    ({"method": 1234}, "compression method 1234"),
])
def test_zip_features_descentlab_never_writes_are_refused(tmp_path, entry, fields, match):
    raw = open(save_model(tmp_path / "good.dlab"), "rb").read()
    (tmp_path / "bad.dlab").write_bytes(patch_entry(raw, entry, **fields))
    refused(str(tmp_path / "bad.dlab"), match)


@pytest.mark.parametrize("depth", [10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_descriptions_are_refused(tmp_path, depth, opening, closing) -> None:
    content = entries(save_model(tmp_path / "good.dlab"))
    content["descentlab.json"] = (opening * depth + "1" + closing * depth).encode()
    # Reading a description costs a few times its size (bytes, text, parse): bounded by
    # MAX_HEADER_BYTES, the nesting adds nothing.
    refused(write_entries(tmp_path / "deep.dlab", content), "nested too deeply|not a descentlab",
            most=4 * len(content["descentlab.json"]) + SMALL_FILE_PEAK)


def test_deep_nesting_inside_a_valid_description_is_refused(tmp_path) -> None:
    deep = json.loads("[" * 50 + "]" * 50)
    path = with_header(tmp_path, lambda h: h["model"]["config"].update(name=deep))
    refused(path)
    path = with_header(tmp_path, lambda h: h["model"]["config"]["layers"][0].update(
        config={"units": deep}), name="deeper.dlab")
    refused(path)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def within(seconds: float):
    def alarm(signum, frame):
        raise _Timeout(f"load_model did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fifo(tmp_path) -> str:
    path = tmp_path / "pipe.dlab"
    os.mkfifo(path)
    return str(path)


def _fifo_link(tmp_path) -> str:
    link = tmp_path / "link.dlab"
    link.symlink_to(_fifo(tmp_path))
    return str(link)


def _socket(tmp_path) -> str:
    path = str(tmp_path / "s.dlab")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    _socket.keep = server  # type: ignore[attr-defined]
    return path


def _unreadable(tmp_path) -> str:
    path = tmp_path / "secret.dlab"
    save_model(path)
    path.chmod(0)
    return str(path)


@pytest.mark.parametrize("make, match", [
    (lambda tmp: "/proc/self/mem", "not a descentlab model file"),
    (lambda tmp: "/proc/self/status", "not a descentlab model file"),
    (lambda tmp: "/dev/zero", "not a regular file"),
    (lambda tmp: "/dev/null", "not a regular file"),
    (_fifo, "not a regular file"),
    (_fifo_link, "not a regular file"),
    (_socket, "not a regular file|Cannot open"),
    (lambda tmp: str(tmp), "is a folder"),
    (lambda tmp: str(tmp) + "/", "is a folder"),
    (lambda tmp: str(tmp / "missing" / "m.dlab"), "No model file"),
    (lambda tmp: str(tmp / "m\0.dlab"), "not a valid file path"),
])
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path, make, match) -> None:
    path = make(tmp_path)
    with within(10):
        refused(path, match)


@pytest.mark.parametrize("filepath", [123, None, ["m.dlab"], 1.5])
def test_a_path_that_is_no_path_is_a_config_error(filepath) -> None:
    with pytest.raises(dl.errors.ConfigError, match="load_model's filepath must be a file path"):
        load_model(filepath)


@pytest.mark.parametrize("make", [_fifo, lambda tmp: "/dev/null"])
def test_saving_over_a_pipe_or_device_is_refused_and_leaves_it(tmp_path, make) -> None:
    """The atomic write renames a new file over the target: over /dev/null (as root) or a
    FIFO, that would replace the device or pipe by a regular file."""
    path = make(tmp_path)
    kind = os.stat(path).st_mode
    with within(10), pytest.raises(ModelFileError, match="not a regular file"):
        Sequential([Dense(1, input_dim=2)]).save(path)
    assert os.stat(path).st_mode == kind


def _load_as_nobody(path: str) -> str:
    """``load_model(path)`` in a forked child that has given up root (uid/gid 65534): what it
    raised, as text. Root reads files whatever their mode; nobody does not. (The child cannot
    import from root's Python either: what a load imports lazily is imported here first.)"""
    import encodings.cp437  # noqa: F401  (zipfile decodes legacy names with it)

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                load_model(path)
                answer = "loaded"
            except ModelFileError as exc:
                answer = f"ModelFileError: {exc}"
            except BaseException as exc:  # noqa: BLE001 - reported to the parent as text
                answer = f"{type(exc).__name__}: {exc}"
            os.write(write_end, answer.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        answer = stream.read().decode()
    os.waitpid(pid, 0)
    return answer


def test_an_unreadable_file_is_a_model_file_error(tmp_path) -> None:
    if os.geteuid() != 0:
        refused(_unreadable(tmp_path), "Cannot open")
        return
    # as root (CI): the load runs as nobody, on a file in a folder nobody may enter
    folder = tempfile.mkdtemp(prefix="unreadable-")
    try:
        os.chmod(folder, 0o755)
        answer = _load_as_nobody(_unreadable(pathlib.Path(folder)))
    finally:
        shutil.rmtree(folder)
    assert answer.startswith("ModelFileError: Cannot open"), answer


# --------------------------------------------------------------------------------------------
# Descriptions of the wrong type, part by part
# --------------------------------------------------------------------------------------------
PARTS = {
    "model": lambda h: h,
    "config": lambda h: h["model"],
    "layers": lambda h: h["model"]["config"],
    "weights": lambda h: h,
    "count": lambda h: h["weights"],
    "compile": lambda h: h,
    "optimizer_state": lambda h: h,
    "scalars": lambda h: h["optimizer_state"],
    "slots": lambda h: h["optimizer_state"],
    "iterations": lambda h: h["optimizer_state"]["scalars"],
    "train_rng": lambda h: h,
    "dtype": lambda h: h["model"]["config"],
    "input_dim": lambda h: h["model"],
    "arrays": lambda h: h,
}
WRONG = [None, 1, -1, 2.5, "x", [], {}, [None], True, 10**30]


@pytest.mark.parametrize("part", sorted(PARTS))
@pytest.mark.parametrize("value", WRONG, ids=repr)
def test_every_part_of_the_wrong_type_is_a_model_file_error(tmp_path, part, value) -> None:
    """Each part of the description replaced by a value of another type: the file either
    loads into a working model (a value that happens to be valid, such as no compile config)
    or raises ModelFileError — never another exception."""
    path = with_header(tmp_path, lambda h: PARTS[part](h).__setitem__(part, value))
    try:
        model = load_model(path)
    except ModelFileError:
        return
    model.predict(X)
    if model.compiled:
        model.fit(X, Y, epochs=1, verbose=0)


# --------------------------------------------------------------------------------------------
# States that would load and then crash fit are refused at load
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("iterations", [-1, -10**6, 2**53 + 1, 10**400, 1.5, 1e300, "3", True,
                                        None, float("nan")], ids=repr)
def test_impossible_step_counts_are_refused_at_load(tmp_path, iterations) -> None:
    path = with_header(tmp_path, lambda h: h["optimizer_state"]["scalars"].update(
        iterations=iterations))
    refused(path, "iterations")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                       "adam", "adamw", "nadam"])
def test_the_largest_accepted_step_count_trains(tmp_path, optimizer) -> None:
    """At the limit (2⁵³ steps), every optimizer loads and trains without an exception."""
    path = with_header(tmp_path, lambda h: h["optimizer_state"]["scalars"].update(
        iterations=2**53), optimizer=optimizer)
    model = load_model(path)
    model.fit(X, Y, epochs=1, verbose=0)
    assert model.optimizer.iterations == 2**53 + 1  # one batch of 32


def _slot_entry_swap(tmp_path) -> str:
    """Two of the optimizer's slot arrays swapped (entries and descriptions together, so
    every checksum holds): each has the shape of another weight."""
    content = entries(save_model(tmp_path / "good.dlab"))
    header = json.loads(content["descentlab.json"])
    count = header["weights"]["count"]
    a, b = count, count + 2  # kernel 0's and BatchNormalization gamma's first slot
    content[f"arrays/{a}.npy"], content[f"arrays/{b}.npy"] = \
        content[f"arrays/{b}.npy"], content[f"arrays/{a}.npy"]
    header["arrays"][a], header["arrays"][b] = header["arrays"][b], header["arrays"][a]
    content["descentlab.json"] = json.dumps(header).encode()
    return write_entries(tmp_path / "swapped.dlab", content)


def _slots(change):
    def apply(header):
        change(header["optimizer_state"]["slots"])
    return apply


@pytest.mark.parametrize("make", [
    _slot_entry_swap,
    lambda tmp: with_header(tmp, _slots(lambda s: s.update(momentum=s["momentum"] - 1))),
    lambda tmp: with_header(tmp, _slots(lambda s: s.update(momentum=s["momentum"] + 1))),
    lambda tmp: with_header(tmp, _slots(lambda s: s.pop("velocity"))),
    lambda tmp: with_header(tmp, _slots(lambda s: s.update(velocity_2=s.pop("velocity")))),
    lambda tmp: with_header(tmp, _slots(lambda s: s.update(momentum="6"))),
    lambda tmp: with_header(tmp, lambda h: h["optimizer_state"]["scalars"].update(extra=1)),
    lambda tmp: with_header(tmp, lambda h: h.update(optimizer_state=None)),
    lambda tmp: with_header(tmp, lambda h: h["compile"]["optimizer"].update(
        class_name="SGD", config={})),
], ids=["swapped-slots", "one-slot-short", "one-slot-over", "slot-missing", "slot-renamed",
        "count-as-text", "unknown-scalar", "state-without-its-arrays", "other-optimizer"])
def test_an_optimizer_state_that_does_not_fit_the_weights_is_refused_at_load(tmp_path, make):
    refused(make(tmp_path), "inconsistent|corrupted|not a valid")


def test_a_loaded_model_keeps_its_initializers_and_config(tmp_path) -> None:
    """Loading builds without drawing random weights (they are overwritten at once) but the
    layers keep their own initializers: the config round-trips exactly."""
    dl.set_random_seed(3)
    model = Sequential([Dense(4, input_dim=3, kernel_initializer="he_normal",
                              bias_initializer="ones"), Dense(2)])
    model.save(str(tmp_path / "m.dlab"))
    loaded = load_model(str(tmp_path / "m.dlab"))
    assert loaded.get_config() == model.get_config()
    assert type(loaded.layers[0].kernel_initializer).__name__ == "HeNormal"
    dl.set_random_seed(9)
    state = dl.backend.rng().bit_generator.state
    load_model(str(tmp_path / "m.dlab"))
    assert dl.backend.rng().bit_generator.state == state  # loading draws nothing

