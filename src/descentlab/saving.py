"""One model file: architecture, weights, optimizer state and training stream, written atomically.

The file is a ZIP archive (whatever its extension: ``.dlab``, ``.keras``, ``.h5``, ``.hdf5``)::

    descentlab.json          format tag, versions, model/compile config, optimizer scalars,
                             the training generator's state, and a SHA-256 of every array
    arrays/<k>.npy           weights, then optimizer slots, in the order descentlab.json lists

Safety:

* **No pickle.** Arrays are read with ``allow_pickle=False`` and the JSON only describes; nothing
  in a file is ever executed.
* **Atomic writes.** The archive is written to a temporary file in the same folder, flushed to
  disk, then renamed over the target in one step: a crash mid-save leaves the old file intact.
* **Checked reads.** A truncated, corrupted or foreign file raises :class:`ModelFileError` with a
  sentence saying what is wrong; checksums catch silent corruption.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from descentlab.errors import DescentLabError, ModelFileError

FORMAT_TAG = "descentlab-model"
FORMAT_VERSION = 1
_HEADER = "descentlab.json"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _collect(model: Any, include_optimizer: bool) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The JSON header and the list of arrays that describe ``model`` completely."""
    from descentlab import __version__, losses, optimizers

    arrays: list[np.ndarray] = list(model.weights)
    header: dict[str, Any] = {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "descentlab_version": __version__,
        "model": {"class_name": type(model).__name__, "config": model.get_config(),
                  "input_dim": model.input_dim, "built": model.built},
        "weights": {"count": len(arrays)},
        "compile": None,
        "optimizer_state": None,
        "train_rng": None,
    }
    if model.compiled:
        header["compile"] = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": losses.serialize(model.loss),
            "metrics": [m if isinstance(m, str) else getattr(m, "name", str(m))
                        for m in model._metric_identifiers],
        }
        if include_optimizer:
            state = model.optimizer.get_state()
            slots = state.get("slots", {})
            header["optimizer_state"] = {
                "scalars": {k: v for k, v in state.items() if k != "slots"},
                "slots": {name: len(values) for name, values in slots.items()},
            }
            for name in slots:
                arrays.extend(slots[name])
    if model._train_rng is not None:
        header["train_rng"] = model._train_rng.bit_generator.state
    return header, arrays


def save_model(model: Any, filepath: str | os.PathLike[str],
               include_optimizer: bool = True) -> None:
    """Write ``model`` to ``filepath`` atomically (see the module docstring for the format)."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ModelFileError(f"Cannot save the model to {path!r}: it is a folder; give a file name "
                             "such as 'model.dlab'.")
    header, arrays = _collect(model, include_optimizer)
    blobs = [_array_bytes(a) for a in arrays]
    header["arrays"] = [
        {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": hashlib.sha256(b).hexdigest()}
        for a, b in zip(arrays, blobs, strict=True)
    ]
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ModelFileError(f"Cannot save the model to {path!r}: the folder {folder!r} does not "
                             "exist.")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr(_HEADER, json.dumps(header, indent=1))
                for k, blob in enumerate(blobs):
                    archive.writestr(f"arrays/{k}.npy", blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


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


def load_model(filepath: str | os.PathLike[str]) -> Any:
    """Rebuild the model saved at ``filepath``, ready to predict or to resume training exactly."""
    from descentlab import layers as layers_module
    from descentlab import losses, optimizers
    from descentlab.models import Sequential

    path = os.fspath(filepath)
    header, arrays = _read(path)
    try:
        spec = header["model"]
        if spec["class_name"] != "Sequential":
            raise ModelFileError(f"{path!r} holds an unknown model type {spec['class_name']!r}.")
        config = spec["config"]
        from descentlab import backend

        previous = backend.floatx()
        backend.set_floatx(config.get("dtype", previous))
        try:
            model = Sequential(name=config.get("name"))
            for layer_spec in config["layers"]:
                model.add(layers_module.deserialize(layer_spec))
            if spec.get("built") and not model.built:
                model.build(spec["input_dim"])
        finally:
            backend.set_floatx(previous)
        count = header["weights"]["count"]
        if count != len(model.weights):
            raise ModelFileError(f"{path!r} is inconsistent: {count} weights for a model of "
                                 f"{len(model.weights)}.")
        model.set_weights(arrays[:count])
        compile_spec = header.get("compile")
        if compile_spec:
            optimizer = optimizers.deserialize(compile_spec["optimizer"])
            model.compile(optimizer=optimizer, loss=losses.get(compile_spec["loss"]),
                          metrics=compile_spec["metrics"])
            state_spec = header.get("optimizer_state")
            if state_spec:
                slots, k = {}, count
                for name, n in state_spec["slots"].items():
                    slots[name] = arrays[k:k + n]
                    k += n
                state = dict(state_spec["scalars"])
                state["slots"] = slots
                optimizer.set_state(state)
        if header.get("train_rng"):
            rng = np.random.default_rng()
            rng.bit_generator.state = header["train_rng"]
            model._train_rng = rng
    except ModelFileError:
        raise
    except DescentLabError as exc:
        raise ModelFileError(
            f"{path!r} describes a model descentlab cannot rebuild: {exc}"
        ) from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(
            f"{path!r} is not a valid descentlab model file ({type(exc).__name__}: {exc})."
        ) from None
    return model
