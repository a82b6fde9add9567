"""Gradient-flow diagnostics: how much gradient reaches each layer, and why it does not.

Backpropagation through a Dense network multiplies the upstream gradient, once per layer, by the
activation's derivative and by the transposed kernel::

    ∂L/∂z_l = (∂L/∂z_{l+1} · W_{l+1}ᵀ) ⊙ f'(z_l)          ∂L/∂W_l = a_{l−1}ᵀ · ∂L/∂z_l

With the sigmoid, f'(z) ≤ 0.25, so through L layers the first layer's gradient is of the order of
0.25^L times the last one's (glorot weights keep the Wᵀ factor near 1): the *vanishing gradient*.
This module measures, on one batch and without changing the model:

=====================  ==========================================================================
``kernel_grad_norm``   ‖∂L/∂W_l‖₂ (Frobenius), ``bias_grad_norm`` ‖∂L/∂b_l‖₂
``grad_norm_ratio``    ‖∂L/∂W_l‖ / ‖∂L/∂W_last‖: the fraction of the last layer's gradient left
``mean_abs_derivative``  mean over units × samples of |f'(z)|
``saturated_fraction``  sigmoid/tanh-like units: share of unit × sample entries with
                        |f'(z)| < 0.1 · max|f'| (the flat tails); ``None`` for other activations
``dead_fraction``      relu: share of units whose output is 0 for *every* sample of the batch
                        (they pass no gradient at all); ``None`` for other activations
``activation_mean/std``  mean and standard deviation of a = f(z) over units × samples
``weight_norm``        ‖W_l‖₂
``update_ratio``       lr · ‖∂L/∂W_l‖ / ‖W_l‖: the relative size of one plain SGD step (≈ 1e-3 is
                        healthy; adaptive optimizers rescale the step, so for them a proxy)
=====================  ==========================================================================

* :func:`gradient_flow` measures once; :class:`~descentlab.callbacks.GradientMonitor` measures
  during ``fit`` on a fixed probe batch; :func:`to_table` / :func:`to_dataframe` flatten the
  records; :func:`diagnose` turns the numbers into findings with remedies, in English and Korean.

The gradients come from the model's public ``compute_gradients`` in inference mode (no dropout,
BatchNormalization with its moving statistics): no weight, no optimizer state and no random
stream is touched, so a monitored training run is bit-identical to an unmonitored one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from descentlab.errors import ConfigError, DataError
from descentlab.layers import Activation, Dense
from descentlab.validation import check_float

#: A unit × sample entry is saturated when |f'(z)| is below this fraction of max |f'|.
SATURATION_LEVEL = 0.1

#: Thresholds of :func:`diagnose` (first/last = ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖).
VANISHING_INFO = 1e-2
VANISHING_WARNING = 1e-3
VANISHING_CRITICAL = 1e-5
EXPLODING_INFO = 1e2
EXPLODING_WARNING = 1e3
EXPLODING_CRITICAL = 1e5
#: A kernel gradient norm above this is "huge" (warning), above the second critical.
HUGE_GRAD_NORM = 1e3
HUGE_GRAD_NORM_CRITICAL = 1e6
#: lr·‖g‖/‖W‖ above this: one step would change the weights by more than their own size.
HUGE_UPDATE_RATIO = 1.0
SATURATION_WARNING = 0.5
SATURATION_CRITICAL = 0.9
DEAD_WARNING = 0.5
STALLED_UPDATE_RATIO = 1e-6

KINDS = ("vanishing", "exploding", "saturation", "dead_units", "stalled_updates")
SEVERITIES = ("info", "warning", "critical")
LANGUAGES = ("en", "ko")

#: Columns of one per-layer record, in order (see the module docstring).
LAYER_FIELDS = (
    "layer", "name", "activation", "units", "kernel_grad_norm", "bias_grad_norm",
    "grad_norm_ratio", "mean_abs_derivative", "saturated_fraction", "dead_fraction",
    "activation_mean", "activation_std", "weight_norm", "update_ratio", "learning_rate",
)
#: Tags of one :class:`GradientMonitor` record, repeated on every row of :func:`to_table`.
RECORD_FIELDS = ("tag", "epoch", "batch", "step", "loss", "samples")


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------
def _is_model(candidate: Any) -> bool:
    """Whether ``candidate`` is a model this module can measure: it has the public
    ``compute_gradients`` and ``layers`` of :class:`~descentlab.models.Sequential`."""
    return callable(getattr(candidate, "compute_gradients", None)) and \
        isinstance(getattr(candidate, "layers", None), list)


def _is_history(candidate: Any) -> bool:
    """Whether ``candidate`` is the History that ``fit`` returns (its ``history`` dict and
    ``epoch`` list); a GradientMonitor adds ``gradients`` to it."""
    return isinstance(getattr(candidate, "history", None), dict) and \
        isinstance(getattr(candidate, "epoch", None), list)


def _is_monitor(candidate: Any) -> bool:
    """Whether ``candidate`` is a :class:`~descentlab.callbacks.GradientMonitor` (its
    ``records`` list and ``probe`` batch)."""
    return isinstance(getattr(candidate, "records", None), list) and hasattr(candidate, "probe")


def _check_model(model: Any, what: str) -> None:
    if not _is_model(model):
        raise ConfigError(f"{what} needs a descentlab Sequential model; got {model!r}.")
    if not any(isinstance(layer, Dense) for layer in model.layers):
        raise ConfigError(
            f"{what} measures Dense layers, and this model has none; add some with "
            "model.add(Dense(...))."
        )


def _learning_rate(model: Any, learning_rate: Any) -> float:
    if learning_rate is None:
        if model.optimizer is None:
            raise ConfigError("gradient_flow needs a compiled model (its optimizer's learning "
                              "rate) or learning_rate=...; call model.compile(...) first.")
        return float(model.optimizer.current_learning_rate)
    return check_float(learning_rate, "learning_rate", low=0.0,
                       what="a finite number ≥ 0 (or None: the optimizer's current one)")


def _dense_blocks(model: Any) -> list[tuple[Dense, Any, int]]:
    """For each Dense layer: the layer, where its activation is applied, its first gradient index.

    ``Dense(32)`` followed by ``BatchNormalization()`` and ``Activation("sigmoid")`` is one
    sigmoid block: the derivative that shrinks the gradient is the Activation layer's, taken at
    *its* input. So for a linear Dense layer the next Activation layer before the next Dense
    layer (if any) supplies z, a and f.
    """
    blocks, offset = [], 0
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            source: Any = layer
            if layer.activation.name == "linear":
                for later in model.layers[i + 1:]:
                    if isinstance(later, Dense):
                        break
                    if isinstance(later, Activation):
                        source = later
                        break
            blocks.append((layer, source, offset))
        offset += len(layer.trainable_weights)
    return blocks


def _derivative(activation: Any, z: np.ndarray) -> np.ndarray:
    """f'(z): the fast array form ``df`` when the activation has one (all built-in ones do)."""
    df = getattr(activation, "df", None)
    return df(z) if callable(df) else np.asarray(activation.derivative(z))


