"""Optimizers: the update rules of the textbook's table, in Keras 3's and PyTorch's equations.

One step of every optimizer is three separate stages, applied in Keras' order::

    1. clip the gradients          clip_by_value, clip_by_norm, clip_by_global_norm (Keras'
                                    options, applied in both flavors)
    2. weight decay                 Keras: decoupled,  p ← p − lr·wd·p   (every optimizer)
                                    PyTorch: L2,       g ← g + wd·p      (AdamW: decoupled)
    3. the update rule              SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, Nadam

``flavor="keras"`` (default) follows Keras 3's equations exactly; ``flavor="pytorch"`` follows
``torch.optim``'s. Defaults are Keras' in both flavors: the flavor changes the equations, not the
defaults. Each optimizer writes its rule once per flavor, ``_keras_rule`` and ``_pytorch_rule``,
line by line as its docstring states it. Notation: g gradient, p parameter, t step number
(1 for the first update), lr the learning rate of this step.

Three ways in (Keras' progressive disclosure): ``compile(optimizer="adam")``,
``Adam(learning_rate=..., beta_1=...)``, and ``opt.apply_gradients([(g, p), ...])`` (or
``opt.apply(grads, params)``), which updates NumPy arrays in place. ``fit`` calls ``apply``
with the model's named weights (each layer's kernel, bias, gamma, beta) and their gradients.

One speed-up, and only one: when the parameters, their gradients and the optimizer's state are
each *packed* — consecutive pieces of one flat buffer (see :func:`pack`; ``fit`` packs the
model's weights) — stages 2 and 3 run once on the whole buffers instead of once per parameter.
The rules are elementwise, so the numbers are the same, bit for bit (a test holds them equal).

The same rules train a :class:`~descentlab.population.Population` — K networks in lockstep. Its
optimizer (``members = K``) receives each weight as rows, shape (K, size), one row per member,
and any constant in which the members differ (the learning rate, β₁, momentum, ...) as a column
of shape (K, 1): the rules' arithmetic broadcasts it along each member's row unchanged.
Clipping norms are then taken per row (per member).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from descentlab import schedules, validation
from descentlab.errors import ConfigError, did_you_mean
from descentlab.validation import check_bool, check_float

FLAVORS = ("keras", "pytorch")

#: The per-parameter state an update rule reads and updates in place, by slot name.
State = dict[str, np.ndarray]

# --------------------------------------------------------------------------------------------
# Stage 1: clipping (Keras' clipvalue, clipnorm, global_clipnorm). Each returns new arrays and
# leaves the gradients it is given as they were.
# --------------------------------------------------------------------------------------------
#
# ``rows=True``: each gradient is rows, one per member of a population, each row clipped on its
# own (the thresholds may then be columns (K, 1), one per member).
# --------------------------------------------------------------------------------------------
def clip_by_value(grads: Sequence[np.ndarray], clipvalue: Any) -> list[np.ndarray]:
    """Each gradient element clipped to [−clipvalue, clipvalue]."""
    return [np.clip(g, -clipvalue, clipvalue) for g in grads]


def clip_by_norm(grads: Sequence[np.ndarray], clipnorm: Any,
                 rows: bool = False) -> list[np.ndarray]:
    """Each gradient on its own rescaled to norm ≤ clipnorm: g ← g·c / max(‖g‖, c)."""
    if not rows:
        return [g * (clipnorm / max(_l2_norm([g]), clipnorm)) for g in grads]
    return [g * _like(clipnorm / np.maximum(_l2_norm([g], rows), clipnorm), g) for g in grads]


def clip_by_global_norm(grads: Sequence[np.ndarray], global_clipnorm: Any,
                        rows: bool = False) -> list[np.ndarray]:
    """All gradients rescaled together so that their joint norm is ≤ global_clipnorm."""
    norm = _l2_norm(grads, rows)
    # Keras' form: c · min(1/‖g‖, 1/c), so a zero gradient is left as it is.
    if not rows:
        scale = global_clipnorm * min(1.0 / norm if norm else math.inf, 1.0 / global_clipnorm)
        return [g * scale for g in grads]
    with np.errstate(divide="ignore"):
        inverse = 1.0 / norm  # inf where a member's gradient is zero
    scale = global_clipnorm * np.minimum(inverse, 1.0 / global_clipnorm)
    return [g * _like(scale, g) for g in grads]


def _l2_norm(arrays: Sequence[np.ndarray], rows: bool = False) -> Any:
    """√(Σ g²) over every element of every array (a float); ``rows``: of each row (K, 1)."""
    if not rows:
        return math.sqrt(sum(float(np.sum(g * g)) for g in arrays))
    # Each row summed in the gradient's dtype, then in float64: the single network's order.
    return np.sqrt(sum(np.sum(g * g, axis=-1, keepdims=True).astype(np.float64)
                       for g in arrays))


def _like(scale: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A column of scale factors in the gradient's dtype, as a Python float would be used."""
    return scale.astype(g.dtype, copy=False)


