"""The optimizer lab: cost accounting, fairness, determinism, claims judged from numbers, CLI."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pytest

from descentlab import cli, optimizers
from descentlab.errors import ConfigError, DataError
from descentlab.lab import optimizers as lab
from descentlab.lab import surfaces

BASE = {"learning_rate": 0.1, "seed": 0, "dataset": "digits", "hidden": [16],
        "activation": "relu", "epochs": 2, "batch_size": 64, "validation_fraction": 0.25,
        "split_seed": 0}


def _without_seconds(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    result.pop("seconds")
    result.pop("seconds_total")
    result["epochs"].pop("seconds")
    return result


def test_trial_is_a_deterministic_function_of_its_config() -> None:
    config = dict(BASE, optimizer="adam", learning_rate=0.001)
    assert _without_seconds(lab.trial(config)) == _without_seconds(lab.trial(config))


def test_every_optimizer_of_a_seed_starts_from_the_same_weights() -> None:
    initial = {name: lab.trial(dict(BASE, optimizer=name, epochs=1))["initial_loss"]
               for name in ("gd", "sgd", "adam")}
    assert len(set(initial.values())) == 1, initial
    other_seed = lab.trial(dict(BASE, optimizer="sgd", epochs=1, seed=1))["initial_loss"]
    assert other_seed != initial["sgd"]


def test_gradient_evaluations_count_the_samples_each_update_used() -> None:
    gd = lab.trial(dict(BASE, optimizer="gd"))
    sgd = lab.trial(dict(BASE, optimizer="sgd"))
    n = gd["evaluations"][0]
    assert gd["updates"] == [1, 2]  # one full-batch update per epoch
    assert gd["evaluations"] == [n, 2 * n]
    steps = -(-n // 64)
    assert sgd["updates"][-1] == 2 * steps
    assert np.diff([0, *sgd["evaluations"]]).max() == 64
    assert sgd["epochs"]["evaluations"] == [n, 2 * n]  # an epoch is one pass either way
    # The loss after each update is the full training loss: for GD's first update it equals
    # the loss of a model trained by fit() on the whole batch once.
    from descentlab import datasets
    config = dict(BASE, optimizer="gd", epochs=1)
    model = lab._build(config, 64, 10)
    x_train, _, y_train, _ = datasets.train_test_split(*datasets.load_digits(), test_size=0.25,
                                                       seed=0)
    model.fit(x_train, y_train, batch_size="full", epochs=1, shuffle=False, verbose=0)
    assert gd["train_loss"][0] == pytest.approx(model.evaluate(x_train, y_train, verbose=0),
                                                rel=1e-6)


def test_train_on_batch_is_one_fit_step() -> None:
    from descentlab import datasets
    x, y = datasets.load_digits()
    x, y = x[:100], y[:100]
    a = lab._build(dict(BASE, optimizer="momentum"), 64, 10)
    b = lab._build(dict(BASE, optimizer="momentum"), 64, 10)
    before = a.evaluate(x, y, verbose=0)
    loss = a.train_on_batch(x, y)
    b.fit(x, y, batch_size=100, epochs=1, shuffle=False, verbose=0)
    assert loss == pytest.approx(before, rel=1e-6)  # the loss before the update, as Keras
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_fluctuation_and_uphill_fraction() -> None:
    losses = [1.0, 0.8, 0.9, 0.5, 0.6]
    assert lab.fluctuation(losses) == pytest.approx(np.std([-0.2, 0.1, -0.4, 0.1]))
    assert lab.uphill_fraction(losses, initial=1.2) == pytest.approx(2 / 5)


def _fake(name: str, losses: list[float], batch: int, seed: int = 0) -> dict:
    k = np.arange(1, len(losses) + 1)
    return {"config": {"optimizer": name, "seed": seed, "learning_rate": 0.1},
            "updates": k.tolist(), "evaluations": (k * batch).tolist(),
            "seconds": (k * 0.01).tolist(), "train_loss": losses, "batch_loss": losses,
            "initial_loss": 2.0, "diverged": False,
            "epochs": {"train_loss": [losses[-1]], "train_accuracy": [0.5],
                       "val_loss": [losses[-1]], "val_accuracy": [0.5]}}


def test_claims_say_what_was_measured_both_ways() -> None:
    # GD: smooth, reaches 0.5 in 3 updates of 1000 samples; SGD: noisy, 6 updates of 50.
    gd = _fake("gd", [1.5, 1.0, 0.5, 0.4], 1000)
    sgd = _fake("sgd", [1.8, 1.9, 1.2, 1.3, 0.9, 0.5, 0.6], 50)
    adam = _fake("adam", [1.0, 0.45, 0.2], 50)
    trials = [gd, sgd, adam]
    summary = lab.summarize(trials, ["gd", "sgd", "adam"], target=0.5)
    assert summary["sgd"]["evaluations_to_target"] == 300
    assert summary["adam"]["evaluations_to_target"] == 100
    claims = {c["id"]: c for c in lab.evaluate_claims(trials, summary, target=0.5)}
    assert claims["gd_cost"]["holds"] is True
    assert claims["gd_cost"]["evidence"]["gd_evaluations"] == 3000
    assert claims["sgd_fluctuates"]["holds"] is True
    assert claims["faster_than_sgd:adam"]["holds"] is True
    assert "Holds here" in claims["faster_than_sgd:adam"]["en"]
    # Now an Adam that never gets there: the claim is reported as not holding, in both languages.
    slow = _fake("adam", [1.9, 1.8, 1.7], 50)
    summary = lab.summarize([gd, sgd, slow], ["gd", "sgd", "adam"], target=0.5)
    claim = {c["id"]: c for c in lab.evaluate_claims([gd, sgd, slow], summary, 0.5)}
    assert claim["faster_than_sgd:adam"]["holds"] is False
    assert "not reached" in claim["faster_than_sgd:adam"]["en"]
    assert "Does not hold here" in claim["faster_than_sgd:adam"]["en"]
    assert "성립하지 않습니다" in claim["faster_than_sgd:adam"]["ko"]


def test_run_small_writes_consistent_json(tmp_path) -> None:
    results = lab.run(optimizers=["gd", "sgd", "momentum"], seeds=[0], epochs=3,
                      hidden=[16], workers=1, progress=False)
    assert results["schema"] == "descentlab.optimizers/1"
    path = lab.save_results(results, str(tmp_path / "out" / "r.json"))
    loaded = json.loads(open(path, encoding="utf-8").read())
    assert loaded["summary"] == json.loads(json.dumps(results["summary"]))
    assert loaded["config"]["learning_rates"] == {"gd": 0.1, "sgd": 0.1, "momentum": 0.1}
    assert {c["id"] for c in loaded["claims"]} >= {"gd_cost", "sgd_fluctuates",
                                                   "faster_than_sgd:momentum"}
    for name, entry in results["summary"].items():
        runs = [t for t in results["trials"] if t["config"]["optimizer"] == name]
        assert entry["final_train_loss"] == pytest.approx(runs[0]["train_loss"][-1])
    assert results["zigzag"]["sgd_sign_changes"] > results["zigzag"]["momentum_sign_changes"]


def test_parallel_and_serial_runs_agree() -> None:
    kwargs = dict(optimizers=["sgd", "adam"], seeds=[0, 1], epochs=2, hidden=[16],
                  progress=False)
    serial = lab.run(workers=1, **kwargs)
    parallel = lab.run(workers=2, **kwargs)
    for a, b in zip(serial["trials"], parallel["trials"], strict=True):
        assert _without_seconds(a) == _without_seconds(b)


def test_tuned_mode_picks_the_grid_minimum(float64) -> None:
    """The grid's rates train as one population; each rate's loss is its own trial's (float64,
    rtol 1e-10), and the best is the grid's argmin."""
    base = dict(BASE, epochs=1)
    tuning = lab.tune(["sgd"], base, epochs=1, workers=1, progress=False,
                      grid=(0.001, 0.1, 0.5))
    losses = tuning["losses"]["sgd"]
    assert tuning["best"]["sgd"] == (0.001, 0.1, 0.5)[int(np.argmin(losses))]
    expected = lab.trial(dict(base, optimizer="sgd", learning_rate=0.1))["train_loss"][-1]
    assert losses[1] == pytest.approx(expected, rel=1e-10)


