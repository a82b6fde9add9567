"""The lab commands' output folders: ``vanishing``, ``optimizers``, ``surfaces`` and
``activations`` write their JSON into ``--out`` first, then draw their figures into a new folder
that replaces ``--out/<command>_figures`` (``surface_<name>_figures``) only once all are drawn.

So a rerun never leaves a figure of the run before; a failure or Ctrl-C while drawing leaves the
previous figures whole (and the new measurements saved); and nothing else in ``--out`` is ever
touched — a user's files beside the figures survive, and one inside the figures folder makes the
command refuse before any work instead of deleting it.
"""

from __future__ import annotations

import json
import os

import pytest

from descentlab import cli
from descentlab.lab.results import FIGURES_LIST
from descentlab.plots import optimizers as optimizer_plots
from descentlab.plots import vanishing as vanishing_plots

QUICK = ["--data", "xor", "--seeds", "0", "--epochs", "1", "--quiet", "--workers", "1"]
#: command: (first run's flags, a rerun's flags that draw other figures (fewer, or in the other
#: language; surfaces: the same ones), the figures folder, the JSON file(s))
COMMANDS = {
    "vanishing": (["vanishing", "--activations", "sigmoid", "--depths", "1",
                   "--initializers", "glorot_uniform,he_normal", *QUICK],
                  ["vanishing", "--activations", "sigmoid", "--depths", "1", "--lang", "ko",
                   *QUICK],
                  "vanishing_figures", ["vanishing.json"]),
    "optimizers": (["optimizers", "--optimizers", "gd,sgd", *QUICK],
                   ["optimizers", "--optimizers", "adam", *QUICK],
                   "optimizers_figures", ["optimizers.json"]),
    "surfaces": (["surfaces", "--surface", "quadratic", "--steps", "20"],
                 ["surfaces", "--surface", "quadratic", "--steps", "10", "--lang", "ko"],
                 "surface_quadratic_figures", ["surface_quadratic.json"]),
    "activations": (["activations", "--names", "sigmoid,relu"],
                    ["activations", "--names", "tanh", "--seed", "1", "--lang", "ko"],
                    "activations_figures", ["activation_curves.json", "weight_scale.json"]),
}


def run(capsys, argv, out):
    status = cli.main([*argv, "--out", str(out)])
    printed, err = capsys.readouterr()
    return status, printed, err


def printed_figures(printed: str) -> set[str]:
    line = next(line for line in printed.splitlines() if line.startswith("figures: "))
    return set(line.removeprefix("figures: ").split(", "))


def snapshot(folder) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as stream:
                files[os.path.relpath(path, folder)] = stream.read()
    return files


def assert_only_this_runs_figures(out, figures_name, printed):
    """The figures folder holds exactly the figures this run printed (and their list), each
    whole; no drawing or old folder is left in ``out``."""
    folder = out / figures_name
    paths = printed_figures(printed)
    assert paths and all(os.path.dirname(p) == str(folder) for p in paths)
    assert set(os.listdir(folder)) == {os.path.basename(p) for p in paths} | {FIGURES_LIST}
    assert all(os.path.getsize(p) > 0 for p in paths)
    listed = (folder / FIGURES_LIST).read_text().splitlines()
    assert sorted(listed) == sorted(os.path.basename(p) for p in paths)
    assert not [name for name in os.listdir(out) if name.startswith(".")]


def previous_run(out, figures_name, jsons) -> dict[str, bytes]:
    """What a run before left: its JSON and its figures folder (with the list of what it
    drew, one figure this run no longer draws among them); returns the folder's files."""
    folder = out / figures_name
    folder.mkdir(parents=True)
    figures = {"retired_figure.png": b"\x89PNG old", "old_en.svg": b"<svg>old</svg>"}
    for name, data in figures.items():
        (folder / name).write_bytes(data)
    (folder / FIGURES_LIST).write_text("".join(f"{name}\n" for name in figures))
    for name in jsons:
        (out / name).write_text('{"an": "earlier run"}\n')
    return snapshot(folder)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_rerun_replaces_the_figures_and_keeps_the_users_files(capsys, tmp_path, command):
    first, rerun, figures_name, jsons = COMMANDS[command]
    out = tmp_path / "out"
    previous_run(out, figures_name, jsons)
    (out / "mine").mkdir()
    (out / "notes.txt").write_text("my notes")
    (out / "mine" / "figure.png").write_bytes(b"my figure")
    # what an earlier descentlab drew beside the JSON: not this run's to delete either
    (out / "vanishing_accuracy_en.png").write_bytes(b"an old layout's figure")
    (out / "surface_quadratic.png").write_bytes(b"an old layout's figure")
    users = {name: data for name, data in snapshot(out).items()
             if not name.startswith(figures_name) and name not in jsons}
    status, printed, err = run(capsys, first, out)
    assert status == 0, err
    assert_only_this_runs_figures(out, figures_name, printed)  # the earlier figures are gone
    first_figures = set(os.listdir(out / figures_name))
    status, printed, err = run(capsys, rerun, out)
    assert status == 0, err
    assert_only_this_runs_figures(out, figures_name, printed)
    if command != "surfaces":  # the rerun drew other figures: none of the first run's is left
        assert first_figures - set(os.listdir(out / figures_name))
    now = snapshot(out)
    assert {name: now[name] for name in users} == users
    assert set(os.listdir(out)) == {"mine", "notes.txt", "vanishing_accuracy_en.png",
                                    "surface_quadratic.png", figures_name, *jsons}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("what", ["file", "folder", "no-list"])
