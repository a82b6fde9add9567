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
from descentlab.lab import training
from descentlab.models import load_model

COMMANDS = ["demo", "report", "vanishing", "optimizers", "surfaces", "activations", "train",
            "datasets", "playground", "sweep"]
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
    saved = str(tmp_path / "model.dlz")
    status, out, err = run(capsys, "train", "--data", path, "--target", "animal",
                           "--layers", "4", "--standardize", "--save", saved, *FAST)
    assert status == 0 and err == ""
    assert f"data.csv ({30 * classes} rows, 2 features)" in out
    assert output_shape in out  # sigmoid unit for two classes, softmax units for more
    # the printed accuracy is the saved model's, recomputed here on the same held-out rows
    split = training.prepare(path, target="animal", standardize=True, hidden=(4,))
    probabilities = load_model(saved).predict(split.x_test, verbose=0)
    predicted = (probabilities[:, 0] > 0.5 if classes == 2 else probabilities.argmax(axis=1))
    accuracy = float(np.mean(predicted.astype(np.int64) == split.y_test))
    assert float(ACCURACY.search(out).group(1)) == pytest.approx(accuracy, abs=5e-5)


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
    (["--noise", "-1"], ["argument --noise", "expected a number in [0, 10]; got '-1'"]),
    (["--noise", "50"], ["argument --noise", "expected a number in [0, 10]; got '50'"]),
    (["--no-such-flag"], ["unrecognized arguments: --no-such-flag"]),
], ids=["epochs-0", "batch-negative", "layers-text", "layers-zero", "lr-negative",
        "validation-split", "verbose", "optimizer", "activation", "data", "noise",
        "noise-too-large", "unknown-flag"])
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


