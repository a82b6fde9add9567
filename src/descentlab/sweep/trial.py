"""One trial: train one configuration, measure it after every epoch, return a record.

:func:`run_trial` is a pure function of its configuration and the data: every random draw
(initial weights, shuffling) comes from the configuration's ``seed``, and BLAS runs on one
thread (the summation order of a matrix product can depend on the thread count). So a trial
gives bit-identical numbers in this process, in a pool worker, or on a Ray node.

After each epoch the trial measures the whole training set and the validation split (not the
running mean over the epoch's batches that ``fit`` prints) and hands these numbers to
``report``; an executor that stops bad trials early (Ray Tune's ASHA) answers ``True`` to stop.

A record (one line of ``trials.jsonl``)::

    {"id": str, "config": {optimizer, learning_rate, batch_size, activation, depth, width,
                           initializer, batch_norm, epochs, seed},
     "status": "ok" | "failed" | "stopped",   # stopped: ended early by the scheduler
     "error": str | null,                     # "ExceptionType: message" when failed
     "epochs": {"train_loss": [...], "train_accuracy": [...],
                "val_loss": [...], "val_accuracy": [...]},     # one entry per epoch run
     "final": {the four, at the last epoch run} ,              # null values if none ran
     "diverged": bool,                         # a loss became NaN/inf (training then stops)
     "epochs_run": int, "seconds": float, "attempts": int, "worker": "host:pid"}

Only ``seconds`` and ``worker`` depend on where and when a trial ran.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from descentlab.sweep.space import SearchSpace, trial_id

METRIC_NAMES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
#: The fields of a record that depend on where and when it ran, not on its configuration.
CIRCUMSTANTIAL = ("seconds", "worker", "attempts")

#: ``report(epoch, metrics) -> stop?``: called after every epoch (1-based).
Report = Callable[[int, dict[str, float]], bool]


@dataclass(frozen=True)
class Data:
    """A classification data set split into training and validation parts."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: int
    description: str


def load_data(space: SearchSpace) -> Data:
    """The space's data set (built-in name or CSV), classes 0..K−1, split stratified into
    training and validation parts with ``split_seed``."""
    from descentlab import datasets

    x, y, description = datasets.load_classification(space.data, seed=space.split_seed,
                                                     target=space.target)
    x_train, x_val, y_train, y_val = datasets.train_test_split(
        x, y, test_size=space.validation_fraction, seed=space.split_seed, stratify=True,
        name="validation_fraction")
    return Data(x_train, y_train, x_val, y_val, int(y.max()) + 1, description)


def build_model(config: dict[str, Any], data: Data) -> Any:
    """The configuration's Dense network, compiled: ``depth`` hidden layers of ``width``
    units, softmax (or sigmoid for two classes) on top."""
    import descentlab as dl
    from descentlab.lab.networks import dense_stack
    from descentlab.lab.training import with_learning_rate

    binary = data.classes == 2
    dl.set_random_seed(int(config["seed"]))
    model = dense_stack(data.x_train.shape[1], [int(config["width"])] * int(config["depth"]),
                        1 if binary else data.classes, "sigmoid" if binary else "softmax",
                        activation=config["activation"],
                        kernel_initializer=config["initializer"],
                        batch_norm=bool(config["batch_norm"]))
    model.compile(optimizer=with_learning_rate(config["optimizer"],
                                               float(config["learning_rate"])),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _measure(model: Any, data: Data) -> dict[str, float]:
    train_loss, train_accuracy = model.evaluate(data.x_train, data.y_train,
                                                batch_size=len(data.x_train), verbose=0)
    val_loss, val_accuracy = model.evaluate(data.x_val, data.y_val, batch_size=len(data.x_val),
                                            verbose=0)
    return {"train_loss": float(train_loss), "train_accuracy": float(train_accuracy),
            "val_loss": float(val_loss), "val_accuracy": float(val_accuracy)}


def record(config: dict[str, Any], epochs: list[dict[str, float]], *, error: str | None = None,
           stopped: bool = False, seconds: float = 0.0, attempts: int = 1,
           worker: str = "") -> dict[str, Any]:
    """The record of a trial from its per-epoch measurements — the one place a record is
    made, whichever executor ran the trial."""
    columns = {name: [e[name] for e in epochs] for name in METRIC_NAMES}
    final = {name: (values[-1] if values else None) for name, values in columns.items()}
    diverged = any(not math.isfinite(v) for e in epochs for v in e.values())
    status = "failed" if error is not None else (
        "stopped" if stopped and len(epochs) < int(config["epochs"]) and not diverged else "ok")
    return {"id": trial_id(config), "config": dict(config), "status": status, "error": error,
            "epochs": columns, "final": final, "diverged": diverged, "epochs_run": len(epochs),
            "seconds": seconds, "attempts": attempts, "worker": worker}


def describe_error(exc: BaseException) -> str:
    """``"TypeName: first line of the message"``: what a failed trial's record keeps."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def train(config: dict[str, Any], data: Data, epochs: list[dict[str, float]],
          report: Report | None = None) -> bool:
    """Train the configuration, appending each epoch's measurements to ``epochs``; returns
    whether ``report`` stopped it early. Exceptions propagate (the caller records them, with
    the epochs measured before)."""
    from threadpoolctl import threadpool_limits

    from descentlab.callbacks import Callback

    stopped = False
    # Fresh copies: data that arrives through Ray's object store is 64-byte aligned, the local
    # pool's is wherever malloc put it, and OpenBLAS's small-matrix kernels can sum in another
    # order at another alignment (seen as 1e-7 differences in the losses). Copies made here
    # sit where they would sit on any executor.
    data = Data(data.x_train.copy(), data.y_train.copy(), data.x_val.copy(), data.y_val.copy(),
                data.classes, data.description)

    class Measure(Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            nonlocal stopped
            metrics = _measure(self.model, data)
            epochs.append(metrics)
            if any(not math.isfinite(v) for v in metrics.values()):
                self.model.stop_training = True  # diverged: nothing more to learn from it
            elif report is not None and report(epoch + 1, metrics):
                stopped = self.model.stop_training = True

    with threadpool_limits(1), np.errstate(all="ignore"):
        model = build_model(config, data)
        batch = config["batch_size"]
        model.fit(data.x_train, data.y_train, epochs=int(config["epochs"]),
                  batch_size="full" if batch == "full" else int(batch), verbose=0,
                  callbacks=[Measure()], on_divergence="stop")
    return stopped


def run_trial(config: dict[str, Any], data: Data, report: Report | None = None,
              attempts: int = 1) -> dict[str, Any]:
    """Train ``config`` on ``data`` and return its record; an exception becomes a record
    with status ``"failed"`` and the error, never a crash of the sweep."""
    started = time.perf_counter()
    epochs: list[dict[str, float]] = []
    try:
        stopped = train(config, data, epochs, report)
    except Exception as exc:  # recorded: one bad trial does not end the sweep
        return record(config, epochs, error=describe_error(exc),
                      seconds=time.perf_counter() - started, attempts=attempts,
                      worker=worker_name())
    return record(config, epochs, stopped=stopped, seconds=time.perf_counter() - started,
                  attempts=attempts, worker=worker_name())
