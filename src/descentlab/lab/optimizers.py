"""The optimizer lab on data: gradient descent, its cost, and the fixes, measured (chapter 9.2).

Every optimizer trains the same network from the same initial weights (one set per seed) on the
same split; each trial is a seeded function of its configuration alone. After every update the
*full* training loss is measured (a forward pass on all training samples, not counted as a
gradient evaluation), so that costs can be read off at update granularity:

* **updates** — optimizer steps taken;
* **gradient evaluations** — samples whose gradient was computed (batch size per update: a
  full-batch GD update costs the whole training set, an SGD update one mini-batch) — the
  chapter's cost argument;
* **seconds** — wall-clock time spent in training steps only (evaluation excluded); trained in
  a population, each member's share of its population's step time (below).

How the trials are trained: :func:`run` and :func:`tune` group the trials that can share a
:class:`~descentlab.population.Population` (:func:`population_key`: the same network, data,
epochs, batch size and optimizer class and switches; members differ in seed, learning rate and
optimizer constants — SGD and momentum share one, a learning-rate schedule other than
"constant" is shared only by trials of one rate) and train each group in lockstep
(:func:`population_trials`): member k takes its own mini-batch from its own seed's order, one
batched ``evaluate`` gives every member's full training loss after each update, and a member
whose loss becomes NaN/inf is recorded as diverged and leaves while the others go on. The
groups are what the runner spreads over cores, so the results do not depend on the number of
workers. :func:`trial` trains one network alone, the same way: it is the reference the tests
hold every member to (float64: equal to rtol 1e-10; float32: to float32 rounding, since
members whose optimizer constants differ compute those products in float64).

Learning rates (``lr_mode``):

* ``"book"`` (default) — the settings of the textbook's table of optimizers (모두의 딥러닝,
  chapter 9: SGD 0.1; momentum 0.9; NAG; Adagrad 0.01; RMSprop 0.001, ρ 0.9; Adam 0.001),
  with AdamW and Nadam at Adam's settings and full-batch GD at SGD's;
* ``"shared"`` — one learning rate for every optimizer;
* ``"tuned"`` — per optimizer, the rate of a log grid (:data:`TUNING_GRID`, half-decades from
  1e-4 to 1) with the lowest final training loss after ``tune_epochs`` epochs on the first seed;
  the grid and the winners are written into the results.

Results (``"schema": "descentlab.optimizers/1"``), all plain JSON::

    {
      "schema": "descentlab.optimizers/1",
      "version": str,                        # descentlab version
      "config": {dataset, hidden, activation, epochs, batch_size, seeds, optimizers,
                 lr_mode, schedule, learning_rates: {name: lr}, target_loss, validation_fraction,
                 split_seed, tuning: {grid, epochs, losses: {name: [loss per grid value]}}?},
      "trials": [ {                          # one per optimizer × seed
          "config": {...},                   # everything trial() needs, nothing else
          "updates":      [int, ...],        # per update k = 1..K: updates so far
          "evaluations":  [int, ...],        # gradient evaluations so far
          "seconds":      [float, ...],      # training seconds so far: the member's share of
                                             # its population's step time (step / members)
          "train_loss":   [float, ...],      # full training loss after update k
          "batch_loss":   [float, ...],      # the loss of the batch update k was computed on
          "initial_loss": float,             # full training loss before any update
          "epochs": {"train_loss", "train_accuracy", "val_loss", "val_accuracy",
                     "updates", "evaluations", "seconds"}: lists, one entry per epoch,
          "diverged": bool,
          "seconds_total": float } ],        # its share of its population's whole time
      "summary": {name: {final_train_loss, final_val_accuracy, ... mean and std over seeds,
                         updates_to_target, evaluations_to_target, seconds_to_target (mean; None
                         if a seed never reached it), reached (seeds that did), fluctuation,
                         uphill_fraction}},
      "claims": [ {"id", "holds": bool | None, "evidence": {...}, "en": str, "ko": str} ],
      "zigzag": {"surface", "sgd_sign_changes", "momentum_sign_changes", "steps", ...},
      "timings": {"total_seconds": float, "workers": int}
    }

``fluctuation`` is the standard deviation of the step-to-step changes of the full training loss
(the chapter's "SGD's amplitude is larger", as a number); ``uphill_fraction`` is the share of
updates after which the full training loss was higher than before.

The fair comparison (:func:`sensitivity`): the table above is judged at the book's learning
rates, where Adam at 0.001 loses to SGD at 0.1. :func:`sensitivity` asks instead how each
optimizer's result depends on its learning rate: per optimizer, one population of rates × seeds
trained with ``Population.fit`` (``"schema": "descentlab.sensitivity/1"``)::

    {
      "schema": "descentlab.sensitivity/1", "version": str,
      "config": {dataset, hidden, activation, epochs, batch_size, validation_fraction,
                 split_seed, seeds, optimizers, rates (ascending), good_factor},
      "optimizers": {name: {
          "label": str, "book_rate": float,   # the rate of the book's table
          "train_loss":   [[float | None per seed] per rate],   # the last epoch's training loss
          "val_accuracy": [[float | None per seed] per rate],   # (fit's history); None: diverged
          "diverged":     [[bool per seed] per rate],
          "diverged_seeds": [int per rate],
          "mean_train_loss", "std_train_loss", "mean_val_accuracy", "std_val_accuracy":
              [float | None per rate],        # over seeds; None where a seed diverged
          "best_index": int | None,           # the lowest mean training loss (ties: the smaller
          "best_rate", "best_train_loss", "best_train_loss_std", "best_val_accuracy",
          "best_val_accuracy_std": float | None,            # rate); None if every rate diverged
          "best_at_edge": bool,               # the best is the grid's first or last rate
          "good": [bool per rate],            # the range of good rates (below)
          "good_low", "good_high": float | None, "good_decades": float | None,
          "good_count": int,
          "book_index": int | None,           # where the book's rate is in the grid, if it is
          "book_train_loss": float | None, "book_good": bool | None,
          "seconds": float } },               # the population's training time
      "timings": {"total_seconds": float, "workers": int}
    }

The *range of good rates* is the run of consecutive grid rates around the best whose mean final
training loss is at most ``good_factor`` (default 2) times the best one's, with no seed
diverged; its width is log₁₀(high / low) decades (0 when the best rate stands alone).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from descentlab.errors import ConfigError, TrainingDiverged, did_you_mean
from descentlab.lab import runner
from descentlab.lab.networks import check_size

SCHEMA = "descentlab.optimizers/1"

#: The chapter's line-up, in the order of the book's table (GD first: the baseline of 9.2).
DEFAULT_OPTIMIZERS = ("gd", "sgd", "momentum", "nag", "adagrad", "rmsprop", "adam", "adamw",
                      "nadam")

#: What each name builds, with the textbook's table's settings (lr_mode="book").
SPECS: dict[str, dict[str, Any]] = {
    "gd": {"class_name": "SGD", "config": {"learning_rate": 0.1}, "full_batch": True},
    "sgd": {"class_name": "SGD", "config": {"learning_rate": 0.1}},
    "momentum": {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}},
    "nag": {"class_name": "SGD",
            "config": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}},
    "adagrad": {"class_name": "Adagrad", "config": {"learning_rate": 0.01, "epsilon": 1e-6}},
    "rmsprop": {"class_name": "RMSprop",
                "config": {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-8}},
    "adam": {"class_name": "Adam", "config": {"learning_rate": 0.001, "beta_1": 0.9,
                                              "beta_2": 0.999, "epsilon": 1e-8}},
    "adamw": {"class_name": "AdamW", "config": {"learning_rate": 0.001, "beta_1": 0.9,
                                                "beta_2": 0.999, "epsilon": 1e-8}},
    "nadam": {"class_name": "Nadam", "config": {"learning_rate": 0.001, "beta_1": 0.9,
                                                "beta_2": 0.999, "epsilon": 1e-8}},
}

LABELS = {"gd": "GD (full batch)", "sgd": "SGD", "momentum": "Momentum", "nag": "NAG",
          "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW",
          "nadam": "Nadam"}

LR_MODES = ("book", "shared", "tuned")
#: Learning-rate schedules, each fitted to the run's length T (its number of updates):
#: step = ×0.1 after 50 % and again after 75 % of T; exponential and inverse-time (Keras 2's
#: ``decay=``) both end at a tenth of the initial rate; cosine decays to 0 at T.
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
#: The tuning grid: 1e-4 … 1 in half-decades (9 values).
TUNING_GRID = tuple(float(10 ** (e / 2)) for e in range(-8, 1))

SENSITIVITY_SCHEMA = "descentlab.sensitivity/1"
#: The learning rates of :func:`sensitivity` by default: 1e-3 … 1 in half-decades (7 values).
SENSITIVITY_RATES = tuple(float(10 ** (e / 2)) for e in range(-6, 1))
#: The optimizers of :func:`sensitivity` by default: the mini-batch ones (at equal epochs,
#: full-batch GD makes one update per epoch; its cost is the subject of the first claims).
SENSITIVITY_OPTIMIZERS = tuple(n for n in DEFAULT_OPTIMIZERS if n != "gd")
#: A learning rate is *good* when its mean final training loss is at most this many times the
#: best rate's (and no seed diverged there).
GOOD_FACTOR = 2.0


def check_optimizers(names: Sequence[str]) -> list[str]:
    names = [str(n).strip().lower() for n in names]
    if not names:
        raise ConfigError(f"give at least one optimizer; valid names are {', '.join(SPECS)}.")
    for name in names:
        if name not in SPECS:
            raise ConfigError(f"Unknown optimizer {name!r} for the optimizer lab. "
                              f"{did_you_mean(name, list(SPECS))}")
    if len(set(names)) != len(names):
        raise ConfigError(f"optimizer list has duplicates: {', '.join(names)}.")
    return names


def _load(dataset: str, split_seed: int, validation_fraction: float):
    """A built-in set by name or a CSV path, split into training and validation parts."""
    from descentlab import datasets

    x, y, _ = datasets.load_classification(dataset, seed=split_seed)
    return datasets.train_test_split(x, y, test_size=validation_fraction, seed=split_seed,
                                     name="validation_fraction")


def make_schedule(kind: str, learning_rate: float, total_updates: int):
    """The learning rate (a float for "constant") or a Keras-semantics schedule over T updates."""
    from descentlab import schedules

    t_total = max(int(total_updates), 1)
    if kind == "constant":
        return float(learning_rate)
    if kind == "step":
        return schedules.PiecewiseConstantDecay(
            [t_total // 2, (3 * t_total) // 4],
            [learning_rate, learning_rate / 10, learning_rate / 100])
    if kind == "exponential":
        return schedules.ExponentialDecay(learning_rate, decay_steps=t_total, decay_rate=0.1)
    if kind == "inverse_time":
        return schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=9 / t_total)
    if kind == "cosine":
        return schedules.CosineDecay(learning_rate, decay_steps=t_total)
    raise ConfigError(f"Unknown schedule {kind!r}; valid schedules are {', '.join(SCHEDULES)}.")


def _optimizer(config: dict, total_updates: int):
    """The engine optimizer of ``config``: its name's settings, its learning rate or schedule."""
    from descentlab import optimizers

    spec = SPECS[config["optimizer"]]
    rate = make_schedule(config.get("schedule", "constant"), float(config["learning_rate"]),
                         total_updates)
    return optimizers.deserialize({"class_name": spec["class_name"],
                                   "config": dict(spec["config"], learning_rate=rate)})


