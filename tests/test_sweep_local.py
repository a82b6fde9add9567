"""Sweeps on the local pool: deterministic, nothing lost, failures recorded, figures drawn."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from descentlab import cli
from descentlab.sweep import SearchSpace, comparable, expand, run_sweep, trial_id
from descentlab.sweep import local as local_executor
from descentlab.sweep import trial as trial_module
from descentlab.sweep.store import TrialStore
from descentlab.sweep.trial import load_data, run_trial

#: 2 optimizers × 3 rates × 2 seeds = 12 short trials (about 0.2 s each).
SMALL = dict(optimizer=["sgd", "adam"], learning_rate={"low": 0.01, "high": 1.0, "num": 3},
             width=[16], epochs=[3], seeds=[0, 1])


def _lines(folder) -> list[dict]:
    with open(os.path.join(folder, "trials.jsonl"), encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The small sweep on two worker processes (shared by the tests that only read it)."""
    out = str(tmp_path_factory.mktemp("small"))
    return out, run_sweep(SearchSpace(**SMALL), out, workers=2, progress=False)


def test_a_trial_is_a_pure_function_of_its_configuration():
    space = SearchSpace(**SMALL)
    config = expand(space)[7]
    data = load_data(space)
    first, again = run_trial(config, data), run_trial(config, data)
    assert comparable(first) == comparable(again)
    assert first["epochs_run"] == 3 and first["status"] == "ok"
    # The record's numbers are measured on the whole split, independently here:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        model = trial_module.build_model(config, data)
        model.fit(data.x_train, data.y_train, epochs=3, batch_size=32, verbose=0)
        loss, accuracy = model.evaluate(data.x_val, data.y_val, batch_size=len(data.x_val),
                                        verbose=0)
    assert first["final"]["val_loss"] == pytest.approx(loss, rel=1e-12)
    assert first["final"]["val_accuracy"] == pytest.approx(accuracy, rel=1e-12)


def test_one_worker_and_two_give_the_same_records(small_run, tmp_path):
    out, results = small_run
    serial = run_sweep(SearchSpace(**SMALL), str(tmp_path), workers=1, progress=False)
    assert len(results["trials"]) == 12 and results["missing"] == 0
    assert [comparable(r) for r in serial["trials"]] == [comparable(r) for r in results["trials"]]
    assert len({r["worker"] for r in results["trials"]}) == 2  # both workers did trials


def test_every_trial_is_recorded_once_in_the_order_of_the_space(small_run):
    out, results = small_run
    lines = _lines(out)
    ids = [trial_id(c) for c in expand(SearchSpace(**SMALL))]
    assert sorted(r["id"] for r in lines) == sorted(ids)
    assert [r["id"] for r in results["trials"]] == ids
    csv = pd.read_csv(os.path.join(out, "results.csv"))
    assert list(csv["id"]) == ids
    for row, rec in zip(csv.itertuples(), results["trials"], strict=True):
        assert row.final_train_loss == rec["final"]["train_loss"]  # exact: repr round-trips
        assert row.learning_rate == rec["config"]["learning_rate"]


def test_the_summary_and_the_figures_show_what_the_table_holds(small_run):
    out, results = small_run
    from descentlab.sweep.figures import best_figure, sensitivity_figure

    table = pd.read_csv(os.path.join(out, "results.csv"))
    means = table.groupby(["optimizer", "learning_rate"])[
        ["final_train_loss", "final_val_accuracy"]].mean()
    for name in ("sgd", "adam"):
        best_rate = means.loc[name]["final_train_loss"].idxmin()
        assert results["summary"]["optimizers"][name]["best"]["config"]["learning_rate"] == \
            best_rate
    from descentlab.plots.i18n import t

    whole_set = {"en": "whole training set", "ko": "훈련 세트 전체"}
    for lang in ("en", "ko"):
        fig = sensitivity_figure(results, lang)
        # The sweep's loss is the whole training set measured after the last epoch, not the
        # epoch's running mean the report's sensitivity figure plots: labelled as such.
        ylabel = fig.axes[0].get_ylabel()
        assert whole_set[lang] in ylabel and ylabel != t("sens.train_loss", lang)
        lines = {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}
        for name in ("sgd", "adam"):
            for metric in ("train_loss", "val_accuracy"):
                x, y = lines[f"{name}:{metric}"].get_data()
                expected = means.loc[name][f"final_{metric}"]
                assert np.array_equal(x, expected.index.to_numpy())
                assert np.allclose(y, expected.to_numpy(), rtol=1e-12, atol=0)
        fig = best_figure(results, lang)
        lines = {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}
        for name in ("sgd", "adam"):
            best_ids = results["summary"]["optimizers"][name]["best"]["ids"]
            runs = [r for r in results["trials"] if r["id"] in best_ids]
            _, y = lines[f"{name}:train_loss"].get_data()
            assert np.allclose(y, np.mean([r["epochs"]["train_loss"] for r in runs], axis=0))
    for name in ("sweep_sensitivity", "sweep_best"):
        path = os.path.join(out, f"{name}.png")
        with open(path, "rb") as stream:
            head = stream.read(8)
        assert head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 20_000


