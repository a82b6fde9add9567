"""Model files: a description (JSON) and arrays in one ZIP archive, written atomically.

This module knows the file format, not the model: :meth:`Sequential.save` hands it a
JSON-ready description and a list of arrays, and ``load_model`` rebuilds the model from what
:func:`read_model_file` returns. The archive (whatever its extension: ``.dlab``, ``.keras``,
``.h5``, ``.hdf5``)::

    descentlab.json          format tag, versions, the model's description (architecture,
                             compile arguments, optimizer scalars, training stream state) and a
                             shape, dtype and SHA-256 for every array
    arrays/<k>.npy           the arrays, in the order descentlab.json lists them

Safety:

* **No pickle.** Arrays are read with ``allow_pickle=False`` and the JSON only describes; nothing
  in a file is ever executed.
* **Atomic writes** (:func:`descentlab.files.atomic_write`): a crash mid-save leaves the old file
  intact; the file keeps the mode a new file gets (or the old file's).
* **Checked reads.** A truncated, corrupted or foreign file raises :class:`ModelFileError` with a
  sentence saying what is wrong; checksums catch silent corruption.
* **Bounded reads.** What a file declares is checked before anything is decompressed or
  allocated: only regular files are opened; the archive's table of contents, the description
  and the arrays' total size are held to the limits below; each entry's declared size must be
  what its array's shape needs, and it is read piece by piece into a buffer of that size, so a
  compression bomb is never inflated; each ``.npy`` header must state the described shape and
  dtype before its data is used. A file therefore cannot make ``load_model`` allocate more
  than the arrays it holds, at most :data:`MAX_MODEL_BYTES` (and ``load_model`` checks the
  architecture against them before building it).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import struct
import zipfile
from typing import Any, BinaryIO

import numpy as np

from descentlab import __version__
from descentlab.errors import ModelFileError
from descentlab.files import atomic_write

FORMAT_TAG = "descentlab-model"
FORMAT_VERSION = 1
_HEADER = "descentlab.json"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Keys of descentlab.json that belong to the format, not to the description.
_FORMAT_KEYS = ("format", "format_version", "descentlab_version", "arrays")

# Limits, checked before anything is decompressed or allocated. A module attribute may be raised
# (``descentlab.saving.MAX_MODEL_BYTES = 4 * 2**30``) to load a larger model.
#: The most bytes of arrays (weights and optimizer state together) a model file may declare:
#: 1 GiB, i.e. 268 million float32 numbers (a model of ~89 million parameters with Adam's state).
MAX_MODEL_BYTES = 2**30
#: The most bytes the JSON description (descentlab.json) may take.
MAX_HEADER_BYTES = 16 * 2**20
#: The most entries (the description and the arrays) an archive may list.
MAX_ENTRIES = 10_000
_DIRECTORY_BYTES_PER_ENTRY = 256  # the ZIP's table of contents: ~60 bytes an entry here
_MAX_NPY_HEADER_BYTES = 4096  # numpy writes 128 bytes for the arrays of a model
_MAX_DIMENSIONS = 8
_DTYPES = ("<f4", "<f8", ">f4", ">f8")  # the arrays of a model are float32 or float64
_CHUNK_BYTES = 2**20


def _array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_model_file(filepath: str | os.PathLike[str], content: dict[str, Any],
                     arrays: list[np.ndarray]) -> None:
    """Write ``content`` (JSON-ready) and ``arrays`` to ``filepath`` atomically, creating
    missing folders. :func:`read_model_file` gives them back."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ModelFileError(f"Cannot save the model to {path!r}: it is a folder; give a file name "
                             "such as 'model.dlab'.")
    if os.path.exists(path) and not os.path.isfile(path):
        # The atomic rename would put a regular file in place of the pipe or device.
        raise ModelFileError(f"Cannot save the model to {path!r}: it is not a regular file (a "
                             "pipe or a device?); give a file name such as 'model.dlab'.")
    blobs = [_array_bytes(a) for a in arrays]
    header = {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "descentlab_version": __version__,
        **content,
        "arrays": [{"shape": list(a.shape), "dtype": a.dtype.str,
                    "sha256": hashlib.sha256(b).hexdigest()}
                   for a, b in zip(arrays, blobs, strict=True)],
    }

    def write(stream: BinaryIO) -> None:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_HEADER, json.dumps(header, indent=1))
            for k, blob in enumerate(blobs):
                archive.writestr(f"arrays/{k}.npy", blob)

    atomic_write(path, write)