def test_demo_is_the_run_written_by_hand(capsys):
    """`demo` trains Dense(32, relu) → Dense(10, softmax) with Adam on a stratified 75/25 split
    of digits, batch 32, 10 % held out for validation: the printed test numbers are the oracle's."""
    import descentlab as dl
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    status, out, _ = run(capsys, "demo", "--seed", "3", *FAST)
    dl.set_random_seed(3)
    x, y = datasets.load_digits()
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, test_size=0.25, seed=3)
    model = Sequential([Dense(32, input_dim=64, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, batch_size=32, validation_split=0.1, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert status == 0
    assert f"Test loss {loss:.4f}, test accuracy {accuracy:.4f}" in out


# ---------------------------------------------------------------------------------------------
# Hostile or careless input (issue 11): every mistake is one line and status 2, found before
# anything is allocated, trained or written; odd but valid input is handled, never crashed.
# ---------------------------------------------------------------------------------------------
def complete(argv, tmp_path):
    """``argv`` with what makes it quick and keeps it in ``tmp_path``: FAST for ``train``, an
    ``--out`` folder and one epoch for the labs."""
    if argv[0] == "train":
        return [*argv, *FAST]
    epochs = ["--epochs", "1"] if argv[0] in ("vanishing", "optimizers") else []
    return [*argv, *epochs, "--out", str(tmp_path / "out")]


def label_csv(tmp_path, labels, name="labels.csv"):
    """Two well-separated features per row and the given labels, 6 rows per label."""
    rng = np.random.default_rng(0)
    rows = [f"{k + rng.normal() * 0.1:.3f},{-k + rng.normal() * 0.1:.3f},{label}"
            for k, label in enumerate(labels) for _ in range(6)]
    return write_csv(tmp_path, "f1,f2,y\n" + "\n".join(rows) + "\n", name)


@pytest.mark.parametrize(("labels", "units"), [
    ([1, 2], 1),                   # was 3 units (max + 1)
    ([0, 20_000_000], 1),          # was Dense(20000001): 6.8 GB
    ([3, 5, 9], 3),                # was 10 units
    ([-1, 1], 1),                  # negative labels were an index error in the loss
    (["b", "a", "c"], 3),          # text labels: renumbered in sorted order, as before
])
def test_train_renumbers_class_labels(capsys, tmp_path, labels, units):
    import descentlab as dl
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    path = label_csv(tmp_path, labels)
    model, _ = train_cli(capsys, tmp_path, data=path)
    assert model.get_weights()[-1].shape == (units,)
    # the oracle: the classes renumbered 0..K-1 in sorted order, then the run written by hand
    dl.set_random_seed(0)
    x, raw, _ = datasets.load_csv(path)
    _, y = np.unique(raw, return_inverse=True)
    x_train, _, y_train, _ = datasets.train_test_split(x, y, test_size=0.2, seed=0)
    oracle = Sequential([Dense(4, activation="relu", input_dim=2),
                         Dense(units, activation="sigmoid" if units == 1 else "softmax")])
    oracle.compile(optimizer="adam", metrics=["accuracy"],
                   loss="binary_crossentropy" if units == 1 else
                   "sparse_categorical_crossentropy")
    oracle.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    assert same_weights(model, oracle)


def test_train_treats_a_many_valued_whole_number_target_as_regression(capsys, tmp_path):
    """Years or prices in whole numbers are a quantity, not 31 classes: regression, said so,
    unless --task classification asks for classes."""
    path = label_csv(tmp_path, list(range(1990, 2021)), "years.csv")
    model, out = train_cli(capsys, tmp_path, data=path)
    assert model.get_weights()[-1].shape == (1,)
    assert model.layers[-1].activation.name == "linear"
    assert ("the target holds 31 different whole numbers: regression (task 'classification' "
            "to classify)") in out
    assert re.search(r"test mae \d+\.\d{4}", out)
    model, out = train_cli(capsys, tmp_path, data=path, task="classification")
    assert model.get_weights()[-1].shape == (31,)
    assert "test accuracy" in out


def test_train_task_classification_refuses_a_fractional_target(capsys, tmp_path):
    path = write_csv(tmp_path, "a,y\n" + "".join(f"{i},{i / 7:.3f}\n" for i in range(10)))
    status, _, err = run(capsys, "train", "--data", path, "--task", "classification", *FAST)
    assert_one_line_error(status, err, "target column 'y' of",
                          "holds fractional numbers (e.g. 0.143); with task 'classification' "
                          "its values must be class labels")


@pytest.mark.parametrize("argv", [
    ["train", "--data", "xor", "--layers", "1000000000"],
    ["train", "--data", "xor", "--layers", "60000,60000"],
    ["optimizers", "--layers", "1000000000"],
    ["vanishing", "--width", "1000000000"],
    ["vanishing", "--width", "5000", "--depths", "1,200"],
    ["vanishing", "--depths", "100000000"],
    ["surfaces", "--steps", "1000000000"],
], ids=lambda argv: " ".join(argv[:3]))
def test_absurd_sizes_are_refused_before_anything_is_allocated(capsys, tmp_path, argv):
    import tracemalloc

    tracemalloc.start()
    try:
        status, out, err = run(capsys, *complete(argv, tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_one_line_error(status, err, "at most")
    assert peak < 200 * 2 ** 20, peak  # imports and data; the network would take gigabytes
    assert "Epoch" not in out


@pytest.mark.parametrize(("argv", "flag"), [
    (["train", "--data", "xor", "--layers", ",,"], "--layers"),
    (["train", "--data", "xor", "--layers", "4,,8"], "--layers"),
    (["vanishing", "--depths", "1,,3"], "--depths"),
    (["vanishing", "--seeds", "0,"], "--seeds"),
    (["vanishing", "--activations", "sigmoid,,relu"], "--activations"),
    (["optimizers", "--optimizers", ",sgd"], "--optimizers"),
])
def test_lists_with_an_empty_item_are_refused(capsys, tmp_path, argv, flag):
    status, _, err = run(capsys, *complete(argv, tmp_path))
    assert_one_line_error(status, err, f"argument {flag}", "an empty item")


def test_train_save_refuses_an_empty_path(capsys):
    status, _, err = run(capsys, "train", "--data", "xor", "--save", "", *FAST)
    assert_one_line_error(status, err, "argument --save", "expected a file path; got ''")


@pytest.mark.parametrize("where", ["under-a-file", "a-folder"])
def test_train_save_to_an_unwritable_place_fails_before_training(capsys, tmp_path,
                                                                 monkeypatch, where):
    from descentlab.models import Sequential

    (tmp_path / "file.txt").write_text("not a folder")
    target = tmp_path / "file.txt" / "model.dlab" if where == "under-a-file" else tmp_path

    def no_training(*args, **kwargs):
        raise AssertionError("trained although the model could not be saved")

    monkeypatch.setattr(Sequential, "fit", no_training)
    status, out, err = run(capsys, "train", "--data", "xor", "--save", str(target), *FAST)
    assert_one_line_error(status, err, f"--save {str(target)!r}")
    assert "test loss" not in out


@pytest.mark.parametrize(("cell", "where"), [
    ("inf", "column 'b', row 3"), ("-1e999", "column 'b', row 3"), ("1e309", "column 'b', row 3")])
def test_an_infinite_csv_value_is_reported_at_its_file_row(capsys, tmp_path, cell, where):
    rows = [f"{i},{i * 2},{i % 2}" for i in range(8)]
    rows[2] = f"2,{cell},0"
    path = write_csv(tmp_path, "a,b,y\n" + "\n".join(rows) + "\n")
    status, _, err = run(capsys, "train", "--data", path, *FAST)
    assert_one_line_error(status, err, f"an infinite value in {where}")


def test_an_infinite_target_is_reported_at_its_file_row(capsys, tmp_path):
    rows = [f"{i},{i / 3:.3f}" for i in range(8)]
    rows[4] = "4,inf"
    path = write_csv(tmp_path, "a,y\n" + "\n".join(rows) + "\n")
    status, _, err = run(capsys, "train", "--data", path, *FAST)
    assert_one_line_error(status, err, "an infinite value in column 'y', row 5")


@pytest.mark.parametrize(("argv", "flag"), [
    (["surfaces", "--surface", "quadratic", "--kappa", "1e308"], "--kappa"),
    (["surfaces", "--surface", "quadratic", "--kappa", "inf"], "--kappa"),
    (["surfaces", "--learning-rate", "inf"], "--learning-rate"),
    (["train", "--data", "xor", "--learning-rate", "1e309"], "--learning-rate"),
    (["train", "--data", "xor", "--noise", "inf"], "--noise"),
    (["vanishing", "--learning-rate", "inf"], "--learning-rate"),
    (["optimizers", "--target-loss", "inf"], "--target-loss"),
])
def test_an_out_of_range_number_is_reported_with_the_flag_the_user_gave(capsys, tmp_path,
                                                                        argv, flag):
    status, _, err = run(capsys, *complete(argv, tmp_path))
    assert_one_line_error(status, err, flag)
    assert "momentum" not in err


@pytest.mark.parametrize(("argv", "valid"), [
    (["optimizers", "--optimizers", "sgd,nope"], "nadam"),
    (["surfaces", "--optimizers", "nope"], "nadam"),
    (["surfaces", "--surface", "nope"], "rastrigin"),
    (["vanishing", "--activations", "nope"], "softplus"),
    (["train", "--data", "xor", "--optimizer", "nope"], "nadam"),
    (["train", "--data", "nope"], "spirals"),
])
def test_an_unknown_name_lists_the_valid_names_once(capsys, tmp_path, argv, valid):
    status, _, err = run(capsys, *complete(argv, tmp_path))
    assert_one_line_error(status, err, "'nope'")
    assert err.count(valid) == 1, err


@pytest.mark.parametrize("argv", [["train", "--data", "xor", "--target", "y"],
                                  ["vanishing", "--target", "3"]], ids=lambda argv: argv[0])
def test_target_with_a_built_in_data_set_is_refused(capsys, tmp_path, argv):
    # a CSV's option: with a built-in set it was ignored without a word
    status, _, err = run(capsys, *complete(argv, tmp_path))
    assert_one_line_error(status, err, "--target picks the target column of a CSV file; --data")
    assert not os.path.exists(tmp_path / "out")


def test_kappa_belongs_to_the_quadratic_surface_only(capsys, tmp_path):
    # --kappa with another surface was ignored without a word
    status, _, err = run(capsys, "surfaces", "--surface", "rosenbrock", "--kappa", "5",
                         "--out", str(tmp_path / "out"))
    assert_one_line_error(status, err, "--kappa is the condition number of --surface quadratic;"
                                       " --surface rosenbrock has none")
    assert not os.path.exists(tmp_path / "out")
    status, out, err = run(capsys, "surfaces", "--surface", "quadratic", "--kappa", "5",
                           "--out", str(tmp_path / "out"))
    assert status == 0 and out.startswith("½(1x² + 5y²)"), err


@pytest.mark.parametrize("argv", [
    ["vanishing", "--activations", "sigmoid,softmax"],
    ["activations", "--names", "relu,softmax"],
    ["train", "--data", "xor", "--activation", "softmax"],
    ["sweep", "--activation", "softmax", "--optimizers", "sgd", "--learning-rate", "0.1",
     "--seeds", "0", "--quiet"],
], ids=lambda argv: argv[0])
def test_softmax_as_a_hidden_activation_is_refused_in_a_sentence(capsys, tmp_path, argv):
    # softmax normalises a layer's units into probabilities: no curve f(x) to measure, no hidden
    # layer of a lab's network (it trained at chance, or drew a meaningless curve, before).
    status, _, err = run(capsys, *complete(argv, tmp_path))
    assert_one_line_error(status, err, "softmax is an output activation")
    assert "sigmoid, silu, softplus" in err and err.count("softmax") == 1
    out = tmp_path / "out"  # refused before anything is written (the folder may be made)
    assert not os.path.exists(out) or not os.listdir(out)


@pytest.mark.parametrize(("encoding", "argv"), [
    ("ascii", ["demo", "--epochs", "1", "--verbose", "1"]),
    ("ascii", ["surfaces", "--surface", "quadratic"]),
    ("ascii", ["activations"]),
    ("ascii", ["train", "--data", "xor", "--epochs", "1", "--verbose", "1"]),
    ("cp1252", ["demo", "--epochs", "1", "--verbose", "1"]),
    ("cp1252", ["surfaces", "--surface", "quadratic"]),
], ids=lambda v: v if isinstance(v, str) else v[0])
def test_commands_print_on_a_terminal_that_cannot_show_unicode(tmp_path, encoding, argv):
    """Box-drawing lines, superscripts, κ and → become '?' on such a terminal, not a crash."""
    out = ["--out", str(tmp_path / "out")] if argv[0] in ("surfaces", "activations") else []
    done = subprocess.run([sys.executable, "-m", "descentlab.cli", *argv, *out], cwd=tmp_path,
                          capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": encoding})
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")[-2000:]
    assert b"Traceback" not in done.stderr
    done.stdout.decode(encoding)  # everything printed is in the terminal's encoding
    assert b"?" in done.stdout  # and something had to be replaced


@pytest.mark.parametrize("command", ["vanishing", "optimizers"])
def test_a_dollar_in_a_csv_name_is_shown_as_text_in_the_figures(capsys, tmp_path, command):
    """Matplotlib reads $…$ as mathematics: a file name must not be parsed as such."""
    path = write_csv(tmp_path, open("tests/data/iris3.csv").read(), "prices$_$2020.csv")
    argv = ({"vanishing": ["--activations", "sigmoid", "--depths", "1", "--seeds", "0"],
             "optimizers": ["--optimizers", "sgd", "--seeds", "0"]}[command])
    status, out, err = run(capsys, command, "--data", path, *argv, "--epochs", "1", "--quiet",
                           "--out", str(tmp_path / "out"))
    assert status == 0, err
    assert os.listdir(tmp_path / "out") and "figures: " in out


@pytest.mark.parametrize("argv", [
    ["optimizers", "--optimizers", "sgd,adam", "--seeds", "0", "--epochs", "1", "--lr-mode",
     "shared", "--learning-rate", "1e300", "--quiet"],
    ["surfaces", "--learning-rate", "1e300"],
    ["surfaces", "--surface", "quadratic", "--learning-rate", "1e300"],
], ids=["optimizers", "surfaces", "quadratic"])
def test_runs_that_all_diverge_still_draw_their_figures(capsys, tmp_path, argv):
    status, out, err = run(capsys, *argv, "--out", str(tmp_path / "out"))
    assert status == 0, err
    assert "figures: " in out and all(os.path.getsize(p) > 0 for p in
                                      (tmp_path / "out").iterdir())


def test_the_flags_limits_are_the_labs_limits():
    from descentlab.lab import surfaces, vanishing

    assert cli._MAX_DEPTH == vanishing.MAX_DEPTH
    assert cli._MAX_STEPS == surfaces.MAX_STEPS
    assert cli._MAX_KAPPA == surfaces.MAX_KAPPA
    assert cli._MAX_AUTO_CLASSES == datasets.MAX_AUTO_CLASSES
    assert cli._MAX_NOISE == datasets.MAX_NOISE
