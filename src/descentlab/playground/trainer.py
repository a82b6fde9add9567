"""One live training run of the playground, with no web code: tests drive it directly.

A :class:`Run` turns a validated configuration (see :mod:`.config`) into data, a ``Sequential``
model and its optimizer, trains it with the engine's own ``fit`` a few epochs at a time, and
describes its current state as a *frame*: losses, the output and every neuron as heatmaps over
the input plane, weights, and the gradient flow per layer. Training through ``fit`` (epochs
``e … e+k`` via ``initial_epoch``) is what makes a playground run the same computation as a
script: after N epochs the weights equal those of ``model.fit(x, y, epochs=N)`` on the same
configuration, whatever the chunks were.

A :class:`Session` holds what one browser tab trains: one run, or two (A and B) in compare mode,
stepped in lockstep on the same data.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from descentlab import backend, diagnostics, regularizers
from descentlab.lab.networks import dense_stack
from descentlab.layers import Activation, Dense
from descentlab.models import Sequential
from descentlab.optimizers import SGD, Adagrad, Adam, AdamW, Nadam, Optimizer, RMSprop
from descentlab.playground import config as cfg
from descentlab.playground import data

#: Heatmap resolutions (see docs/playground.md).
OUTPUT_GRID = 64
NEURON_GRID = 20
NEURON_GRID_LARGE = 12  # when the network has more than 64 hidden neurons
#: How often a frame carries a diagnosis (seconds).
DIAGNOSIS_EVERY = 1.0


# -- building ---------------------------------------------------------------------------------
def build_optimizer(config: dict[str, Any]) -> Optimizer:
    """The configuration's optimizer, with the engine's classes and Keras' argument names."""
    name, lr, flavor = config["optimizer"], config["learningRate"], config["flavor"]
    if name in ("gd", "sgd"):
        return SGD(lr, flavor=flavor)
    if name in ("momentum", "nesterov"):
        return SGD(lr, momentum=config["momentum"], nesterov=name == "nesterov", flavor=flavor)
    if name == "adagrad":
        return Adagrad(lr, epsilon=config["epsilon"], flavor=flavor)
    if name == "rmsprop":
        return RMSprop(lr, rho=config["rho"], epsilon=config["epsilon"], flavor=flavor)
    adam_args = {"beta_1": config["beta1"], "beta_2": config["beta2"],
                 "epsilon": config["epsilon"], "flavor": flavor}
    if name == "adam":
        return Adam(lr, **adam_args)
    if name == "adamw":
        return AdamW(lr, weight_decay=config["weightDecay"], **adam_args)
    return Nadam(lr, **adam_args)


def kernel_regularizer(config: dict[str, Any]) -> Any:
    """TF Playground's regularization as Keras' ``kernel_regularizer`` (None when off)."""
    rate = config["regularizationRate"]
    if config["regularization"] == "none" or rate == 0:
        return None
    return regularizers.L1(rate) if config["regularization"] == "L1" else regularizers.L2(rate)


def build_model(config: dict[str, Any], inputs: int) -> Sequential:
    """The network of a configuration, compiled.

    Each hidden layer is ``Dense(units, activation, kernel_initializer)``; with batch
    normalisation ``Dense → BatchNormalization → Activation``; with dropout a ``Dropout``
    follows. The output is one unit: sigmoid with binary cross-entropy for classification,
    linear with mean squared error for regression.
    """
    layers = cfg.layer_settings(config)  # (units, activation, initializer) per hidden layer
    classification = config["problem"] == "classification"
    model = dense_stack(inputs, [units for units, _, _ in layers], 1,
                        "sigmoid" if classification else "linear",
                        activation=[activation for _, activation, _ in layers],
                        kernel_initializer=[initializer for _, _, initializer in layers],
                        batch_norm=config["batchNorm"], dropout=config["dropout"],
                        kernel_regularizer=kernel_regularizer(config), name="playground")
    model.compile(optimizer=build_optimizer(config),
                  loss="binary_crossentropy" if classification else "mean_squared_error")
    return model


def batch_size(config: dict[str, Any]) -> int | str:
    """``"full"`` (one update per epoch: plain gradient descent) for ``gd``, else the setting."""
    return "full" if config["optimizer"] == "gd" else config["batchSize"]


