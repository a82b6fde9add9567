"""The vanishing-gradient lab: activation × depth × initializer × seed, trained and measured.

Backpropagation through a Dense network multiplies the gradient, once per hidden layer, by the
activation's derivative f'(z) (and by a transposed kernel)::

    ∂L/∂z_l = (∂L/∂z_{l+1} · W_{l+1}ᵀ) ⊙ f'(z_l)

With the sigmoid, f'(z) ≤ 0.25, so between the output layer and the first hidden layer of a
network with L hidden layers the derivative factors multiply to at most 0.25^L. The lab measures
what that does: the L2 norm of every kernel's gradient ‖∂L/∂W_l‖ on a fixed probe batch, at
initialisation and after every epoch, and the ratio first/last = ‖∂L/∂W_1‖ / ‖∂L/∂W_{L+1}‖
(first hidden layer over the output layer: L derivative factors apart). Then it trains with
plain SGD and records whether the network learns at all.

:func:`trial` is one network, a pure function of its JSON-able configuration (same configuration
→ bit-identical result, apart from the ``timings`` entry). :func:`trial_group` gives the same
records for several seeds, initializers and activations of one depth, trained at once as a
:class:`~descentlab.population.Population` — batched matrix products instead of one network at
a time; bit for bit :func:`trial`'s records in float32 (to rounding in float64).
:func:`run_grid` trains each depth's networks as populations, in parallel with
:func:`descentlab.lab.runner.run_trials`, and summarises the grid.

Results schema ``descentlab.vanishing/1`` (what :func:`run_grid` returns and :func:`save_results`
writes; every number is a JSON number, non-finite values are ``null``)::

    {
      "schema": "descentlab.vanishing/1",
      "library": {"name": "descentlab", "version": "0.1.0"},
      "configuration": {                    # the grid
        "activations": ["sigmoid", ...], "depths": [1, 3, 5, 10],
        "initializers": ["glorot_uniform"], "seeds": [0, 1, 2],
        "base": {<trial configuration shared by all trials, see below>},
        "stuck_margin": 0.05, "workers": 2, "floatx": "float32"
      },
      "trials": [<trial result>, ...],      # in grid order: activation, initializer, depth, seed
      "summary": [                          # one record per activation × initializer × depth
        {"activation": "sigmoid", "initializer": "glorot_uniform", "depth": 5,
         "seeds": [0, 1, 2], "chance": 0.1,
         "final_test_accuracy": {"mean": .., "std": .., "min": .., "max": .., "values": [..]},
         "best_test_accuracy": {"mean": .., "std": .., "min": .., "max": .., "values": [..]},
         "final_train_loss_mean": ..,
         "ratio_init_geomean": ..,          # geometric mean over seeds of first/last at init
         "ratio_final_geomean": ..,         # the same after the last epoch
         "sigmoid_bound": 0.25 ** depth,    # σ' ≤ 0.25, once per hidden layer
         "stuck_fraction": ..,              # share of seeds whose final accuracy ≤ chance + margin
         "stuck_at_chance": true,           # mean final accuracy ≤ chance + margin
         "diverged": 0}                     # seeds whose loss became NaN/inf
      ],
      "trends": [                           # least-squares fit log10(ratio_init) ≈ a + b·depth
        {"activation": "sigmoid", "initializer": "glorot_uniform",
         "ratio_factor_per_layer": 10**b}   # sigmoid: about 0.25 (geometric decay)
      ],
      "timings": {"total_seconds": .., "trial_seconds_sum": ..}
    }

A trial configuration (all keys, with defaults from :data:`DEFAULT_CONFIG`)::

    {"activation": "sigmoid", "depth": 5, "width": 32, "initializer": "glorot_uniform",
     "seed": 0, "epochs": 30, "batch_size": 32, "learning_rate": 0.1, "optimizer": "sgd",
     "dataset": "digits", "test_size": 0.25, "standardize": false, "probe_size": 256,
     "floatx": "float32", "batch_norm": false}

A trial result::

    {"config": {...},                       # the configuration, defaults filled in
     "library_version": "0.1.0",
     "data": {"dataset": "digits", "train_samples": 1347, "test_samples": 450, "features": 64,
              "classes": 10, "probe_samples": 256, "fingerprint": "sha256:..."},
     "chance": 0.1,                         # 1 / classes
     "majority_rate": ..,                   # share of the most frequent class in the test set
     "layers": ["dense", "dense_1", ...],   # depth hidden layers, then the softmax output layer
     "grad_norms": {"init": [‖∂L/∂W_l‖ per layer],
                    "epochs": [[per layer] after epoch 1, ...]},
     "ratio_first_last": {"init": .., "epochs": [..]},
     "mean_derivative_init": [mean f'(z) over the probe batch, per hidden layer],
     "history": {"loss": [..], "accuracy": [..],           # training, running mean over an epoch
                 "test_loss": [..], "test_accuracy": [..]}, # after each epoch
     "final": {"train_loss": .., "train_accuracy": .., "test_loss": .., "test_accuracy": ..,
               "best_test_accuracy": ..},
     "stuck_at_chance": bool, "diverged": bool, "epochs_run": 30,
     "timings": {"total_seconds": .., "train_seconds": .., "measure_seconds": ..}}
                                            # (from trial_group/run_grid: this member's share
                                            # of its population's seconds)

The probe batch is the first ``probe_size`` samples of the (seeded, shuffled) training set; the
gradients on it are computed in inference mode and change no weight.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

import descentlab
from descentlab import activations as activations_module
from descentlab import datasets
from descentlab.callbacks import Callback
from descentlab.errors import ConfigError
from descentlab.lab import runner
from descentlab.lab.networks import check_size, dense_stack
from descentlab.lab.runner import default_workers, run_trials
from descentlab.layers import Activation, Dense
from descentlab.models import Sequential
from descentlab.optimizers import SGD
from descentlab.population import Population, seeded

SCHEMA = "descentlab.vanishing/1"

#: Every key a trial configuration may have, with its default.
DEFAULT_CONFIG: dict[str, Any] = {
    "activation": "sigmoid",
    "depth": 5,  # hidden layers
    "width": 32,
    "initializer": "glorot_uniform",
    "seed": 0,
    "epochs": 30,
    "batch_size": 32,
    "learning_rate": 0.1,
    "optimizer": "sgd",  # plain SGD, no momentum: the chapter's setting
    "dataset": "digits",
    "test_size": 0.25,
    "standardize": False,
    "probe_size": 256,
    "floatx": "float32",
    "batch_norm": False,  # Dense → BatchNormalization → activation in every hidden layer
}

#: The default grid. Depths 1, 3, 5, 10: sigmoid trains at 1, is in transition at 3 and stays at
#: chance from 5 on, while tanh and relu still train at 10.
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus")
DEFAULT_DEPTHS = (1, 3, 5, 10)
DEFAULT_INITIALIZERS = ("glorot_uniform",)
DEFAULT_SEEDS = (0, 1, 2)

#: The deepest network the grid builds: ten times the chapter's deepest experiment and more
#: than a NumPy run can train in a session; a larger depth is a typo.
MAX_DEPTH = 1000

#: A network counts as stuck at chance when its test accuracy is at most 1/classes + this.
STUCK_MARGIN = 0.05

#: σ'(z) ≤ 0.25: the most one sigmoid layer can multiply a gradient by.
SIGMOID_MAX_DERIVATIVE = 0.25


# ---------------------------------------------------------------------------------------------
# JSON helpers
# ---------------------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    """A float for JSON: NaN and ±inf become ``None`` (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(values: Iterable[Any]) -> list[float | None]:
    return [_number(v) for v in values]


def _ratio(first: float, last: float) -> float | None:
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return None
    return first / last


# ---------------------------------------------------------------------------------------------
# One trial
# ---------------------------------------------------------------------------------------------
def make_config(**overrides: Any) -> dict[str, Any]:
    """A full trial configuration: :data:`DEFAULT_CONFIG` with ``overrides`` applied."""
    unknown = sorted(set(overrides) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError(f"unknown trial setting(s) {unknown}; valid settings are "
                          f"{', '.join(DEFAULT_CONFIG)}.")
    config = dict(DEFAULT_CONFIG)
    config.update(overrides)
    for key in ("depth", "width", "epochs", "batch_size", "probe_size"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{key} must be a positive integer; got {value!r}.")
        config[key] = int(value)
    if config["optimizer"] != "sgd":
        raise ConfigError(f"the vanishing-gradient lab trains with plain SGD (optimizer 'sgd'); "
                          f"got {config['optimizer']!r}.")
    return config


def _load(config: dict[str, Any], data: tuple[Any, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    if data is not None:
        x, y = data
        return np.asarray(x, dtype=np.float64), np.asarray(y)
    return datasets.load(config["dataset"], seed=config["seed"])


def _fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (x, y):
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def build_model(config: dict[str, Any], features: int, classes: int) -> Sequential:
    """``depth`` × Dense(width, activation, kernel_initializer), then Dense(classes, softmax),
    compiled with plain SGD and sparse categorical cross-entropy. With ``batch_norm`` each
    hidden layer is Dense(width) → BatchNormalization() → Activation(activation): the remedy
    that keeps every pre-activation near zero mean and unit variance, where f' is largest."""
    model = dense_stack(features, [config["width"]] * config["depth"], classes, "softmax",
                        activation=config["activation"],
                        kernel_initializer=config["initializer"],
                        batch_norm=bool(config.get("batch_norm")),
                        name=f"{config['activation']}_{config['depth']}")
    model.compile(optimizer=SGD(learning_rate=config["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def kernel_gradient_norms(model: Sequential, x: np.ndarray, y: np.ndarray) -> list[float]:
    """‖∂L/∂W‖₂ (Frobenius norm) of every Dense kernel on the batch ``(x, y)``; no update."""
    _, grads = model.compute_gradients(x, y)
    return [float(np.linalg.norm(grads[k])) for k in _kernel_positions(model)]


def _kernel_positions(model: Sequential) -> list[int]:
    """Where each Dense kernel is among the model's trainable weights (a Dense layer's
    kernel comes first, its bias after; BatchNormalization's γ and β are trainable too)."""
    positions, k = [], 0
    for layer in model.layers:
        if isinstance(layer, Dense):
            positions.append(k)
        k += len(layer.trainable_weights)
    return positions


class _EpochProbe(Callback):
    """After every epoch: kernel gradient norms on the probe batch and test loss/accuracy."""

    def __init__(self, probe: tuple[np.ndarray, np.ndarray],
                 test: tuple[np.ndarray, np.ndarray]) -> None:
        super().__init__()
        self.probe, self.test = probe, test
        self.record = _Record()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.record.measure(self.model, self.probe, self.test)


class _Record:
    """One network's measurements after each epoch, and the seconds they took."""

    def __init__(self) -> None:
        self.grad_norms: list[list[float]] = []
        self.test_loss: list[float] = []
        self.test_accuracy: list[float] = []
        self.seconds = 0.0

    def add(self, norms: list[float], test: dict[str, float], seconds: float) -> None:
        self.grad_norms.append(norms)
        self.test_loss.append(test["loss"])
        self.test_accuracy.append(test["accuracy"])
        self.seconds += seconds

    def measure(self, model: Sequential, probe: tuple[np.ndarray, np.ndarray],
                test: tuple[np.ndarray, np.ndarray]) -> None:
        started = time.perf_counter()
        norms = kernel_gradient_norms(model, *probe)
        result = model.evaluate(test[0], test[1], batch_size=len(test[0]), verbose=0,
                                return_dict=True)
        self.add(norms, result, time.perf_counter() - started)


class _Data:
    """A trial's data: its seeded split, the probe batch, and what the result says of them."""

    def __init__(self, config: dict[str, Any], data: tuple[Any, Any] | None) -> None:
        x, y = _load(config, data)
        self.fingerprint = _fingerprint(x, y)
        self.x_train, self.x_test, self.y_train, self.y_test = datasets.train_test_split(
            x, y, test_size=config["test_size"], seed=config["seed"])
        if config["standardize"]:
            self.x_train, self.x_test = datasets.standardize(self.x_train, self.x_test)
        self.features = int(x.shape[1])
        self.classes = int(len(np.unique(y)))
        size = config["probe_size"]
        self.probe = (self.x_train[:size], self.y_train[:size])
        self.describe = {
            "dataset": config["dataset"] if data is None else f"{config['dataset']} (arrays)",
            "train_samples": int(len(self.x_train)), "test_samples": int(len(self.x_test)),
            "features": self.features, "classes": self.classes,
            "probe_samples": int(len(self.probe[0])), "fingerprint": self.fingerprint}


def _new_model(config: dict[str, Any], data: _Data) -> Sequential:
    """The trial's network, seeded by its configuration: ``set_random_seed(seed)`` (which also
    fixes the stream its fit will shuffle with) and layer names counted from "dense" (names
    count across the process, as in Keras; a record names its layers as a fresh process would)."""
    descentlab.set_random_seed(config["seed"])
    descentlab.backend.clear_session()
    return build_model(config, data.features, data.classes)


def _initial_measurements(model: Sequential, config: dict[str, Any],
                          probe: tuple[np.ndarray, np.ndarray]) -> tuple[list[float],
                                                                          list[float]]:
    """At initialisation: the kernel gradient norms on the probe batch, and the mean f'(z) of
    every hidden activation over it."""
    norms = kernel_gradient_norms(model, *probe)
    mean_derivative = []
    # The probe's forward pass is still in the layers: f' at each hidden activation's input
    # (the Dense layer's z, or with batch_norm the normalised z of the Activation layer).
    hidden = [layer for layer in model.layers[:-1]
              if isinstance(layer, Activation) or not config["batch_norm"]]
    for layer in hidden:
        derivative = activations_module.get(config["activation"]).derivative(
            layer.preactivation)
        mean_derivative.append(float(np.mean(derivative, dtype=np.float64)))
    return norms, mean_derivative


def trial(config: dict[str, Any], data: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Train and measure one network; see the module docstring for the result's keys.

    ``config`` holds any keys of :data:`DEFAULT_CONFIG` (the rest take their defaults).
    ``data=(x, y)`` trains on those arrays instead of the built-in set named by
    ``config["dataset"]`` (which then only labels the result; a fingerprint of the arrays is
    recorded). Everything random comes from ``config["seed"]`` (the trial calls
    ``descentlab.set_random_seed(seed)``, so it reseeds the global generator): the same
    configuration and data give a bit-identical result, ``timings`` aside.

    This is the one-network path, ``Sequential.fit`` with a callback; :func:`trial_group`
    trains several seeds at once as a population and gives each the same result (the tests
    hold the two equal).
    """
    started = time.perf_counter()
    config = make_config(**config)
    with _floatx(config["floatx"]):
        prepared = _Data(config, data)
        model = _new_model(config, prepared)
        # Overflow in a diverging network is recorded (``diverged``), not printed as warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            measure_started = time.perf_counter()
            initial = _initial_measurements(model, config, prepared.probe)
            measure_seconds = time.perf_counter() - measure_started
            epoch_probe = _EpochProbe(prepared.probe, (prepared.x_test, prepared.y_test))
            fit_started = time.perf_counter()
            history = model.fit(prepared.x_train, prepared.y_train, epochs=config["epochs"],
                                batch_size=config["batch_size"], verbose=0,
                                callbacks=[epoch_probe], on_divergence="stop")
            fit_seconds = time.perf_counter() - fit_started
    record = epoch_probe.record
    return _result(config, prepared, model, initial, history.history, record, {
        "total_seconds": time.perf_counter() - started,
        "train_seconds": fit_seconds - record.seconds,
        "measure_seconds": measure_seconds + record.seconds})


#: What the members of one population may differ in; everything else is one architecture.
_MEMBER_KEYS = ("seed", "initializer", "activation")


def _architecture_key(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _MEMBER_KEYS}


def trial_group(configs: Sequence[dict[str, Any]],
                data: tuple[Any, Any] | None = None) -> list[dict[str, Any]]:
    """:func:`trial` of every configuration in ``configs`` — which may differ only in seed,
    initializer and activation — trained at once as one
    :class:`~descentlab.population.Population`.

    Each member has its own split of the data (the seed's), its own initial weights, shuffling
    and activation; the members' steps are batched matrix products, the per-epoch measurements
    one batched gradient on the probes and one batched evaluation for all. Each result is the
    one :func:`trial` gives for that configuration (bit for bit in float32; float64 within
    1e-10); the ``timings`` are each member's share of the population's.
    """
    started = time.perf_counter()
    configs = [make_config(**config) for config in configs]
    if not configs:
        return []
    shared = _architecture_key(configs[0])
    for config in configs[1:]:
        if _architecture_key(config) != shared:
            raise ConfigError("trial_group trains one architecture: its configurations may "
                              f"differ only in {', '.join(_MEMBER_KEYS)}; got {configs[0]} "
                              f"and {config}.")
    members = len(configs)
    with _floatx(shared["floatx"]):
        splits: dict[int, _Data] = {}  # the members of one seed share its split of the data
        for config in configs:
            if config["seed"] not in splits:
                splits[config["seed"]] = _Data(config, data)
        prepared = [splits[config["seed"]] for config in configs]
        models = []
        for config, part in zip(configs, prepared, strict=True):
            descentlab.backend.clear_session()  # each record names its layers from "dense"
            models.append(seeded(functools.partial(build_model, config, part.features,
                                                   part.classes), config["seed"]))
        records = [_Record() for _ in configs]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            measure_started = time.perf_counter()
            initial = [_initial_measurements(model, config, part.probe)
                       for model, config, part in zip(models, configs, prepared, strict=True)]
            measure_seconds = time.perf_counter() - measure_started
            population = Population(models)
            # In the engine's precision once, not converted anew at every epoch's measurement
            # (the same numbers: its data checks convert each call the same way).
            dtype = models[0].dtype
            test = (np.stack([p.x_test for p in prepared]).astype(dtype),
                    np.stack([p.y_test for p in prepared]).astype(dtype))
            probes = (np.stack([p.probe[0] for p in prepared]).astype(dtype),
                      np.stack([p.probe[1] for p in prepared]).astype(dtype))
            kernels = _kernel_positions(models[0])

            def measure(epoch: int, logs: dict[int, dict[str, float]]) -> None:
                tick = time.perf_counter()
                results = population.evaluate(*test, batch_size=test[0].shape[1],
                                              return_dict=True)
                # Every member's probe gradients in one batched pass (each member's are those
                # of its network alone, bit for bit); the members still training are recorded.
                _, grads = population.compute_gradients(*probes)
                seconds = (time.perf_counter() - tick) / len(logs)
                for k in logs:
                    norms = [float(np.linalg.norm(grads[j][k])) for j in kernels]
                    records[k].add(norms, results[k], seconds)

            fit_started = time.perf_counter()
            histories = population.fit(np.stack([p.x_train for p in prepared]),
                                       np.stack([p.y_train for p in prepared]),
                                       epochs=shared["epochs"],
                                       batch_size=shared["batch_size"], on_epoch_end=measure)
            # A member that diverged left the population mid-epoch; as fit(on_divergence=
            # "stop") it is measured once more, as it was when it stopped.
            for k in population.diverged:
                part = prepared[k]
                records[k].measure(population.models[k], part.probe, (part.x_test, part.y_test))
            fit_seconds = time.perf_counter() - fit_started
    measured = sum(record.seconds for record in records)
    total = time.perf_counter() - started
    return [_result(config, part, model, first, history.history, record, {
        "total_seconds": total / members,
        "train_seconds": (fit_seconds - measured) / members,
        "measure_seconds": measure_seconds / members + record.seconds})
        for config, part, model, first, history, record in zip(
            configs, prepared, population.models, initial, histories, records, strict=True)]


def _run_group(spec: dict[str, Any], data: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """:func:`trial_group` as a runner trial (one JSON-able configuration in, a dict out)."""
    return {"trials": trial_group(spec["configs"], data)}


class _floatx:
    """``with _floatx("float64"):`` the engine's precision for a block, restored after."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.previous = descentlab.floatx()
        descentlab.set_floatx(self.name)

    def __exit__(self, *exc: object) -> None:
        descentlab.set_floatx(self.previous)


def _result(config: dict[str, Any], data: _Data, model: Sequential,
            initial: tuple[list[float], list[float]], history: dict[str, list[float]],
            record: _Record, timings: dict[str, float]) -> dict[str, Any]:
    """A trial's record (the module docstring's "trial result")."""
    init_norms, mean_derivative = initial
    losses = history.get("loss", [])
    diverged = any(not math.isfinite(v) for v in losses)
    chance = 1.0 / data.classes
    test_accuracy = record.test_accuracy
    final_test_accuracy = test_accuracy[-1] if test_accuracy else float("nan")
    counts = np.bincount(np.asarray(data.y_test, dtype=np.int64))
    epoch_norms = record.grad_norms
    return {
        "config": config,
        "library_version": descentlab.__version__,
        "data": data.describe,
        "chance": chance,
        "majority_rate": float(counts.max() / counts.sum()),
        "layers": [layer.name for layer in model.layers],
        "grad_norms": {"init": _numbers(init_norms),
                       "epochs": [_numbers(norms) for norms in epoch_norms]},
        "ratio_first_last": {"init": _ratio(init_norms[0], init_norms[-1]),
                             "epochs": [_ratio(n[0], n[-1]) for n in epoch_norms]},
        "mean_derivative_init": _numbers(mean_derivative),
        "history": {"loss": _numbers(losses),
                    "accuracy": _numbers(history.get("accuracy", [])),
                    "test_loss": _numbers(record.test_loss),
                    "test_accuracy": _numbers(test_accuracy)},
        "final": {"train_loss": _number(losses[-1]) if losses else None,
                  "train_accuracy": _number(history["accuracy"][-1]) if losses else None,
                  "test_loss": _number(record.test_loss[-1]) if losses else None,
                  "test_accuracy": _number(final_test_accuracy),
                  "best_test_accuracy": _number(max(test_accuracy)) if test_accuracy else None},
        "stuck_at_chance": bool(not final_test_accuracy > chance + STUCK_MARGIN),
        "diverged": diverged,
        "epochs_run": len(losses),
        "timings": timings,
    }


def without_timings(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` minus its ``timings`` (the only entry that differs between identical runs)."""
    return {k: v for k, v in result.items() if k != "timings"}


# ---------------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------------
def grid_configs(activations: Sequence[str] = DEFAULT_ACTIVATIONS,
                 depths: Sequence[int] = DEFAULT_DEPTHS,
                 initializers: Sequence[str] = DEFAULT_INITIALIZERS,
                 seeds: Sequence[int] = DEFAULT_SEEDS,
                 **base: Any) -> list[dict[str, Any]]:
    """One full trial configuration per activation × initializer × depth × seed (in that
    nesting order); ``base`` sets the other keys of :data:`DEFAULT_CONFIG`."""
    for key in ("activation", "depth", "initializer", "seed"):
        if key in base:
            raise ConfigError(f"{key!r} is a grid axis; pass {key}s=[...] instead.")
    for axis, values in (("activations", activations), ("depths", depths),
                         ("initializers", initializers), ("seeds", seeds)):
        if len(values) == 0:
            raise ConfigError(f"{axis} is empty: the grid needs at least one value on each "
                              "axis.")
        if len(set(values)) != len(values):  # the same trials twice, counted twice
            raise ConfigError(f"{axis} lists a value twice: {list(values)}.")
    for name in activations:  # an unknown or output-only name fails here, before any process
        activations_module.hidden(name)
    return [make_config(activation=a, initializer=i, depth=int(d), seed=int(s), **base)
            for a in activations for i in initializers for d in depths for s in seeds]


def _stats(values: list[float | None]) -> dict[str, Any]:
    finite = np.array([v for v in values if v is not None], dtype=np.float64)
    if finite.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "values": values}
    return {"mean": float(finite.mean()), "std": float(finite.std()),
            "min": float(finite.min()), "max": float(finite.max()), "values": values}


def _geomean(values: list[float | None]) -> float | None:
    positive = [v for v in values if v is not None and v > 0]
    if not positive or len(positive) < len(values):
        return None
    return float(np.exp(np.mean(np.log(positive))))


def summarize(trials: Sequence[dict[str, Any]],
              stuck_margin: float = STUCK_MARGIN) -> tuple[list[dict], list[dict]]:
    """The ``summary`` and ``trends`` entries of the results (see the module docstring)."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for result in trials:
        c = result["config"]
        groups.setdefault((c["activation"], c["initializer"], c["depth"]), []).append(result)
    summary = []
    for (activation, initializer, depth), members in groups.items():
        chance = members[0]["chance"]
        final = [m["final"]["test_accuracy"] for m in members]
        accuracy = _stats(final)
        stuck = [v is None or v <= chance + stuck_margin for v in final]
        summary.append({
            "activation": activation, "initializer": initializer, "depth": depth,
            "seeds": [m["config"]["seed"] for m in members],
            "chance": chance,
            "final_test_accuracy": accuracy,
            "best_test_accuracy": _stats([m["final"]["best_test_accuracy"] for m in members]),
            "final_train_loss_mean": _stats([m["final"]["train_loss"] for m in members])["mean"],
            "ratio_init_geomean": _geomean([m["ratio_first_last"]["init"] for m in members]),
            "ratio_final_geomean": _geomean([
                (m["ratio_first_last"]["epochs"] or [None])[-1] for m in members]),
            "sigmoid_bound": SIGMOID_MAX_DERIVATIVE ** depth,
            "stuck_fraction": float(np.mean(stuck)),
            "stuck_at_chance": bool(accuracy["mean"] is None
                                    or accuracy["mean"] <= chance + stuck_margin),
            "diverged": int(sum(m["diverged"] for m in members)),
        })
    trends = []
    for activation, initializer in dict.fromkeys((s["activation"], s["initializer"])
                                                 for s in summary):
        rows = [s for s in summary if (s["activation"], s["initializer"]) == (activation,
                                                                               initializer)]
        points = [(s["depth"], math.log10(s["ratio_init_geomean"])) for s in rows
                  if s["ratio_init_geomean"]]
        factor = None
        if len({d for d, _ in points}) >= 2:
            slope = np.polyfit([d for d, _ in points], [r for _, r in points], 1)[0]
            factor = float(10.0 ** slope)
        trends.append({"activation": activation, "initializer": initializer,
                       "ratio_factor_per_layer": factor})
    return summary, trends


def populations(configs: Sequence[dict[str, Any]], workers: int = 1,
                ) -> list[list[dict[str, Any]]]:
    """The trials of ``configs`` as the populations :func:`run_grid` trains: those of one
    depth (of one architecture) together — all activations, initializers and seeds —, a whole
    population costing less than its parts. Split in parts of near-equal size where that keeps
    ``workers`` busy: every depth when there are fewer depths than workers (one part per worker
    and depth); with more depths than workers, the cheapest one — trained last, when the other
    workers may have run out of work — in one part per worker, so that they finish together.
    A trial's record does not depend on its population (each member is its own network, bit
    for bit), so neither do the results."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for config in configs:
        groups.setdefault(repr(_architecture_key(config)), []).append(config)
    workers = int(workers)
    split = {key: workers if len(groups) < workers else 1 for key in groups}
    if len(groups) > workers > 1:
        split[min(groups, key=lambda key: _cost(groups[key]))] = workers
    parts = []
    for key, group in groups.items():
        count = max(1, min(split[key], len(group)))
        size, extra = divmod(len(group), count)
        start = 0
        for i in range(count):
            end = start + size + (1 if i < extra else 0)
            parts.append(group[start:end])
            start = end
    return parts


def _cost(population: Sequence[dict[str, Any]]) -> int:
    """What a population's training costs, roughly: layers × members."""
    return (population[0]["depth"] + 1) * len(population)


def run_grid(activations: Sequence[str] = DEFAULT_ACTIVATIONS,
             depths: Sequence[int] = DEFAULT_DEPTHS,
             initializers: Sequence[str] = DEFAULT_INITIALIZERS,
             seeds: Sequence[int] = DEFAULT_SEEDS,
             epochs: int = 30, width: int = 32, batch_size: int = 32,
             learning_rate: float = 0.1, dataset: str = "digits", test_size: float = 0.25,
             standardize: bool = False, probe_size: int = 256, floatx: str = "float32",
             batch_norm: bool = False,
             data: tuple[Any, Any] | None = None, stuck_margin: float = STUCK_MARGIN,
             workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Train every activation × initializer × depth × seed network and summarise.

    ``dataset`` names a built-in set (``descentlab.datasets.names()``), or labels the arrays
    given as ``data=(x, y)``. Trials run in parallel (``workers``, default one per core) and
    come back in grid order. Returns the ``descentlab.vanishing/1`` dict of the module docstring.
    """
    started = time.perf_counter()
    if workers is None:
        workers = default_workers()
    base = {"epochs": epochs, "width": width, "batch_size": batch_size,
            "learning_rate": learning_rate, "dataset": dataset, "test_size": test_size,
            "standardize": standardize, "probe_size": probe_size, "floatx": floatx,
            "batch_norm": bool(batch_norm)}
    configs = grid_configs(activations, depths, initializers, seeds, **base)
    deepest = max((int(d) for d in depths), default=1)
    if deepest > MAX_DEPTH:
        raise ConfigError(f"depths must be at most {MAX_DEPTH} hidden layers; got {deepest}.")
    # An unknown data set name, or a network too large to build, fails here, before any
    # process starts.
    x, y = data if data is not None else datasets.load(dataset)
    check_size(np.shape(x)[1], [int(width)] * deepest, len(np.unique(y)))
    function = functools.partial(_run_group, data=data)
    # The costliest populations first, the cheapest one's parts last: the workers then end
    # together (the results come back in grid order whatever order they ran in).
    # (In a shared pool the other experiments fill the workers: a depth stays whole.)
    parts = 1 if runner.sharing() else workers
    specs = sorted(({"configs": group} for group in populations(configs, parts)),
                   key=lambda spec: -_cost(spec["configs"]))
    ran = run_trials(function, specs, workers=workers, progress=progress,
                     label="vanishing gradients")
    by_config = {repr(r["config"]): r for result in ran for r in result["trials"]}
    trials = [by_config[repr(config)] for config in configs]  # in grid order
    summary, trends = summarize(trials, stuck_margin)
    return {
        "schema": SCHEMA,
        "library": {"name": "descentlab", "version": descentlab.__version__},
        "configuration": {"activations": list(activations), "depths": [int(d) for d in depths],
                          "initializers": list(initializers), "seeds": [int(s) for s in seeds],
                          "base": make_config(**base), "stuck_margin": stuck_margin,
                          "workers": workers, "floatx": floatx},
        "trials": trials,
        "summary": summary,
        "trends": trends,
        "timings": {"total_seconds": time.perf_counter() - started,
                    "trial_seconds_sum": float(sum(r["timings"]["total_seconds"]
                                                   for r in trials))},
    }


def find_summary(results: dict[str, Any], activation: str, depth: int,
                 initializer: str | None = None) -> dict[str, Any]:
    """The summary record of one activation × depth (× initializer, default: the first)."""
    initializer = initializer or results["configuration"]["initializers"][0]
    for record in results["summary"]:
        if (record["activation"], record["depth"], record["initializer"]) == (
                activation, depth, initializer):
            return record
    raise ConfigError(f"no summary for {activation} × depth {depth} × {initializer} in these "
                      "results.")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def save_results(results: dict[str, Any], path: str | os.PathLike[str]) -> str:
    """Write ``results`` as JSON to ``path`` atomically (a temporary file, then os.replace)."""
    from descentlab.lab.results import save_json

    return save_json(results, path)


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Results written by :func:`save_results` (any ``descentlab.*`` schema)."""
    from descentlab.lab.results import load_json

    results = load_json(path)
    if not isinstance(results, dict) or \
            not str(results.get("schema", "")).startswith("descentlab."):
        raise ConfigError(f"{os.fspath(path)!r} holds no descentlab results (no schema field).")
    return results
