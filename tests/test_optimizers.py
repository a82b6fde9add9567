"""Every optimizer against the real libraries: flavor 'keras' against Keras 3's optimizer objects,
flavor 'pytorch' against torch.optim, 25 steps on random parameters and gradients."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from descentlab import optimizers, schedules
from descentlab.errors import ConfigError

SHAPES = [(3, 4), (4,), (2, 5)]
STEPS = 25


def random_problem(dtype: str, seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    gen = np.random.default_rng(seed)
    params = [gen.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[gen.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def run_descentlab(opt: optimizers.Optimizer, params, grads) -> list[np.ndarray]:
    params = [p.copy() for p in params]
    for step in grads:
        opt.apply_gradients(zip(step, params, strict=True))
    return params


def run_keras(keras, make, params, grads, dtype: str) -> list[np.ndarray]:
    variables = [keras.Variable(p.copy(), dtype=dtype) for p in params]
    opt = make(keras)
    for step in grads:
        opt.apply([torch.tensor(g) for g in step], variables)
    return [np.asarray(v) for v in variables]


def run_torch(make, params, grads, schedule=None) -> list[np.ndarray]:
    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = make(tensors)
    sched = None
    if schedule is not None:
        base = opt.param_groups[0]["lr"]
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: schedule(step) / base)
    for step in grads:
        for t, g in zip(tensors, step, strict=True):
            t.grad = torch.tensor(g)
        opt.step()
        if sched is not None:
            sched.step()
    return [t.detach().numpy() for t in tensors]


# name -> (descentlab kwargs-maker, keras maker)
KERAS_CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), lambda k: k.optimizers.SGD(0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9),
                     lambda k: k.optimizers.SGD(0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, momentum=0.8, nesterov=True),
                     lambda k: k.optimizers.SGD(0.1, momentum=0.8, nesterov=True)),
    "sgd_momentum_wd": (lambda: optimizers.SGD(0.1, momentum=0.9, weight_decay=0.05),
                        lambda k: k.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.05)),
    "adagrad": (lambda: optimizers.Adagrad(0.1), lambda k: k.optimizers.Adagrad(0.1)),
    "adagrad_wd": (lambda: optimizers.Adagrad(0.1, weight_decay=0.01),
                   lambda k: k.optimizers.Adagrad(0.1, weight_decay=0.01)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), lambda k: k.optimizers.RMSprop(0.01)),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.5),
                         lambda k: k.optimizers.RMSprop(0.01, momentum=0.5)),
    "rmsprop_centered": (lambda: optimizers.RMSprop(0.01, centered=True),
                         lambda k: k.optimizers.RMSprop(0.01, centered=True)),
    "rmsprop_centered_momentum_wd": (
        lambda: optimizers.RMSprop(0.01, centered=True, momentum=0.5, weight_decay=0.1),
        lambda k: k.optimizers.RMSprop(0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    "adam": (lambda: optimizers.Adam(0.01), lambda k: k.optimizers.Adam(0.01)),
    "adam_amsgrad": (lambda: optimizers.Adam(0.01, amsgrad=True),
                     lambda k: k.optimizers.Adam(0.01, amsgrad=True)),
    "adam_wd": (lambda: optimizers.Adam(0.01, weight_decay=0.1),
                lambda k: k.optimizers.Adam(0.01, weight_decay=0.1)),
    "adamw": (lambda: optimizers.AdamW(0.01), lambda k: k.optimizers.AdamW(0.01)),
    "nadam": (lambda: optimizers.Nadam(0.01), lambda k: k.optimizers.Nadam(0.01)),
    "nadam_wd": (lambda: optimizers.Nadam(0.01, weight_decay=0.05),
                 lambda k: k.optimizers.Nadam(0.01, weight_decay=0.05)),
    "adam_exponential_schedule": (
        lambda: optimizers.Adam(schedules.ExponentialDecay(0.05, 5, 0.5)),
        lambda k: k.optimizers.Adam(k.optimizers.schedules.ExponentialDecay(0.05, 5, 0.5))),
    "sgd_piecewise_schedule": (
        lambda: optimizers.SGD(schedules.PiecewiseConstantDecay([3, 10], [0.1, 0.05, 0.01]),
                               momentum=0.9),
        lambda k: k.optimizers.SGD(
            k.optimizers.schedules.PiecewiseConstantDecay([3, 10], [0.1, 0.05, 0.01]),
            momentum=0.9)),
}

#: Keras on the torch backend rounds clip norms to float32 (its norm reductions compute in
#: float32 even for float64 variables), so these agree to float32 precision only.
KERAS_CLIP_CASES = {
    "sgd_clipnorm": (lambda: optimizers.SGD(0.1, momentum=0.9, clipnorm=1.0),
                     lambda k: k.optimizers.SGD(0.1, momentum=0.9, clipnorm=1.0)),
    "adam_global_clipnorm": (lambda: optimizers.Adam(0.01, global_clipnorm=1.5),
                             lambda k: k.optimizers.Adam(0.01, global_clipnorm=1.5)),
    "rmsprop_clipvalue": (lambda: optimizers.RMSprop(0.01, clipvalue=0.5),
                          lambda k: k.optimizers.RMSprop(0.01, clipvalue=0.5)),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_flavor_matches_keras_float64(keras64, case: str) -> None:
    make_dl, make_keras = KERAS_CASES[case]
    params, grads = random_problem("float64")
    got = run_descentlab(make_dl(), params, grads)
    want = run_keras(keras64, make_keras, params, grads, "float64")
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", sorted(KERAS_CLIP_CASES))
def test_keras_flavor_clipping_matches_keras(keras64, case: str) -> None:
    make_dl, make_keras = KERAS_CLIP_CASES[case]
    params, grads = random_problem("float64")
    got = run_descentlab(make_dl(), params, grads)
    want = run_keras(keras64, make_keras, params, grads, "float64")
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # Clipping really acted: without it the trajectory is different.
    unclipped = KERAS_CASES[case.split("_")[0]][0]()
    assert not np.allclose(run_descentlab(unclipped, params, grads)[0], got[0])


def clipped_in_test(grads: list[np.ndarray], option: str, c: float) -> list[np.ndarray]:
    """Keras' three clipping rules, written here apart from the engine's."""
    if option == "clipvalue":
        return [np.minimum(np.maximum(g, -c), c) for g in grads]
    if option == "clipnorm":
        return [g * min(1.0, c / np.linalg.norm(g)) for g in grads]
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, c / total) for g in grads]


@pytest.mark.parametrize("case, option, c", [
    ("sgd_momentum", "clipnorm", 1.0), ("sgd_nesterov", "global_clipnorm", 1.5),
    ("sgd_momentum", "clipvalue", 0.5), ("adam", "clipnorm", 1.0),
    ("rmsprop_centered_momentum_wd", "global_clipnorm", 1.5), ("nadam", "clipvalue", 0.5),
])
def test_pytorch_flavor_clipping_then_torch_optim(case: str, option: str, c: float) -> None:
    """flavor 'pytorch' with Keras' clipping: the clipping (done here, in the test) and then
    torch.optim's step, at float64 precision; without the clipping the numbers differ."""
    spec, make_torch = TORCH_CASES[case]
    params, grads = random_problem("float64")
    got = run_descentlab(make_pytorch_flavor({**spec, option: c}), params, grads)
    want = run_torch(make_torch, params, [clipped_in_test(step, option, c) for step in grads])
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    unclipped = run_descentlab(make_pytorch_flavor(spec), params, grads)
    assert not np.allclose(unclipped[0], got[0])


