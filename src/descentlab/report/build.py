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
import tempfile
import time
from collections.abc import Callable
from typing import Any

from descentlab.errors import ConfigError
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
                "vanishing": {"depths": [1, 5, 10], "seeds": [0], "epochs": 8}}
    return {"optimizers": {"seeds": [0, 1, 2], "epochs": 20},
            "vanishing": {"depths": [1, 3, 5, 10], "seeds": [0, 1, 2], "epochs": 30}}


def measure(quick: bool = False, data: str = "digits", workers: int | None = None,
            progress: bool = True) -> dict[str, Any]:
    """Run every experiment of the chapter; returns the results (plain JSON)."""
    from descentlab.lab import optimizers as lab_optimizers
    from descentlab.lab import surfaces

    settings = plan(quick)
    timings: dict[str, float] = {}
    results: dict[str, Any] = {"schema": SCHEMA, "quick": bool(quick), "data": data,
                               "settings": settings, "versions": _versions()}
    started = time.perf_counter()

    def stage(name: str, label: str, fn: Callable[[], Any]) -> None:
        _say(progress, f"[{len(timings) + 1}/{len(STAGES)}] {label}")
        tick = time.perf_counter()
        results[name] = fn()
        timings[name] = time.perf_counter() - tick

    STAGES = ["surfaces", "optimizers"]
    stage("surfaces", "optimizers on 2-D surfaces", lambda: {
        "dlfs": surfaces.compare("dlfs", list(surfaces.DLFS_RATES), steps=30, lr_mode="dlfs"),
        "quadratic": surfaces.compare(surfaces.ill_conditioned(100), ["sgd", "momentum"],
                                      steps=200, lr_mode="shared", learning_rate=0.01)})
    stage("optimizers", f"optimizers on {data}", lambda: lab_optimizers.run(
        dataset=data, workers=workers, progress=progress, **settings["optimizers"]))
    timings["total"] = time.perf_counter() - started
    results["timings"] = timings
    return results


# -- writing ----------------------------------------------------------------------------------

