"""The search space: what it expands to, and the one-line errors of a bad one (API and CLI)."""

from __future__ import annotations

import itertools
import json
import math
import sys

import numpy as np
import pytest

from descentlab import cli
from descentlab.errors import ConfigError
from descentlab.sweep import space as spaces
from descentlab.sweep.command import _learning_rates


def test_grid_is_the_product_of_the_axes_and_the_seeds():
    space = spaces.from_dict({"optimizer": ["sgd", "adam"],
                              "learning_rate": {"low": 1e-4, "high": 1, "num": 5},
                              "batch_size": [16, "full"], "width": [8, 16], "seeds": [0, 1, 2]})
    trials = spaces.expand(space)
    rates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    expected = [dict(optimizer=o, learning_rate=r, batch_size=b, width=w, seed=s)
                for o, r, b, w, s in itertools.product(["sgd", "adam"], rates, [16, "full"],
                                                       [8, 16], [0, 1, 2])]
    assert len(trials) == spaces.trial_count(space) == 2 * 5 * 2 * 2 * 3
    got = [{k: t[k] for k in ("optimizer", "learning_rate", "batch_size", "width", "seed")}
           for t in trials]
    got_rounded = [dict(g, learning_rate=float(f"{g['learning_rate']:.12g}")) for g in got]
    assert sorted(map(json.dumps, got_rounded)) == sorted(map(json.dumps, expected))
    ids = [spaces.trial_id(t) for t in trials]
    assert len(set(ids)) == len(ids)  # distinct configurations, distinct ids


def test_random_search_draws_log_uniform_rates_inside_the_range_and_repeats_itself():
    settings = {"search": "random", "samples": 400, "seeds": [0, 1],
                "learning_rate": {"low": 1e-4, "high": 1e-1}, "optimizer": ["sgd", "adam"]}
    trials = spaces.expand(spaces.from_dict(settings))
    assert len(trials) == 800
    rates = np.array([t["learning_rate"] for t in trials[::2]])
    assert rates.min() >= 1e-4 and rates.max() <= 1e-1
    # Log-uniform: each decade holds about a third of the draws (a uniform draw would put
    # ~90 % in the top decade).
    per_decade = np.histogram(np.log10(rates), bins=[-4, -3, -2, -1])[0] / len(rates)
    assert np.all(np.abs(per_decade - 1 / 3) < 0.08), per_decade
    assert [t["seed"] for t in trials[:4]] == [0, 1, 0, 1]  # every sample on every seed
    assert trials == spaces.expand(spaces.from_dict(settings))
    other = spaces.expand(spaces.from_dict(dict(settings, search_seed=1)))
    assert other != trials


@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": [0.1, -0.01]}, "learning_rate must be a positive number; got -0.01."),
    ({"learning_rate": {"low": -1, "high": 1, "num": 3}},
     "learning_rate low must be a positive number; got -1."),
    ({"learning_rate": {"low": 1, "high": 1e-3, "num": 3}},
     "the learning_rate range is empty: low 1 > high 0.001."),
    ({"learning_rate": {"low": 1e-3, "high": 1}},
     "a learning_rate range on a grid needs num, the number of rates (a positive whole "
     "number); got None."),
    ({"learning_rate": []}, "learning_rate is empty: the search space needs at least one value."),
    ({"optimizer": ["sgd", "adamm"]}, "Unknown optimizer 'adamm' in the search space. "
                                      "Valid names: sgd, gd, momentum, nesterov, nag, adagrad, "
                                      "rmsprop, adam, adamw, nadam. Did you mean 'adam'?"),
    ({"optimizer": []}, "optimizer is empty: the search space needs at least one value."),
    ({"seeds": []}, "seeds is empty: the search space needs at least one value."),
    ({"activation": ["relu", "sigmod"]}, "Unknown activation 'sigmod' in the search space. "
                                         "Valid names: elu,"),
    ({"batch_size": [0]}, "batch_size must be positive whole numbers or 'full'; got 0."),
    ({"epochs": [0]}, "epochs must be whole numbers from 1 to 100,000; got 0."),
    ({"depth": [1.5]}, "depth must be whole numbers from 0 to 1,000; got 1.5."),
    ({"seeds": [0, 0]}, "seeds lists a value twice: [0, 0]."),
    ({"search": "bayes"}, "Unknown search 'bayes'."),
    ({"learning_rat": [0.1]}, "Unknown setting 'learning_rat' in the search space. "
                              "Valid names: optimizer, learning_rate,"),
    ({"width": [100_000], "depth": [1000], "seeds": list(range(1000)),
      "learning_rate": {"low": 1e-4, "high": 1, "num": 200}},
     "the search space holds 600,000 trials; a sweep runs at most 100,000"),
])
def test_a_bad_space_is_one_clear_line(settings, message):
    with pytest.raises(ConfigError) as caught:
        spaces.from_dict(settings)
    text = str(caught.value)
    assert text.startswith(message), text
    assert "\n" not in text