def _network(config: dict, input_dim: int, classes: int, total_updates: int = 1,
             metrics: Sequence[str] | None = None):
    """The lab's network for ``config``, compiled and built, from the current random state."""
    from descentlab.lab.networks import dense_stack

    model = dense_stack(input_dim, config["hidden"], classes, "softmax",
                        activation=config["activation"])
    model.compile(optimizer=_optimizer(config, total_updates),
                  loss="sparse_categorical_crossentropy",
                  metrics=list(metrics) if metrics else None)
    model.build(input_dim)
    return model


def _build(config: dict, input_dim: int, classes: int, total_updates: int = 1):
    """:func:`_network` after ``set_random_seed(config["seed"])``: the seed's initial weights."""
    import descentlab as dl

    dl.set_random_seed(int(config["seed"]))
    return _network(config, input_dim, classes, total_updates)


def _batch(config: dict, n: int) -> int:
    """Samples per update: all ``n`` for full-batch GD, else the configured batch size."""
    return n if SPECS[config["optimizer"]].get("full_batch", False) else int(config["batch_size"])


def _total_updates(config: dict, n: int) -> int:
    return int(config["epochs"]) * math.ceil(n / _batch(config, n))


def trial(config: dict) -> dict:
    """Train one optimizer from one seed, one network alone; returns the measurements
    documented above.

    ``config``: optimizer, learning_rate, seed, dataset, hidden, activation, epochs, batch_size,
    validation_fraction, split_seed, and optionally schedule (default "constant").
    Deterministic: the same config gives the same numbers (the ``seconds`` aside).

    This is the one-network path, kept as the oracle: :func:`run` and :func:`tune` train
    trials as populations (:func:`population_trials`), and the tests hold each member's
    results equal to this function's.
    """
    x_train, x_val, y_train, y_val = _load(config["dataset"], int(config["split_seed"]),
                                           float(config["validation_fraction"]))
    classes = int(max(y_train.max(), y_val.max())) + 1
    n = len(x_train)
    full = SPECS[config["optimizer"]].get("full_batch", False)
    size = _batch(config, n)
    model = _build(config, x_train.shape[1], classes, total_updates=_total_updates(config, n))
    x_train = x_train.astype(model.dtype)
    x_val = x_val.astype(model.dtype)
    # The shuffling stream belongs to the seed, so every optimizer of a seed sees the same
    # batches in the same order.
    order_rng = np.random.default_rng([int(config["seed"]), 9])

    # Compiled without metrics: the loss after every update is all the inner loop needs;
    # accuracies are computed once per epoch from the predictions.
    def full_loss() -> float:
        return float(model.evaluate(x_train, y_train, batch_size=n, verbose=0))

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        output = model.predict(x, batch_size=len(x), verbose=0)
        return float(np.mean(np.argmax(output, axis=1) == y))

    out: dict[str, Any] = {"config": dict(config), "updates": [], "evaluations": [],
                           "seconds": [], "train_loss": [], "batch_loss": [],
                           "initial_loss": full_loss(), "diverged": False,
                           "epochs": {k: [] for k in ("train_loss", "train_accuracy", "val_loss",
                                                      "val_accuracy", "updates", "evaluations",
                                                      "seconds")}}
    updates = evaluations = 0
    seconds = 0.0
    started_all = time.perf_counter()
    # A diverging run overflows on its way to NaN: that is recorded ("diverged"), not
    # printed as a stream of NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _epoch in range(int(config["epochs"])):
            order = order_rng.permutation(n) if not full else np.arange(n)
            for start in range(0, n, size):
                index = order[start:start + size]
                xb, yb = x_train[index], y_train[index]
                tick = time.perf_counter()
                try:
                    batch_loss = float(model.train_on_batch(xb, yb))
                except TrainingDiverged:  # recorded, not hidden: the curves stop here
                    out["diverged"] = True
                    break
                seconds += time.perf_counter() - tick
                updates += 1
                evaluations += len(index)
                loss = full_loss()
                out["updates"].append(updates)
                out["evaluations"].append(evaluations)
                out["seconds"].append(seconds)
                out["train_loss"].append(loss)
                out["batch_loss"].append(batch_loss)
                if not math.isfinite(loss):
                    out["diverged"] = True
                    break
            if out["diverged"]:
                break
            # The full training loss after the epoch's last update is already measured.
            train_loss, train_acc = out["train_loss"][-1], accuracy(x_train, y_train)
            val_loss = float(model.evaluate(x_val, y_val, batch_size=len(x_val), verbose=0))
            val_acc = accuracy(x_val, y_val)
            for key, value in (("train_loss", train_loss), ("train_accuracy", train_acc),
                               ("val_loss", val_loss), ("val_accuracy", val_acc),
                               ("updates", updates), ("evaluations", evaluations),
                               ("seconds", seconds)):
                out["epochs"][key].append(value)
    out["seconds_total"] = time.perf_counter() - started_all
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def population_key(config: dict, samples: int) -> str:
    """What the trials of one population must share, as a string: equal keys, one population.

    Everything in ``config`` but the seed, the learning rate and the optimizer's name (the
    network, the data and its split, epochs, batch size, schedule kind), whether the updates
    are full-batch, the optimizer's class, and each of its settings that is not a number (such
    as ``nesterov``, ``amsgrad``, or a learning-rate schedule, which is an object fitted to
    the run: two schedules of different rates are two settings). Numbers (learning rate,
    momentum, betas, epsilon, ...) may differ between members, as :class:`Population` allows.
    ``samples`` is the training set's size, to which schedules are fitted.
    """
    spec = SPECS[config["optimizer"]]
    settings = _optimizer(config, _total_updates(config, samples)).get_config()
    fixed = {k: v for k, v in settings.items() if k != "name" and not _is_number(v)}
    rest = {k: v for k, v in config.items() if k not in ("seed", "learning_rate", "optimizer")}
    return json.dumps({"class": spec["class_name"], "full_batch": bool(spec.get("full_batch")),
                       "settings": fixed, "trial": rest}, sort_keys=True, default=repr)


