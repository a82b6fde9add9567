"""Figures of the vanishing-gradient lab, drawn from results dicts (plotting never trains).

* :func:`activation_figure` — f and f' of each activation, the maximum of f' annotated
  (``descentlab.activation_curves/1`` results);
* :func:`gradient_norm_figure` — ‖∂L/∂W‖ per layer at initialisation, one panel per activation,
  with the 0.25-per-layer sigmoid bound, and the first/last ratio against depth with 0.25^L;
* :func:`gradient_heatmap_figure` — log₁₀ ‖∂L/∂W‖ over layer × epoch at the deepest depth;
* :func:`accuracy_figure` — test accuracy against depth, mean ± std over seeds and every seed,
  with the chance level (these three: ``descentlab.vanishing/1`` results);
* :func:`weight_scale_figure` — the activation histograms of the weight-scale experiment,
  scales × layers (``descentlab.weight_scale/1`` results).

Every function takes the results and ``lang`` ("en" or "ko") and returns a matplotlib
``Figure`` (no pyplot state); :func:`write_figures` saves every figure a results dict supports
as PNG and SVG.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from descentlab.errors import ConfigError
from descentlab.plots.i18n import register, t
from descentlab.plots.style import figure_style, log_scale, save_figure

VANISHING_SCHEMA = "descentlab.vanishing/1"
CURVES_SCHEMA = "descentlab.activation_curves/1"
WEIGHT_SCALE_SCHEMA = "descentlab.weight_scale/1"

register({
    # activation names shown to readers (identifiers not listed here are shown as they are)
    "vanishing.act.sigmoid": {"en": "sigmoid", "ko": "시그모이드"},
    "vanishing.act.tanh": {"en": "tanh", "ko": "tanh"},
    "vanishing.act.relu": {"en": "ReLU", "ko": "ReLU"},
    "vanishing.act.softplus": {"en": "softplus", "ko": "소프트플러스"},
    "vanishing.act.leaky_relu": {"en": "leaky ReLU", "ko": "leaky ReLU"},
    "vanishing.act.elu": {"en": "ELU", "ko": "ELU"},
    "vanishing.act.gelu": {"en": "GELU", "ko": "GELU"},
    "vanishing.act.silu": {"en": "SiLU (swish)", "ko": "SiLU (swish)"},
    # activation functions
    "vanishing.curves_title": {
        "en": "Activation functions f(x) (solid) and their derivatives f'(x) (dashed)",
        "ko": "활성화 함수 f(x)(실선)와 도함수 f'(x)(점선)"},
    "vanishing.x_axis": {"en": "input x (pre-activation z)", "ko": "입력 x (활성화 전 값 z)"},
    "vanishing.value_axis": {"en": "value", "ko": "값"},
    "vanishing.max_at": {"en": "max f' = {value} at x = {x}",
                         "ko": "f' 최댓값 {value} (x = {x})"},
    "vanishing.max_positive": {"en": "f' = {value} for every x > 0",
                               "ko": "x > 0 이면 항상 f' = {value}"},
    "vanishing.sup_infinity": {"en": "f' → {value} as x → ∞ (never reached)",
                               "ko": "x → ∞ 이면 f' → {value} (도달하지 않음)"},
    "vanishing.product_bound": {"en": "L sigmoid layers: product of f' ≤ 0.25ᴸ",
                                "ko": "시그모이드 L개 층: f' 곱 ≤ 0.25ᴸ"},
    # gradient norms
    "vanishing.norms_title": {
        "en": "Gradient norm per layer at initialisation ({initializer}; geometric mean "
              "over {seeds} seed{seeds_s})",
        "ko": "초기화 직후 층별 기울기 노름 ({initializer}, 시드 {seeds}개의 기하평균)"},
    "vanishing.layer_axis": {"en": "layer (1 = first hidden, last = output)",
                             "ko": "층 (1 = 첫 은닉층, 마지막 = 출력층)"},
    "vanishing.norm_axis": {"en": "‖∂L/∂W‖ (L2 norm, log scale)",
                            "ko": "‖∂L/∂W‖ (L2 노름, 로그 눈금)"},
    "vanishing.depth_legend": {"en": "L = {depth}", "ko": "L = {depth}"},
    "vanishing.bound_per_layer": {
        "en": "×0.25 per layer (σ' ≤ 0.25), L = {depth}",
        "ko": "층마다 ×0.25 (σ' ≤ 0.25), L = {depth}"},
    "vanishing.ratio_title": {"en": "First/last gradient ratio vs depth",
                              "ko": "깊이에 따른 첫 층/마지막 층 기울기 비율"},
    "vanishing.depth_axis": {"en": "depth L (hidden layers)", "ko": "깊이 L (은닉층 수)"},
    "vanishing.ratio_axis": {"en": "‖∂L/∂W₁‖ / ‖∂L/∂W_out‖ (log scale)",
                             "ko": "‖∂L/∂W₁‖ / ‖∂L/∂W_out‖ (로그 눈금)"},
    "vanishing.sigmoid_bound": {"en": "0.25ᴸ (bound on the product of σ')",
                                "ko": "0.25ᴸ (σ' 곱의 상한)"},
    # heatmap
    "vanishing.heatmap_title": {
        "en": "log₁₀ gradient norm by layer and epoch (depth L = {depth}, {initializer}, "
              "mean over {seeds} seed{seeds_s})",
        "ko": "층·에포크별 기울기 노름의 log₁₀ (깊이 L = {depth}, {initializer}, "
              "시드 {seeds}개 평균)"},
    "vanishing.epoch_axis": {"en": "epoch (0 = initialisation)", "ko": "에포크 (0 = 초기화)"},
    "vanishing.heat_layer_axis": {"en": "layer (1 = first hidden)",
                                  "ko": "층 (1 = 첫 은닉층)"},
    "vanishing.colorbar": {"en": "log₁₀ ‖∂L/∂W‖", "ko": "log₁₀ ‖∂L/∂W‖"},
    # accuracy
    "vanishing.accuracy_title": {
        "en": "Test accuracy after {epochs} epochs vs depth (SGD, learning rate {lr}, "
              "batch {batch}, {dataset})",
        "ko": "깊이에 따른 {epochs} 에포크 후 테스트 정확도 (SGD, 학습률 {lr}, 배치 {batch}, "
              "{dataset})"},
    "vanishing.accuracy_axis": {"en": "test accuracy (fraction correct)",
                                "ko": "테스트 정확도 (맞힌 비율)"},
    "vanishing.chance": {"en": "chance level (1/{classes})",
                         "ko": "무작위 추측 수준 (1/{classes})"},
    "vanishing.spread_note": {"en": "line: mean ± std over {seeds} seed{seeds_s}; "
                                    "dots: single seeds",
                              "ko": "선: 시드 {seeds}개의 평균 ± 표준편차, 점: 개별 시드"},
    # weight scale
    "vanishing.ws_title": {
        "en": "Activations of {layers} layers × {units} units, {activation}, no bias, "
              "weights N(0, s²), input {samples}×{units} standard normal",
        "ko": "{activation}: {layers}개 층 × {units}개 유닛의 활성화 값 (편향 없음, "
              "가중치 N(0, s²), 입력 {samples}×{units} 표준정규)"},
    "vanishing.ws_value_axis": {"en": "activation value", "ko": "활성화 값"},
    "vanishing.ws_share_axis": {"en": "share of outputs (%)", "ko": "출력 비율 (%)"},
    "vanishing.ws_layer": {"en": "layer {k}", "ko": "{k}층"},
    "vanishing.ws_std": {"en": "std {value}", "ko": "표준편차 {value}"},
    "vanishing.ws_zeros": {"en": "a = 0: {share} (not drawn)",
                           "ko": "a = 0: {share} (그리지 않음)"},
    "vanishing.scale.1": {"en": "s = 1", "ko": "s = 1"},
    "vanishing.scale.0.01": {"en": "s = 0.01", "ko": "s = 0.01"},
    "vanishing.scale.xavier": {"en": "Xavier s = √(1/n)", "ko": "Xavier s = √(1/n)"},
    "vanishing.scale.he": {"en": "He s = √(2/n)", "ko": "He s = √(2/n)"},
    "vanishing.scale.other": {"en": "s = {value}", "ko": "s = {value}"},
})

#: One colour per activation, the same in every figure.
COLORS = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green",
          "softplus": "tab:red", "leaky_relu": "tab:purple", "elu": "tab:brown",
          "gelu": "tab:pink", "silu": "tab:olive"}


def _color(name: str, index: int = 0) -> str:
    return COLORS.get(name, f"C{index % 10}")


def activation_label(name: str, lang: str) -> str:
    key = f"vanishing.act.{name}"
    try:
        return t(key, lang)
    except ConfigError:
        return name  # an identifier the lab does not know: shown as the code spells it


def _check(results: dict[str, Any], schema: str) -> None:
    found = results.get("schema") if isinstance(results, dict) else None
    if found != schema:
        raise ConfigError(f"this figure draws {schema!r} results; got {found!r}.")


def _number_text(value: float) -> str:
    return f"{value:.4g}"


# ---------------------------------------------------------------------------------------------
# Activation functions and derivatives
# ---------------------------------------------------------------------------------------------
def activation_figure(curves: dict[str, Any], lang: str = "en",
                      names: Sequence[str] | None = None) -> Figure:
    """f and f' of every activation in ``curves`` (one panel each), max f' annotated."""
    _check(curves, CURVES_SCHEMA)
    names = list(names or curves["functions"])
    x = np.asarray(curves["x"])
    columns = min(4, len(names))
    rows = math.ceil(len(names) / columns)
    with figure_style(lang):
        fig = Figure(figsize=(3.6 * columns, 3.3 * rows + 0.5))
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        for i, (ax, name) in enumerate(zip(axes, names, strict=False)):
            data = curves["functions"][name]
            color = _color(name, i)
            ax.plot(x, data["y"], color=color, lw=2, label="f(x)")
            ax.plot(x, data["dy"], color=color, lw=1.6, ls="--", label="f'(x)")
            peak = data["max_derivative"]
            value = _number_text(peak["measured"])
            if not peak["reached"]:
                ax.axhline(peak["documented"], color="0.4", lw=0.8, ls=":")
                text = t("vanishing.sup_infinity", lang, value=_number_text(peak["documented"]))
            elif peak["documented_at"] is None:
                text = t("vanishing.max_positive", lang, value=value)
                ax.plot([0, x[-1]], [peak["measured"]] * 2, color="black", lw=3, alpha=0.25)
            else:
                text = t("vanishing.max_at", lang, value=value, x=f"{peak['at']:.4g}")
                ax.plot([peak["at"]], [peak["measured"]], "o", color="black", ms=5, zorder=5)
            ax.set_title(activation_label(name, lang))
            ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", ha="left", fontsize=8.5,
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.9})
            if name == "sigmoid":
                ax.text(0.03, 0.80, t("vanishing.product_bound", lang), transform=ax.transAxes,
                        va="top", ha="left", fontsize=8.5)
            low = min(-0.25, float(np.min(data["y"])), float(np.min(data["dy"])))
            high = max(1.25, float(np.max(data["dy"])) + 0.35)
            ax.set_ylim(max(low, -2.0) - 0.1, min(high, 3.0))
            ax.axhline(0, color="0.5", lw=0.6)
            ax.axvline(0, color="0.5", lw=0.6)
            ax.set_xlabel(t("vanishing.x_axis", lang), fontsize=8.5)
            if i % columns == 0:
                ax.set_ylabel(t("vanishing.value_axis", lang))
            ax.legend(loc="lower right", fontsize=8.5)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        fig.suptitle(t("vanishing.curves_title", lang))
    return fig


# ---------------------------------------------------------------------------------------------
# Grid results: helpers
# ---------------------------------------------------------------------------------------------
def _trials(results: dict[str, Any], activation: str, initializer: str,
            depth: int) -> list[dict[str, Any]]:
    return [r for r in results["trials"]
            if (r["config"]["activation"], r["config"]["initializer"], r["config"]["depth"])
            == (activation, initializer, depth)]


def _geomean_rows(rows: list[list[float | None]]) -> np.ndarray:
    """Geometric mean over seeds of per-layer norms (NaN where a seed has no finite value)."""
    array = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.mean(np.log(array), axis=0))


def _initializer(results: dict[str, Any], initializer: str | None) -> str:
    available = results["configuration"]["initializers"]
    if initializer is None:
        return available[0]
    if initializer not in available:
        raise ConfigError(f"these results have no initializer {initializer!r}; they have "
                          f"{', '.join(available)}.")
    return initializer


# ---------------------------------------------------------------------------------------------
# Gradient norms per layer, and the first/last ratio against depth
# ---------------------------------------------------------------------------------------------
def gradient_norm_figure(results: dict[str, Any], lang: str = "en",
                         initializer: str | None = None) -> Figure:
    """‖∂L/∂W‖ per layer at initialisation: one panel per activation, one line per depth; the
    last panel shows first/last against depth with the 0.25^L line."""
    _check(results, VANISHING_SCHEMA)
    initializer = _initializer(results, initializer)
    config = results["configuration"]
    activations, depths = config["activations"], sorted(config["depths"])
    panels = len(activations) + 1
    columns = min(3, panels)
    rows = math.ceil(panels / columns)
    cmap = _depth_colors(depths)
    with figure_style(lang):
        fig = Figure(figsize=(4.4 * columns, 3.6 * rows + 0.5))
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        for ax, activation in zip(axes, activations, strict=False):
            for depth in depths:
                trials = _trials(results, activation, initializer, depth)
                if not trials:
                    continue
                norms = _geomean_rows([r["grad_norms"]["init"] for r in trials])
                layers = np.arange(1, len(norms) + 1)
                ax.plot(layers, norms, "o-", ms=3, color=cmap(depth),
                        label=t("vanishing.depth_legend", lang, depth=depth))
            deepest = depths[-1]
            trials = _trials(results, activation, initializer, deepest)
            if activation == "sigmoid" and trials:
                norms = _geomean_rows([r["grad_norms"]["init"] for r in trials])
                layers = np.arange(1, len(norms) + 1)
                steps = len(norms) - layers  # sigmoid derivatives between layer l and output
                ax.plot(layers, norms[-1] * 0.25 ** steps, color="black", ls=":", lw=1.4,
                        label=t("vanishing.bound_per_layer", lang, depth=deepest))
            log_scale(ax)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(activation_label(activation, lang))
            ax.set_xlabel(t("vanishing.layer_axis", lang))
            ax.set_ylabel(t("vanishing.norm_axis", lang))
            # The sigmoid's curves climb from lower left to upper right: lower right is free.
            ax.legend(fontsize=7.5, ncol=2 if len(depths) > 4 else 1,
                      loc="lower right" if activation == "sigmoid" else "best")
        _ratio_panel(axes[len(activations)], results, initializer, lang)
        for ax in axes[panels:]:
            ax.set_visible(False)
        fig.suptitle(t("vanishing.norms_title", lang, initializer=initializer,
                       seeds=len(config["seeds"])))
    return fig


def _depth_colors(depths: Sequence[int]) -> Any:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    norm = Normalize(vmin=min(depths) - 0.5, vmax=max(depths) + 0.5)
    return lambda depth: cmap(0.9 * norm(depth))


def _ratio_panel(ax: Any, results: dict[str, Any], initializer: str, lang: str) -> None:
    config = results["configuration"]
    depths = sorted(config["depths"])
    for i, activation in enumerate(config["activations"]):
        color = _color(activation, i)
        means = []
        for depth in depths:
            trials = _trials(results, activation, initializer, depth)
            ratios = [r["ratio_first_last"]["init"] for r in trials]
            finite = [v for v in ratios if v is not None and v > 0]
            ax.plot([depth] * len(finite), finite, ".", color=color, alpha=0.45, ms=5)
            means.append(float(np.exp(np.mean(np.log(finite)))) if finite else np.nan)
        ax.plot(depths, means, "o-", color=color, ms=4, label=activation_label(activation, lang))
    line = np.linspace(min(depths), max(depths), 50)
    ax.plot(line, 0.25 ** line, color="black", ls="--", lw=1.2,
            label=t("vanishing.sigmoid_bound", lang))
    log_scale(ax)
    ax.set_xticks(depths)
    ax.set_title(t("vanishing.ratio_title", lang))
    ax.set_xlabel(t("vanishing.depth_axis", lang))
    ax.set_ylabel(t("vanishing.ratio_axis", lang))
    ax.legend(fontsize=7.5)


# ---------------------------------------------------------------------------------------------
# Layer × epoch heatmap
# ---------------------------------------------------------------------------------------------
def gradient_heatmap_figure(results: dict[str, Any], lang: str = "en", depth: int | None = None,
                            initializer: str | None = None) -> Figure:
    """log₁₀ ‖∂L/∂W‖ on layer × epoch (epoch 0 = initialisation), one panel per activation at
    ``depth`` (default: the deepest), mean of log₁₀ over seeds, one shared colour scale."""
    _check(results, VANISHING_SCHEMA)
    initializer = _initializer(results, initializer)
    config = results["configuration"]
    depth = max(config["depths"]) if depth is None else depth
    activations = config["activations"]
    maps: list[np.ndarray | None] = []
    for activation in activations:
        trials = _trials(results, activation, initializer, depth)
        per_seed = []
        for r in trials:
            norms = [r["grad_norms"]["init"], *r["grad_norms"]["epochs"]]
            array = np.array([[np.nan if v is None else v for v in row] for row in norms], float)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_seed.append(np.log10(array))
        if not per_seed:
            maps.append(None)
            continue
        epochs = max(len(a) for a in per_seed)
        padded = np.full((len(per_seed), epochs, per_seed[0].shape[1]), np.nan)
        for k, array in enumerate(per_seed):
            padded[k, :len(array)] = array  # a diverged run stops early: the rest stays blank
        with warnings.catch_warnings():  # an all-NaN cell stays NaN (drawn blank), silently
            warnings.simplefilter("ignore", RuntimeWarning)
            maps.append(np.nanmean(padded, axis=0).T)  # layers × epochs
    finite = np.concatenate([m[np.isfinite(m)] for m in maps if m is not None] or [np.zeros(1)])
    vmin, vmax = float(finite.min()), float(finite.max())
    columns = min(2, len(activations))
    rows = math.ceil(len(activations) / columns)
    with figure_style(lang):
        fig = Figure(figsize=(5.4 * columns, 3.3 * rows + 0.6))
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        image = None
        for ax, activation, grid in zip(axes, activations, maps, strict=False):
            ax.set_title(activation_label(activation, lang))
            ax.grid(False)
            if grid is None:
                continue
            image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto",
                              cmap="magma", vmin=vmin, vmax=vmax,
                              extent=(-0.5, grid.shape[1] - 0.5, 0.5, grid.shape[0] + 0.5))
            ax.set_xlabel(t("vanishing.epoch_axis", lang))
            ax.set_ylabel(t("vanishing.heat_layer_axis", lang))
            ax.set_yticks(_layer_ticks(grid.shape[0]))
        for ax in axes[len(activations):]:
            ax.set_visible(False)
        if image is not None:
            bar = fig.colorbar(image, ax=list(axes[:len(activations)]), shrink=0.9)
            bar.set_label(t("vanishing.colorbar", lang))
        fig.suptitle(t("vanishing.heatmap_title", lang, depth=depth, initializer=initializer,
                       seeds=len(config["seeds"])))
    return fig


def _layer_ticks(count: int) -> list[int]:
    if count <= 12:
        return list(range(1, count + 1))
    step = math.ceil(count / 10)
    return list(range(1, count + 1, step))


# ---------------------------------------------------------------------------------------------
# Accuracy against depth
# ---------------------------------------------------------------------------------------------
def accuracy_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Final test accuracy against depth: mean ± std over seeds (line, error bars), every seed
    (dots), the chance level 1/classes (dashed)."""
    _check(results, VANISHING_SCHEMA)
    config = results["configuration"]
    base = config["base"]
    depths = sorted(config["depths"])
    initializers = config["initializers"]
    styles = ["-", "--", "-.", ":"]
    with figure_style(lang):
        fig = Figure(figsize=(8.2, 5.0))
        ax = fig.subplots()
        offsets = np.linspace(-0.12, 0.12, len(config["activations"]) * len(initializers))
        k = 0
        for i, activation in enumerate(config["activations"]):
            for j, initializer in enumerate(initializers):
                color = _color(activation, i)
                means, stds, shown = [], [], []
                for depth in depths:
                    trials = _trials(results, activation, initializer, depth)
                    values = [r["final"]["test_accuracy"] for r in trials]
                    values = [0.0 if v is None else v for v in values]
                    if not values:
                        continue
                    ax.plot([depth + offsets[k]] * len(values), values, ".", color=color,
                            alpha=0.5, ms=6)
                    means.append(np.mean(values))
                    stds.append(np.std(values))
                    shown.append(depth + offsets[k])
                label = activation_label(activation, lang)
                if len(initializers) > 1:
                    label = f"{label} ({initializer})"
                ax.errorbar(shown, means, yerr=stds, color=color, ls=styles[j % len(styles)],
                            marker="o", ms=5, capsize=3, lw=1.6, label=label)
                k += 1
        chance = results["trials"][0]["chance"] if results["trials"] else 0.0
        classes = round(1 / chance) if chance else 0
        ax.axhline(chance, color="0.3", ls="--", lw=1.2,
                   label=t("vanishing.chance", lang, classes=classes))
        ax.set_xticks(depths)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(t("vanishing.depth_axis", lang))
        ax.set_ylabel(t("vanishing.accuracy_axis", lang))
        ax.set_title(t("vanishing.accuracy_title", lang, epochs=base["epochs"],
                       lr=f"{base['learning_rate']:g}", batch=base["batch_size"],
                       dataset=base["dataset"]), fontsize=10.5)
        ax.text(0.01, 0.02, t("vanishing.spread_note", lang, seeds=len(config["seeds"])),
                transform=ax.transAxes, fontsize=8.5, color="0.3")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