def _norm(array: np.ndarray) -> float:
    return float(np.linalg.norm(array))


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, with 0/0 = nan and x/0 = inf (an undefined ratio stays visible)."""
    if denominator == 0.0:
        return math.nan if numerator == 0.0 else math.inf
    return numerator / denominator


def flow(model: Any, x: Any, y: Any, learning_rate: Any = None,
          per_unit: bool = False) -> tuple[float, int, list[dict[str, Any]]]:
    """The batch loss, the batch size and the per-layer records of :func:`gradient_flow`
    (what :class:`~descentlab.callbacks.GradientMonitor` records)."""
    _check_model(model, "gradient_flow")
    if learning_rate is not None:
        _learning_rate(model, learning_rate)  # a bad value fails before any computation
    # Inference mode: no dropout mask is drawn (the model's random stream is left alone) and
    # BatchNormalization's moving statistics are read, not updated.
    loss, grads = model.compute_gradients(x, y, training=False)
    lr = _learning_rate(model, learning_rate)  # compiled: compute_gradients checked it
    samples = 0
    layers: list[dict[str, Any]] = []
    for index, (dense, source, offset) in enumerate(_dense_blocks(model), start=1):
        activation = source.activation
        z, a = source.z, source.a
        samples = len(a)
        kernel_grad_norm = _norm(grads[offset])
        bias_grad_norm = _norm(grads[offset + 1]) if dense.use_bias else None
        # sum/size, count_nonzero and vdot rather than np.mean/np.std: the same numbers at a
        # fraction of the call overhead, which dominates on probe-sized arrays.
        d = np.abs(_derivative(activation, z))
        max_derivative = getattr(activation, "max_derivative", None)
        saturated = None
        if getattr(activation, "saturating", False) and max_derivative:
            saturated = int(np.count_nonzero(d < SATURATION_LEVEL * max_derivative)) / d.size
        dead = None
        if getattr(activation, "relu_family", False):
            # A unit is dead on this batch when no sample activates it: then ∂L/∂z = 0 for it
            # on every sample and its incoming weights receive no gradient at all.
            dead = 1.0 - int(np.count_nonzero(a.any(axis=0))) / a.shape[1]
        activation_mean = float(a.sum()) / a.size
        centred = (a - activation_mean).ravel()
        activation_std = math.sqrt(float(np.vdot(centred, centred)) / a.size)
        weight_norm = _norm(dense.kernel)
        layers.append({
            "layer": index,
            "name": dense.name,
            "activation": getattr(activation, "name", type(activation).__name__),
            "units": int(dense.units),
            "kernel_grad_norm": kernel_grad_norm,
            "bias_grad_norm": bias_grad_norm,
            "grad_norm_ratio": math.nan,  # filled below, once the last layer is known
            "mean_abs_derivative": float(d.sum()) / d.size,
            "saturated_fraction": saturated,
            "dead_fraction": dead,
            "activation_mean": activation_mean,
            "activation_std": activation_std,
            "weight_norm": weight_norm,
            "update_ratio": _ratio(lr * kernel_grad_norm, weight_norm),
            "learning_rate": lr,
        })
        if per_unit:
            # ‖∂L/∂W[:, j]‖ for each unit j: how much gradient reaches each neuron's inputs.
            kernel_grad = grads[offset]
            layers[-1]["unit_grad_norms"] = np.sqrt(
                np.einsum("ij,ij->j", kernel_grad, kernel_grad)).tolist()
    last = layers[-1]["kernel_grad_norm"]
    for record in layers:
        record["grad_norm_ratio"] = _ratio(record["kernel_grad_norm"], last)
    return float(loss), samples, layers


def gradient_flow(model: Any, x: Any, y: Any, learning_rate: float | None = None,
                  per_unit: bool = False) -> list[dict[str, Any]]:
    """Per-Dense-layer gradient statistics from one forward and backward pass on ``(x, y)``.

    Returns one dict per Dense layer (keys: :data:`LAYER_FIELDS`), ``layer`` counting Dense
    layers from 1. Values are plain Python floats/ints/strings (``None`` where a statistic does
    not apply), ready for ``json.dumps``. ``learning_rate`` (for ``update_ratio`` =
    lr·‖∂L/∂W‖/‖W‖) defaults to the compiled optimizer's current one. ``per_unit=True`` adds
    ``unit_grad_norms``: ‖∂L/∂W[:, j]‖ for every unit j of the layer (the playground tints each
    neuron by it).

    Nothing is updated: not the weights, not the optimizer state, not the model's random stream.

    >>> rows = gradient_flow(model, x[:256], y[:256])
    >>> [round(r["grad_norm_ratio"], 4) for r in rows]     # 1.0 for the last layer
    """
    return flow(model, x, y, learning_rate, per_unit)[2]


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------
def _as_records(records: Any, what: str) -> list[dict[str, Any]]:
    """Monitor records from a list of them, a gradient_flow result, a monitor or a History."""
    if _is_monitor(records):
        records = records.records
    elif _is_history(records):
        records = getattr(records, "gradients", None)
        if records is None:
            raise ConfigError(_NO_GRADIENTS)
    if isinstance(records, dict) and "layers" in records:
        records = [records]
    if not isinstance(records, Sequence) or isinstance(records, str) or not all(
            isinstance(r, dict) for r in records):
        raise ConfigError(
            f"{what} takes GradientMonitor records (monitor.records or history.gradients) or "
            f"the list that gradient_flow returns; got {type(records).__name__}."
        )
    if records and "layers" not in records[0]:  # a bare gradient_flow result: one record
        records = [{"layers": list(records)}]
    return list(records)


def to_table(records: Any) -> list[dict[str, Any]]:
    """Tidy rows: one per layer per record, each the layer's statistics plus the record's tags.

    ``records``: ``monitor.records``, ``history.gradients`` or a :func:`gradient_flow` result.
    ``len(to_table(records)) == len(records) × number of Dense layers``.
    """
    rows = []
    for record in _as_records(records, "to_table"):
        tags = {k: record[k] for k in RECORD_FIELDS if k in record}
        for layer in record["layers"]:
            rows.append({**tags, **layer})
    return rows


def to_dataframe(records: Any) -> Any:
    """:func:`to_table` as a pandas DataFrame (``None`` statistics become NaN)."""
    import pandas as pd

    rows = to_table(records)
    columns = [k for k in (*RECORD_FIELDS, *LAYER_FIELDS) if any(k in row for row in rows)]
    return pd.DataFrame(rows, columns=columns or None)


# --------------------------------------------------------------------------------------------
# Diagnosis
# --------------------------------------------------------------------------------------------
_NO_GRADIENTS = (
    "This History has no gradient records (history.gradients): train with "
    "callbacks=[GradientMonitor(x, y)] to record them, or call diagnose(model, x, y)."
)


@dataclass
class Finding:
    """One problem found in the gradient flow.

    ``kind`` ∈ :data:`KINDS`, ``severity`` ∈ :data:`SEVERITIES`, ``layers`` the 1-based Dense
    layer numbers concerned, ``evidence`` the numbers that triggered it.
    """

    kind: str
    severity: str
    layers: list[int]
    evidence: dict[str, Any]
    message_en: str
    message_ko: str
    remedy_en: str
    remedy_ko: str

    def message(self, lang: str = "en") -> str:
        return self.message_ko if _lang(lang) == "ko" else self.message_en

    def remedy(self, lang: str = "en") -> str:
        return self.remedy_ko if _lang(lang) == "ko" else self.remedy_en

    def title(self, lang: str = "en") -> str:
        """The finding's name: "Vanishing gradients" / "기울기 소실"."""
        return _TITLES[_lang(lang)][self.kind]


