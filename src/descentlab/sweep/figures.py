"""Figures of a sweep, drawn from its results (nothing here trains), in English or Korean.

* ``sweep_sensitivity``: per optimizer, the final training loss and the final validation
  accuracy against the learning rate — the mean over seeds as a line, the seeds' minimum–maximum
  as a band, the best rate as a dot, a diverged setting as a × along the top edge;
* ``sweep_best``: the best setting of each optimizer, training loss and validation accuracy
  against epochs (mean over seeds, band min–max).

The style and the fonts (Hangul from NanumGothic) are the other figures' (:mod:`descentlab.plots`).
Each mean line carries ``gid = "<optimizer>:<panel>"`` so that a test can read back exactly
what was drawn.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from descentlab.plots.i18n import register, t
from descentlab.plots.optimizers import COLORS, label
from descentlab.plots.style import figure_style, log_scale, save_figure

register({
    "sweep.sens_title": {"en": "Learning-rate sensitivity on {data}: mean over {seeds} "
                               "seed{seeds_s} (band: min–max)",
                         "ko": "{data} 데이터에서 학습률 민감도: 시드 {seeds}개 평균 "
                               "(띠: 최소–최대)"},
    "sweep.diverged": {"en": "× diverged", "ko": "× 발산"},
    "sweep.best_title": {"en": "Best setting of each optimizer (by {metric}): mean over seeds",
                         "ko": "옵티마이저별 최적 설정 ({metric} 기준): 시드 평균"},
    "sweep.metric.train_loss": {"en": "final training loss", "ko": "최종 훈련 손실"},
    # A sweep measures the whole training set after each epoch (sweep.trial), not the epoch's
    # running mean the report's sensitivity figure plots: its own words for its own number.
    "sweep.train_loss": {"en": "training loss after the last epoch\n(whole training set, "
                               "log scale)",
                         "ko": "마지막 에포크 뒤 훈련 손실\n(훈련 세트 전체, 로그 축)"},
    "sweep.metric.val_loss": {"en": "final validation loss", "ko": "최종 검증 손실"},
    "sweep.metric.val_accuracy": {"en": "final validation accuracy", "ko": "최종 검증 정확도"},
    "sweep.epoch_loss": {"en": "training loss (log scale)", "ko": "훈련 손실 (로그 축)"},
    "sweep.epoch_accuracy": {"en": "validation accuracy", "ko": "검증 정확도"},
})

# (the accuracy's axis label is the report's sensitivity figure's, registered by plots.optimizers)
_PANELS = (("train_loss", "sweep.train_loss"), ("val_accuracy", "sens.val_accuracy"))


def _color(name: str, index: int) -> Any:
    import matplotlib

    return COLORS.get(name) or matplotlib.colormaps["tab10"](index % 10)


def sensitivity_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Final training loss and validation accuracy against the learning rate, per optimizer."""
    summary = results["summary"]
    with figure_style(lang):
        fig = Figure(figsize=(12, 4.8))
        axes = fig.subplots(1, 2)
        for index, (name, entry) in enumerate(summary["optimizers"].items()):
            color = _color(name, index)
            best = entry["best"]
            for ax, (metric, _) in zip(axes, _PANELS, strict=True):
                points = [p for p in entry["points"] if p[metric]["mean"] is not None]
                rates = np.array([p["learning_rate"] for p in points])
                mean = np.array([p[metric]["mean"] for p in points])
                ax.plot(rates, mean, "-o", ms=3, color=color, label=label(name, lang),
                        gid=f"{name}:{metric}")
                if len(points) > 1:
                    ax.fill_between(rates, [p[metric]["min"] for p in points],
                                    [p[metric]["max"] for p in points], color=color,
                                    alpha=0.15, lw=0)
                if best is not None and best[metric]["mean"] is not None:
                    ax.plot([best["config"]["learning_rate"]], [best[metric]["mean"]], "o",
                            ms=8, mfc="none", color=color)
                diverged = [p["learning_rate"] for p in entry["points"]
                            if p[metric]["mean"] is None]
                if diverged:
                    ax.plot(diverged, [0.97] * len(diverged), "x", color=color,
                            transform=ax.get_xaxis_transform(), gid=f"{name}:{metric}:diverged")
        for ax, (_, text) in zip(axes, _PANELS, strict=True):
            ax.set_xscale("log")
            ax.set_xlabel(t("sens.rate", lang))
            ax.set_ylabel(t(text, lang))
        log_scale(axes[0])
        handles, labels = axes[0].get_legend_handles_labels()
        if any(p["diverged"] for e in summary["optimizers"].values() for p in e["points"]):
            labels = [*labels, t("sweep.diverged", lang)]
            handles = [*handles, axes[0].plot([], [], "x", color="grey")[0]]
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=6, fontsize=8)
        seeds = len(results["space"]["seeds"])
        fig.suptitle(t("sweep.sens_title", lang, data=results["space"]["data"], seeds=seeds))
    return fig


def best_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Training loss and validation accuracy against epochs for each optimizer's best setting."""
    by_id = {r["id"]: r for r in results["trials"]}
    summary = results["summary"]
    with figure_style(lang):
        fig = Figure(figsize=(12, 4.8))
        axes = fig.subplots(1, 2)
        for index, (name, entry) in enumerate(summary["optimizers"].items()):
            best = entry["best"]
            if best is None:
                continue
            color = _color(name, index)
            text = f"{label(name, lang)} (lr {best['config']['learning_rate']:.3g})"
            runs = [by_id[i] for i in best["ids"]]
            for ax, metric in zip(axes, ("train_loss", "val_accuracy"), strict=True):
                curves = np.array([r["epochs"][metric] for r in runs], dtype=np.float64)
                epochs = np.arange(1, curves.shape[1] + 1)
                ax.plot(epochs, curves.mean(axis=0), color=color, label=text,
                        gid=f"{name}:{metric}")
                if len(runs) > 1:
                    ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=color,
                                    alpha=0.15, lw=0)
        for ax, key in zip(axes, ("sweep.epoch_loss", "sweep.epoch_accuracy"), strict=True):
            ax.set_xlabel(t("epoch", lang))
            ax.set_ylabel(t(key, lang))
        log_scale(axes[0])
        if axes[0].get_legend_handles_labels()[0]:
            axes[1].legend(fontsize=8, loc="lower right")
        fig.suptitle(t("sweep.best_title", lang,
                       metric=t(f"sweep.metric.{summary['metric']}", lang)))
    return fig


def write_figures(results: dict[str, Any], folder: str, lang: str = "en",
                  formats: tuple[str, ...] = ("png", "svg")) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    paths = save_figure(sensitivity_figure(results, lang), folder, "sweep_sensitivity", formats)
    paths += save_figure(best_figure(results, lang), folder, "sweep_best", formats)
    return paths