@pytest.mark.parametrize("case", ["sgd_momentum", "rmsprop_centered", "adam", "nadam"])
def test_keras_flavor_matches_keras_float32(case: str) -> None:
    import keras

    make_dl, make_keras = KERAS_CASES[case]
    params, grads = random_problem("float32")
    got = run_descentlab(make_dl(), params, grads)
    want = run_keras(keras, make_keras, params, grads, "float32")
    for a, b in zip(got, want, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


T = torch.optim
TORCH_CASES = {
    "sgd": (dict(cls=optimizers.SGD, learning_rate=0.1), lambda ps: T.SGD(ps, lr=0.1)),
    "sgd_momentum": (dict(cls=optimizers.SGD, learning_rate=0.1, momentum=0.9),
                     lambda ps: T.SGD(ps, lr=0.1, momentum=0.9)),
    "sgd_nesterov": (dict(cls=optimizers.SGD, learning_rate=0.1, momentum=0.8, nesterov=True),
                     lambda ps: T.SGD(ps, lr=0.1, momentum=0.8, nesterov=True)),
    "sgd_momentum_wd": (dict(cls=optimizers.SGD, learning_rate=0.1, momentum=0.9,
                             weight_decay=0.05),
                        lambda ps: T.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05)),
    "adagrad": (dict(cls=optimizers.Adagrad, learning_rate=0.1),
                lambda ps: T.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=1e-7)),
    "adagrad_wd": (dict(cls=optimizers.Adagrad, learning_rate=0.1, weight_decay=0.01),
                   lambda ps: T.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=1e-7,
                                        weight_decay=0.01)),
    "rmsprop": (dict(cls=optimizers.RMSprop, learning_rate=0.01),
                lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7)),
    "rmsprop_momentum": (dict(cls=optimizers.RMSprop, learning_rate=0.01, momentum=0.5),
                         lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7, momentum=0.5)),
    "rmsprop_centered_momentum_wd": (
        dict(cls=optimizers.RMSprop, learning_rate=0.01, centered=True, momentum=0.5,
             weight_decay=0.1),
        lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7, centered=True, momentum=0.5,
                             weight_decay=0.1)),
    "adam": (dict(cls=optimizers.Adam, learning_rate=0.01),
             lambda ps: T.Adam(ps, lr=0.01, eps=1e-7)),
    "adam_amsgrad": (dict(cls=optimizers.Adam, learning_rate=0.01, amsgrad=True),
                     lambda ps: T.Adam(ps, lr=0.01, eps=1e-7, amsgrad=True)),
    "adam_wd": (dict(cls=optimizers.Adam, learning_rate=0.01, weight_decay=0.1),
                lambda ps: T.Adam(ps, lr=0.01, eps=1e-7, weight_decay=0.1)),
    "adamw": (dict(cls=optimizers.AdamW, learning_rate=0.01, weight_decay=0.01),
              lambda ps: T.AdamW(ps, lr=0.01, eps=1e-7, weight_decay=0.01)),
    "nadam": (dict(cls=optimizers.Nadam, learning_rate=0.01),
              lambda ps: T.NAdam(ps, lr=0.01, eps=1e-7)),
    "nadam_wd": (dict(cls=optimizers.Nadam, learning_rate=0.01, weight_decay=0.05),
                 lambda ps: T.NAdam(ps, lr=0.01, eps=1e-7, weight_decay=0.05)),
}