# ---------------------------------------------------------------------------------------------
# Weight-scale histograms
# ---------------------------------------------------------------------------------------------
def _scale_label(scale: str, lang: str) -> str:
    if scale in ("1", "0.01", "xavier", "he"):
        return t(f"vanishing.scale.{scale}", lang)
    return t("vanishing.scale.other", lang, value=scale)


def _compact(value: float, _position: Any = None) -> str:
    """Tick labels without an offset text: 0, 0.5, 2e+04 (no '1e5' floating over a title)."""
    return "0" if value == 0 else f"{value:.2g}"


def weight_scale_figure(weight_scale: dict[str, Any], lang: str = "en",
                        activation: str = "sigmoid") -> Figure:
    """Histograms of the activation values: one row per weight scale, one column per layer.

    Bars are shares of all samples × units outputs of a layer (the stored counts / total).
    ReLU's exact zeros (about half of all outputs) are left out of the first bar and given as
    a share, so that the rest of the distribution stays visible.
    """
    _check(weight_scale, WEIGHT_SCALE_SCHEMA)
    config = weight_scale["configuration"]
    runs = [r for r in weight_scale["runs"] if r["activation"] == activation]
    if not runs:
        raise ConfigError(f"these weight-scale results have no {activation!r} runs; they have "
                          f"{', '.join(config['activations'])}.")
    layers = config["layers"]
    total = config["samples"] * config["units"]
    color = _color(activation)
    with figure_style(lang):
        fig = Figure(figsize=(2.5 * layers + 0.8, 2.1 * len(runs) + 0.8))
        axes = fig.subplots(len(runs), layers, squeeze=False)
        for row, run in enumerate(runs):
            edges = np.asarray(run["edges"])
            for col, layer in enumerate(run["layers"]):
                ax = axes[row, col]
                counts = np.asarray(layer["counts"], dtype=float)
                zeros = layer["zero"]
                if zeros > 0.01 and edges[0] == 0.0:
                    counts[0] -= round(zeros * total)
                    ax.text(0.97, 0.95, t("vanishing.ws_zeros", lang, share=f"{zeros:.0%}"),
                            transform=ax.transAxes, ha="right", va="top", fontsize=7)
                # One filled step artist per panel, not one rectangle per bin: the same
                # picture, drawn several times faster.
                ax.stairs(100.0 * counts / total, edges, fill=True, color=color, alpha=0.85)
                ax.set_xlim(edges[0], edges[-1])
                ax.text(0.97, 0.80, t("vanishing.ws_std", lang, value=f"{layer['std']:.3g}"),
                        transform=ax.transAxes, ha="right", va="top", fontsize=7,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                              "alpha": 0.8})
                ax.tick_params(labelsize=7)
                ax.xaxis.set_major_locator(MaxNLocator(4))
                ax.xaxis.set_major_formatter(FuncFormatter(_compact))
                if row == 0:
                    ax.set_title(t("vanishing.ws_layer", lang, k=col + 1), fontsize=9.5)
                if col == 0:
                    ax.set_ylabel(f"{_scale_label(run['scale'], lang)}\n"
                                  f"{t('vanishing.ws_share_axis', lang)}", fontsize=8.5)
                if row == len(runs) - 1:
                    ax.set_xlabel(t("vanishing.ws_value_axis", lang), fontsize=8.5)
        fig.suptitle(t("vanishing.ws_title", lang, activation=activation_label(activation, lang),
                       layers=layers, units=config["units"], samples=config["samples"]),
                     fontsize=10.5)
    return fig


