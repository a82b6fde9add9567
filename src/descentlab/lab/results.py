"""Results files: plain JSON, written atomically, read back without executing anything.

Every lab and the report write their numbers through :func:`save_json`: the file appears whole
or not at all (a temporary file in the same folder, flushed to disk, then renamed over the
target), and non-finite numbers become ``null`` so that any JSON reader — a browser's
included — can read it.

Figures are swapped in a whole folder at a time (:func:`draw_figures`, :func:`replace_folder`):
drawn into a new folder that takes the place of the previous one only once every figure is
drawn, so a rerun never mixes old and new figures and an interruption leaves the previous ones
whole.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
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


def new_folder(parent: str, prefix: str) -> str:
    """A new, empty folder ``parent/prefix-<random>`` (with the umask's mode, unlike
    ``tempfile.mkdtemp``'s 0700, so that shared results stay readable)."""
    while True:
        path = os.path.join(parent, f"{prefix}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def replace_folder(target: str, new: str) -> None:
    """Put folder ``new`` in the place of ``target`` (whose old contents are deleted)."""
    if os.path.lexists(target):
        name = os.path.basename(target)
        old = new_folder(os.path.dirname(target), f".{name}-old")
        os.replace(target, os.path.join(old, name))
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


#: The list, in a lab command's figures folder, of the files the command drew there.
FIGURES_LIST = ".descentlab-figures"


def figures_folder(out: str, name: str, flag: str = "--out") -> str:
    """``out/name``, the folder of a lab command's figures, checked before any work: it may be
    replaced whole only if it is missing, empty, or holds nothing but the figures descentlab
    drew there (listed in its :data:`FIGURES_LIST`). A file of the user's in it, or a file of
    that name in the way, is a :class:`~descentlab.errors.ConfigError`: never deleted."""
    from descentlab.errors import ConfigError

    path = os.path.join(out, name)
    if not os.path.lexists(path):
        return path
    if os.path.islink(path) or not os.path.isdir(path):
        raise ConfigError(f"{path!r} is in the way of the figures folder (not a folder that "
                          f"descentlab drew); move it or choose another {flag}.")
    try:
        with open(os.path.join(path, FIGURES_LIST), encoding="utf-8") as stream:
            drawn = set(stream.read().splitlines())
    except (OSError, UnicodeDecodeError):
        drawn = set()
    foreign = sorted(set(os.listdir(path)) - drawn - {FIGURES_LIST})
    if foreign:
        shown = ", ".join(repr(f) for f in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ConfigError(f"the figures folder {path!r} holds files descentlab did not draw "
                          f"({shown}); a run replaces that folder whole, so move them out "
                          f"first or choose another {flag}.")
    return path


def draw_figures(out: str, name: str, draw: Callable[[str], list[str]]) -> list[str]:
    """Draw figures with ``draw(folder)`` (which returns the paths it wrote) into a new folder
    that replaces ``out/name`` only once all are drawn; returns the figures' final paths.

    Rerunning never leaves a mix of old and new figures, and a failure or Ctrl-C while drawing
    leaves the previous figures whole. Only ``out/name`` is replaced, and only if it holds
    nothing but earlier figures (:func:`figures_folder`): the user's files in ``out`` stay."""
    target = figures_folder(out, name)
    drawing = new_folder(out, f".{name}-drawing")
    try:
        names = [os.path.relpath(path, drawing) for path in draw(drawing)]
        write_atomic(os.path.join(drawing, FIGURES_LIST), "".join(f"{n}\n" for n in names))
        figures_folder(out, name)  # nothing of the user's arrived meanwhile
        replace_folder(target, drawing)
    finally:
        shutil.rmtree(drawing, ignore_errors=True)  # gone already, unless drawing failed
    return [os.path.join(target, n) for n in names]


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
