"""Figures of the optimizer lab: trajectories on surfaces, theory vs measurement, costs on data,
learning-rate sensitivity.

Each function takes the JSON-able results of :mod:`descentlab.lab.surfaces` or
:mod:`descentlab.lab.optimizers` and a language, and returns a matplotlib Figure; nothing here
trains or steps an optimizer.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from descentlab.plots.i18n import register, t
from descentlab.plots.style import figure_style, log_scale, save_figure

register({
    "surf.title": {"en": "{formula}: {steps} steps from ({x:g}, {y:g})",
                   "ko": "{formula}: ({x:g}, {y:g})에서 {steps} 스텝"},
    "surf.lr.shared": {"en": "one shared learning rate {lr:g}, no gradient clipping",
                       "ko": "모든 옵티마이저에 같은 학습률 {lr:g}, 기울기 클리핑 없음"},
    "surf.lr.tuned": {"en": "learning rate tuned per optimizer (log grid), no gradient clipping",
                      "ko": "옵티마이저마다 학습률 조정 (로그 격자 탐색), 기울기 클리핑 없음"},
    "surf.lr.dlfs": {"en": "per-optimizer learning rates of Deep Learning from Scratch, ch. 6",
                     "ko": "밑바닥부터 시작하는 딥러닝 6장의 옵티마이저별 학습률"},
    "surf.value_gap": {"en": "f(x, y) − f(minimum), log scale",
                       "ko": "f(x, y) − f(최솟값), 로그 축"},
    "surf.value": {"en": "f(x, y)", "ko": "f(x, y)"},
    "surf.loss_title": {"en": "Loss against step", "ko": "스텝에 따른 손실"},
    "surf.path_title": {"en": "Trajectories on the contour plot",
                        "ko": "등고선 위의 궤적"},
    "surf.diverged_at": {"en": "{name} (diverged at step {step})",
                         "ko": "{name} ({step} 스텝에서 발산)"},
    "theory.title": {"en": "Quadratic with κ = {kappa:g}: predicted vs measured convergence",
                     "ko": "κ = {kappa:g}인 이차함수: 예측한 수렴 속도와 측정한 수렴 속도"},
    "theory.distance": {"en": "distance to the minimum (log scale)",
                        "ko": "최솟값까지의 거리 (로그 축)"},
    "theory.gd": {"en": "GD, α* = {lr:.3g}: measured rate {measured:.4f}",
                  "ko": "GD, α* = {lr:.3g}: 측정 수렴률 {measured:.4f}"},
    "theory.momentum": {"en": "momentum, α* = {lr:.3g}, β* = {beta:.3g}: measured rate "
                              "{measured:.4f}",
                        "ko": "모멘텀, α* = {lr:.3g}, β* = {beta:.3g}: 측정 수렴률 "
                              "{measured:.4f}"},
    "theory.predicted": {"en": "predicted rate {rate:.4f}", "ko": "예측 수렴률 {rate:.4f}"},
    "data.title": {"en": "Optimizers on {dataset}: mean over {seeds} seed{seeds_s} "
                         "(band: min–max)",
                   "ko": "{dataset} 데이터에서 옵티마이저 비교: "
                         "시드 {seeds}개 평균 (띠: 최소–최대)"},
    "data.train_loss": {"en": "training loss (log scale)", "ko": "훈련 손실 (로그 축)"},
    "data.evaluations": {"en": "gradient evaluations (samples, log scale)",
                         "ko": "기울기 계산 횟수 (샘플 수, 로그 축)"},
    "data.vs_epochs": {"en": "against epochs", "ko": "에포크 기준"},
    "data.vs_evaluations": {"en": "against gradient evaluations (the cost)",
                            "ko": "기울기 계산 횟수 기준 (비용)"},
    "data.vs_seconds": {"en": "against training time", "ko": "훈련 시간 기준"},
    "data.val_accuracy": {"en": "validation accuracy", "ko": "검증 정확도"},
    "data.val_title": {"en": "Validation accuracy and loss against epochs",
                       "ko": "에포크에 따른 검증 정확도와 손실"},
    "data.val_loss": {"en": "validation loss (log scale)", "ko": "검증 손실 (로그 축)"},
    "data.target": {"en": "target loss {target:g}", "ko": "목표 손실 {target:g}"},
    "data.gd_vs_sgd": {"en": "The first {updates} updates: full-batch GD vs mini-batch SGD",
                       "ko": "처음 {updates}번의 업데이트: 전체 배치 GD와 미니 배치 SGD"},
    "data.updates": {"en": "updates (optimizer steps)", "ko": "업데이트 횟수 (옵티마이저 스텝)"},
    "data.batch_loss": {"en": "{name}: loss of the batch", "ko": "{name}: 배치의 손실"},
    "data.full_loss": {"en": "{name}: full training loss", "ko": "{name}: 전체 훈련 손실"},
    "sens.title": {"en": "Learning-rate sensitivity on {dataset}: {epochs} epochs, mean over "
                         "{seeds} seed{seeds_s} (band: min–max; ★ best rate)",
                   "ko": "{dataset} 데이터에서 학습률 민감도: {epochs} 에포크, "
                         "시드 {seeds}개 평균 (띠: 최소–최대, ★ 최적 학습률)"},
    "sens.rate": {"en": "learning rate (log scale)", "ko": "학습률 (로그 축)"},
    "sens.train_loss": {"en": "final training loss (log scale)\nthe last epoch's, mean over "
                              "its batches",
                        "ko": "최종 훈련 손실 (로그 축)\n마지막 에포크의 배치 평균"},
    "sens.val_accuracy": {"en": "final validation accuracy", "ko": "최종 검증 정확도"},
    "sens.loss_title": {"en": "Training loss of the last epoch",
                        "ko": "마지막 에포크의 훈련 손실"},
    "sens.accuracy_title": {"en": "Validation accuracy after the last epoch",
                            "ko": "마지막 에포크의 검증 정확도"},
    "sens.diverged": {"en": "× a seed diverged", "ko": "× 발산한 시드가 있음"},
})

COLORS = {"gd": "#222222", "sgd": "#1f77b4", "momentum": "#ff7f0e", "nag": "#2ca02c",
          "adagrad": "#d62728", "rmsprop": "#9467bd", "adam": "#8c564b", "adamw": "#e377c2",
          "nadam": "#17becf"}


def _color(name: str) -> str:
    return COLORS.get(name, "#7f7f7f")


def label(name: str, lang: str = "en") -> str:
    """The display name of an optimizer of the lab, in `lang`."""
    from descentlab.lab.optimizers import LABELS

    if lang == "ko" and name == "gd":
        return "GD (전체 배치)"
    return LABELS.get(name, name)


def surface_figure(result: dict[str, Any], lang: str = "en") -> Figure:
    """Contour plot with every optimizer's path, and value against step (log scale)."""
    from descentlab.lab import surfaces

    info = result["surface"]
    surface = surfaces.get(info["name"]) if info["name"] != "quadratic" else \
        surfaces.ill_conditioned(info["hessian_eigenvalues"][1] / info["hessian_eigenvalues"][0],
                                 info["hessian_eigenvalues"][0])
    xmin, xmax, ymin, ymax = info["box"]
    with figure_style(lang):
        fig = Figure(figsize=(12, 5))
        ax, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
        gx, gy = np.meshgrid(np.linspace(xmin, xmax, 300), np.linspace(ymin, ymax, 300))
        z = np.asarray(surface.value(gx, gy), dtype=np.float64)
        floor = float(surface.value(*surface.minimum))
        gap = z - min(floor, float(z.min()))
        positive = gap[gap > 0]
        if positive.size and info["name"] != "saddle":
            levels = np.geomspace(max(positive.min(), positive.max() * 1e-6), positive.max(), 25)
            ax.contour(gx, gy, gap + 1e-300, levels=levels, norm=LogNorm(), cmap="Greys",
                       linewidths=0.6, alpha=0.8)
        else:
            ax.contour(gx, gy, z, levels=30, cmap="Greys", linewidths=0.6, alpha=0.8)
        mode = result["config"]["lr_mode"]
        lr_text = t(f"surf.lr.{mode}", lang,
                    lr=next(iter(result["config"]["learning_rates"].values())))
        for run in result["trajectories"]:
            name = run["optimizer"]
            points = np.asarray(run["points"], dtype=np.float64)
            text = f"{label(name, lang)} (lr {run['learning_rate']:.3g})"
            if run["diverged_at"] is not None:
                text = t("surf.diverged_at", lang, name=text, step=run["diverged_at"])
            ax.plot(points[:, 0], points[:, 1], "-o", ms=2.5, lw=1.2, color=_color(name),
                    label=text)
            if run["diverged_at"] is not None:
                finite = points[np.all(np.isfinite(points), axis=1)]
                ax.plot(*finite[-1], marker="X", ms=12, color=_color(name), mec="black")
            values = np.asarray(run["values"], dtype=np.float64) - floor
            steps = np.arange(len(values))
            # On a log axis only positive gaps can be drawn; the saddle, unbounded below, is
            # drawn on a symmetric-log axis instead, so an escaping run is shown, not cut.
            keep = np.isfinite(values) & ((values > 0) | (info["name"] == "saddle"))
            ax_loss.plot(steps[keep], values[keep], color=_color(name), label=label(name, lang))
            if run["diverged_at"] is not None:
                ax_loss.axvline(run["diverged_at"], color=_color(name), ls=":", lw=1)
        ax.plot(*info["start"], marker="s", color="black", ms=7, ls="none",
                label=t("start", lang))
        ax.plot(*info["minimum"], marker="*", color="gold", mec="black", ms=14, ls="none",
                label=t("minimum", lang))
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(t("surf.path_title", lang) + "\n" + lr_text, fontsize=10)
        ax.legend(fontsize=8, loc="best")
        if info["name"] != "saddle":
            log_scale(ax_loss)
            # A diverging run would stretch the axis to 1e40: cap it, the run is marked anyway.
            first = max(float(r["values"][0]) - floor for r in result["trajectories"])
            if first > 0 and np.isfinite(first):
                bottom, top = ax_loss.get_ylim()
                ax_loss.set_ylim(bottom, min(top, first * 1e3))
            ax_loss.set_ylabel(t("surf.value_gap", lang))
        else:
            ax_loss.set_yscale("symlog", linthresh=1.0)
            ax_loss.set_ylabel(t("surf.value", lang))
        ax_loss.set_xlabel(t("step", lang))
        ax_loss.set_title(t("surf.loss_title", lang), fontsize=10)
        steps_total = result["config"]["steps"]
        fig.suptitle(t("surf.title", lang, formula=info["formula"], steps=steps_total,
                       x=info["start"][0], y=info["start"][1]))
    return fig


