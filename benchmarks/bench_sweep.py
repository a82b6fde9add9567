"""A 96-trial sweep on the local pool and on Ray Tune, with 1 and 2 workers.

    python benchmarks/bench_sweep.py [--epochs 40] [--out /tmp/bench_sweep]

The sweep: 4 optimizers (sgd, momentum, rmsprop, adam) × 6 learning rates (1e-3 … 1, log
scale) × 4 seeds = 96 trials of a Dense(32, relu) network on digits. It runs four times — local
pool and Ray (a cluster on 127.0.0.1, started once and reused), each with 1 and 2 workers —
and prints for each the wall-clock time, trials per second, the scaling from 1 to 2 workers,
and Ray's overhead per trial: (Ray's time − the local pool's time) × workers / trials, the
worker-seconds Ray spends on a trial besides training it (scheduling, an actor per trial,
reporting every epoch to the driver). It also checks that the four runs recorded the same
numbers. Ray's start-up (once per cluster) is shown apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_labs import reexec_without_blas_env  # noqa: E402

MARKER = "DESCENTLAB_BENCH_SWEEP_REEXEC"


def main() -> None:
    removed = reexec_without_blas_env(MARKER)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default="/tmp/bench_sweep")
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args()

    from descentlab.sweep import SearchSpace, comparable, run_sweep
    from descentlab.sweep.ray_tune import loopback_only

    space = SearchSpace(optimizer=["sgd", "momentum", "rmsprop", "adam"],
                        learning_rate={"low": 1e-3, "high": 1.0, "num": 6}, width=[32],
                        epochs=[args.epochs], seeds=[0, 1, 2, 3])
    shutil.rmtree(args.out, ignore_errors=True)
    print(f"96-trial sweep, {args.epochs} epochs a trial, {os.cpu_count()} cores"
          + (f" (without {', '.join(removed)})" if removed else ""))

    runs: dict[tuple[str, int], tuple[float, list]] = {}
    for workers in (1, 2):
        started = time.perf_counter()
        results = run_sweep(space, os.path.join(args.out, f"local{workers}"), workers=workers,
                            progress=False, figures=False)
        runs[("local", workers)] = (time.perf_counter() - started, results["trials"])

    loopback_only()
    import ray

    started = time.perf_counter()
    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
             num_cpus=2, log_to_driver=False, logging_level="ERROR")
    ray_start = time.perf_counter() - started
    try:
        for workers in (1, 2):
            started = time.perf_counter()
            results = run_sweep(space, os.path.join(args.out, f"ray{workers}"),
                                executor="ray", workers=workers, progress=False, figures=False)
            runs[("ray", workers)] = (time.perf_counter() - started, results["trials"])
    finally:
        ray.shutdown()

    reference = [comparable(r) for r in runs[("local", 1)][1]]
    same = all([comparable(r) for r in trials] == reference for _, trials in runs.values())
    train_seconds = sum(r["seconds"] for r in runs[("local", 1)][1])
    print(f"\nRay start-up (a cluster on 127.0.0.1, once): {ray_start:.1f} s; training alone "
          f"(sum of the trials' own times, local, 1 worker): {train_seconds:.1f} s\n")
    print(f"{'executor':<9}{'workers':>8}{'seconds':>9}{'trials/s':>10}{'speed-up':>10}"
          f"{'overhead/trial':>16}")
    for (executor, workers), (seconds, trials) in runs.items():
        speedup = runs[(executor, 1)][0] / seconds
        overhead = ""
        if executor == "ray":
            local_seconds = runs[("local", workers)][0]
            overhead = f"{(seconds - local_seconds) * workers / len(trials):.2f} s"
        print(f"{executor:<9}{workers:>8}{seconds:>9.1f}{len(trials) / seconds:>10.2f}"
              f"{speedup:>9.2f}×{overhead:>16}")
    print(f"\nsame numbers on all four runs: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