def _boom_on(rate):
    original = trial_module.build_model

    def build_model(config, data):
        if config["learning_rate"] == rate and config["optimizer"] == "adam":
            raise RuntimeError(f"boom at {rate}")
        return original(config, data)

    return build_model


def test_a_trial_that_raises_is_recorded_as_failed_and_the_sweep_goes_on(tmp_path, monkeypatch):
    # The pool forks, so the workers inherit the patched function.
    monkeypatch.setattr(trial_module, "build_model", _boom_on(0.1))
    results = run_sweep(SearchSpace(**SMALL), str(tmp_path), workers=2, progress=False)
    failed = [r for r in results["trials"] if r["status"] == "failed"]
    assert sorted(r["config"]["seed"] for r in failed) == [0, 1]
    assert all(r["error"] == "RuntimeError: boom at 0.1" and r["epochs_run"] == 0
               for r in failed)
    assert sum(r["status"] == "ok" for r in results["trials"]) == 10
    assert results["summary"]["trials"] == {"ok": 10, "stopped": 0, "failed": 2}
    rows = pd.read_csv(tmp_path / "results.csv")
    assert list(rows[rows.status == "failed"]["error"]) == ["RuntimeError: boom at 0.1"] * 2


def _dies_once(config, attempts):
    """The first attempt at sgd, rate 1, seed 0 kills its worker process outright."""
    marker = os.environ["SWEEP_TEST_MARKER"]
    if config["optimizer"] == "sgd" and config["learning_rate"] == 1.0 and config["seed"] == 0 \
            and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return _real_work(config, attempts)


_real_work = local_executor._work