def theory_figure(theory: dict[str, Any], lang: str = "en") -> Figure:
    """Distance to the minimum for GD and momentum at their optimal settings, with the
    predicted geometric rates drawn as lines."""
    with figure_style(lang):
        fig = Figure(figsize=(8, 4.8))
        ax = fig.subplots()
        for key, color in (("gd", "#1f77b4"), ("momentum", "#ff7f0e")):
            distances = np.asarray(theory[f"{key}_distances"], dtype=np.float64)
            steps = np.arange(len(distances))
            if key == "gd":
                label = t("theory.gd", lang, lr=theory["gd_learning_rate"],
                          measured=theory["gd_measured_rate"])
            else:
                label = t("theory.momentum", lang, lr=theory["momentum_learning_rate"],
                          beta=theory["momentum_beta"], measured=theory["momentum_measured_rate"])
            ax.plot(steps, distances, color=color, lw=1.6, label=label)
            rate = theory[f"{key}_rate"]
            ax.plot(steps, distances[0] * rate ** steps, color=color, ls="--", lw=1,
                    label=t("theory.predicted", lang, rate=rate))
        log_scale(ax)
        ax.set_xlabel(t("step", lang))
        ax.set_ylabel(t("theory.distance", lang))
        ax.set_title(t("theory.title", lang, kappa=theory["kappa"]))
        ax.legend(fontsize=8)
    return fig


