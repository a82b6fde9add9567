"""Callbacks: code that ``fit`` calls at the start and end of training, epochs and batches.

Keras' semantics: ``History`` records the logs of every epoch, ``EarlyStopping`` stops when a
monitored value stops improving, ``ModelCheckpoint`` saves the model (every epoch, or only when
the monitored value improves). The progress output of ``fit`` is a callback too.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

from descentlab.errors import ConfigError


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


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class CallbackList:
    """Calls the hooks of every callback; batch hooks only of those that define them, so that an
    empty hook costs nothing in the training loop."""

    def __init__(self, callbacks: Sequence[Callback], *, model: Any, history: History,
                 verbose: int, params: dict[str, Any]) -> None:
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ConfigError(
                    f"callbacks must be Callback objects (EarlyStopping(...), ...); got {cb!r}."
                )
        self.callbacks = list(callbacks)
        if verbose:
            self.callbacks.insert(0, LiveProgbarLogger() if verbose == 1 else ProgbarLogger())
        self.callbacks.append(history)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_end")]
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


class ProgbarLogger(Callback):
    """Keras' progress output, one line per epoch (``verbose=2``)."""

    def __init__(self, verbose: int = 2) -> None:
        super().__init__()
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self._start = self._last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        elapsed = time.perf_counter() - self._start
        steps = self.params["steps"]
        line = format_progress_line(steps, steps, elapsed, logs or {}, bar=self.verbose == 1)
        sys.stdout.write(("\r" + line + "\x1b[K\n") if self.verbose == 1 else line + "\n")
        sys.stdout.flush()


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
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}.")
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(float(min_delta))
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
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ConfigError(f"patience must be a non-negative integer; got {patience!r}.")
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
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
    ``.hdf5``, ``.dlab``); the file always holds descentlab's own format. Missing folders are
    created. Each save is atomic.
    """

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if save_freq != "epoch":
            raise ConfigError(f"save_freq must be 'epoch'; got {save_freq!r}.")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq

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
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        from descentlab import saving

        saving.save_model(self.model, path, include_optimizer=not self.save_weights_only)


def __getattr__(name: str):
    # GradientMonitor lives with the other measurements in descentlab.diagnostics, which is
    # built on this module; it is importable from here too, as the textbook's callbacks are.
    if name == "GradientMonitor":
        from descentlab.diagnostics import GradientMonitor

        return GradientMonitor
    raise AttributeError(f"module 'descentlab.callbacks' has no attribute {name!r}")