def test_a_trial_whose_worker_dies_is_retried(small_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_TEST_MARKER", str(tmp_path / "died"))
    monkeypatch.setattr(local_executor, "_work", _dies_once)
    results = run_sweep(SearchSpace(**SMALL), str(tmp_path / "out"), workers=2, progress=False)
    assert (tmp_path / "died").exists()
    victim = [r for r in results["trials"] if r["config"]["optimizer"] == "sgd"
              and r["config"]["learning_rate"] == 1.0 and r["config"]["seed"] == 0]
    assert victim[0]["status"] == "ok" and victim[0]["attempts"] == 2
    assert [comparable(r) for r in results["trials"]] == \
        [comparable(r) for r in small_run[1]["trials"]]
    assert len(_lines(tmp_path / "out")) == 12


def test_a_pool_found_broken_when_a_trial_is_handed_over_loses_nothing(small_run, tmp_path,
                                                                       monkeypatch):
    """A worker can die between a trial's end and the next hand-over: then the pool refuses the
    next trial (BrokenProcessPool from submit). That trial waits for the next pool, the trials
    in flight end as they end, and every trial is recorded once (seen in CI as a traceback)."""
    from concurrent.futures.process import BrokenProcessPool

    real_submit = local_executor.ProcessPoolExecutor.submit
    calls: list[int] = []

    def submit_refusing_the_fifth(pool, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise BrokenProcessPool("a child process terminated abruptly")
        return real_submit(pool, *args, **kwargs)

    monkeypatch.setattr(local_executor.ProcessPoolExecutor, "submit", submit_refusing_the_fifth)
    results = run_sweep(SearchSpace(**SMALL), str(tmp_path / "out"), workers=2, progress=False)
    assert len(calls) == 13  # the refused trial was handed over again
    assert [comparable(r) for r in results["trials"]] == \
        [comparable(r) for r in small_run[1]["trials"]]
    assert len(_lines(tmp_path / "out")) == 12


def test_a_worker_that_always_dies_ends_as_a_failed_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_TEST_MARKER", str(tmp_path / "never"))
    monkeypatch.setattr(os.path, "exists", lambda path: False if "never" in str(path) else
                        os.path.lexists(path))
    monkeypatch.setattr(local_executor, "_work", _dies_once)
    results = run_sweep(SearchSpace(**SMALL), str(tmp_path / "out"), workers=2, retries=1,
                        progress=False, figures=False)
    failed = [r for r in results["trials"] if r["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"] == "WorkerDied: the process running this trial died 2 times"
    assert len(_lines(tmp_path / "out")) == 12


def test_an_interrupted_sweep_resumes_without_redoing_finished_trials(small_run, tmp_path):
    out = str(tmp_path / "out")
    argv = [sys.executable, "-m", "descentlab.cli", "sweep", "--optimizers", "sgd,adam",
            "--learning-rate", "0.01:1:3", "--width", "16", "--epochs", "3", "--seeds", "0,1",
            "--workers", "2", "--quiet", "--out", out]
    # Ctrl-C in a terminal signals the whole process group: the sweep and its workers.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, text=True)
    deadline = time.monotonic() + 60
    trials = os.path.join(out, "trials.jsonl")
    while time.monotonic() < deadline and process.poll() is None:
        if os.path.exists(trials) and len(_lines(out)) >= 2:
            break
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    before = _lines(out)
    assert process.returncode == 130, err
    assert "finished trials are recorded in" in err and "--resume" in err
    assert 2 <= len(before) < 12

    assert cli.main(["sweep", "--optimizers", "sgd,adam", "--learning-rate", "0.01:1:3",
                     "--width", "16", "--epochs", "3", "--seeds", "0,1", "--quiet",
                     "--out", out]) == 2  # a folder with a sweep needs --resume
    assert cli.main(["sweep", "--optimizers", "sgd,adam", "--learning-rate", "0.01:1:3",
                     "--width", "16", "--epochs", "3", "--seeds", "0,1", "--quiet",
                     "--out", out, "--resume"]) == 0
    after = _lines(out)
    assert after[:len(before)] == before  # finished trials were kept, not redone
    assert sorted(r["id"] for r in after) == sorted(r["id"] for r in small_run[1]["trials"])
    by_id = {r["id"]: r for r in after}
    assert [comparable(by_id[r["id"]]) for r in small_run[1]["trials"]] == \
        [comparable(r) for r in small_run[1]["trials"]]


def test_resume_refuses_another_space(small_run, capsys):
    out, _ = small_run
    status = cli.main(["sweep", "--optimizers", "sgd", "--quiet", "--out", out, "--resume"])
    assert status == 2
    assert capsys.readouterr().err.startswith(
        f"descentlab: error: --resume: {out!r} holds a sweep of another search space "
        "(differs in epochs, learning_rate, optimizer, width); use the same settings, or "
        "another --out.\n")


def test_the_store_writes_an_id_once_and_cuts_a_torn_last_line(tmp_path):
    store = TrialStore(str(tmp_path))
    record = {"id": "abc", "value": 1.5}
    assert store.append(record) is True
    assert store.append(dict(record, value=2.5)) is False
    with open(tmp_path / "trials.jsonl", "a", encoding="utf-8") as stream:
        stream.write('{"id": "def", "val')  # a crash in the middle of an append
    reopened = TrialStore(str(tmp_path))
    assert list(reopened.records()) == ["abc"] and len(reopened) == 1
    assert reopened.append({"id": "def", "value": 3.0}) is True
    assert [json.loads(line)["id"] for line in open(tmp_path / "trials.jsonl")] == ["abc", "def"]
