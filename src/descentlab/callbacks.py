"""Callbacks: code that ``fit`` calls at the start and end of training, epochs and batches.

Keras' semantics: ``History`` records the logs of every epoch, ``EarlyStopping`` stops when a
monitored value stops improving, ``ModelCheckpoint`` saves the model (every epoch, or only when
the monitored value improves). The progress output of ``fit`` is a callback too.
``GradientMonitor`` records :mod:`descentlab.diagnostics`' gradient-flow measurements during
``fit``.

A callback knows the model only through its public methods (``save``, ``get_weights``,
``stop_training``, ...): this module imports no model.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab import diagnostics, validation
from descentlab.errors import ConfigError, DataError


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being trained."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, float] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None: ...


class History(Callback):
    """Per-epoch logs of a ``fit`` call: ``history.history["loss"]``, ``history.epoch``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"

    def __getstate__(self) -> dict[str, Any]:
        # Pickled (inside a TrainingDiverged, from a worker process) without the model it
        # belonged to: the logs are the history; the model would be a copy, not the model.
        return {**self.__dict__, "model": None}


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class CallbackList:
    """Calls the hooks of every callback; batch hooks only of those that define them, so that an
    empty hook costs nothing in the training loop."""

    def __init__(self, callbacks: Sequence[Callback], *, model: Any, history: History,
                 verbose: int, params: dict[str, Any]) -> None:
        if not isinstance(callbacks, (list, tuple)):
            raise validation.fail("callbacks", "a list of Callback objects "
                                  "([EarlyStopping(...), ...])", callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise validation.fail("each of callbacks", "a Callback object "
                                      "(EarlyStopping(...), ...)", cb)
        self.callbacks = list(callbacks)
        if verbose:
            self.callbacks.insert(0, LiveProgbarLogger() if verbose == 1 else ProgbarLogger())
        self.callbacks.append(history)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_end")]
        self.wants_batch_begin = bool(self._batch_begin)
        self.wants_batch_end = bool(self._batch_end)

    def on_train_begin(self) -> None:
        for cb in self.callbacks:
            cb.on_train_begin({})

    def on_train_end(self) -> None:
        for cb in self.callbacks:
            cb.on_train_end({})

    def on_epoch_begin(self, epoch: int) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, {})

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int) -> None:
        for cb in self._batch_begin:
            cb.on_train_batch_begin(batch, {})

    def on_train_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        for cb in self._batch_end:
            cb.on_train_batch_end(batch, logs)


# ---------------------------------------------------------------------------------------------
# Progress output, in Keras' format.
# ---------------------------------------------------------------------------------------------
def _format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"


def _format_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_step(seconds: float, steps: int) -> str:
    per = seconds / max(steps, 1)
    if per >= 1:
        return f"{per:.0f}s/step"
    if per >= 1e-3:
        return f"{per * 1e3:.0f}ms/step"
    return f"{per * 1e6:.0f}us/step"


def format_logs(logs: dict[str, float]) -> str:
    return "".join(f" - {k}: {_format_value(v)}" for k, v in logs.items())


def format_progress_line(step: int, steps: int, elapsed: float, logs: dict[str, float],
                         bar: bool = True) -> str:
    """One Keras-style progress line: ``45/45 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 0.31``."""
    width = len(str(steps))
    count = f"{step:>{width}}/{steps}"
    if not bar:
        return f"{count} - {_format_time(elapsed)} - {_format_per_step(elapsed, step)}" + \
            format_logs(logs)
    filled = int(20 * step / steps)
    bar_text = "━" * filled + "\x1b[2m" + "━" * (20 - filled) + "\x1b[0m" if filled < 20 \
        else "━" * 20
    if step < steps:
        eta = elapsed / max(step, 1) * (steps - step)
        timing = f"{_format_time(eta)} {_format_per_step(elapsed, step)}"
    else:
        timing = f"{_format_time(elapsed)} {_format_per_step(elapsed, step)}"
    return f"{count} {bar_text} {timing}" + format_logs(logs)


def print_final_line(steps: int, elapsed: float, logs: dict[str, float], verbose: int) -> None:
    """The line that ends an epoch of ``fit``, an ``evaluate`` or a ``predict``, in Keras' two
    forms: the full bar at ``verbose=1`` (drawn over what a live bar left on the line), the
    plain ``4/4 - 0s - 2ms/step`` at ``verbose=2``."""
    line = format_progress_line(steps, steps, elapsed, logs, bar=verbose == 1)
    sys.stdout.write(("\r" + line + "\x1b[K\n") if verbose == 1 else line + "\n")
    sys.stdout.flush()


