"""One atomic writer: a file appears whole or not at all, with the mode a file should have.

:func:`atomic_write` writes to a temporary file in the target's folder, flushes it to disk
(``fsync``), then renames it over the target in one step (``os.replace``). A crash or an error
mid-write leaves the old file as it was, and no temporary file behind.

The file's mode (its permission bits) is what a user expects of an ordinary write:

* a new file gets the mode the umask gives any new file (``0o666 & ~umask``: 0644 under the
  usual umask 022, 0600 under 077) — not the 0600 that ``tempfile.mkstemp`` would impose;
* an existing file keeps its mode.

The temporary name is short whatever the target's name, so a name of the longest legal length
(255 bytes on most file systems) still works.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO

#: At most this many bytes of the target's name go into the temporary name (for a reader of
#: the folder listing); the rest of the temporary name is 22 bytes.
_NAME_BYTES_IN_TEMPORARY = 64


def atomic_write(path: str | os.PathLike[str],
                 data: bytes | str | Callable[[BinaryIO], None]) -> str:
    """Write ``data`` to ``path`` atomically; returns the path.

    ``data``: bytes, text (written as UTF-8), or a function that writes to the binary stream it
    is given (for content produced piece by piece, such as a ZIP archive). Missing folders on
    the way to ``path`` are created.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    mode = _existing_mode(path)
    temporary = os.path.join(folder, _temporary_name(os.path.basename(path)))
    # 0o666 minus the umask, as for any new file; O_EXCL: never write into someone else's file.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            if mode is not None:
                os.fchmod(stream.fileno(), mode)  # an existing file keeps its mode
            _write(stream, data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_folder(folder)
    return path


def _write(stream: BinaryIO, data: bytes | str | Callable[[BinaryIO], None]) -> None:
    if callable(data):
        data(stream)
    elif isinstance(data, str):
        stream.write(data.encode("utf-8"))
    else:
        stream.write(data)


def _existing_mode(path: str) -> int | None:
    """The permission bits of the file at ``path``, or None if there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def _temporary_name(name: str) -> str:
    """``.<start of name>.<random>.tmp``: hidden, recognisable, and short enough for any name."""
    start = os.fsencode(name)[:_NAME_BYTES_IN_TEMPORARY]
    return f".{start.decode('utf-8', errors='ignore')}.{secrets.token_hex(8)}.tmp"


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