def test_bad_lab_arguments() -> None:
    with pytest.raises(ConfigError, match="Unknown optimizer 'adm'.*'adam'"):
        lab.run(optimizers=["adm"])
    with pytest.raises(ConfigError, match="lr_mode 'shared' needs a positive learning_rate"):
        lab.run(lr_mode="shared")
    with pytest.raises(ConfigError, match="Unknown learning-rate mode 'best'"):
        lab.run(lr_mode="best")
    with pytest.raises(DataError, match="'digit' is neither a built-in data set nor a CSV file"):
        lab.run(dataset="digit")
    with pytest.raises(ConfigError, match="epochs must be a positive integer; got 0"):
        lab.run(epochs=0)
    # a seed twice is the same run counted twice in the mean and the spread
    with pytest.raises(ConfigError, match=r"^the seeds have duplicates: 0, 1, 0\.$"):
        lab.run(seeds=[0, 1, 0])
    with pytest.raises(ConfigError, match=r"got \[-1\]\.$"):
        lab.run(seeds=[-1])


# -- surfaces comparisons --------------------------------------------------------------------

def test_compare_uses_the_engine_optimizers_and_reports_divergence() -> None:
    result = surfaces.compare("dlfs", ["sgd", "momentum", "adagrad", "adam"], lr_mode="dlfs")
    runs = {r["optimizer"]: r for r in result["trajectories"]}
    assert runs["sgd"]["sign_changes"] == 29  # every update along y flips sign
    assert min(runs, key=lambda n: runs[n]["final_distance"]) == "adagrad"
    direct = surfaces.descend(surfaces.dlfs_quadratic(), optimizers.SGD(0.95), steps=30)
    np.testing.assert_array_equal(np.array(runs["sgd"]["points"]), direct.points)
    blown = surfaces.compare("dlfs", ["sgd"], lr_mode="shared", learning_rate=1.5, steps=100)
    assert blown["trajectories"][0]["diverged_at"] is not None
    assert blown["trajectories"][0]["final_distance"] is None