def population_trials(configs: Sequence[dict]) -> list[dict]:
    """Train the trials ``configs`` in lockstep as one :class:`Population`; returns what
    :func:`trial` returns for each, in order.

    The configs must share one :func:`population_key` (else :class:`ConfigError`). Member k
    starts from its seed's weights, draws its batches from its seed's own order (x of shape
    (members, batch, features)), and after each update one batched measurement gives every
    member's full training loss (what ``evaluate`` gives; the training set is checked once,
    and the steps and measurements run on the checked arrays). A member whose batch loss or
    full loss becomes NaN/inf is recorded as :func:`trial` records it (its curves stop there)
    and leaves the population; the others go on. ``seconds`` is each member's share of the
    population's training-step time (a step's time divided by the members that took it), and
    ``seconds_total`` its share of the whole time.
    """
    from descentlab.population import Population

    configs = [dict(c) for c in configs]
    if not configs:
        raise ConfigError("population_trials needs at least one trial configuration.")
    first = configs[0]
    x_train, x_val, y_train, y_val = _load(first["dataset"], int(first["split_seed"]),
                                           float(first["validation_fraction"]))
    n = len(x_train)
    key = population_key(first, n)
    for k, config in enumerate(configs[1:], start=1):
        if population_key(config, n) != key:
            raise ConfigError(
                f"trial {k} ({config['optimizer']}, learning rate {config['learning_rate']}) "
                f"cannot share a population with trial 0 ({first['optimizer']}, learning rate "
                f"{first['learning_rate']}): group trials with population_key().")
    started_all = time.perf_counter()
    classes = int(max(y_train.max(), y_val.max())) + 1
    full = SPECS[first["optimizer"]].get("full_batch", False)
    size = _batch(first, n)
    total = _total_updates(first, n)
    models = [_build(config, x_train.shape[1], classes, total_updates=total)
              for config in configs]
    x_train = x_train.astype(models[0].dtype)
    x_val = x_val.astype(models[0].dtype)
    order_rngs = [np.random.default_rng([int(c["seed"]), 9]) for c in configs]
    population = Population(models)
    outs: list[dict[str, Any]] = [
        {"config": config, "updates": [], "evaluations": [], "seconds": [], "train_loss": [],
         "batch_loss": [], "initial_loss": None, "diverged": False,
         "epochs": {k: [] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                    "updates", "evaluations", "seconds")}}
        for config in configs]
    updates = [0] * len(configs)
    evaluations = [0] * len(configs)
    seconds = [0.0] * len(configs)
    active = list(range(len(configs)))  # the members still training, in population order
    # The training set checked once, as train_on_batch and evaluate check what they are given;
    # every batch is drawn from it, so each step and each measurement of the whole set's loss
    # after it skips the checks (for a population of 3, they cost about a third of a step).
    x_checked, y_checked = population._data(x_train, y_train)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k, loss in enumerate(population._losses_on_arrays(x_checked, y_checked)):
            outs[k]["initial_loss"] = float(loss)
        for _epoch in range(int(first["epochs"])):
            orders = None if full else np.stack([order_rngs[k].permutation(n) for k in active])
            for start in range(0, n, size):
                if orders is None:
                    xb, yb = x_checked, y_checked  # full batch: the same samples for all
                    batch = n
                else:
                    rows = orders[:, start:start + size]  # (members, batch): each its own
                    xb, yb = x_checked[rows], y_checked[rows]
                    batch = rows.shape[1]
                tick = time.perf_counter()
                batch_losses, _ = population._train_on_arrays(xb, yb)
                share = (time.perf_counter() - tick) / len(active)
                full_losses = population._losses_on_arrays(x_checked, y_checked)
                stopped = []
                for pos, k in enumerate(active):
                    out = outs[k]
                    if not math.isfinite(batch_losses[pos]):  # as trial: not recorded
                        out["diverged"] = True
                        stopped.append(pos)
                        continue
                    seconds[k] += share
                    updates[k] += 1
                    evaluations[k] += batch
                    out["updates"].append(updates[k])
                    out["evaluations"].append(evaluations[k])
                    out["seconds"].append(seconds[k])
                    out["train_loss"].append(float(full_losses[pos]))
                    out["batch_loss"].append(float(batch_losses[pos]))
                    if not math.isfinite(full_losses[pos]):
                        out["diverged"] = True
                        stopped.append(pos)
                if stopped:  # the diverged leave; the others go on as a smaller population
                    keep = [pos for pos in range(len(active)) if pos not in stopped]
                    if not keep:
                        active = []
                        break
                    members = population.models
                    population = Population([members[pos] for pos in keep])
                    active = [active[pos] for pos in keep]
                    if orders is not None:
                        orders = orders[keep]
            if not active:
                break
            # The full training loss after the epoch's last update is already measured.
            train_accuracy = _accuracies(population, x_train, y_train)
            val_losses = population.evaluate(x_val, y_val, batch_size=len(x_val))
            val_accuracy = _accuracies(population, x_val, y_val)
            for pos, k in enumerate(active):
                record = outs[k]["epochs"]
                for name, value in (("train_loss", outs[k]["train_loss"][-1]),
                                    ("train_accuracy", train_accuracy[pos]),
                                    ("val_loss", float(val_losses[pos])),
                                    ("val_accuracy", val_accuracy[pos]),
                                    ("updates", updates[k]), ("evaluations", evaluations[k]),
                                    ("seconds", seconds[k])):
                    record[name].append(value)
    share_total = (time.perf_counter() - started_all) / len(configs)
    for out in outs:
        out["seconds_total"] = share_total
    return outs


