"""The runner: trials in worker processes, in order, and one pool shared by experiments that
run side by side (the report's stages)."""

from __future__ import annotations

import os
import threading

import pytest

from descentlab.lab import runner


def square(config: dict) -> dict:
    if config["x"] < 0:
        raise ValueError(f"negative x {config['x']}")
    return {"x": config["x"], "square": config["x"] ** 2, "pid": os.getpid()}


def test_results_come_back_in_order_from_worker_processes() -> None:
    configs = [{"x": x} for x in range(7)]
    results = runner.run_trials(square, configs, workers=2, progress=False)
    assert [r["square"] for r in results] == [x * x for x in range(7)]
    assert os.getpid() not in {r["pid"] for r in results}
    alone = runner.run_trials(square, configs, workers=1, progress=False)
    assert {r["pid"] for r in alone} == {os.getpid()}  # one worker: this process


def test_a_shared_pool_serves_every_thread_and_even_a_single_trial() -> None:
    got: dict[int, list[dict]] = {}

    def experiment(k: int) -> None:
        configs = [{"x": 10 * k + i} for i in range(k + 1)]  # 1, 2 and 3 trials
        got[k] = runner.run_trials(square, configs, workers=2, progress=False)

    with runner.shared_pool(2) as shared:
        assert shared
        pids = set(runner._shared._processes)  # the pool's worker processes, started already
        threads = [threading.Thread(target=experiment, args=(k,)) for k in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert runner._shared is None
    for k in range(3):
        assert [r["square"] for r in got[k]] == [(10 * k + i) ** 2 for i in range(k + 1)]
        # A single trial too runs in the pool, never in the thread that asked: a trial sets
        # the process's seed and precision, which the other threads share.
        assert {r["pid"] for r in got[k]} <= pids and os.getpid() not in pids


def test_a_failing_trial_raises_and_the_shared_pool_goes_on() -> None:
    with runner.shared_pool(2):
        with pytest.raises(ValueError, match="negative x -1"):
            runner.run_trials(square, [{"x": 1}, {"x": -1}, {"x": 2}], workers=2,
                              progress=False)
        again = runner.run_trials(square, [{"x": 3}], workers=2, progress=False)
    assert again[0]["square"] == 9


def test_one_worker_shares_no_pool() -> None:
    with runner.shared_pool(1) as shared:
        assert not shared and runner._shared is None
        results = runner.run_trials(square, [{"x": 2}], workers=1, progress=False)
    assert results[0]["pid"] == os.getpid()
