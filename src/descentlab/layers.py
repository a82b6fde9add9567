"""Layers: each one a forward pass and its backward pass, the chain rule written out.

A layer maps a batch ``x`` of shape ``(batch, inputs)`` to ``(batch, units)``. During the forward
pass it keeps what the backward pass needs; ``backward(grad)`` receives ∂L/∂output and returns
∂L/∂input, storing the gradients of its own weights in ``self.grads`` (aligned with
``self.trainable_weights``).

Dense, the layer of the textbook::

    forward:   z = x·W + b          a = f(z)
    backward:  ∂L/∂z = ∂L/∂a ⊙ f'(z)
               ∂L/∂W = xᵀ·∂L/∂z      ∂L/∂b = Σ_batch ∂L/∂z      ∂L/∂x = ∂L/∂z·Wᵀ

The factor f'(z) is where gradients vanish: with the sigmoid it is at most 0.25, and it is
applied once per layer on the way back.

A regularized weight (``kernel_regularizer=l2(0.01)``) adds its penalty R(W) to the loss, so its
gradient gains one term after the chain rule: ∂L/∂W + ∂R/∂W (see :mod:`descentlab.regularizers`).

The same code trains a population (:mod:`descentlab.population`): K networks whose weights are
stacked on a leading member axis — kernel (K, inputs, units), bias (K, units) — and whose
batches are (K, batch, inputs). Written as ``x @ W``, with ``swapaxes(-1, -2)`` for the
transpose and sums over the batch axis −2, each formula above is then one batched matrix
product per layer for all members at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from descentlab import activations, backend, initializers, regularizers
from descentlab.errors import ConfigError, DataError
from descentlab.validation import check_bool, check_float, check_int, fail


def _row(v: np.ndarray) -> np.ndarray:
    """A vector as one row that broadcasts over the batch: (units,) → (1, units), and a
    population's (members, units) → (members, 1, units)."""
    return v[..., np.newaxis, :]


