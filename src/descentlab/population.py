"""Population training: K networks of one architecture trained in lockstep.

An honest comparison — of activations, depths, optimizers, learning rates — needs many runs:
seeds for the spread, a range of learning rates for each optimizer. Trained one by one, small
networks spend most of their time in Python. Stacked, they share every NumPy call::

    member k alone                        the population, all K members at once
    kernel W (inputs, units)              W (K, inputs, units)     bias b (K, units)
    batch  x (batch, inputs)              x (K, batch, inputs)     each member its own samples
    z = x @ W + b                         the same line: one batched matrix product per layer
    optimizer rule on W                   the same rule on rows (K, size), one row per member

This is what JAX's ``vmap`` and ``torch.func`` do for their users; here it is no second engine:
the layers (:mod:`descentlab.layers`), losses and optimizers are written so that the same code
serves one network and a stack of them (the batch axis is −2, transposes are
``swapaxes(-1, -2)``, and per-member constants broadcast as (K, 1) columns).

Each member is exactly the network ``Sequential.fit`` trains with its seed and settings: its own
initial weights, its own shuffling order and dropout masks (drawn from its own generator, in the
order ``fit`` draws them), its own learning rate and optimizer constants. The tests hold every
float64 member equal to a separate ``fit`` run to rounding (rtol 1e-12). A member whose loss
becomes NaN or infinite stops — as ``fit(on_divergence="stop")`` would stop it — and the others
go on. Between calls the members are ordinary ``Sequential`` models (``population.models[k]``):
evaluate, predict, save or keep training any of them on its own.

>>> def make():
...     model = Sequential([Dense(32, activation="relu", input_dim=64),
...                         Dense(10, activation="softmax")])
...     model.compile(optimizer=SGD(0.1), loss="sparse_categorical_crossentropy",
...                   metrics=["accuracy"])
...     return model
>>> population = Population.from_seeds(make, seeds=range(16))
>>> histories = population.fit(x, y, epochs=10, batch_size=32)   # one History per member
>>> population.models[3].save("member3.dlab")

Members may differ in seed, learning rate, any number of the optimizer (``momentum``,
``beta_1``, ``epsilon``, ``weight_decay``, clipping thresholds, ...) and the activations of
their hidden layers (sigmoid, tanh and ReLU networks of one shape train as one population:
each member's rows go through its own function, the matrix products stay batched); they share
the architecture, the loss, the metrics and the optimizer's class, flavor and switches
(``nesterov``, ``amsgrad``, ``centered``, which clipping, a learning-rate schedule). In float32,
members whose optimizer constants differ compute those constants' products in float64, so they
agree with separate float32 runs to float32 rounding rather than bit for bit.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from descentlab import activations, backend, optimizers, validation
from descentlab import callbacks as callbacks_module
from descentlab import layers as layers_module
from descentlab.errors import ConfigError, DataError, TrainingDiverged
from descentlab.models import Sequential, _batch_size, validation_pair

__all__ = ["Population", "seeded"]

_DIVERGENCE_MODES = ("stop", "continue")
#: Optimizer settings that may take one value per member: they enter the rules as numbers.
#: (Any other setting — flavor, nesterov, amsgrad, centered — changes the equations.)
_CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


def seeded(make_model: Callable[[], Sequential], seed: int) -> Sequential:
    """The model ``make_model()`` builds after ``set_random_seed(seed)``, holding the training
    stream (shuffling order, dropout masks) that its first ``fit`` would then draw.

    The global generator is left as it was, so members can be made one after another:
    ``Population([seeded(make, s) for s in seeds])`` trains, member by member, what
    ``set_random_seed(s); make().fit(...)`` trains."""
    seed = validation.check_int(seed, "seed", low=0)
    with backend.use_generator(np.random.default_rng(seed)):
        model = make_model()
        if not isinstance(model, Sequential):
            raise ConfigError(f"make_model must return a Sequential; got {model!r}.")
        model._ensure_train_rng()
    return model


class Population:
    """K compiled, built ``Sequential`` models of one architecture, trained in lockstep.

    Args:
        models: the members; ``population.models[k]`` stays that very object, updated in place
            by :meth:`fit` (weights, optimizer state, training stream, ``history``).
    """

    def __init__(self, models: Iterable[Sequential]) -> None:
        models = list(models)
        if not models:
            raise ConfigError("A Population needs at least one model.")
        for k, model in enumerate(models):
            if not isinstance(model, Sequential):
                raise ConfigError(f"Population members must be Sequential models; member {k} "
                                  f"is {model!r}.")
            model._require_compiled(f"Population member {k}")
            if not model.built:
                raise ConfigError(
                    f"Population member {k} is not built: give its first layer input_dim=... "
                    "so that its weights exist before training.")
        if len({id(m) for m in models}) != len(models):
            raise ConfigError("A model appears twice in the Population; give distinct models.")
        reference = _architecture(models[0])
        for k, model in enumerate(models[1:], start=1):
            if _architecture(model) != reference:
                raise ConfigError(
                    f"Population member {k} differs from member 0 in its layers, loss, "
                    "metrics or dtype; a population trains one architecture (members may "
                    "differ in seed, learning rate, optimizer constants and hidden layers' "
                    "activations).")
        _stack_optimizers([m.optimizer for m in models], [m.trainable_weights for m in models],
                          check_only=True)
        self._models = models
        #: The members stacked, while train_on_batch, evaluate or predict keep them so (None
        #: when each member's model holds its own current state).
        self._engine: _Lockstep | None = None
        #: What _losses_on_arrays keeps between calls: x, x samples last, the outputs' arrays.
        self._measuring: tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]] | None = None
        #: The History of each member's last :meth:`fit` (None before the first).
        self.histories: list[callbacks_module.History | None] = [None] * len(models)
        #: Members whose loss became NaN/inf in the last :meth:`fit`: {member: TrainingDiverged}.
        self.diverged: dict[int, TrainingDiverged] = {}

    @classmethod
    def from_seeds(cls, make_model: Callable[[], Sequential], seeds: Iterable[int],
                   ) -> Population:
        """One member per seed, each as :func:`seeded` makes it."""
        if not callable(make_model):
            raise ConfigError("Population.from_seeds needs a function that builds and compiles "
                              f"one model (make_model), called once per seed; got {make_model!r}.")
        return cls([seeded(make_model, seed) for seed in seeds])

    @property
    def models(self) -> list[Sequential]:
        """The members, each an ordinary ``Sequential`` holding its current weights, optimizer
        state and training stream (written back from the stacked copy the population trains)."""
        self._settle()
        return self._models

    def _settle(self) -> None:
        """Write the stacked members back into their own models and drop the stack: whoever
        asks for a member may change it, so the next batched call stacks it afresh."""
        if self._engine is not None:
            self._engine.write_back()
            self._engine = None

    def _lockstep(self) -> _Lockstep:
        """The members stacked, kept between train_on_batch / evaluate / predict calls."""
        if self._engine is None:
            for model in self._models:
                model._ensure_train_rng()  # its Dropout layers draw from its current stream
            self._engine = _Lockstep(self._models)
        return self._engine

    def __len__(self) -> int:
        return len(self._models)

    def __getitem__(self, k: int) -> Sequential:
        return self.models[k]

    def __iter__(self) -> Iterator[Sequential]:
        return iter(self.models)

    def __repr__(self) -> str:
        return f"<Population of {len(self._models)} × {self._models[0].count_params():,} params>"

    # -- training -----------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | str | None = None,
            epochs: int = 1, verbose: int = 0, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, initial_epoch: int = 0,
            on_divergence: str = "stop",
            on_epoch_end: Callable[[int, dict[int, dict[str, float]]], Any] | None = None,
            ) -> list[callbacks_module.History]:
        """Train every member on ``(x, y)`` as its own ``fit`` would; one History per member.

        The arguments mean what they mean for :meth:`Sequential.fit`. ``on_divergence``:
        ``"stop"`` (default) stops a member whose loss becomes NaN/inf — its history ends with
        that epoch, as ``fit(on_divergence="stop")``'s — and records it in :attr:`diverged`;
        ``"continue"`` trains it on. ``verbose`` 1 or 2 prints one line per epoch.

        ``on_epoch_end(epoch, logs)``, if given, is called after every epoch with the logs of
        the members still training, ``{member: logs}``; each member's model then holds its
        weights of that moment, to be measured (``population.models[k]``) but not changed.
        """
        # As fit: a diverging member is reported once, not by NumPy's overflow warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self._fit(x, y, batch_size, epochs, verbose, validation_split,
                             validation_data, shuffle, initial_epoch, on_divergence,
                             on_epoch_end)

    def _fit(self, x: Any, y: Any, batch_size: int | str | None, epochs: int, verbose: int,
             validation_split: float, validation_data: Any, shuffle: bool, initial_epoch: int,
             on_divergence: str, on_epoch_end: Callable[..., Any] | None,
             ) -> list[callbacks_module.History]:
        epochs = validation.check_int(epochs, "epochs", low=1)
        initial_epoch = validation.check_int(initial_epoch, "initial_epoch", low=0)
        on_divergence = validation.check_choice(on_divergence, "on_divergence",
                                                _DIVERGENCE_MODES)
        shuffle = validation.check_bool(shuffle, "shuffle")
        verbose = validation.check_choice(verbose, "verbose", (0, 1, 2))
        if on_epoch_end is not None and not callable(on_epoch_end):
            raise ConfigError("on_epoch_end must be a function of (epoch, logs) or None; got "
                              f"{on_epoch_end!r}.")
        validation_split = validation.check_float(
            validation_split, "validation_split", low=0.0, high=1.0, high_open=True,
            what="a fraction in [0, 1)")
        self._settle()
        models = self._models
        first = models[0]
        x, y, val = self._fit_data(x, y, validation_data, validation_split)
        own_data = x.ndim == 3  # each member its own samples: x (members, n, features)
        n = x.shape[-2]
        size = _batch_size(batch_size, n)
        steps = math.ceil(n / size)

        members = len(models)
        metric_objects = first._resolved_metrics(y.shape[own_data:])
        rngs = [m._ensure_train_rng() for m in models]
        histories = [callbacks_module.History() for _ in models]
        for model, history in zip(models, histories, strict=True):
            history.set_model(model)
            history.set_params({"epochs": epochs, "steps": steps, "verbose": verbose,
                                "batch_size": size, "samples": n})
            model.history = history
            model.stop_training = False
        self.histories = list(histories)
        self.diverged = {}
        active = list(range(members))
        engine = _Lockstep([models[k] for k in active])
        try:
            for epoch in range(initial_epoch, epochs):
                orders = np.stack([rngs[k].permutation(n) if shuffle else np.arange(n)
                                   for k in active])  # (members, n): each member's order
                owners = np.array(active) if own_data else None
                # Where the members still training keep their totals: all of them (a slice,
                # cheaper to index than a list) until one stops.
                rows = slice(None) if len(active) == members else np.array(active)
                # The epoch's samples in each member's order, gathered at once when that copy
                # is small (a step then takes a slice, a view), else batch by batch.
                gathered = orders.size * (x[..., 0, :].nbytes + y[..., 0:1].nbytes) \
                    <= _GATHER_BYTES
                if gathered:
                    xs, ys = _in_orders(x, orders, owners), _in_orders(y, orders, owners)
                loss_total = np.zeros(members)
                metric_totals = np.zeros((len(metric_objects), members))
                seen = 0
                stopped: list[int] = []
                for step in range(steps):
                    start = step * size
                    if gathered:
                        xb, yb = xs[:, start:start + size], ys[:, start:start + size]
                    else:
                        batch = orders[:, start:start + size]
                        xb, yb = _in_orders(x, batch, owners), _in_orders(y, batch, owners)
                    losses, output = engine.step(xb, yb)
                    batch_n = yb.shape[1]
                    seen += batch_n
                    loss_total[rows] += losses * batch_n
                    for i, metric in enumerate(metric_objects):
                        metric_totals[i, rows] += metric.sums(yb, output)
                    if on_divergence == "stop" and not np.isfinite(losses).all():
                        engine.write_back()
                        for pos in np.flatnonzero(~np.isfinite(losses)):
                            k = active[pos]
                            model = models[k]
                            self.diverged[k] = model._diverged(epoch, step, float(losses[pos]),
                                                               histories[k])
                            self._end_epoch(k, epoch, loss_total[k] / seen,
                                            metric_totals[:, k], seen, val, size,
                                            metric_objects)
                            stopped.append(k)
                        keep = [pos for pos, k in enumerate(active) if k not in stopped]
                        active = [active[pos] for pos in keep]
                        if not active:
                            return histories
                        engine = _Lockstep([models[k] for k in active])
                        # The rest of the epoch as it was drawn, for the members left.
                        orders, rows = orders[keep], np.array(active)
                        owners = rows if own_data else None
                        if gathered:
                            xs, ys = xs[keep], ys[keep]
                logs = engine.epoch_logs(loss_total[active] / seen, metric_totals[:, active],
                                         seen, metric_objects, _members(val, active), size)
                for k, member_logs in zip(active, logs, strict=True):
                    histories[k].on_epoch_end(epoch, member_logs)
                if verbose:
                    _print_epoch(epoch, epochs, logs, len(self.diverged))
                if on_epoch_end is not None:
                    if len(active) == members:
                        # The hook's evaluate, predict and compute_gradients run on this very
                        # stack; the members' own models are written back only if it asks
                        # for them (.models).
                        self._engine = engine
                    else:
                        engine.write_back()
                    on_epoch_end(epoch, dict(zip(active, logs, strict=True)))
                    self._engine = None  # a stack the hook made to measure is stale now
        finally:
            engine.write_back()
            self._engine = None
        return histories

    def _fit_data(self, x: Any, y: Any, validation_data: Any, validation_split: float,
                  ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Sequential's ``_fit_data`` for data shared by the members, or for each member's own
        data (x of shape (members, n, features)): checked, and split as each member's own
        ``fit`` would split its part."""
        first = self._models[0]
        if np.ndim(x) != 3:
            return first._fit_data(x, y, validation_data, validation_split)
        x, y = self._member_data(x, y)
        if validation_data is not None:
            x_val, y_val = validation_pair(validation_data)
            return x, y, self._member_data(x_val, y_val, what="validation_data ")
        if validation_split > 0:
            first_part, _, _ = first._fit_data(x[0], y[0], None, validation_split)
            split_at = len(first_part)  # where each member's own fit would split its part
            return x[:, :split_at], y[:, :split_at], (x[:, split_at:], y[:, split_at:])
        return x, y, None

    def _member_data(self, x: Any, y: Any, what: str = "",
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Each member's own samples, x (members, n, features) and y (members, n, ...),
        checked as one model checks its data (all members' samples at once)."""
        x = self._member_inputs(x, what)
        y = validation.check_array(y, f"{what}y", self._models[0].dtype)
        if y.ndim < 2 or y.shape[:2] != x.shape[:2]:
            raise DataError(f"{what}y must hold each member's targets, shape (members, samples"
                            f", ...) = {x.shape[:2]} + ...; got shape {y.shape}.")
        flat_x, flat_y = self._models[0]._prepare_xy(
            x.reshape(-1, x.shape[-1]), y.reshape(-1, *y.shape[2:]), what)
        return (flat_x.reshape(x.shape),
                flat_y.reshape(x.shape[:2] + flat_y.shape[1:]))

    def _member_inputs(self, x: Any, what: str = "") -> np.ndarray:
        """x as an array of each member's own samples (members, n, features), its shape
        checked (the values are checked with the targets, or by ``_prepare_x``)."""
        members = len(self._models)
        x = validation.check_array(x, f"{what}x", self._models[0].dtype)
        if x.ndim != 3 or len(x) != members:
            raise DataError(f"{what}x must be (samples, features), shared by the members, or "
                            f"(members, samples, features) with members = {members}, each "
                            f"member its own samples; got shape {x.shape}.")
        return x

    def _data(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Shared data (n, features) or each member's own (members, n, features), checked."""
        if np.ndim(x) == 3:
            return self._member_data(x, y)
        return self._models[0]._prepare_xy(x, y)

    def _end_epoch(self, k: int, epoch: int, loss: float, metric_totals: np.ndarray, seen: int,
                   val: tuple[np.ndarray, np.ndarray] | None, size: int,
                   metric_objects: list[Any]) -> None:
        """Member k's last, partial epoch, on its own model (it has left the lockstep)."""
        model = self._models[k]
        logs = model._logs(float(loss), metric_objects, [float(t) for t in metric_totals],
                           [seen] * len(metric_objects))
        member_val = _members(val, [k])
        if member_val is not None:
            x_val, y_val = member_val
            if x_val.ndim == 3:
                x_val, y_val = x_val[0], y_val[0]
            val_logs = model._evaluate_arrays(x_val, y_val, size)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        self.histories[k].on_epoch_end(epoch, logs)  # type: ignore[union-attr]

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> list[Any]:
        """One gradient step of every member: each its own batch, x (members, batch, features)
        and y (members, batch, ...), or one batch (batch, features) for all.

        Returns each member's :meth:`Sequential.train_on_batch` result (its loss before the
        update, or ``[loss, metric, ...]``, or a dict). A member whose loss becomes NaN/inf is
        recorded in :attr:`diverged` (a ``TrainingDiverged``, not raised: the others go on)
        and trains on in lockstep with meaningless numbers; leave it out from then on.
        Between calls the members stay stacked; :attr:`models` writes them back.
        """
        x, y = self._data(x, y)
        self._models[0]._require_compiled("train_on_batch")
        own_data = x.ndim == 3
        metric_objects = self._metrics(y, own_data)
        losses, output = self._train_on_arrays(x, y)
        if not own_data:
            y = np.broadcast_to(y, (len(self._models), *y.shape))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            totals = [metric.sums(y, output) for metric in metric_objects]
        batch = y.shape[1]
        return [model._result(Sequential._logs(float(losses[k]), metric_objects,
                                               [float(t[k]) for t in totals],
                                               [batch] * len(metric_objects)), return_dict)
                for k, model in enumerate(self._models)]

    def _train_on_arrays(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`train_on_batch`'s step, on data checked already (as :meth:`_data` returns
        it): each member's batch loss before the update (K,), and the outputs. A member whose
        loss is NaN/inf is recorded in :attr:`diverged`.

        For a caller that checks its data once and takes many steps on it, such as the
        optimizer lab, which draws every batch from a training set it checked once: the
        checks cost about as much as a small population's step."""
        engine = self._lockstep()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if x.ndim == 2:  # one batch for all
                x = np.broadcast_to(x, (len(self._models), *x.shape))
                y = np.broadcast_to(y, (len(self._models), *y.shape))
            losses, output = engine.step(x, y)
        if np.isfinite(losses).all():  # nearly always: no member to report
            return losses, output
        for k in np.flatnonzero(~np.isfinite(losses)):
            if k not in self.diverged:
                model = self._models[k]
                rate = np.asarray(engine.optimizer.current_learning_rate, dtype=np.float64)
                lr = float(np.broadcast_to(rate.reshape(-1, 1), (len(losses), 1))[k, 0])
                self.diverged[int(k)] = TrainingDiverged(
                    f"Training diverged: member {k}'s loss became {losses[k]} in "
                    f"train_on_batch with {type(model.optimizer).__name__} at learning rate "
                    f"{lr:g}. Try a learning rate about 10 times smaller ({lr / 10:g}).",
                    epoch=None, batch=None, learning_rate=lr,
                    history=callbacks_module.History())
        return losses, output

    def compute_gradients(self, x: Any, y: Any, training: bool = False,
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each member's :meth:`Sequential.compute_gradients`, computed for all at once: the
        losses (members,) and ∂L/∂w of every trainable weight with a leading member axis
        (members, ...), aligned with each member's trainable weights. No update is made."""
        training = validation.check_bool(training, "training")
        self._models[0]._require_compiled("compute_gradients")
        x, y = self._data(x, y)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self._lockstep().gradients(x, y, training)

    # -- inference ----------------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        """Every member's output: an array (members, samples, units), for x shared by the
        members (samples, features) or each member's own (members, samples, features).
        ``verbose`` 1 or 2 prints Keras' last line of a ``predict`` (``4/4 - 0s - 2ms/step``)."""
        verbose = validation.check_choice(verbose, "verbose", (0, 1, 2))
        first = self._models[0]
        if np.ndim(x) == 3:
            x = self._member_inputs(x)
            x = first._prepare_x(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        else:
            x = first._prepare_x(x)
        n = x.shape[-2]
        size = _batch_size(batch_size if batch_size is not None else 1024, n)
        engine = self._lockstep()
        started = time.perf_counter()
        parts = [engine.forward(x[..., s:s + size, :]).copy() for s in range(0, n, size)]
        if verbose:
            callbacks_module.print_final_line(len(parts), time.perf_counter() - started, {},
                                              verbose)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int = 0, return_dict: bool = False) -> list[Any]:
        """Each member's :meth:`Sequential.evaluate` result, computed for all at once, on data
        shared by the members or each member's own (x (members, samples, features)).
        ``verbose`` 1 or 2 prints one line: the members' loss and metrics, each as its minimum,
        median and maximum."""
        verbose = validation.check_choice(verbose, "verbose", (0, 1, 2))
        x, y = self._data(x, y)
        own_data = x.ndim == 3
        size = _batch_size(batch_size, x.shape[-2])
        logs = self._lockstep().evaluate(x, y, size, self._metrics(y, own_data))
        if verbose:
            print(f"{len(logs)} members - {_spread(logs, list(logs[0]))}", flush=True)
        return [model._result(member_logs, return_dict)
                for model, member_logs in zip(self._models, logs, strict=True)]

    def _metrics(self, y: np.ndarray, own_data: bool) -> list[Any]:
        """The metric objects for targets ``y`` (each member's own when ``own_data``); every
        member resolves its own too, which its ``_result`` reads."""
        shape = y.shape[own_data:]
        for model in self._models[1:]:
            model._resolved_metrics(shape)
        return self._models[0]._resolved_metrics(shape)

    def _losses_on_arrays(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each member's loss on data checked already (as :meth:`_data` returns it), in one
        batch: the loss :meth:`evaluate` gives with ``batch_size=len(x)``, as an array (K,).

        For the optimizer lab, which measures the loss on its whole training set after every
        update (see :meth:`_train_on_arrays`): a network of Dense layers is run samples last
        (:func:`_forward_samples_last`), which gives evaluate's numbers to rounding — the sums
        over a sample's classes are taken in another order — where :meth:`evaluate` gives each
        member's own bit for bit. It gives the same x every time, unchanged: the population
        keeps, from one call to the next, x samples last (:func:`_samples_last_inputs`) and the
        arrays of the layers' outputs, written again by each call (allocating them anew cost up
        to half of a call: the allocator handed megabytes back to the system and took them
        again)."""
        engine = self._lockstep()
        x_samples_last, kept = None, None  # other layers: as evaluate runs them
        if _runs_samples_last(engine.model.layers):
            if self._measuring is None or self._measuring[0] is not x:
                self._measuring = (x, _samples_last_inputs(x), {})
            _, x_samples_last, kept = self._measuring
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return engine.measure(x, y, x.shape[-2], [], x_samples_last, kept)[0]


#: Largest copy of an epoch's samples (all members, in their orders) that fit gathers at
#: once; a larger one (many members sharing a large data set) is gathered batch by batch.
_GATHER_BYTES = 64 * 2**20


def _in_orders(data: np.ndarray, orders: np.ndarray, owners: np.ndarray | None) -> np.ndarray:
    """The samples of ``data`` in each member's order: ``out[j, i] = data[orders[j, i]]`` for
    data shared by the members (n, ...), ``data[owners[j], orders[j, i]]`` for each member's own
    (members, n, ...). One ``np.take`` of rows into a new array: 3–5× faster than indexing with
    the index arrays, which checks every index and writes its result through a copy."""
    if owners is None:
        flat, rows = data, orders.ravel()
    else:  # member k's sample i is row k·n + i of all members' samples laid end to end
        flat = data.reshape(-1, *data.shape[2:])
        rows = (orders + owners[:, np.newaxis] * data.shape[1]).ravel()
    out = np.empty((rows.size, *flat.shape[1:]), flat.dtype)
    # mode="clip": the rows are valid (orders are permutations), so no check, no copy.
    np.take(flat, rows, axis=0, out=out, mode="clip")
    return out.reshape(*orders.shape, *flat.shape[1:])


def _members(val: tuple[np.ndarray, np.ndarray] | None, active: Sequence[int],
             ) -> tuple[np.ndarray, np.ndarray] | None:
    """The validation pair of the members ``active``: shared data as it is, own data sliced."""
    if val is None or val[0].ndim != 3:
        return val
    return val[0][active], val[1][active]


class _Lockstep:
    """The members stacked: one model whose layers hold every member's weights on a leading
    axis, and one optimizer whose rule updates them all as rows (K, size)."""

    def __init__(self, models: Sequence[Sequential]) -> None:
        self.models = list(models)
        self.members = len(models)
        first = models[0]
        self.model = Sequential(name=f"{first.name}_population")
        for i in range(len(first.layers)):
            layer = layers_module.stack([m.layers[i] for m in models])
            self.model.add(layer)
            if isinstance(layer, layers_module.Dropout):
                layer.member_rngs = [_dropout(m.layers[i]).generator() for m in models]
        self.model.loss = self.loss = copy.copy(first.loss)
        # Every trainable weight and gradient as rows of one (K, P) buffer: row k holds member
        # k's weights back to back, so the optimizer's rule runs once per step on all of them.
        trainable = self.model.trainable_weights
        _, self.params = optimizers.pack([w.reshape(self.members, -1) for w in trainable],
                                         members=self.members)
        _, self.grads = optimizers.pack([np.zeros_like(w).reshape(self.members, -1)
                                         for w in trainable], members=self.members)
        start = 0
        for layer in self.model.layers:
            end = start + len(layer.trainable_weights)
            if end > start:
                layer.move_weights_to(
                    [p.reshape(w.shape) for p, w in zip(self.params[start:end],
                                                         layer.trainable_weights, strict=True)],
                    [g.reshape(w.shape) for g, w in zip(self.grads[start:end],
                                                        layer.trainable_weights, strict=True)])
            start = end
        self._optimizer: optimizers.Optimizer | None = None  # stacked when first stepped
        self.regularized = [(reg, w) for layer in self.model.layers
                            for reg, w in layer.regularized_weights()]

    @property
    def optimizer(self) -> optimizers.Optimizer:
        """The members' optimizers as one, stacked when a step first needs it (measuring —
        gradients, evaluation — does not, so members that made different numbers of updates,
        e.g. one that stopped when it diverged, can still be measured together)."""
        if self._optimizer is None:
            self._optimizer = _stack_optimizers([m.optimizer for m in self.models],
                                                [m.trainable_weights for m in self.models])
        return self._optimizer

    def penalties(self) -> np.ndarray:
        """Σ R(W) of each member's regularized weights (0 without regularizers)."""
        total = np.zeros(self.members)
        for regularizer, w in self.regularized:
            total += [regularizer(w[k]) for k in range(self.members)]
        return total

    def step(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One training step of every member: ``_train_step`` of :class:`Sequential`, with
        x (K, batch, inputs). Returns each member's batch loss (K,) and the outputs."""
        output = self.model._forward(x, training=True)
        losses = self.loss.members(y, output)
        if self.regularized:
            losses += self.penalties()  # of the weights before this step's update
        self.model._backward(y, output)
        self.optimizer.apply(self.grads, self.params)
        return losses, output

    def gradients(self, x: np.ndarray, y: np.ndarray, training: bool,
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each member's loss and ∂L/∂w (``Sequential.compute_gradients``), no update: x and y
        each member's own (members, batch, ...) or shared."""
        if x.ndim == 2:
            x = np.broadcast_to(x, (self.members, *x.shape))
            y = np.broadcast_to(y, (self.members, *y.shape))
        output = self.model._forward(x, training=training)
        losses = self.loss.members(y, output)
        losses += self.penalties()
        self.model._backward(y, output)
        return losses, [g.copy() for layer in self.model.layers for g in layer.grads]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Every member's output (inference mode) for inputs shared by the members
        (samples, inputs) or each member's own (members, samples, inputs)."""
        if x.ndim == 2:
            x = np.broadcast_to(x, (self.members, *x.shape))
        return self.model._forward(x, training=False)

    def evaluate(self, x: np.ndarray, y: np.ndarray, size: int,
                 metric_objects: list[Any]) -> list[dict[str, float]]:
        """Each member's logs on (x, y), as :meth:`Sequential._evaluate_arrays` gives them,
        for data shared by the members or each member's own."""
        loss, totals = self.measure(x, y, size, metric_objects)
        n = x.shape[-2]
        return [Sequential._logs(float(loss[k]), metric_objects, list(totals[:, k]),
                                 [n] * len(metric_objects)) for k in range(self.members)]

    def measure(self, x: np.ndarray, y: np.ndarray, size: int, metric_objects: list[Any],
                x_samples_last: np.ndarray | None = None,
                kept: dict[int, np.ndarray] | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
        """What :meth:`evaluate` reports, as arrays: each member's loss (K,) and each metric's
        sum over the samples (metrics, K). With ``x_samples_last`` — x as
        :func:`_samples_last_inputs` lays it out, for layers :func:`_runs_samples_last`
        accepts — the network runs samples last (the same numbers to rounding); ``kept``: the
        arrays of the layers' outputs, if the caller keeps them between calls on its x, in one
        batch (see :func:`_forward_samples_last`)."""
        own_data = x.ndim == 3
        n = x.shape[-2]
        loss_total = np.zeros(self.members)
        totals = np.zeros((len(metric_objects), self.members))
        for start in range(0, n, size):
            xb, yb = (x[:, start:start + size], y[:, start:start + size]) if own_data else \
                (x[start:start + size], y[start:start + size])
            if not own_data:
                yb = np.broadcast_to(yb, (self.members, *yb.shape))
            if x_samples_last is not None:
                inputs = x_samples_last[..., start:start + size]
                output = _forward_samples_last(self.model.layers, inputs, kept)
                losses = self.loss.members_samples_last(yb, output)
                output = output.swapaxes(-1, -2)  # (K, samples, units), for the metrics
            else:
                output = self.forward(xb)
                losses = self.loss.members(yb, output)
            loss_total += losses * yb.shape[1]  # as Sequential sums
            for i, metric in enumerate(metric_objects):
                totals[i] += metric.sums(yb, output)
        return loss_total / n + self.penalties(), totals

    def epoch_logs(self, losses: np.ndarray, metric_totals: np.ndarray, seen: int,
                   metric_objects: list[Any], val: tuple[np.ndarray, np.ndarray] | None,
                   size: int) -> list[dict[str, float]]:
        """Each member's logs at the end of an epoch, with ``val_*`` when validating."""
        logs = [Sequential._logs(float(losses[k]), metric_objects,
                                 [float(t) for t in metric_totals[:, k]],
                                 [seen] * len(metric_objects)) for k in range(self.members)]
        if val is not None:
            for member_logs, val_logs in zip(logs, self.evaluate(val[0], val[1], size,
                                                                 metric_objects), strict=True):
                member_logs.update({f"val_{name}": value for name, value in val_logs.items()})
        return logs

    def write_back(self) -> None:
        """Copy each member's weights and optimizer state into its own model."""
        for k, model in enumerate(self.models):
            for stacked, layer in zip(self.model.layers, model.layers, strict=True):
                layers_module.unstack(stacked, k, layer)
        if self._optimizer is not None:
            _unstack_optimizer(self._optimizer, [m.optimizer for m in self.models],
                               [m.trainable_weights for m in self.models])


# --------------------------------------------------------------------------------------------
# Measuring samples last: the population's loss on a whole data set, in few, long passes.
# --------------------------------------------------------------------------------------------
#: The engine's activations that act on each number alone: on a transposed array they compute
#: the same numbers. (Exact classes: a subclass may redefine f.)
_ELEMENTWISE = (activations.Linear, activations.Sigmoid, activations.Tanh, activations.ReLU,
                activations.Softplus, activations.LeakyReLU, activations.ELU, activations.SELU,
                activations.GELU, activations.SiLU)
#: Softmax over the units when the units are the axis −2.
_SOFTMAX_SAMPLES_LAST = activations.Softmax(axis=-2)


def _runs_samples_last(layers: Sequence[layers_module.Layer]) -> bool:
    """Whether :func:`_forward_samples_last` computes these layers: Dense layers with the
    engine's elementwise activations or a softmax over the units, and Dropout (nothing at
    inference)."""
    for layer in layers:
        if type(layer) is layers_module.Dropout:
            continue
        if type(layer) is not layers_module.Dense:
            return False
        act = layer.activation
        if not (type(act) in _ELEMENTWISE or
                (type(act) is activations.Softmax and act.axis == -1)):
            return False
    return True


def _samples_last_inputs(x: np.ndarray) -> np.ndarray:
    """x laid out samples last with a row of ones under it: [xᵀ; 1], (features + 1, samples)
    — or (K, features + 1, samples) for each member's own x — in one contiguous array.

    With it the first layer's bias is one more column of its weights, multiplying the row of
    ones: [Wᵀ | b]·[xᵀ; 1] = Wᵀxᵀ + b, added within the matrix product instead of in a pass
    of its own; and a matrix product reads a contiguous xᵀ ~20 % faster than x's transposed
    view."""
    x_t = x.swapaxes(-1, -2)
    inputs = np.empty((*x_t.shape[:-2], x_t.shape[-2] + 1, x_t.shape[-1]), dtype=x.dtype)
    inputs[..., :-1, :] = x_t
    inputs[..., -1, :] = 1.0
    return inputs


def _forward_samples_last(layers: Sequence[layers_module.Layer], a: np.ndarray,
                          kept: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Every member's output at inference, laid out samples last: (K, units, samples), for
    inputs laid out by :func:`_samples_last_inputs`, [xᵀ; 1]: shared by the members or each
    member's own.

    The same products and activations as the layers' own forward, transposed: zᵀ = Wᵀ·aᵀ + b.
    Measuring the loss on a whole training set after every update is most of what a lab
    spends; in this layout

    - shared inputs meet all K first kernels as one matrix (K·units, features + 1), their
      biases its last column — one matrix product instead of K, and no pass for the biases
      (together about 1.5× faster);
    - a later layer's bias is a column added along rows of samples, and the softmax's max and
      sum over the (10) classes combine whole rows of samples instead of walking 10-long rows
      one by one.

    Each output is the same dot product of the same numbers, the bias added last, so, as
    measured with OpenBLAS, the outputs equal the layers' own bit for bit; the loss's sum over
    a sample's classes is taken in another order (see ``Loss.members_samples_last``).

    ``kept``, if given, holds the arrays of the layers' outputs ({layer: array}) for the next
    call on inputs of the same shape, which writes them again (the result may be one of them:
    read it before that call)."""
    kept = {} if kept is None else kept
    first = True  # a's last row is the row of ones, until the first Dense layer has used it
    for i, layer in enumerate(layers):
        if type(layer) is layers_module.Dropout:
            continue  # the identity at inference
        assert isinstance(layer, layers_module.Dense)  # see _runs_samples_last
        w = layer.kernel.swapaxes(-1, -2)  # Wᵀ of each member: (K, units, inputs)
        if first and layer.bias is not None:  # [Wᵀ | b]: (K, units, inputs + 1)
            w = np.concatenate([w, layer.bias[..., np.newaxis]], axis=-1)
        elif first:
            a = a[..., :-1, :]  # no bias: xᵀ alone
        members, units, inputs = w.shape
        z = kept.get(i)
        if z is None:  # the first call (on inputs of this shape)
            z = kept[i] = np.empty((members, units, a.shape[-1]), dtype=np.result_type(w, a))
        if a.ndim == 2:  # inputs shared by the members: their kernels as one (K·units, inputs)
            np.matmul(w.reshape(members * units, inputs), a,
                      out=z.reshape(members * units, a.shape[-1]))
        else:
            np.matmul(w, a, out=z)
        if layer.bias is not None and not first:
            z += layer.bias[..., np.newaxis]  # (K, units, 1): one number per row of samples
        first = False
        act = layer.activation
        if type(act) is activations.ReLU:  # the labs' activation: in place, z is ours
            a = np.maximum(z, 0.0, out=z)
        else:
            a = _SOFTMAX_SAMPLES_LAST.f(z) if type(act) is activations.Softmax else act.f(z)
    return a


# --------------------------------------------------------------------------------------------
# The members' optimizers as one: shared settings stay numbers, differing ones become columns.
# --------------------------------------------------------------------------------------------
def _stack_optimizers(members: Sequence[Any], weights: Sequence[list[np.ndarray]],
                      check_only: bool = False) -> optimizers.Optimizer:
    """One optimizer of the members' class whose parameters are rows (K, size): settings the
    members share are kept as they are, numbers in which they differ become (K, 1) columns,
    and the state (moments, accumulators) is the members' own, stacked."""
    first = members[0]
    configs = [m.get_config() for m in members]
    differing: dict[str, np.ndarray] = {}
    for k, member in enumerate(members):
        if type(member) is not type(first):
            raise ConfigError(f"Population members must use one optimizer class; member {k} "
                              f"has {type(member).__name__}, member 0 {type(first).__name__}.")
        if member.iterations != first.iterations:
            raise ConfigError(f"Population members must have made the same number of updates; "
                              f"member {k} has made {member.iterations}, member 0 "
                              f"{first.iterations}.")
    for key, value in configs[0].items():
        values = [config[key] for config in configs]
        if key == "name" or all(v == value for v in values):
            continue
        numbers = [0.0 if v is None and key == "weight_decay" else v for v in values]
        if key in _CLIPS and None in values or \
                not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
            k = next(i for i, v in enumerate(values) if v != value)
            raise ConfigError(
                f"Population members must share the optimizer's {key} (it changes the update "
                f"equations); member {k} has {values[k]!r}, member 0 {value!r}. Members may "
                "differ in the numbers: learning rate, momentum, betas, epsilon, ...")
        differing[key] = np.array(numbers, dtype=np.float64).reshape(-1, 1)
    slot_names = max((m.slot_names for m in members), key=len)
    if check_only:
        return first
    stacked = type(first).from_config(configs[0])
    stacked.members = len(members)
    for key, column in differing.items():
        setattr(stacked, key, column)
    stacked.slot_names = slot_names  # momentum 0 in some members: the slot for all (it stays 0)
    states = []
    for member, params in zip(members, weights, strict=True):
        if set(member.get_state()["slots"]) != set(member.slot_names):
            member.build(params)  # a fresh optimizer: its initial slots
        states.append(member.get_state())
    slots = {name: [np.stack([s["slots"][name][j] if name in s["slots"]
                              else np.zeros_like(p) for s, p in zip(states, column_params,
                                                                     strict=True)])
                    .reshape(len(members), -1)
                    for j, column_params in enumerate(zip(*weights, strict=True))]
             for name in slot_names}
    state: dict[str, Any] = {"iterations": first.iterations, "slots": slots}
    if "u_product" in states[0]:
        products = [s["u_product"] for s in states]
        state["u_product"] = products[0] if len(set(products)) == 1 else \
            np.array(products, dtype=np.float64).reshape(-1, 1)
    stacked.set_state(state)
    return stacked


def _unstack_optimizer(stacked: optimizers.Optimizer, members: Sequence[Any],
                       weights: Sequence[list[np.ndarray]]) -> None:
    """Give each member optimizer its row of the stacked state."""
    state = stacked.get_state()
    u_product = state.get("u_product")
    for k, (member, params) in enumerate(zip(members, weights, strict=True)):
        member_state: dict[str, Any] = {
            "iterations": state["iterations"],
            "slots": {name: [rows[k].reshape(p.shape) for rows, p in
                             zip(state["slots"][name], params, strict=True)]
                      for name in member.slot_names}}
        if u_product is not None:
            member_state["u_product"] = float(u_product[k, 0]) \
                if isinstance(u_product, np.ndarray) else u_product
        member.set_state(member_state)


def _dropout(layer: layers_module.Layer) -> layers_module.Dropout:
    assert isinstance(layer, layers_module.Dropout)  # members share the architecture
    return layer


def _architecture(model: Sequential) -> Any:
    """What members must share: layer configurations, loss, metrics, dtype. (Names and
    initializers may differ: they make no difference once the weights exist; so may hidden
    layers' activations.)"""
    layers = []
    for i, layer in enumerate(model.layers):
        spec = layers_module.serialize(layer)
        # Hidden layers may differ in activation (each member's slice goes through its own
        # function); the output's is shared, since the loss's gradient is fused with it.
        ignored = {"name", "kernel_initializer", "bias_initializer"}
        if i < len(model.layers) - 1:
            ignored.add("activation")
        spec["config"] = {k: v for k, v in spec["config"].items() if k not in ignored}
        layers.append(spec)
    compiled = model.get_compile_config() or {}
    return (layers, model.input_dim, model.dtype, compiled.get("loss"), compiled.get("metrics"))


def _spread(logs: list[dict[str, float]], names: list[str]) -> str:
    """``loss: min 0.1234, median 0.2345, max 0.3456 - ...``: each of ``names`` over the members'
    logs, as the population's lines print them."""
    parts = []
    for name in names:
        values = np.array([member_logs[name] for member_logs in logs])
        parts.append(f"{name}: min {values.min():.4f}, median {np.median(values):.4f}, "
                     f"max {values.max():.4f}")
    return " - ".join(parts)


def _print_epoch(epoch: int, epochs: int, logs: list[dict[str, float]], diverged: int) -> None:
    line = f"Epoch {epoch + 1}/{epochs} - {len(logs)} members - {_spread(logs, ['loss'])}"
    print(line + (f" - {diverged} diverged" if diverged else ""), flush=True)
