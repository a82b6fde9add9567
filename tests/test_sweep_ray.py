"""Sweeps on a real Ray cluster, started by this module on 127.0.0.1 and shared by its tests."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import threading
import time

import pytest

from descentlab.sweep import SearchSpace, comparable, run_sweep
from descentlab.sweep.ray_tune import loopback_only

loopback_only()  # before ray is imported: its nodes then bind 127.0.0.1 only
ray = pytest.importorskip("ray", reason="Ray is in the test extra: pip install -e '.[test]'")
psutil = pytest.importorskip("psutil")

SMALL = dict(optimizer=["sgd", "adam"], learning_rate={"low": 0.01, "high": 1.0, "num": 3},
             width=[16], epochs=[3], seeds=[0, 1])


@pytest.fixture(scope="module")
def cluster():
    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
             num_cpus=2, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_small(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("local"))
    return run_sweep(SearchSpace(**SMALL), out, workers=2, progress=False, figures=False)


def _ray_processes():
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            text = " ".join(process.info["cmdline"] or []) + " " + (process.info["name"] or "")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "ray::" in text or "raylet" in text or "gcs_server" in text:
            found.append(process)
    return found


def test_ray_listens_on_the_loopback_address_only(cluster):
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    listening = []
    for process in _ray_processes():
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        listening += [c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN]
    assert listening, "no Ray process listens at all?"
    for text in listening:  # 127.0.0.1, or the same written as IPv6 (::ffff:127.0.0.1)
        address = ipaddress.ip_address(text)
        address = getattr(address, "ipv4_mapped", None) or address
        assert address == ipaddress.ip_address("127.0.0.1"), listening


def test_the_same_sweep_gives_the_same_records_on_ray_and_on_the_local_pool(
        cluster, local_small, tmp_path):
    on_ray = run_sweep(SearchSpace(**SMALL), str(tmp_path), executor="ray", workers=2,
                       progress=False)
    assert [comparable(r) for r in on_ray["trials"]] == \
        [comparable(r) for r in local_small["trials"]]
    assert all(r["worker"].startswith("127.0.0.1:") for r in on_ray["trials"])
    assert os.path.getsize(tmp_path / "sweep_sensitivity.png") > 20_000


def test_a_killed_ray_worker_is_retried_and_every_trial_is_recorded_once(
        cluster, local_small, tmp_path):
    # About a second a trial (300 epochs: at 20, a trial took 60 ms on a fast machine, and the
    # kill could land between two trials, where there is nothing to retry); the kill comes
    # just after the first trial ended, when the trials then running have reported some
    # epochs (which the retry must not add to).
    epochs = 300
    space = dict(SMALL, epochs=[epochs])
    killed: list[int] = []

    def kill_a_running_trial():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            path = tmp_path / "trials.jsonl"
            if path.exists() and path.read_text().count("\n") >= 1:
                # A trial actor that is training (busy: over 10 % of a core even on a loaded
                # machine), not one idle between two trials.
                actors = [p for p in _ray_processes() if "ImplicitFunc" in " ".join(p.cmdline())]
                for actor in actors:
                    actor.cpu_percent(None)
                time.sleep(0.3)
                busy = [a for a in actors if a.is_running() and a.cpu_percent(None) > 10]
                if busy:
                    os.kill(busy[0].pid, signal.SIGKILL)
                    killed.append(busy[0].pid)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_running_trial)
    killer.start()
    results = run_sweep(SearchSpace(**space), str(tmp_path), executor="ray", workers=2,
                        progress=False, figures=False)
    killer.join()
    assert killed, "no trial process was found to kill"
    assert max(r["attempts"] for r in results["trials"]) == 2  # the killed trial ran again
    resumed = run_sweep(SearchSpace(**space), str(tmp_path), executor="ray", workers=2,
                        resume=True, progress=False, figures=False)
    assert resumed["timings"]["ran"] == 0
    lines = [json.loads(line) for line in open(tmp_path / "trials.jsonl", encoding="utf-8")]
    assert len(lines) == 12 and len({r["id"] for r in lines}) == 12
    unfinished = [(r["id"], r["status"], r["epochs_run"], r["attempts"], r.get("error"))
                  for r in lines if not (r["status"] == "ok" and r["epochs_run"] == epochs)]
    assert not unfinished, unfinished  # (what happened, if a retry did not finish a trial)
    # Its first three epochs are the 3-epoch local sweep's, number for number.
    short = {json.dumps(dict(r["config"], epochs=epochs), sort_keys=True): r
             for r in local_small["trials"]}
    for rec in lines:
        reference = short[json.dumps(rec["config"], sort_keys=True)]
        for metric, values in rec["epochs"].items():
            assert values[:3] == reference["epochs"][metric]


def test_asha_stops_bad_trials_early_and_their_epochs_are_the_full_runs(
        cluster, local_small, tmp_path):
    space = dict(SMALL, seeds=[0], early_stopping=True, grace_period=1, reduction_factor=2)
    results = run_sweep(SearchSpace(**space), str(tmp_path), executor="ray",
                        workers=2, progress=False, figures=False)
    stopped = [r for r in results["trials"] if r["status"] == "stopped"]
    assert stopped, "ASHA stopped no trial"
    assert all(r["epochs_run"] < 3 for r in stopped)
    full = {r["id"]: r for r in local_small["trials"]}
    for rec in results["trials"]:
        n = rec["epochs_run"]
        for metric, values in rec["epochs"].items():
            assert values == full[rec["id"]]["epochs"][metric][:n]