def make_pytorch_flavor(spec: dict) -> optimizers.Optimizer:
    spec = dict(spec)
    cls = spec.pop("cls")
    return cls(flavor="pytorch", **spec)


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_pytorch_flavor_matches_torch_optim_float64(case: str) -> None:
    spec, make_torch = TORCH_CASES[case]
    params, grads = random_problem("float64")
    got = run_descentlab(make_pytorch_flavor(spec), params, grads)
    want = run_torch(make_torch, params, grads)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", ["sgd_nesterov", "rmsprop_centered_momentum_wd", "adam",
                                  "nadam"])
def test_pytorch_flavor_matches_torch_optim_float32(case: str) -> None:
    spec, make_torch = TORCH_CASES[case]
    params, grads = random_problem("float32")
    got = run_descentlab(make_pytorch_flavor(spec), params, grads)
    want = run_torch(make_torch, params, grads)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pytorch_flavor_with_schedule_matches_lambda_lr() -> None:
    schedule = schedules.ExponentialDecay(0.1, 4, 0.5)
    params, grads = random_problem("float64")
    got = run_descentlab(optimizers.SGD(schedule, momentum=0.9, flavor="pytorch"), params, grads)
    want = run_torch(lambda ps: T.SGD(ps, lr=0.1, momentum=0.9), params, grads, schedule)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def trajectory(opt: optimizers.Optimizer, steps: int = 3, w0: float = 1.0) -> list[float]:
    """Minimise f(w) = w² (gradient 2w) from w0, returning w after each step."""
    w = np.array([w0])
    out = []
    for _ in range(steps):
        opt.apply_gradients([(2 * w, w)])
        out.append(float(w[0]))
    return out


