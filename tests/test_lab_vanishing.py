"""The vanishing-gradient lab: determinism, results schema, the measured effects, the figures."""

from __future__ import annotations

import json
import logging
import math
import os
import warnings

import numpy as np
import pytest

import descentlab as dl
from descentlab import datasets
from descentlab.errors import ConfigError
from descentlab.lab import activations as lab_activations
from descentlab.lab import runner, vanishing
from descentlab.plots import vanishing as plots

SMALL = {"epochs": 2, "probe_size": 128}


@pytest.fixture(scope="module")
def small_grid() -> dict:
    """sigmoid vs relu, He init, depths 2 and 8, one seed, two epochs: the effect, quickly."""
    return vanishing.run_grid(activations=("sigmoid", "relu"), depths=(2, 8),
                              initializers=("he_normal",), seeds=(0,), workers=1,
                              progress=False, **SMALL)


@pytest.fixture(scope="module")
def weight_scale() -> dict:
    return lab_activations.weight_scale_experiment()


# ---------------------------------------------------------------------------------------------
# One trial
# ---------------------------------------------------------------------------------------------
def test_trial_is_deterministic() -> None:
    config = {"activation": "tanh", "depth": 3, "seed": 5, **SMALL}
    first = vanishing.trial(config)
    dl.set_random_seed(123)  # global state the trial must not depend on
    second = vanishing.trial(config)
    assert json.dumps(vanishing.without_timings(first), sort_keys=True) == json.dumps(
        vanishing.without_timings(second), sort_keys=True)
    other_seed = vanishing.trial({**config, "seed": 6})
    assert other_seed["grad_norms"]["init"] != first["grad_norms"]["init"]


def test_trial_result_keys_and_shapes() -> None:
    result = vanishing.trial({"activation": "sigmoid", "depth": 3, "epochs": 2})
    assert result["config"] == vanishing.make_config(activation="sigmoid", depth=3, epochs=2)
    assert result["library_version"] == dl.__version__
    assert result["data"]["classes"] == 10 and result["chance"] == pytest.approx(0.1)
    assert result["data"]["train_samples"] + result["data"]["test_samples"] == 1797
    assert len(result["layers"]) == 4  # 3 hidden + output
    assert len(result["grad_norms"]["init"]) == 4
    assert [len(row) for row in result["grad_norms"]["epochs"]] == [4, 4]
    norms = result["grad_norms"]["init"]
    assert result["ratio_first_last"]["init"] == pytest.approx(norms[0] / norms[-1])
    for key in ("loss", "accuracy", "test_loss", "test_accuracy"):
        assert len(result["history"][key]) == 2
    # the sigmoid's mean derivative lies below its maximum 0.25 in every hidden layer
    assert all(0 < d <= 0.25 for d in result["mean_derivative_init"])
    assert set(result["timings"]) == {"total_seconds", "train_seconds", "measure_seconds"}
    assert result["epochs_run"] == 2 and result["diverged"] is False
    json.dumps(result, allow_nan=False)  # strictly JSON


def test_trial_probe_norms_match_compute_gradients() -> None:
    """The init norms are ‖∂L/∂W‖ of the kernels on the probe batch, as the engine computes."""
    config = vanishing.make_config(activation="relu", depth=2, epochs=1, seed=3, probe_size=64)
    result = vanishing.trial(config)
    x, y = datasets.load_digits()
    x_train, _, y_train, _ = datasets.train_test_split(x, y, test_size=0.25, seed=3)
    dl.set_random_seed(3)
    model = vanishing.build_model(config, 64, 10)
    _, grads = model.compute_gradients(x_train[:64], y_train[:64])
    expected = [float(np.linalg.norm(g)) for g in grads[::2]]
    assert result["grad_norms"]["init"] == expected


def test_trial_on_arrays() -> None:
    x, y = datasets.load("iris")
    result = vanishing.trial({"activation": "tanh", "depth": 2, "epochs": 3, "dataset": "iris",
                              "standardize": True}, data=(x, y))
    assert result["data"]["classes"] == 3
    assert result["chance"] == pytest.approx(1 / 3)
    assert result["data"]["fingerprint"].startswith("sha256:")
    assert len(result["grad_norms"]["init"]) == 3