class Layer:
    """Base class. Subclasses implement ``build``, ``forward`` and ``backward``."""

    #: The layer's activation applied last in ``forward`` (None if it has none); the model uses
    #: it to fuse the output activation's gradient with the loss.
    activation: Any = None

    def __init__(self, name: str | None = None, input_dim: int | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise fail("A layer's name", "a string or None", name)
        #: Without a name, Keras' automatic one, given at construction and counted across the
        #: process: "dense", then "dense_1", ... (``backend.clear_session()`` starts again).
        #: A model renames such a layer only if another of its layers has that name.
        self.named_automatically = name is None
        self.name: str = automatic_name(self) if name is None else name
        self.input_dim = None if input_dim is None else check_int(input_dim, "input_dim", low=1)
        self.built = False
        self.units: int | None = None
        self.weights: list[np.ndarray] = []
        self.trainable_weights: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        #: Whether ``backward`` must return ∂L/∂input (False for the first layer: nobody needs it).
        self.needs_input_grad = True

    # -- construction -------------------------------------------------------------------------
    def build(self, input_dim: int) -> None:
        self.input_dim = input_dim
        self.units = input_dim
        self.built = True

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def move_weights_to(self, weights: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Keep the trainable weights (values copied) and their gradients in the given arrays
        from now on; the names (``kernel``, ``bias``, ``gamma``, ...) follow them.

        Used by the model's one speed-up (``Sequential.pack_weights``): views into one flat
        buffer let the optimizer update every weight of the model at once."""
        for new, old in zip(weights, self.trainable_weights, strict=True):
            new[...] = old
        moved = {id(old): new for old, new in zip(self.trainable_weights, weights, strict=True)}
        self.weights = [moved.get(id(w), w) for w in self.weights]
        self.trainable_weights = list(weights)
        self.grads = list(grads)
        self._bind_weights()

    def _bind_weights(self) -> None:
        """Point named attributes (``kernel``, ``bias``, ...) at the entries of ``weights``."""

    def regularized_weights(self) -> list[tuple[regularizers.Regularizer, np.ndarray]]:
        """The (regularizer, weight) pairs of the weights this layer penalises."""
        return []

    @property
    def losses(self) -> list[float]:
        """The penalties R(W) of this layer's regularized weights (Keras' ``layer.losses``)."""
        return [regularizer(w) for regularizer, w in self.regularized_weights()]

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name}
        if self.input_dim is not None:
            config["input_dim"] = self.input_dim
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    # -- computation --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, preactivation: bool = False) -> np.ndarray | None:
        """∂L/∂input from ∂L/∂output.

        ``preactivation=True`` means ``grad`` is already ∂L/∂z, the gradient with respect to the
        input of this layer's activation (the loss fused it with the output activation).
        """
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(x, dtype=backend.floatx())
        if not self.built:
            self.build(x.shape[-1])
        return self.forward(x, training=training)

    @property
    def preactivation(self) -> np.ndarray:
        """z, the input of this layer's activation in the last forward pass."""
        raise AttributeError(f"{type(self).__name__} has no activation, so no pre-activation.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} units={self.units}>"


def automatic_name(layer: Layer) -> str:
    """The next automatic name for ``layer``'s class: ``Dense`` → "dense", "dense_1", ...;
    ``BatchNormalization`` → "batch_normalization", ... (see :func:`backend.unique_name`)."""
    class_name = type(layer).__name__
    snake = "".join(f"_{c.lower()}" if c.isupper() and i else c.lower()
                    for i, c in enumerate(class_name))
    return backend.unique_name(snake)


class Dense(Layer):
    """A fully connected layer: ``a = f(x·W + b)``.

    Args:
        units: number of output units.
        activation: name or activation object (default: none, i.e. linear).
        input_dim: width of the input, for the first layer (as in the textbook).
        kernel_initializer: default ``"glorot_uniform"`` (Keras' default).
        bias_initializer: default ``"zeros"``.
        use_bias: whether to add the bias ``b``.
        kernel_regularizer, bias_regularizer: a penalty on ``W`` or ``b`` added to the loss
            (name, config or object from :mod:`descentlab.regularizers`; default none).

    Weights: ``kernel`` of shape ``(inputs, units)`` and ``bias`` of shape ``(units,)``.
    """

    units: int  # known from the constructor on, not only once built
    kernel: np.ndarray  # set by build
    bias: np.ndarray | None  # None without use_bias

    def __init__(self, units: int, activation: Any = None, input_dim: int | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 use_bias: bool = True, kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, name: str | None = None, **kwargs: Any) -> None:
        input_shape = kwargs.pop("input_shape", None)
        if kwargs:
            raise ConfigError(
                f"Dense got unexpected argument(s) {sorted(kwargs)}; valid arguments are units, "
                "activation, input_dim, input_shape, kernel_initializer, bias_initializer, "
                "use_bias, kernel_regularizer, bias_regularizer, name."
            )
        if input_shape is not None:
            if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 1:
                raise fail("Dense input_shape", "a tuple (features,) (Dense takes flat inputs)",
                           input_shape)
            input_dim = check_int(input_shape[0], "Dense input_shape[0]", low=1)
        super().__init__(name=name, input_dim=input_dim)
        self.units = check_int(units, "Dense units", low=1)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.use_bias = check_bool(use_bias, "Dense use_bias")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias = None
        self._linear = self.activation.name == "linear"

    def build(self, input_dim: int) -> None:
        dtype = backend.floatx()
        self.input_dim = int(input_dim)
        self.kernel = self.kernel_initializer((self.input_dim, self.units), dtype=dtype)
        self.weights = [self.kernel]
        if self.use_bias:
            self.bias = self.bias_initializer((self.units,), dtype=dtype)
            self.weights.append(self.bias)
        self.trainable_weights = list(self.weights)
        self.grads = [np.zeros_like(w) for w in self.trainable_weights]
        self.built = True

    def _bind_weights(self) -> None:
        self.kernel = self.weights[0]
        if self.use_bias:
            self.bias = self.weights[1]

    def regularized_weights(self) -> list[tuple[regularizers.Regularizer, np.ndarray]]:
        pairs: list[tuple[regularizers.Regularizer, np.ndarray]] = []
        if not self.built:
            return pairs
        if self.kernel_regularizer is not None:
            pairs.append((self.kernel_regularizer, self.kernel))
        if self.bias is not None and self.bias_regularizer is not None:
            pairs.append((self.bias_regularizer, self.bias))
        return pairs

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        z = x @ self.kernel
        if self.bias is not None:
            # b as a row: a vector broadcasts over the batch as it is (no view to make, every
            # step); a population's biases (K, units) need the batch axis, per member.
            z += self.bias if self.bias.ndim == 1 else self.bias[..., np.newaxis, :]
        self.z = z
        # .f is the activation's array fast path (no input conversion): this runs every step.
        self.a = z if self._linear else self.activation.f(z)
        return self.a

    def backward(self, grad: np.ndarray, preactivation: bool = False) -> np.ndarray | None:
        # ∂L/∂z = ∂L/∂a ⊙ f'(z): the activation's derivative, one factor per layer.
        if preactivation or self._linear:
            dz = grad
        else:
            dz = self.activation.backward(self.z, self.a, grad)
        np.matmul(self.x.swapaxes(-1, -2), dz, out=self.grads[0])  # ∂L/∂W = xᵀ·∂L/∂z
        # A penalty's gradient is added in place: the optimizer reads these very arrays.
        if self.kernel_regularizer is not None:
            self.grads[0] += self.kernel_regularizer.gradient(self.kernel)  # + ∂R/∂W
        if self.bias is not None:
            # ∂L/∂b = Σ over the batch = 1ᵀ·∂L/∂z: as a product with a row of ones it is one
            # BLAS call per member (a sum over a population's batch axis adds row by row,
            # 3–7× slower), and every member sums as its network alone does.
            np.matmul(backend.ones((1, dz.shape[-2]), dz.dtype), dz,
                      out=self.grads[1][..., np.newaxis, :])
            if self.bias_regularizer is not None:
                self.grads[1] += self.bias_regularizer.gradient(self.bias)  # + ∂R/∂b
        if self.needs_input_grad:
            return dz @ self.kernel.swapaxes(-1, -2)  # ∂L/∂x = ∂L/∂z·Wᵀ
        return None

    @property
    def preactivation(self) -> np.ndarray:
        """z = x·W + b of the last forward pass."""
        return self.z

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            use_bias=self.use_bias,
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
        )
        return config


class Activation(Layer):
    """Applies an activation function on its own: ``a = f(x)`` (no weights)."""

    def __init__(self, activation: Any, name: str | None = None,
                 input_dim: int | None = None) -> None:
        super().__init__(name=name, input_dim=input_dim)
        self.activation = activations.get(activation)

    def build(self, input_dim: int) -> None:
        super().build(input_dim)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.z = x
        self.a = self.activation(x)
        return self.a

    def backward(self, grad: np.ndarray, preactivation: bool = False) -> np.ndarray:
        if preactivation:
            return grad
        return self.activation.backward(self.z, self.a, grad)

    @property
    def preactivation(self) -> np.ndarray:
        return self.z

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Inverted dropout: in training, each unit is zeroed with probability ``rate`` and the rest
    are scaled by 1/(1−rate), so nothing changes at inference. Active only during ``fit``."""

    def __init__(self, rate: float, name: str | None = None, seed: int | None = None,
                 input_dim: int | None = None) -> None:
        super().__init__(name=name, input_dim=input_dim)
        self.rate = check_float(rate, "Dropout rate", low=0.0, high=1.0, high_open=True)
        self.seed = None if seed is None else check_int(seed, "Dropout seed", low=0)
        #: The generator the masks come from; the model hands it its own (see Sequential).
        self.rng: np.random.Generator | None = (
            None if seed is None else np.random.default_rng(seed)
        )
        #: Set by the model: the generator of its training run, saved with the model so that a
        #: resumed run draws the same masks as an uninterrupted one.
        self.model_rng: np.random.Generator | None = None
        #: Set by a population: each member's generator, in member order.
        self.member_rngs: list[np.random.Generator] | None = None
        self.mask: np.ndarray | None = None

    def generator(self) -> np.random.Generator:
        """The generator the masks come from: the layer's own (``seed``), else the model's."""
        return self.rng if self.rng is not None else self.model_rng or backend.rng()

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.mask = None
            return x
        keep = self._uniform(x) >= self.rate
        self.mask = keep * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self.mask

    def _uniform(self, x: np.ndarray) -> np.ndarray:
        """Draws from U[0, 1) of x's shape and dtype. In a population, x is (members, batch,
        units) and member k's block comes from member k's generator: the very masks it would
        draw alone."""
        if self.member_rngs is None:
            return self.generator().random(x.shape, dtype=x.dtype)
        draws = np.empty(x.shape, dtype=x.dtype)
        for gen, block in zip(self.member_rngs, draws, strict=True):
            gen.random(dtype=x.dtype, out=block)
        return draws

    def backward(self, grad: np.ndarray, preactivation: bool = False) -> np.ndarray:
        return grad if self.mask is None else grad * self.mask

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config


class BatchNormalization(Layer):
    """Batch normalisation (Ioffe & Szegedy, 2015), with Keras' semantics and defaults.

    Training (``fit``)::

        μ = mean(x over the batch)      σ² = mean((x − μ)² over the batch)   (biased, as Keras)
        x̂ = (x − μ) / √(σ² + ε)          y = γ·x̂ + β
        moving_mean ← m·moving_mean + (1 − m)·μ        (likewise moving_variance with σ²)

    Inference (``predict``, ``evaluate``): the moving statistics replace μ and σ².

    Backward (training mode), with N the batch size::

        ∂L/∂β = Σ ∂L/∂y     ∂L/∂γ = Σ ∂L/∂y ⊙ x̂
        ∂L/∂x = γ/(N√(σ²+ε)) · (N·∂L/∂y − Σ∂L/∂y − x̂·Σ(∂L/∂y ⊙ x̂))

    Why it helps with vanishing gradients: each layer's pre-activations are re-centred and
    re-scaled, so sigmoid and tanh units stay out of their flat, saturated tails.

    Weights (``get_weights`` order): gamma, beta, moving_mean, moving_variance; gamma and beta
    are trainable.
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, name: str | None = None,
                 input_dim: int | None = None) -> None:
        super().__init__(name=name, input_dim=input_dim)
        self.momentum = check_float(momentum, "BatchNormalization momentum", low=0.0, high=1.0,
                                    high_open=True)
        self.epsilon = check_float(epsilon, "BatchNormalization epsilon", low=0.0,
                                   low_open=True)
        self.center = check_bool(center, "BatchNormalization center")
        self.scale = check_bool(scale, "BatchNormalization scale")

    def build(self, input_dim: int) -> None:
        dtype = backend.floatx()
        self.input_dim = self.units = int(input_dim)
        self.gamma = np.ones(self.units, dtype=dtype)
        self.beta = np.zeros(self.units, dtype=dtype)
        self.moving_mean = np.zeros(self.units, dtype=dtype)
        self.moving_variance = np.ones(self.units, dtype=dtype)
        self.trainable_weights = ([self.gamma] if self.scale else []) + \
            ([self.beta] if self.center else [])
        self.weights = self.trainable_weights + [self.moving_mean, self.moving_variance]
        self.grads = [np.zeros_like(w) for w in self.trainable_weights]
        self.built = True

    def _bind_weights(self) -> None:
        names = ["gamma"] * self.scale + ["beta"] * self.center + ["moving_mean",
                                                                    "moving_variance"]
        for name, weight in zip(names, self.weights, strict=True):
            setattr(self, name, weight)
        # Without scale (center), γ = 1 (β = 0) is a constant, not a weight.
        if not self.scale:
            self.gamma = np.ones(self.moving_mean.shape[-1], dtype=self.moving_mean.dtype)
        if not self.center:
            self.beta = np.zeros(self.moving_mean.shape[-1], dtype=self.moving_mean.dtype)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        # The statistics are over the batch axis, −2 (in a population, each member's own).
        self.training = training
        if training:
            # x.mean and x.var(axis=-2), written out so that x − mean is computed once (the
            # same operations in the same order: the same numbers, in fewer passes).
            n = x.shape[-2]
            mean = np.add.reduce(x, axis=-2) / n
            centered = x - _row(mean)
            variance = np.add.reduce(centered * centered, axis=-2) / n
            m = self.momentum
            self.moving_mean *= m
            self.moving_mean += (1 - m) * mean
            self.moving_variance *= m
            self.moving_variance += (1 - m) * variance
        else:
            centered = x - _row(self.moving_mean)
            variance = self.moving_variance
        self.inv_std = _row(1.0 / np.sqrt(variance + self.epsilon))
        self.x_hat = centered * self.inv_std
        return self.x_hat * _row(self.gamma) + _row(self.beta)

    def backward(self, grad: np.ndarray, preactivation: bool = False) -> np.ndarray | None:
        k = 0
        # (np.add.reduce is ndarray.sum without its Python wrapper: this runs every step.)
        if self.scale:
            np.add.reduce(grad * self.x_hat, axis=-2, out=self.grads[k])
            k += 1
        if self.center:
            np.add.reduce(grad, axis=-2, out=self.grads[k])
        if not self.needs_input_grad:
            return None
        dx_hat = grad * _row(self.gamma)
        if not self.training:  # the statistics are constants at inference
            return dx_hat * self.inv_std
        n = grad.shape[-2]
        return (self.inv_std / n) * (
            n * dx_hat - np.add.reduce(dx_hat, axis=-2, keepdims=True)
            - self.x_hat * np.add.reduce(dx_hat * self.x_hat, axis=-2, keepdims=True)
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(momentum=self.momentum, epsilon=self.epsilon, center=self.center,
                      scale=self.scale)
        return config


LAYER_CLASSES: dict[str, type[Layer]] = {
    "Dense": Dense,
    "Activation": Activation,
    "Dropout": Dropout,
    "BatchNormalization": BatchNormalization,
}


def stack(members: Sequence[Layer]) -> Layer:
    """One layer that holds the weights of ``members`` — built layers of one configuration —
    stacked on a new leading axis: kernel (K, inputs, units), bias (K, units), moving_mean
    (K, units), ... Its forward and backward then run all K at once (see
    :mod:`descentlab.population`); ``unstack`` reads member k's weights back."""
    first = members[0]
    layer = type(first).from_config(first.get_config())
    layer.input_dim, layer.units = first.input_dim, first.units
    trainable = [any(w is t for t in first.trainable_weights) for w in first.weights]
    layer.weights = [np.stack([m.weights[j] for m in members]) for j in range(len(trainable))]
    layer.trainable_weights = [w for w, t in zip(layer.weights, trainable, strict=True) if t]
    layer.grads = [np.zeros_like(w) for w in layer.trainable_weights]
    layer._bind_weights()
    layer.needs_input_grad = first.needs_input_grad
    if isinstance(first, (Dense, Activation)):
        functions = [m.activation for m in members]
        if any(activations.serialize(f) != activations.serialize(functions[0])
               for f in functions[1:]):
            layer.activation = MemberActivations(functions)
            if isinstance(layer, Dense):
                layer._linear = False
    layer.built = True
    return layer


class MemberActivations(activations.ActivationFunction):
    """A stacked layer's activation when its members differ in it (a population comparing
    sigmoid, tanh and ReLU at one depth): member k's slice ``x[k]`` of a (K, batch, units)
    array goes through member k's own function, so each member computes what it computes
    alone; the matrix products around it stay one batched product for all. A group of
    neighbours whose function ``writes_out`` computes straight into its part of the result
    (no copies to join), and backward multiplies all the groups' f' by the gradient at once
    (a deep population's activations are a third of its step)."""

    name = "per_member"

    def __init__(self, functions: Sequence[activations.ActivationFunction]) -> None:
        self.functions = list(functions)
        # Members with the same function are treated together: a slice when they are
        # neighbours (a view, no copy), else their index array.
        groups: dict[str, list[int]] = {}
        kinds: dict[str, activations.ActivationFunction] = {}
        for k, function in enumerate(self.functions):
            key = repr(activations.serialize(function))
            groups.setdefault(key, []).append(k)
            kinds.setdefault(key, function)
        # Each group: its function, its members, and whether it computes in place (a slice,
        # and a function that writes into out=), decided once: this runs twice per layer and
        # step.
        self.groups: list[tuple[activations.ActivationFunction, Any, bool]] = []
        for key, members in groups.items():
            contiguous = members == list(range(members[0], members[-1] + 1))
            index = slice(members[0], members[-1] + 1) if contiguous else np.array(members)
            self.groups.append((kinds[key], index, contiguous and kinds[key].writes_out))
        self._one_product = all(in_place for _, _, in_place in self.groups)
        self.max_derivative = max(f.max_derivative for f in self.functions)
        self.saturating = any(f.saturating for f in self.functions)

    def f(self, x: np.ndarray) -> np.ndarray:
        y = np.empty_like(x)
        for function, index, in_place in self.groups:
            if in_place:  # nothing to join afterwards
                cast(Any, function).f(x[index], out=y[index])
            else:
                y[index] = function.f(x[index])
        return y

    def df(self, x: np.ndarray) -> np.ndarray:
        d = np.empty_like(x)
        for function, index, _ in self.groups:
            d[index] = function.df(x[index])
        return d

    def backward(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        d = np.empty_like(grad)
        if self._one_product:
            # ∂L/∂z = ∂L/∂a ⊙ f'(z): every group's f' in its part of d, then one product for
            # all members (each element is the one its network's backward computes).
            for function, index, _ in self.groups:
                cast(Any, function).df_given(x[index], y[index], out=d[index])
            d *= grad
            return d
        for function, index, _ in self.groups:  # (softmax's backward is not f' ⊙ grad)
            d[index] = function.backward(x[index], y[index], grad[index])
        return d

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name,
                "functions": [activations.serialize(f) for f in self.functions]}


def unstack(stacked: Layer, k: int, member: Layer) -> None:
    """Copy member ``k``'s weights from a :func:`stack`-ed layer into ``member``, in place."""
    for mine, all_members in zip(member.weights, stacked.weights, strict=True):
        np.copyto(mine, all_members[k])


def serialize(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec: dict[str, Any]) -> Layer:
    try:
        cls = LAYER_CLASSES[spec["class_name"]]
    except (KeyError, TypeError) as exc:
        raise DataError(
            f"Unknown layer specification {spec!r}; known layers: {', '.join(LAYER_CLASSES)}."
        ) from exc
    return cls.from_config(dict(spec["config"]))