def _band(ax: Any, xs: list[np.ndarray], ys: list[np.ndarray], color: str, label: str,
          logx: bool = False) -> None:
    """Mean curve with a min–max band over seeds, on a common x grid."""
    finite = [(x, y) for x, y in zip(xs, ys, strict=True) if len(x)]
    if not finite:
        return
    lo = max(float(x[0]) for x, _ in finite)
    hi = min(float(x[-1]) for x, _ in finite)
    if hi <= lo:
        ax.plot(finite[0][0], finite[0][1], color=color, label=label)
        return
    grid = np.geomspace(lo, hi, 200) if logx and lo > 0 else np.linspace(lo, hi, 200)
    curves = np.array([np.interp(grid, x, y) for x, y in finite])
    ax.plot(grid, curves.mean(axis=0), color=color, lw=1.5, label=label)
    if len(curves) > 1:
        ax.fill_between(grid, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.15,
                        lw=0)


def data_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Training loss against epochs, gradient evaluations and seconds, per optimizer."""
    config = results["config"]
    with figure_style(lang):
        fig = Figure(figsize=(15, 5.6))
        axes = fig.subplots(1, 3, sharey=True)
        for name in config["optimizers"]:
            runs = [r for r in results["trials"] if r["config"]["optimizer"] == name]
            text = f"{label(name, lang)} (lr {runs[0]['config']['learning_rate']:.3g})"
            epochs = [np.arange(0, len(r["epochs"]["train_loss"]) + 1, dtype=float) for r in runs]
            epoch_loss = [np.array([r["initial_loss"], *r["epochs"]["train_loss"]]) for r in runs]
            _band(axes[0], epochs, epoch_loss, _color(name), text)
            evals = [np.asarray(r["evaluations"], dtype=float) for r in runs]
            losses = [np.asarray(r["train_loss"], dtype=float) for r in runs]
            _band(axes[1], evals, losses, _color(name), text, logx=True)
            secs = [np.asarray(r["seconds"], dtype=float) for r in runs]
            _band(axes[2], secs, losses, _color(name), text)
        target = config["target_loss"]
        for ax, key, xlabel in ((axes[0], "data.vs_epochs", t("epoch", lang)),
                                (axes[1], "data.vs_evaluations", t("data.evaluations", lang)),
                                (axes[2], "data.vs_seconds", t("seconds", lang))):
            ax.axhline(target, color="grey", ls=":", lw=1,
                       label=t("data.target", lang, target=target))
            ax.set_title(t(key, lang), fontsize=10)
            ax.set_xlabel(xlabel)
            log_scale(ax)
        log_scale(axes[1], "x")
        axes[0].set_ylabel(t("data.train_loss", lang))
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=8)
        fig.suptitle(t("data.title", lang, dataset=config["dataset"], seeds=len(config["seeds"])))
    return fig


def validation_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Validation accuracy and loss against epochs, per optimizer (mean and band)."""
    config = results["config"]
    with figure_style(lang):
        fig = Figure(figsize=(12, 4.6))
        ax_acc, ax_loss = fig.subplots(1, 2)
        for name in config["optimizers"]:
            runs = [r for r in results["trials"] if r["config"]["optimizer"] == name]
            epochs = [np.arange(1, len(r["epochs"]["val_accuracy"]) + 1, dtype=float)
                      for r in runs]
            _band(ax_acc, epochs, [np.asarray(r["epochs"]["val_accuracy"]) for r in runs],
                  _color(name), label(name, lang))
            _band(ax_loss, epochs, [np.asarray(r["epochs"]["val_loss"]) for r in runs],
                  _color(name), label(name, lang))
        ax_acc.set_ylabel(t("data.val_accuracy", lang))
        ax_loss.set_ylabel(t("data.val_loss", lang))
        log_scale(ax_loss)
        for ax in (ax_acc, ax_loss):
            ax.set_xlabel(t("epoch", lang))
        if ax_acc.get_legend_handles_labels()[0]:  # nothing to list when every run diverged
            ax_acc.legend(fontsize=8, loc="lower right")
        fig.suptitle(t("data.val_title", lang))
    return fig