def test_bad_settings_fail_before_training() -> None:
    with pytest.raises(ConfigError, match="unknown trial setting"):
        vanishing.trial({"activation": "relu", "dept": 3})
    with pytest.raises(ConfigError, match="positive integer"):
        vanishing.make_config(depth=0)
    with pytest.raises(ConfigError):
        vanishing.run_grid(activations=("sigmod",), progress=False)
    with pytest.raises(ConfigError, match="grid axis"):
        vanishing.grid_configs(depth=3)
    for axis in ("activations", "depths", "initializers", "seeds"):  # an empty grid drew
        with pytest.raises(ConfigError, match=f"^{axis} is empty"):  # empty figures
            vanishing.run_grid(**{axis: []}, workers=1, progress=False)
    for axis, twice in (("activations", ["relu", "tanh", "relu"]), ("depths", [1, 1]),
                        ("initializers", ["he_normal"] * 2), ("seeds", [0, 1, 1])):
        with pytest.raises(ConfigError, match=rf"^{axis} lists a value twice: "):
            vanishing.run_grid(**{axis: twice}, workers=1, progress=False)


# ---------------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------------
def test_grid_schema(small_grid: dict) -> None:
    assert small_grid["schema"] == "descentlab.vanishing/1"
    assert set(small_grid) == {"schema", "library", "configuration", "trials", "summary",
                               "trends", "timings"}
    assert small_grid["library"] == {"name": "descentlab", "version": dl.__version__}
    config = small_grid["configuration"]
    assert config["depths"] == [2, 8] and config["base"]["epochs"] == 2
    assert len(small_grid["trials"]) == 4
    order = [(r["config"]["activation"], r["config"]["depth"]) for r in small_grid["trials"]]
    assert order == [("sigmoid", 2), ("sigmoid", 8), ("relu", 2), ("relu", 8)]
    record = vanishing.find_summary(small_grid, "sigmoid", 8)
    assert {"final_test_accuracy", "best_test_accuracy", "ratio_init_geomean",
            "ratio_final_geomean", "sigmoid_bound", "stuck_fraction", "stuck_at_chance",
            "chance", "diverged"} <= set(record)
    assert record["sigmoid_bound"] == 0.25 ** 8
    assert set(record["final_test_accuracy"]) == {"mean", "std", "min", "max", "values"}


def test_sigmoid_gradient_vanishes_with_depth(small_grid: dict) -> None:
    sigmoid_2 = vanishing.find_summary(small_grid, "sigmoid", 2)["ratio_init_geomean"]
    sigmoid_8 = vanishing.find_summary(small_grid, "sigmoid", 8)["ratio_init_geomean"]
    relu_2 = vanishing.find_summary(small_grid, "relu", 2)["ratio_init_geomean"]
    relu_8 = vanishing.find_summary(small_grid, "relu", 8)["ratio_init_geomean"]
    # six more sigmoid layers: six more factors σ' ≤ 0.25 (0.25⁶ ≈ 2.4e−4)
    assert sigmoid_8 < 1e-2 * sigmoid_2
    assert 0.1 < relu_8 / relu_2 < 10  # relu with He init keeps the gradient's scale
    trend = {t["activation"]: t["ratio_factor_per_layer"] for t in small_grid["trends"]}
    assert trend["sigmoid"] < 0.5 < trend["relu"]
    # a deep sigmoid network learns nothing in two epochs; a shallow relu one does
    assert vanishing.find_summary(small_grid, "sigmoid", 8)["stuck_at_chance"]
    assert not vanishing.find_summary(small_grid, "relu", 2)["stuck_at_chance"]


def assert_same_records(got: dict, want: dict, rtol: float, path: str = "") -> None:
    """Two trial records equal key by key (timings aside): numbers to ``rtol``, the rest
    exactly; null (a non-finite number) only where the other has null."""
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for key in want:
            if key != "timings":
                assert_same_records(got[key], want[key], rtol, f"{path}/{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            assert_same_records(a, b, rtol, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, float), path
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, err_msg=path)
    else:
        assert got == want, path


@pytest.mark.parametrize("case", ["diverging", "initializers", "batch_norm", "arrays",
                                  "activations"])
