"""Every layer's backward pass against PyTorch autograd, in float64.

For a layer ``y = layer(x)`` and an upstream gradient ``G = ∂L/∂y`` drawn at random, the loss
``L = Σ G ⊙ y`` has exactly that ∂L/∂y, so autograd of L in torch gives ∂L/∂x and ∂L/∂weights
independently of descentlab. ``layer.backward(G)`` must return the same ∂L/∂x and leave the same
weight gradients in ``layer.grads`` (rtol 1e-12), and must not write into ``G``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from descentlab import regularizers
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout

pytestmark = pytest.mark.usefixtures("float64")

BATCH, INPUTS, UNITS = 7, 4, 3
RTOL, ATOL = 1e-12, 1e-14

#: descentlab activation name → the same function in torch (Keras' defaults where they differ).
TORCH_ACTIVATIONS = {
    "linear": lambda t: t,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": lambda t: torch.logaddexp(t, torch.zeros_like(t)),
    "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=0.2),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softmax": lambda t: torch.softmax(t, dim=-1),
}


def tensor(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def close(actual, expected) -> None:
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def dense_layer(activation: str, rng: np.random.Generator, use_bias: bool = True,
                **kwargs) -> Dense:
    """A built Dense layer with random kernel and bias (a zero bias would hide a bias bug)."""
    layer = Dense(UNITS, activation=activation, use_bias=use_bias, **kwargs)
    layer.build(INPUTS)
    layer.kernel[...] = rng.normal(size=(INPUTS, UNITS))
    if layer.bias is not None:
        layer.bias[...] = rng.normal(size=UNITS)
    return layer


def torch_dense(layer: Dense, x: np.ndarray, activation: str):
    """x, W, b as leaf tensors and the layer's output computed by torch."""
    tx, tw = tensor(x), tensor(layer.kernel.copy())
    tb = tensor(layer.bias.copy()) if layer.bias is not None else None
    z = tx @ tw + (tb if tb is not None else 0.0)
    return tx, tw, tb, TORCH_ACTIVATIONS[activation](z)


# -- Dense ------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_dense_backward_matches_autograd(activation, use_bias, rng):
    layer = dense_layer(activation, rng, use_bias=use_bias)
    x, g = rng.normal(size=(BATCH, INPUTS)), rng.normal(size=(BATCH, UNITS))
    g_before = g.copy()
    y = layer.forward(x, training=True)
    dx = layer.backward(g)

    tx, tw, tb, ty = torch_dense(layer, x, activation)
    (ty * torch.tensor(g)).sum().backward()
    close(y, ty)
    close(dx, tx.grad)
    close(layer.grads[0], tw.grad)
    if use_bias:
        close(layer.grads[1], tb.grad)
    else:
        assert len(layer.grads) == 1
    np.testing.assert_array_equal(g, g_before)  # the upstream gradient is read, not written


@pytest.mark.parametrize("activation", ["sigmoid", "softmax", "relu"])
def test_dense_backward_from_preactivation_gradient(activation, rng):
    """``preactivation=True``: G is ∂L/∂z (the loss fused it with the activation), so the
    activation's derivative must not be applied again."""
    layer = dense_layer(activation, rng)
    x, g_z = rng.normal(size=(BATCH, INPUTS)), rng.normal(size=(BATCH, UNITS))
    layer.forward(x, training=True)
    dx = layer.backward(g_z, preactivation=True)

    tx, tw, tb, _ = torch_dense(layer, x, "linear")  # z itself
    z = tx @ tw + tb
    (z * torch.tensor(g_z)).sum().backward()
    close(dx, tx.grad)
    close(layer.grads[0], tw.grad)
    close(layer.grads[1], tb.grad)


def test_dense_backward_with_regularizers_matches_autograd(rng):
    """L = Σ G ⊙ y + R₁(W) + R₂(b): the penalties' gradients are added after the chain rule."""
    layer = dense_layer("tanh", rng, kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.02),
                        bias_regularizer=regularizers.L1L2(l1=0.03, l2=0.05))
    x, g = rng.normal(size=(BATCH, INPUTS)), rng.normal(size=(BATCH, UNITS))
    layer.forward(x, training=True)
    dx = layer.backward(g)

    tx, tw, tb, ty = torch_dense(layer, x, "tanh")
    penalty = (0.01 * tw.abs().sum() + 0.02 * (tw ** 2).sum()
               + 0.03 * tb.abs().sum() + 0.05 * (tb ** 2).sum())
    ((ty * torch.tensor(g)).sum() + penalty).backward()
    close(dx, tx.grad)
    close(layer.grads[0], tw.grad)
    close(layer.grads[1], tb.grad)


def test_dense_backward_twice_gives_the_same_gradients(rng):
    """Each backward pass overwrites ``grads`` (a new batch), it does not add to them."""
    layer = dense_layer("sigmoid", rng, kernel_regularizer=regularizers.L2(0.1))
    x, g = rng.normal(size=(BATCH, INPUTS)), rng.normal(size=(BATCH, UNITS))
    layer.forward(x, training=True)
    layer.backward(g)
    first = [w.copy() for w in layer.grads]
    layer.backward(g)
    for again, before in zip(layer.grads, first, strict=True):
        np.testing.assert_array_equal(again, before)


