"""Optimizers: the update rules of the textbook's table, in Keras 3's and PyTorch's equations.

One step of every optimizer is three separate stages, applied in Keras' order::

    1. clip the gradients          (clipvalue, clipnorm, global_clipnorm — Keras only)
    2. weight decay                 Keras: decoupled,  p ← p − lr·wd·p   (every optimizer)
                                    PyTorch: L2,       g ← g + wd·p      (AdamW: decoupled)
    3. the update rule              SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, Nadam

``flavor="keras"`` (default) follows Keras 3's equations exactly; ``flavor="pytorch"`` follows
``torch.optim``'s. Defaults are Keras' in both flavors: the flavor changes the equations, not the
defaults. Notation below: g gradient, p parameter, t step number (1 for the first update),
lr the learning rate of this step.

Three ways in (Keras' progressive disclosure): ``compile(optimizer="adam")``,
``Adam(learning_rate=..., beta_1=...)``, and ``opt.apply_gradients([(g, p), ...])``, which
updates NumPy arrays in place.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from descentlab import schedules
from descentlab.errors import ConfigError, did_you_mean

FLAVORS = ("keras", "pytorch")


def _number(value: Any, what: str, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = True) -> float:
    """``value`` as a float checked against its valid range, or a ConfigError that says so."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number; got {value!r}.")
    value = float(value)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ConfigError(f"{what} must lie in {left}{lo}, {hi}{right}; got {value!r}.")
    return value