# --------------------------------------------------------------------------------------------
# The speed-up: arrays packed back to back in one buffer, so that an elementwise rule can update
# all of them with one NumPy call per line instead of one per array.
# --------------------------------------------------------------------------------------------
def pack(arrays: Sequence[np.ndarray], members: int | None = None,
         ) -> tuple[np.ndarray, list[np.ndarray]]:
    """A flat buffer holding copies of ``arrays`` back to back, and a view of it per array
    (same shape, same values). Writing to a view writes to the buffer, and back.

    ``members=K`` (a population): every array is (K, ...); the buffer is (K, total), and row k
    holds member k's pieces back to back."""
    dtype = arrays[0].dtype if len(arrays) else np.dtype("float32")
    rows = () if members is None else (members,)
    buffer = np.empty(rows + (sum(a.size for a in arrays) // (members or 1),), dtype=dtype)
    views, offset = [], 0
    for a in arrays:
        size = a.size // (members or 1)
        view = buffer[..., offset:offset + size].reshape(a.shape)
        view[...] = a
        views.append(view)
        offset += size
    return buffer, views


def packed_buffer(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The buffer that ``arrays`` tile exactly, in order (as :func:`pack` makes them), or None
    when they are not so packed."""
    if not len(arrays) or not isinstance(arrays[0], np.ndarray):
        return None
    buffer = arrays[0].base
    if not isinstance(buffer, np.ndarray) or buffer.ndim not in (1, 2) or \
            not buffer.flags.c_contiguous:
        return None
    rows = buffer.shape[0] if buffer.ndim == 2 else 1
    address = buffer.__array_interface__["data"][0]
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.base is not buffer or \
                a.__array_interface__["data"][0] != address or \
                not (a.flags.c_contiguous if rows == 1 else _row_pieces(a, buffer)):
            return None
        address += a.nbytes // rows
    return buffer if address == buffer.__array_interface__["data"][0] + buffer.nbytes // rows \
        else None


def _row_pieces(a: np.ndarray, buffer: np.ndarray) -> bool:
    """Whether ``a`` is one contiguous piece of every row of the 2-D ``buffer``."""
    return a.ndim >= 1 and a.shape[0] == buffer.shape[0] and \
        a.strides[0] == buffer.strides[0] and a[0].flags.c_contiguous


class Optimizer:
    """Base class: learning rate (or schedule), clipping, weight decay, state and the step.

    A subclass states its algorithm in its docstring and writes it twice, once per flavor:
    ``_keras_rule(g, p, state, lr, t)`` and ``_pytorch_rule(g, p, state, lr, t)`` update one
    parameter ``p`` in place from its gradient ``g`` (which they must not modify) and its
    ``state``, the slots named in ``slot_names`` (e.g. ``{"momentum": m}``), also in place.
    """

    slot_names: tuple[str, ...] = ()
    default_learning_rate = 0.001
    #: PyTorch flavor: whether weight decay is decoupled (AdamW) instead of an L2 term.
    decoupled_weight_decay_in_pytorch = False

    def __init__(self, learning_rate: Any = None, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, flavor: str = "keras",
                 name: str | None = None, **legacy: Any) -> None:
        lr = legacy.pop("lr", None)
        decay = legacy.pop("decay", None)
        if legacy:
            raise ConfigError(
                f"{type(self).__name__} got unexpected argument(s) {sorted(legacy)}; see "
                f"help(descentlab.optimizers.{type(self).__name__}) for the valid ones."
            )
        if lr is not None:
            if learning_rate is not None:
                raise ConfigError("Give either learning_rate or its old name lr, not both.")
            warnings.warn("lr is the Keras 2 name of this argument; use learning_rate instead.",
                          DeprecationWarning, stacklevel=3)
            learning_rate = lr
        if learning_rate is None:
            learning_rate = self.default_learning_rate
        if isinstance(learning_rate, dict):
            learning_rate = schedules.deserialize(learning_rate)
        if not callable(learning_rate):
            learning_rate = check_float(learning_rate, "learning_rate", low=0.0, low_open=True)
        if decay is not None:
            decay = check_float(decay, "decay", low=0.0)
            warnings.warn(
                "decay is a Keras 2 argument; it now means learning_rate = "
                "InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay) "
                "(lr / (1 + decay·step)). Pass such a schedule as learning_rate instead.",
                DeprecationWarning, stacklevel=3,
            )
            if decay > 0:
                if callable(learning_rate):
                    raise ConfigError("decay cannot be combined with a learning-rate schedule.")
                learning_rate = schedules.InverseTimeDecay(learning_rate, 1, decay)
        self.learning_rate = learning_rate
        self.flavor = validation.check_choice(flavor, "flavor", FLAVORS)
        self.weight_decay = None if weight_decay is None else check_float(
            weight_decay, "weight_decay", low=0.0)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ConfigError(f"Use only one of clipnorm, clipvalue and global_clipnorm; got "
                              f"{', '.join(given)}.")
        for key in given:
            check_float(clips[key], key, low=0.0, low_open=True)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.name = name or _snake(type(self).__name__)
        #: None for one network; K for the optimizer of a population of K members, which is
        #: handed every weight as rows (K, size) and may hold per-member constants as (K, 1).
        self.members: int | None = None
        self.iterations = 0
        self._slots: dict[str, list[np.ndarray]] = {}
        self._states: list[State] = []
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] | None = None
        self._checked: Sequence[np.ndarray] | None = None
        self._checked_grads: Sequence[Any] | None = None
        #: The speed-up's one (g, p, state) triple of whole buffers, when everything is packed.
        self._packed: list[tuple[np.ndarray, np.ndarray, State]] | None = None

    # -- learning rate --------------------------------------------------------------------
    def learning_rate_at(self, step: int) -> float:
        """The learning rate of update number ``step + 1`` (``step`` updates already made).

        A schedule's value is checked at every step: a negative rate would climb the loss
        (gradient ascent), a NaN would spoil every weight."""
        lr = self.learning_rate
        if not callable(lr):
            return lr
        return check_float(lr(step), f"the learning rate {lr!r} gives at step {step}",
                           low=0.0)

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next update will use."""
        return self.learning_rate_at(self.iterations)

    # -- state --------------------------------------------------------------------------------
    def _initial_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.zeros_like(param)

    def build(self, params: Sequence[np.ndarray]) -> None:
        """Create the per-parameter state (moments, accumulators) for ``params``."""
        self._shapes = [(p.shape, p.dtype) for p in params]
        self._slots = {name: [self._initial_slot(name, p) for p in params]
                       for name in self.slot_names}
        self._link_states()

    def _link_states(self) -> None:
        """One dict per parameter, {slot name: its array}: the ``state`` its rule updates."""
        count = len(self._shapes or ())
        self._states = [{name: self._slots[name][k] for name in self.slot_names}
                        for k in range(count)]

    def _check_params(self, params: Sequence[np.ndarray]) -> None:
        if params is self._checked:
            return  # the training loop hands over the same list every step: checked already
        for p in params:
            if not isinstance(p, np.ndarray):
                raise ConfigError(f"The optimizer updates NumPy arrays in place; got {type(p)}.")
        if self._shapes is None:
            self.build(params)
            self._checked = params
            return
        shapes = [(p.shape, p.dtype) for p in params]
        if shapes != self._shapes:
            raise ConfigError(
                f"This {type(self).__name__} was built for parameters "
                f"{[s for s, _ in self._shapes]} and now got {[s for s, _ in shapes]}; "
                "use a new optimizer for a different model."
            )
        self._checked = params

    def get_state(self) -> dict[str, Any]:
        """Everything that evolves during training: the step count and the slots, copied
        (``{"iterations": t, "slots": {slot name: [one array per parameter]}}``)."""
        return {"iterations": self.iterations,
                "slots": {name: [a.copy() for a in arrays] for name, arrays in self._slots.items()}}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_state` (training then resumes bit-identically)."""
        slots = state.get("slots", {})
        self.iterations = int(state["iterations"])
        if slots:
            self._slots = {name: [np.array(a, copy=True) for a in slots[name]]
                           for name in self.slot_names}
            first = slots[self.slot_names[0]]
            self._shapes = [(a.shape, a.dtype) for a in first]
            self._link_states()
        # The next apply checks its lists again (and packs the new slots if it packs).
        self._checked = self._checked_grads = self._packed = None

    # -- config -------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise ConfigError("A custom learning-rate function cannot be saved; use a "
                              "descentlab.schedules schedule.")
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm, "flavor": self.flavor}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        return cls(**config)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(learning_rate={self.learning_rate!r}, "
                f"flavor={self.flavor!r})")

    # -- the step -----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, np.ndarray]]) -> None:
        """One update of every parameter, in place, from ``(gradient, parameter)`` pairs
        (Keras' ``apply_gradients``). The gradients are not modified."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [p for _, p in pairs])

    def apply(self, grads: Sequence[Any], params: Sequence[np.ndarray]) -> None:
        """One update of every parameter, in place (Keras' ``optimizer.apply(grads, vars)``).

        ``grads[i]`` is the gradient of ``params[i]``; the gradients are not modified. The
        three stages, in Keras' order: clipping, weight decay, the update rule.

        ``fit`` calls this every step with the same two lists: the model's weights (each
        layer's kernel, bias, ...) and their gradients. Lists seen at the previous call are not
        checked again, so do not swap the arrays inside them between calls.
        """
        if grads is not self._checked_grads or params is not self._checked:
            grads = self._checked_gradients(grads, params)
        lr = self.learning_rate_at(self.iterations)
        self.iterations += 1
        t = self.iterations
        clipped = self._clip(grads)                            # 1. clipping
        self._begin_step(t)
        rule = self._keras_rule if self.flavor == "keras" else self._pytorch_rule
        for g, p, state in self._update_groups(clipped, params):
            if self.weight_decay is not None:
                g = self._weight_decay(g, p, lr)               # 2. weight decay
            rule(g, p, state, lr, t)                           # 3. the update rule

    def _update_groups(self, grads: Sequence[np.ndarray], params: Sequence[np.ndarray],
                       ) -> Iterable[tuple[np.ndarray, np.ndarray, State]]:
        """The (g, p, state) triples stages 2 and 3 run on: one per parameter, or — the
        speed-up — one triple of whole buffers when the checked gradients (not clipped copies),
        the parameters and the state are each packed in one buffer."""
        if self._packed is not None and grads is self._checked_grads:
            return self._packed
        return zip(grads, params, self._states, strict=True)

    def _checked_gradients(self, grads: Sequence[Any], params: Sequence[np.ndarray],
                           ) -> list[np.ndarray]:
        """``grads`` as arrays of their parameters' dtypes, both lists checked (and the state
        built at the first call). Lists that need no conversion are remembered."""
        if len(grads) != len(params):
            raise ConfigError(f"apply needs one gradient per parameter; got {len(grads)} "
                              f"gradients for {len(params)} parameters.")
        self._check_params(params)
        arrays = [self._as_gradient(g, p) for g, p in zip(grads, params, strict=True)]
        self._packed = None
        if isinstance(grads, list) and all(a is g for a, g in zip(arrays, grads, strict=True)):
            self._checked_grads = grads
            self._packed = self._packed_groups(grads, params)
            return grads
        return arrays

    def _packed_groups(self, grads: Sequence[np.ndarray], params: Sequence[np.ndarray],
                       ) -> list[tuple[np.ndarray, np.ndarray, State]] | None:
        """The speed-up's single (g, p, state) triple of whole buffers, when ``grads`` and
        ``params`` are each packed; the state is then packed alike (values kept). Else None."""
        flat_p, flat_g = packed_buffer(params), packed_buffer(grads)
        if flat_p is None or flat_g is None:
            return None
        flat_state: State = {}
        for name in self.slot_names:
            flat = packed_buffer(self._slots[name])
            if flat is None:
                flat, self._slots[name] = pack(self._slots[name], self.members)
            flat_state[name] = flat
        self._link_states()
        return [(flat_g, flat_p, flat_state)]

    @staticmethod
    def _as_gradient(g: Any, p: np.ndarray) -> np.ndarray:
        g = np.asarray(g, dtype=p.dtype)
        if g.shape != p.shape:
            raise ConfigError(f"A gradient of shape {g.shape} was paired with a parameter of "
                              f"shape {p.shape}.")
        return g

    def _clip(self, grads: Sequence[np.ndarray]) -> Sequence[np.ndarray]:
        """Stage 1: the gradients clipped as configured (or as they are); in a population,
        each member's rows on their own."""
        rows = self.members is not None
        if self.clipvalue is not None:
            return clip_by_value(grads, self.clipvalue)
        if self.clipnorm is not None:
            return clip_by_norm(grads, self.clipnorm, rows)
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm, rows)
        return grads

    def _weight_decay(self, g: np.ndarray, p: np.ndarray, lr: float) -> np.ndarray:
        """Stage 2: decoupled decay shrinks ``p`` (Keras; PyTorch's AdamW) and returns ``g``;
        the L2 penalty (PyTorch's other optimizers) returns ``g + wd·p``."""
        wd = self.weight_decay
        if wd is None or (isinstance(wd, float) and not wd):
            return g
        if self.flavor == "keras" or self.decoupled_weight_decay_in_pytorch:
            p -= p * (wd * lr)  # p ← p − lr·wd·p
            return g
        return g + wd * p  # g ← g + wd·p

    def _begin_step(self, t: int) -> None:
        """Per-step quantities shared by all parameters (Nadam's momentum schedule)."""

    # Stage 3, one per flavor, in the subclasses.
    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        raise NotImplementedError

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, with momentum and Nesterov momentum.

    Keras (m starts at 0)::

        plain:     p ← p − lr·g
        momentum:  m ← momentum·m − lr·g ;  p ← p + m
        nesterov:  m ← momentum·m − lr·g ;  p ← p + momentum·m − lr·g

    PyTorch (dampening 0; buf starts at 0, so its first value is g, as in torch)::

        plain:     p ← p − lr·g
        momentum:  buf ← momentum·buf + g ;  d = g + momentum·buf (nesterov) or buf
                   p ← p − lr·d

    Both agree while the learning rate is constant; they differ once it changes.
    Momentum remembers the previous step, so zig-zags across a valley cancel out while steps
    along it add up.
    """

    default_learning_rate = 0.01

    def __init__(self, learning_rate: Any = None, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_float(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        self.nesterov = check_bool(nesterov, "nesterov")
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov=True needs a momentum in (0, 1), e.g. momentum=0.9.")
        self.slot_names = ("momentum",) if self.momentum else ()

    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        momentum = self.momentum
        if "momentum" not in state:  # momentum 0: plain gradient descent
            p -= lr * g
            return
        m = state["momentum"]
        m[...] = momentum * m - lr * g
        if self.nesterov:
            p += momentum * m - lr * g
        else:
            p += m

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        momentum = self.momentum
        if "momentum" not in state:  # momentum 0: plain gradient descent
            p -= lr * g
            return
        buf = state["momentum"]
        buf[...] = momentum * buf + g
        d = g + momentum * buf if self.nesterov else buf
        p -= lr * d

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad: each parameter's step shrinks with its accumulated squared gradients.

    Keras (acc starts at initial_accumulator_value = 0.1)::

        acc ← acc + g² ;  p ← p − lr·g / √(acc + ε)

    PyTorch (the same start here; torch's own default is 0)::

        acc ← acc + g² ;  p ← p − lr·g / (√acc + ε)
    """

    slot_names = ("accumulator",)

    def __init__(self, learning_rate: Any = None, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_float(initial_accumulator_value,
                                                 "initial_accumulator_value", low=0.0)
        self.epsilon = check_float(epsilon, "epsilon", low=0.0)

    def _initial_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.full_like(param, self.initial_accumulator_value)

    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        acc = state["accumulator"]
        acc += g**2
        p -= lr * g / np.sqrt(acc + self.epsilon)

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        acc = state["accumulator"]
        acc += g**2
        p -= lr * g / (np.sqrt(acc) + self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value":
                self.initial_accumulator_value, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop: divide the step by a running root-mean-square of recent gradients.

    Keras::

        v ← ρ·v + (1−ρ)·g²
        centered: ḡ ← ρ·ḡ + (1−ρ)·g ;  denom = v − ḡ² + ε      else denom = v + ε
        inc = lr·g / √denom
        momentum: mom ← momentum·mom + inc ;  p ← p − mom         else p ← p − inc

    PyTorch (ρ is torch's alpha)::

        v ← ρ·v + (1−ρ)·g²
        centered: ḡ ← ḡ + (1−ρ)(g − ḡ) ;  avg = √(v − ḡ²) + ε      else avg = √v + ε
        momentum: buf ← momentum·buf + g/avg ;  p ← p − lr·buf     else p ← p − lr·g/avg
    """

    def __init__(self, learning_rate: Any = None, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = check_float(rho, "rho", low=0.0, high=1.0, high_open=True)
        self.momentum = check_float(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", low=0.0)
        self.centered = check_bool(centered, "centered")
        self.slot_names = ("velocity",) + (("average_gradient",) if self.centered else ()) + \
            (("momentum",) if self.momentum else ())

    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        rho, eps = self.rho, self.epsilon
        v = state["velocity"]
        v[...] = rho * v + (1 - rho) * g**2
        if self.centered:
            g_bar = state["average_gradient"]
            g_bar[...] = rho * g_bar + (1 - rho) * g
            denom = v - g_bar**2 + eps
        else:
            denom = v + eps
        inc = lr * g / np.sqrt(denom)
        if "momentum" in state:
            mom = state["momentum"]
            mom[...] = self.momentum * mom + inc
            p -= mom
        else:
            p -= inc

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        rho, eps = self.rho, self.epsilon
        v = state["velocity"]
        v[...] = rho * v + (1 - rho) * g**2
        if self.centered:
            g_bar = state["average_gradient"]
            g_bar += (1 - rho) * (g - g_bar)
            avg = np.sqrt(v - g_bar**2) + eps
        else:
            avg = np.sqrt(v) + eps
        if "momentum" in state:
            buf = state["momentum"]
            buf[...] = self.momentum * buf + g / avg
            p -= lr * buf
        else:
            p -= lr * (g / avg)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam: momentum (first moment m) and RMSprop (second moment v), bias-corrected.

    Keras ("epsilon hat": ε is added after the bias correction is folded into α)::

        α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)
        m ← m + (1−β₁)(g − m) ;  v ← v + (1−β₂)(g² − v)
        amsgrad: v̂ ← max(v̂, v), used in place of v
        p ← p − α·m/(√v + ε)

    PyTorch::

        m ← m + (1−β₁)(g − m) ;  v ← β₂·v + (1−β₂)·g²      amsgrad: v̂ ← max(v̂, v)
        p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
    """

    def __init__(self, learning_rate: Any = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", low=0.0, high=1.0, high_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", low=0.0)
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self.slot_names = ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        m, v = state["momentum"], state["velocity"]
        alpha = lr * _sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (1 - beta_1) * (g - m)
        v += (1 - beta_2) * (g**2 - v)
        if self.amsgrad:
            v_hat = state["velocity_hat"]
            v_hat[...] = np.maximum(v_hat, v)
            p -= alpha * m / (np.sqrt(v_hat) + eps)
        else:
            p -= alpha * m / (np.sqrt(v) + eps)

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        m, v = state["momentum"], state["velocity"]
        m += (1 - beta_1) * (g - m)
        v[...] = beta_2 * v + (1 - beta_2) * g**2
        if self.amsgrad:
            v_hat = state["velocity_hat"]
            v_hat[...] = np.maximum(v_hat, v)
            denom = np.sqrt(v_hat) / _sqrt(1 - beta_2**t) + eps
        else:
            denom = np.sqrt(v) / _sqrt(1 - beta_2**t) + eps
        p -= lr / (1 - beta_1**t) * (m / denom)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay, p ← p − lr·wd·p before each step (default wd 0.004;
    in both flavors the decay is decoupled, as in Keras' AdamW and torch.optim.AdamW)."""

    decoupled_weight_decay_in_pytorch = True

    def __init__(self, learning_rate: Any = None, weight_decay: float = 0.004,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016).

    Keras (the momentum schedule u_t; Π_t = u₁·u₂·…·u_t, starting from Π₀ = 1)::

        u_t = β₁(1 − ½·0.96ᵗ) ;  u_{t+1} = β₁(1 − ½·0.96ᵗ⁺¹)
        m ← m + (1−β₁)(g − m) ;  v ← v + (1−β₂)(g² − v)
        m̂ = u_{t+1}·m/(1 − Π_t·u_{t+1}) + (1 − u_t)·g/(1 − Π_t) ;  v̂ = v/(1 − β₂ᵗ)
        p ← p − lr·m̂/(√v̂ + ε)

    PyTorch (μ_t = β₁(1 − ½·0.96^(t·momentum_decay)); Π_t kept in float32, as torch does)::

        m ← m + (1−β₁)(g − m) ;  v ← β₂·v + (1−β₂)·g² ;  denom = √(v/(1−β₂ᵗ)) + ε
        p ← p − lr(1−μ_t)/(1−Π_t) · g/denom − lr·μ_{t+1}/(1−Π_t·μ_{t+1}) · m/denom
    """

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, momentum_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", low=0.0, high=1.0, high_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", low=0.0, high=1.0, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", low=0.0)
        self.momentum_decay = check_float(momentum_decay, "momentum_decay", low=0.0)
        #: Π_t, the product of the momentum schedule so far (in a population whose members'
        #: β₁ differ, a column of one Π_t per member).
        self.u_product: Any = 1.0
        self._u_t = self._u_next = 0.0

    def _begin_step(self, t: int) -> None:
        """u_t, u_{t+1} and Π_t ← Π_{t−1}·u_t, the same for every parameter of step t."""
        beta_1 = self.beta_1
        if self.flavor == "keras":
            self._u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
            self._u_next = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
            self.u_product = self.u_product * self._u_t
        else:
            self._u_t = beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))
            self._u_next = beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
            product = np.float32(self.u_product) * np.float32(self._u_t)
            self.u_product = float(product) if np.ndim(product) == 0 else \
                product.astype(np.float64)

    def _keras_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                    t: int) -> None:
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        u_t, u_next, u_product = self._u_t, self._u_next, self.u_product
        m, v = state["momentum"], state["velocity"]
        m += (1 - beta_1) * (g - m)
        v += (1 - beta_2) * (g**2 - v)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def _pytorch_rule(self, g: np.ndarray, p: np.ndarray, state: State, lr: float,
                      t: int) -> None:
        beta_1, beta_2, eps = self.beta_1, self.beta_2, self.epsilon
        mu_t, mu_next, mu_product = self._u_t, self._u_next, self.u_product
        m, v = state["momentum"], state["velocity"]
        m += (1 - beta_1) * (g - m)
        v[...] = beta_2 * v + (1 - beta_2) * g**2
        denom = np.sqrt(v / (1 - beta_2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - mu_product) * (g / denom)
        p -= lr * mu_next / (1 - mu_product * mu_next) * (m / denom)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "u_product": self.u_product}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        u_product = state.get("u_product", 1.0)
        # A population's Π_t is a column when its members' β₁ differ.
        self.u_product = u_product if isinstance(u_product, np.ndarray) else float(u_product)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "momentum_decay": self.momentum_decay}


CLASSES: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, Nadam)
}

#: String names for ``compile(optimizer=...)``: the book's table, beginner-first.
_NAMES: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {}),
    "gd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "nag": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "nadam": (Nadam, {}),
}


def names() -> list[str]:
    return list(_NAMES)


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(spec: dict[str, Any]) -> Optimizer:
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in CLASSES:
        raise ConfigError(f"Unknown optimizer class {name!r}. "
                          f"{did_you_mean(str(name), list(CLASSES))}")
    return CLASSES[name].from_config(dict(spec.get("config", {})))


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``, ``"momentum"``, ...), an object, or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _NAMES:
            cls, kwargs = _NAMES[key]
            optimizer = cls(**kwargs)
            optimizer.name = key
            return optimizer
        if identifier in CLASSES:
            return CLASSES[identifier]()
        raise ConfigError(f"Unknown optimizer {identifier!r}. {did_you_mean(key, names())}")
    raise ConfigError(f"optimizer must be a name such as 'adam' or an Optimizer object; got "
                      f"{identifier!r}.")


def _sqrt(x: Any) -> Any:
    """√x of a step's constant: a float stays a Python float (so float32 weights stay float32);
    a population's column of per-member values stays a column."""
    return math.sqrt(x) if isinstance(x, float) else np.sqrt(x)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))
