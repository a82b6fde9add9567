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
"""

from __future__ import annotations

import hashlib
import io
import json
import os
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
    (format, version, checksums, shapes); anything else raises :class:`ModelFileError`."""
    header, arrays = _read(os.fspath(filepath))
    content = {k: v for k, v in header.items() if k not in _FORMAT_KEYS}
    return content, arrays


def _read(path: str) -> tuple[dict[str, Any], list[np.ndarray]]:
    if not os.path.exists(path):
        raise ModelFileError(f"No model file at {path!r}.")
    if os.path.isdir(path):
        raise ModelFileError(f"{path!r} is a folder, not a model file.")
    with open(path, "rb") as handle:
        start = handle.read(8)
    if start == _HDF5_SIGNATURE:
        raise ModelFileError(
            f"{path!r} is an HDF5 file (saved by Keras?), not a descentlab model file; "
            "descentlab reads only files written by model.save in descentlab."
        )
    if not start.startswith(b"PK"):
        raise ModelFileError(f"{path!r} is not a descentlab model file (unknown format).")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if _HEADER not in names:
                raise ModelFileError(f"{path!r} is a ZIP archive but not a descentlab model file.")
            header = json.loads(archive.read(_HEADER).decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT_TAG:
                raise ModelFileError(f"{path!r} is not a descentlab model file.")
            if header.get("format_version") != FORMAT_VERSION:
                raise ModelFileError(
                    f"{path!r} uses model-file format version {header.get('format_version')!r}; "
                    f"this descentlab reads version {FORMAT_VERSION}."
                )
            arrays = []
            for k, spec in enumerate(header["arrays"]):
                blob = archive.read(f"arrays/{k}.npy")
                if hashlib.sha256(blob).hexdigest() != spec["sha256"]:
                    raise ModelFileError(f"{path!r} is corrupted: array {k} fails its checksum.")
                array = np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)
                if list(array.shape) != spec["shape"] or array.dtype.str != spec["dtype"]:
                    raise ModelFileError(f"{path!r} is corrupted: array {k} has the wrong shape.")
                arrays.append(array)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, ValueError, TypeError,
            UnicodeDecodeError, OSError) as exc:
        raise ModelFileError(
            f"{path!r} is truncated or corrupted and cannot be read ({type(exc).__name__}: {exc})."
        ) from None
    return header, arrays