def test_momentum_flavors_differ_once_the_learning_rate_changes() -> None:
    """OPTIMIZERS.md's worked example: lr 0.1, 0.01, 0.01, momentum 0.9 on w², w0 = 1."""
    lr = schedules.PiecewiseConstantDecay([0], [0.1, 0.01])
    torch_way = trajectory(optimizers.SGD(lr, momentum=0.9, flavor="pytorch"))
    keras_way = trajectory(optimizers.SGD(lr, momentum=0.9))
    np.testing.assert_allclose(torch_way, [0.8, 0.766, 0.72008], rtol=1e-12)
    np.testing.assert_allclose(keras_way, [0.8, 0.604, 0.41552], rtol=1e-12)


def test_adam_worked_example() -> None:
    """OPTIMIZERS.md: Adam lr 0.1, eps 1e-8 on w² from 1 — the two epsilon placements."""
    torch_way = trajectory(optimizers.Adam(0.1, epsilon=1e-8, flavor="pytorch"))
    keras_way = trajectory(optimizers.Adam(0.1, epsilon=1e-8))
    np.testing.assert_allclose(torch_way, [0.9000000005, 0.8004122287, 0.7015862729], rtol=1e-9)
    np.testing.assert_allclose(keras_way, [0.9000000158, 0.8004122551, 0.7015863086], rtol=1e-9)


