"""Independent, seeded trials run in parallel across CPU cores, with a progress bar.

A trial is a top-level function of one JSON-able configuration that returns a JSON-able dict;
it draws every random number from the seed in its configuration, so its result depends on
nothing else — not the order trials run in, not which process runs it, not how many workers
there are. That is what lets a grid run here on two cores or, later, on a distributed executor.

BLAS is limited to one thread inside every trial (serial or parallel alike): the summation order
of a matrix product can depend on the thread count, and determinism means bit-identical results.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from descentlab.errors import ConfigError


def default_workers() -> int:
    """One worker per CPU core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Progress:
    """A one-line progress bar on stderr: ``label  ████████░░░░  12/48  3.1 s``.

    Redrawn in place on a terminal; elsewhere (a log, CI) one line at 25 %, 50 %, 75 % and 100 %.
    """

    def __init__(self, total: int, label: str, stream: Any = None, enabled: bool = True) -> None:
        self.total, self.label = int(total), label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.total > 0
        self.done = 0
        self.started = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._quarters_shown = 0
        if self.enabled and self._tty:
            self._draw()

    def _line(self) -> str:
        width = 24
        filled = int(width * self.done / self.total)
        bar = "█" * filled + "░" * (width - filled)
        elapsed = time.perf_counter() - self.started
        return f"{self.label}  {bar}  {self.done}/{self.total}  {elapsed:.1f} s"

    def _draw(self) -> None:
        self.stream.write("\r" + self._line())
        self.stream.flush()

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._tty:
            self._draw()
            if self.done >= self.total:
                self.stream.write("\n")
                self.stream.flush()
            return
        quarter = 4 * self.done // self.total
        if quarter > self._quarters_shown:
            self._quarters_shown = quarter
            self.stream.write(self._line() + "\n")
            self.stream.flush()


def _limit_blas_threads() -> None:
    # threadpoolctl comes with scikit-learn (a runtime dependency), so this costs nothing extra.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _run_one(trial: Callable[[dict], dict], config: dict) -> dict:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return trial(config)


#: The pool of :func:`shared_pool` while its block runs (None otherwise).
_shared: ProcessPoolExecutor | None = None


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # fork is cheap and shares the imported engine; trials are pure functions of their
    # configuration, so nothing a child inherits changes a result.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_limit_blas_threads)


@contextlib.contextmanager
def shared_pool(workers: int | None = None) -> Iterator[bool]:
    """Within the block, every :func:`run_trials` with more than one worker — from any
    thread — sends its trials to one pool of ``workers`` processes, so that experiments run
    side by side (in threads) fill the workers together instead of each waiting for its own
    slowest trial. Yields whether there is such a pool (not with one worker).

    The pool's processes are started before the block, while this is the only thread: a
    process forked while other threads run could inherit a lock one of them holds.
    """
    global _shared
    workers = default_workers() if workers is None else workers
    if workers == 1 or _shared is not None:
        yield _shared is not None
        return
    pool = _new_pool(workers)
    try:
        pool.submit(os.getpid).result()  # starts every worker process now
        _shared = pool
        yield True
    finally:
        _shared = None
        pool.shutdown(wait=True, cancel_futures=True)


def sharing() -> bool:
    """Whether :func:`run_trials` sends trials to a :func:`shared_pool` now (other
    experiments then keep the workers busy: an experiment need not split its work to)."""
    return _shared is not None


def run_trials(trial: Callable[[dict], dict], configs: Sequence[dict], workers: int | None = None,
               progress: bool = True, label: str = "trials") -> list[dict]:
    """``[trial(c) for c in configs]``, run on ``workers`` processes (default: one per core).

    Results come back in the order of ``configs`` whatever order the trials finish in.
    ``workers=1`` runs everything in this process (handy under a debugger). Inside
    :func:`shared_pool` the trials go to its pool.
    """
    configs = list(configs)
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a positive integer; got {workers!r}.")
    bar = Progress(len(configs), label, enabled=progress)
    # In a shared pool even one trial goes to a worker: this thread is not the only one, and
    # a trial sets the process's random seed and precision.
    shared = _shared if workers > 1 else None
    workers = min(workers, len(configs)) if configs else 1
    if workers == 1 and shared is None:
        in_order = []
        for config in configs:
            in_order.append(_run_one(trial, config))
            bar.update()
        return in_order
    results: list[dict | None] = [None] * len(configs)
    with contextlib.ExitStack() as stack:
        pool = shared if shared is not None else stack.enter_context(_new_pool(workers))
        futures = {pool.submit(trial, config): i for i, config in enumerate(configs)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
        finally:
            for future in futures:  # a failed trial (or Ctrl-C) leaves no work queued
                future.cancel()
    return [result for result in results if result is not None]  # every slot is filled