def test_a_trial_group_gives_each_trial_its_own_result(case: str) -> None:
    """trial_group trains the seeds as one population; each record equals the one-network
    trial (Sequential.fit with the probe callback) of that configuration, float64: the
    members' own splits, initial weights, shuffling, per-epoch probes — and, at learning rate
    1e8, the members that diverge stop (measured as they stopped) while the others go on."""
    base = {"floatx": "float64", "epochs": 2, "probe_size": 32, "width": 16}
    data = None
    if case == "diverging":
        configs = [dict(base, activation="relu", initializer="he_normal", depth=4, seed=s,
                        learning_rate=1e8) for s in range(4)]
    elif case == "initializers":
        configs = [dict(base, activation="tanh", depth=3, seed=s, initializer=i)
                   for s in (0, 1) for i in ("glorot_uniform", "he_normal")]
    elif case == "batch_norm":
        configs = [dict(base, activation=a, depth=5, seed=s, batch_norm=True)
                   for a in ("sigmoid", "relu") for s in (2, 3)]
    elif case == "activations":  # the grid's populations: every activation of one depth
        configs = [dict(base, activation=a, depth=3, seed=s)
                   for a in ("sigmoid", "tanh", "relu", "softplus") for s in (0, 1)]
    else:
        x, y = datasets.load("wine")
        data = (x, y)
        configs = [dict(base, activation="softplus", depth=2, seed=s, dataset="wine",
                        standardize=True, batch_size=16) for s in (0, 1, 2)]
    group = vanishing.trial_group(configs, data)
    alone = [vanishing.trial(config, data) for config in configs]
    if case == "diverging":
        assert {r["diverged"] for r in alone} == {True, False}  # the case it is meant to be
    for got, want in zip(group, alone, strict=True):
        assert_same_records(got, want, rtol=1e-10)


@pytest.mark.parametrize("activations", [("sigmoid",), ("relu",),
                                         ("sigmoid", "tanh", "relu", "softplus")])
def test_a_float32_trial_group_is_bit_identical_to_its_trials(activations) -> None:
    """The lab's default precision: the population computes each member's steps, losses and
    measurements (the probe's gradients of all members in one pass) in the same order as its
    one-network trial, so the records are equal bit for bit (the README's numbers do not
    depend on which path measured them) — with as many members as the grid puts together."""
    configs = [{"activation": a, "depth": 3, "seed": s, "epochs": 2}
               for a in activations for s in (0, 1, 2)]
    group = vanishing.trial_group(configs)
    alone = [vanishing.trial(c) for c in configs]
    assert [json.dumps(vanishing.without_timings(r), sort_keys=True) for r in group] == [
        json.dumps(vanishing.without_timings(r), sort_keys=True) for r in alone]


def test_the_grid_trains_its_seeds_as_populations_in_grid_order() -> None:
    """run_grid's records, in grid order, are the one-network trials of its configurations."""
    kwargs = {"activations": ("sigmoid", "relu"), "depths": (1, 3), "seeds": (4, 5),
              "initializers": ("glorot_uniform", "he_uniform"), "epochs": 1,
              "probe_size": 16, "width": 8, "floatx": "float64"}
    results = vanishing.run_grid(workers=1, progress=False, **kwargs)
    configs = vanishing.grid_configs(
        kwargs["activations"], kwargs["depths"], kwargs["initializers"], kwargs["seeds"],
        epochs=1, probe_size=16, width=8, floatx="float64")
    assert [r["config"] for r in results["trials"]] == configs
    for got, config in zip(results["trials"], configs, strict=True):
        assert_same_records(got, vanishing.trial(config), rtol=1e-10)


def test_a_trial_group_trains_one_architecture() -> None:
    with pytest.raises(ConfigError, match="differ only in seed, initializer, activation"):
        vanishing.trial_group([{"depth": 2, "seed": 0}, {"depth": 3, "seed": 1}])


