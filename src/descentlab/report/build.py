"""``descentlab report``: run chapter 9's experiments and write the chapter from the numbers.

:func:`measure` runs every experiment and returns one JSON-able dict (``results.json``);
:func:`write` turns such a dict into ``index.html`` plus figures (PNG and SVG) — it never trains,
so a report can be rewritten in the other language from the same numbers. :func:`build` does
both.

The page is written in three layers. This module decides what the numbers say
(:func:`facts_91`, :func:`facts_92`: which depth is stuck at chance, whether a fix is reliable,
where the zig-zag runs are); ``templates/*.html.j2`` say it, section by section, with every
measured number rendered from its path in the results (see :mod:`descentlab.report.html`);
``messages.toml`` holds the words in English and Korean side by side. The templates are
autoescaped: nothing in a ``results.json`` can become markup on the page.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import jinja2

from descentlab.errors import ConfigError, DataError, DescentLabError
from descentlab.lab.results import (
    FIGURES_LIST,
    figures_folder,
    new_folder,
    plain,
    prepare_folder,
    replace_folder,
    save_json,
    write_atomic,
)
from descentlab.plots.i18n import check_language
from descentlab.report import html as H
from descentlab.report import schema
from descentlab.report.html import Markup

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
                "sensitivity": {"rates": [0.001, 0.01, 0.1, 1.0], "seeds": [0], "epochs": 3},
                "vanishing": {"depths": [1, 5, 10], "seeds": [0], "epochs": 8},
                "diagnosis": {"samples": 256}}
    from descentlab.lab.optimizers import SENSITIVITY_RATES

    return {"optimizers": {"seeds": [0, 1, 2], "epochs": 20},
            "sensitivity": {"rates": list(SENSITIVITY_RATES), "seeds": [0, 1, 2], "epochs": 10},
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
        # Layer names count across the process (as in Keras): from "dense" here, whatever
        # ran in this process before.
        dl.backend.clear_session()
        dl.set_random_seed(seed)
        config = vanishing.make_config(**spec, seed=seed)
        model = vanishing.build_model(config, x.shape[1], int(y.max()) + 1)
        out[name] = {"network": spec, "diagnosis": diagnostics.diagnose(model, x, y).to_dict()}
    return out


def measure(quick: bool = False, data: str = "digits", workers: int | None = None,
            progress: bool = True) -> dict[str, Any]:
    """Run every experiment of the chapter; returns the results (plain JSON)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from descentlab import datasets
    from descentlab.lab import activations, runner, surfaces, vanishing
    from descentlab.lab import optimizers as lab_optimizers

    x, y, description = datasets.load_classification(data)  # a bad name fails now
    settings = plan(quick)
    results: dict[str, Any] = {"schema": SCHEMA, "quick": bool(quick), "data": data,
                               "data_description": description, "settings": settings,
                               "versions": _versions()}
    started = time.perf_counter()
    builtin = data in datasets.names()
    named = data if builtin else os.path.basename(data)
    arrays = None if builtin else (x, y)
    deepest = max(settings["vanishing"]["depths"])
    # (name, what the progress line says, the experiment, whether it trains on the workers)
    stages: list[tuple[str, str, Callable[[bool], Any], bool]] = [
        ("activations", "activation functions and their derivatives",
         lambda bar: activations.activation_curves(), False),
        ("weight_scale", "weight scale and activation histograms",
         lambda bar: activations.weight_scale_experiment(), False),
        ("vanishing", f"vanishing gradients on {description}", lambda bar: vanishing.run_grid(
            dataset=named, data=arrays, standardize=False, workers=workers, progress=bar,
            **settings["vanishing"]), True),
        ("batch_norm", "the deepest sigmoid network with batch normalisation",
         lambda bar: vanishing.run_grid(
             activations=("sigmoid",), depths=(deepest,), batch_norm=True, dataset=named,
             data=arrays, workers=workers, progress=bar, seeds=settings["vanishing"]["seeds"],
             epochs=settings["vanishing"]["epochs"]), True),
        ("diagnosis", "diagnosing a deep sigmoid and a ReLU network",
         lambda bar: diagnose_networks(x, y, **settings["diagnosis"]), False),
        ("surfaces", "optimizers on 2-D surfaces", lambda bar: {
            "dlfs": surfaces.compare("dlfs", list(surfaces.DLFS_RATES), steps=30,
                                     lr_mode="dlfs"),
            "quadratic": surfaces.compare(surfaces.ill_conditioned(100), ["sgd", "momentum"],
                                          steps=200, lr_mode="shared", learning_rate=0.01)},
         False),
        ("optimizers", f"optimizers on {description}", lambda bar: lab_optimizers.run(
            dataset=data, workers=workers, progress=bar, **settings["optimizers"]), True),
        ("sensitivity", "each optimizer's learning-rate sensitivity",
         lambda bar: lab_optimizers.sensitivity(dataset=data, workers=workers, progress=bar,
                                                **settings["sensitivity"]), True),
    ]
    timings: dict[str, float] = {}

    def stage(number: int, name: str, label: str, fn: Callable[[bool], Any],
              bar: bool) -> None:
        _say(progress, f"[{number}/{len(stages)}] {label}")
        tick = time.perf_counter()
        results[name] = fn(bar)
        timings[name] = time.perf_counter() - tick

    # One BLAS thread here too, as in every worker: the experiments measured in this process
    # give the same numbers with any number of workers, and an idle BLAS thread spinning here
    # takes no core from the workers.
    with threadpool_limits(1), runner.shared_pool(workers) as together:
        if not together:  # one worker: one experiment after the other, each with its bar
            for number, (name, label, fn, _) in enumerate(stages, start=1):
                stage(number, name, label, fn, progress)
        else:
            # The experiments that train run side by side, each in a thread that sends its
            # trials to the one pool of workers: no worker waits for another stage's last
            # trial. (Their bars would overwrite each other: each prints only its start line.)
            with ThreadPoolExecutor(max_workers=len(stages)) as threads:
                futures = [threads.submit(stage, number, name, label, fn, False)
                           for number, (name, label, fn, parallel) in enumerate(stages, 1)
                           if parallel]
                for number, (name, label, fn, parallel) in enumerate(stages, start=1):
                    if not parallel:
                        stage(number, name, label, fn, False)
                for future in futures:
                    future.result()
    timings = {name: timings[name] for name, *_ in stages}  # in the report's order
    timings["total"] = time.perf_counter() - started
    results["timings"] = timings
    return results