def test_a_users_file_in_the_figures_folder_is_refused_not_deleted(capsys, tmp_path, command,
                                                                    what):
    first, _, figures_name, jsons = COMMANDS[command]
    out = tmp_path / "out"
    previous_run(out, figures_name, jsons)
    folder = out / figures_name
    if what == "file":
        (folder / "my_notes.txt").write_text("mine")
    elif what == "folder":
        (folder / "mine").mkdir()
        (folder / "mine" / "a.png").write_bytes(b"mine")
    else:  # a folder of that name that descentlab did not make
        (folder / FIGURES_LIST).unlink()
    before = snapshot(out)
    status, printed, err = run(capsys, first, out)
    assert status == 2 and printed == "" and len(err.splitlines()) == 1, err
    shown = {"file": "'my_notes.txt'", "folder": "'mine'",
             "no-list": "'old_en.svg', 'retired_figure.png'"}[what]
    assert err == (f"descentlab: error: the figures folder '{folder}' holds files descentlab did "
                   f"not draw ({shown}); a run replaces that folder whole, so move them out "
                   "first or choose another --out.\n")
    assert snapshot(out) == before  # refused before any work: not even the JSON is rewritten


@pytest.mark.parametrize("command", ["surfaces", "optimizers"])
def test_an_empty_figures_folder_or_a_file_in_its_way(capsys, tmp_path, command):
    first, _, figures_name, _ = COMMANDS[command]
    out = tmp_path / "out"
    out.mkdir()
    (out / figures_name).write_text("a file of the user's")
    status, _, err = run(capsys, first, out)
    assert status == 2 and f"'{out / figures_name}' is in the way of the figures folder" in err
    assert (out / figures_name).read_text() == "a file of the user's"
    (out / figures_name).unlink()
    (out / figures_name).mkdir()  # empty: nothing to lose
    status, printed, err = run(capsys, first, out)
    assert status == 0, err
    assert_only_this_runs_figures(out, figures_name, printed)


def failing_after(calls: int, function, error: BaseException, made: list):
    """``function``, raising ``error`` from its call number ``calls + 1`` on."""
    def wrapped(*args, **kwargs):
        if len(made) >= calls:
            raise error
        made.append(1)
        return function(*args, **kwargs)

    return wrapped


#: command: (module, function to break, how many calls succeed first): each breaks after at
#: least one figure file of the run has been written (optimizers: the loss figure is written
#: before the validation figure is drawn; surfaces: the surface before the theory; activations:
#: the curves before the weight-scale histograms).
BREAK = {"vanishing": (vanishing_plots, "save_figure", 1),
         "optimizers": (optimizer_plots, "validation_figure", 0),
         "surfaces": (optimizer_plots, "theory_figure", 0),
         "activations": (vanishing_plots, "weight_scale_figure", 0)}


@pytest.mark.parametrize(("command", "error"), [
    *[(command, RuntimeError("a bug while drawing")) for command in COMMANDS],
    ("optimizers", KeyboardInterrupt()), ("surfaces", KeyboardInterrupt())],
    ids=[*[f"failure-{command}" for command in COMMANDS], "ctrl-c-optimizers",
         "ctrl-c-surfaces"])
def test_a_failure_while_drawing_leaves_the_previous_figures_whole(capsys, tmp_path,
                                                                   monkeypatch, command, error):
    """A real run, then a rerun (other numbers, other figures) that breaks after it has
    written a figure: every figure of the first run is still there, byte for byte, with
    nothing beside it; the rerun's measurements were saved first."""
    first, rerun, figures_name, jsons = COMMANDS[command]
    out = tmp_path / "out"
    status, _, err = run(capsys, first, out)
    assert status == 0, err
    figures_before = {name: data for name, data in snapshot(out).items() if name not in jsons}
    jsons_before = {name: (out / name).read_text() for name in jsons}
    module, name, calls = BREAK[command]
    made: list = []
    written = []
    real_save = module.save_figure

    def save_and_note(fig, folder, *args, **kwargs):
        written.append(folder)
        return real_save(fig, folder, *args, **kwargs)

    monkeypatch.setattr(module, "save_figure", save_and_note)
    monkeypatch.setattr(module, name, failing_after(calls, getattr(module, name), error, made))
    if isinstance(error, KeyboardInterrupt):
        status, printed, err = run(capsys, rerun, out)
        assert status == 130 and "descentlab: interrupted" in err
    else:
        with pytest.raises(RuntimeError, match="a bug while drawing"):
            run(capsys, rerun, out)
    assert len(made) == calls and written  # it broke after a figure of the rerun was written
    figures_after = {name: data for name, data in snapshot(out).items() if name not in jsons}
    assert figures_after == figures_before
    assert not [n for n in os.listdir(out) if n.startswith(".")]  # no drawing folder left
    for name in jsons:  # the rerun's measurements were saved first, whole
        assert (out / name).read_text() != jsons_before[name]
        json.loads((out / name).read_text())
