"""Results files: plain JSON, written atomically, read back without executing anything.

Every lab and the report write their numbers through :func:`save_json`: the file appears whole
or not at all (a temporary file in the same folder, flushed to disk, then renamed over the
target), and non-finite numbers become ``null`` so that any JSON reader — a browser's
included — can read it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from typing import Any


def plain(value: Any) -> Any:
    """``value`` with NaN and ±inf replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> str:
    """Write ``data`` to ``path`` so that a reader never sees half a file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def save_json(results: Any, path: str | os.PathLike[str]) -> str:
    """``results`` as indented UTF-8 JSON at ``path``, atomically; returns the path."""
    text = json.dumps(plain(results), ensure_ascii=False, indent=1, allow_nan=False)
    return write_atomic(path, text + "\n")