def heatmap(values: np.ndarray, n: int) -> dict[str, Any]:
    """An n×n field of values in [−1, 1] as bytes: b = round((v + 1)·127.5), base64."""
    return heatmaps(np.asarray(values).reshape(-1, 1), n)[0]


def heatmaps(columns: np.ndarray, n: int) -> list[dict[str, Any]]:
    """:func:`heatmap` of every column of an (n², k) array, encoded in one pass (a frame of a
    10 × 8 network carries 80 of them)."""
    values = np.asarray(columns, dtype=np.float64)
    clipped = np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0)
    encoded = np.ascontiguousarray(np.rint((clipped + 1.0) * 127.5).astype(np.uint8).T)
    return [{"n": n, "data": base64.b64encode(row.tobytes()).decode("ascii")}
            for row in encoded]


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# -- one run ----------------------------------------------------------------------------------
class Run:
    """One network learning one data set: built from a configuration, trained by ``fit``."""

    def __init__(self, config: dict[str, Any], split: data.Split) -> None:
        self.config = config
        self.split = split
        self.features = cfg.features(config)
        dtype = backend.floatx()
        self.x_train = data.feature_matrix(config, split.train.xy).astype(dtype)
        self.y_train = split.train.label.reshape(-1, 1).astype(dtype)
        self.x_test = data.feature_matrix(config, split.test.xy).astype(dtype)
        self.y_test = split.test.label.reshape(-1, 1).astype(dtype)
        # Every random draw of this run (initial weights, then the model's own stream for
        # shuffling and dropout, taken at its first fit) comes from this generator, seeded as
        # dl.set_random_seed(seed) would: the same numbers as a script, whatever other tabs do.
        self._generator = np.random.default_rng(config["seed"])
        with backend.use_generator(self._generator):
            self.model = build_model(config, len(self.features))
        self._started = False
        self.epoch = 0
        self.diverged = False
        self.history: list[float] = []
        self._flow_rows: list[dict[str, Any]] = []  # the last gradient_flow, for diagnosis()
        hidden = sum(config["networkShape"])
        self.neuron_grid = NEURON_GRID if hidden <= 64 else NEURON_GRID_LARGE
        self._grid_output = data.feature_matrix(config, data.grid(OUTPUT_GRID)).astype(dtype)
        self._grid_neurons = data.feature_matrix(config, data.grid(self.neuron_grid)).astype(
            dtype)

    # -- training ---------------------------------------------------------------------------
    def train(self, epochs: int) -> None:
        """``epochs`` more passes over the training data (none once the loss has diverged)."""
        if self.diverged or epochs <= 0:
            return
        fit_args: dict[str, Any] = {
            "batch_size": batch_size(self.config), "epochs": self.epoch + epochs,
            "initial_epoch": self.epoch, "verbose": 0, "shuffle": True, "on_divergence": "stop"}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if not self._started:
                with backend.use_generator(self._generator):
                    history = self.model.fit(self.x_train, self.y_train, **fit_args)
                self._started = True
            else:
                history = self.model.fit(self.x_train, self.y_train, **fit_args)
        losses = history.history.get("loss", [])
        self.epoch += len(losses)
        self.history.extend(losses)
        if any(not math.isfinite(v) for v in losses):
            self.diverged = True

    def apply_live(self, new: dict[str, Any]) -> None:
        """Hyperparameters that change without a rebuild (:data:`config.LIVE_KEYS`)."""
        opt = self.model.optimizer
        assert opt is not None  # built compiled
        opt.learning_rate = new["learningRate"]
        for key, attribute in (("momentum", "momentum"), ("beta1", "beta_1"),
                               ("beta2", "beta_2"), ("rho", "rho"), ("epsilon", "epsilon")):
            if hasattr(opt, attribute) and key in cfg.OPTIMIZERS[new["optimizer"]]:
                setattr(opt, attribute, new[key])
        if isinstance(opt, AdamW):
            opt.weight_decay = new["weightDecay"]
        regularizer = kernel_regularizer(new)
        for layer in self.model.layers:
            if isinstance(layer, Dense):
                layer.kernel_regularizer = regularizer
        self.config = new

    # -- describing ---------------------------------------------------------------------------
    def losses(self) -> dict[str, float | None]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train = self.model.evaluate(self.x_train, self.y_train, batch_size=4096, verbose=0)
            test = self.model.evaluate(self.x_test, self.y_test, batch_size=4096, verbose=0)
        return {"train": _finite_or_none(train), "test": _finite_or_none(test)}

    def _block_outputs(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Each hidden layer's activations a = f(z) on ``x`` (inference mode), and the output."""
        outputs = []
        for layer in self.model.layers[:-1]:
            x = layer(x)
            applies_activation = isinstance(layer, Activation) or (
                isinstance(layer, Dense) and not self.config["batchNorm"])
            if applies_activation:
                outputs.append(x)
        return outputs, self.model.layers[-1](x)

    def output_field(self) -> np.ndarray:
        """The output over the output grid: 2p − 1 for classification, the prediction else."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.model.predict(self._grid_output, batch_size=8192,
                                     verbose=0)[:, 0].astype(np.float64)
        return 2.0 * out - 1.0 if self.config["problem"] == "classification" else out

    def frame(self, with_inputs: bool = False, with_diagnosis: bool = False) -> dict[str, Any]:
        """This run's part of a ``frame`` message (see docs/playground.md)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            hidden, _ = self._block_outputs(self._grid_neurons)
        n = self.neuron_grid
        neurons = [picture for layer_out in hidden for picture in heatmaps(layer_out, n)]
        dense = [layer for layer in self.model.layers if isinstance(layer, Dense)]
        part: dict[str, Any] = {
            "epoch": self.epoch,
            "loss": self.losses(),
            "output": heatmap(self.output_field(), OUTPUT_GRID),
            "neurons": neurons,
            "weights": [np.round(layer.kernel.astype(np.float64), 5).tolist() for layer in dense],
            "biases": [np.round(layer.bias.astype(np.float64), 5).tolist()
                       if layer.bias is not None else [0.0] * int(layer.units or 0)
                       for layer in dense],
            "diverged": self.diverged,
        }
        part["gradients"] = self.gradient_flow()
        if with_inputs:
            grid = self._grid_neurons.astype(np.float64)
            scale = np.maximum(np.abs(grid).max(axis=0), 1e-12)
            part["inputs"] = heatmaps(grid / scale, n)
        if with_diagnosis:
            part["diagnosis"] = self.diagnosis()
        return part

    def gradient_flow(self) -> list[dict[str, Any]]:
        """Per Dense layer: the gradient statistics of :func:`diagnostics.gradient_flow` on the
        training set, with ``neuron`` = ‖∂L/∂W[:, j]‖ per unit (None entries when not finite)."""
        if self.diverged:
            return []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rows = diagnostics.gradient_flow(self.model, self.x_train, self.y_train,
                                             per_unit=True)
        self._flow_rows = rows
        keep = ("kernel_grad_norm", "bias_grad_norm", "grad_norm_ratio", "mean_abs_derivative",
                "saturated_fraction", "dead_fraction", "activation")
        out = []
        for row in rows:
            record = {key.replace("grad_norm_ratio", "ratio_to_last")
                      .replace("kernel_grad_norm", "kernel_norm")
                      .replace("bias_grad_norm", "bias_norm"): _clean(row[key]) for key in keep}
            record["neuron"] = [_clean(v) for v in row["unit_grad_norms"]]
            out.append(record)
        return out

    def diagnosis(self) -> dict[str, Any]:
        """``diagnose()``'s findings on the last gradient flow, in both languages, each with
        the state change (``fix``) that applies its remedy."""
        rows = self._flow_rows
        if self.diverged or not rows:
            return {"en": [], "ko": []}
        found = diagnostics.diagnose({"layers": rows})
        result: dict[str, list[dict[str, Any]]] = {"en": [], "ko": []}
        for finding in found.findings:
            fix = remedy_fix(finding.kind, self.config)
            for lang in ("en", "ko"):
                result[lang].append({
                    "kind": finding.kind, "severity": finding.severity,
                    "layers": finding.layers,
                    "title": finding.title(lang),
                    "text": finding.message(lang), "remedy": finding.remedy(lang), "fix": fix,
                })
        return result


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def remedy_fix(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The state change that applies the remedy of a finding of ``kind``."""
    lr = config["learningRate"]
    if kind in ("vanishing", "saturation"):
        return {"activation": "relu", "activations": [], "initializer": "he_normal",
                "initializers": []}
    if kind == "dead_units":
        return {"activation": "leaky_relu", "activations": [], "learningRate": max(lr / 10, 1e-5)}
    if kind == "exploding":
        return {"learningRate": max(lr / 10, 1e-5)}
    if kind == "stalled_updates":
        return {"optimizer": "adam", "learningRate": 0.01}
    return {}


# -- a tab's runs -------------------------------------------------------------------------------
class Session:
    """What one browser tab trains: configuration A, and B in compare mode, in lockstep."""

    def __init__(self, config: dict[str, Any], b_changes: dict[str, Any] | None = None,
                 upload: data.Upload | None = None) -> None:
        self.configs = [config]
        if b_changes:
            self.configs.append(cfg.validate(b_changes, base=config))
            # compare mode: the same data and the same seed on both sides
            for key in ("problem", "dataset", "regDataset", "noise", "percTrainData", "seed"):
                if self.configs[1][key] != config[key]:
                    raise cfg.PlaygroundError(
                        f"In compare mode A and B share the data and the seed; {key} cannot "
                        "differ.", f"b.{key}")
        self.split = data.make(config, upload)
        self.runs = [Run(c, self.split) for c in self.configs]
        self._last_diagnosis = -math.inf
        self._epochs_per_call = 1

    @property
    def epoch(self) -> int:
        return max(run.epoch for run in self.runs)

    def step(self, epochs: int = 1) -> None:
        """Every run ``epochs`` epochs further (lockstep)."""
        for run in self.runs:
            run.train(epochs)

    def train_for(self, seconds: float, stop: Callable[[], bool] = lambda: False) -> int:
        """Train in lockstep for about ``seconds``, or until ``stop()`` says so (checked between
        ``fit`` calls); returns the epochs done. The number of epochs per ``fit`` call adapts so
        that a call takes about a fifth of the budget."""
        start = time.perf_counter()
        done = 0
        while not stop():
            before = time.perf_counter()
            k = self._epochs_per_call
            self.step(k)
            done += k
            took = time.perf_counter() - before
            if all(run.diverged for run in self.runs):
                break
            target = seconds / 5
            if took < target / 2:
                self._epochs_per_call = min(self._epochs_per_call * 2, 256)
            elif took > target and self._epochs_per_call > 1:
                self._epochs_per_call //= 2
            if time.perf_counter() - start + took > seconds:
                break
        return done

    def apply_live(self, config: dict[str, Any], b_changes: dict[str, Any] | None) -> bool:
        """Apply a new configuration without rebuilding if only live keys changed; returns
        whether it could (False: the caller rebuilds)."""
        new = [config]
        if b_changes:
            new.append(cfg.validate(b_changes, base=config))
        if len(new) != len(self.runs) or not all(
                cfg.only_live_changes(run.config, c) for run, c in zip(self.runs, new,
                                                                        strict=True)):
            return False
        for run, c in zip(self.runs, new, strict=True):
            run.apply_live(c)
        self.configs = new
        return True

    def ready_message(self) -> dict[str, Any]:
        """The ``ready`` message: what the page needs to draw before the first frame."""
        config = self.configs[0]
        runs = []
        for run in self.runs:
            widths = [len(run.features), *run.config["networkShape"], 1]
            layers = [{"activation": a, "initializer": i}
                      for _, a, i in cfg.layer_settings(run.config)]
            layers.append({"activation": "sigmoid" if config["problem"] == "classification"
                           else "linear", "initializer": "glorot_uniform"})
            runs.append({"features": run.features, "shape": widths, "layers": layers,
                         "batchSize": batch_size(run.config)})

        def rows(points: data.Points) -> list[list[float]]:
            table = np.column_stack([points.xy, points.label]).astype(np.float64)
            return np.round(table, 4).tolist()

        return {"type": "ready", "problem": config["problem"], "runs": runs,
                "domain": list(data.DOMAIN),
                "data": {"train": rows(self.split.train), "test": rows(self.split.test)}}

    def frame_message(self, playing: bool, first: bool = False) -> dict[str, Any]:
        """The next ``frame`` message (a diagnosis at most every :data:`DIAGNOSIS_EVERY` s)."""
        now = time.monotonic()
        with_diagnosis = first or now - self._last_diagnosis >= DIAGNOSIS_EVERY
        if with_diagnosis:
            self._last_diagnosis = now
        return {"type": "frame", "epoch": self.epoch, "playing": playing,
                "runs": [run.frame(with_inputs=first, with_diagnosis=with_diagnosis)
                         for run in self.runs]}