@pytest.mark.parametrize("argv, message", [
    (["--learning-rate", "-0.1"], "learning_rate must be a positive number; got -0.1."),
    (["--learning-rate", "1:0.001:4"], "the learning_rate range is empty"),
    (["--optimizers", "sgd,adamm"], "Unknown optimizer 'adamm'"),
    (["--seeds", "3-1"], "--seeds: the range '3-1' is empty."),
    (["--width", "8,,16"], "--width expects values separated by commas; got '8,,16'."),
    (["--early-stopping"], "early stopping (ASHA) is Ray Tune's"),
    (["--ray", "--ray-address", "auto"], "give --ray (a cluster started here) or"),
    (["--ray-address", "nonsense"], "--ray-address must be 'auto' or HOST:PORT"),
    (["--target", "y"], "target picks the target column of a CSV file; data 'digits' is a"),
    # nothing listens there: Ray would retry it for minutes, printing warnings
    (["--ray-address", "127.0.0.1:CLOSED"], "no Ray cluster answers at 127.0.0.1:"),
])
def test_the_cli_answers_a_bad_space_with_one_line_and_status_2(argv, message, tmp_path,
                                                                 capsys):
    if "127.0.0.1:CLOSED" in argv:
        import socket

        with socket.socket() as closed:  # a port just freed: nothing listens on it
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        argv = [a.replace("CLOSED", str(port)) for a in argv]
    status = cli.main(["sweep", "--out", str(tmp_path / "out"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"descentlab: error: {message}"), err
    assert err.count("\n") == 1
    assert not (tmp_path / "out" / "trials.jsonl").exists()  # refused before any trial ran


def test_flags_read_ranges_and_lists():
    assert _learning_rates("1e-4:1:9") == {"low": 1e-4, "high": 1.0, "num": 9}
    assert _learning_rates("0.01,0.1") == [0.01, 0.1]
    space = spaces.from_dict({"learning_rate": _learning_rates("1e-4:1:9")})
    rates = sorted({t["learning_rate"] for t in spaces.expand(space)})
    assert np.allclose(np.log10(rates), np.arange(-4, 0.5, 0.5))  # half-decades


def test_a_config_file_gives_the_settings_and_flags_override_them(tmp_path):
    from descentlab.sweep.command import space_settings

    toml = tmp_path / "sweep.toml"
    toml.write_text('optimizer = ["sgd", "adam"]\nlearning_rate = {low = 1e-3, high = 1e-1, '
                    'num = 3}\nseeds = [0, 1]\nbatch_size = [32, "full"]\n', encoding="utf-8")
    as_json = tmp_path / "sweep.json"
    as_json.write_text(json.dumps({"optimizer": ["sgd", "adam"], "seeds": [0, 1],
                                   "learning_rate": {"low": 1e-3, "high": 1e-1, "num": 3},
                                   "batch_size": [32, "full"]}), encoding="utf-8")
    parser = cli.build_parser()
    from_toml = space_settings(parser.parse_args(["sweep", "--config", str(toml)]))
    from_json = space_settings(parser.parse_args(["sweep", "--config", str(as_json)]))
    assert from_toml == from_json
    assert spaces.trial_count(spaces.from_dict(from_toml)) == 2 * 3 * 2 * 2
    overridden = space_settings(parser.parse_args(["sweep", "--config", str(toml),
                                                   "--seeds", "0-4", "--batch-norm", "both"]))
    assert overridden["seeds"] == [0, 1, 2, 3, 4] and overridden["batch_norm"] == [False, True]
    assert overridden["optimizer"] == ["sgd", "adam"]  # the rest stays the file's

    broken = tmp_path / "broken.toml"
    broken.write_text("optimizer = [sgd\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^'.*broken.toml' is not valid TOML: "):
        spaces.load(str(broken))


def test_without_ray_the_error_names_the_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    status = cli.main(["sweep", "--out", str(tmp_path), "--ray", "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2
    assert err == ("descentlab: error: Ray (with Tune) is not installed; to run sweeps on Ray: "
                   "pip install 'descentlab[ray]'\n")


def test_trial_ids_are_stable_names_of_the_configuration():
    config = {"optimizer": "sgd", "learning_rate": 0.1, "seed": 0}
    assert spaces.trial_id(config) == spaces.trial_id(dict(reversed(list(config.items()))))
    assert spaces.trial_id(config) != spaces.trial_id(dict(config, seed=1))
    assert not math.isnan(float(int(spaces.trial_id(config), 16)))  # 12 hex digits
    assert len(spaces.trial_id(config)) == 12
