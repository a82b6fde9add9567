"""The scale-out executor: the same trials on a Ray cluster, scheduled by Ray Tune.

What Ray Tune does here, and descentlab does not write again:

* **scheduling** trials onto the cluster's CPUs, one CPU a trial, ``max_concurrent_trials``
  at once (``--workers``), on as many machines as the cluster has;
* **early stopping** of bad trials with ASHA (:class:`ray.tune.schedulers.ASHAScheduler`,
  asynchronous successive halving): after ``grace_period`` epochs, and then at every rung
  ``grace_period·η^k``, a trial whose metric is not in the best 1/η of the trials that reached
  that rung is stopped;
* **retrying** a trial whose worker process or node dies (``FailureConfig(max_failures)``).

The search itself is *not* Tune's: the trials are the list :func:`~descentlab.sweep.space.expand`
made, passed as one ``grid_search`` over whole configurations, so Ray runs exactly the trials
the local pool would. Each trial reports its measurements after every epoch; a callback in
this (the driver) process collects them and writes the record the moment the trial ends —
built by the same :func:`~descentlab.sweep.trial.record` as on the local pool, so the records
are equal field for field (time and place aside). Resuming is descentlab's store, not Tune's
experiment restore: a sweep begun on the local pool can be finished on a cluster.

Ray binds its services to the address it is given. Started here (``--ray``), that is always
127.0.0.1; a cluster of several machines is started with Ray's own ``ray start`` (or KubeRay,
or a SLURM script) and joined with ``--ray-address HEAD:6379``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

from descentlab.errors import ConfigError
from descentlab.sweep.space import SearchSpace
from descentlab.sweep.trial import Data, describe_error, record, train

INSTALL = "pip install 'descentlab[ray]'"
_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


#: Ray turns the node address 127.0.0.1 into the machine's interface address unless it is
#: told that this is no cluster (the switch it has for laptops); with it, a node started here
#: binds all of its services to 127.0.0.1. Read once, when ``ray`` is imported.
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def loopback_only() -> None:
    """Make the Ray nodes this process starts bind to 127.0.0.1 only (before importing ray)."""
    os.environ[LOOPBACK_SWITCH] = "0"


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse, in a sentence, a cluster address where nothing answers: ``ray.init`` would retry
    it for minutes, printing warnings. ``"auto"`` (the cluster started on this machine) is
    Ray's to find; ``HOST:PORT`` and ``ray://HOST:PORT`` are tried with one TCP connection."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--ray-address must be 'auto' or HOST:PORT (the head's port, 6379 "
                          f"unless it was started with another); got {address!r}.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"no Ray cluster answers at {address} ({reason}); start one with "
                          "`ray start --head --node-ip-address=127.0.0.1` and pass the address "
                          "it prints, or use --ray to start one on this machine.") from None


def require_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the install command."""
    try:
        import ray
        from ray import tune  # noqa: F401  (Tune is a separate extra of Ray)
    except ImportError:
        raise ConfigError(f"Ray (with Tune) is not installed; to run sweeps on Ray: "
                          f"{INSTALL}") from None
    return ray


def _tune_trial(param: dict[str, Any], data: Data, every_epoch: bool) -> None:
    """A Tune function trainable: one trial. With early stopping it reports after every epoch
    (ASHA decides at the rungs); without, once at the end with every epoch's numbers — each
    report is a round trip to the driver, and a sweep of short trials is made of them."""
    from ray import tune

    def report(epoch: int, metrics: dict[str, float]) -> bool:
        tune.report({"epoch": epoch, **metrics})
        return False  # Tune stops a trial by ending this function, not by an answer

    config = param["trial"]
    epochs: list[dict[str, float]] = []
    try:
        train(config, data, epochs, report if every_epoch else None)
    except Exception as exc:  # a trial that raises is recorded, not retried
        tune.report({"error": describe_error(exc), "all_epochs": epochs})
        return
    if not every_epoch:
        tune.report({"all_epochs": epochs})