def test_legacy_lr_and_decay_arguments(keras64) -> None:
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = optimizers.SGD(lr=0.2)
    assert opt.learning_rate == 0.2
    with pytest.warns(DeprecationWarning, match="InverseTimeDecay"):
        decayed = optimizers.SGD(learning_rate=0.1, decay=0.5)
    params, grads = random_problem("float64")
    got = run_descentlab(decayed, params, grads)
    keras_schedule = keras64.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5)
    want = run_keras(keras64, lambda k: k.optimizers.SGD(keras_schedule), params, grads,
                     "float64")
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    with pytest.raises(ConfigError, match="not both"):
        optimizers.SGD(learning_rate=0.1, lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda: optimizers.SGD(-0.1), r"learning_rate must be a finite number > 0; got -0.1\.$"),
    (lambda: optimizers.SGD(float("nan")), "learning_rate must be a finite number > 0; got nan"),
    (lambda: optimizers.SGD(0.1, momentum=1.0),
     r"momentum must be a finite number in \[0, 1\); got 1.0\.$"),
    (lambda: optimizers.SGD(0.1, nesterov=True), "nesterov=True needs a momentum"),
    (lambda: optimizers.Adam(beta_1=1.5), r"beta_1 must be a finite number in \[0, 1\); got 1.5"),
    (lambda: optimizers.RMSprop(rho=-0.1), r"rho must be a finite number in \[0, 1\); got -0.1"),
    (lambda: optimizers.Adam(epsilon=-1e-7), "epsilon must be a finite number ≥ 0; got -1e-07"),
    (lambda: optimizers.SGD(clipnorm=0), "clipnorm must be a finite number > 0; got 0"),
    (lambda: optimizers.SGD(clipnorm=1, clipvalue=1), "only one of clipnorm"),
    (lambda: optimizers.SGD(flavor="jax"),
     "flavor must be one of 'keras', 'pytorch'; got 'jax'"),
    (lambda: optimizers.SGD(0.1, betas=0.9), r"unexpected argument\(s\) \['betas'\]"),
    (lambda: optimizers.get("adamm"), "Unknown optimizer 'adamm'.*Did you mean 'adam'"),
    (lambda: optimizers.get(3), "optimizer must be a name"),
])
def test_invalid_settings_are_named(make, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize("name, cls, settings", [
    ("sgd", optimizers.SGD, {"momentum": 0.0, "nesterov": False}),
    ("gd", optimizers.SGD, {"momentum": 0.0}),
    ("momentum", optimizers.SGD, {"momentum": 0.9, "nesterov": False}),
    ("nesterov", optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    ("nag", optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.001, "initial_accumulator_value": 0.1}),
    ("rmsprop", optimizers.RMSprop, {"learning_rate": 0.001, "rho": 0.9}),
    ("adam", optimizers.Adam, {"learning_rate": 0.001, "epsilon": 1e-7}),
    ("adamw", optimizers.AdamW, {"weight_decay": 0.004}),
    ("nadam", optimizers.Nadam, {"learning_rate": 0.001}),
])
def test_string_names(name: str, cls: type, settings: dict) -> None:
    opt = optimizers.get(name)
    assert type(opt) is cls
    for key, value in settings.items():
        assert getattr(opt, key) == value
    assert optimizers.get(opt) is opt


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_state_round_trip_resumes_exactly(case: str) -> None:
    make_dl, _ = KERAS_CASES[case]
    params, grads = random_problem("float64")
    reference = make_dl()
    full = run_descentlab(reference, params, grads)

    first = make_dl()
    half = run_descentlab(first, params, grads[:10])
    state = copy.deepcopy(first.get_state())
    resumed = optimizers.deserialize(optimizers.serialize(first))
    resumed.set_state(state)
    rest = run_descentlab(resumed, half, grads[10:])
    for a, b in zip(rest, full, strict=True):
        np.testing.assert_array_equal(a, b)


EVERY_OPTIMIZER = (
    [make for make, _ in KERAS_CASES.values()] + [make for make, _ in KERAS_CLIP_CASES.values()]
    + [lambda spec=spec: make_pytorch_flavor(spec) for spec, _ in TORCH_CASES.values()]
    + [lambda: optimizers.Adam(0.1, clipvalue=0.5, flavor="pytorch"),
       lambda: optimizers.SGD(0.1, momentum=0.9, global_clipnorm=0.5, flavor="pytorch")]
)


@pytest.mark.parametrize("make", EVERY_OPTIMIZER)
def test_updates_leave_gradients_alone(make) -> None:
    """Every rule, stage and flavor reads the gradients without writing into them: the
    training loop hands over the model's own gradient arrays."""
    params, grads = random_problem("float64")
    before = [[g.copy() for g in step] for step in grads[:3]]
    opt = make()
    for step in grads[:3]:
        opt.apply(step, params)
    for step, copies in zip(grads[:3], before, strict=True):
        for a, b in zip(step, copies, strict=True):
            np.testing.assert_array_equal(a, b)


def test_changing_the_parameters_is_an_error() -> None:
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones(3), np.zeros(3))])
    with pytest.raises(ConfigError, match="built for parameters"):
        opt.apply_gradients([(np.ones(4), np.zeros(4))])


@pytest.mark.parametrize("schedule_name, args, kwargs", [
    ("ExponentialDecay", (0.1, 10, 0.5), {}),
    ("ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 3, 0.7), {}),
    ("InverseTimeDecay", (0.1, 3, 0.7), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 20], [0.1, 0.05, 0.001]), {}),
    ("CosineDecay", (0.1, 30), {}),
    ("CosineDecay", (0.1, 30), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 30), {"warmup_target": 0.2, "warmup_steps": 5}),
])
def test_schedules_match_keras(keras64, schedule_name: str, args: tuple, kwargs: dict) -> None:
    ours = getattr(schedules, schedule_name)(*args, **kwargs)
    theirs = getattr(keras64.optimizers.schedules, schedule_name)(*args, **kwargs)
    for step in range(0, 45):
        np.testing.assert_allclose(ours(step), float(theirs(step)), rtol=1e-12, atol=1e-15)
    assert schedules.deserialize(schedules.serialize(ours))(17) == ours(17)
