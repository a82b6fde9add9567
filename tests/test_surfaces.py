"""The 2-D surfaces lab: known outcomes, agreement with torch.optim and Keras, and theory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from descentlab import optimizers
from descentlab.errors import ConfigError
from descentlab.lab import surfaces

#: Deep Learning from Scratch, ch. 6: start (−7, 2), 30 steps, these learning rates.
DLFS = {
    "SGD": lambda flavor: optimizers.SGD(0.95, flavor=flavor),
    "Momentum": lambda flavor: optimizers.SGD(0.1, momentum=0.9, flavor=flavor),
    "AdaGrad": lambda flavor: optimizers.Adagrad(1.5, initial_accumulator_value=0.0,
                                                 epsilon=1e-7, flavor=flavor),
    "Adam": lambda flavor: optimizers.Adam(0.3, flavor=flavor),
}


def test_dlfs_outcome() -> None:
    surface = surfaces.dlfs_quadratic()
    runs = {name: surfaces.descend(surface, make("pytorch"), steps=30)
            for name, make in DLFS.items()}
    sgd_y = runs["SGD"].points[:, 1]
    assert surfaces.sign_changes(sgd_y) == 30, "SGD's y should change sign on every step"
    distances = {name: run.final_distance for name, run in runs.items()}
    assert min(distances, key=distances.get) == "AdaGrad", distances
    assert surfaces.sign_changes(runs["Momentum"].points[:, 1]) < 30


TORCH = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.95),
    "Momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    "AdaGrad": lambda p: torch.optim.Adagrad(p, lr=1.5, eps=1e-7),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.3, eps=1e-7),
}


@pytest.mark.parametrize("name", sorted(DLFS))
def test_dlfs_trajectories_match_torch_optim(name: str) -> None:
    surface = surfaces.dlfs_quadratic()
    ours = surfaces.descend(surface, DLFS[name]("pytorch"), steps=30).points
    point = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = TORCH[name]([point])
    expected = [point.detach().numpy().copy()]
    for _ in range(30):
        opt.zero_grad()
        (point[0] ** 2 / 20 + point[1] ** 2).backward()
        opt.step()
        expected.append(point.detach().numpy().copy())
    np.testing.assert_allclose(ours, np.array(expected), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(DLFS))
def test_dlfs_trajectories_match_keras(name: str) -> None:
    import keras

    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        surface = surfaces.dlfs_quadratic()
        ours = surfaces.descend(surface, DLFS[name]("keras"), steps=30).points
        opt = {"SGD": lambda: keras.optimizers.SGD(0.95),
               "Momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
               "AdaGrad": lambda: keras.optimizers.Adagrad(1.5, initial_accumulator_value=0.0),
               "Adam": lambda: keras.optimizers.Adam(0.3)}[name]()
        variable = keras.Variable(np.array(surface.start), dtype="float64")
        expected = [np.array(surface.start)]
        for _ in range(30):
            x, y = np.asarray(variable)
            opt.apply([torch.tensor([x / 10.0, 2.0 * y])], [variable])
            expected.append(np.asarray(variable).copy())
    finally:
        keras.config.set_floatx(previous)
    np.testing.assert_allclose(ours, np.array(expected), rtol=1e-9, atol=1e-12)


def test_quadratic_rates_match_theory() -> None:
    surface = surfaces.ill_conditioned(kappa=100)
    theory = surfaces.quadratic_theory(*surface.hessian_eigenvalues)
    assert theory["momentum_rate"] == pytest.approx(9 / 11)
    assert theory["gd_rate"] == pytest.approx(99 / 101)
    momentum = surfaces.descend(surface, optimizers.SGD(theory["momentum_learning_rate"],
                                                        momentum=theory["momentum_beta"]),
                                steps=200)
    gd = surfaces.descend(surface, optimizers.SGD(theory["gd_learning_rate"]), steps=200)
    assert surfaces.measured_rate(momentum) == pytest.approx(theory["momentum_rate"], rel=0.05)
    assert surfaces.measured_rate(gd) == pytest.approx(theory["gd_rate"], rel=0.05)
    assert surfaces.measured_rate(momentum) < surfaces.measured_rate(gd)


@pytest.mark.parametrize("name", sorted(surfaces.SURFACES))
def test_gradients_match_finite_differences(name: str) -> None:
    surface = surfaces.get(name)
    gen = np.random.default_rng(0)
    for x, y in gen.uniform(-1.5, 1.5, size=(5, 2)):
        h = 1e-6
        fx = (surface.value(x + h, y) - surface.value(x - h, y)) / (2 * h)
        fy = (surface.value(x, y + h) - surface.value(x, y - h)) / (2 * h)
        np.testing.assert_allclose(surface.gradient(x, y), (fx, fy), rtol=1e-5, atol=1e-6)
    assert surface.value(*surface.minimum) <= surface.value(*surface.start)


def test_divergence_is_marked_not_hidden() -> None:
    run = surfaces.descend(surfaces.dlfs_quadratic(), optimizers.SGD(1.5), steps=100)
    assert run.diverged_at is not None and run.diverged_at < 100
    assert run.final_distance == float("inf")
    assert len(run.points) == run.diverged_at + 1


def test_unknown_surface_and_bad_steps() -> None:
    with pytest.raises(ConfigError, match="Unknown surface 'rosenbrok'.*'rosenbrock'"):
        surfaces.get("rosenbrok")
    with pytest.raises(ConfigError, match="steps must be a positive integer; got 0"):
        surfaces.descend(surfaces.saddle(), "sgd", steps=0)