def read_model_file(filepath: str | os.PathLike[str],
                    ) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The description and the arrays of a file written by :func:`write_model_file`, checked
    (format, version, limits, sizes, checksums, shapes) before anything large is read or
    allocated; anything else raises :class:`ModelFileError`."""
    path = os.fspath(filepath)
    handle = _open_regular_file(path)
    with handle:
        header, arrays = _read(handle, path)
    content = {k: v for k, v in header.items() if k not in _FORMAT_KEYS}
    return content, arrays


def _open_regular_file(path: str) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file of a plausible size.

    Opened without blocking and checked on the open descriptor: a FIFO would otherwise wait
    for a writer forever, and a device (``/dev/zero``) or ``/proc`` file is no model file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ModelFileError(f"No model file at {path!r}.") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path!r} is a folder, not a model file.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot open the model file {path!r}: {exc.strerror}.") from None
    except ValueError:  # a NUL character in the path
        raise ModelFileError(f"{path!r} is not a valid file path.") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ModelFileError(f"{path!r} is a folder, not a model file.")
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{path!r} is not a regular file (a pipe, a device or a "
                                 "socket?), so not a descentlab model file.")
        if info.st_size < _END_OF_DIRECTORY.size:  # /proc files, too, say 0 bytes
            raise ModelFileError(f"{path!r} is not a descentlab model file ({info.st_size} "
                                 "bytes: too short to be one).")
        most = MAX_MODEL_BYTES + MAX_HEADER_BYTES + _DIRECTORY_BYTES_PER_ENTRY * MAX_ENTRIES
        if info.st_size > most:
            raise ModelFileError(
                f"{path!r} is {info.st_size:,} bytes, more than the largest model file "
                f"descentlab loads ({most:,} bytes; see descentlab.saving.MAX_MODEL_BYTES).")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read(handle: BinaryIO, path: str) -> tuple[dict[str, Any], list[np.ndarray]]:
    try:
        start = handle.read(8)
        if start == _HDF5_SIGNATURE:
            raise ModelFileError(
                f"{path!r} is an HDF5 file (saved by Keras?), not a descentlab model file; "
                "descentlab reads only files written by model.save in descentlab."
            )
        if not start.startswith(b"PK"):
            raise ModelFileError(f"{path!r} is not a descentlab model file (unknown format).")
        _check_directory(handle, path)
        with zipfile.ZipFile(handle) as archive:
            header = _read_header(archive, path)
            specs = _array_specs(header, path)
            expected = {_HEADER, *(f"arrays/{k}.npy" for k in range(len(specs)))}
            names = archive.namelist()
            if len(names) != len(set(names)) or set(names) != expected:
                arrays_part = f" and arrays/0.npy … arrays/{len(specs) - 1}.npy" if specs else ""
                raise ModelFileError(f"{path!r} is not a descentlab model file: its entries "
                                     f"are not {_HEADER}{arrays_part}.")
            arrays = [_read_array(archive, k, shape, dtype, digest, path)
                      for k, (shape, dtype, digest) in enumerate(specs)]
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError, TypeError,
            UnicodeDecodeError, OSError, RecursionError, NotImplementedError,
            RuntimeError) as exc:
        raise ModelFileError(
            f"{path!r} is truncated or corrupted and cannot be read ({type(exc).__name__}: {exc})."
        ) from None
    return header, arrays


_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")  # the ZIP's last record (without its comment)


def _check_directory(handle: BinaryIO, path: str) -> None:
    """Refuse an archive whose table of contents is too large, before ``zipfile`` parses it
    (it builds one object per entry)."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, _END_OF_DIRECTORY.size + 0xFFFF)  # + the longest comment
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or tail_size - at < _END_OF_DIRECTORY.size:
        raise ModelFileError(f"{path!r} is truncated or corrupted: it has no ZIP directory.")
    _, _, _, _, entries, directory_size, _, _ = _END_OF_DIRECTORY.unpack_from(tail, at)
    zip64 = at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07"
    if zip64 or entries > MAX_ENTRIES or \
            directory_size > _DIRECTORY_BYTES_PER_ENTRY * MAX_ENTRIES:
        raise ModelFileError(
            f"{path!r} lists more entries than a descentlab model file may hold "
            f"({MAX_ENTRIES:,} at most).")
    handle.seek(0)


