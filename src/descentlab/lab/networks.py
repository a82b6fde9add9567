"""The one network every part of descentlab builds: a stack of Dense layers.

``descentlab train`` and ``demo``, both labs and the playground all train the same kind of
network, a multi-layer perceptron::

    x → Dense(units₁, f₁) → Dense(units₂, f₂) → … → Dense(outputs, output activation) → ŷ

:func:`dense_stack` writes it once, with the engine's public layers, so that the five callers
cannot drift apart. What differs between them is a keyword:

* ``activation`` / ``kernel_initializer``: one name for every hidden layer, or one per layer
  (the playground lets each layer have its own);
* ``batch_norm``: each hidden layer becomes ``Dense → BatchNormalization → Activation`` — the
  normalisation sits between z = x·W + b and f(z), where it keeps z near mean 0 and variance 1,
  the region in which f'(z) is largest (the vanishing lab's remedy);
* ``dropout``: a ``Dropout(rate)`` after every hidden layer;
* ``kernel_regularizer``: the same L1/L2 penalty on every kernel, the output's included.

The model comes back uncompiled: the optimizer, the loss and the metrics are the caller's
choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from descentlab import activations as activations_module
from descentlab.errors import ConfigError
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential

#: The most weights a network built here may have: 50 million, 200 MB in float32 (×4 or so
#: once the gradients and the optimizer's slots are counted). A network of this size already
#: takes minutes per epoch in NumPy; a larger one is a typo (``--layers 1000000000``) that
#: would exhaust the memory before anything could be said.
MAX_WEIGHTS = 50_000_000


def count_weights(inputs: int, hidden: Sequence[int], outputs: int) -> int:
    """Kernels and biases of the Dense layers: Σ (n_in + 1)·n_out over the stack."""
    widths = [int(inputs), *(int(u) for u in hidden), int(outputs)]
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths, widths[1:], strict=False))


def check_size(inputs: int, hidden: Sequence[int], outputs: int) -> None:
    """Refuse, before anything is allocated, a network of more than :data:`MAX_WEIGHTS`."""
    weights = count_weights(inputs, hidden, outputs)
    if weights > MAX_WEIGHTS:
        raise ConfigError(
            f"a network of {inputs} inputs, hidden layers {_widths(hidden)} and {outputs} "
            f"outputs has {weights:,} weights; descentlab builds at most {MAX_WEIGHTS:,}: use "
            "fewer or narrower hidden layers.")


def _widths(hidden: Sequence[int]) -> str:
    """The hidden widths for a message: ``[32, 32, 32]`` when few, ``1,000 × [100000]`` when
    all alike, else the first and last few (a message stays one readable line)."""
    widths = [int(w) for w in hidden]
    if len(widths) <= 8:
        return str(widths)
    if len(set(widths)) == 1:
        return f"{len(widths):,} × [{widths[0]}]"
    return f"[{', '.join(map(str, widths[:3]))}, …, {', '.join(map(str, widths[-3:]))}] " \
           f"({len(widths):,} layers)"


def _per_layer(value: str | Sequence[str], layers: int, what: str) -> list[str]:
    """``value`` for each of ``layers`` hidden layers: a single name is repeated."""
    if isinstance(value, str):
        return [value] * layers
    names = list(value)
    if len(names) != layers:
        raise ConfigError(f"{what} needs one name per hidden layer: {layers} expected, "
                          f"got {len(names)} ({', '.join(map(str, names))}).")
    return names


def dense_stack(inputs: int, hidden: Sequence[int], outputs: int,
                output_activation: str = "linear", *,
                activation: str | Sequence[str] = "relu",
                kernel_initializer: str | Sequence[str] = "glorot_uniform",
                batch_norm: bool = False, dropout: float = 0.0,
                kernel_regularizer: Any = None, name: str | None = None) -> Sequential:
    """``inputs`` features → one Dense layer per width in ``hidden`` → ``outputs`` units.

    Args:
        inputs: features per sample (the first layer's ``input_dim``).
        hidden: the hidden layers' widths, first to last; empty for a single Dense layer
            (logistic or linear regression).
        outputs: units of the output layer.
        output_activation: the output layer's activation (``"softmax"``, ``"sigmoid"``, …).
        activation: the hidden layers' activation, or one per hidden layer.
        kernel_initializer: the hidden kernels' initializer, or one per hidden layer (the
            output layer keeps Keras' default, ``glorot_uniform``).
        batch_norm: ``Dense → BatchNormalization → Activation`` in every hidden layer.
        dropout: rate of a ``Dropout`` after every hidden layer (0: none).
        kernel_regularizer: a regularizer for every kernel, the output layer's included.
        name: the model's name (``None``: the engine's default).

    Returns:
        The uncompiled ``Sequential`` model.
    """
    check_size(inputs, hidden, outputs)
    activations = _per_layer(activation, len(hidden), "activation")
    for f in activations:
        activations_module.hidden(f)  # softmax belongs on the output layer: said in a sentence
    initializers = _per_layer(kernel_initializer, len(hidden), "kernel_initializer")
    model = Sequential(name=name)
    for i, (units, f, init) in enumerate(zip(hidden, activations, initializers, strict=True)):
        input_dim = inputs if i == 0 else None
        if batch_norm:
            model.add(Dense(int(units), kernel_initializer=init, input_dim=input_dim,
                            kernel_regularizer=kernel_regularizer))
            model.add(BatchNormalization())
            model.add(Activation(f))
        else:
            model.add(Dense(int(units), activation=f, kernel_initializer=init,
                            input_dim=input_dim, kernel_regularizer=kernel_regularizer))
        if dropout > 0:
            model.add(Dropout(dropout))
    model.add(Dense(outputs, activation=output_activation,
                    input_dim=None if len(hidden) else inputs,
                    kernel_regularizer=kernel_regularizer))
    return model