def test_tuned_surface_rates_are_the_grid_argmin() -> None:
    surface = surfaces.rosenbrock()
    result = surfaces.compare(surface, ["sgd", "adam"], steps=100, lr_mode="tuned")
    for run in result["trajectories"]:
        scores = [np.inf if s is None else s for s in result["tuning"]["scores"][run["optimizer"]]]
        assert run["learning_rate"] == surfaces.TUNING_GRID[int(np.argmin(scores))]
        assert run["diverged_at"] is None


def test_theory_on_kappa_100_within_five_percent() -> None:
    th = surfaces.compare(surfaces.ill_conditioned(100), ["sgd"], steps=200)["theory"]
    assert th["momentum_measured_rate"] == pytest.approx(th["momentum_rate"], rel=0.05)
    assert th["gd_measured_rate"] == pytest.approx(th["gd_rate"], rel=0.05)


def test_compare_errors() -> None:
    with pytest.raises(ConfigError, match="rates only for sgd, momentum, adagrad, adam; not for"
                                          " rmsprop"):
        surfaces.compare("dlfs", ["rmsprop"], lr_mode="dlfs")
    with pytest.raises(ConfigError, match="Unknown optimizer 'sdg'"):
        surfaces.compare("dlfs", ["sdg"])
    with pytest.raises(ConfigError, match="learning_rate must be a positive number; got -1"):
        surfaces.compare("dlfs", ["sgd"], learning_rate=-1)


# -- figures and the command line -------------------------------------------------------------