# -- writing ----------------------------------------------------------------------------------

def figure_jobs(results: dict, lang: str, folder: str) -> list[dict]:
    """Every figure of the report: which plotting function draws it from which results."""
    jobs: list[tuple[str, str, str, list[str], dict[str, str]]] = [
            ("activation_functions", "vanishing", "activation_figure", ["activations"], {}),
            ("vanishing_gradient_norms", "vanishing", "gradient_norm_figure", ["vanishing"], {}),
            ("vanishing_gradient_heatmap", "vanishing", "gradient_heatmap_figure",
             ["vanishing"], {}),
            ("vanishing_accuracy", "vanishing", "accuracy_figure", ["vanishing"], {}),
            ("gd_vs_sgd", "optimizers", "gd_vs_sgd_figure", ["optimizers"], {}),
            ("optimizers_loss", "optimizers", "data_figure", ["optimizers"], {}),
            ("optimizers_validation", "optimizers", "validation_figure", ["optimizers"], {}),
            ("optimizers_sensitivity", "optimizers", "sensitivity_figure", ["sensitivity"], {}),
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


# -- what the numbers say ---------------------------------------------------------------------

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


def fix_verdict(record: dict) -> str:
    """Whether an activation at the deepest depth is a fix: ``"chance"`` (it stays at chance),
    ``"unreliable"`` (some seeds stuck, or a spread over 0.1 in accuracy) or ``"trains"``."""
    if record["stuck_at_chance"]:
        return "chance"
    if record["stuck_fraction"] > 0 or (record["final_test_accuracy"]["std"] or 0) > 0.1:
        return "unreliable"
    return "trains"


def facts_91(results: dict) -> dict[str, Any]:
    """What section 9.1 says, decided from the numbers (indices into the results, verdicts);
    the template says it."""
    van = results["vanishing"]
    cfg = van["configuration"]
    activations, depths = cfg["activations"], cfg["depths"]
    deepest = max(depths)
    trends = {t["activation"]: i for i, t in enumerate(van["trends"])}
    sigmoid_trend = None
    if "sigmoid" in trends and van["trends"][trends["sigmoid"]]["ratio_factor_per_layer"]:
        factor = van["trends"][trends["sigmoid"]]["ratio_factor_per_layer"]
        sigmoid_trend = {"index": trends["sigmoid"], "geometric": factor < 0.5}
    stuck_depths = [d for d in depths
                    if (i := _summary_index(van, "sigmoid", d)) is not None
                    and van["summary"][i]["stuck_at_chance"]]
    stuck = None
    if "sigmoid" in activations and stuck_depths:
        stuck = {"depth": stuck_depths[0],
                 "index": _summary_index(van, "sigmoid", stuck_depths[0])}
    deepest_fixes = []
    for activation in [a for a in activations if a != "sigmoid"]:
        i = _summary_index(van, activation, deepest)
        deepest_fixes.append({"activation": activation, "index": i,
                              "verdict": fix_verdict(van["summary"][i])})
    bn = results["batch_norm"]["summary"][0]
    plain_i = _summary_index(van, "sigmoid", bn["depth"])
    batch_norm = (None if plain_i is None else
                  {"depth": bn["depth"], "plain_index": plain_i,
                   "rescued": not bn["stuck_at_chance"]})
    ws = results["weight_scale"]
    runs = {"sigmoid_1": _run_index(ws, "sigmoid", "1"),
            "sigmoid_small": _run_index(ws, "sigmoid", "0.01"),
            "relu_he": _run_index(ws, "relu", "he"), "relu_small": _run_index(ws, "relu", "0.01")}
    weight_scale = (None if None in runs.values() else
                    {**runs, "last": ws["configuration"]["layers"] - 1})
    return {
        "activation_names": list(results["activations"]["functions"]),
        "ratio_rows": [{"depth": d, "indices": [_summary_index(van, a, d) for a in activations],
                        "bound_index": _summary_index(van, activations[0], d)} for d in depths],
        "sigmoid_trend": sigmoid_trend, "sigmoid_measured": "sigmoid" in activations,
        "stuck": stuck,
        "accuracy_rows": [{"activation": a,
                           "indices": [_summary_index(van, a, d) for d in depths]}
                          for a in activations],
        "deepest_depth": deepest, "deepest": deepest_fixes, "batch_norm": batch_norm,
        "weight_scale": weight_scale,
        "weight_scale_activations": weight_scale_activations(results),
        "diagnosis": list(results["diagnosis"].items()),
    }


def facts_92(results: dict, lang: str) -> dict[str, Any]:
    """What section 9.2 says, decided from the numbers."""
    from descentlab.plots import optimizers as plots

    opt = results["optimizers"]
    claims = {c["id"]: c for c in opt["claims"]}
    faster = [c for c in opt["claims"] if c["id"].startswith("faster_than_sgd:")]
    slower = [plots.label(c["evidence"]["optimizer"], lang) for c in faster
              if c["holds"] is False]
    names = [r["optimizer"] for r in results["surfaces"]["dlfs"]["trajectories"]]
    return {"claims": claims, "faster_than_sgd": faster,
            "slower_than_sgd": slower if opt["config"]["lr_mode"] == "book" else [],
            "zigzag": {"sgd": names.index("sgd"), "momentum": names.index("momentum")},
            "sensitivity": facts_sensitivity(results["sensitivity"], lang)}


def facts_sensitivity(sens: dict, lang: str) -> dict[str, Any]:
    """What the learning-rate sensitivity says, decided from its numbers: the optimizer with
    the lowest loss at its own best rate, which optimizers beat plain SGD's best, where the
    book's rate lies against each range of good rates, bests at the grid's edge, divergence."""
    from descentlab.plots import optimizers as plots

    names = list(sens["config"]["optimizers"])
    entries = {name: sens["optimizers"][name] for name in names}
    rates, seeds = len(sens["config"]["rates"]), len(sens["config"]["seeds"])
    for name, entry in entries.items():  # what the schema cannot say: the shapes agree
        tables = [entry[key] for key in ("train_loss", "val_accuracy", "diverged")]
        lists = [entry[key] for key in ("diverged_seeds", "mean_train_loss", "std_train_loss",
                                        "mean_val_accuracy", "std_val_accuracy", "good")]
        if rates == 0 or any(len(t) != rates or any(len(row) != seeds for row in t)
                             for t in tables) or any(len(v) != rates for v in lists) or \
                any(entry[key] is not None and not 0 <= entry[key] < rates
                    for key in ("best_index", "book_index")):
            raise DataError(f"the sensitivity of {name!r} does not match its {rates} rates × "
                            f"{seeds} seeds")

    def labels(selected: list[str]) -> list[str]:
        return [plots.label(name, lang) for name in selected]

    measured = [n for n in names if entries[n]["best_index"] is not None]
    winner = min(measured, key=lambda n: entries[n]["best_train_loss"]) if measured else None
    sgd = entries["sgd"]["best_train_loss"] if "sgd" in measured else None
    others = [n for n in measured if n != "sgd"]
    beat = [n for n in others if sgd is not None and entries[n]["best_train_loss"] < sgd]
    book: dict[str, list[str]] = {"inside": [], "below": [], "above": [], "off_grid": []}
    for name in measured:
        entry = entries[name]
        if entry["book_index"] is None:
            book["off_grid"].append(name)
        elif entry["book_good"]:
            book["inside"].append(name)
        else:
            book["below" if entry["book_rate"] < entry["good_low"] else "above"].append(name)
    return {
        "names": names, "winner": winner, "sgd_measured": sgd is not None,
        "beat_sgd": labels(beat), "not_beat_sgd": labels([n for n in others if n not in beat]),
        "book": {where: labels(selected) for where, selected in book.items()},
        "edge": labels([n for n in measured if entries[n]["best_at_edge"]]),
        "never": labels([n for n in names if entries[n]["best_index"] is None]),
        "diverged": [{"name": n, "label": plots.label(n, lang),
                      "rates": [i for i, count in enumerate(entries[n]["diverged_seeds"])
                                if count]}
                     for n in names if any(entries[n]["diverged_seeds"])],
        "last_rate": len(sens["config"]["rates"]) - 1,
    }


def _optimizer_settings(name: str) -> str:
    """The book-table settings of an optimizer other than its learning rate (``momentum=0.9``)."""
    from descentlab.lab.optimizers import SPECS

    config = SPECS[name]["config"] if name in SPECS else {}
    return ", ".join(f"{k}={v}" for k, v in config.items() if k != "learning_rate")


# -- the page ---------------------------------------------------------------------------------

def _per_seed(num: H.Numbers, results: dict) -> Callable[[str, str], Markup]:
    def per_seed(key: str, fmt: str) -> Markup:
        return Markup(", ").join(num(f"{key}.{k}", fmt) for k in range(len(H.lookup(results,
                                                                                       key))))
    return per_seed


#: What a results dict that is not a report's raises while the page is written from it
#: (a number where a list belongs, a missing entry, an index out of range).
_SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError,
                 jinja2.UndefinedError)
