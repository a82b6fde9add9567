"""Results files: plain JSON, written atomically, read back without executing anything.

Every lab and the report write their numbers through :func:`save_json`: the file appears whole
or not at all (a temporary file in the same folder, flushed to disk, then renamed over the
target), and non-finite numbers become ``null`` so that any JSON reader — a browser's
included — can read it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

from descentlab.files import atomic_write


def plain(value: Any) -> Any:
    """``value`` with NaN and ±inf replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def prepare_folder(path: str | os.PathLike[str], what: str = "output folder",
                   flag: str = "--out") -> str:
    """Create ``path`` if needed and check it can be written to, before any work is done.

    A file in the way, a missing parent that cannot be made, or no permission becomes a
    :class:`~descentlab.errors.ConfigError` that names the folder (and ``flag``, the option
    that chose it), not a traceback minutes later.
    """
    from descentlab.errors import ConfigError

    path = os.fspath(path)
    if not path:
        raise ConfigError(f"the {what} must be a path; got an empty one.")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"the {what} {path!r} is a file, not a folder; choose another "
                          f"{flag}.")
    try:
        os.makedirs(path, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test.", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write to the {what} {path!r}: "
                          f"{exc.strerror or exc}.") from None
    return path


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> str:
    """Write ``data`` to ``path`` so that a reader never sees half a file (see
    :func:`descentlab.files.atomic_write`: same-folder temporary file, fsync, rename; the file
    keeps the mode a new file gets, or the old file's)."""
    return atomic_write(path, data)


def save_json(results: Any, path: str | os.PathLike[str]) -> str:
    """``results`` as indented UTF-8 JSON at ``path``, atomically; returns the path."""
    text = json.dumps(plain(results), ensure_ascii=False, indent=1, allow_nan=False)
    return write_atomic(path, text + "\n")


def load_json(path: str | os.PathLike[str]) -> Any:
    """A JSON file written by :func:`save_json` (plain JSON: nothing is executed); a missing
    or unreadable file is a :class:`~descentlab.errors.DataError` that names it."""
    from descentlab.errors import DataError

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise DataError(f"results file {path!r} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path!r} is not a JSON file ({exc}).") from None
