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


def test_tuned_mode_picks_the_grid_minimum() -> None:
    base = dict(BASE, epochs=1)
    tuning = lab.tune(["sgd"], base, epochs=1, workers=1, progress=False,
                      grid=(0.001, 0.1, 0.5))
    losses = tuning["losses"]["sgd"]
    assert tuning["best"]["sgd"] == (0.001, 0.1, 0.5)[int(np.argmin(losses))]
    expected = lab.trial(dict(base, optimizer="sgd", learning_rate=0.1))["train_loss"][-1]
    assert losses[1] == expected


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

    results = lab.run(optimizers=["gd", "sgd", "adam"], seeds=[0, 1], epochs=2, hidden=[16],
                      workers=1, progress=False)
    surface = surfaces.compare("quadratic", ["sgd", "momentum"], steps=50)
    paths: list[str] = []

    def draw() -> None:
        paths.extend(plots.write_data_figures(results, str(tmp_path), lang))
        paths.extend(plots.write_surface_figures(surface, str(tmp_path), lang))

    _render_without_missing_glyphs(draw)
    names = sorted(p.rsplit("/", 1)[1] for p in paths)
    assert "optimizers_loss.png" in names and "surface_quadratic_theory.svg" in names
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
