"""The ``descentlab`` command: help texts, the three commands, and how user errors are reported.

Most tests call ``descentlab.cli.main`` in-process; a few start a real ``python -m
descentlab.cli`` to check the exit status a shell sees. Every user mistake must give status 2 and
exactly one line on stderr (no traceback) unless ``--debug`` asks for the traceback.
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