class ProgbarLogger(Callback):
    """Keras' progress output, one line per epoch (``verbose=2``)."""

    def __init__(self, verbose: int = 2) -> None:
        super().__init__()
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self._start = self._last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        print_final_line(self.params["steps"], time.perf_counter() - self._start, logs or {},
                         self.verbose)


class LiveProgbarLogger(ProgbarLogger):
    """``verbose=1``: a live progress bar, redrawn during the epoch."""

    #: The bar is redrawn at most this often, so printing never slows training down.
    refresh_seconds = 0.1

    def __init__(self) -> None:
        super().__init__(verbose=1)

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        now = time.perf_counter()
        if now - self._last >= self.refresh_seconds and batch + 1 < self.params["steps"]:
            self._last = now
            line = format_progress_line(batch + 1, self.params["steps"], now - self._start,
                                        logs or {})
            sys.stdout.write("\r" + line + "\x1b[K")
            sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Monitoring callbacks
# ---------------------------------------------------------------------------------------------
class _MonitorCallback(Callback):
    """Shared logic of callbacks that watch one logged value (Keras' ``MonitorCallback``)."""

    def __init__(self, monitor: str, mode: str, baseline: float | None = None,
                 min_delta: float = 0.0) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise validation.fail("monitor", "the name of a logged value, such as 'val_loss'",
                                  monitor)
        self.monitor = monitor
        self.mode = validation.check_choice(mode, "mode", ("auto", "min", "max"))
        self.best = baseline
        self.min_delta = abs(validation.check_float(min_delta, "min_delta"))
        self._greater: bool | None = None

    def _direction(self) -> bool:
        """True when larger values of the monitored quantity are better."""
        if self.mode != "auto":
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name in ("mse", "mae", "mean_squared_error", "mean_absolute_error"):
            return False
        if "acc" in name or name in ("auc", "precision", "recall"):
            return True
        raise ConfigError(
            f"Cannot tell whether {self.monitor!r} should go up or down; pass mode='max' or "
            "mode='min'."
        )

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self._greater is None:
            self._greater = self._direction()
        if self._greater:
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def _monitored(self, logs: dict[str, float] | None) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} monitors {self.monitor!r}, which is not logged. "
                f"Logged values: {', '.join(logs or {})}.",
                stacklevel=3,
            )
        return value


