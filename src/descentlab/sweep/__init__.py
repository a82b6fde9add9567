"""Sweeps: many seeded trials over the engine's settings, on this machine or a Ray cluster.

::

    from descentlab import sweep

    space = sweep.SearchSpace(optimizer=["sgd", "adam"],
                              learning_rate={"low": 1e-4, "high": 1, "num": 9},
                              epochs=[20], seeds=[0, 1, 2])
    results = sweep.run_sweep(space, "sweep_results")            # local processes
    results = sweep.run_sweep(space, "sweep_results", executor="ray", resume=True)

Modules, one concept each: :mod:`~descentlab.sweep.space` (the search space and its trials),
:mod:`~descentlab.sweep.trial` (one trial, a pure function of its configuration),
:mod:`~descentlab.sweep.store` (the append-only record and the tables),
:mod:`~descentlab.sweep.local` and :mod:`~descentlab.sweep.ray_tune` (the executors),
:mod:`~descentlab.sweep.summary` and :mod:`~descentlab.sweep.figures` (what a learner reads),
:mod:`~descentlab.sweep.command` (``descentlab sweep``).
"""

import importlib
from typing import Any

_EXPORTS = {"SearchSpace": "space", "expand": "space", "trial_id": "space",
            "run_sweep": "run", "comparable": "run"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that `descentlab --help` does not import the engine.
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"descentlab.sweep.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'descentlab.sweep' has no attribute {name!r}")