_TITLES = {
    "en": {"vanishing": "Vanishing gradients", "exploding": "Exploding gradients",
           "saturation": "Saturated units", "dead_units": "Dead ReLU units",
           "stalled_updates": "Stalled updates"},
    "ko": {"vanishing": "기울기 소실", "exploding": "기울기 폭주", "saturation": "포화된 유닛",
           "dead_units": "죽은 ReLU 유닛", "stalled_updates": "멈춘 업데이트"},
}
_SEVERITY_LABELS = {
    "en": {"info": "INFO", "warning": "WARNING", "critical": "CRITICAL"},
    "ko": {"info": "정보", "warning": "경고", "critical": "심각"},
}
_RANK = {"critical": 0, "warning": 1, "info": 2}


def _lang(lang: Any) -> str:
    if lang not in LANGUAGES:
        raise ConfigError(f"lang must be 'en' (English) or 'ko' (Korean); got {lang!r}.")
    return lang


@dataclass
class Diagnosis:
    """The findings of :func:`diagnose`, most severe first, and the measurements behind them.

    ``layers``: the per-layer records diagnosed (:func:`gradient_flow` rows); ``context``: where
    they came from (``source`` "model" or "history", probe size, loss, epoch, step).
    """

    findings: list[Finding]
    layers: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        """True when any finding is critical (the network will not train as it is)."""
        return any(f.severity == "critical" for f in self.findings)

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]

    def text(self, lang: str = "en") -> str:
        """A human-readable summary in English (``"en"``) or Korean (``"ko"``)."""
        lang = _lang(lang)
        n = len(self.layers)
        where = ""
        if self.context.get("source") == "history":
            tag = self.context.get("tag")
            epoch = self.context.get("epoch")
            if lang == "ko":
                where = " (학습 전)" if tag == "init" else f" ({epoch}번째 에포크)"
            else:
                where = " (before training)" if tag == "init" else f" (epoch {epoch})"
        if lang == "ko":
            lines = [f"기울기 흐름 진단: Dense 층 {n}개{where}"]
        else:
            lines = [f"Gradient-flow diagnosis: {n} Dense layer{'s' if n != 1 else ''}{where}"]
        if not self.findings:
            lines.append("  문제가 발견되지 않았습니다." if lang == "ko"
                         else "  No gradient-flow problem found.")
        for f in self.findings:
            label = _SEVERITY_LABELS[lang][f.severity]
            title = _TITLES[lang][f.kind]
            layers = ", ".join(str(i) for i in f.layers)
            scope = (f"층 {layers}" if lang == "ko" else
                     f"layer{'s' if len(f.layers) != 1 else ''} {layers}") if f.layers else ""
            lines.append(f"[{label}] {title}" + (f" ({scope})" if scope else ""))
            lines.append(f"  {f.message(lang)}")
            lines.append(("  해결책: " if lang == "ko" else "  Remedy: ") + f.remedy(lang))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"critical", "findings": [...], "layers": [...], "context": {...}}``."""
        return {"critical": self.critical, "findings": [asdict(f) for f in self.findings],
                "layers": [dict(r) for r in self.layers], "context": dict(self.context)}

    def __str__(self) -> str:
        return self.text("en")


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(value)


def _hidden(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The output layer's softmax/sigmoid is fused with the cross-entropy loss (∂L/∂z = p − y),
    # so its flat tails do not block the gradient: saturation is a hidden-layer problem.
    return layers[:-1]


def _hidden_activations(layers: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for r in _hidden(layers):
        if r["activation"] not in seen:
            seen.append(r["activation"])
    return seen


_SATURATING_NAMES = ("sigmoid", "tanh", "softmax", "hard_sigmoid")


def _vanishing(layers: list[dict[str, Any]]) -> Finding | None:
    first, last = layers[0]["kernel_grad_norm"], layers[-1]["kernel_grad_norm"]
    if len(layers) < 2 or not (_finite(first) and _finite(last)) or last == 0.0:
        return None  # 0/0: nothing reaches the last layer either (see dead units / stalled)
    ratio = first / last
    if ratio >= VANISHING_INFO:
        return None
    severity = ("critical" if ratio < VANISHING_CRITICAL else
                "warning" if ratio < VANISHING_WARNING else "info")
    per_layer = ratio ** (1.0 / (len(layers) - 1))
    concerned = [r["layer"] for r in layers
                 if _finite(r["grad_norm_ratio"]) and r["grad_norm_ratio"] < VANISHING_INFO]
    evidence = {"first_last_ratio": ratio, "first_kernel_grad_norm": first,
                "last_kernel_grad_norm": last, "factor_per_layer": per_layer,
                "grad_norm_ratios": [r["grad_norm_ratio"] for r in layers]}
    saturating = [a for a in _hidden_activations(layers) if a in _SATURATING_NAMES]
    message_en = (f"The first layer's kernel gradient is {ratio:.1e} times the last layer's "
                  f"(‖∂L/∂W₁‖ = {first:.2e}, ‖∂L/∂W_last‖ = {last:.2e}): about ×{per_layer:.2f} "
                  "per layer on the way back, so the first layers barely learn.")
    message_ko = (f"첫 번째 층의 커널 기울기가 마지막 층의 {ratio:.1e}배입니다 "
                  f"(‖∂L/∂W₁‖ = {first:.2e}, ‖∂L/∂W_last‖ = {last:.2e}). 역전파 때 층마다 약 "
                  f"{per_layer:.2f}배씩 줄어들어 앞쪽 층이 거의 학습되지 않습니다.")
    if saturating:
        act = "/".join(saturating)
        remedy_en = (f"Replace {act} by relu in the hidden layers with he_normal init "
                     "(Dense(..., activation='relu', kernel_initializer='he_normal')); or add "
                     "BatchNormalization between each Dense layer and its activation; or use "
                     f"fewer layers ({act}' ≤ {0.25 if 'sigmoid' in saturating else 1} shrinks "
                     "the gradient at every layer).")
        remedy_ko = (f"은닉층의 {act}를 relu로 바꾸고 he_normal 초기화를 쓰세요 "
                     "(Dense(..., activation='relu', kernel_initializer='he_normal')). 또는 각 "
                     "Dense 층과 활성화 함수 사이에 BatchNormalization을 넣거나 층 수를 줄이세요 "
                     f"({act}의 도함수는 층마다 기울기를 줄입니다).")
    else:
        remedy_en = ("Use an init matched to the activation (he_normal for relu, glorot_uniform "
                     "for tanh/linear) so that each layer keeps the gradient's scale; add "
                     "BatchNormalization after the Dense layers; or use fewer layers.")
        remedy_ko = ("활성화 함수에 맞는 초기화를 쓰세요 (relu에는 he_normal, tanh/linear에는 "
                     "glorot_uniform): 층마다 기울기의 크기가 유지됩니다. 또는 Dense 층 뒤에 "
                     "BatchNormalization을 넣거나 층 수를 줄이세요.")
    return Finding("vanishing", severity, concerned or [layers[0]["layer"]], evidence,
                   message_en, message_ko, remedy_en, remedy_ko)


def _exploding(layers: list[dict[str, Any]]) -> Finding | None:
    norms = [r["kernel_grad_norm"] for r in layers]
    values = norms + [r["bias_grad_norm"] for r in layers if r["bias_grad_norm"] is not None] \
        + [r["weight_norm"] for r in layers]
    non_finite = [r["layer"] for r in layers
                  if not all(_finite(r[k]) for k in ("kernel_grad_norm", "weight_norm"))
                  or (r["bias_grad_norm"] is not None and not _finite(r["bias_grad_norm"]))]
    first, last = norms[0], norms[-1]
    ratio = first / last if len(layers) > 1 and _finite(first) and _finite(last) and last > 0 \
        else None
    finite_norms = [v for v in norms if _finite(v)]
    largest = max(finite_norms) if finite_norms else math.nan
    huge_steps = [r["layer"] for r in layers
                  if _finite(r["update_ratio"]) and r["update_ratio"] > HUGE_UPDATE_RATIO]
    en, ko = [], []
    severity = None

    def worse(level: str) -> None:
        nonlocal severity
        if severity is None or _RANK[level] < _RANK[severity]:
            severity = level

    if non_finite:
        worse("critical")
        en.append(f"the gradients or weights of layer(s) {_join(non_finite)} are NaN or "
                  "infinite: training has diverged")
        ko.append(f"층 {_join(non_finite)}의 기울기나 가중치가 NaN 또는 무한대입니다: 학습이 "
                  "발산했습니다")
    if ratio is not None and ratio > EXPLODING_INFO:
        worse("critical" if ratio > EXPLODING_CRITICAL else
              "warning" if ratio > EXPLODING_WARNING else "info")
        en.append(f"the first layer's kernel gradient is {ratio:.1e} times the last layer's")
        ko.append(f"첫 번째 층의 커널 기울기가 마지막 층의 {ratio:.1e}배입니다")
    if _finite(largest) and largest > HUGE_GRAD_NORM:
        worse("critical" if largest > HUGE_GRAD_NORM_CRITICAL else "warning")
        en.append(f"the largest kernel gradient norm is {largest:.2e}")
        ko.append(f"가장 큰 커널 기울기 노름이 {largest:.2e}입니다")
    if huge_steps:
        worse("warning")
        step = max(r["update_ratio"] for r in layers if r["layer"] in huge_steps)
        en.append(f"one step (lr·‖g‖/‖W‖ up to {step:.2g}) would change the kernel of layer(s) "
                  f"{_join(huge_steps)} by more than its own size")
        ko.append(f"한 번의 업데이트(lr·‖g‖/‖W‖ 최대 {step:.2g})가 층 {_join(huge_steps)}의 커널을 "
                  "그 크기보다 더 크게 바꿉니다")
    if severity is None:
        return None
    concerned = sorted(set(non_finite) | set(huge_steps) | (
        {r["layer"] for r in layers if _finite(r["grad_norm_ratio"])
         and r["grad_norm_ratio"] > EXPLODING_INFO} if ratio is not None else set()) | (
        {r["layer"] for r in layers if _finite(r["kernel_grad_norm"])
         and r["kernel_grad_norm"] > HUGE_GRAD_NORM}))
    evidence = {"first_last_ratio": ratio, "max_kernel_grad_norm": largest,
                "non_finite_layers": non_finite, "max_update_ratio": max(
                    (r["update_ratio"] for r in layers if _finite(r["update_ratio"])),
                    default=None),
                "all_finite": all(_finite(v) for v in values)}
    message_en = "; ".join(en) + "."
    message_en = message_en[0].upper() + message_en[1:]
    message_ko = "; ".join(ko) + "."
    remedy_en = ("Lower the learning rate (about 10 times smaller), clip the gradients "
                 "(e.g. optimizer clipnorm=1.0), and use glorot_uniform init (he_normal for relu) "
                 "instead of large initial weights; standardised inputs and BatchNormalization "
                 "also keep the scale in check.")
    remedy_ko = ("학습률을 낮추세요 (약 10분의 1). 기울기 클리핑(예: 옵티마이저의 clipnorm=1.0)을 "
                 "쓰고, 큰 초기 가중치 대신 glorot_uniform 초기화(relu에는 he_normal)를 쓰세요. "
                 "입력 표준화와 BatchNormalization도 크기를 안정시킵니다.")
    return Finding("exploding", severity, concerned, evidence, message_en, message_ko,
                   remedy_en, remedy_ko)


def _saturation(layers: list[dict[str, Any]]) -> Finding | None:
    hit = [r for r in _hidden(layers)
           if r["saturated_fraction"] is not None and r["saturated_fraction"] > SATURATION_WARNING]
    if not hit:
        return None
    worst = max(r["saturated_fraction"] for r in hit)
    severity = "critical" if worst > SATURATION_CRITICAL else "warning"
    acts = "/".join(dict.fromkeys(r["activation"] for r in hit))
    numbers = ", ".join(f"{r['layer']}: {r['saturated_fraction']:.0%}" for r in hit)
    evidence = {"saturated_fraction": {str(r["layer"]): r["saturated_fraction"] for r in hit},
                "mean_abs_derivative": {str(r["layer"]): r["mean_abs_derivative"] for r in hit},
                "threshold": SATURATION_WARNING}
    message_en = (f"Most {acts} units sit in their flat tails, where f'(z) < 10 % of its maximum "
                  f"and almost no gradient passes (saturated share per layer: {numbers}).")
    message_ko = (f"{acts} 유닛 대부분이 평평한 꼬리 구간에 있어 f'(z)가 최댓값의 10 % 미만이고 "
                  f"기울기가 거의 전달되지 않습니다 (층별 포화 비율: {numbers}).")
    remedy_en = ("Use glorot_uniform init (too large weights push sigmoid/tanh into saturation), "
                 "standardise the inputs, add BatchNormalization before the activation, or "
                 "replace sigmoid by relu with he_normal init.")
    remedy_ko = ("glorot_uniform 초기화를 쓰세요 (가중치가 너무 크면 sigmoid/tanh가 포화됩니다). "
                 "입력을 표준화하거나, 활성화 함수 앞에 BatchNormalization을 넣거나, sigmoid를 "
                 "relu + he_normal 초기화로 바꾸세요.")
    return Finding("saturation", severity, [r["layer"] for r in hit], evidence, message_en,
                   message_ko, remedy_en, remedy_ko)


def _dead_units(layers: list[dict[str, Any]]) -> Finding | None:
    hit = [r for r in layers
           if r["dead_fraction"] is not None and r["dead_fraction"] > DEAD_WARNING]
    if not hit:
        return None
    severity = "critical" if any(r["dead_fraction"] >= 1.0 for r in hit) else "warning"
    numbers = ", ".join(f"{r['layer']}: {r['dead_fraction']:.0%}" for r in hit)
    evidence = {"dead_fraction": {str(r["layer"]): r["dead_fraction"] for r in hit},
                "threshold": DEAD_WARNING}
    all_dead = [r["layer"] for r in hit if r["dead_fraction"] >= 1.0]
    message_en = (f"Many relu units output 0 for every sample of the batch and pass no gradient "
                  f"(dead share per layer: {numbers})")
    message_ko = (f"많은 relu 유닛이 배치의 모든 샘플에 대해 0을 출력해 기울기를 전혀 전달하지 "
                  f"않습니다 (층별 죽은 유닛 비율: {numbers})")
    if all_dead:
        message_en += f"; layer(s) {_join(all_dead)} are entirely dead: nothing flows through."
        message_ko += f". 층 {_join(all_dead)}은(는) 전부 죽어서 아무것도 흐르지 않습니다."
    else:
        message_en += "."
        message_ko += "."
    remedy_en = ("Lower the learning rate (a too large step pushes biases far negative), use "
                 "he_normal init with zero biases, or use leaky_relu or elu, which keep a slope "
                 "for negative inputs; BatchNormalization before the relu also helps.")
    remedy_ko = ("학습률을 낮추세요 (너무 큰 업데이트가 편향을 크게 음수로 보냅니다). 편향을 0으로 "
                 "두고 he_normal 초기화를 쓰거나, 음수 입력에도 기울기가 있는 leaky_relu나 elu를 "
                 "쓰세요. relu 앞의 BatchNormalization도 도움이 됩니다.")
    return Finding("dead_units", severity, [r["layer"] for r in hit], evidence, message_en,
                   message_ko, remedy_en, remedy_ko)


def _stalled(layers: list[dict[str, Any]]) -> Finding | None:
    hit = [r for r in layers
           if _finite(r["update_ratio"]) and r["update_ratio"] < STALLED_UPDATE_RATIO]
    if not hit:
        return None
    smallest = min(r["update_ratio"] for r in hit)
    lr = hit[0]["learning_rate"]
    evidence = {"update_ratio": {str(r["layer"]): r["update_ratio"] for r in hit},
                "learning_rate": lr, "threshold": STALLED_UPDATE_RATIO}
    message_en = (f"One step at learning rate {lr:g} would change the kernel of layer(s) "
                  f"{_join([r['layer'] for r in hit])} by only {smallest:.1e} of its size "
                  "(lr·‖∂L/∂W‖/‖W‖; about 1e-3 is typical): these layers have stopped learning.")
    message_ko = (f"학습률 {lr:g}에서 한 번의 업데이트가 층 {_join([r['layer'] for r in hit])}의 "
                  f"커널을 그 크기의 {smallest:.1e}만큼만 바꿉니다 (lr·‖∂L/∂W‖/‖W‖, 보통 1e-3 "
                  "정도): 이 층들은 학습을 멈췄습니다.")
    remedy_en = ("Fix the vanishing gradient first if there is one (relu with he_normal init, "
                 "BatchNormalization); otherwise raise the learning rate, and check that a "
                 "learning-rate schedule has not decayed it to almost 0.")
    remedy_ko = ("기울기 소실이 있다면 먼저 해결하세요 (relu + he_normal 초기화, "
                 "BatchNormalization). 그렇지 않다면 학습률을 높이고, 학습률 스케줄이 학습률을 "
                 "거의 0으로 줄이지 않았는지 확인하세요.")
    return Finding("stalled_updates", "warning", [r["layer"] for r in hit], evidence,
                   message_en, message_ko, remedy_en, remedy_ko)


def _join(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _find(layers: list[dict[str, Any]]) -> list[Finding]:
    findings = [f for check in (_exploding, _vanishing, _saturation, _dead_units, _stalled)
                if (f := check(layers)) is not None]
    return sorted(findings, key=lambda f: _RANK[f.severity])  # stable: check order within a rank


def diagnose(model_or_history: Any, x: Any = None, y: Any = None) -> Diagnosis:
    """Findings about the gradient flow, each with evidence and a remedy (English and Korean).

    ``model_or_history``: a compiled model (then ``x`` and ``y`` are required: one
    :func:`gradient_flow` pass on them), or a History / :class:`GradientMonitor` whose latest
    record is diagnosed, or records / a :func:`gradient_flow` result.

    Checks (first/last = ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖):

    * vanishing: first/last < 1e-3 warning, < 1e-5 critical (< 1e-2 info);
    * exploding: NaN/inf norms (critical); first/last > 1e3 warning, > 1e5 critical; a kernel
      gradient norm > 1e3 (warning; > 1e6 critical); lr·‖g‖/‖W‖ > 1 (warning);
    * saturation: a hidden sigmoid/tanh layer with more than 50 % saturated entries (warning;
      more than 90 % critical);
    * dead_units: a relu layer with more than 50 % dead units (warning; 100 % critical);
    * stalled_updates: lr·‖g‖/‖W‖ < 1e-6 in a layer (warning).
    """
    if _is_model(model_or_history):
        if x is None or y is None:
            raise DataError(
                "diagnose(model, x, y) needs the data to measure the gradients on; got "
                f"x={'None' if x is None else type(x).__name__}, "
                f"y={'None' if y is None else type(y).__name__}. Pass a batch of inputs and "
                "targets, or diagnose the History of a fit run with a GradientMonitor."
            )
        loss, samples, layers = flow(model_or_history, x, y)
        context = {"source": "model", "samples": samples, "loss": loss}
    else:
        if x is not None or y is not None:
            raise ConfigError(
                "x and y are only used with a model (diagnose(model, x, y)); a History or "
                "GradientMonitor is diagnosed from its own records."
            )
        if _is_history(model_or_history) and not getattr(
                model_or_history, "gradients", None):
            raise ConfigError(_NO_GRADIENTS)
        if not (_is_history(model_or_history) or _is_monitor(model_or_history)
                or isinstance(model_or_history, (list, tuple, dict))):
            raise ConfigError(
                "diagnose takes a compiled Sequential model (with x and y), a History of a fit "
                "run with a GradientMonitor, a GradientMonitor, or gradient records; got "
                f"{type(model_or_history).__name__}."
            )
        records = _as_records(model_or_history, "diagnose")
        if not records or not records[-1].get("layers"):
            raise ConfigError(
                "diagnose found no gradient records to read: the monitor has not recorded yet "
                "(it records when fit starts)."
            )
        latest = records[-1]
        layers = latest["layers"]
        context = {"source": "history", **{k: latest[k] for k in RECORD_FIELDS if k in latest}}
    return Diagnosis(_find(layers), layers=layers, context=context)