def _accuracies(population: Any, x: np.ndarray, y: np.ndarray) -> list[float]:
    """Each member's accuracy on (x, y), from one batched prediction."""
    predicted = np.argmax(population.predict(x, batch_size=len(x)), axis=-1)
    return [float(v) for v in np.mean(predicted == y, axis=-1)]


def _population_task(task: dict) -> dict:
    """One population, as the runner's unit of work (a top-level function: runs in a worker)."""
    return {"trials": population_trials(task["configs"])}


def run_populations(configs: Sequence[dict], workers: int | None = None,
                    progress: bool = True, label: str = "trials") -> list[dict]:
    """``[trial(c) for c in configs]``, trained as populations: the configs are grouped by
    :func:`population_key`, each group is one :func:`population_trials` call, and the groups
    are spread over ``workers`` processes (the largest first). Results come back in the
    order of ``configs``, whatever the number of workers."""
    configs = [dict(c) for c in configs]
    samples: dict[tuple, int] = {}
    groups: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        data = (config["dataset"], int(config["split_seed"]),
                float(config["validation_fraction"]))
        if data not in samples:
            samples[data] = len(_load(*data)[0])
        groups.setdefault(population_key(config, samples[data]), []).append(i)
    members = list(groups.values())

    def cost(group: list[int]) -> int:  # updates to make, for the order of the work
        config = configs[group[0]]
        n = samples[(config["dataset"], int(config["split_seed"]),
                     float(config["validation_fraction"]))]
        return len(group) * _total_updates(config, n)

    members.sort(key=cost, reverse=True)
    done = runner.run_trials(_population_task,
                             [{"configs": [configs[i] for i in group]} for group in members],
                             workers=workers, progress=progress, label=label)
    results: list[dict | None] = [None] * len(configs)
    for group, result in zip(members, done, strict=True):
        for i, member in zip(group, result["trials"], strict=True):
            results[i] = member
    return [result for result in results if result is not None]  # every slot is filled