def gd_vs_sgd_figure(results: dict[str, Any], lang: str = "en", updates: int = 60) -> Figure:
    """GD's smooth descent next to SGD's noisy one, update by update (first seed)."""
    seed = results["config"]["seeds"][0]
    with figure_style(lang):
        fig = Figure(figsize=(8, 4.6))
        ax = fig.subplots()
        for name in ("gd", "sgd"):
            runs = [r for r in results["trials"]
                    if r["config"]["optimizer"] == name and r["config"]["seed"] == seed]
            if not runs:
                continue
            run = runs[0]
            k = np.asarray(run["updates"][:updates])
            ax.plot(k, run["train_loss"][:updates], color=_color(name), lw=1.8,
                    label=t("data.full_loss", lang, name=label(name, lang)))
            if name == "sgd":
                ax.plot(k, run["batch_loss"][:updates], color=_color(name), lw=0.8, alpha=0.6,
                        ls="--", label=t("data.batch_loss", lang, name=label(name, lang)))
        ax.set_xlabel(t("data.updates", lang))
        ax.set_ylabel(t("loss", lang))
        ax.set_title(t("data.gd_vs_sgd", lang, updates=updates))
        ax.legend(fontsize=8)
    return fig


def sensitivity_figure(results: dict[str, Any], lang: str = "en") -> Figure:
    """Final training loss (log–log) and validation accuracy against the learning rate, per
    optimizer: the mean over seeds, the seeds' min–max as a band, the best rate starred, and a
    rate at which a seed diverged marked × at the bottom of the panel."""
    config = results["config"]
    rates = np.asarray(config["rates"], dtype=np.float64)
    with figure_style(lang):
        fig = Figure(figsize=(13, 5.4))
        ax_loss, ax_acc = fig.subplots(1, 2)
        any_diverged = False
        for name in config["optimizers"]:
            entry = results["optimizers"][name]
            color = _color(name)
            for ax, key in ((ax_loss, "train_loss"), (ax_acc, "val_accuracy")):
                table = np.array([[np.nan if v is None else v for v in row]
                                  for row in entry[key]], dtype=np.float64)
                mean = np.array([np.nan if v is None else v for v in entry[f"mean_{key}"]],
                                dtype=np.float64)
                ax.plot(rates, mean, "-o", ms=3.5, lw=1.4, color=color, label=label(name, lang))
                complete = np.isfinite(table).all(axis=1)
                if table.shape[1] > 1 and complete.any():
                    low = np.where(complete, np.nanmin(table, axis=1, initial=np.inf), np.nan)
                    high = np.where(complete, np.nanmax(table, axis=1, initial=-np.inf), np.nan)
                    ax.fill_between(rates, low, high, color=color, alpha=0.15, lw=0)
                best = entry["best_index"]
                if best is not None:
                    ax.plot(rates[best], mean[best], marker="*", ms=14, color=color, mec="black",
                            mew=0.6, ls="none")
            for i, count in enumerate(entry["diverged_seeds"]):
                if count:
                    any_diverged = True
                    for ax in (ax_loss, ax_acc):
                        ax.plot(rates[i], 0.02, marker="x", ms=8, color=color, ls="none",
                                transform=ax.get_xaxis_transform())
        for ax, ylabel, title in ((ax_loss, "sens.train_loss", "sens.loss_title"),
                                  (ax_acc, "sens.val_accuracy", "sens.accuracy_title")):
            log_scale(ax, "x")
            ax.set_xlabel(t("sens.rate", lang))
            ax.set_ylabel(t(ylabel, lang))
            ax.set_title(t(title, lang), fontsize=10)
        log_scale(ax_loss)
        handles, labels = ax_loss.get_legend_handles_labels()
        if any_diverged:
            handles.append(Line2D([], [], marker="x", color="grey", ls="none"))
            labels.append(t("sens.diverged", lang))
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=8)
        fig.suptitle(t("sens.title", lang, dataset=config["dataset"], epochs=config["epochs"],
                       seeds=len(config["seeds"])))
    return fig


def write_surface_figures(result: dict[str, Any], folder: str, lang: str = "en",
                          formats: tuple[str, ...] = ("png", "svg")) -> list[str]:
    name = result["surface"]["name"]
    paths = save_figure(surface_figure(result, lang), folder, f"surface_{name}", formats)
    if "theory" in result:
        paths += save_figure(theory_figure(result["theory"], lang), folder,
                             f"surface_{name}_theory", formats)
    return paths


def write_data_figures(results: dict[str, Any], folder: str, lang: str = "en",
                       formats: tuple[str, ...] = ("png", "svg")) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    paths = save_figure(data_figure(results, lang), folder, "optimizers_loss", formats)
    paths += save_figure(validation_figure(results, lang), folder, "optimizers_validation",
                         formats)
    if any(n in results["config"]["optimizers"] for n in ("gd", "sgd")):
        paths += save_figure(gd_vs_sgd_figure(results, lang), folder, "optimizers_gd_vs_sgd",
                             formats)
    return paths
