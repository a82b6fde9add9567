"""``Sequential``: the textbook's model, with Keras' ``compile``/``fit``/``evaluate``/``predict``.

One training step is the whole of chapter 9 in four lines (see ``_train_step``)::

    output = forward(x_batch)                       # layer by layer
    loss   = L(y_batch, output) + Σ R(W)            # mean over the batch, + weight penalties
    grads  = backward(∂L/∂output)                   # chain rule, layer by layer, last to first
    optimizer.apply(grads, weights)                 # every layer's kernel, bias, ...: SGD, Adam

``optimizer.apply`` is the public function a user calls by hand; ``fit`` hands it each layer's
named weights. One optional speed-up sits under that call (:meth:`Sequential.pack_weights`).
Another is in ``fit``'s bookkeeping: when no callback reads every batch's logs, a loss may take
its line out of the step and compute an epoch's batch losses at its end, from what each step
kept (sparse crossentropy on a softmax output does: see :meth:`Sequential._lean_epoch`) — the
same numbers, bit for bit, and the same divergence.

The penalties Σ R(W) of regularized weights (``Dense(..., kernel_regularizer=l2(0.01))``) are
part of the loss that ``fit``, ``train_on_batch``, ``evaluate`` and ``compute_gradients`` report,
as in Keras; each layer adds ∂R/∂W to its weight's gradient in its backward pass.

``batch_size="full"`` makes it plain (full-batch) gradient descent: one update per pass over the
data; an integer makes it mini-batch stochastic gradient descent.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from descentlab import activations, backend, losses, optimizers, saving, validation
from descentlab import callbacks as callbacks_module
from descentlab import initializers as initializers_module
from descentlab import layers as layers_module
from descentlab import metrics as metrics_module
from descentlab.errors import (
    ConfigError,
    DataError,
    DescentLabError,
    ModelFileError,
    TrainingDiverged,
)
from descentlab.losses import EpochLosses

_DIVERGENCE_MODES = ("raise", "stop", "continue")
F = TypeVar("F", bound=Callable[..., Any])


def validation_pair(validation_data: Any) -> tuple[Any, Any]:
    """``fit``'s ``validation_data`` as ``(x_val, y_val)``, or a DataError naming what it got."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise validation.fail("validation_data", "a tuple (x_val, y_val)", validation_data,
                              DataError)
    return validation_data[0], validation_data[1]


def _batch_size(value: Any, n: int) -> int:
    """Samples per step: an integer ≥ 1, or ``"full"`` (all ``n``: plain gradient descent)."""
    if value is None:
        return 32
    if isinstance(value, str) and value == "full":
        return n
    return validation.check_int(
        value, "batch_size", low=1, what="a positive integer or 'full' (one batch of all "
        "samples: plain gradient descent)")


def _quiet_arithmetic(method: F) -> F:
    """Run ``method`` without NumPy's floating-point ``RuntimeWarning``s (overflow, invalid
    value), as Keras runs: a loss that becomes NaN or infinite is reported once, by
    :class:`TrainingDiverged` (or kept, with ``on_divergence``), not by a stream of warnings
    from inside the layers."""

    @functools.wraps(method)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return method(*args, **kwargs)

    return cast(F, quiet)


def _default_verbose(verbose: Any) -> int:
    """0 silent, 1 progress bar, 2 one line per epoch; "auto" = 1 on a terminal or notebook."""
    verbose = validation.check_choice(verbose, "verbose", (0, 1, 2, "auto"))
    if verbose == "auto":
        interactive = sys.stdout.isatty() or "ipykernel" in sys.modules
        return 1 if interactive else 2
    return int(verbose)


