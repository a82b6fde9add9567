"""``descentlab report``: run chapter 9's experiments and write the chapter from the numbers.

:func:`measure` runs every experiment and returns one JSON-able dict (``results.json``);
:func:`write` turns such a dict into ``index.html`` plus figures (PNG and SVG) — it never trains,
so a report can be rewritten in the other language from the same numbers. :func:`build` does
both. Every number on the page is rendered from the results dict with its path attached (see
:mod:`descentlab.report.html`), and every finding is a sentence built from those numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from descentlab.errors import ConfigError
from descentlab.lab.results import plain, prepare_folder, save_json, write_atomic
from descentlab.plots.i18n import check_language
from descentlab.report import html as H

SCHEMA = "descentlab.report/1"


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    import matplotlib
    import numpy

    from descentlab import __version__

    return {"descentlab": __version__, "python": platform.python_version(),
            "numpy": numpy.__version__, "matplotlib": matplotlib.__version__,
            "platform": platform.platform()}


def plan(quick: bool) -> dict[str, Any]:
    """The experiments' settings: the default run, or a smaller ``--quick`` one."""
    if quick:
        return {"optimizers": {"seeds": [0], "epochs": 6},
                "vanishing": {"depths": [1, 5, 10], "seeds": [0], "epochs": 8},
                "diagnosis": {"samples": 256}}
    return {"optimizers": {"seeds": [0, 1, 2], "epochs": 20},
            "vanishing": {"depths": [1, 3, 5, 10], "seeds": [0, 1, 2], "epochs": 30},
            "diagnosis": {"samples": 256}}


#: The networks the diagnosis section examines at initialisation.
DIAGNOSED = {"sigmoid_deep": {"activation": "sigmoid", "depth": 10,
                              "initializer": "glorot_uniform"},
             "relu_he": {"activation": "relu", "depth": 3, "initializer": "he_normal"}}


def diagnose_networks(x: Any, y: Any, samples: int = 256, seed: int = 0) -> dict[str, Any]:
    """:func:`descentlab.diagnostics.diagnose` on the networks of :data:`DIAGNOSED`, built
    with the vanishing lab's recipe (width 32, SGD 0.1) and examined on ``samples`` samples."""
    import numpy as np

    import descentlab as dl
    from descentlab import diagnostics
    from descentlab.lab import vanishing

    out = {}
    x, y = np.asarray(x)[:samples], np.asarray(y)[:samples]
    for name, spec in DIAGNOSED.items():
        dl.set_random_seed(seed)
        config = vanishing.make_config(**spec, seed=seed)
        model = vanishing.build_model(config, x.shape[1], int(y.max()) + 1)
        out[name] = {"network": spec, "diagnosis": diagnostics.diagnose(model, x, y).to_dict()}
    return out


def measure(quick: bool = False, data: str = "digits", workers: int | None = None,
            progress: bool = True) -> dict[str, Any]:
    """Run every experiment of the chapter; returns the results (plain JSON)."""
    from descentlab import datasets
    from descentlab.lab import activations, surfaces, vanishing
    from descentlab.lab import optimizers as lab_optimizers

    x, y, description = datasets.load_classification(data)  # a bad name fails now
    settings = plan(quick)
    timings: dict[str, float] = {}
    results: dict[str, Any] = {"schema": SCHEMA, "quick": bool(quick), "data": data,
                               "data_description": description, "settings": settings,
                               "versions": _versions()}
    started = time.perf_counter()
    stages = 7

    def stage(name: str, label: str, fn: Callable[[], Any]) -> None:
        _say(progress, f"[{len(timings) + 1}/{stages}] {label}")
        tick = time.perf_counter()
        results[name] = fn()
        timings[name] = time.perf_counter() - tick

    stage("activations", "activation functions and their derivatives",
          activations.activation_curves)
    stage("weight_scale", "weight scale and activation histograms",
          activations.weight_scale_experiment)
    builtin = data in datasets.names()
    stage("vanishing", f"vanishing gradients on {description}", lambda: vanishing.run_grid(
        dataset=data if builtin else os.path.basename(data), data=None if builtin else (x, y),
        standardize=False, workers=workers, progress=progress, **settings["vanishing"]))
    deepest = max(settings["vanishing"]["depths"])
    stage("batch_norm", "the deepest sigmoid network with batch normalisation", lambda:
          vanishing.run_grid(
              activations=("sigmoid",), depths=(deepest,), batch_norm=True,
              dataset=data if builtin else os.path.basename(data),
              data=None if builtin else (x, y), workers=workers, progress=progress,
              seeds=settings["vanishing"]["seeds"], epochs=settings["vanishing"]["epochs"]))
    stage("diagnosis", "diagnosing a deep sigmoid and a ReLU network",
          lambda: diagnose_networks(x, y, **settings["diagnosis"]))
    stage("surfaces", "optimizers on 2-D surfaces", lambda: {
        "dlfs": surfaces.compare("dlfs", list(surfaces.DLFS_RATES), steps=30, lr_mode="dlfs"),
        "quadratic": surfaces.compare(surfaces.ill_conditioned(100), ["sgd", "momentum"],
                                      steps=200, lr_mode="shared", learning_rate=0.01)})
    stage("optimizers", f"optimizers on {description}", lambda: lab_optimizers.run(
        dataset=data, workers=workers, progress=progress, **settings["optimizers"]))
    timings["total"] = time.perf_counter() - started
    results["timings"] = timings
    return results