# ---------------------------------------------------------------------------------------------
# Writing everything
# ---------------------------------------------------------------------------------------------
def figures_for(results: dict[str, Any], lang: str = "en") -> dict[str, Figure]:
    """Every figure these results support, by file stem (without the language suffix)."""
    schema = results.get("schema") if isinstance(results, dict) else None
    if schema == VANISHING_SCHEMA:
        initializers = results["configuration"]["initializers"]
        if len(initializers) == 1:
            figures = {"vanishing_gradient_norms": gradient_norm_figure(results, lang),
                       "vanishing_gradient_heatmap": gradient_heatmap_figure(results, lang)}
        else:  # one pair of gradient figures per initializer; accuracy compares them all
            figures = {}
            for name in initializers:
                figures[f"vanishing_gradient_norms_{name}"] = gradient_norm_figure(
                    results, lang, initializer=name)
                figures[f"vanishing_gradient_heatmap_{name}"] = gradient_heatmap_figure(
                    results, lang, initializer=name)
        figures["vanishing_accuracy"] = accuracy_figure(results, lang)
        return figures
    if schema == CURVES_SCHEMA:
        return {"activation_functions": activation_figure(results, lang)}
    if schema == WEIGHT_SCALE_SCHEMA:
        return {f"weight_scale_{activation}": weight_scale_figure(results, lang, activation)
                for activation in results["configuration"]["activations"]}
    raise ConfigError(f"no figures for results with schema {schema!r}; expected one of "
                      f"{VANISHING_SCHEMA}, {CURVES_SCHEMA}, {WEIGHT_SCALE_SCHEMA}.")


def write_figures(results: dict[str, Any] | Sequence[dict[str, Any]], folder: str,
                  lang: str = "en") -> list[str]:
    """Save every figure of ``results`` (one results dict or several) as
    ``folder/<name>_<lang>.png`` and ``.svg``; returns the paths written."""
    parts = [results] if isinstance(results, dict) else list(results)
    paths: list[str] = []
    for part in parts:
        for name, fig in figures_for(part, lang).items():
            with figure_style(lang):  # the minus sign and fonts are chosen when text is drawn
                paths.extend(save_figure(fig, folder, f"{name}_{lang}"))
    return paths