def test_the_grid_puts_each_depth_in_one_population_where_that_keeps_the_workers_busy(
        ) -> None:
    configs = vanishing.grid_configs(("sigmoid", "tanh", "relu"), (1, 4), seeds=(0, 1, 2))
    one = vanishing.populations(configs, workers=1)
    assert [(len(p), {c["depth"] for c in p}) for p in one] == [(9, {1}), (9, {4})]
    assert vanishing.populations(configs, workers=2) == one  # a depth per worker: whole
    three = vanishing.populations(configs, workers=3)  # fewer depths than workers: parts
    assert [len(p) for p in three] == [3, 3, 3, 3, 3, 3]
    assert sorted(map(repr, sum(three, []))) == sorted(map(repr, configs))  # each trial once
    assert len(vanishing.populations(configs[:1], workers=4)) == 1
    # More depths than workers: the cheapest, trained last, in one part per worker, so that
    # the workers finish together.
    configs = vanishing.grid_configs(("sigmoid", "tanh", "relu"), (4, 1, 2), seeds=(0, 1))
    two = vanishing.populations(configs, workers=2)
    assert [(len(p), {c["depth"] for c in p}) for p in two] == [(6, {4}), (3, {1}), (3, {1}),
                                                                 (6, {2})]
    assert sorted(map(repr, sum(two, []))) == sorted(map(repr, configs))
    assert vanishing.populations(configs, workers=1) == [
        [c for c in configs if c["depth"] == d] for d in (4, 1, 2)]


def test_parallel_run_equals_serial_run() -> None:
    kwargs = {"activations": ("sigmoid", "relu"), "depths": (2,), "seeds": (1,),
              "epochs": 1, "probe_size": 64, "progress": False}
    serial = vanishing.run_grid(workers=1, **kwargs)
    parallel = vanishing.run_grid(workers=2, **kwargs)
    with runner.shared_pool(2):  # as the report runs it: each depth one population
        shared = vanishing.run_grid(workers=2, **kwargs)
    for run in (parallel, shared):
        assert [vanishing.without_timings(r) for r in serial["trials"]] == [
            vanishing.without_timings(r) for r in run["trials"]]


def test_json_round_trip(small_grid: dict, tmp_path) -> None:
    path = vanishing.save_results(small_grid, tmp_path / "sub" / "vanishing.json")
    assert os.path.isfile(path)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["vanishing.json"]  # no temp left
    assert vanishing.load_results(path) == small_grid
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(ConfigError, match="no descentlab results"):
        vanishing.load_results(tmp_path / "other.json")


# ---------------------------------------------------------------------------------------------
# Activation functions and the weight-scale experiment
# ---------------------------------------------------------------------------------------------
def test_derivative_maxima() -> None:
    curves = lab_activations.activation_curves()
    peaks = {name: f["max_derivative"] for name, f in curves["functions"].items()}
    assert peaks["sigmoid"]["measured"] == pytest.approx(0.25, abs=1e-6)
    assert peaks["sigmoid"]["at"] == 0.0
    assert peaks["tanh"]["measured"] == pytest.approx(1.0, abs=1e-6) and peaks["tanh"]["at"] == 0
    assert peaks["relu"]["measured"] == 1.0 and peaks["relu"]["at"] > 0
    # softplus' derivative is the sigmoid: → 1 as x → ∞, reached nowhere on the grid
    assert not peaks["softplus"]["reached"]
    assert 1 - 1e-8 < peaks["softplus"]["measured"] < 1.0
    assert peaks["gelu"]["at"] == pytest.approx(math.sqrt(2), abs=1e-3)
    for name, peak in peaks.items():
        assert peak["abs_difference"] < 1e-6, name
    bound = curves["sigmoid_product_bound"]
    assert bound["bound"][4] == pytest.approx(0.25 ** 5)
    x = np.asarray(curves["x"])
    sigmoid = curves["functions"]["sigmoid"]
    np.testing.assert_allclose(sigmoid["dy"], np.asarray(sigmoid["y"]) * (1 - np.asarray(
        sigmoid["y"])), rtol=1e-12)
    assert curves["functions"]["softplus"]["dy"][np.argmin(np.abs(x))] == pytest.approx(0.5)


def _layers(results: dict, activation: str, scale: str) -> list[dict]:
    return lab_activations.find_run(results, activation, scale)["layers"]