class EarlyStopping(_MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    With ``restore_best_weights=True`` the model ends with the weights of the best epoch.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = validation.check_int(patience, "patience", low=0)
        self.verbose = validation.check_int(verbose, "verbose", low=0)
        self.baseline = None if baseline is None else validation.check_float(baseline,
                                                                              "baseline")
        self.restore_best_weights = validation.check_bool(restore_best_weights,
                                                          "restore_best_weights")
        self.start_from_epoch = validation.check_int(start_from_epoch, "start_from_epoch", low=0)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        current = self._monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_MonitorCallback):
    """Save the model after every epoch, or only when ``monitor`` improves (``save_best_only``).

    ``filepath`` may hold placeholders filled from the epoch and the logs, as in the textbook:
    ``"./model/{epoch:02d}-{val_loss:.4f}.hdf5"``. Any extension works (``.keras``, ``.h5``,
    ``.hdf5``, ``.dlab``); the file always holds descentlab's own format. Each save is a
    ``model.save`` (atomic; missing folders are created).
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        if initial_value_threshold is not None:
            validation.check_float(initial_value_threshold, "initial_value_threshold")
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.save_freq = validation.check_choice(save_freq, "save_freq", ("epoch",))
        if not isinstance(filepath, (str, os.PathLike)) or not os.fspath(filepath):
            raise validation.fail("ModelCheckpoint filepath", "a file name such as "
                                  "'model/{epoch:02d}.keras'", filepath)
        self.filepath = os.fspath(filepath)
        self.verbose = validation.check_int(verbose, "verbose", low=0)
        self.save_best_only = validation.check_bool(save_best_only, "save_best_only")
        self.save_weights_only = validation.check_bool(save_weights_only, "save_weights_only")

    def _path(self, epoch: int, logs: dict[str, float]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"ModelCheckpoint cannot fill the file name {self.filepath!r}: {exc!r} is not "
                f"available. Placeholders may use epoch and the logged values: "
                f"{', '.join(['epoch', *logs])}."
            ) from None

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        path = self._path(epoch, logs)
        if self.save_best_only:
            current = self._monitored(logs)
            if current is not None:
                best = "None" if self.best is None else f"{self.best:.5f}"
                if not self._is_improvement(current, self.best):
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
                    return
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                          f"{current:.5f}, saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        self.model.save(path, include_optimizer=not self.save_weights_only)
        if self.verbose > 0:  # Keras' second line, once the file is written
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


# --------------------------------------------------------------------------------------------
# Gradient monitoring: the measurements of descentlab.diagnostics, taken during fit
# --------------------------------------------------------------------------------------------
def _head(data: Any, n: int) -> Any:
    """The first ``n`` samples, without converting the rest (x may be large)."""
    if data is None:
        return None
    return data.iloc[:n] if hasattr(data, "iloc") else data[:n]


class GradientMonitor(Callback):
    """Records :func:`~descentlab.diagnostics.gradient_flow` on a fixed probe batch while
    ``fit`` trains.

    Args:
        x, y: data; the probe is its first ``max_samples`` samples, fixed for the whole run.
        every: ``"epoch"`` (a record at the end of every epoch) or an integer N (a record after
            every N-th batch, counted across epochs).
        max_samples: size of the probe batch (default 256).

    A record is taken at the start of training (``tag="init"``, ``epoch=0``) and then per epoch
    or per N batches. Each record is a dict::

        {"tag": "init" | "epoch" | "batch", "epoch": 1-based epoch (0 = before training),
         "batch": batches done in that epoch, "step": updates since fit began,
         "loss": probe loss, "samples": probe size, "layers": [gradient_flow rows]}

    The records are in ``monitor.records`` and, for the model's ``fit``, in
    ``model.history.gradients`` (the same list). The probe is measured in inference mode, so the
    monitored run's weights are bit-identical to an unmonitored one; the cost is one forward and
    backward pass on the probe per record.

    >>> monitor = GradientMonitor(x_train, y_train)
    >>> history = model.fit(x_train, y_train, epochs=20, callbacks=[monitor])
    >>> descentlab.diagnostics.diagnose(history).text("ko")
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> GradientMonitor:
        # The training loop skips the per-batch hook for callbacks that do not define one, so
        # per-epoch monitoring (the default) must not define it: it would cost every batch.
        # Per-batch monitoring gets a subclass that does.
        every = kwargs.get("every", args[2] if len(args) > 2 else "epoch")
        if cls is GradientMonitor and every != "epoch":
            cls = _BatchGradientMonitor
        return super().__new__(cls)

    def __init__(self, x: Any, y: Any, every: str | int = "epoch",
                 max_samples: int = 256) -> None:
        super().__init__()
        if every != "epoch":
            validation.check_int(every, "GradientMonitor every", low=1,
                                 what="a positive integer (a number of batches) or 'epoch'")
        self.every = every
        self.max_samples = validation.check_int(max_samples, "GradientMonitor max_samples", low=1)
        if x is None or y is None:
            raise DataError(
                "GradientMonitor needs the data to measure on: GradientMonitor(x, y) with the "
                f"inputs and targets of the probe batch; got x={type(x).__name__}, "
                f"y={type(y).__name__}."
            )
        if len(x) != len(y):
            raise DataError(
                f"GradientMonitor x and y have different numbers of samples: {len(x)} and "
                f"{len(y)}."
            )
        if len(x) == 0:
            raise DataError("GradientMonitor x is empty; the probe batch needs samples.")
        # Kept in float64; cast once per fit to the model's dtype (exactly as a direct cast).
        n = self.max_samples
        self._x = validation.check_array(_head(x, n), "GradientMonitor x", np.float64)
        self._y = validation.check_array(_head(y, n), "GradientMonitor y", np.float64)
        self.records: list[dict[str, Any]] = []
        self._probe: tuple[np.ndarray, np.ndarray] = (self._x, self._y)
        self._start_iterations = 0
        self._epoch_iterations = 0
        self._epoch = 0

    @property
    def probe(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed probe batch ``(x, y)``."""
        return self._probe

    def _record(self, tag: str, epoch: int, batch: int) -> None:
        loss, samples, layers = diagnostics.flow(self.model, *self._probe)
        self.records.append({
            "tag": tag, "epoch": epoch, "batch": batch,
            "step": int(self.model.optimizer.iterations - self._start_iterations),
            "loss": loss, "samples": samples, "layers": layers,
        })

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        dtype = self.model.dtype
        self._probe = (self._x.astype(dtype, copy=False), self._y.astype(dtype, copy=False))
        self.records = []
        if self.model.history is not None:
            self.model.history.gradients = self.records
        self._start_iterations = self._epoch_iterations = self.model.optimizer.iterations
        self._record("init", 0, 0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch
        self._epoch_iterations = self.model.optimizer.iterations

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.every == "epoch":
            self._record("epoch", epoch + 1,
                         int(self.model.optimizer.iterations - self._epoch_iterations))


class _BatchGradientMonitor(GradientMonitor):
    """:class:`GradientMonitor` with ``every=N``: a record after every N-th batch."""

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        step = self.model.optimizer.iterations - self._start_iterations
        if step % self.every == 0:
            self._record("batch", self._epoch + 1, batch + 1)