def _recorder(on_record: Callable[[dict[str, Any]], Any], progress: Any) -> Any:
    from ray.tune import Callback

    class Recorder(Callback):
        """Collects each trial's per-epoch reports; writes its record when it ends."""

        def __init__(self, on_record: Callable[[dict[str, Any]], Any], progress: Any) -> None:
            self.on_record, self.progress = on_record, progress
            self.epochs: dict[str, list[dict[str, float]]] = {}
            self.errors: dict[str, str] = {}
            self.attempts: dict[str, int] = {}
            self.last: dict[str, dict[str, Any]] = {}

        def __getstate__(self) -> dict[str, Any]:
            # Tune pickles its callbacks with the experiment's state; the store and the
            # progress bar belong to this process (and resuming is the store's job).
            return {k: v for k, v in self.__dict__.items() if k not in ("on_record", "progress")}

        def on_trial_result(self, iteration: int, trials: list, trial: Any,
                            result: dict[str, Any], **info: Any) -> None:
            key = trial.trial_id
            if "error" in result:
                self.errors[key] = result["error"]
            if "all_epochs" in result:
                self.epochs[key] = [dict(e) for e in result["all_epochs"]]
            elif "epoch" in result:
                if result["epoch"] == 1:  # a retried trial starts again from its first epoch
                    self.epochs[key] = []
                self.epochs.setdefault(key, []).append({m: result[m] for m in _METRICS})
            self.last[key] = result

        def on_trial_recover(self, iteration: int, trials: list, trial: Any,
                             **info: Any) -> None:
            self.attempts[trial.trial_id] = self.attempts.get(trial.trial_id, 1) + 1
            self.epochs.pop(trial.trial_id, None)

        def _finish(self, trial: Any, error: str | None = None) -> None:
            key = trial.trial_id
            last = self.last.get(key, {})
            config = trial.config["trial"]
            self.on_record(record(config, self.epochs.get(key, []),
                             error=self.errors.get(key, error),
                             stopped=True, seconds=float(last.get("time_total_s", 0.0)),
                             attempts=self.attempts.get(key, 1),
                             worker=f"{last.get('node_ip', '?')}:{last.get('pid', '?')}"))
            self.progress.update()

        def on_trial_complete(self, iteration: int, trials: list, trial: Any,
                              **info: Any) -> None:
            self._finish(trial)

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            attempts = self.attempts.get(trial.trial_id, 1)
            self._finish(trial, f"WorkerDied: the worker running this trial failed {attempts} "
                                "times")

    return Recorder(on_record, progress)


def run_ray(configs: Sequence[dict[str, Any]], data: Data, space: SearchSpace,
            on_record: Callable[[dict[str, Any]], Any], *, address: str | None = None,
            workers: int | None = None, retries: int = 2, storage: str,
            progress: bool = True) -> None:
    """Run ``configs`` with Ray Tune, calling ``on_record`` (here, in the driver) as each
    trial ends. ``address``: a running cluster (``"auto"`` or ``HOST:PORT``); ``None``
    starts one on this machine, bound to 127.0.0.1, and stops it afterwards. A Ray already
    initialised in this process (a notebook, a test) is used as it is."""
    ray = require_ray()
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from descentlab.lab.runner import Progress, default_workers

    # Tune's own per-trial log files (JSON, CSV, TensorBoard) duplicate trials.jsonl; off.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    # Tune's console tables: with the classic reporter, verbose=0 prints none.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    started_here = False
    if not ray.is_initialized():
        if address is None:
            ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                     num_cpus=workers or default_workers(), log_to_driver=False,
                     logging_level=logging.ERROR)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        started_here = True
    try:
        if address is None and ray.util.get_node_ip_address() != "127.0.0.1":
            raise ConfigError(f"Ray started on {ray.util.get_node_ip_address()}, not on "
                              f"127.0.0.1: ray was imported before {LOOPBACK_SWITCH}=0 was set; "
                              "start the cluster with `ray start --head "
                              "--node-ip-address=127.0.0.1` and pass --ray-address.")
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        scheduler = None
        if space.early_stopping:
            scheduler = ASHAScheduler(time_attr="training_iteration", metric=space.metric,
                                      mode=space.mode, max_t=max(space.epochs),
                                      grace_period=space.grace_period,
                                      reduction_factor=space.reduction_factor)
        bar = Progress(len(configs), "sweep (ray)", enabled=progress)
        trainable = tune.with_resources(tune.with_parameters(
            _tune_trial, data=data, every_epoch=space.early_stopping), {"cpu": 1})
        tuner = tune.Tuner(
            trainable, param_space={"trial": tune.grid_search(list(configs))},
            tune_config=tune.TuneConfig(scheduler=scheduler, max_concurrent_trials=workers,
                                        reuse_actors=True),
            run_config=tune.RunConfig(
                name="sweep", storage_path=os.path.abspath(storage), verbose=0,
                failure_config=tune.FailureConfig(max_failures=retries),
                callbacks=[_recorder(on_record, bar)]))
        quiet = [logging.getLogger(name) for name in ("ray.tune", "ray.train", "ray.air")]
        levels = [logger.level for logger in quiet]
        for logger in quiet:  # Tune's progress tables and notes; the bar says enough
            logger.setLevel(logging.ERROR)
        try:
            tuner.fit()
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)
    finally:
        if started_here:
            ray.shutdown()