# -- writing ----------------------------------------------------------------------------------

def tr(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def _h(level: int, anchor: str, lang: str, en: str, ko: str) -> str:
    return f'<h{level} id="{anchor}">{H.escape(tr(lang, en, ko))}</h{level}>'


def figure_jobs(results: dict, lang: str, folder: str) -> list[dict]:
    """Every figure of the report: which plotting function draws it from which results."""
    jobs = [("activation_functions", "vanishing", "activation_figure", ["activations"], {}),
            ("vanishing_gradient_norms", "vanishing", "gradient_norm_figure", ["vanishing"], {}),
            ("vanishing_gradient_heatmap", "vanishing", "gradient_heatmap_figure",
             ["vanishing"], {}),
            ("vanishing_accuracy", "vanishing", "accuracy_figure", ["vanishing"], {}),
            ("gd_vs_sgd", "optimizers", "gd_vs_sgd_figure", ["optimizers"], {}),
            ("optimizers_loss", "optimizers", "data_figure", ["optimizers"], {}),
            ("optimizers_validation", "optimizers", "validation_figure", ["optimizers"], {}),
            ("surface_dlfs", "optimizers", "surface_figure", ["surfaces.dlfs"], {}),
            ("quadratic_theory", "optimizers", "theory_figure", ["surfaces.quadratic.theory"],
             {})]
    for activation in weight_scale_activations(results):
        jobs.append((f"weight_scale_{activation}", "vanishing", "weight_scale_figure",
                     ["weight_scale"], {"activation": activation}))
    # The many-panel figures first, so that the two workers finish at about the same time.
    jobs.sort(key=lambda job: not job[0].startswith(("weight_scale", "activation", "vanishing")))
    formats = ["png"] if results.get("quick") else ["png", "svg"]
    return [{"name": name, "module": f"descentlab.plots.{module}", "function": function,
             "args": [H.lookup(results, key) for key in keys], "kwargs": kwargs, "lang": lang,
             "folder": folder, "formats": formats}
            for name, module, function, keys, kwargs in jobs]


def weight_scale_activations(results: dict) -> list[str]:
    """The activations whose weight-scale histograms the report shows (--quick: the two
    extremes, sigmoid and ReLU; otherwise all that were measured)."""
    measured = results["weight_scale"]["configuration"]["activations"]
    if results.get("quick"):
        return [a for a in measured if a in ("sigmoid", "relu")]
    return list(measured)


def draw_figure(job: dict) -> dict:
    """Draw one figure job and save it as PNG and SVG (a top-level function: runs in a worker)."""
    import importlib

    from descentlab.plots.style import figure_style, save_figure

    if not job["module"].startswith("descentlab.plots."):
        raise ConfigError(f"figure jobs draw with descentlab.plots only; got {job['module']!r}.")
    draw = getattr(importlib.import_module(job["module"]), job["function"])
    with figure_style(job["lang"]):  # fonts and minus signs are chosen when text is drawn
        fig = draw(*job["args"], lang=job["lang"], **job["kwargs"])
        paths = save_figure(fig, job["folder"], job["name"], job.get("formats", ("png", "svg")))
    return {"name": job["name"], "paths": paths}


def render_figures(results: dict, lang: str, folder: str,
                   workers: int | None = None) -> dict[str, Any]:
    """All figures, drawn in parallel: ``{"png": {name: bytes}, "svg": {names}}``."""
    from descentlab.lab import runner

    jobs = figure_jobs(results, lang, folder)
    runner.run_trials(draw_figure, jobs, workers=workers, progress=False)
    pngs = {}
    for job in jobs:
        with open(os.path.join(folder, f"{job['name']}.png"), "rb") as stream:
            pngs[job["name"]] = stream.read()
    return {"png": pngs, "svg": {job["name"] for job in jobs if "svg" in job["formats"]}}


def _figure(figs: dict, name: str, alt: str, caption: str) -> str:
    """An embedded figure, linked to its SVG when one was written."""
    return H.figure(figs["png"][name], alt, caption,
                    f"{name}.svg" if name in figs["svg"] else None)


def _claim_html(claim: dict, lang: str) -> str:
    cls = {True: "holds", False: "fails", None: "unknown"}[claim["holds"]]
    book = claim["book_ko"] if lang == "ko" else claim["book_en"]
    said = tr(lang, "The book:", "책의 주장:")
    return (f'<div class="claim {cls}"><div class="book">{said} {H.escape(book)}</div>'
            f'<div>{H.escape(claim[lang])}</div></div>')


def _section_92(results: dict, lang: str, figs: dict, num: H.Numbers) -> str:
    from descentlab.lab.optimizers import SPECS
    from descentlab.plots import optimizers as plots

    opt = results["optimizers"]
    cfg = opt["config"]
    claims = {c["id"]: c for c in opt["claims"]}
    out = [_h(2, "s92", lang, "9.2 Gradient descent: its cost, and the fixes",
           "9.2 경사 하강법의 비용과 해결책")]

    # GD's cost and SGD
    out.append(_h(3, "gd-cost", lang,
                  "Full-batch gradient descent costs a pass over all data per update",
           "전체 배치 경사 하강법은 업데이트마다 데이터 전체를 계산한다"))
    out.append("<p>" + tr(
        lang,
        f"The same network ({cfg['hidden']} hidden units, {H.escape(cfg['activation'])}) "
        f"trained on {H.escape(cfg['dataset'])} from the same initial weights: full-batch GD "
        f"computes the gradient of all {num('optimizers.summary.gd.evaluations_total', ',')} "
        "sample-gradients over the run in "
        f"{num('optimizers.summary.gd.updates_total', ',')} updates; mini-batch SGD "
        f"(batch {cfg['batch_size']}) makes {num('optimizers.summary.sgd.updates_total', ',')} "
        "updates for the same number of sample-gradients.",
        f"같은 신경망(은닉 유닛 {cfg['hidden']}, {H.escape(cfg['activation'])})을 같은 초기 "
        f"가중치에서 {H.escape(cfg['dataset'])} 데이터로 훈련했습니다. 전체 배치 GD는 "
        f"{num('optimizers.summary.gd.evaluations_total', ',')}개의 샘플 기울기를 계산하는 동안 "
        f"{num('optimizers.summary.gd.updates_total', ',')}번 업데이트하고, 미니 배치 SGD"
        f"(배치 {cfg['batch_size']})는 같은 계산량으로 "
        f"{num('optimizers.summary.sgd.updates_total', ',')}번 업데이트합니다.") + "</p>")
    if "gd_cost" in claims:
        out.append(_claim_html(claims["gd_cost"], lang))
    out.append(_figure(figs, "gd_vs_sgd", "GD vs SGD", tr(
        lang, "Full training loss after each update for GD and SGD (first seed); the dashed "
              "line is the loss of the batch SGD's update was computed on.",
        "업데이트마다 측정한 GD와 SGD의 전체 훈련 손실(첫 번째 시드). 점선은 SGD가 업데이트에 "
        "사용한 배치의 손실입니다.")))
    out.append(_h(3, "sgd", lang, "Stochastic gradient descent: cheaper, and noisier",
           "확률적 경사 하강법: 더 싸고, 더 요동친다"))
    if "sgd_fluctuates" in claims:
        out.append(_claim_html(claims["sgd_fluctuates"], lang))
    out.append(_figure(figs, "optimizers_loss", "loss curves", tr(
        lang, "Training loss against epochs, against gradient evaluations (the cost) and "
              "against seconds; mean over seeds with the min–max band.",
        "에포크, 기울기 계산 횟수(비용), 경과 시간에 따른 훈련 손실. 시드 평균과 최소–최대 띠.")))

    # Momentum and the zig-zag
    dlfs = results["surfaces"]["dlfs"]
    out.append(_h(3, "momentum", lang, "Momentum damps the zig-zag",
           "모멘텀은 지그재그를 줄인다"))
    sgd_i = [r["optimizer"] for r in dlfs["trajectories"]].index("sgd")
    mom_i = [r["optimizer"] for r in dlfs["trajectories"]].index("momentum")
    out.append("<p>" + tr(
        lang,
        f"On f(x, y) = x²/20 + y² from (−7, 2), the update along the steep y direction changed "
        f"sign {num(f'surfaces.dlfs.trajectories.{sgd_i}.sign_changes', 'd')} times in 30 "
        f"steps for SGD (learning rate 0.95) and "
        f"{num(f'surfaces.dlfs.trajectories.{mom_i}.sign_changes', 'd')} times for momentum "
        "(0.1, β = 0.9). The learning rates are those of <i>Deep Learning from Scratch</i>, "
        "ch. 6, one per optimizer, as the figure says; no gradient clipping.",
        f"f(x, y) = x²/20 + y²에서 (−7, 2)부터 30 스텝 동안, 가파른 y 방향의 업데이트 부호가 "
        f"SGD(학습률 0.95)는 {num(f'surfaces.dlfs.trajectories.{sgd_i}.sign_changes', 'd')}번, "
        f"모멘텀(0.1, β = 0.9)은 {num(f'surfaces.dlfs.trajectories.{mom_i}.sign_changes', 'd')}"
        "번 바뀌었습니다. 학습률은 『밑바닥부터 시작하는 딥러닝』 6장의 옵티마이저별 값이며 "
        "그림에도 적혀 있습니다. 기울기 클리핑은 쓰지 않았습니다.") + "</p>")
    out.append(_figure(figs, "surface_dlfs", "trajectories", tr(
        lang, "Trajectories of SGD, momentum, Adagrad and Adam on x²/20 + y².",
        "x²/20 + y² 위에서 SGD, 모멘텀, Adagrad, Adam의 궤적.")))
    theory = results["surfaces"]["quadratic"]["theory"]
    out.append("<p>" + tr(
        lang,
        f"On an ill-conditioned quadratic (κ = {num('surfaces.quadratic.theory.kappa', 'g')}), "
        "theory predicts GD's best convergence rate (κ−1)/(κ+1) = "
        f"{num('surfaces.quadratic.theory.gd_rate', '.4f')} and momentum's (√κ−1)/(√κ+1) = "
        f"{num('surfaces.quadratic.theory.momentum_rate', '.4f')}; measured over "
        f"{theory['steps']} steps at the optimal settings: "
        f"{num('surfaces.quadratic.theory.gd_measured_rate', '.4f')} and "
        f"{num('surfaces.quadratic.theory.momentum_measured_rate', '.4f')}.",
        f"조건수 κ = {num('surfaces.quadratic.theory.kappa', 'g')}인 이차함수에서 이론은 GD의 "
        f"최적 수렴률을 (κ−1)/(κ+1) = {num('surfaces.quadratic.theory.gd_rate', '.4f')}, "
        f"모멘텀은 (√κ−1)/(√κ+1) = {num('surfaces.quadratic.theory.momentum_rate', '.4f')}로 "
        f"예측합니다. 최적 설정으로 {theory['steps']} 스텝 측정한 값은 "
        f"{num('surfaces.quadratic.theory.gd_measured_rate', '.4f')}와 "
        f"{num('surfaces.quadratic.theory.momentum_measured_rate', '.4f')}입니다.") + "</p>")
    out.append(_figure(figs, "quadratic_theory", "theory", tr(
        lang, "Distance to the minimum: measured (solid) against the predicted rate (dashed).",
        "최솟값까지의 거리: 측정값(실선)과 예측 수렴률(점선).")))

    # The book's table
    out.append(_h(3, "table", lang, "The book’s table of optimizers, measured",
           "책의 옵티마이저 표, 직접 측정"))
    out.append("<p>" + tr(
        lang,
        f"Each optimizer with the settings of the book's table (learning rates: "
        f"{H.escape(cfg['lr_mode'])}), {len(cfg['seeds'])} seeds × {cfg['epochs']} epochs; "
        f"target training loss {num('optimizers.config.target_loss', 'g')}.",
        f"책의 표에 있는 설정(학습률: {LR_MODES_KO.get(cfg['lr_mode'], cfg['lr_mode'])})으로 "
        "각 옵티마이저를 시드 "
        f"{len(cfg['seeds'])}개 × {cfg['epochs']} 에포크 훈련했습니다. 목표 훈련 손실은 "
        f"{num('optimizers.config.target_loss', 'g')}입니다.") + "</p>")
    rows = []
    for name in cfg["optimizers"]:
        key = f"optimizers.summary.{name}"
        settings = ", ".join(f"{k}={v}" for k, v in SPECS[name]["config"].items()
                             if k != "learning_rate")
        rows.append((H.escape(plots.label(name, lang)),
                     num(f"optimizers.config.learning_rates.{name}", "g"),
                     H.escape(settings),
                     num(f"{key}.final_train_loss", ".4f"),
                     num(f"{key}.final_val_accuracy", ".4f"),
                     num(f"{key}.evaluations_to_target", ",.0f"),
                     num(f"{key}.seconds_to_target", ".3f"),
                     num(f"{key}.uphill_fraction", "%"),
                     num(f"{key}.fluctuation", ".2e")))
    out.append(H.table(
        [tr(lang, "optimizer", "옵티마이저"), tr(lang, "learning rate", "학습률"),
         tr(lang, "other settings", "기타 설정"), tr(lang, "final train loss", "최종 훈련 손실"),
         tr(lang, "validation accuracy", "검증 정확도"),
         tr(lang, "gradient evaluations to target", "목표까지 기울기 계산"),
         tr(lang, "seconds to target", "목표까지 시간(초)"),
         tr(lang, "updates that raised the loss", "손실이 오른 업데이트"),
         tr(lang, "fluctuation", "요동")], rows))
    for claim in opt["claims"]:
        if claim["id"].startswith("faster_than_sgd:"):
            out.append(_claim_html(claim, lang))
    failed = [c for c in opt["claims"]
              if c["id"].startswith("faster_than_sgd:") and c["holds"] is False]
    if failed and cfg["lr_mode"] == "book":
        names = ", ".join(plots.label(c["evidence"]["optimizer"], lang) for c in failed)
        out.append("<p>" + tr(
            lang,
            f"Where a method lost to plain SGD here ({H.escape(names)}), compare the learning "
            f"rates first: the book's table gives SGD "
            f"{num('optimizers.config.learning_rates.sgd', 'g')} and these methods smaller "
            "ones. A fair race gives each optimizer its own best rate: "
            "<code>descentlab optimizers --lr-mode tuned</code> searches a log grid per "
            "optimizer and runs the same comparison.",
            f"여기서 기본 SGD보다 느렸던 방법({H.escape(names)})은 먼저 학습률을 비교해 보세요. "
            f"책의 표는 SGD에 {num('optimizers.config.learning_rates.sgd', 'g')}을, 이 방법들에는 "
            "더 작은 값을 줍니다. 공정하게 비교하려면 옵티마이저마다 가장 좋은 학습률을 "
            "써야 합니다: <code>descentlab optimizers --lr-mode tuned</code>는 옵티마이저별로 "
            "로그 격자에서 학습률을 찾아 같은 비교를 실행합니다.") + "</p>")
    out.append(_figure(figs, "optimizers_validation", "validation", tr(
        lang, "Validation accuracy and loss per epoch.", "에포크별 검증 정확도와 손실.")))
    return "\n".join(out)


LR_MODES_KO = {"book": "책의 표", "shared": "모두 같은 학습률", "tuned": "옵티마이저별 조정"}
STAGES_KO = {"activations": "활성화 함수", "weight_scale": "가중치 스케일",
             "batch_norm": "배치 정규화",
             "vanishing": "기울기 소실", "diagnosis": "진단", "surfaces": "2차원 곡면",
             "optimizers": "옵티마이저", "total": "합계"}


def _section_meta(results: dict, lang: str, num: H.Numbers) -> str:
    rows = [(H.escape(k), H.escape(v)) for k, v in results["versions"].items()]
    rows += [(tr(lang, f"time: {k}", f"시간: {STAGES_KO.get(k, k)}"),
              num(f"timings.{k}", ".2f") + " s")
             for k in results["timings"]]
    opt = results["optimizers"]["config"]
    rows += [(tr(lang, "seeds", "시드"), H.escape(", ".join(map(str, opt["seeds"])))),
             (tr(lang, "data", "데이터"), H.escape(results["data"])),
             (tr(lang, "quick run", "빠른 실행"),
              tr(lang, "yes", "예") if results["quick"] else tr(lang, "no", "아니오"))]
    settings = H.escape(json.dumps(results["settings"], ensure_ascii=False))
    return (_h(2, "config", lang, "Configuration, versions and timings",
           "설정, 버전, 소요 시간")
            + H.table([tr(lang, "item", "항목"), tr(lang, "value", "값")], rows, "meta")
            + f"<p><code>{settings}</code></p>"
            + "<p>" + tr(lang, "All numbers are in results.json beside this page.",
                         "모든 수치는 이 페이지 옆의 results.json에 있습니다.") + "</p>")


SECTIONS = ("s92", "config")


def _summary_index(vanishing: dict, activation: str, depth: int) -> int | None:
    for i, record in enumerate(vanishing["summary"]):
        if record["activation"] == activation and record["depth"] == depth:
            return i
    return None


def _run_index(weight_scale: dict, activation: str, scale: str) -> int | None:
    for i, run in enumerate(weight_scale["runs"]):
        if run["activation"] == activation and run["scale"] == scale:
            return i
    return None


def _activation_name(name: str, lang: str) -> str:
    from descentlab.plots.vanishing import activation_label

    return activation_label(name, lang)


def _section_91(results: dict, lang: str, figs: dict, num: H.Numbers) -> str:
    out = [_h(2, "s91", lang, "9.1 Vanishing gradients", "9.1 기울기 소실 문제")]

    # -- the activations and their derivatives --------------------------------------------
    out.append(_h(3, "activations", lang, "The activations and their derivatives",
                  "활성화 함수와 그 도함수"))
    curves = results["activations"]["functions"]
    out.append("<p>" + tr(
        lang,
        "Backpropagation multiplies the gradient by the activation's derivative once per "
        "layer. The largest value of each derivative, measured on a grid of step 10⁻⁴ over "
        "[−20, 20]: the sigmoid's is "
        f"{num('activations.functions.sigmoid.max_derivative.measured', '.6f')} at x = "
        f"{num('activations.functions.sigmoid.max_derivative.at', 'g')} (exactly 0.25, not the "
        "“about 0.3” of many study notes), so through L sigmoid layers the factor is at "
        "most 0.25ᴸ: 0.25¹⁰ = "
        f"{num('activations.sigmoid_product_bound.bound.9', '.2e')}.",
        "역전파는 층마다 활성화 함수의 도함수를 기울기에 한 번씩 곱합니다. [−20, 20] 구간을 "
        "10⁻⁴ 간격으로 측정한 각 도함수의 최댓값: 시그모이드는 x = "
        f"{num('activations.functions.sigmoid.max_derivative.at', 'g')}에서 "
        f"{num('activations.functions.sigmoid.max_derivative.measured', '.6f')}입니다(흔히 "
        "말하는 ‘약 0.3’이 아니라 정확히 0.25). 그래서 시그모이드 층 L개를 지나면 곱은 많아야 "
        f"0.25ᴸ, 예컨대 0.25¹⁰ = {num('activations.sigmoid_product_bound.bound.9', '.2e')}입니다."
    ) + "</p>")
    rows = []
    for name in curves:
        key = f"activations.functions.{name}.max_derivative"
        reached = curves[name]["max_derivative"]["reached"]
        rows.append((H.escape(_activation_name(name, lang)), num(f"{key}.documented", "g"),
                     num(f"{key}.measured", ".6f"), num(f"{key}.at", "g"),
                     tr(lang, "yes", "예") if reached else
                     tr(lang, "no: approached as x → ∞", "아니오: x → ∞에서 다가감")))
    out.append(H.table([tr(lang, "activation", "활성화 함수"),
                        tr(lang, "max f′ (formula)", "f′ 최댓값 (공식)"),
                        tr(lang, "max f′ (measured)", "f′ 최댓값 (측정)"),
                        tr(lang, "at x", "위치 x"), tr(lang, "reached", "도달 여부")], rows))
    out.append(_figure(figs, "activation_functions", "activations", tr(
        lang, "Each activation (solid) and its derivative (dashed), maxima marked.",
        "각 활성화 함수(실선)와 도함수(점선), 최댓값 표시.")))

    # -- the problem, measured -------------------------------------------------------------
    van = results["vanishing"]
    cfg = van["configuration"]
    base = cfg["base"]
    out.append(_h(3, "vanishing", lang, "The problem, measured: gradients that vanish with depth",
                  "문제를 측정하다: 깊이에 따라 사라지는 기울기"))
    out.append("<p>" + tr(
        lang,
        f"Dense networks of {', '.join(map(str, cfg['depths']))} hidden layers × "
        f"{base['width']} units on {H.escape(results['data_description'])}, "
        f"{H.escape(', '.join(cfg['initializers']))} initialisation, plain SGD (learning rate "
        f"{base['learning_rate']:g}, batch {base['batch_size']}), {base['epochs']} epochs, seeds "
        f"{', '.join(map(str, cfg['seeds']))}. The gradient norm of every layer's kernel is "
        f"measured on a fixed batch of {base['probe_size']} training samples; the ratio "
        "first/last compares the first hidden layer with the output layer.",
        f"은닉층 {', '.join(map(str, cfg['depths']))}개 × 유닛 {base['width']}개의 Dense "
        f"신경망을 {H.escape(results['data_description'])} 데이터로, "
        f"{H.escape(', '.join(cfg['initializers']))} 초기화와 기본 SGD(학습률 "
        f"{base['learning_rate']:g}, 배치 {base['batch_size']})로 {base['epochs']} 에포크 "
        f"훈련했습니다(시드 {', '.join(map(str, cfg['seeds']))}). 각 층 커널의 기울기 노름을 "
        f"고정된 훈련 샘플 {base['probe_size']}개로 측정하고, 첫 번째 은닉층과 출력층의 "
        "비율(first/last)을 비교합니다.") + "</p>")
    rows = []
    for depth in cfg["depths"]:
        cells = [str(depth)]
        for activation in cfg["activations"]:
            i = _summary_index(van, activation, depth)
            cells.append("—" if i is None else num(f"vanishing.summary.{i}.ratio_init_geomean",
                                                   ".2e"))
        i = _summary_index(van, cfg["activations"][0], depth)
        cells.append(num(f"vanishing.summary.{i}.sigmoid_bound", ".2e"))
        rows.append(cells)
    out.append(H.table([tr(lang, "hidden layers", "은닉층 수")]
                       + [_activation_name(a, lang) for a in cfg["activations"]]
                       + ["0.25ᴸ"], rows))
    trends = {t["activation"]: i for i, t in enumerate(van["trends"])}
    if "sigmoid" in trends and van["trends"][trends["sigmoid"]]["ratio_factor_per_layer"]:
        factor = van["trends"][trends["sigmoid"]]["ratio_factor_per_layer"]
        key = f"vanishing.trends.{trends['sigmoid']}.ratio_factor_per_layer"
        geometric = factor < 0.5
        out.append("<p>" + tr(
            lang,
            f"Fitted over depth, the sigmoid network's first/last ratio at initialisation is "
            f"multiplied by {num(key, '.3f')} per added layer: "
            + ("it falls geometrically, as the 0.25 bound predicts."
               if geometric else "it does not fall geometrically in this run."),
            f"깊이에 대해 맞춰 보면 시그모이드 신경망의 초기 first/last 비율은 층이 하나 늘 때마다 "
            f"{num(key, '.3f')}배가 됩니다: "
            + ("0.25라는 상한이 예측하듯 기하급수적으로 줄어듭니다."
               if geometric else "이번 실행에서는 기하급수적으로 줄지 않았습니다.")) + "</p>")
    stuck_depths = [d for d in cfg["depths"]
                    if (i := _summary_index(van, "sigmoid", d)) is not None
                    and van["summary"][i]["stuck_at_chance"]]
    if "sigmoid" in cfg["activations"]:
        if stuck_depths:
            i = _summary_index(van, "sigmoid", stuck_depths[0])
            out.append("<p>" + tr(
                lang,
                f"From {stuck_depths[0]} hidden layers on, the sigmoid network stays at chance: "
                f"mean test accuracy "
                f"{num(f'vanishing.summary.{i}.final_test_accuracy.mean', '.3f')} against a "
                f"chance level of {num(f'vanishing.summary.{i}.chance', '.3f')}.",
                f"은닉층이 {stuck_depths[0]}개 이상이면 시그모이드 신경망은 우연 수준에 머뭅니다: "
                f"평균 테스트 정확도 "
                f"{num(f'vanishing.summary.{i}.final_test_accuracy.mean', '.3f')}, 우연 수준 "
                f"{num(f'vanishing.summary.{i}.chance', '.3f')}.") + "</p>")
        else:
            out.append("<p>" + tr(
                lang, "In this run the sigmoid network learned at every depth measured.",
                "이번 실행에서는 측정한 모든 깊이에서 시그모이드 신경망이 학습했습니다.") + "</p>")
    out.append(_figure(figs, "vanishing_gradient_norms", "gradient norms", tr(
        lang, "Kernel gradient norm per layer at initialisation (log scale), with the 0.25ᴸ "
              "sigmoid bound.", "초기화 직후 층별 커널 기울기 노름(로그 축)과 시그모이드 상한 "
              "0.25ᴸ.")))
    out.append(_figure(figs, "vanishing_gradient_heatmap", "heatmap", tr(
        lang, "log₁₀ of the gradient norm, layer by epoch, in the deepest networks.",
        "가장 깊은 신경망의 층 × 에포크별 기울기 노름(log₁₀).")))

    # -- the fixes, measured -----------------------------------------------------------------
    out.append(_h(3, "fixes", lang, "The fixes, measured: tanh, ReLU, softplus and the init",
                  "해결책을 측정하다: tanh, ReLU, 소프트플러스와 초기화"))
    deepest = max(cfg["depths"])
    rows = []
    for activation in cfg["activations"]:
        cells = [H.escape(_activation_name(activation, lang))]
        for depth in cfg["depths"]:
            i = _summary_index(van, activation, depth)
            cells.append(num(f"vanishing.summary.{i}.final_test_accuracy.mean", ".3f") + " ± "
                         + num(f"vanishing.summary.{i}.final_test_accuracy.std", ".3f"))
        rows.append(cells)
    out.append(H.table([tr(lang, "test accuracy (mean ± std)", "테스트 정확도 (평균 ± 표준편차)")]
                       + [tr(lang, f"{d} hidden", f"은닉층 {d}") for d in cfg["depths"]], rows))
    for activation in [a for a in cfg["activations"] if a != "sigmoid"]:
        i = _summary_index(van, activation, deepest)
        record = van["summary"][i]
        acc = f"vanishing.summary.{i}.final_test_accuracy"
        name = H.escape(_activation_name(activation, lang))
        values = ", ".join(num(f"{acc}.values.{k}", ".3f")
                           for k in range(len(record["final_test_accuracy"]["values"])))
        if record["stuck_at_chance"]:
            verdict = tr(lang, "stays at chance: this is not a fix here.",
                         "우연 수준에 머뭅니다: 여기서는 해결책이 되지 못합니다.")
        elif record["stuck_fraction"] > 0 or (record["final_test_accuracy"]["std"] or 0) > 0.1:
            verdict = tr(lang, "trains on some seeds but not reliably (per seed: ",
                         "일부 시드에서만 학습합니다(시드별: ") + values + tr(
                lang, "). To look for settings that train reliably at this depth, try e.g. "
                      f"<code>descentlab vanishing --activations {activation} --depths "
                      f"{deepest} --learning-rate 0.05 --initializers glorot_uniform,he_normal"
                      "</code>.",
                "). 이 깊이에서 안정적으로 학습하는 설정을 찾으려면 예를 들어 "
                f"<code>descentlab vanishing --activations {activation} --depths {deepest} "
                "--learning-rate 0.05 --initializers glorot_uniform,he_normal</code>을 "
                "실행해 보세요.")
        else:
            verdict = tr(lang, "trains.", "학습합니다.")
        out.append("<p>" + tr(
            lang, f"{name} at {deepest} hidden layers: mean test accuracy "
                  f"{num(f'{acc}.mean', '.3f')}; it ",
            f"{name}, 은닉층 {deepest}개: 평균 테스트 정확도 {num(f'{acc}.mean', '.3f')}, ")
            + verdict + "</p>")
    out.append(_figure(figs, "vanishing_accuracy", "accuracy vs depth", tr(
        lang, "Final test accuracy against depth for each activation (mean and spread over "
              "seeds; dotted: chance).",
        "활성화 함수별 깊이에 따른 최종 테스트 정확도(시드 평균과 범위, 점선: 우연 수준).")))
    bn = results["batch_norm"]["summary"][0]
    plain_i = _summary_index(van, "sigmoid", bn["depth"])
    if plain_i is not None:
        bn_acc = "batch_norm.summary.0.final_test_accuracy"
        values = ", ".join(num(f"{bn_acc}.values.{k}", ".3f")
                           for k in range(len(bn["final_test_accuracy"]["values"])))
        rescued = not bn["stuck_at_chance"]
        out.append("<p>" + tr(
            lang,
            f"Batch normalisation (Dense → BatchNormalization → sigmoid in each of the "
            f"{bn['depth']} hidden layers, otherwise the same training): mean test accuracy "
            f"{num(f'{bn_acc}.mean', '.3f')} (per seed {values}) against "
            f"{num(f'vanishing.summary.{plain_i}.final_test_accuracy.mean', '.3f')} without; "
            + ("the deep sigmoid network learns again." if rescued else
               "here it does not rescue the deep sigmoid network."),
            f"배치 정규화(은닉층 {bn['depth']}개 모두 Dense → BatchNormalization → 시그모이드, "
            f"나머지 훈련 조건은 동일): 평균 테스트 정확도 {num(f'{bn_acc}.mean', '.3f')}"
            f"(시드별 {values}), 배치 정규화가 없을 때는 "
            f"{num(f'vanishing.summary.{plain_i}.final_test_accuracy.mean', '.3f')}입니다. "
            + ("깊은 시그모이드 신경망이 다시 학습합니다." if rescued else
               "이번에는 깊은 시그모이드 신경망을 살리지 못했습니다.")) + "</p>")
    ws = results["weight_scale"]
    i1, i2 = _run_index(ws, "sigmoid", "1"), _run_index(ws, "sigmoid", "0.01")
    i3, i4 = _run_index(ws, "relu", "he"), _run_index(ws, "relu", "0.01")
    last = ws["configuration"]["layers"] - 1
    if None not in (i1, i2, i3, i4):
        out.append("<p>" + tr(
            lang,
            "The initial weights decide whether activations stay in the useful range "
            "(<i>Deep Learning from Scratch</i>, ch. 6; 5 layers of 100 units, no bias). With "
            f"N(0, 1) weights, {num(f'weight_scale.runs.{i1}.layers.{last}.near_0', '%')} + "
            f"{num(f'weight_scale.runs.{i1}.layers.{last}.near_1', '%')} of the last sigmoid "
            "layer's outputs sit within 0.05 of 0 or 1 (saturated, derivative ≈ 0); with "
            f"N(0, 0.01²), {num(f'weight_scale.runs.{i2}.layers.{last}.near_half', '%')} sit "
            "within 0.05 of 0.5 (every unit says the same). For ReLU, He initialisation keeps "
            f"the standard deviation from {num(f'weight_scale.runs.{i3}.layers.0.std', '.3f')} "
            f"to {num(f'weight_scale.runs.{i3}.layers.{last}.std', '.3f')} across the layers, "
            "while s = 0.01 shrinks it to "
            f"{num(f'weight_scale.runs.{i4}.layers.{last}.std', '.1e')}.",
            "초기 가중치가 활성화 값이 쓸모 있는 범위에 머무는지를 결정합니다"
            "(『밑바닥부터 시작하는 딥러닝』 6장: 유닛 100개 층 5개, 편향 없음). "
            "N(0, 1) 가중치에서는 마지막 시그모이드 "
            f"층 출력의 {num(f'weight_scale.runs.{i1}.layers.{last}.near_0', '%')} + "
            f"{num(f'weight_scale.runs.{i1}.layers.{last}.near_1', '%')}가 0이나 1에서 0.05 "
            "이내에 있고(포화, 도함수 ≈ 0), N(0, 0.01²)에서는 "
            f"{num(f'weight_scale.runs.{i2}.layers.{last}.near_half', '%')}가 0.5에서 0.05 이내에 "
            "있습니다(모든 유닛이 같은 값). ReLU에서 He 초기화는 표준편차를 층을 지나며 "
            f"{num(f'weight_scale.runs.{i3}.layers.0.std', '.3f')}에서 "
            f"{num(f'weight_scale.runs.{i3}.layers.{last}.std', '.3f')}로 유지하지만, "
            f"s = 0.01은 {num(f'weight_scale.runs.{i4}.layers.{last}.std', '.1e')}까지 줄입니다."
        ) + "</p>")
    for activation in weight_scale_activations(results):
        out.append(_figure(figs, f"weight_scale_{activation}", f"weight scale {activation}", tr(
            lang, f"Activation histograms per layer, {activation}: weight scales 1, 0.01, "
                  "Xavier, He.",
            f"{_activation_name(activation, lang)}의 층별 활성화 값 히스토그램: 가중치 스케일 "
            "1, 0.01, Xavier, He.")))

    # -- the diagnosis -------------------------------------------------------------------------
    out.append(_h(3, "diagnosis", lang, "The diagnosis: what descentlab finds, and what to try",
                  "진단: descentlab이 찾은 문제와 해볼 일"))
    for name, entry in results["diagnosis"].items():
        spec = entry["network"]
        title = tr(lang, f"{spec['depth']} hidden layers of {spec['activation']}, "
                         f"{spec['initializer']} initialisation, at initialisation:",
                   f"{_activation_name(spec['activation'], lang)} 은닉층 {spec['depth']}개, "
                   f"{spec['initializer']} 초기화, 초기화 직후:")
        out.append(f"<p><b>{H.escape(title)}</b></p>")
        findings = entry["diagnosis"]["findings"]
        if not findings:
            out.append("<p>" + tr(lang, "No problem found.", "문제를 찾지 못했습니다.") + "</p>")
        for k, finding in enumerate(findings):
            sev = finding["severity"]
            label = {"critical": tr(lang, "critical", "심각"),
                     "warning": tr(lang, "warning", "경고"),
                     "info": tr(lang, "note", "참고")}[sev]
            message = finding[f"message_{lang}"]
            remedy = finding[f"remedy_{lang}"]
            out.append(f'<div class="finding {H.escape(sev)}" data-finding="{name}.{k}">'
                       f"<b>{H.escape(label)}</b> — {H.escape(message)}<br>"
                       f"{tr(lang, 'Try:', '해볼 일:')} {H.escape(remedy)}</div>")
    return "\n".join(out)


def write(results: dict, out: str, lang: str = "en", workers: int | None = None
          ) -> dict[str, str]:
    """Write ``index.html``, ``results.json`` and ``figures/`` into ``out``; returns paths."""
    check_language(lang)
    results = plain(results)  # the page shows exactly what the JSON holds (NaN → null → "—")
    folder = prepare_folder(os.path.join(prepare_folder(out), "figures"))
    figs = render_figures(results, lang, folder, workers)
    num = H.Numbers(results)
    title = tr(lang, "Chapter 9, measured: why deep networks fail to train, and the fixes",
               "9장 직접 측정하기: 딥러닝이 학습하지 못하는 이유와 해결책")
    intro = "<p>" + tr(
        lang, "Every number and every finding below was measured by descentlab in the run "
              "that wrote this page; nothing is copied from the book.",
        "아래의 모든 수치와 결론은 이 페이지를 만든 실행에서 descentlab이 직접 측정한 "
        "것입니다. 책에서 옮겨 온 숫자는 없습니다.") + "</p>"
    body = (f"<h1>{H.escape(title)}</h1>{intro}"
            + _section_91(results, lang, figs, num)
            + _section_92(results, lang, figs, num)
            + _section_meta(results, lang, num))
    json_path = save_json(results, os.path.join(out, "results.json"))
    html_path = write_atomic(os.path.join(out, "index.html"), H.page(title, lang, body))
    return {"html": html_path, "json": json_path, "figures": folder}


def load_results(path: str) -> dict:
    """A ``results.json`` written by :func:`write` (plain JSON: nothing is executed)."""
    from descentlab.errors import DataError
    from descentlab.lab.results import load_json

    results = load_json(path)
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        found = results.get("schema") if isinstance(results, dict) else type(results).__name__
        raise DataError(f"{path!r} is not a descentlab report's results.json (schema "
                        f"{found!r}; expected {SCHEMA!r}).")
    return results


def build(out: str = "descentlab-report", lang: str = "en", quick: bool = False,
          data: str = "digits", workers: int | None = None, progress: bool = True) -> dict:
    """Measure everything and write the report; returns the paths and the results."""
    check_language(lang)
    prepare_folder(out)  # a bad --out fails now, not after the experiments
    results = measure(quick=quick, data=data, workers=workers, progress=progress)
    _say(progress, "writing the report")
    with contextlib.redirect_stdout(io.StringIO()):
        paths = write(results, out, lang, workers)
    return {**paths, "results": results}