def test_first_dense_layer_skips_the_input_gradient(rng):
    """The model's first layer does not compute ∂L/∂x (nobody needs it), but its weights'
    gradients are the same."""
    layer = dense_layer("relu", rng)
    layer.needs_input_grad = False
    x, g = rng.normal(size=(BATCH, INPUTS)), rng.normal(size=(BATCH, UNITS))
    layer.forward(x, training=True)
    assert layer.backward(g) is None

    _, tw, tb, ty = torch_dense(layer, x, "relu")
    (ty * torch.tensor(g)).sum().backward()
    close(layer.grads[0], tw.grad)
    close(layer.grads[1], tb.grad)


# -- Activation -------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_activation_layer_backward_matches_autograd(activation, rng):
    layer = Activation(activation)
    x, g = rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS))
    g_before = g.copy()
    y = layer(x, training=True)
    dx = layer.backward(g)

    tx = tensor(x)
    ty = TORCH_ACTIVATIONS[activation](tx)
    (ty * torch.tensor(g)).sum().backward()
    close(y, ty)
    close(dx, tx.grad)
    np.testing.assert_array_equal(g, g_before)


def test_activation_layer_passes_a_preactivation_gradient_through(rng):
    layer = Activation("sigmoid")
    x, g = rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS))
    layer(x, training=True)
    np.testing.assert_array_equal(layer.backward(g, preactivation=True), g)


# -- Dropout ----------------------------------------------------------------------------------

def test_dropout_backward_in_training_scales_the_kept_units(rng):
    """y = x ⊙ m/(1−rate) with m ∈ {0, 1}: ∂L/∂x = G/(1−rate) where a unit was kept (y ≠ 0,
    read off the output, not the layer's mask), 0 where it was dropped."""
    rate = 0.4
    layer = Dropout(rate, seed=3)
    layer.build(UNITS)
    x = rng.uniform(0.5, 2.0, size=(200, UNITS))  # no zeros: y = 0 exactly when dropped
    g = rng.normal(size=x.shape)
    y = layer(x, training=True)
    kept = y != 0
    assert 0 < kept.mean() < 1
    close(y[kept], x[kept] / (1 - rate))
    dx = layer.backward(g)
    close(dx, np.where(kept, g / (1 - rate), 0.0))


def test_dropout_backward_at_inference_is_the_identity(rng):
    layer = Dropout(0.4, seed=3)
    x, g = rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS))
    layer(x, training=False)
    np.testing.assert_array_equal(layer.backward(g), g)


# -- BatchNormalization -----------------------------------------------------------------------

def batchnorm_layer(rng: np.random.Generator, center: bool, scale: bool,
                    epsilon: float = 1e-3) -> BatchNormalization:
    layer = BatchNormalization(center=center, scale=scale, epsilon=epsilon)
    layer.build(UNITS)
    if scale:  # otherwise γ stays 1 and β stays 0, as in Keras' layer without them
        layer.gamma[...] = rng.uniform(0.5, 2.0, size=UNITS)
    if center:
        layer.beta[...] = rng.normal(size=UNITS)
    layer.moving_mean[...] = rng.normal(size=UNITS)
    layer.moving_variance[...] = rng.uniform(0.5, 2.0, size=UNITS)
    return layer


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False),
                                           (False, False)])
def test_batchnorm_backward_matches_autograd(center, scale, training, rng):
    """Training: the batch statistics depend on x, so ∂L/∂x has the two extra terms of the
    docstring; inference: the moving statistics are constants. γ, β only when trainable."""
    layer = batchnorm_layer(rng, center, scale)
    gamma, beta = layer.gamma.copy(), layer.beta.copy()
    mean, variance = layer.moving_mean.copy(), layer.moving_variance.copy()
    x = 3.0 + 2.0 * rng.normal(size=(BATCH, UNITS))
    g = rng.normal(size=(BATCH, UNITS))
    g_before = g.copy()
    y = layer.forward(x, training=training)
    dx = layer.backward(g)

    tx = tensor(x)
    tgamma, tbeta = tensor(gamma), tensor(beta)
    ty = F.batch_norm(tx, torch.tensor(mean), torch.tensor(variance),
                      weight=tgamma if scale else None, bias=tbeta if center else None,
                      training=training, momentum=0.0, eps=layer.epsilon)
    (ty * torch.tensor(g)).sum().backward()
    close(y, ty)
    close(dx, tx.grad)
    expected = ([tgamma.grad] if scale else []) + ([tbeta.grad] if center else [])
    assert len(layer.grads) == len(expected)
    for actual, wanted in zip(layer.grads, expected, strict=True):
        close(actual, wanted)
    np.testing.assert_array_equal(g, g_before)


def test_batchnorm_first_layer_skips_the_input_gradient(rng):
    layer = batchnorm_layer(rng, center=True, scale=True)
    layer.needs_input_grad = False
    x, g = rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS))
    layer.forward(x, training=True)
    assert layer.backward(g) is None
    tx, tgamma, tbeta = tensor(x), tensor(layer.gamma.copy()), tensor(layer.beta.copy())
    ty = F.batch_norm(tx, None, None, weight=tgamma, bias=tbeta, training=True,
                      eps=layer.epsilon)
    (ty * torch.tensor(g)).sum().backward()
    close(layer.grads[0], tgamma.grad)
    close(layer.grads[1], tbeta.grad)