def tr(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def _h(level: int, anchor: str, lang: str, en: str, ko: str) -> str:
    return f'<h{level} id="{anchor}">{H.escape(tr(lang, en, ko))}</h{level}>'


def _render(fig: Any, folder: str, name: str) -> bytes:
    """Save ``fig`` as PNG and SVG in ``folder`` and return the PNG's bytes for embedding."""
    from descentlab.plots.style import save_figure

    save_figure(fig, folder, name)
    with open(os.path.join(folder, f"{name}.png"), "rb") as stream:
        return stream.read()


def _claim_html(claim: dict, lang: str) -> str:
    cls = {True: "holds", False: "fails", None: "unknown"}[claim["holds"]]
    book = claim["book_ko"] if lang == "ko" else claim["book_en"]
    said = tr(lang, "The book:", "책의 주장:")
    return (f'<div class="claim {cls}"><div class="book">{said} {H.escape(book)}</div>'
            f'<div>{H.escape(claim[lang])}</div></div>')


def _section_92(results: dict, lang: str, folder: str, num: H.Numbers) -> str:
    from descentlab.lab.optimizers import SPECS
    from descentlab.plots import optimizers as plots

    opt = results["optimizers"]
    cfg = opt["config"]
    claims = {c["id"]: c for c in opt["claims"]}
    out = [_h(2, "s92", lang, "9.2 Gradient descent: its cost, and the fixes",
           "9.2 경사 하강법의 비용과 해결책")]

    # GD's cost and SGD
    png = _render(plots.gd_vs_sgd_figure(opt, lang), folder, "gd_vs_sgd")
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
    out.append(H.figure(png, "GD vs SGD", tr(
        lang, "Full training loss after each update for GD and SGD (first seed); the dashed "
              "line is the loss of the batch SGD's update was computed on.",
        "업데이트마다 측정한 GD와 SGD의 전체 훈련 손실(첫 번째 시드). 점선은 SGD가 업데이트에 "
        "사용한 배치의 손실입니다."), "gd_vs_sgd.svg"))
    out.append(_h(3, "sgd", lang, "Stochastic gradient descent: cheaper, and noisier",
           "확률적 경사 하강법: 더 싸고, 더 요동친다"))
    if "sgd_fluctuates" in claims:
        out.append(_claim_html(claims["sgd_fluctuates"], lang))
    png = _render(plots.data_figure(opt, lang), folder, "optimizers_loss")
    out.append(H.figure(png, "loss curves", tr(
        lang, "Training loss against epochs, against gradient evaluations (the cost) and "
              "against seconds; mean over seeds with the min–max band.",
        "에포크, 기울기 계산 횟수(비용), 경과 시간에 따른 훈련 손실. 시드 평균과 최소–최대 띠."),
        "optimizers_loss.svg"))

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
    png = _render(plots.surface_figure(dlfs, lang), folder, "surface_dlfs")
    out.append(H.figure(png, "trajectories", tr(
        lang, "Trajectories of SGD, momentum, Adagrad and Adam on x²/20 + y².",
        "x²/20 + y² 위에서 SGD, 모멘텀, Adagrad, Adam의 궤적."), "surface_dlfs.svg"))
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
    png = _render(plots.theory_figure(theory, lang), folder, "quadratic_theory")
    out.append(H.figure(png, "theory", tr(
        lang, "Distance to the minimum: measured (solid) against the predicted rate (dashed).",
        "최솟값까지의 거리: 측정값(실선)과 예측 수렴률(점선)."), "quadratic_theory.svg"))

    # The book's table
    out.append(_h(3, "table", lang, "The book’s table of optimizers, measured",
           "책의 옵티마이저 표, 직접 측정"))
    out.append("<p>" + tr(
        lang,
        f"Each optimizer with the settings of the book's table (learning rates: "
        f"{H.escape(cfg['lr_mode'])}), {len(cfg['seeds'])} seeds × {cfg['epochs']} epochs; "
        f"target training loss {num('optimizers.config.target_loss', 'g')}.",
        f"책의 표에 있는 설정(학습률: {H.escape(cfg['lr_mode'])})으로 각 옵티마이저를 시드 "
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
    png = _render(plots.validation_figure(opt, lang), folder, "optimizers_validation")
    out.append(H.figure(png, "validation", tr(
        lang, "Validation accuracy and loss per epoch.", "에포크별 검증 정확도와 손실."),
        "optimizers_validation.svg"))
    return "\n".join(out)


def _section_meta(results: dict, lang: str, num: H.Numbers) -> str:
    rows = [(H.escape(k), H.escape(v)) for k, v in results["versions"].items()]
    rows += [(tr(lang, f"time: {k}", f"시간: {k}"), num(f"timings.{k}", ".2f") + " s")
             for k in results["timings"]]
    opt = results["optimizers"]["config"]
    rows += [(tr(lang, "seeds", "시드"), H.escape(", ".join(map(str, opt["seeds"])))),
             (tr(lang, "data", "데이터"), H.escape(results["data"])),
             (tr(lang, "quick run", "빠른 실행"), H.escape(results["quick"]))]
    settings = H.escape(json.dumps(results["settings"], ensure_ascii=False))
    return (_h(2, "config", lang, "Configuration, versions and timings",
           "설정, 버전, 소요 시간")
            + H.table([tr(lang, "item", "항목"), tr(lang, "value", "값")], rows, "meta")
            + f"<p><code>{settings}</code></p>"
            + "<p>" + tr(lang, "All numbers are in results.json beside this page.",
                         "모든 수치는 이 페이지 옆의 results.json에 있습니다.") + "</p>")


SECTIONS = ("s92", "config")


def write(results: dict, out: str, lang: str = "en") -> dict[str, str]:
    """Write ``index.html``, ``results.json`` and ``figures/`` into ``out``; returns paths."""
    check_language(lang)
    folder = os.path.join(out, "figures")
    os.makedirs(folder, exist_ok=True)
    num = H.Numbers(results)
    title = tr(lang, "Chapter 9, measured: why deep networks fail to train, and the fixes",
               "9장 직접 측정하기: 딥러닝이 학습하지 못하는 이유와 해결책")
    intro = "<p>" + tr(
        lang, "Every number and every finding below was measured by descentlab in the run "
              "that wrote this page; nothing is copied from the book.",
        "아래의 모든 수치와 결론은 이 페이지를 만든 실행에서 descentlab이 직접 측정한 "
        "것입니다. 책에서 옮겨 온 숫자는 없습니다.") + "</p>"
    body = (f"<h1>{H.escape(title)}</h1>{intro}"
            + _section_92(results, lang, folder, num)
            + _section_meta(results, lang, num))
    json_path = os.path.join(out, "results.json")
    _atomic_write(json_path, json.dumps(results, ensure_ascii=False, indent=1))
    html_path = os.path.join(out, "index.html")
    _atomic_write(html_path, H.page(title, lang, body))
    return {"html": html_path, "json": json_path, "figures": folder}


def _atomic_write(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(prefix=".tmp.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_results(path: str) -> dict:
    """A ``results.json`` written by :func:`write` (plain JSON: nothing is executed)."""
    from descentlab.errors import DataError

    try:
        with open(path, encoding="utf-8") as stream:
            results = json.load(stream)
    except FileNotFoundError:
        raise DataError(f"results file {path!r} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path!r} is not a JSON file ({exc}).") from None
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        found = results.get("schema") if isinstance(results, dict) else type(results).__name__
        raise DataError(f"{path!r} is not a descentlab report's results.json (schema "
                        f"{found!r}; expected {SCHEMA!r}).")
    return results


def build(out: str = "descentlab-report", lang: str = "en", quick: bool = False,
          data: str = "digits", workers: int | None = None, progress: bool = True) -> dict:
    """Measure everything and write the report; returns the paths and the results."""
    check_language(lang)
    if not isinstance(out, str) or not out:
        raise ConfigError(f"the output folder must be a path; got {out!r}.")
    results = measure(quick=quick, data=data, workers=workers, progress=progress)
    _say(progress, "writing the report")
    with contextlib.redirect_stdout(io.StringIO()):
        paths = write(results, out, lang)
    return {**paths, "results": results}