def _first_reaching(losses: Sequence[float], counts: Sequence[float], target: float):
    for loss, count in zip(losses, counts, strict=True):
        if loss <= target:
            return count
    return None


def fluctuation(losses: Sequence[float]) -> float:
    """Standard deviation of the step-to-step changes of a loss curve."""
    values = np.asarray(losses, dtype=np.float64)
    if len(values) < 3:
        return float("nan")
    return float(np.std(np.diff(values)))


def uphill_fraction(losses: Sequence[float], initial: float) -> float:
    values = np.concatenate([[initial], np.asarray(losses, dtype=np.float64)])
    if len(values) < 2:
        return float("nan")
    return float(np.mean(np.diff(values) > 0))


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std())


def summarize(trials: Sequence[dict], names: Sequence[str], target: float) -> dict[str, dict]:
    """Per optimizer, over its seeds: final numbers, costs to reach ``target``, fluctuation."""
    summary: dict[str, dict] = {}
    for name in names:
        runs = [t for t in trials if t["config"]["optimizer"] == name]
        finals = [t["train_loss"][-1] if t["train_loss"] else float("nan") for t in runs]
        val_acc = [t["epochs"]["val_accuracy"][-1] if t["epochs"]["val_accuracy"]
                   else float("nan") for t in runs]
        train_acc = [t["epochs"]["train_accuracy"][-1] if t["epochs"]["train_accuracy"]
                     else float("nan") for t in runs]
        to_target = {key: [_first_reaching(t["train_loss"], t[key], target) for t in runs]
                     for key in ("updates", "evaluations", "seconds")}
        reached = sum(v is not None for v in to_target["updates"])
        entry: dict[str, Any] = {
            "label": LABELS[name],
            "learning_rate": runs[0]["config"]["learning_rate"] if runs else None,
            "final_train_loss": _mean_std(finals)[0], "final_train_loss_std": _mean_std(finals)[1],
            "final_train_accuracy": _mean_std(train_acc)[0],
            "final_val_accuracy": _mean_std(val_acc)[0],
            "final_val_accuracy_std": _mean_std(val_acc)[1],
            "updates_total": runs[0]["updates"][-1] if runs and runs[0]["updates"] else 0,
            "evaluations_total": (runs[0]["evaluations"][-1]
                                  if runs and runs[0]["evaluations"] else 0),
            "seconds_total": _mean_std([t["seconds"][-1] if t["seconds"] else 0.0
                                        for t in runs])[0],
            "reached": reached, "seeds": len(runs),
            "fluctuation": _mean_std([fluctuation(t["train_loss"]) for t in runs])[0],
            "batch_fluctuation": _mean_std([fluctuation(t["batch_loss"]) for t in runs])[0],
            "uphill_fraction": _mean_std([uphill_fraction(t["train_loss"], t["initial_loss"])
                                          for t in runs])[0],
            "diverged": sum(bool(t["diverged"]) for t in runs),
        }
        for key, values in to_target.items():
            entry[f"{key}_to_target"] = (float(np.mean(values)) if reached == len(runs) and runs
                                         else None)
        summary[name] = entry
    return summary


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def evaluate_claims(trials: Sequence[dict], summary: dict[str, dict], target: float) -> list[dict]:
    """The chapter's claims, each judged from this run's numbers (``holds`` None = not measured).

    The sentences say what was measured, whichever way it came out.
    """
    claims: list[dict] = []
    by = {name: [t for t in trials if t["config"]["optimizer"] == name] for name in summary}

    if "gd" in summary and "sgd" in summary and by["gd"] and by["sgd"]:
        # A loss level both reach: the target, or GD's final loss if GD never gets there.
        gd_final = max(t["train_loss"][-1] for t in by["gd"])
        level = max(target, gd_final)
        gd_up = [_first_reaching(t["train_loss"], t["updates"], level) for t in by["gd"]]
        gd_ev = [_first_reaching(t["train_loss"], t["evaluations"], level) for t in by["gd"]]
        sgd_up = [_first_reaching(t["train_loss"], t["updates"], level) for t in by["sgd"]]
        sgd_ev = [_first_reaching(t["train_loss"], t["evaluations"], level) for t in by["sgd"]]
        if None in gd_up + sgd_up:
            holds = None
        else:
            # "Fewer updates" must be a real difference, not a rounding: 5 % at least.
            holds = bool(np.mean(gd_up) < 0.95 * np.mean(sgd_up)
                         and np.mean(gd_ev) > np.mean(sgd_ev))
        ev = {"loss_level": level, "gd_updates": _avg(gd_up), "sgd_updates": _avg(sgd_up),
              "gd_evaluations": _avg(gd_ev), "sgd_evaluations": _avg(sgd_ev)}
        claims.append(_claim(
            "gd_cost", holds, ev,
            en=(f"To reach a training loss of {level:.3f}, full-batch GD took "
                f"{_fmt(ev['gd_updates'], 1)} updates and {_fmt(ev['gd_evaluations'])} gradient "
                f"evaluations; mini-batch SGD took {_fmt(ev['sgd_updates'], 1)} updates and "
                f"{_fmt(ev['sgd_evaluations'])} evaluations (means over seeds)."),
            ko=(f"훈련 손실 {level:.3f}에 도달하는 데 전체 배치 GD는 업데이트 "
                f"{_fmt(ev['gd_updates'], 1)}번, 기울기 계산 {_fmt(ev['gd_evaluations'])}회가, "
                f"미니 배치 SGD는 업데이트 {_fmt(ev['sgd_updates'], 1)}번, 기울기 계산 "
                f"{_fmt(ev['sgd_evaluations'])}회가 걸렸습니다 (시드 평균)."),
            book_en="GD needs fewer updates but more gradient evaluations than SGD.",
            book_ko="GD는 SGD보다 업데이트 횟수는 적지만 기울기 계산은 더 많이 필요하다."))

    if "gd" in summary and "sgd" in summary:
        gd_f, sgd_f = summary["gd"]["uphill_fraction"], summary["sgd"]["uphill_fraction"]
        gd_s, sgd_s = summary["gd"]["fluctuation"], summary["sgd"]["fluctuation"]
        holds = bool(sgd_f > gd_f) if math.isfinite(gd_f) and math.isfinite(sgd_f) else None
        ev = {"gd_uphill_fraction": gd_f, "sgd_uphill_fraction": sgd_f,
              "gd_fluctuation": gd_s, "sgd_fluctuation": sgd_s}
        claims.append(_claim(
            "sgd_fluctuates", holds, ev,
            en=(f"The full training loss went up after {sgd_f:.1%} of SGD's updates and "
                f"{gd_f:.1%} of GD's (standard deviation of the step-to-step change: SGD "
                f"{sgd_s:.2e}, GD {gd_s:.2e})."),
            ko=(f"전체 훈련 손실이 SGD 업데이트의 {sgd_f:.1%}, GD 업데이트의 {gd_f:.1%} 뒤에 "
                f"올라갔습니다 (스텝 간 변화의 표준편차: SGD {sgd_s:.2e}, GD {gd_s:.2e})."),
            book_en="SGD's loss fluctuates more than GD's.",
            book_ko="SGD는 GD보다 손실의 진폭이 크다."))

    if "sgd" in summary:
        base = summary["sgd"]["evaluations_to_target"]
        others = [n for n in ("momentum", "nag", "adagrad", "rmsprop", "adam", "adamw", "nadam")
                  if n in summary]
        for name in others:
            mine = summary[name]["evaluations_to_target"]
            if base is None and mine is None:
                holds = None
            elif mine is None:
                holds = False
            elif base is None:
                holds = True
            else:
                holds = bool(mine < base)
            label = LABELS[name]
            ev = {"optimizer": name, "target": target, "evaluations": mine, "sgd": base}
            sgd = summary["sgd"]
            claims.append(_claim(
                f"faster_than_sgd:{name}", holds, ev,
                en=(f"Gradient evaluations to reach the training loss {target:g}: {label} "
                    f"{_reach_en(mine, summary[name])}, plain SGD {_reach_en(base, sgd)}."),
                ko=(f"훈련 손실 {target:g}까지의 기울기 계산 횟수: {label} "
                    f"{_reach_ko(mine, summary[name])}, 기본 SGD {_reach_ko(base, sgd)}."),
                book_en=f"{label} reaches the target in fewer evaluations than plain SGD.",
                book_ko=f"{label}는 기본 SGD보다 적은 기울기 계산으로 목표에 도달한다."))
    return claims


