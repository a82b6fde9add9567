"""The ``descentlab`` command: help texts, every flag taking effect, and how user errors are
reported.

Most tests call ``descentlab.cli.main`` in-process; a few start a real ``python -m
descentlab.cli`` to check the exit status a shell sees. Every user mistake must give status 2 and
exactly one line on stderr (no traceback) unless ``--debug`` asks for the traceback. Each flag of
``train`` is checked against the same run written by hand with the engine (the saved weights
must be equal, and differ from the run without the flag); each main flag of the labs must reach
the lab function as the one argument it changes.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from descentlab import cli, datasets
from descentlab.errors import ConfigError, DataError
from descentlab.models import load_model

COMMANDS = ["demo", "report", "vanishing", "optimizers", "surfaces", "activations", "train",
            "datasets", "playground"]
FAST = ["--epochs", "2", "--verbose", "0"]
ACCURACY = re.compile(r"test accuracy (\d\.\d{4})")


def run(capsys, *argv):
    """``descentlab argv…`` in-process: ``(exit status, stdout, stderr)``."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own exits (--help, bad flags)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *fragments):
    assert status == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("descentlab: error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def run_subprocess(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "descentlab.cli", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_commands_are_the_documented_ones():
    subparsers = next(a for a in cli.build_parser()._actions if a.dest == "command")
    assert sorted(subparsers.choices) == sorted(COMMANDS)


def test_help_lists_every_command(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\S", out, re.MULTILINE), command
    assert "--debug" in out


def test_no_command_prints_the_usage_and_fails(capsys):
    status, out, _ = run(capsys)
    assert status == 2 and out.startswith("usage: descentlab")


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_has_an_example(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert out.startswith(f"usage: descentlab {command}")
    assert re.search(rf"examples?:\s*\n?\s*descentlab {command}\b", out), out


def test_datasets_lists_every_built_in_set_with_its_size(capsys):
    status, out, err = run(capsys, "datasets")
    assert status == 0 and err == ""
    for info in datasets.catalog():
        assert re.search(rf"^{info.name}\s+{info.samples}\s+{info.features}\s+{info.classes}\s",
                         out, re.MULTILINE), info.name
    assert re.search(r"^digits\s+1797\s+64\s+10\s", out, re.MULTILINE)


def test_train_xor_prints_test_accuracy_and_saves_a_loadable_model(capsys, tmp_path):
    path = tmp_path / "xor.dlab"
    status, out, err = run(capsys, "train", "--data", "xor", "--layers", "8", "--epochs", "3",
                           "--verbose", "0", "--save", str(path))
    assert status == 0 and err == ""
    printed = float(ACCURACY.search(out).group(1))
    assert f"saved the model to {path}" in out
    model = load_model(path)
    # the saved model is the one that was evaluated: same test split, same accuracy
    x, y = datasets.load("xor")
    _, x_test, _, y_test = datasets.train_test_split(x, y, test_size=0.2, seed=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert round(accuracy, 4) == printed
    assert model.predict(x_test).shape == (80, 1)
    assert [w.shape for w in model.get_weights()] == [(2, 8), (8,), (8, 1), (1,)]


def test_train_full_batch_with_sgd_and_a_learning_rate(capsys):
    status, out, _ = run(capsys, "train", "--data", "circles", "--layers", "4",
                         "--batch-size", "full", "--optimizer", "sgd",
                         "--learning-rate", "0.1", *FAST)
    assert status == 0 and ACCURACY.search(out)


def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def separable_csv(tmp_path, classes):
    """A CSV whose label column comes first and holds text: 30 rows per class."""
    rng = np.random.default_rng(0)
    names = ["cat", "dog", "owl"][:classes]
    rows = [f"{names[k]},{k * 4 + rng.normal():.3f},{rng.normal():.3f}"
            for k in range(classes) for _ in range(30)]
    return write_csv(tmp_path, "animal,f1,f2\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize(("classes", "output_shape"), [(2, "(None, 1)"), (3, "(None, 3)")])
def test_train_on_a_csv_with_target_by_name(capsys, tmp_path, classes, output_shape):
    path = separable_csv(tmp_path, classes)
    status, out, err = run(capsys, "train", "--data", path, "--target", "animal",
                           "--layers", "4", "--standardize", *FAST)
    assert status == 0 and err == ""
    assert f"data.csv ({30 * classes} rows, 2 features)" in out
    assert output_shape in out  # sigmoid unit for two classes, softmax units for more
    assert 0.0 <= float(ACCURACY.search(out).group(1)) <= 1.0


def test_train_on_a_numeric_target_reports_mae(capsys, tmp_path):
    rows = "".join(f"{i},{i / 10 + 0.05:.2f}\n" for i in range(20))
    status, out, _ = run(capsys, "train", "--data", write_csv(tmp_path, "x,y\n" + rows),
                         "--layers", "", *FAST)
    assert status == 0 and "(None, 1)" in out
    assert re.search(r"test loss \d+\.\d{4}, test mae \d+\.\d{4}", out)


@pytest.mark.parametrize(("text", "extra", "fragments"), [
    ("a,b,y\n1,x,0\n3,4,1\n", [], ["feature column 'b'", "'x' in row 1"]),
    ("a,b,y\n1,2,0\n3,,1\n", [], ["empty or NaN cell in column 'b', row 2"]),
    ("a,b,y\n1,2,0\n3,4,0\n", [], ["single class ('0')"]),
    ("a,b,y\n1,2,0\n3,4,1\n", ["--target", "label"], ["no column 'label'", "a, b, y"]),
    ("a,b,y\n1,2,0\n3,4,1\n", ["--target", "5"], ["target column index 5 does not exist"]),
], ids=["text-feature", "nan-cell", "single-class", "unknown-target", "index-out-of-range"])
def test_csv_errors_are_one_line_with_status_2(capsys, tmp_path, text, extra, fragments):
    status, _, err = run(capsys, "train", "--data", write_csv(tmp_path, text), *extra, *FAST)
    assert_one_line_error(status, err, *fragments)


def test_missing_csv_is_one_line_with_status_2(capsys, tmp_path):
    missing = str(tmp_path / "nowhere.csv")
    status, _, err = run(capsys, "train", "--data", missing, *FAST)
    assert_one_line_error(status, err, f"CSV file '{missing}' does not exist")


@pytest.mark.parametrize(("flags", "fragments"), [
    (["--epochs", "0"], ["argument --epochs", "expected a positive integer, got '0'"]),
    (["--batch-size", "-3"], ["argument --batch-size", "a positive integer or 'full'", "'-3'"]),
    (["--layers", "12,x"], ["argument --layers", "comma-separated layer widths", "'12,x'"]),
    (["--layers", "12,0"], ["argument --layers", "layer widths must be positive"]),
    (["--learning-rate", "-0.1"], ["argument --learning-rate", "expected a positive number"]),
    (["--validation-split", "1"], ["argument --validation-split", "a number in [0, 1)"]),
    (["--verbose", "3"], ["argument --verbose", "invalid choice"]),
    (["--optimizer", "adamm"], ["Unknown optimizer 'adamm'", "Did you mean 'adam'?"]),
    (["--activation", "relux"], ["Unknown activation 'relux'", "Did you mean 'relu'?"]),
    (["--data", "xr"], ["--data 'xr' is neither a built-in data set nor a CSV file",
                        "Did you mean 'xor'?"]),
    (["--noise", "-1"], ["noise must be a finite number ≥ 0; got -1.0"]),
    (["--no-such-flag"], ["unrecognized arguments: --no-such-flag"]),
], ids=["epochs-0", "batch-negative", "layers-text", "layers-zero", "lr-negative",
        "validation-split", "verbose", "optimizer", "activation", "data", "noise", "unknown-flag"])
def test_bad_flags_are_one_line_with_status_2(capsys, flags, fragments):
    defaults = {"--data": "xor", "--layers": "4"}
    for flag, value in defaults.items():
        if flag not in flags:
            flags = [*flags, flag, value]
    status, _, err = run(capsys, "train", *flags, *FAST)
    assert_one_line_error(status, err, *fragments)


def test_debug_raises_the_user_error_instead(capsys, tmp_path):
    with pytest.raises(ConfigError, match="Unknown optimizer 'adamm'"):
        cli.main(["--debug", "train", "--data", "xor", "--optimizer", "adamm", *FAST])
    with pytest.raises(DataError, match="does not exist"):
        cli.main(["--debug", "train", "--data", str(tmp_path / "nowhere.csv"), *FAST])


def test_demo_prints_a_test_accuracy_line(capsys):
    status, out, err = run(capsys, "demo", *FAST)
    assert status == 0 and err == ""
    assert re.search(r"^Trained 2 epochs in \d+\.\d\d s\. Test loss \d+\.\d{4}, "
                     r"test accuracy 0\.\d{4} \(\d+\.\d %\)\.$", out, re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# Real processes: the exit status a shell sees
# ---------------------------------------------------------------------------------------------
def test_process_exit_status_of_success_and_user_errors(tmp_path):
    ok = run_subprocess("train", "--data", "xor", "--layers", "4", *FAST, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ACCURACY.search(ok.stdout)

    bad_csv = write_csv(tmp_path, "a,b,y\n1,2,0\n3,,1\n", "bad.csv")
    for argv in (["train", "--data", bad_csv, *FAST], ["train", "--epochs", "0"]):
        failed = run_subprocess(*argv, cwd=tmp_path)
        assert_one_line_error(failed.returncode, failed.stderr)
        assert "Traceback" not in failed.stdout


def test_process_debug_shows_the_traceback(tmp_path):
    missing = os.path.join(tmp_path, "nowhere.csv")
    failed = run_subprocess("--debug", "train", "--data", missing, *FAST, cwd=tmp_path)
    assert failed.returncode == 1
    assert failed.stderr.startswith("Traceback (most recent call last):")
    assert failed.stderr.rstrip().splitlines()[-1].startswith("descentlab.errors.DataError: CSV "
                                                              "file")


# ---------------------------------------------------------------------------------------------
# Every flag of `train` takes effect: each test changes one flag and compares the saved model
# with the same run written here by hand with the engine's public API (the oracle), and with
# the run without that flag (so that a flag that does nothing cannot pass).
# ---------------------------------------------------------------------------------------------
BASE = {"data": "xor", "target": "-1", "layers": "4", "activation": "relu",
        "initializer": "glorot_uniform", "optimizer": "adam", "learning-rate": None,
        "epochs": "2", "batch-size": "32", "validation-split": "0", "test-size": "0.2",
        "noise": "0", "seed": "0", "standardize": False}


def train_cli(capsys, tmp_path, **changes):
    """``descentlab train`` with BASE's flags and ``changes`` (keys with '_' for '-'), saved:
    ``(loaded model, stdout)``."""
    flags = {**BASE, **{k.replace("_", "-"): v for k, v in changes.items()}}
    argv = ["train", "--verbose", str(flags.pop("verbose", 0))]
    for flag, value in flags.items():
        if value is True:
            argv.append(f"--{flag}")
        elif value not in (None, False):
            argv += [f"--{flag}", str(value)]
    path = tmp_path / f"model-{len(list(tmp_path.iterdir()))}.dlab"
    status, out, err = run(capsys, *argv, "--save", str(path))
    assert status == 0, err
    return load_model(path), out


def train_by_hand(data="xor", target=-1, layers=(4,), activation="relu",
                  initializer="glorot_uniform", optimizer=None, epochs=2, batch_size=32,
                  validation_split=0.0, test_size=0.2, noise=0.0, seed=0, standardize=False):
    """The oracle: the run `train` should make, written with Sequential, Dense and fit."""
    import descentlab as dl
    from descentlab import optimizers
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    dl.set_random_seed(seed)
    if data.endswith(".csv"):
        x, y, _ = datasets.load_csv(data, target=target)
    else:
        x, y = datasets.load(data, seed=seed, noise=noise)
    if standardize:
        x = (x - x.mean(axis=0)) / x.std(axis=0)
    x_train, _, y_train, _ = datasets.train_test_split(x, y, test_size=test_size, seed=seed,
                                                       stratify=True)
    classes = int(y.max()) + 1
    model = Sequential()
    for i, units in enumerate(layers):
        model.add(Dense(units, activation=activation, kernel_initializer=initializer,
                        input_dim=x.shape[1] if i == 0 else None))
    if classes == 2:
        model.add(Dense(1, activation="sigmoid"))
        loss = "binary_crossentropy"
    else:
        model.add(Dense(classes, activation="softmax"))
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer or optimizers.Adam(), loss=loss, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
              validation_split=validation_split, verbose=0)
    return model, len(x_train)


def same_weights(a, b):
    return all(x.shape == y.shape and np.array_equal(x, y)
               for x, y in zip(a.get_weights(), b.get_weights(), strict=True)) and \
        len(a.get_weights()) == len(b.get_weights())


def test_train_with_default_flags_is_the_run_written_by_hand(capsys, tmp_path):
    model, _ = train_cli(capsys, tmp_path)
    oracle, n_train = train_by_hand()
    assert same_weights(model, oracle)
    assert model.optimizer.iterations == 2 * -(-n_train // 32)


@pytest.mark.parametrize(("batch_flag", "batch_size"), [("7", 7), ("full", None)])
def test_train_batch_size_sets_the_steps_per_epoch_and_the_weights(capsys, tmp_path,
                                                                   batch_flag, batch_size):
    model, out = train_cli(capsys, tmp_path, batch_size=batch_flag, verbose=2)
    oracle, n_train = train_by_hand(batch_size=batch_size or "full")
    steps = -(-n_train // batch_size) if batch_size else 1
    assert re.findall(r"^(\d+)/\1 - ", out, re.MULTILINE) == [str(steps)] * 2, out
    assert model.optimizer.iterations == 2 * steps
    assert same_weights(model, oracle)
    assert not same_weights(model, train_by_hand()[0])


def test_train_learning_rate_reaches_the_optimizer(capsys, tmp_path):
    from descentlab import optimizers

    model, _ = train_cli(capsys, tmp_path, optimizer="sgd", learning_rate="0.05")
    assert type(model.optimizer).__name__ == "SGD"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.05)
    assert same_weights(model, train_by_hand(optimizer=optimizers.SGD(learning_rate=0.05))[0])
    default, _ = train_cli(capsys, tmp_path, optimizer="sgd")
    assert default.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert not same_weights(model, default)


def test_train_optimizer_is_the_named_one(capsys, tmp_path):
    from descentlab import optimizers

    model, _ = train_cli(capsys, tmp_path, optimizer="rmsprop")
    assert type(model.optimizer).__name__ == "RMSprop"
    assert same_weights(model, train_by_hand(optimizer=optimizers.RMSprop())[0])
    assert not same_weights(model, train_by_hand()[0])


@pytest.mark.parametrize(("flag", "value", "oracle"), [
    ("layers", "5,3", {"layers": (5, 3)}),
    ("activation", "tanh", {"activation": "tanh"}),
    ("initializer", "he_normal", {"initializer": "he_normal"}),
    ("epochs", "3", {"epochs": 3}),
    ("validation_split", "0.25", {"validation_split": 0.25}),
    ("test_size", "0.5", {"test_size": 0.5}),
    ("seed", "3", {"seed": 3}),
    ("data", "circles", {"data": "circles"}),
    ("noise", "0.3", {"noise": 0.3}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_train_flag_takes_effect(capsys, tmp_path, flag, value, oracle):
    model, out = train_cli(capsys, tmp_path, **{flag: value})
    expected, n_train = train_by_hand(**oracle)
    assert same_weights(model, expected)
    assert not same_weights(model, train_by_hand()[0])
    assert f"; {n_train} training and " in out


def test_train_standardize_scales_the_features(capsys, tmp_path):
    model, _ = train_cli(capsys, tmp_path, data="wine", standardize=True)
    assert same_weights(model, train_by_hand(data="wine", standardize=True)[0])
    assert not same_weights(model, train_by_hand(data="wine")[0])


def test_train_target_chooses_the_label_column(capsys, tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{int(a > 0)},{int(b > 0.5) + int(b > -0.5)}"
            for a, b in rng.normal(size=(60, 2))]
    path = write_csv(tmp_path, "f1,f2,sign,band\n" + "\n".join(rows) + "\n", "two.csv")
    model, _ = train_cli(capsys, tmp_path, data=path, target="sign")
    assert model.get_weights()[-1].shape == (1,)  # two classes: one sigmoid unit
    assert same_weights(model, train_by_hand(data=path, target="sign")[0])
    last, _ = train_cli(capsys, tmp_path, data=path)  # default: the last column, 3 classes
    assert last.get_weights()[-1].shape == (3,)


PROGRESS = {"1": r"\d+/\d+ ━+ ", "2": r"^Epoch 2/2\n\d+/\d+ - \d+s - "}


@pytest.mark.parametrize("verbose", ["0", "1", "2"])
def test_train_verbose_sets_the_progress_output(capsys, tmp_path, verbose):
    """0 silent, 1 a progress bar, 2 one line per epoch — and only that."""
    _, out = train_cli(capsys, tmp_path, verbose=verbose)
    for level, pattern in PROGRESS.items():
        assert bool(re.search(pattern, out, re.MULTILINE)) == (level == verbose), (level, out)
    assert ("Epoch" in out) == (verbose != "0")


# ---------------------------------------------------------------------------------------------
# The labs' flags reach the lab: the CLI only parses and calls, so each flag, changed alone,
# changes exactly one argument of the lab function it calls, to the value given.
# ---------------------------------------------------------------------------------------------
class _Called(Exception):
    """Stops a command at the lab call (nothing is trained or drawn)."""


def lab_call(monkeypatch, module, function, argv):
    """The arguments ``descentlab argv…`` passes to ``module.function``."""
    import importlib

    calls = []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        raise _Called

    monkeypatch.setattr(importlib.import_module(module), function, spy)
    with pytest.raises(_Called):
        cli.main(argv)
    args, kwargs = calls[0]
    described = {f"arg{i}": getattr(a, "formula", a) for i, a in enumerate(args)}
    return {**described, **kwargs}


LAB_FLAGS = [  # command, lab module, function, flags, {argument: value it must receive}
    ("vanishing", "descentlab.lab.vanishing", "run_grid", [
        (["--activations", "tanh,relu"], {"activations": ["tanh", "relu"]}),
        (["--depths", "2,4"], {"depths": [2, 4]}),
        (["--initializers", "he_normal"], {"initializers": ["he_normal"]}),
        (["--seeds", "5,6"], {"seeds": [5, 6]}),
        (["--epochs", "7"], {"epochs": 7}),
        (["--width", "9"], {"width": 9}),
        (["--batch-size", "7"], {"batch_size": 7}),
        (["--learning-rate", "0.05"], {"learning_rate": 0.05}),
        (["--batch-norm"], {"batch_norm": True}),
        (["--data", "iris"], {"dataset": "iris"}),
        (["--workers", "3"], {"workers": 3}),
        (["--quiet"], {"progress": False})]),
    ("optimizers", "descentlab.lab.optimizers", "run", [
        (["--optimizers", "sgd,adam"], {"optimizers": ["sgd", "adam"]}),
        (["--seeds", "4"], {"seeds": [4]}),
        (["--epochs", "3"], {"epochs": 3}),
        (["--data", "iris"], {"dataset": "iris"}),
        (["--layers", "16,8"], {"hidden": [16, 8]}),
        (["--batch-size", "7"], {"batch_size": 7}),
        (["--lr-mode", "shared"], {"lr_mode": "shared"}),
        (["--learning-rate", "0.05"], {"learning_rate": 0.05}),
        (["--schedule", "cosine"], {"schedule": "cosine"}),
        (["--target-loss", "0.5"], {"target_loss": 0.5}),
        (["--workers", "3"], {"workers": 3}),
        (["--quiet"], {"progress": False})]),
    ("surfaces", "descentlab.lab.surfaces", "compare", [
        (["--surface", "rosenbrock"], {"arg0": "(1 − x)² + 100(y − x²)²"}),
        (["--surface", "quadratic", "--kappa", "10"], {"arg0": "½(1x² + 10y²)"}),
        (["--optimizers", "sgd,nag"], {"arg1": ["sgd", "nag"]}),
        (["--lr-mode", "tuned"], {"lr_mode": "tuned"}),
        (["--learning-rate", "0.05"], {"learning_rate": 0.05}),
        (["--steps", "12"], {"steps": 12}),
        (["--flavor", "pytorch"], {"flavor": "pytorch"})]),
    ("activations", "descentlab.lab.activations", "weight_scale_experiment", [
        (["--seed", "4"], {"seed": 4})]),
    ("activations", "descentlab.lab.activations", "activation_curves", [
        (["--names", "tanh,elu"], {"names": ["tanh", "elu"]})]),
    ("report", "descentlab.report.build", "build", [
        (["--lang", "ko"], {"lang": "ko"}),
        (["--quick"], {"quick": True}),
        (["--data", "iris"], {"data": "iris"}),
        (["--workers", "3"], {"workers": 3}),
        (["--quiet"], {"progress": False})]),
]


@pytest.mark.parametrize(("command", "module", "function", "flags", "expected"), [
    (command, module, function, flags, expected)
    for command, module, function, cases in LAB_FLAGS for flags, expected in cases
], ids=lambda v: " ".join(v) if isinstance(v, list) else v if isinstance(v, str) and
    not v.startswith("descentlab") else "")
def test_lab_flag_reaches_the_lab(monkeypatch, tmp_path, command, module, function, flags,
                                  expected):
    out = ["--out", str(tmp_path / "out")]
    if command == "surfaces" and "--kappa" in flags:
        baseline = lab_call(monkeypatch, module, function,
                            [command, "--surface", "quadratic", *out])
    else:
        baseline = lab_call(monkeypatch, module, function, [command, *out])
    changed = lab_call(monkeypatch, module, function, [command, *flags, *out])
    differs = {k: changed.get(k) for k in set(baseline) | set(changed)
               if baseline.get(k) != changed.get(k)}
    assert differs == expected


def test_report_out_and_from_json_reach_the_report(monkeypatch, tmp_path):
    from descentlab.report import build

    called = lab_call(monkeypatch, "descentlab.report.build", "build",
                      ["report", "--out", str(tmp_path / "elsewhere")])
    assert called["arg0"] == str(tmp_path / "elsewhere")
    monkeypatch.setattr(build, "load_results", lambda path: {"from": path})
    called = lab_call(monkeypatch, "descentlab.report.build", "write",
                      ["report", "--from-json", "saved.json", "--lang", "ko",
                       "--out", str(tmp_path / "again")])
    assert called == {"arg0": {"from": "saved.json"}, "arg1": str(tmp_path / "again"),
                      "arg2": "ko"}