LANGUAGES = ("en", "ko")


def render_body(results: dict, lang: str, figures: dict[str, dict]) -> str:
    """The page's body from the results; ``figures`` maps each figure's name to its ``src``
    (a data URI) and ``svg`` (a file name, or None)."""
    check_language(lang)
    num = H.Numbers(results)
    context = {
        "results": results, "lang": lang, "t": H.Catalogue(lang), "num": num,
        "lookup": lambda key: H.lookup(results, key), "per_seed": _per_seed(num, results),
        "figures": figures,
        "activation_name": lambda name: _activation_name(name, lang),
        "optimizer_label": lambda name: _optimizer_label(name, lang),
        "optimizer_settings": _optimizer_settings,
        "v91": facts_91(results), "v92": facts_92(results, lang),
        "versions": list(results["versions"].items()), "stages": list(results["timings"]),
        "settings_json": json.dumps(results["settings"], ensure_ascii=False)}
    return H.environment().get_template("body.html.j2").render(context)


def check_results(results: Any, source: str = "the results dict") -> None:
    """Raise :class:`DataError` (one line) unless the page can be written from ``results`` in
    every language: run on a ``results.json`` before anything is drawn from it.

    Two steps, the one check there is: the results must match the schema
    (``results.schema.json``: required keys, types, ranges), then the page is written once in
    each language without figures (which catches what a schema cannot say, such as a name in
    one list that another must contain)."""
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        found = results.get("schema") if isinstance(results, dict) else type(results).__name__
        raise DataError(f"{source} is not a descentlab report's results.json (schema "
                        f"{found!r}; expected {SCHEMA!r}).")
    try:
        schema.validate(results)
    except DataError as exc:
        raise DataError(f"{source} is not a complete descentlab report: {exc}.") from None
    try:
        for lang in LANGUAGES:
            render_body(results, lang, _figure_sources(results, lang, None))
    except DescentLabError as exc:
        raise DataError(f"{source} is not a complete descentlab report: {exc}") from exc
    except _SHAPE_ERRORS as exc:
        detail = (str(exc).splitlines() or [""])[0][:200]
        raise DataError(f"{source} is not a complete descentlab report's results.json "
                        f"({type(exc).__name__}: {detail}).") from exc


