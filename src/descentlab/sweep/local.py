"""The default executor: trials on a pool of local processes, no Ray needed.

The same arrangement as the labs' runner (:mod:`descentlab.lab.runner`: forked workers, one
BLAS thread each, one worker per core by default, its progress bar), with what a sweep needs on
top: each record is handed to ``on_record`` the moment its trial ends (the store appends it),
not when the whole grid is done; a worker that dies (killed, out of memory) breaks the pool,
which is rebuilt, and the trials it was running are tried again — up to ``retries`` more times,
after which the trial is recorded as failed. A trial that raises is not a dead worker: it is
recorded as failed with its error at once (:func:`~descentlab.sweep.trial.run_trial`).

Early stopping is not done here: ASHA decides from the results of *other* trials as they come
in, and descentlab takes it from Ray Tune rather than writing it again (``--ray``).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from descentlab.lab.runner import Progress, default_workers
from descentlab.sweep.trial import Data, record, run_trial

_DATA: Data | None = None  # a worker's copy of the data, set once when it starts


def _start_worker(data: Data) -> None:
    global _DATA
    _DATA = data
    # Ctrl-C goes to the whole process group; the parent decides what happens to the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _work(config: dict[str, Any], attempts: int) -> dict[str, Any]:
    assert _DATA is not None, "the worker was started without its data"
    return run_trial(config, _DATA, attempts=attempts)


def _stop_workers() -> None:
    for child in multiprocessing.active_children():
        child.terminate()


def _collect(done: set[Future], running: dict[Future, Any],
             on_record: Callable[[dict[str, Any]], Any], bar: Progress) -> bool:
    """Record the trials of ``done`` that ended and take them out of ``running``; leave there
    those whose worker died (the pool broke under them). Returns whether any did."""
    died = False
    for future in done:
        try:
            result = future.result()
        except BrokenProcessPool:
            died = True  # among the trials the dead worker may have run
            continue
        del running[future]
        on_record(result)
        bar.update()
    return died


def run_local(configs: Sequence[dict[str, Any]], data: Data,
              on_record: Callable[[dict[str, Any]], Any], workers: int | None = None,
              retries: int = 2, progress: bool = True) -> None:
    """Run ``configs`` on ``workers`` processes, calling ``on_record(record)`` in this process
    as each trial ends (in the order they end)."""
    workers = default_workers() if workers is None else workers
    bar = Progress(len(configs), "sweep", enabled=progress)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    # (configuration, attempt, deaths, alone): a trial that was in flight when a worker died
    # is a suspect and runs alone next time; a death while it runs alone is its own.
    pending: deque[tuple[dict[str, Any], int, int, bool]] = deque(
        (c, 1, 0, False) for c in configs)
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=context,
                                   initializer=_start_worker, initargs=(data,))
        running: dict[Future, tuple[dict[str, Any], int, int, bool]] = {}
        try:
            broken = False
            while (pending or running) and not broken:
                # No more in flight than workers: when the pool breaks, the trials in flight
                # are the ones that were running.
                while pending and len(running) < workers and \
                        not (running and (pending[0][3] or any(a for *_, a in running.values()))):
                    try:
                        future = pool.submit(_work, pending[0][0], pending[0][1])
                    except BrokenProcessPool:  # a worker died since the last trial ended
                        broken = True
                        break
                    running[future] = pending.popleft()
                if not broken:
                    done = wait(running, return_when=FIRST_COMPLETED)[0]
                    broken = _collect(done, running, on_record, bar)
            if broken:
                # The others in flight end at once, with their result or as suspects.
                _collect(wait(running)[0], running, on_record, bar)
                suspects = list(running.values())
                running.clear()
                for config, attempt, deaths, _ in reversed(suspects):
                    if len(suspects) == 1:
                        deaths += 1  # it ran alone: the death was its own
                    if deaths > retries:
                        on_record(record(config, [], error="WorkerDied: the process running "
                                         f"this trial died {deaths} times", attempts=attempt))
                        bar.update()
                    else:  # when several ran, which one killed the worker is not known
                        pending.appendleft((config, attempt + 1, deaths, True))
        except BaseException:
            _stop_workers()  # Ctrl-C: what finished is recorded; the rest is for --resume
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True, cancel_futures=True)
