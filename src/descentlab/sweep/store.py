"""The sweep's folder: the space it ran, an append-only record of finished trials, the tables.

::

    OUT/sweep.json      the search space and the ids of its trials (written when the sweep starts)
    OUT/trials.jsonl    one JSON line per finished trial, appended the moment it ends
    OUT/results.json    every trial and the summary (written when the sweep ends)
    OUT/results.csv     one row per trial: its settings and final numbers

``trials.jsonl`` is the sweep's memory. Each record is appended with a single ``write`` on a
file opened with ``O_APPEND`` and flushed to disk (``fsync``) before the next trial is
counted, so a crash can cost at most the line being written: a torn last line (no newline)
is cut off when the store is next opened. A trial id is written at most once, so a trial
retried or reported twice is still recorded once. ``--resume`` reads the ids back and runs
only the trials that are missing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from descentlab.errors import ConfigError, DataError
from descentlab.lab.results import plain, save_json, write_atomic
from descentlab.sweep.space import AXES

SCHEMA = "descentlab.sweep/1"
STATE, TRIALS, RESULTS_JSON, RESULTS_CSV = ("sweep.json", "trials.jsonl", "results.json",
                                            "results.csv")


class TrialStore:
    """Finished trials, one JSON line each, in ``folder/trials.jsonl``."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, TRIALS)
        self._lock = threading.Lock()
        self._repair()
        self._ids = set(self.records())

    def _repair(self) -> None:
        """Cut a torn last line (a crash in the middle of an append) off the file."""
        try:
            with open(self.path, "rb+") as stream:
                data = stream.read()
                if data and not data.endswith(b"\n"):
                    stream.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def records(self) -> dict[str, dict[str, Any]]:
        """``{id: record}`` of every trial recorded so far, in the order they finished."""
        out: dict[str, dict[str, Any]] = {}
        try:
            with open(self.path, encoding="utf-8") as stream:
                for number, line in enumerate(stream, 1):
                    if not line.endswith("\n"):
                        break  # a line still being written by another process
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        raise DataError(f"{self.path!r} line {number} is not a trial record; "
                                        "the file was edited by hand?") from None
                    out.setdefault(rec["id"], rec)
        except FileNotFoundError:
            pass
        return out

    def __contains__(self, trial_id: str) -> bool:
        return trial_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def append(self, record: dict[str, Any]) -> bool:
        """Record a finished trial, durably; ``False`` (and nothing written) if its id is
        already recorded."""
        line = (json.dumps(plain(record), ensure_ascii=False, allow_nan=False) + "\n")
        with self._lock:
            if record["id"] in self._ids:
                return False
            handle = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
            try:
                data = line.encode("utf-8")
                written = os.write(handle, data)
                while written < len(data):  # a short write (a full disk, a signal)
                    written += os.write(handle, data[written:])
                os.fsync(handle)
            finally:
                os.close(handle)
            self._ids.add(record["id"])
        return True


def write_state(folder: str, space: dict[str, Any], ids: Sequence[str], resume: bool) -> None:
    """Write ``sweep.json``, or — when resuming — check it describes the same space."""
    path = os.path.join(folder, STATE)
    if os.path.exists(path):
        from descentlab.lab.results import load_json

        previous = load_json(path)
        if not resume:
            raise ConfigError(f"{folder!r} already holds a sweep; add --resume to continue it, "
                              "or choose another --out.")
        if previous.get("space") != plain(space):
            changed = sorted(k for k in set(space) | set(previous.get("space", {}))
                             if plain(space).get(k) != previous.get("space", {}).get(k))
            raise ConfigError(f"--resume: {folder!r} holds a sweep of another search space "
                              f"(differs in {', '.join(changed)}); use the same settings, or "
                              "another --out.")
        return
    from descentlab import __version__

    save_json({"schema": SCHEMA, "version": __version__, "space": space, "trials": list(ids)},
              path)


CSV_COLUMNS = ("id", "status", *AXES, "seed", "epochs_run", "final_train_loss",
               "final_train_accuracy", "final_val_loss", "final_val_accuracy", "diverged",
               "seconds", "attempts", "worker", "error")


def csv_rows(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in records:
        row = {"id": rec["id"], "status": rec["status"], **rec["config"],
               "epochs_run": rec["epochs_run"], "diverged": rec["diverged"],
               "seconds": rec["seconds"], "attempts": rec["attempts"], "worker": rec["worker"],
               "error": rec["error"] or ""}
        row.update({f"final_{k}": ("" if v is None else v) for k, v in rec["final"].items()})
        rows.append(row)
    return rows


def write_tables(folder: str, results: dict[str, Any]) -> list[str]:
    """``results.json`` (everything) and ``results.csv`` (a row per trial), atomically."""
    paths = [save_json(results, os.path.join(folder, RESULTS_JSON))]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(results["trials"]))
    paths.append(write_atomic(os.path.join(folder, RESULTS_CSV), buffer.getvalue()))
    return paths
