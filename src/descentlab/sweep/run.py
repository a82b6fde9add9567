"""A sweep from start to end: check the space, run the missing trials, write the results.

::

    space ──check──► trials (expand) ──minus those in trials.jsonl──► executor
                                                                      │ each trial, as it ends
    results.json, results.csv, figures ◄──summary── trials.jsonl ◄───┘ (appended at once)

The executor is the local pool (default) or Ray Tune; both call back with records built the
same way, so the files do not say which one ran a trial except in its ``worker`` field.
"""

from __future__ import annotations

import os
import time
from typing import Any

from descentlab.errors import ConfigError
from descentlab.lab.networks import check_size
from descentlab.lab.results import prepare_folder
from descentlab.sweep import space as spaces
from descentlab.sweep.store import SCHEMA, TrialStore, write_state, write_tables
from descentlab.sweep.trial import CIRCUMSTANTIAL, load_data

EXECUTORS = ("local", "ray")


def assemble(space: spaces.SearchSpace, records: dict[str, dict[str, Any]],
             configs: list[dict[str, Any]], timings: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """The results document: the space, every recorded trial in the space's order, the
    summary (``"schema": "descentlab.sweep/1"``)."""
    from descentlab import __version__
    from descentlab.sweep.summary import summarize

    ids = [spaces.trial_id(c) for c in configs]
    trials = [records[i] for i in ids if i in records]
    return {"schema": SCHEMA, "version": __version__, "space": space.to_dict(),
            "trials": trials, "missing": len(ids) - len(trials),
            "summary": summarize(trials, space.metric, space.mode, space.optimizer),
            "timings": timings or {}}


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the fields that depend on where and when it ran."""
    return {k: v for k, v in record.items() if k not in CIRCUMSTANTIAL}


def run_sweep(space: spaces.SearchSpace, out: str, *, executor: str = "local",
              workers: int | None = None, ray_address: str | None = None,
              resume: bool = False, retries: int = 2, progress: bool = True,
              lang: str = "en", figures: bool = True) -> dict[str, Any]:
    """Run the trials of ``space`` not yet recorded in ``out`` and return the results.

    ``executor``: ``"local"`` (a process pool, ``workers`` processes) or ``"ray"`` (Ray Tune;
    ``ray_address`` a running cluster, ``None`` one started on 127.0.0.1 for the run).
    ``resume``: continue the sweep recorded in ``out`` (the same space) instead of refusing
    a folder that already holds one.
    """
    space = spaces.check(space)
    if executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}; got {executor!r}.")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ConfigError(f"workers must be a positive integer; got {workers!r}.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a whole number ≥ 0; got {retries!r}.")
    if space.early_stopping and executor == "local":
        raise ConfigError("early stopping (ASHA) is Ray Tune's: add --ray (a cluster on this "
                          "machine) or --ray-address ADDRESS; the local pool runs every trial to "
                          "its last epoch.")
    if executor == "ray":
        from descentlab.sweep.ray_tune import check_reachable, loopback_only, require_ray

        if ray_address is None:
            loopback_only()
        require_ray()  # before any work, so that a missing Ray is the first thing said
        if ray_address is not None:
            check_reachable(ray_address)  # Ray itself retries an absent head for minutes
    data = load_data(space)
    for depth in space.depth:
        for width in space.width:
            check_size(data.x_train.shape[1], [width] * depth, data.classes)
    prepare_folder(out)
    configs = spaces.expand(space)
    write_state(out, space.to_dict(), [spaces.trial_id(c) for c in configs], resume)
    store = TrialStore(out)
    todo = [c for c in configs if spaces.trial_id(c) not in store]
    started = time.perf_counter()
    if todo and executor == "local":
        from descentlab.sweep.local import run_local

        run_local(todo, data, store.append, workers=workers, retries=retries, progress=progress)
    elif todo:
        from descentlab.sweep.ray_tune import run_ray

        run_ray(todo, data, space, store.append, address=ray_address, workers=workers,
                retries=retries, storage=os.path.join(out, "ray_results"), progress=progress)
    timings = {"seconds": time.perf_counter() - started, "ran": len(todo),
               "executor": executor, "workers": workers}
    results = assemble(space, store.records(), configs, timings)
    write_tables(out, results)
    if figures:
        from descentlab.sweep.figures import write_figures

        results["figures"] = write_figures(results, out, lang)
    return results