def test_weight_scale_sigmoid(weight_scale: dict) -> None:
    for layer in _layers(weight_scale, "sigmoid", "1"):  # saturated: a U-shape
        assert layer["near_0"] + layer["near_1"] > 0.6
        counts = layer["counts"]
        assert min(counts[0], counts[-1]) > 5 * max(counts[5:-5])
    for layer in _layers(weight_scale, "sigmoid", "0.01")[1:]:  # collapsed to ½
        assert layer["near_half"] > 0.99 and abs(layer["mean"] - 0.5) < 0.01
    for layer in _layers(weight_scale, "sigmoid", "xavier"):  # a spread, neither extreme
        assert layer["std"] > 0.08 and layer["near_0"] + layer["near_1"] < 0.05


def test_weight_scale_relu_and_tanh(weight_scale: dict) -> None:
    he = [layer["std"] for layer in _layers(weight_scale, "relu", "he")]
    assert 0.5 < he[-1] / he[0] < 2  # He keeps relu's scale through the layers
    small = [layer["std"] for layer in _layers(weight_scale, "relu", "0.01")]
    assert small[-1] < 1e-3 * small[0]  # 0.01 shrinks it layer after layer
    for layer in _layers(weight_scale, "relu", "he"):
        assert 0.4 < layer["zero"] < 0.6  # half the units are off: why He uses 2/n
    tanh = lab_activations.find_run(weight_scale, "tanh", "xavier")
    assert tanh["edges"][0] == -1.0 and tanh["edges"][-1] == 1.0  # negative half not clipped
    assert all(layer["min"] < -0.5 for layer in tanh["layers"])
    total = weight_scale["configuration"]["samples"] * weight_scale["configuration"]["units"]
    for run in weight_scale["runs"]:
        assert all(sum(layer["counts"]) == total for layer in run["layers"])


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def test_figures_in_korean_and_english(small_grid: dict, weight_scale: dict, tmp_path,
                                       caplog) -> None:
    curves = lab_activations.activation_curves(names=("sigmoid", "tanh", "relu", "softplus"))
    relu_only = {**weight_scale,
                 "configuration": {**weight_scale["configuration"], "activations": ["relu"]}}
    parts = [small_grid, curves, relu_only]
    with caplog.at_level(logging.WARNING, logger="matplotlib"), warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes an error
        paths = plots.write_figures(parts, str(tmp_path), "ko")
    assert not [r for r in caplog.records if "glyph" in r.getMessage().lower()]
    names = {os.path.basename(p) for p in paths}
    assert {"vanishing_gradient_norms_ko.png", "vanishing_gradient_heatmap_ko.svg",
            "vanishing_accuracy_ko.png", "activation_functions_ko.svg",
            "weight_scale_relu_ko.png"} <= names
    assert len(paths) == 10 and all(os.path.getsize(p) > 1000 for p in paths)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = {**plots.figures_for(small_grid, "en"), **plots.figures_for(curves, "en")}
    titles = " ".join(fig.get_suptitle() or fig.axes[0].get_title() for fig in figures.values())
    assert "Gradient norm" in titles and "Test accuracy" in titles
    accuracy_axes = figures["vanishing_accuracy"].axes[0]
    assert "test accuracy" in accuracy_axes.get_ylabel()
    assert "0.25" in " ".join(t.get_text() for ax in figures["activation_functions"].axes
                              for t in ax.texts)


def test_every_figure_text_has_both_languages() -> None:
    from descentlab.plots.i18n import TEXT

    keys = [key for key in TEXT if key.startswith("vanishing.")]
    assert len(keys) > 30
    for key in keys:
        assert TEXT[key]["en"] and TEXT[key]["ko"], key


def test_figure_titles_say_1_seed_and_3_seeds() -> None:
    # The quick report trains one seed: its titles said "mean over 1 seeds".
    import re

    import descentlab.sweep.figures  # noqa: F401  (registers the sweep's texts)
    from descentlab.plots import optimizers as optimizer_plots  # noqa: F401
    from descentlab.plots.i18n import TEXT, t

    counted = [key for key, texts in TEXT.items() if "{seeds}" in texts["en"]]
    assert len(counted) >= 6
    for key in counted:
        assert "{seeds} seeds" not in TEXT[key]["en"], key
        values = {name: "x" for name in re.findall(r"{(\w+)", TEXT[key]["en"])
                  if not name.endswith("_s")}
        one = t(key, "en", **{**values, "seeds": 1})
        three = t(key, "en", **{**values, "seeds": 3})
        assert re.search(r"\b1 seed\b", one) and re.search(r"\b3 seeds\b", three), key
        assert "시드 1개" in t(key, "ko", **{**values, "seeds": 1}), key