class Optimizer:
    """Base class: learning rate (or schedule), clipping, weight decay, state and the step loop.

    Subclasses define ``slot_names`` (the per-parameter state, e.g. ``("momentum",)``) and
    ``_update(k, g, p, lr, t)``, the update rule for parameter ``k``; ``g`` is a scratch copy
    of the gradient that the rule may overwrite.
    """

    slot_names: tuple[str, ...] = ()
    default_learning_rate = 0.001

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
            learning_rate = _number(learning_rate, "learning_rate", low=0.0, high=None,
                                    low_open=True)
        if decay is not None:
            decay = _number(decay, "decay", low=0.0, high=None)
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
        if flavor not in FLAVORS:
            raise ConfigError(f"flavor must be 'keras' or 'pytorch'; got {flavor!r}.")
        self.flavor = flavor
        self.weight_decay = None if weight_decay is None else _number(
            weight_decay, "weight_decay", low=0.0, high=None)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [k for k, v in clips.items() if v is not None]
        if len(given) > 1:
            raise ConfigError(f"Use only one of clipnorm, clipvalue and global_clipnorm; got "
                              f"{', '.join(given)}.")
        for key in given:
            _number(clips[key], key, low=0.0, high=None, low_open=True)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        self.name = name or _snake(type(self).__name__)
        self.iterations = 0
        self._slots: dict[str, list[np.ndarray]] = {}
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] | None = None
        self._checked: Sequence[np.ndarray] | None = None

    # -- learning rate --------------------------------------------------------------------
    def _learning_rate_at(self, step: int) -> float:
        lr = self.learning_rate
        return float(lr(step)) if callable(lr) else lr

    @property
    def current_learning_rate(self) -> float:
        """The learning rate the next update will use."""
        return self._learning_rate_at(self.iterations)

    # -- state --------------------------------------------------------------------------------
    def _initial_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.zeros_like(param)

    def build(self, params: Sequence[np.ndarray]) -> None:
        """Create the per-parameter state (moments, accumulators) for ``params``."""
        self._shapes = [(p.shape, p.dtype) for p in params]
        self._slots = {name: [self._initial_slot(name, p) for p in params]
                       for name in self.slot_names}

    def _check_params(self, params: Sequence[np.ndarray]) -> None:
        if params is self._checked:
            return  # the training loop hands over the same list every step: checked already
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
        """Everything that evolves during training: the step count and the slots."""
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
        """One update of every parameter, in place. The gradients are not modified."""
        pairs = list(grads_and_vars)
        params = [p for _, p in pairs]
        for g, p in pairs:
            if not isinstance(p, np.ndarray):
                raise ConfigError(f"apply_gradients updates NumPy arrays in place; got {type(p)}.")
            if np.shape(g) != p.shape:
                raise ConfigError(f"A gradient of shape {np.shape(g)} was paired with a "
                                  f"parameter of shape {p.shape}.")
        grads = [np.array(g, dtype=p.dtype, copy=True) for g, p in pairs]
        self._apply_dense(grads, params)

    def _apply_dense(self, grads: list[np.ndarray], params: list[np.ndarray]) -> None:
        """The training loop's entry: like ``apply_gradients`` but ``grads`` are scratch
        arrays (overwritten) aligned with ``params``."""
        self._check_params(params)
        lr = self._learning_rate_at(self.iterations)
        self.iterations += 1
        t = self.iterations
        if self.clipvalue is not None or self.clipnorm is not None \
                or self.global_clipnorm is not None:
            self._clip(grads)
        self._before_updates(t)
        wd = self.weight_decay
        for k, (g, p) in enumerate(zip(grads, params, strict=True)):
            if wd:
                if self.flavor == "keras" or self._decoupled_decay:
                    p -= p * (wd * lr)  # decoupled: p ← p − lr·wd·p
                else:
                    g += wd * p  # L2 penalty: g ← g + wd·p
            self._update(k, g, p, lr, t)

    #: PyTorch flavor: whether weight decay is decoupled (AdamW) instead of an L2 term.
    _decoupled_decay = False

    def _before_updates(self, t: int) -> None:
        """Per-step state shared by all parameters (Nadam's momentum product)."""

    def _clip(self, grads: list[np.ndarray]) -> None:
        """Keras' clipping, in place: each value to ±clipvalue, each gradient's norm to
        clipnorm, or the norm of all gradients together to global_clipnorm."""
        if self.clipvalue is not None:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        elif self.clipnorm is not None:
            for g in grads:
                norm = math.sqrt(float(np.sum(g * g)))
                g *= self.clipnorm / max(norm, self.clipnorm)
        else:
            norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            scale = self.global_clipnorm * min(1.0 / norm if norm else math.inf,
                                               1.0 / self.global_clipnorm)
            for g in grads:
                g *= scale

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, with momentum and Nesterov momentum.

    Keras (m starts at 0)::

        plain:     p ← p − lr·g
        momentum:  m ← momentum·m − lr·g ;  p ← p + m
        nesterov:  m ← momentum·m − lr·g ;  p ← p + momentum·m − lr·g

    PyTorch (buf = g at the first step, dampening 0)::

        buf ← momentum·buf + g ;  d = g + momentum·buf (nesterov) or buf ;  p ← p − lr·d

    Both agree while the learning rate is constant; they differ once it changes.
    Momentum remembers the previous step, so zig-zags across a valley cancel out while steps
    along it add up.
    """

    default_learning_rate = 0.01

    def __init__(self, learning_rate: Any = None, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.momentum = _number(momentum, "momentum", low=0.0, high=1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ConfigError("nesterov=True needs a momentum in (0, 1), e.g. momentum=0.9.")
        self.slot_names = ("momentum",) if self.momentum else ()

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        beta = self.momentum
        if not beta:
            g *= lr
            p -= g
            return
        m = self._slots["momentum"][k]
        if self.flavor == "keras":
            g *= lr  # g is now lr·g
            m *= beta
            m -= g  # m ← momentum·m − lr·g
            if self.nesterov:
                p -= g
                p += beta * m
            else:
                p += m
        else:
            if t == 1:
                m[...] = g  # buf ← g at the first step
            else:
                m *= beta
                m += g
            if self.nesterov:
                g += beta * m
                g *= lr
                p -= g
            else:
                p -= lr * m

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad: each parameter's step shrinks with its accumulated squared gradients.

    Keras (acc starts at initial_accumulator_value = 0.1)::

        acc ← acc + g² ;  p ← p − lr·g / √(acc + ε)

    PyTorch::

        acc ← acc + g² ;  p ← p − lr·g / (√acc + ε)
    """

    slot_names = ("accumulator",)

    def __init__(self, learning_rate: Any = None, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _number(initial_accumulator_value,
                                                 "initial_accumulator_value", low=0.0, high=None)
        self.epsilon = _number(epsilon, "epsilon", low=0.0, high=None)

    def _initial_slot(self, name: str, param: np.ndarray) -> np.ndarray:
        return np.full_like(param, self.initial_accumulator_value)

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        acc = self._slots["accumulator"][k]
        acc += g * g
        if self.flavor == "keras":
            denom = acc + self.epsilon
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(acc)
            denom += self.epsilon
        g *= lr
        g /= denom
        p -= g

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
        centered: ḡ ← lerp(ḡ, g, 1−ρ) ;  avg = √(v − ḡ²) + ε      else avg = √v + ε
        momentum: buf ← momentum·buf + g/avg ;  p ← p − lr·buf     else p ← p − lr·g/avg
    """

    def __init__(self, learning_rate: Any = None, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho = _number(rho, "rho", low=0.0, high=1.0)
        self.momentum = _number(momentum, "momentum", low=0.0, high=1.0)
        self.epsilon = _number(epsilon, "epsilon", low=0.0, high=None)
        self.centered = bool(centered)
        self.slot_names = ("velocity",) + (("average_gradient",) if self.centered else ()) + \
            (("momentum",) if self.momentum else ())

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        rho = self.rho
        v = self._slots["velocity"][k]
        v *= rho
        v += (1 - rho) * (g * g)
        if self.flavor == "keras":
            if self.centered:
                gbar = self._slots["average_gradient"][k]
                gbar *= rho
                gbar += (1 - rho) * g
                denom = v - gbar * gbar
                denom += self.epsilon
            else:
                denom = v + self.epsilon
            np.sqrt(denom, out=denom)
            g *= lr
            g /= denom  # inc = lr·g/√denom
            if self.momentum:
                mom = self._slots["momentum"][k]
                mom *= self.momentum
                mom += g
                p -= mom
            else:
                p -= g
        else:
            if self.centered:
                gbar = self._slots["average_gradient"][k]
                gbar += (1 - rho) * (g - gbar)  # lerp(ḡ, g, 1−ρ)
                avg = v - gbar * gbar
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(v)
            avg += self.epsilon
            if self.momentum:
                buf = self._slots["momentum"][k]
                buf *= self.momentum
                buf += g / avg
                p -= lr * buf
            else:
                g /= avg
                g *= lr
                p -= g

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam: momentum (first moment m) and RMSprop (second moment v), bias-corrected.

    Keras ("epsilon hat": ε is added after the bias correction is folded into α)::

        α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)
        m ← m + (g − m)(1−β₁) ;  v ← v + (g² − v)(1−β₂)
        amsgrad: v̂ ← max(v̂, v), used in place of v
        p ← p − α·m/(√v + ε)

    PyTorch::

        m ← lerp(m, g, 1−β₁) ;  v ← β₂·v + (1−β₂)·g²     amsgrad: v̂ ← max(v̂, v)
        p ← p − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
    """

    _base_slots = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _number(beta_1, "beta_1", low=0.0, high=1.0)
        self.beta_2 = _number(beta_2, "beta_2", low=0.0, high=1.0)
        self.epsilon = _number(epsilon, "epsilon", low=0.0, high=None)
        self.amsgrad = bool(amsgrad)
        self.slot_names = self._base_slots + (("velocity_hat",) if self.amsgrad else ())

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        b1, b2 = self.beta_1, self.beta_2
        m = self._slots["momentum"][k]
        v = self._slots["velocity"][k]
        if self.flavor == "keras":
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m += (g - m) * (1 - b1)
            g *= g
            g -= v
            g *= 1 - b2
            v += g  # v ← v + (g² − v)(1−β₂)
            if self.amsgrad:
                v_hat = self._slots["velocity_hat"][k]
                np.maximum(v_hat, v, out=v_hat)
                v = v_hat
            denom = np.sqrt(v)
            denom += self.epsilon
            step = m * alpha
            step /= denom
            p -= step
        else:
            m += (1 - b1) * (g - m)  # lerp(m, g, 1−β₁)
            v *= b2
            v += (1 - b2) * (g * g)
            if self.amsgrad:
                v_hat = self._slots["velocity_hat"][k]
                np.maximum(v_hat, v, out=v_hat)
                v = v_hat
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - b2 ** t)
            denom += self.epsilon
            step = m / denom
            step *= lr / (1 - b1 ** t)
            p -= step

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay, p ← p − lr·wd·p before each step (default wd 0.004;
    in both flavors the decay is decoupled, as in Keras' AdamW and torch.optim.AdamW)."""

    _decoupled_decay = True

    def __init__(self, learning_rate: Any = None, weight_decay: float = 0.004,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016).

    Keras (u_product starts at 1; 0.96 is the momentum-schedule decay)::

        u_t = β₁(1 − ½·0.96ᵗ) ;  u_{t+1} = β₁(1 − ½·0.96ᵗ⁺¹) ;  Π_t = Π_{t−1}·u_t
        m ← m + (g − m)(1−β₁) ;  v ← v + (g² − v)(1−β₂)
        m̂ = u_{t+1}·m/(1 − Π_t·u_{t+1}) + (1 − u_t)·g/(1 − Π_t) ;  v̂ = v/(1 − β₂ᵗ)
        p ← p − lr·m̂/(√v̂ + ε)

    PyTorch (μ_t = β₁(1 − ½·0.96^(t·momentum_decay)), Π kept in float32 as torch does)::

        m ← lerp(m, g, 1−β₁) ;  v ← β₂·v + (1−β₂)·g² ;  denom = √(v/(1−β₂ᵗ)) + ε
        p ← p − lr(1−μ_t)/(1−Π_t)·g/denom − lr·μ_{t+1}/(1−Π_t·μ_{t+1})·m/denom
    """

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, momentum_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _number(beta_1, "beta_1", low=0.0, high=1.0)
        self.beta_2 = _number(beta_2, "beta_2", low=0.0, high=1.0)
        self.epsilon = _number(epsilon, "epsilon", low=0.0, high=None)
        self.momentum_decay = _number(momentum_decay, "momentum_decay", low=0.0, high=None)
        self.u_product = 1.0

    def _before_updates(self, t: int) -> None:
        b1 = self.beta_1
        if self.flavor == "keras":
            self._u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
            self._u_next = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
            self.u_product = self.u_product * b1 * (1.0 - 0.5 * 0.96 ** t)
        else:
            self._u_t = b1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))
            self._u_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
            self.u_product = float(np.float32(self.u_product) * np.float32(self._u_t))

    def _update(self, k: int, g: np.ndarray, p: np.ndarray, lr: float, t: int) -> None:
        b1, b2 = self.beta_1, self.beta_2
        m = self._slots["momentum"][k]
        v = self._slots["velocity"][k]
        u_t, u_next, product = self._u_t, self._u_next, self.u_product
        if self.flavor == "keras":
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            m_hat = (u_next * m) / (1 - product * u_next)
            m_hat += ((1 - u_t) * g) / (1 - product)
            v_hat = v / (1 - b2 ** t)
            denom = np.sqrt(v_hat)
            denom += self.epsilon
            m_hat *= lr
            m_hat /= denom
            p -= m_hat
        else:
            m += (1 - b1) * (g - m)
            v *= b2
            v += (1 - b2) * (g * g)
            denom = v / (1 - b2 ** t)
            np.sqrt(denom, out=denom)
            denom += self.epsilon
            p += (-lr * (1.0 - u_t) / (1.0 - product)) * (g / denom)
            p += ((-lr * u_next) / (1.0 - product * u_next)) * (m / denom)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), "u_product": self.u_product}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.u_product = float(state.get("u_product", 1.0))

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


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))