def _render_without_missing_glyphs(draw) -> None:
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Catch()
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            draw()
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
    glyphs = [r.getMessage() for r in records if "glyph" in r.getMessage().lower()]
    assert not glyphs, glyphs


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_figures_render_in_both_languages(tmp_path, lang: str) -> None:
    from descentlab.plots import optimizers as plots
    from descentlab.plots.style import figure_style, save_figure

    results = lab.run(optimizers=["gd", "sgd", "adam"], seeds=[0, 1], epochs=2, hidden=[16],
                      workers=1, progress=False)
    surface = surfaces.compare("quadratic", ["sgd", "momentum"], steps=50)
    sensitivity = lab.sensitivity(["sgd", "adam"], rates=[0.01, 0.1, 1e20], seeds=[0, 1],
                                  hidden=[8], epochs=1, batch_size=64, workers=1,
                                  progress=False)
    assert sensitivity["optimizers"]["sgd"]["diverged_seeds"][2] == 2  # drawn as ×
    paths: list[str] = []

    def draw() -> None:
        paths.extend(plots.write_data_figures(results, str(tmp_path), lang))
        paths.extend(plots.write_surface_figures(surface, str(tmp_path), lang))
        with figure_style(lang):  # as the report draws and saves it
            paths.extend(save_figure(plots.sensitivity_figure(sensitivity, lang),
                                     str(tmp_path), "optimizers_sensitivity"))

    _render_without_missing_glyphs(draw)
    names = sorted(p.rsplit("/", 1)[1] for p in paths)
    assert "optimizers_loss.png" in names and "surface_quadratic_theory.svg" in names
    assert "optimizers_sensitivity.png" in names and "optimizers_sensitivity.svg" in names
    for path in paths:
        with open(path, "rb") as stream:
            head = stream.read(8)
        assert head.startswith(b"\x89PNG") if path.endswith(".png") else b"<?xml" in head