def test_figure_refuses_the_wrong_results(weight_scale: dict) -> None:
    with pytest.raises(ConfigError, match="descentlab.vanishing/1"):
        plots.accuracy_figure(weight_scale)
    with pytest.raises(ConfigError, match="no figures"):
        plots.write_figures({"schema": "other"}, "unused", "en")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softplus"])
def test_grid_point_gradient_norms_at_init_match_pytorch(activation: str) -> None:
    """One grid point run by the lab (float64) and replayed in PyTorch from the same initial
    weights on the same probe batch: the per-layer kernel gradient norms agree to 1e-6."""
    import torch

    config = vanishing.make_config(activation=activation, depth=4, epochs=1, seed=3,
                                   floatx="float64")
    result = vanishing.trial(config)
    # The same split, initial weights and probe batch the trial used.
    x, y = datasets.load("digits")
    x_train, _, y_train, _ = datasets.train_test_split(x, y, test_size=config["test_size"],
                                                       seed=config["seed"])
    dl.set_floatx("float64")
    dl.set_random_seed(config["seed"])
    model = vanishing.build_model(config, 64, 10)
    weights = model.get_weights()
    probe_x = torch.tensor(x_train[:config["probe_size"]], dtype=torch.float64)
    probe_y = torch.tensor(y_train[:config["probe_size"]], dtype=torch.long)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "softplus": torch.nn.functional.softplus}[activation]
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    h = probe_x
    for k in range(0, len(params) - 2, 2):
        h = act(h @ params[k] + params[k + 1])
    logits = h @ params[-2] + params[-1]
    torch.nn.functional.cross_entropy(logits, probe_y).backward()
    expected = [float(p.grad.norm()) for p in params[0::2]]
    np.testing.assert_allclose(result["grad_norms"]["init"], expected, rtol=1e-6)
    assert result["ratio_first_last"]["init"] == pytest.approx(expected[0] / expected[-1],
                                                               rel=1e-6)


def test_figures_per_initializer_when_a_grid_compares_them() -> None:
    results = vanishing.run_grid(activations=("relu",), depths=(1, 2),
                                 initializers=("glorot_uniform", "he_normal"), seeds=(0,),
                                 epochs=1, workers=1, progress=False)
    figures = plots.figures_for(results, "en")
    assert sorted(figures) == ["vanishing_accuracy",
                               "vanishing_gradient_heatmap_glorot_uniform",
                               "vanishing_gradient_heatmap_he_normal",
                               "vanishing_gradient_norms_glorot_uniform",
                               "vanishing_gradient_norms_he_normal"]
    assert "he_normal" in figures["vanishing_gradient_norms_he_normal"]._suptitle.get_text()


def test_batch_norm_trial_measures_the_same_quantities() -> None:
    """With batch_norm each hidden layer is Dense → BatchNormalization → activation; the
    kernel gradient norms are still those the engine computes, and f' is read at the
    normalised input of each activation."""
    from descentlab.layers import Activation, BatchNormalization

    config = vanishing.make_config(activation="sigmoid", depth=3, epochs=1, seed=2,
                                   probe_size=64, batch_norm=True)
    result = vanishing.trial(config)
    x, y = datasets.load_digits()
    x_train, _, y_train, _ = datasets.train_test_split(x, y, test_size=0.25, seed=2)
    dl.set_random_seed(2)
    model = vanishing.build_model(config, 64, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation"] * 3 + ["Dense"]
    _, grads = model.compute_gradients(x_train[:64], y_train[:64])
    dense_kernels = [g for g, w in zip(grads, model.trainable_weights, strict=True)
                     if w.ndim == 2]
    assert result["grad_norms"]["init"] == [float(np.linalg.norm(g)) for g in dense_kernels]
    acts = [layer for layer in model.layers if isinstance(layer, Activation)]
    expected = [float(np.mean(dl.activations.get("sigmoid").derivative(a.preactivation),
                              dtype=np.float64)) for a in acts]
    np.testing.assert_allclose(result["mean_derivative_init"], expected, rtol=1e-6)
    assert isinstance(model.layers[1], BatchNormalization)