def render_page(results: dict, lang: str, figures: dict[str, dict]) -> str:
    """The whole page: ``<head>`` (style, and for Korean the embedded font) and the body."""
    title = H.Catalogue(lang)("page.title")
    body = render_body(results, lang, figures)
    font_face = H.korean_font_face(title + body) if lang == "ko" else ""
    return H.environment().get_template("page.html.j2").render(
        lang=lang, title=title, font_face=font_face, body=Markup(body))


def _figure_sources(results: dict, lang: str, figs: dict | None) -> dict[str, dict]:
    """``figures`` for the templates; with ``figs=None``, empty images (a dry run that checks
    the results can be written before any figure is drawn)."""
    names = [job["name"] for job in figure_jobs(results, lang, "")]
    if figs is None:
        return {name: {"src": "", "svg": None} for name in names}
    return {name: {"src": H.png_data_uri(figs["png"][name]),
                   "svg": f"{name}.svg" if name in figs["svg"] else None} for name in names}


def _activation_name(name: str, lang: str) -> str:
    from descentlab.plots.vanishing import activation_label

    return activation_label(name, lang)


def _optimizer_label(name: str, lang: str) -> str:
    from descentlab.plots.optimizers import label

    return label(name, lang)

def write(results: dict, out: str, lang: str = "en", workers: int | None = None
          ) -> dict[str, str]:
    """Write ``index.html``, ``results.json`` and ``figures/`` into ``out``; returns paths.

    ``results.json`` is saved first, so an interrupted drawing never loses the measurements.
    The figures are drawn into a new folder beside ``figures/`` that replaces it only once
    all are drawn: rerunning into an existing report never leaves a mix of old and new
    figures, and an interrupted run leaves the previous figures and page whole. A
    ``figures/`` holding anything descentlab did not draw there is refused
    (:func:`~descentlab.lab.results.figures_folder`), never deleted.
    """
    check_language(lang)
    prepare_folder(out)
    folder = figures_folder(out, "figures")  # nothing of the user's in it
    results = plain(results)  # the page shows exactly what the JSON holds (NaN → null → "—")
    json_path = save_json(results, os.path.join(out, "results.json"))
    drawing = new_folder(out, ".figures-drawing")
    try:
        figs = render_figures(results, lang, drawing, workers)
        page = render_page(results, lang, _figure_sources(results, lang, figs))
        write_atomic(os.path.join(drawing, FIGURES_LIST),
                     "".join(f"{name}\n" for name in sorted(os.listdir(drawing))))
        figures_folder(out, "figures")  # nothing of the user's arrived meanwhile
        replace_folder(folder, drawing)
        html_path = write_atomic(os.path.join(out, "index.html"), page)
    finally:
        shutil.rmtree(drawing, ignore_errors=True)  # gone already, unless drawing failed
    return {"html": html_path, "json": json_path, "figures": folder}


def load_results(path: str) -> dict:
    """A ``results.json`` written by :func:`write` (plain JSON: nothing is executed), read
    within size and depth limits (:func:`descentlab.report.schema.read_json_file`) and
    checked with :func:`check_results`."""
    results = schema.read_json_file(path)
    check_results(results, repr(path))
    return results


def build(out: str = "descentlab-report", lang: str = "en", quick: bool = False,
          data: str = "digits", workers: int | None = None, progress: bool = True) -> dict:
    """Measure everything and write the report; returns the paths and the results."""
    check_language(lang)
    prepare_folder(out)  # a bad --out fails now, not after the experiments,
    figures_folder(out, "figures")  # and so does a user's file in the figures folder
    results = measure(quick=quick, data=data, workers=workers, progress=progress)
    _say(progress, "writing the report")
    with contextlib.redirect_stdout(io.StringIO()):
        paths = write(results, out, lang, workers)
    return {**paths, "results": results}