def _entry(archive: zipfile.ZipFile, name: str, most: int, path: str) -> zipfile.ZipInfo:
    """The entry ``name``, if it is one descentlab could have written and at most ``most``
    bytes once decompressed (checked before anything is decompressed)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ModelFileError(f"{path!r} is incomplete: it has no entry {name!r}.") from None
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{path!r}: entry {name!r} is encrypted; descentlab model files "
                             "never are.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"{path!r}: entry {name!r} uses ZIP compression method "
                             f"{info.compress_type}; descentlab reads stored or deflated "
                             "entries only.")
    if info.file_size > most:
        raise ModelFileError(f"{path!r}: entry {name!r} declares {info.file_size:,} bytes, "
                             f"more than it may hold ({most:,}).")
    return info


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> bytearray:
    """The bytes of an entry, read piece by piece into one buffer of its declared size: never
    more than that, however the entry was compressed."""
    size = info.file_size
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    with archive.open(info) as stream:
        while filled < size:
            chunk = stream.read(min(_CHUNK_BYTES, size - filled))
            if not chunk:
                break
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if filled != size or stream.read(1):
            raise ModelFileError(f"{path!r} is corrupted: entry {info.filename!r} does not "
                                 "hold the size its directory declares.")
    return buffer


def _read_header(archive: zipfile.ZipFile, path: str) -> dict[str, Any]:
    if _HEADER not in archive.NameToInfo:
        raise ModelFileError(f"{path!r} is a ZIP archive but not a descentlab model file.")
    info = _entry(archive, _HEADER, MAX_HEADER_BYTES, path)
    text = _read_entry(archive, info, path).decode("utf-8")
    try:
        header = json.loads(text)
    except RecursionError:
        raise ModelFileError(f"{path!r} is corrupted: its description ({_HEADER}) is nested "
                             "too deeply.") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_TAG:
        raise ModelFileError(f"{path!r} is not a descentlab model file.")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} uses model-file format version {header.get('format_version')!r}; "
            f"this descentlab reads version {FORMAT_VERSION}."
        )
    return header


def _array_specs(header: dict[str, Any], path: str) -> list[tuple[tuple[int, ...], str, str]]:
    """``(shape, dtype, sha256)`` of every array the header lists, each checked, and their
    total size against :data:`MAX_MODEL_BYTES`."""
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) >= MAX_ENTRIES:
        raise ModelFileError(f"{path!r} is corrupted: its list of arrays is missing or too long.")
    checked, total = [], 0
    for k, spec in enumerate(specs):
        shape = spec.get("shape") if isinstance(spec, dict) else None
        dtype = spec.get("dtype") if isinstance(spec, dict) else None
        digest = spec.get("sha256") if isinstance(spec, dict) else None
        if not (isinstance(shape, list) and len(shape) <= _MAX_DIMENSIONS
                and all(type(n) is int and 0 <= n for n in shape)
                and dtype in _DTYPES and isinstance(digest, str) and len(digest) == 64):
            raise ModelFileError(f"{path!r} is corrupted: array {k} is described as {spec!r}.")
        total += math.prod(shape) * np.dtype(dtype).itemsize
        if total > MAX_MODEL_BYTES:
            raise ModelFileError(
                f"{path!r} declares more than {MAX_MODEL_BYTES:,} bytes of weights and "
                "optimizer state, the most descentlab loads (descentlab.saving.MAX_MODEL_BYTES)."
            )
        checked.append((tuple(shape), dtype, digest))
    return checked


def _read_array(archive: zipfile.ZipFile, k: int, shape: tuple[int, ...], dtype: str,
                digest: str, path: str) -> np.ndarray:
    """Array ``k``, checked against its description before and after reading: the entry's
    size before, the checksum and the ``.npy`` header's shape and dtype after."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    info = _entry(archive, f"arrays/{k}.npy", nbytes + _MAX_NPY_HEADER_BYTES, path)
    if info.file_size < nbytes:
        raise ModelFileError(f"{path!r} is corrupted: array {k} is smaller than its shape "
                             f"{list(shape)} needs.")
    buffer = _read_entry(archive, info, path)
    if hashlib.sha256(buffer).hexdigest() != digest:
        raise ModelFileError(f"{path!r} is corrupted: array {k} fails its checksum.")
    # The .npy header, parsed from its own few bytes; the data is then viewed, not copied.
    stream = io.BytesIO(bytes(buffer[:_MAX_NPY_HEADER_BYTES]))
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0)):
        raise ModelFileError(f"{path!r} is corrupted: array {k} has .npy version {version}.")
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    stored_shape, fortran_order, stored_dtype = read_header(stream)
    offset = stream.tell()
    if tuple(stored_shape) != shape or stored_dtype.str != dtype or fortran_order \
            or len(buffer) - offset != nbytes:
        raise ModelFileError(f"{path!r} is corrupted: array {k} has the wrong shape.")
    if nbytes == 0:
        return np.zeros(shape, dtype=dtype)
    return np.frombuffer(buffer, dtype=dtype, offset=offset).reshape(shape)