def _reach_en(value: float | None, entry: dict) -> str:
    if value is not None:
        return _fmt(value)
    return (f"not reached by {entry['seeds'] - entry['reached']} of {entry['seeds']} seeds "
            f"within {entry['evaluations_total']:,}")


def _reach_ko(value: float | None, entry: dict) -> str:
    if value is not None:
        return f"{_fmt(value)}회"
    return (f"{entry['evaluations_total']:,}회 안에 도달 못 함 (시드 {entry['seeds']}개 중 "
            f"{entry['seeds'] - entry['reached']}개)")


def _avg(values: Sequence[float | None]) -> float | None:
    """The mean, or None when there is nothing to average or a value is missing."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present and len(present) == len(values) else None


def _claim(cid: str, holds: bool | None, evidence: dict, *, en: str, ko: str, book_en: str,
           book_ko: str) -> dict:
    verdict_en = {True: "Holds here.", False: "Does not hold here.",
                  None: "Not measurable in this run (a target was not reached)."}[holds]
    verdict_ko = {True: "이번 측정에서 성립합니다.", False: "이번 측정에서는 성립하지 않습니다.",
                  None: "이번 실행에서는 판단할 수 없습니다 (목표에 도달하지 못함)."}[holds]
    return {"id": cid, "holds": holds, "evidence": evidence, "book_en": book_en,
            "book_ko": book_ko, "en": f"{en} {verdict_en}", "ko": f"{ko} {verdict_ko}"}


def zigzag(steps: int = 30) -> dict:
    """Sign changes of the update along the steep direction (y) of x²/20 + y²: SGD vs momentum.

    Same start (−7, 2) and the DLFS learning rates (SGD 0.95, momentum 0.1 with β = 0.9).
    """
    from descentlab import optimizers
    from descentlab.lab import surfaces

    surface = surfaces.dlfs_quadratic()
    sgd = surfaces.descend(surface, optimizers.SGD(0.95), steps=steps)
    mom = surfaces.descend(surface, optimizers.SGD(0.1, momentum=0.9), steps=steps)
    sgd_changes = surfaces.sign_changes(np.diff(sgd.points[:, 1]))
    mom_changes = surfaces.sign_changes(np.diff(mom.points[:, 1]))
    return {"surface": surface.formula, "steps": steps, "start": list(surface.start),
            "sgd_learning_rate": 0.95, "momentum_learning_rate": 0.1, "momentum": 0.9,
            "sgd_sign_changes": sgd_changes, "momentum_sign_changes": mom_changes,
            "sgd_final_distance": sgd.final_distance, "momentum_final_distance": mom.final_distance}


def _check_positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{what} must be a positive integer; got {value!r}.")
    return int(value)


def tune(names: Sequence[str], base: dict, epochs: int, workers: int | None,
         progress: bool, grid: Sequence[float] = TUNING_GRID) -> dict:
    """Per optimizer, the grid learning rate with the lowest final training loss (first seed).

    A diverged run scores +inf; ties go to the smaller rate. The grid's rates of an optimizer
    train as one population (as :func:`run_populations` groups them).
    """
    configs = [dict(base, optimizer=name, learning_rate=float(lr), epochs=epochs)
               for name in names for lr in grid]
    results = run_populations(configs, workers=workers, progress=progress,
                              label="tuning learning rates")
    losses: dict[str, list[float]] = {name: [] for name in names}
    for result in results:
        loss = result["train_loss"][-1] if result["train_loss"] else float("inf")
        if result["diverged"] or not math.isfinite(loss):
            loss = float("inf")
        losses[result["config"]["optimizer"]].append(loss)
    best = {name: float(grid[int(np.argmin(values))]) for name, values in losses.items()}
    return {"grid": list(grid), "epochs": epochs, "losses": losses, "best": best}


def run(optimizers: Sequence[str] = DEFAULT_OPTIMIZERS, seeds: Sequence[int] = (0, 1, 2),
        epochs: int = 20, dataset: str = "digits", hidden: Sequence[int] = (32,),
        activation: str = "relu", batch_size: int = 32, lr_mode: str = "book",
        schedule: str = "constant",
        learning_rate: float | None = None, target_loss: float = 0.3,
        validation_fraction: float = 0.25, split_seed: int = 0, tune_epochs: int = 3,
        workers: int | None = None, progress: bool = True) -> dict:
    """The whole comparison: every optimizer × every seed; summary, claims and the zig-zag."""
    names = check_optimizers(optimizers)
    seeds = _check_seeds(seeds)
    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    if lr_mode not in LR_MODES:
        raise ConfigError(f"Unknown learning-rate mode {lr_mode!r}; valid modes are "
                          f"{', '.join(LR_MODES)}.")
    if lr_mode == "shared":
        if learning_rate is None or not learning_rate > 0 or not math.isfinite(learning_rate):
            raise ConfigError("lr_mode 'shared' needs a positive learning_rate; got "
                              f"{learning_rate!r}.")
    elif learning_rate is not None:
        raise ConfigError(f"a learning_rate is only used with lr_mode 'shared'; got "
                          f"learning_rate={learning_rate!r} with lr_mode {lr_mode!r}.")
    if schedule not in SCHEDULES:
        raise ConfigError(f"Unknown schedule {schedule!r}; valid schedules are "
                          f"{', '.join(SCHEDULES)}.")
    if not 0.0 < validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in (0, 1); got {validation_fraction!r}.")
    # A bad data set name, or a network too large to build, fails before any work.
    x_train, _, y_train, _ = _load(dataset, split_seed, validation_fraction)
    check_size(x_train.shape[1], [int(h) for h in hidden], len(np.unique(y_train)))
    started = time.perf_counter()
    base = {"seed": seeds[0], "dataset": dataset, "hidden": [int(h) for h in hidden],
            "activation": activation, "epochs": epochs, "batch_size": batch_size,
            "validation_fraction": float(validation_fraction), "split_seed": int(split_seed),
            "schedule": schedule}
    tuning = None
    if lr_mode == "book":
        rates = {n: SPECS[n]["config"]["learning_rate"] for n in names}
    elif lr_mode == "shared":
        assert learning_rate is not None  # checked above
        rates = {n: float(learning_rate) for n in names}
    else:
        tuning = tune(names, base, _check_positive_int(tune_epochs, "tune_epochs"), workers,
                      progress)
        rates = tuning["best"]
    configs = [dict(base, optimizer=name, learning_rate=rates[name], seed=seed)
               for name in names for seed in seeds]
    trials = run_populations(configs, workers=workers, progress=progress, label="optimizers")
    summary = summarize(trials, names, target_loss)
    config = {**{k: v for k, v in base.items() if k != "seed"}, "seeds": seeds,
              "optimizers": names, "lr_mode": lr_mode, "learning_rates": rates,
              "target_loss": float(target_loss)}
    if tuning is not None:
        config["tuning"] = tuning
    from descentlab import __version__

    return {"schema": SCHEMA, "version": __version__, "config": config, "trials": trials,
            "summary": summary, "claims": evaluate_claims(trials, summary, target_loss),
            "zigzag": zigzag(),
            "timings": {"total_seconds": time.perf_counter() - started,
                        "workers": workers or runner.default_workers()}}


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    """At least one seed, each a non-negative integer, none twice (a repeated seed is the same
    run again: its mean and spread would count it twice)."""
    values = [int(s) for s in seeds]
    if not values or min(values) < 0:
        raise ConfigError(f"give at least one seed, each a non-negative integer; got {values!r}.")
    if len(set(values)) != len(values):
        raise ConfigError(f"the seeds have duplicates: {', '.join(map(str, values))}.")
    return values


def _check_rates(rates: Sequence[float]) -> list[float]:
    values = []
    for rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or \
                not math.isfinite(rate) or rate <= 0:
            raise ConfigError(f"learning rates must be positive numbers; got {rate!r}.")
        values.append(float(rate))
    if not values:
        raise ConfigError("give at least one learning rate.")
    if len(set(values)) != len(values):
        raise ConfigError(f"the learning rates have duplicates: {', '.join(map(str, values))}.")
    return sorted(values)


def sensitivity(optimizers: Sequence[str] = SENSITIVITY_OPTIMIZERS,
                rates: Sequence[float] = SENSITIVITY_RATES, seeds: Sequence[int] = (0, 1, 2),
                epochs: int = 10, dataset: str = "digits", hidden: Sequence[int] = (32,),
                activation: str = "relu", batch_size: int = 32,
                validation_fraction: float = 0.25, split_seed: int = 0,
                good_factor: float = GOOD_FACTOR, workers: int | None = None,
                progress: bool = True) -> dict:
    """Each optimizer's learning-rate sensitivity: final training loss and validation accuracy
    against the learning rate, over seeds, and the best rate (documented above).

    Per optimizer, one :class:`~descentlab.population.Population` of ``rates × seeds``
    members trained with ``Population.fit`` (each member is what ``set_random_seed(seed)``,
    building the lab's network and ``fit`` train); the optimizers' populations are spread
    over ``workers`` processes. The final training loss is the last epoch's loss in ``fit``'s
    history (the mean of its batch losses, as Keras reports it).
    """
    names = check_optimizers(optimizers)
    rates = _check_rates(rates)
    seeds = _check_seeds(seeds)
    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    if isinstance(good_factor, bool) or not isinstance(good_factor, (int, float)) or \
            not good_factor > 1 or not math.isfinite(good_factor):
        raise ConfigError(f"good_factor must be a number greater than 1; got {good_factor!r}.")
    if not 0.0 < validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in (0, 1); got {validation_fraction!r}.")
    x_train, _, y_train, _ = _load(dataset, split_seed, validation_fraction)
    check_size(x_train.shape[1], [int(h) for h in hidden], len(np.unique(y_train)))
    started = time.perf_counter()
    config = {"dataset": dataset, "hidden": [int(h) for h in hidden], "activation": activation,
              "epochs": epochs, "batch_size": batch_size,
              "validation_fraction": float(validation_fraction), "split_seed": int(split_seed),
              "seeds": seeds, "optimizers": names, "rates": rates,
              "good_factor": float(good_factor)}
    tasks = [dict(config, optimizer=name) for name in names]
    done = runner.run_trials(sensitivity_population, tasks, workers=workers, progress=progress,
                             label="learning-rate sensitivity")
    from descentlab import __version__

    return {"schema": SENSITIVITY_SCHEMA, "version": __version__, "config": config,
            "optimizers": dict(zip(names, done, strict=True)),
            "timings": {"total_seconds": time.perf_counter() - started,
                        "workers": workers or runner.default_workers()}}


def sensitivity_population(task: dict) -> dict:
    """One optimizer of :func:`sensitivity`: its population of ``rates × seeds`` members
    (rate-major: member ``i * len(seeds) + j`` has rate i and seed j), trained with
    ``Population.fit``, summarized by :func:`summarize_sensitivity`."""
    import functools

    from descentlab.population import Population, seeded

    name, rates, seeds = task["optimizer"], task["rates"], task["seeds"]
    x_train, x_val, y_train, y_val = _load(task["dataset"], int(task["split_seed"]),
                                           float(task["validation_fraction"]))
    classes = int(max(y_train.max(), y_val.max())) + 1
    n = len(x_train)
    total = _total_updates(dict(task, schedule="constant"), n)
    members = [seeded(functools.partial(_network, dict(task, learning_rate=rate, seed=seed),
                                        x_train.shape[1], classes, total, ("accuracy",)), seed)
               for rate in rates for seed in seeds]
    population = Population(members)
    started = time.perf_counter()
    histories = population.fit(x_train, y_train, batch_size=_batch(task, n),
                               epochs=int(task["epochs"]), validation_data=(x_val, y_val),
                               verbose=0)
    seconds = time.perf_counter() - started
    losses: list[list[float | None]] = []
    accuracies: list[list[float | None]] = []
    diverged: list[list[bool]] = []
    for i in range(len(rates)):
        row = range(i * len(seeds), (i + 1) * len(seeds))
        diverged.append([k in population.diverged for k in row])
        losses.append([None if k in population.diverged
                       else float(histories[k].history["loss"][-1]) for k in row])
        accuracies.append([None if k in population.diverged
                           else float(histories[k].history["val_accuracy"][-1]) for k in row])
    entry = summarize_sensitivity(rates, losses, accuracies, diverged,
                                  float(task.get("good_factor", GOOD_FACTOR)))
    book = float(SPECS[name]["config"]["learning_rate"])
    book_index = next((i for i, r in enumerate(rates) if math.isclose(r, book, rel_tol=1e-9)),
                      None)
    in_range = entry["good_low"] is not None and book_index is not None
    return {"label": LABELS[name], "book_rate": book, **entry, "book_index": book_index,
            "book_train_loss": (entry["mean_train_loss"][book_index]
                                if book_index is not None else None),
            "book_good": bool(entry["good"][book_index]) if in_range else None,
            "seconds": seconds}


def summarize_sensitivity(rates: Sequence[float], losses: Sequence[Sequence[float | None]],
                          accuracies: Sequence[Sequence[float | None]],
                          diverged: Sequence[Sequence[bool]],
                          good_factor: float = GOOD_FACTOR) -> dict:
    """From per-rate, per-seed final losses and accuracies (None where the seed diverged, or
    its loss is not finite): means and spreads over seeds, the best rate and the range of good
    rates, as documented above. ``rates`` ascending."""
    def clean(value: float | None) -> float | None:
        return value if value is not None and math.isfinite(value) else None

    losses = [[clean(v) for v in row] for row in losses]
    accuracies = [[clean(v) for v in row] for row in accuracies]
    stats: dict[str, list[float | None]] = {}
    for key, table in (("train_loss", losses), ("val_accuracy", accuracies)):
        arrays = [None if None in row else np.asarray(row, dtype=np.float64) for row in table]
        stats[f"mean_{key}"] = [None if a is None else float(a.mean()) for a in arrays]
        stats[f"std_{key}"] = [None if a is None else float(a.std()) for a in arrays]
    means = stats["mean_train_loss"]
    scored = [(mean, i) for i, mean in enumerate(means) if mean is not None]
    out: dict[str, Any] = {"train_loss": [list(r) for r in losses],
                           "val_accuracy": [list(r) for r in accuracies],
                           "diverged": [[bool(d) for d in row] for row in diverged],
                           "diverged_seeds": [int(sum(map(bool, row))) for row in diverged],
                           **stats, "good": [False] * len(rates)}
    if not scored:
        return {**out, "best_index": None, "best_rate": None, "best_train_loss": None,
                "best_train_loss_std": None, "best_val_accuracy": None,
                "best_val_accuracy_std": None, "best_at_edge": False, "good_low": None,
                "good_high": None, "good_decades": None, "good_count": 0}
    best_loss, best = min(scored)  # the lowest mean; on a tie, the smaller rate

    def good(i: int) -> bool:
        return means[i] is not None and means[i] <= good_factor * best_loss  # type: ignore

    low = high = best
    while low > 0 and good(low - 1):
        low -= 1
    while high < len(rates) - 1 and good(high + 1):
        high += 1
    out["good"] = [low <= i <= high for i in range(len(rates))]
    return {**out, "best_index": best, "best_rate": float(rates[best]),
            "best_train_loss": best_loss, "best_train_loss_std": stats["std_train_loss"][best],
            "best_val_accuracy": stats["mean_val_accuracy"][best],
            "best_val_accuracy_std": stats["std_val_accuracy"][best],
            "best_at_edge": len(rates) > 1 and best in (0, len(rates) - 1),
            "good_low": float(rates[low]), "good_high": float(rates[high]),
            "good_decades": float(math.log10(rates[high] / rates[low])),
            "good_count": high - low + 1}


def save_results(results: dict, path: str) -> str:
    """Write ``results`` as JSON, atomically (a reader never sees half a file)."""
    from descentlab.lab.results import save_json

    return save_json(results, path)