class Sequential:
    """A linear stack of layers (Keras' ``Sequential``).

    >>> model = Sequential()
    >>> model.add(Dense(12, input_dim=8, activation="relu"))
    >>> model.add(Dense(1, activation="sigmoid"))
    >>> model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    """

    def __init__(self, layers: Sequence[layers_module.Layer] | None = None,
                 name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise validation.fail("Sequential name", "a string or None", name)
        # Without a name, Keras' automatic one: "sequential", then "sequential_1", ... across
        # the Python process (backend.clear_session() starts again).
        self.name = name or backend.unique_name("sequential")
        self.layers: list[layers_module.Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: Any = None
        self.metrics: list[Any] = []
        self._metric_identifiers: list[Any] = []
        self.compiled = False
        self.stop_training = False
        self.history: callbacks_module.History | None = None
        self._train_rng: np.random.Generator | None = None
        self._metric_objects: list[Any] | None = None
        self._params_and_grads: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        #: Whether fit packs the weights first (see :meth:`pack_weights`): the same numbers,
        #: bit for bit, either way; False trains on the weight arrays as the layers built them.
        self.pack = True
        #: Whether any weight has a regularizer; set when training starts, so that a model
        #: without one pays nothing for the penalties in its training step.
        self._regularized = False
        for layer in layers or []:
            self.add(layer)

    # -- building -----------------------------------------------------------------------------
    def add(self, layer: layers_module.Layer) -> None:
        """Append a layer; builds its weights at once if its input width is known."""
        if not isinstance(layer, layers_module.Layer):
            raise ConfigError(
                f"Sequential.add expects a layer such as Dense(...); got {layer!r}."
            )
        taken = {existing.name for existing in self.layers}
        if layer.name in taken:
            if not layer.named_automatically or any(existing is layer for existing in self.layers):
                raise ConfigError(f"A layer named {layer.name!r} is already in this model.")
            while layer.name in taken:  # a name the user gave to another layer of this model
                layer.name = layers_module.automatic_name(layer)
        if self.layers and layer.input_dim is not None and self.layers[-1].built:
            if layer.input_dim != self.layers[-1].units:
                raise ConfigError(
                    f"Layer {layer.name!r} declares input_dim={layer.input_dim}, but the layer "
                    f"before it outputs {self.layers[-1].units} units."
                )
        self.layers.append(layer)
        if not layer.built:
            if len(self.layers) == 1 and layer.input_dim is not None:
                self._build_layer(layer, layer.input_dim)
            elif len(self.layers) > 1 and self.layers[-2].built:
                width = self.layers[-2].units
                assert width is not None  # a built layer knows its output width
                self._build_layer(layer, width)
        self._metric_objects = None

    def _build_layer(self, layer: layers_module.Layer, input_dim: int) -> None:
        if not layer.built:
            layer.build(int(input_dim))
        layer.needs_input_grad = layer is not self.layers[0]

    def build(self, input_dim: int) -> None:
        """Create every layer's weights for inputs of width ``input_dim``."""
        if not self.layers:
            raise ConfigError("The model has no layers; add some with model.add(Dense(...)).")
        width: int | None = int(input_dim)
        for layer in self.layers:
            assert width is not None  # a built layer knows its output width
            self._build_layer(layer, width)
            width = layer.units

    @property
    def dtype(self) -> str:
        """The float type of the model's weights (``floatx()`` at the time they were built)."""
        for weight in self.weights:
            return weight.dtype.name
        return backend.floatx()

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_dim(self) -> int | None:
        return self.layers[0].input_dim if self.layers else None

    @property
    def output_units(self) -> int | None:
        return self.layers[-1].units if self.layers else None

    @property
    def weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def losses(self) -> list[float]:
        """The penalties R(W) of every regularized weight (Keras' ``model.losses``)."""
        return [penalty for layer in self.layers for penalty in layer.losses]

    def count_params(self) -> int:
        return int(sum(layer.count_params() for layer in self.layers))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights: ``[kernel0, bias0, kernel1, bias1, ...]`` in layer order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Overwrite all weights in place (same order and shapes as ``get_weights()``); each
        array must hold real numbers (text and complex numbers are refused)."""
        current = self.weights
        if isinstance(weights, (str, bytes, np.ndarray)) or not isinstance(weights, Sequence):
            raise validation.fail("set_weights' argument", "a list of arrays (as get_weights "
                                  "returns)", weights, DataError)
        if len(weights) != len(current):
            raise DataError(
                f"set_weights got {len(weights)} arrays; this model has {len(current)} "
                f"({', '.join(str(w.shape) for w in current)})."
            )
        arrays = [validation.check_array(w, f"set_weights array {i}", old.dtype)
                  for i, (w, old) in enumerate(zip(weights, current, strict=True))]
        for i, (new, old) in enumerate(zip(arrays, current, strict=True)):
            if new.shape != old.shape:
                raise DataError(
                    f"set_weights: array {i} has shape {new.shape}, but the model's weight {i} "
                    f"has shape {old.shape}."
                )
        for new, old in zip(arrays, current, strict=True):
            np.copyto(old, new)

    def summary(self, print_fn: Any = None) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        (print_fn or print)(summary_text(self))

    # -- compile ------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None,
                metrics: Sequence[Any] | None = None) -> None:
        """Choose the optimizer, the loss and the metrics (names or objects)."""
        if loss is None:
            raise ConfigError(
                "compile needs a loss, e.g. loss='binary_crossentropy'. Valid names: "
                f"{', '.join(losses.names())}."
            )
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, dict)) or not isinstance(metrics, Sequence):
            metrics = [metrics]
        self._metric_identifiers = list(metrics)
        self._metric_objects = None
        self.compiled = True

    def _resolved_metrics(self, y_shape: tuple[int, ...]) -> list[Any]:
        if self._metric_objects is None:
            self._metric_objects = [
                metrics_module.get(m, loss_name=self.loss.name, output_units=self.output_units,
                                   y_shape=y_shape)
                for m in self._metric_identifiers
            ]
        return self._metric_objects

    # -- data checks --------------------------------------------------------------------------
    def _prepare_x(self, x: Any, what: str = "x") -> np.ndarray:
        x = validation.check_array(x, what, self.dtype if self.built else backend.floatx())
        if x.ndim == 1:
            if self.input_dim == 1:
                x = x.reshape(-1, 1)
            else:
                raise DataError(
                    f"{what} must be 2-D (samples, features); got a 1-D array of shape {x.shape}. "
                    "For a single feature use x.reshape(-1, 1); for one sample x.reshape(1, -1)."
                )
        if x.ndim != 2:
            raise DataError(
                f"{what} must be 2-D (samples, features); got shape {x.shape}. Flatten images "
                "first, e.g. x.reshape(len(x), -1)."
            )
        if len(x) == 0:
            raise DataError(f"{what} is empty (shape {x.shape}); there is nothing to train on.")
        validation.check_finite(x, what)
        if not self.built:
            self.build(x.shape[1])
        elif x.shape[1] != self.input_dim:
            raise DataError(
                f"{what} has {x.shape[1]} features per sample, but the model expects "
                f"{self.input_dim} (input_dim of its first layer)."
            )
        return x

    def _fit_data(self, x: Any, y: Any, validation_data: Any, validation_split: float,
                  ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """``fit``'s training arrays and validation pair: ``validation_data`` checked as this
        model's data, or the last ``validation_split`` of the samples held out (as Keras: before
        shuffling), or no validation (None)."""
        x, y = self._prepare_xy(x, y)
        if validation_data is not None:
            x_val, y_val = validation_pair(validation_data)
            return x, y, self._prepare_xy(x_val, y_val, what="validation_data ")
        if validation_split > 0:
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            if split_at == 0 or split_at == len(x):
                raise DataError(
                    f"validation_split={validation_split} of {len(x)} samples leaves an empty "
                    "training or validation set."
                )
            return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])
        return x, y, None

    def _prepare_xy(self, x: Any, y: Any, what: str = "") -> tuple[np.ndarray, np.ndarray]:
        x = self._prepare_x(x, f"{what}x")
        if y is None:
            raise DataError(f"{what}y is missing: training and evaluation need targets.")
        y_raw = validation.check_array(y, f"{what}y", self.dtype)
        if len(y_raw) != len(x):
            raise DataError(
                f"{what}x and {what}y have different numbers of samples: {len(x)} and "
                f"{len(y_raw)}."
            )
        validation.check_finite(y_raw, f"{what}y")
        self.loss.check_targets(y_raw, (len(x), self.output_units))
        return x, self.loss.prepare_targets(y_raw, self.output_units, self.dtype)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ConfigError(
                f"{what} needs a compiled model: call model.compile(optimizer=..., loss=...) first."
            )

    # -- the computation ----------------------------------------------------------------------
    def _forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def _backward(self, y: np.ndarray, output: np.ndarray) -> None:
        """Fill every layer's ``grads`` with ∂L/∂weights for the batch just forwarded."""
        last = self.layers[-1]
        act = last.activation
        grad = None
        if act is not None:
            grad = self.loss.fused_gradient(y, last.preactivation, output, act.name)
        if grad is not None:
            # Output activation and loss fused: ∂L/∂z directly (softmax+CE: p − y).
            grad = last.backward(grad, preactivation=True)
        else:
            grad = last.backward(self.loss.gradient(y, output))
        for layer in self.layers[-2::-1]:  # the others, last to first
            assert grad is not None  # only the first layer skips ∂L/∂input
            grad = layer.backward(grad)

    def pack_weights(self) -> None:
        """The one optional speed-up: move every trainable weight into one flat buffer, and
        every gradient into another (values kept; each layer's ``kernel``, ``bias``, ... is
        then a view of its piece). ``fit`` does this when ``pack`` is True (the default).

        Nothing changes in what is computed: the optimizer still receives the named weights,
        and, finding them packed, runs its rule once on the buffers instead of once per
        weight — on small networks most of the update's cost is per-call overhead.
        """
        params = self.trainable_weights
        if not params or optimizers.packed_buffer(params) is not None:
            return  # nothing to pack, or packed already
        _, weights = optimizers.pack(params)
        _, grads = optimizers.pack([g for layer in self.layers for g in layer.grads])
        start = 0
        for layer in self.layers:
            end = start + len(layer.trainable_weights)
            if end > start:
                layer.move_weights_to(weights[start:end], grads[start:end])
            start = end

    def _start_training(self) -> None:
        """What fit and train_on_batch set up before their steps: the random stream, and the
        two lists every step hands the optimizer."""
        self._ensure_train_rng()
        if self.pack:
            self.pack_weights()
        params = self.trainable_weights  # each layer's kernel, bias (gamma, beta), in order
        grads = [g for layer in self.layers for g in layer.grads]  # their ∂L/∂w, same order
        self._params_and_grads = (params, grads)
        self._regularized = any(layer.regularized_weights() for layer in self.layers)

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        output = self._forward(x, training=True)
        loss = self.loss(y, output)
        if self._regularized:
            loss += sum(self.losses)  # penalties of the weights before this step's update
        self._backward(y, output)  # each layer's gradients, ∂R/∂W included
        params, grads = self._params_and_grads
        assert self.optimizer is not None  # training runs on a compiled model
        self.optimizer.apply(grads, params)  # the public update: W ← W − ..., b ← b − ...
        return loss, output

    @_quiet_arithmetic
    def compute_gradients(self, x: Any, y: Any,
                          training: bool = False) -> tuple[float, list[np.ndarray]]:
        """Loss on this batch (mean over samples, + the weights' penalties Σ R(W) as in Keras)
        and ∂L/∂w for every trainable weight.

        The gradients are aligned with the trainable entries of ``get_weights()``; no update is
        made. ``training=True`` applies dropout as ``fit`` would.
        """
        self._require_compiled("compute_gradients")
        training = validation.check_bool(training, "training")
        x, y = self._prepare_xy(x, y)
        if training:
            self._ensure_train_rng()
        output = self._forward(x, training=training)
        loss = self.loss(y, output) + sum(self.losses)
        self._backward(y, output)
        return loss, [g.copy() for layer in self.layers for g in layer.grads]

    @_quiet_arithmetic
    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """One gradient step on exactly this batch, as Keras' ``train_on_batch``.

        Returns the batch's loss computed in the forward pass before the update (a float), or
        ``[loss, metric, ...]`` when the model was compiled with metrics. A NaN/inf loss
        raises :class:`TrainingDiverged`, as in ``fit``.
        """
        self._require_compiled("train_on_batch")
        x, y = self._prepare_xy(x, y)
        self._start_training()
        loss, output = self._train_step(x, y)
        if not math.isfinite(loss):
            assert self.optimizer is not None  # checked by _require_compiled
            lr = self.optimizer.current_learning_rate
            raise TrainingDiverged(
                f"Training diverged: the loss became {loss} in train_on_batch with "
                f"{type(self.optimizer).__name__} at learning rate {lr:g}. Try a learning rate "
                f"about 10 times smaller ({lr / 10:g}) or gradient clipping (clipnorm=1.0).",
                epoch=None, batch=None, learning_rate=lr, history=callbacks_module.History())
        metric_objects = self._resolved_metrics(y.shape)
        totals, counts = [], []
        for metric in metric_objects:
            total, count = metric.batch_values(y, output)
            totals.append(total)
            counts.append(count)
        return self._result(self._logs(loss, metric_objects, totals, counts), return_dict)

    def _result(self, logs: dict[str, float], return_dict: bool) -> Any:
        """What evaluate and train_on_batch return, as Keras does: the logs as a dict, the
        loss alone, or ``[loss, metric, ...]`` when the model was compiled with metrics."""
        if validation.check_bool(return_dict, "return_dict"):
            return logs
        if not self._metric_objects:
            return logs["loss"]
        return [logs["loss"]] + [logs[m.name] for m in self._metric_objects]

    def _ensure_train_rng(self) -> np.random.Generator:
        if self._train_rng is None:
            # The model's own stream for shuffling and dropout, drawn from the global seed and
            # saved with the model, so that a resumed run shuffles as an uninterrupted one would.
            self._train_rng = np.random.default_rng(int(backend.rng().integers(2**63)))
        for layer in self.layers:
            if isinstance(layer, layers_module.Dropout):
                layer.model_rng = self._train_rng
        return self._train_rng

    # -- training state -----------------------------------------------------------------------
    def set_training_seed(self, seed: int) -> None:
        """Restart the model's own random stream — the order ``fit`` shuffles in and the
        dropout masks — at ``numpy.random.default_rng(seed)``. Each epoch of ``fit`` with
        ``shuffle=True`` draws ``permutation(n)`` from it before the epoch's dropout masks."""
        seed = validation.check_int(seed, "seed", low=0)
        self._train_rng = np.random.default_rng(seed)

    def get_training_state(self) -> dict[str, Any]:
        """What a resumed run needs besides the weights and the optimizer: ``{"rng": the state
        of the model's random stream (a JSON-ready dict), or None before any training}``."""
        rng = self._train_rng
        return {"rng": None if rng is None else rng.bit_generator.state}

    def set_training_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_training_state` result."""
        if state.get("rng") is None:
            self._train_rng = None
            return
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        self._train_rng = rng

    # -- fit ----------------------------------------------------------------------------------
    @_quiet_arithmetic
    def fit(self, x: Any = None, y: Any = None, batch_size: int | str | None = None,
            epochs: int = 1, verbose: int | str = "auto", callbacks: Sequence[Any] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            initial_epoch: int = 0, on_divergence: str = "raise") -> callbacks_module.History:
        """Train for ``epochs`` passes over ``(x, y)``; returns a :class:`History`.

        Args:
            batch_size: samples per gradient step (default 32); ``"full"`` = all training
                samples in one batch, i.e. plain gradient descent (one update per epoch).
            validation_split: fraction of the data, taken from the end before shuffling (as in
                Keras), held out and evaluated after each epoch.
            shuffle: draw a fresh permutation (without replacement) each epoch.
            on_divergence: what to do when the loss becomes NaN/inf: ``"raise"``
                (:class:`TrainingDiverged`, default), ``"stop"`` (end training quietly, keep the
                history) or ``"continue"``.
        """
        self._require_compiled("fit")
        epochs = validation.check_int(epochs, "epochs", low=1)
        initial_epoch = validation.check_int(initial_epoch, "initial_epoch", low=0)
        on_divergence = validation.check_choice(on_divergence, "on_divergence",
                                                _DIVERGENCE_MODES)
        shuffle = validation.check_bool(shuffle, "shuffle")
        verbose = _default_verbose(verbose)
        validation_split = validation.check_float(
            validation_split, "validation_split", low=0.0, high=1.0, high_open=True,
            what="a fraction in [0, 1)")
        x, y, val = self._fit_data(x, y, validation_data, validation_split)
        n = len(x)
        size = _batch_size(batch_size, n)
        steps = math.ceil(n / size)

        metric_objects = self._resolved_metrics(y.shape)
        self._start_training()
        history = callbacks_module.History()
        cbs = callbacks_module.CallbackList(
            [] if callbacks is None else callbacks, model=self, history=history, verbose=verbose,
            params={"epochs": epochs, "steps": steps, "verbose": verbose,
                    "batch_size": size, "samples": n},
        )
        self.stop_training = False
        self.history = history
        cbs.on_train_begin()
        if shuffle:
            # Shuffled copies live in buffers allocated once per fit, not once per epoch.
            xs, ys = np.empty_like(x), np.empty_like(y)
        else:
            xs, ys = x, y
        # Unless callbacks are called at every batch (they read its logs) or weights have
        # penalties (each step's loss adds them), the batch losses can wait for the end of the
        # epoch, when the loss offers it (see _lean_epoch).
        epoch_losses = None
        if not (cbs.wants_batch_begin or cbs.wants_batch_end or self._regularized):
            epoch_losses = self.loss.epoch_losses(n, size, self.output_units, self.dtype,
                                                  self._softmax_output())
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            if shuffle:
                order = self._ensure_train_rng().permutation(n)
                # mode="clip": no bounds to check in a permutation, so take writes straight into
                # the buffers (with the default "raise" it writes a copy first, then copies it).
                np.take(x, order, axis=0, out=xs, mode="clip")
                np.take(y, order, axis=0, out=ys, mode="clip")
            if epoch_losses is not None:
                logs = self._lean_epoch(epoch, xs, ys, size, epoch_losses, metric_objects,
                                        on_divergence, history)
            else:
                logs = self._epoch(epoch, xs, ys, size, cbs, metric_objects, on_divergence,
                                   history)
            if val is not None:
                val_logs = self._evaluate_arrays(val[0], val[1], size)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def _softmax_output(self) -> bool:
        """Whether every row of the output is a softmax over the units (the last layer's)."""
        act = self.layers[-1].activation
        return type(act) is activations.Softmax and act.axis in (-1, 1)

    def _epoch(self, epoch: int, xs: np.ndarray, ys: np.ndarray, size: int,
               cbs: callbacks_module.CallbackList, metric_objects: list[Any],
               on_divergence: str, history: callbacks_module.History) -> dict[str, float]:
        """One pass of ``fit`` over the (shuffled) ``xs, ys`` in batches of ``size``: a training
        step per batch, its loss checked and added up at once. Returns the epoch's logs."""
        steps = math.ceil(len(xs) / size)
        loss_total = 0.0
        metric_totals = [0.0] * len(metric_objects)
        metric_counts = [0] * len(metric_objects)
        seen = 0
        for step in range(steps):
            cbs.on_train_batch_begin(step)
            start = step * size
            xb, yb = xs[start:start + size], ys[start:start + size]
            loss, output = self._train_step(xb, yb)
            batch_n = len(xb)
            if not math.isfinite(loss):
                if on_divergence == "raise":
                    raise self._diverged(epoch, step, loss, history)
                if on_divergence == "stop":
                    self.stop_training = True
            loss_total += loss * batch_n
            seen += batch_n
            for i, metric in enumerate(metric_objects):
                total, count = metric.batch_values(yb, output)
                metric_totals[i] += total
                metric_counts[i] += count
            if cbs.wants_batch_end:
                cbs.on_train_batch_end(step, self._logs(
                    loss_total / seen, metric_objects, metric_totals, metric_counts))
            if self.stop_training:
                break
        return self._logs(loss_total / seen, metric_objects, metric_totals, metric_counts)

    def _lean_epoch(self, epoch: int, xs: np.ndarray, ys: np.ndarray, size: int,
                    epoch_losses: EpochLosses, metric_objects: list[Any],
                    on_divergence: str, history: callbacks_module.History) -> dict[str, float]:
        """:meth:`_epoch` when no callback reads the batches' logs: each step is
        :meth:`_train_step` without its loss line — ``epoch_losses`` keeps what the loss needs
        of the output and says whether the loss is finite — and the batch losses are computed
        once, at the end of the epoch: the same numbers, the same divergence, less per step."""
        assert self.optimizer is not None  # training runs on a compiled model
        params, grads = self._params_and_grads
        steps = math.ceil(len(xs) / size)
        metric_totals = [0.0] * len(metric_objects)
        metric_counts = [0] * len(metric_objects)
        seen = 0
        epoch_losses.start(ys)
        for step in range(steps):
            start = step * size
            xb, yb = xs[start:start + size], ys[start:start + size]
            output = self._forward(xb, training=True)
            finite = epoch_losses.record(start, output)
            self._backward(yb, output)
            self.optimizer.apply(grads, params)
            seen += len(xb)
            if not finite:
                loss = epoch_losses.batch_losses(seen)[-1]
                if on_divergence == "raise":
                    raise self._diverged(epoch, step, loss, history)
                if on_divergence == "stop":
                    self.stop_training = True
            for i, metric in enumerate(metric_objects):
                total, count = metric.batch_values(yb, output)
                metric_totals[i] += total
                metric_counts[i] += count
            if self.stop_training:
                break
        batch_losses = epoch_losses.batch_losses(seen)
        last = len(batch_losses) - 1
        counts = [size] * last + [seen - size * last]  # the last batch may be smaller
        loss_total = 0.0
        for loss, count in zip(batch_losses, counts, strict=True):
            loss_total += loss * count  # batch by batch, as _epoch adds them up
        return self._logs(loss_total / seen, metric_objects, metric_totals, metric_counts)

    def _diverged(self, epoch: int, step: int, loss: float,
                  history: callbacks_module.History) -> TrainingDiverged:
        assert self.optimizer is not None  # training runs on a compiled model
        lr = self.optimizer.current_learning_rate
        return TrainingDiverged(
            f"Training diverged: the loss became {loss} at epoch {epoch + 1}, batch {step + 1}, "
            f"with {type(self.optimizer).__name__} at learning rate {lr:g}. Try a learning rate "
            f"about 10 times smaller ({lr / 10:g}), gradient clipping (e.g. clipnorm=1.0), "
            "standardised inputs, or an adaptive optimizer such as 'adam'. "
            "The history up to the last finished epoch is in the exception's .history.",
            epoch=epoch + 1, batch=step + 1, learning_rate=lr, history=history,
        )

    @staticmethod
    def _logs(loss: float, metric_objects: list[Any], totals: list[float],
              counts: list[int]) -> dict[str, float]:
        logs = {"loss": float(loss)}  # first, as Keras logs and prints it
        logs.update({m.name: float(t / c) if c else 0.0
                     for m, t, c in zip(metric_objects, totals, counts, strict=True)})
        return logs

    # -- evaluate / predict -------------------------------------------------------------------
    def _evaluate_arrays(self, x: np.ndarray, y: np.ndarray, size: int) -> dict[str, float]:
        metric_objects = self._resolved_metrics(y.shape)
        loss_total = 0.0
        totals = [0.0] * len(metric_objects)
        counts = [0] * len(metric_objects)
        for start in range(0, len(x), size):
            xb, yb = x[start:start + size], y[start:start + size]
            output = self._forward(xb, training=False)
            loss_total += self.loss(yb, output) * len(xb)
            for i, metric in enumerate(metric_objects):
                total, count = metric.batch_values(yb, output)
                totals[i] += total
                counts[i] += count
        # The penalties are the same for every batch (no update is made): added once, as Keras'
        # batch-weighted mean of (batch loss + penalties) would give.
        penalty = sum(self.losses)
        return self._logs(loss_total / len(x) + penalty, metric_objects, totals, counts)

    @_quiet_arithmetic
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int | str = "auto", return_dict: bool = False) -> Any:
        """Loss (and metrics) on ``(x, y)``: a float, or ``[loss, metric, ...]`` with metrics.

        The loss includes the weights' penalties Σ R(W), as Keras' ``evaluate`` does."""
        self._require_compiled("evaluate")
        verbose = _default_verbose(verbose)
        validation.check_bool(return_dict, "return_dict")
        x, y = self._prepare_xy(x, y)
        size = _batch_size(batch_size, len(x))
        started = time.perf_counter()
        logs = self._evaluate_arrays(x, y, size)
        if verbose:  # Keras' line: with a bar at verbose=1, the plain "4/4 - 0s - 2ms/step" at 2
            callbacks_module.print_final_line(math.ceil(len(x) / size),
                                              time.perf_counter() - started, logs, verbose)
        return self._result(logs, return_dict)

    @_quiet_arithmetic
    def predict(self, x: Any, batch_size: int | None = None,
                verbose: int | str = "auto") -> np.ndarray:
        """The model's output for ``x`` (inference mode: no dropout), in batches of
        ``batch_size`` (default 1024).

        ``verbose`` as in Keras and :meth:`evaluate`: 0 silent, 1 the progress line with its bar
        (``1/1 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step``), 2 the plain ``1/1 - 0s - 3ms/step``;
        ``"auto"`` (the default) is 1 on a terminal or in a notebook, 2 otherwise."""
        if not self.layers:
            raise ConfigError("The model has no layers; add some with model.add(Dense(...)).")
        verbose = _default_verbose(verbose)
        x = self._prepare_x(x)
        size = _batch_size(batch_size if batch_size is not None else 1024, len(x))
        started = time.perf_counter()
        parts = [self._forward(x[s:s + size], training=False).copy()
                 for s in range(0, len(x), size)]
        if verbose:
            callbacks_module.print_final_line(len(parts), time.perf_counter() - started, {},
                                              verbose)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        training = validation.check_bool(training, "training")
        return self._forward(self._prepare_x(x), training=training).copy()

    # -- saving -------------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike[str], include_optimizer: bool = True) -> None:
        """Save architecture, weights, optimizer and training state to one file, atomically
        (missing folders are created, as Keras does). See :mod:`descentlab.saving`."""
        content, arrays = self._file_contents(include_optimizer)
        saving.write_model_file(filepath, content, arrays)

    def _file_contents(self, include_optimizer: bool) -> tuple[dict[str, Any], list[np.ndarray]]:
        """The description (JSON-ready) and the arrays (weights, then optimizer slots) of a
        model file."""
        arrays: list[np.ndarray] = list(self.weights)
        content: dict[str, Any] = {
            "model": {"class_name": type(self).__name__, "config": self.get_config(),
                      "input_dim": self.input_dim, "built": self.built},
            "weights": {"count": len(arrays)},
            "compile": self.get_compile_config(),
            "optimizer_state": None,
            "train_rng": self.get_training_state()["rng"],
        }
        if self.optimizer is not None and include_optimizer:
            state = self.optimizer.get_state()
            slots = state.pop("slots", {})
            content["optimizer_state"] = {
                "scalars": state, "slots": {name: len(values) for name, values in slots.items()}}
            for values in slots.values():
                arrays.extend(values)
        return content, arrays

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layers": [layers_module.serialize(layer) for layer in self.layers],
            "dtype": self.dtype,
        }

    def get_compile_config(self) -> dict[str, Any] | None:
        """The arguments of ``compile`` as plain data (Keras' ``get_compile_config``):
        ``{"optimizer": config, "loss": name, "metrics": [names]}``, or None if not compiled."""
        if not self.compiled:
            return None
        assert self.optimizer is not None  # set by compile
        return {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": losses.serialize(self.loss),
            "metrics": [m if isinstance(m, str) else getattr(m, "name", str(m))
                        for m in self._metric_identifiers],
        }

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """``compile`` with the arguments of a :meth:`get_compile_config` result."""
        self.compile(optimizer=optimizers.deserialize(config["optimizer"]),
                     loss=losses.get(config["loss"]), metrics=config["metrics"])


def summary_text(model: Sequential) -> str:
    """The Keras-style summary table of ``model`` as a string."""
    rows = []
    for layer in model.layers:
        shape = f"(None, {layer.units})" if layer.built else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, params))
    widths = (33, 24, 15)
    heads = ("Layer (type)", "Output Shape", "Param #")

    def line(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * w for w in widths) + right

    def row(cells: tuple[str, str, str]) -> str:
        a, b, c = cells
        return (f"│ {a:<{widths[0] - 2}} │ {b:<{widths[1] - 2}} │ {c:>{widths[2] - 2}} │")

    total = model.count_params()
    trainable = int(sum(w.size for w in model.trainable_weights))
    itemsize = np.dtype(model.dtype).itemsize
    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━"),
           "┃ " + " ┃ ".join(
               (heads[0].ljust(widths[0] - 2), heads[1].ljust(widths[1] - 2),
                heads[2].rjust(widths[2] - 2))) + " ┃",
           line("┡", "╇", "┩", "━")]
    for i, cells in enumerate(rows):
        out.append(row(cells))
        if i < len(rows) - 1:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    out.append(f" Total params: {total:,} ({_human_bytes(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({_human_bytes(trainable * itemsize)})")
    out.append(f" Non-trainable params: {total - trainable:,} "
               f"({_human_bytes((total - trainable) * itemsize)})")
    return "\n".join(out)


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def load_model(filepath: str | os.PathLike[str]) -> Sequential:
    """Load a model saved with ``model.save``: architecture, weights, and the optimizer and
    training state, ready to predict or to resume training exactly.

    Everything a file declares is checked before it is used: the architecture's weights
    against the stored arrays (before anything is built), the optimizer's state against the
    weights, the sizes against :mod:`descentlab.saving`'s limits. A file that is not a sound
    descentlab model file raises :class:`ModelFileError`, never anything else."""
    if not isinstance(filepath, (str, bytes, os.PathLike)):
        raise validation.fail("load_model's filepath", "a file path such as 'model.dlab'",
                              filepath)
    path = os.fspath(filepath)
    content, arrays = saving.read_model_file(path)
    try:
        return _model_from_file(content, arrays, path)
    except ModelFileError:
        raise
    except DescentLabError as exc:
        raise ModelFileError(
            f"{path!r} describes a model descentlab cannot rebuild: {_shortened(exc)}"
        ) from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise ModelFileError(
            f"{path!r} is not a valid descentlab model file ({type(exc).__name__}: "
            f"{_shortened(exc)})."
        ) from None


def _shortened(exc: BaseException, most: int = 300) -> str:
    """An error's message, cut to ``most`` characters (a hostile file may hold long values)."""
    text = str(exc)
    return text if len(text) <= most else text[:most] + "…"


#: The most optimizer steps a file may record: 2⁵³, the last count a float64 holds exactly
#: (the update rules raise β to the power t; a larger count is no real training run).
_MOST_ITERATIONS = 2**53


def _model_from_file(content: dict[str, Any], arrays: list[np.ndarray], path: str) -> Sequential:
    """The model a file's description and arrays describe (see :meth:`Sequential.save`).

    Order matters: the description is checked against the stored arrays *before* the
    architecture is built, so a small file cannot declare a huge layer."""
    spec = _part(content, "model", path)
    if spec.get("class_name") != "Sequential":
        raise ModelFileError(f"{path!r} holds an unknown model type "
                             f"{_shortened(ValueError(repr(spec.get('class_name'))), 80)}.")
    config = _part(spec, "config", path)
    layer_specs = config.get("layers")
    if not isinstance(layer_specs, list) or not all(
            isinstance(s, dict) and isinstance(s.get("config"), dict) for s in layer_specs):
        raise ModelFileError(f"{path!r} is corrupted: its model config has no list of layers.")
    count = _part(content, "weights", path).get("count")
    if type(count) is not int or not 0 <= count <= len(arrays):
        raise ModelFileError(f"{path!r} is corrupted: it declares {count!r} weights and stores "
                             f"{len(arrays)} arrays.")
    dtype = np.dtype(validation.check_choice(config.get("dtype"), "the model's dtype",
                                             ("float32", "float64")))
    declared = _declared_weight_shapes(layer_specs, spec)
    stored = [a.shape for a in arrays[:count]]
    if declared is not None and declared != stored:
        raise ModelFileError(
            f"{path!r} is inconsistent: its architecture declares {len(declared)} weights of "
            f"shapes {_shortened(ValueError(declared), 120)}, but it stores {count} of shapes "
            f"{_shortened(ValueError(stored), 120)}.")
    if any(a.dtype != dtype for a in arrays):
        raise ModelFileError(f"{path!r} is inconsistent: a {dtype.name} model with arrays of "
                             f"{sorted({a.dtype.name for a in arrays})}.")
    previous = backend.floatx()
    backend.set_floatx(dtype.name)
    drawn: list[tuple[layers_module.Layer, dict[str, Any]]] = []
    try:
        model = Sequential(name=config.get("name"))
        for layer_spec in layer_specs:
            layer = layers_module.deserialize(layer_spec)
            drawn.append((layer, _initializers_set_to_zeros(layer)))
            model.add(layer)
        if spec.get("built") and not model.built:
            model.build(spec["input_dim"])
    finally:
        backend.set_floatx(previous)
        for layer, initializers in drawn:
            vars(layer).update(initializers)
    if count != len(model.weights):
        raise ModelFileError(f"{path!r} is inconsistent: {count} weights for a model of "
                             f"{len(model.weights)}.")
    # Each stored array is released once copied into the model (the caller's list included),
    # so that loading never holds much more than the loaded model.
    weights, rest = arrays[:count], arrays[count:]
    arrays.clear()
    model.set_weights(weights)
    del weights
    compile_config = content.get("compile")
    if compile_config is not None:
        model.compile_from_config(_part(content, "compile", path))
        state_spec = content.get("optimizer_state")
        if state_spec is not None:
            assert model.optimizer is not None  # compiled just above
            model.optimizer.set_state(
                _optimizer_state(model, _part(content, "optimizer_state", path), rest, path))
        elif rest:
            raise ModelFileError(f"{path!r} is inconsistent: {len(rest)} arrays beyond the "
                                 "weights, but no optimizer state.")
    elif rest:
        raise ModelFileError(f"{path!r} is inconsistent: {len(rest)} arrays beyond the "
                             "weights of an uncompiled model.")
    model.set_training_state({"rng": content.get("train_rng")})
    return model


def _initializers_set_to_zeros(layer: layers_module.Layer) -> dict[str, Any]:
    """Point the layer's initializers at zeros, and return the real ones to put back once it
    is built: the loaded weights overwrite whatever is drawn, so drawing them (random numbers
    in float64, as large as the weight) would only cost time and memory."""
    initializers = {key: value for key, value in vars(layer).items()
                    if key.endswith("_initializer")}
    zeros = initializers_module.get("zeros")
    for key in initializers:
        setattr(layer, key, zeros)
    return initializers


def _part(content: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    """``content[key]``, which must be a JSON object."""
    value = content.get(key)
    if not isinstance(value, dict):
        raise ModelFileError(f"{path!r} is corrupted: its {key!r} part is "
                             f"{type(value).__name__}, not an object.")
    return value


def _declared_weight_shapes(layer_specs: list[dict[str, Any]], spec: dict[str, Any],
                            ) -> list[tuple[int, ...]] | None:
    """The shapes of the weights the architecture will build, computed from the description
    alone (nothing is allocated); None if a layer's kind is not in :data:`_WEIGHT_SHAPES`.

    As :meth:`Sequential.add` does: the layers are built from the first one's ``input_dim``
    on, or from the model's when the file says it was built, else not at all."""
    width: int | None = None
    if spec.get("built"):
        width = validation.check_int(spec.get("input_dim"), "the model's input_dim", low=1)
    shapes: list[tuple[int, ...]] = []
    for k, layer_spec in enumerate(layer_specs):
        config = layer_spec["config"]
        if k == 0 and config.get("input_dim") is not None:
            width = validation.check_int(config["input_dim"], "input_dim", low=1)
        rule = _WEIGHT_SHAPES.get(layer_spec.get("class_name"))  # type: ignore[arg-type]
        if rule is None:
            return None
        layer_shapes, out = rule(config, width)
        shapes.extend(layer_shapes)
        width = out if width is not None else None
    return shapes


def _dense_shapes(config: dict[str, Any], width: int | None,
                  ) -> tuple[list[tuple[int, ...]], int]:
    # Even unbuilt, a layer wider than the largest loadable model could never be trained.
    units = validation.check_int(config.get("units"), "Dense units", low=1,
                                 high=saving.MAX_MODEL_BYTES // 4,
                                 what="a positive integer no larger than the largest model "
                                      "descentlab loads allows (descentlab.saving.MAX_MODEL_BYTES)")
    if width is None:
        return [], units
    return [(width, units)] + ([(units,)] if config.get("use_bias", True) else []), units


def _batch_normalization_shapes(config: dict[str, Any], width: int | None,
                                ) -> tuple[list[tuple[int, ...]], int | None]:
    if width is None:
        return [], None
    trainable = int(config.get("scale", True) is not False) + \
        int(config.get("center", True) is not False)
    return [(width,)] * (trainable + 2), width  # gamma, beta, moving mean and variance


def _no_weights(config: dict[str, Any], width: int | None,
                ) -> tuple[list[tuple[int, ...]], int | None]:
    return [], width


#: For each kind of layer: (its config, its input width) → (its weights' shapes, its output
#: width). A test holds these equal to what each layer's ``build`` creates.
_WEIGHT_SHAPES: dict[str, Any] = {
    "Dense": _dense_shapes,
    "BatchNormalization": _batch_normalization_shapes,
    "Activation": _no_weights,
    "Dropout": _no_weights,
}


def _optimizer_state(model: Sequential, spec: dict[str, Any], arrays: list[np.ndarray],
                     path: str) -> dict[str, Any]:
    """The state to hand ``model.optimizer.set_state``, checked first: the step count, the
    scalars this optimizer keeps, and one slot per trainable weight of the same shape."""
    optimizer = model.optimizer
    assert optimizer is not None  # compiled by the caller
    scalars = _part(spec, "scalars", path)
    counts = _part(spec, "slots", path)
    expected_scalars = {k for k in optimizer.get_state() if k != "slots"}
    if set(scalars) != expected_scalars:
        raise ModelFileError(f"{path!r} is inconsistent: the {type(optimizer).__name__} state "
                             f"holds {sorted(scalars)}, not {sorted(expected_scalars)}.")
    for key, value in scalars.items():
        if key == "iterations":
            validation.check_int(value, "the optimizer's iterations", low=0,
                                 high=_MOST_ITERATIONS, what="an integer from 0 to 2**53")
        else:
            validation.check_float(value, f"the optimizer's {key}")
    trainable = model.trainable_weights
    if counts and (list(counts) != list(optimizer.slot_names)
                   or any(n != len(trainable) for n in counts.values())):
        raise ModelFileError(
            f"{path!r} is inconsistent: the {type(optimizer).__name__} state has slots "
            f"{_shortened(ValueError(counts), 120)}; it keeps "
            f"{', '.join(optimizer.slot_names) or 'none'}, one per trainable weight "
            f"({len(trainable)}).")
    if sum(counts.values()) != len(arrays):
        raise ModelFileError(f"{path!r} is inconsistent: {len(arrays)} optimizer arrays "
                             f"stored, {sum(counts.values())} declared.")
    slots, k = {}, 0
    for name, n in counts.items():
        slots[name] = arrays[k:k + n]
        for slot, weight in zip(slots[name], trainable, strict=True):
            if slot.shape != weight.shape:
                raise ModelFileError(
                    f"{path!r} is inconsistent: the optimizer's {name!r} slot has shape "
                    f"{slot.shape} for a weight of shape {weight.shape}.")
        k += n
    return {**scalars, "slots": slots}