def test_cli_surfaces_and_optimizers(tmp_path, capsys) -> None:
    out = tmp_path / "s"
    assert cli.main(["surfaces", "--lr-mode", "dlfs", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "adagrad" in text and "sign changes (y)" in text
    saved = json.loads((out / "surface_dlfs.json").read_text(encoding="utf-8"))
    assert saved["config"]["learning_rates"] == surfaces.DLFS_RATES
    out = tmp_path / "o"
    assert cli.main(["optimizers", "--optimizers", "gd,sgd", "--seeds", "0", "--epochs", "2",
                     "--layers", "8", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "The chapter's claims, measured:" in text
    saved = json.loads((out / "optimizers.json").read_text(encoding="utf-8"))
    assert saved["config"]["optimizers"] == ["gd", "sgd"]
    assert (out / "optimizers_figures" / "optimizers_loss.svg").exists()


@pytest.mark.parametrize("argv, message", [
    (["optimizers", "--optimizers", "adm"], "Unknown optimizer 'adm'"),
    (["optimizers", "--lr-mode", "shared"], "lr_mode 'shared' needs a positive learning_rate"),
    (["optimizers", "--seeds", "a,b"], "expected comma-separated non-negative integers"),
    (["surfaces", "--surface", "rosenbrok"], "Unknown surface 'rosenbrok'"),
    (["surfaces", "--kappa", "0.5"], "argument --kappa: expected a number in [1, 1e+12]"),
])
def test_cli_user_errors_are_one_line(argv, message, capsys) -> None:
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("kind, at_end", [("constant", 0.1), ("step", 0.001),
                                          ("exponential", 0.01), ("inverse_time", 0.01),
                                          ("cosine", 0.0)])
def test_schedules_fitted_to_the_run(kind: str, at_end: float) -> None:
    rate = lab.make_schedule(kind, 0.1, total_updates=200)
    value = rate if isinstance(rate, float) else rate(200)
    assert value == pytest.approx(at_end, abs=1e-12)
    if kind != "constant":
        assert rate(0) == pytest.approx(0.1)
        assert rate(100) < 0.1 + 1e-15


def test_a_schedule_changes_the_training_and_is_recorded() -> None:
    constant = lab.trial(dict(BASE, optimizer="sgd"))
    cosine = lab.trial(dict(BASE, optimizer="sgd", schedule="cosine"))
    assert constant["train_loss"][0] == cosine["train_loss"][0]  # lr(0) is the same
    assert constant["train_loss"][-1] != cosine["train_loss"][-1]
    assert cosine["config"]["schedule"] == "cosine"
    with pytest.raises(ConfigError, match="Unknown schedule 'linear'; valid schedules are"):
        lab.run(schedule="linear")


@pytest.mark.parametrize("command", ["surfaces", "optimizers", "vanishing", "activations",
                                     "report"])
def test_an_output_folder_that_is_a_file_is_one_line(command, tmp_path, capsys) -> None:
    in_the_way = tmp_path / "results.txt"
    in_the_way.write_text("keep me", encoding="utf-8")
    assert cli.main([command, "--out", str(in_the_way)]) == 2
    err = capsys.readouterr().err
    assert f"the output folder '{in_the_way}' is a file, not a folder" in err
    assert err.count("\n") == 1
    assert in_the_way.read_text(encoding="utf-8") == "keep me"  # nothing the user saved is lost


def test_saddle_loss_panel_shows_the_escape_not_a_cut(tmp_path) -> None:
    """On x² − y² the value goes negative as a run escapes: the loss panel must draw every
    finite step (symmetric-log axis), not only the positive ones."""
    from descentlab.plots import optimizers as plots

    result = surfaces.compare("saddle", ["sgd"], steps=40, learning_rate=0.2)
    values = np.asarray(result["trajectories"][0]["values"])
    assert (values < 0).any()  # it did escape
    fig = plots.surface_figure(result, "ko")
    loss_axis = fig.axes[1]
    assert loss_axis.get_yscale() == "symlog"
    drawn = loss_axis.lines[0].get_ydata()
    assert len(drawn) == len(values)
    _render_without_missing_glyphs(lambda: plots.write_surface_figures(result, str(tmp_path),
                                                                       "ko"))


def test_a_diverging_optimizer_is_recorded_not_hidden() -> None:
    """A blown-up run is marked and its curves end at the first non-finite loss; numerical
    warnings are not sprayed over the user's terminal (the record says it all)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lab.trial(dict(BASE, optimizer="sgd", learning_rate=1e20))
    assert result["diverged"] is True
    losses = result["train_loss"]
    assert not np.isfinite(losses[-1]) and all(np.isfinite(losses[:-1]))
    healthy = lab.trial(dict(BASE, optimizer="sgd"))
    assert len(losses) < len(healthy["train_loss"])  # it stopped early, it did not go on


# -- populations: the lab's trials trained in lockstep -----------------------------------------

def _assert_same_trial(got: dict, want: dict, rtol: float) -> None:
    """One population member's results against the one-network oracle: every count equal,
    every curve equal to ``rtol`` (NaN where the oracle has NaN), the same length (a diverged
    run stops at the same update); the seconds aside."""
    assert got["config"] == want["config"]
    assert got["diverged"] == want["diverged"], got["config"]
    assert got["updates"] == want["updates"] and got["evaluations"] == want["evaluations"]
    for key in ("train_loss", "batch_loss"):
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=0, err_msg=key)
    np.testing.assert_allclose(got["initial_loss"], want["initial_loss"], rtol=rtol, atol=0)
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "updates",
                "evaluations"):
        np.testing.assert_allclose(got["epochs"][key], want["epochs"][key], rtol=rtol, atol=0,
                                   err_msg=key)
    assert len(got["seconds"]) == len(want["seconds"])
    assert len(got["epochs"]["seconds"]) == len(want["epochs"]["seconds"])


def _oracle_configs() -> list[dict]:
    """Every optimizer at its book rate from two seeds, two more rates of Adam on another seed
    (rates as a column), SGD at 1e100, which diverges at its second update (in the population
    of SGD and momentum, which go on), and GD at 1e100 (each GD update ends an epoch: a
    diverged member must leave before the epoch's record)."""
    configs = [dict(BASE, optimizer=name, learning_rate=lab.SPECS[name]["config"]
                    ["learning_rate"], seed=seed)
               for name in lab.DEFAULT_OPTIMIZERS for seed in (0, 1)]
    configs += [dict(BASE, optimizer="adam", learning_rate=lr, seed=2) for lr in (0.003, 0.03)]
    configs.append(dict(BASE, optimizer="gd", learning_rate=1e100, seed=1))
    configs.append(dict(BASE, optimizer="sgd", learning_rate=1e100, seed=1))
    return configs


def test_population_members_equal_the_one_network_trials_float64(float64) -> None:
    """The oracle is ``trial``, one network at a time: every member of every population that
    ``run_populations`` forms (GD apart, SGD with momentum, Adam's rates together) has the
    same curves to rtol 1e-10 — and a diverging member stops where its own trial stops."""
    configs = _oracle_configs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a diverging member is recorded, not warned about
        members = lab.run_populations(configs, workers=1, progress=False)
    assert len(members) == len(configs)
    for got, config in zip(members, configs, strict=True):
        _assert_same_trial(got, lab.trial(config), rtol=1e-10)
    assert members[-2]["diverged"]
    diverged = members[-1]
    assert diverged["diverged"] and len(diverged["train_loss"]) == 2
    assert not np.isfinite(diverged["train_loss"][-1])
    sgd = members[3]  # a member of its population (SGD, seed 1) went on to the end
    assert sgd["config"]["optimizer"] == "sgd" and not sgd["diverged"]
    assert len(sgd["epochs"]["updates"]) == BASE["epochs"]


def test_population_members_equal_the_one_network_trials_float32() -> None:
    """In float32 the members agree with their own trials to float32 rounding, not bit for bit
    (the population sums the loss in float64, and computes the products of constants that
    differ between members in float64): rtol 5e-6, about 40 float32 ulps, over 44 updates."""
    configs = [c for c in _oracle_configs() if c["learning_rate"] < 1e3]
    members = lab.run_populations(configs, workers=1, progress=False)
    for got, config in zip(members, configs, strict=True):
        _assert_same_trial(got, lab.trial(config), rtol=5e-6)


def test_population_keys_group_what_a_population_accepts() -> None:
    """Seeds and numbers may differ within a population; the optimizer's class, its switches,
    full-batch updates, a schedule of another rate, the network and the data may not."""
    n = 1347

    def key(**changes) -> str:
        return lab.population_key(dict(BASE, **{"optimizer": "sgd", "schedule": "constant",
                                                **changes}), n)

    same = key()
    assert key(seed=5) == same and key(learning_rate=0.3) == same
    assert key(optimizer="momentum") == same  # SGD with momentum 0.9: a number
    assert key(optimizer="nag") != same  # nesterov=True changes the equations
    assert key(optimizer="gd") != same  # full batch
    assert key(optimizer="adam") != same
    assert key(hidden=[8]) != same and key(batch_size=32) != same and key(epochs=3) != same
    cosine = key(schedule="cosine")
    assert cosine != same and key(schedule="cosine", seed=3) == cosine
    assert key(schedule="cosine", learning_rate=0.3) != cosine  # the schedule is a setting
    with pytest.raises(ConfigError, match=r"trial 1 \(nag, learning rate 0.1\) cannot share a "
                                          r"population with trial 0 \(sgd, learning rate 0.1\)"):
        lab.population_trials([dict(BASE, optimizer="sgd"), dict(BASE, optimizer="nag")])


def test_a_member_s_seconds_are_its_share_of_the_population_s_steps(float64,
                                                                   monkeypatch) -> None:
    """On a clock that advances 1 s per reading, every training step takes exactly 1 s: each
    of the 3 members is charged 1/3 s per step while all three train, and the two left after
    one diverges (at its 2nd update) 1/2 s per step."""
    import itertools

    clock = itertools.count()
    monkeypatch.setattr(lab.time, "perf_counter", lambda: float(next(clock)))
    configs = [dict(BASE, optimizer="sgd", learning_rate=lr, seed=1)
               for lr in (0.1, 1e100, 0.3)]
    members = lab.population_trials(configs)
    monkeypatch.undo()
    assert [m["diverged"] for m in members] == [False, True, False]
    np.testing.assert_allclose(members[1]["seconds"], [1 / 3, 2 / 3], rtol=1e-12)
    for member in (members[0], members[2]):
        steps = len(member["seconds"])
        np.testing.assert_allclose(member["seconds"],
                                   [1 / 3, 2 / 3] + [2 / 3 + k / 2 for k in range(1, steps - 1)],
                                   rtol=1e-12)


def test_log_axes_label_their_ticks_in_unicode_not_raw_mathtext() -> None:
    """The figures turn mathtext off (a file name with $ signs stays text), so log axes must
    not use matplotlib's mathtext labels, which would show as raw ``$\\mathdefault{10^{-1}}$``:
    drawn as the report draws them (inside figure_style), the labels are 10⁻¹, 2×10⁻¹, ..."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from descentlab.plots import optimizers as plots
    from descentlab.plots.style import figure_style

    theory = surfaces.compare(surfaces.ill_conditioned(100), ["sgd"], steps=50)["theory"]
    for lang in ("en", "ko"):
        with figure_style(lang):
            fig = plots.theory_figure(theory, lang)
            FigureCanvasAgg(fig).draw()
        labels = [label.get_text() for ax in fig.axes
                  for label in ax.get_yticklabels(which="both")]
        assert "10⁰" in labels and "10⁻⁶" in labels, labels
        assert not [text for text in labels if "$" in text or "mathdefault" in text], labels


# -- learning-rate sensitivity: the fair comparison -------------------------------------------

SMALL = {"hidden": [8], "epochs": 2, "batch_size": 64, "progress": False}


def _digits_split():
    """The lab's split of digits, made here from the data set's own functions."""
    from descentlab import datasets

    x, y, _ = datasets.load_classification("digits", seed=0)
    return datasets.train_test_split(x, y, test_size=0.25, seed=0)


def _fit_alone(name: str, rate: float, seed: int, data) -> tuple[float | None, float | None]:
    """The oracle: set_random_seed(seed), one network 64 → 8 → 10 with the book's settings of
    ``name`` at ``rate``, Sequential.fit; its last epoch's training loss and validation
    accuracy (None, None if it diverged)."""
    import math

    import descentlab as dl
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    x_train, x_val, y_train, y_val = data
    dl.set_random_seed(seed)
    model = Sequential([Dense(8, activation="relu", input_dim=64),
                        Dense(10, activation="softmax")])
    optimizer = {"sgd": lambda: optimizers.SGD(rate),
                 "adam": lambda: optimizers.Adam(rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8),
                 }[name]()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0,
                        validation_data=(x_val, y_val), on_divergence="stop").history
    if not math.isfinite(history["loss"][-1]):
        return None, None
    return history["loss"][-1], history["val_accuracy"][-1]


def test_sensitivity_members_equal_their_own_fit(float64) -> None:
    """Each member of each optimizer's population (rates × seeds) against the same network
    trained alone by Sequential.fit (float64, rtol 1e-10), both optimizers diverging at 1e200;
    the means, the best rate and the good range recomputed here from the per-seed values."""
    rates, seeds = [0.1, 0.01, 1e200], [0, 2]
    result = lab.sensitivity(["sgd", "adam"], rates=rates, seeds=seeds, workers=1, **SMALL)
    assert result["schema"] == "descentlab.sensitivity/1"
    assert result["config"]["rates"] == sorted(rates)
    data = _digits_split()
    for name in ("sgd", "adam"):
        entry = result["optimizers"][name]
        for i, rate in enumerate(sorted(rates)):
            for j, seed in enumerate(seeds):
                loss, accuracy = _fit_alone(name, rate, seed, data)
                assert entry["diverged"][i][j] == (loss is None), (name, rate, seed)
                if loss is None:
                    assert entry["train_loss"][i][j] is None
                    continue
                assert entry["train_loss"][i][j] == pytest.approx(loss, rel=1e-10, abs=0)
                assert entry["val_accuracy"][i][j] == pytest.approx(accuracy, rel=1e-10, abs=0)
        complete = [i for i, row in enumerate(entry["train_loss"]) if None not in row]
        means = {i: float(np.mean(entry["train_loss"][i])) for i in complete}
        best = min(means, key=lambda i: (means[i], i))
        assert entry["best_index"] == best and entry["best_rate"] == sorted(rates)[best]
        assert entry["best_train_loss"] == pytest.approx(means[best], rel=1e-12)
        assert entry["best_val_accuracy"] == pytest.approx(
            np.mean(entry["val_accuracy"][best]), rel=1e-12)
    assert result["optimizers"]["sgd"]["diverged_seeds"] == [0, 0, 2]
    assert result["optimizers"]["adam"]["mean_train_loss"][2] is None
    assert result["optimizers"]["adam"]["book_index"] == None  # noqa: E711 (0.001 not in grid)
    assert result["optimizers"]["sgd"]["book_index"] == 1  # 0.1


def test_sensitivity_does_not_depend_on_the_worker_count() -> None:
    kwargs = dict(optimizers=["momentum", "rmsprop"], rates=[0.01, 0.1], seeds=[0, 1],
                  hidden=[8], epochs=1, batch_size=64, progress=False)
    serial, parallel = lab.sensitivity(workers=1, **kwargs), lab.sensitivity(workers=2, **kwargs)
    for name in ("momentum", "rmsprop"):
        a, b = serial["optimizers"][name], parallel["optimizers"][name]
        a.pop("seconds")
        b.pop("seconds")
        assert a == b


def test_the_best_rate_and_the_range_of_good_rates() -> None:
    """By hand: the best is the lowest mean over seeds (a tie goes to the smaller rate); the
    good range is the run of rates next to it within 2× of its loss, broken by a rate that is
    not (even if a rate beyond it is) and by a rate at which a seed diverged."""
    rates = [0.001, 0.01, 0.1, 1.0, 10.0]
    losses = [[0.35, 0.35], [0.9, 1.1], [0.2, 0.2], [0.3, 0.3], [0.1, None]]
    diverged = [[False, False]] * 4 + [[False, True]]
    entry = lab.summarize_sensitivity(rates, losses, losses, diverged)
    assert entry["best_index"] == 2 and entry["best_rate"] == 0.1
    assert entry["best_train_loss"] == pytest.approx(0.2)
    assert entry["mean_train_loss"][1] == pytest.approx(1.0)
    assert entry["std_train_loss"][1] == pytest.approx(0.1)
    assert entry["mean_train_loss"][4] is None and entry["diverged_seeds"] == [0, 0, 0, 0, 1]
    # 0.3 ≤ 2 × 0.2; 0.001 too (0.35) but cut off by 0.01 (1.0); 10 by its diverged seed
    assert entry["good"] == [False, False, True, True, False]
    assert (entry["good_low"], entry["good_high"], entry["good_count"]) == (0.1, 1.0, 2)
    assert entry["good_decades"] == pytest.approx(1.0)
    assert entry["best_at_edge"] is False
    wide = lab.summarize_sensitivity(rates, losses, losses, diverged, good_factor=6.0)
    assert (wide["good_low"], wide["good_high"], wide["good_decades"]) == (0.001, 1.0, 3.0)
    # a tie goes to the smaller rate, and a best at the grid's edge is said to be there
    tie = lab.summarize_sensitivity([0.1, 1.0], [[0.2], [0.2]], [[0.9], [0.8]],
                                    [[False], [False]])
    assert tie["best_index"] == 0 and tie["best_at_edge"] is True and tie["good_count"] == 2
    gone = lab.summarize_sensitivity([0.1, 1.0], [[None], [None]], [[None], [None]],
                                     [[True], [True]])
    assert gone["best_index"] is None and gone["good_low"] is None and gone["good_count"] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"rates": [0.1, 0]}, "learning rates must be positive numbers; got 0."),
    ({"rates": [0.1, 0.1]}, "the learning rates have duplicates: 0.1, 0.1."),
    ({"rates": []}, "give at least one learning rate."),
    ({"seeds": []}, "give at least one seed, each a non-negative integer; got []."),
    ({"seeds": [2, 2]}, "the seeds have duplicates: 2, 2."),
    ({"good_factor": 1}, "good_factor must be a number greater than 1; got 1."),
    ({"optimizers": ["adm"]}, "Unknown optimizer 'adm'"),
    ({"epochs": 0}, "epochs must be a positive integer; got 0."),
])
def test_sensitivity_user_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        lab.sensitivity(progress=False, **kwargs)
    assert message in str(caught.value) and "\n" not in str(caught.value)
