"""Many small networks at once, and one network's training step: descentlab against JAX
``vmap`` + ``jit``, ``torch.func.vmap`` and hand-written NumPy, in one run.

The network of issue 12: 64 → 32 (ReLU) → 10 (softmax), cross-entropy, plain SGD (learning rate
0.01), float32, batch 32, on scikit-learn's digits (1,797 × 64). Each framework runs in its own
process (its own thread pools), with one BLAS / intra-op thread, and is timed over whole runs of
``--steps`` steps after a warm-up. The processes of a table are started together and take turns,
one run each per round (the order rotated every round), so that every round times them all
within seconds of each other on a machine whose speed drifts: a figure is the median of
``--rounds`` rounds, a ratio the median of the same-round ratios (with their range).

Populations (K = ``--members`` networks, each with its own initial weights and batch order):

- ``numpy-batched``: the training step written by hand on stacked arrays (K, ·, ·), one
  ``np.matmul`` per layer — the floor for any NumPy engine;
- ``jax-vmap-jit``: ``jax.jit(jax.vmap(step))`` over the members' parameters and batches;
- ``torch-func-vmap``: ``torch.func.vmap(torch.func.grad(loss))`` with ``functional_call``, eager;
- ``descentlab-population``: ``Population.from_seeds(make, range(K)).fit(x, y, batch_size=32,
  epochs=…)`` — the engine's own layers, loss and SGD on the stacked members, shuffled, with
  each member's loss and History;

reported in µs per member-step (one member's one step). One network:

- ``numpy-loop``: the same step by hand on 2-D arrays;
- ``descentlab-fit``: ``Sequential.fit(x, y, batch_size=32, epochs=…, verbose=0)``, shuffled;
- ``torch-eager``: ``nn.Sequential`` + ``optim.SGD``, the usual loop;

reported in µs per step.

Usage::

    python benchmarks/bench_population.py              # about a minute
    python benchmarks/bench_population.py --quick      # smoke run
    python benchmarks/bench_population.py --rows single --rounds 15   # one network only
    python benchmarks/bench_population.py --json out.json

Needs the test environment plus JAX (``pip install jax``; the row is skipped with a note when it
is missing). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, where set, are removed for this script's
processes (re-executed without them before NumPy loads); the BLAS that ran is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_labs import reexec_without_blas_env  # noqa: E402

MARKER = "DESCENTLAB_BENCH_POPULATION_UNSET"
WIDTHS = (64, 32, 10)
BATCH = 32
LEARNING_RATE = 0.01
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
POPULATION_WORKERS = ("numpy-batched", "jax-vmap-jit", "torch-func-vmap",
                      "descentlab-population")
SINGLE_WORKERS = ("numpy-loop", "descentlab-fit", "torch-eager")


# ---------------------------------------------------------------------------------------------
# Shared pieces (worker side).
# ---------------------------------------------------------------------------------------------
def digits():
    import numpy as np

    from descentlab import datasets

    x, y = datasets.load_digits()
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)


def glorot(rng, fan_in: int, fan_out: int, members: int | None = None):
    import numpy as np

    limit = np.sqrt(6.0 / (fan_in + fan_out))
    shape = (fan_in, fan_out) if members is None else (members, fan_in, fan_out)
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def batch_indices(rng, n: int, steps: int, members: int):
    """(steps, members, BATCH) sample indices: each member walks its own permutations."""
    import numpy as np

    per_epoch = n // BATCH
    out = np.empty((steps, members, BATCH), dtype=np.int64)
    for k in range(members):
        done = 0
        while done < steps:
            order = rng.permutation(n)[: per_epoch * BATCH].reshape(per_epoch, BATCH)
            take = min(per_epoch, steps - done)
            out[done:done + take, k] = order[:take]
            done += take
    return out


# ---------------------------------------------------------------------------------------------
# Populations.
# ---------------------------------------------------------------------------------------------
def numpy_batched(members: int, steps: int):
    """Returns run(): ``steps`` SGD steps of all members, by hand on stacked arrays."""
    import numpy as np

    x, y = digits()
    rng = np.random.default_rng(0)
    w1, w2 = glorot(rng, 64, 32, members), glorot(rng, 32, 10, members)
    b1 = np.zeros((members, 1, 32), np.float32)
    b2 = np.zeros((members, 1, 10), np.float32)
    idx = batch_indices(rng, len(x), steps, members)
    onehot = np.eye(10, dtype=np.float32)[y]
    lr = np.float32(LEARNING_RATE)

    def run() -> None:
        for s in range(steps):
            xb, tb = x[idx[s]], onehot[idx[s]]                 # (K, B, 64), (K, B, 10)
            z1 = xb @ w1 + b1
            h = np.maximum(z1, 0)
            z2 = h @ w2 + b2
            z2 -= z2.max(axis=-1, keepdims=True)
            p = np.exp(z2)
            p /= p.sum(axis=-1, keepdims=True)
            g2 = (p - tb) / BATCH
            gh = g2 @ w2.transpose(0, 2, 1)
            gh *= z1 > 0
            w2[...] -= lr * (h.transpose(0, 2, 1) @ g2)
            b2[...] -= lr * g2.sum(axis=1, keepdims=True)
            w1[...] -= lr * (xb.transpose(0, 2, 1) @ gh)
            b1[...] -= lr * gh.sum(axis=1, keepdims=True)

    return run


def jax_vmap_jit(members: int, steps: int):
    import jax
    import jax.numpy as jnp
    import numpy as np

    x, y = digits()
    rng = np.random.default_rng(0)
    params = {"w1": jnp.asarray(glorot(rng, 64, 32, members)),
              "b1": jnp.zeros((members, 32), jnp.float32),
              "w2": jnp.asarray(glorot(rng, 32, 10, members)),
              "b2": jnp.zeros((members, 10), jnp.float32)}
    idx = batch_indices(rng, len(x), steps, members)
    xs, ys = jnp.asarray(x), jnp.asarray(y)

    def loss(p, xb, yb):
        h = jax.nn.relu(xb @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], 1))

    def step(p, xb, yb):
        g = jax.grad(loss)(p, xb, yb)
        return jax.tree_util.tree_map(lambda a, b: a - LEARNING_RATE * b, p, g)

    batched = jax.jit(jax.vmap(step))
    batches = [(xs[idx[s]], ys[idx[s]]) for s in range(steps)]
    state = {"p": params}
    jax.block_until_ready(batched(params, *batches[0]))   # compile outside the timing

    def run() -> None:
        p = state["p"]
        for xb, yb in batches:
            p = batched(p, xb, yb)
        jax.block_until_ready(p)
        state["p"] = p

    return run


def torch_func_vmap(members: int, steps: int):
    import numpy as np
    import torch
    from torch.func import functional_call, grad, stack_module_state, vmap

    torch.set_num_threads(1)
    x, y = digits()
    rng = np.random.default_rng(0)
    idx = torch.from_numpy(batch_indices(rng, len(x), steps, members))
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    models = [torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                  torch.nn.Linear(32, 10)) for _ in range(members)]
    params, buffers = stack_module_state(models)
    base = models[0].to("meta")

    def loss(p, b, xb, yb):
        return torch.nn.functional.cross_entropy(functional_call(base, (p, b), (xb,)), yb)

    batched_grad = vmap(grad(loss), in_dims=(0, 0, 0, 0))

    def run() -> None:
        with torch.no_grad():
            for s in range(steps):
                xb, yb = xs[idx[s]], ys[idx[s]]
                with torch.enable_grad():
                    g = batched_grad(params, buffers, xb, yb)
                for name in params:
                    params[name].sub_(LEARNING_RATE * g[name])

    return run


def descentlab_population(members: int, steps: int):
    import descentlab as dl
    from descentlab.layers import Dense
    from descentlab.models import Sequential
    from descentlab.optimizers import SGD
    from descentlab.population import Population

    x, y = digits()
    dl.set_random_seed(0)

    def make() -> Sequential:
        model = Sequential([Dense(32, activation="relu", input_dim=64),
                            Dense(10, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=LEARNING_RATE),
                      loss="sparse_categorical_crossentropy")
        return model

    population = Population.from_seeds(make, range(members))
    per_epoch = -(-len(x) // BATCH)
    epochs = max(1, round(steps / per_epoch))

    def run() -> None:
        population.fit(x, y, batch_size=BATCH, epochs=epochs)

    return run, epochs * per_epoch


# ---------------------------------------------------------------------------------------------
# One network.
# ---------------------------------------------------------------------------------------------
def numpy_loop(steps: int):
    import numpy as np

    x, y = digits()
    rng = np.random.default_rng(0)
    w1, w2 = glorot(rng, 64, 32), glorot(rng, 32, 10)
    b1, b2 = np.zeros(32, np.float32), np.zeros(10, np.float32)
    idx = batch_indices(rng, len(x), steps, 1)[:, 0]
    onehot = np.eye(10, dtype=np.float32)[y]
    lr = np.float32(LEARNING_RATE)

    def run() -> None:
        for s in range(steps):
            xb, tb = x[idx[s]], onehot[idx[s]]
            z1 = xb @ w1 + b1
            h = np.maximum(z1, 0)
            z2 = h @ w2 + b2
            z2 -= z2.max(axis=1, keepdims=True)
            p = np.exp(z2)
            p /= p.sum(axis=1, keepdims=True)
            g2 = (p - tb) / BATCH
            gh = (g2 @ w2.T) * (z1 > 0)
            w2[...] -= lr * (h.T @ g2)
            b2[...] -= lr * g2.sum(axis=0)
            w1[...] -= lr * (xb.T @ gh)
            b1[...] -= lr * gh.sum(axis=0)

    return run


def descentlab_fit(steps: int):
    import descentlab as dl
    from descentlab.layers import Dense
    from descentlab.models import Sequential
    from descentlab.optimizers import SGD

    x, y = digits()
    dl.set_random_seed(0)
    model = Sequential([Dense(32, activation="relu", input_dim=64),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE),
                  loss="sparse_categorical_crossentropy")
    per_epoch = -(-len(x) // BATCH)
    epochs = max(1, round(steps / per_epoch))

    def run() -> None:
        model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)

    return run, epochs * per_epoch


def torch_eager(steps: int):
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = digits()
    idx = torch.from_numpy(batch_indices(np.random.default_rng(0), len(x), steps, 1)[:, 0])
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> None:
        for s in range(steps):
            xb, yb = xs[idx[s]], ys[idx[s]]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    return run


# ---------------------------------------------------------------------------------------------
# Worker and driver.
# ---------------------------------------------------------------------------------------------
def blas() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info()]


def build(name: str, members: int, steps: int) -> tuple[Any, int]:
    """The worker's ``run`` (one timed run) and the steps one run makes."""
    import numpy  # noqa: F401  (loaded before threadpoolctl reads the pools)

    done = steps
    if name == "numpy-batched":
        run = numpy_batched(members, steps)
    elif name == "jax-vmap-jit":
        run = jax_vmap_jit(members, steps)
    elif name == "torch-func-vmap":
        run = torch_func_vmap(members, steps)
    elif name == "descentlab-population":
        run, done = descentlab_population(members, steps)
    elif name == "numpy-loop":
        run = numpy_loop(steps)
    elif name == "descentlab-fit":
        run, done = descentlab_fit(steps)
    elif name == "torch-eager":
        run = torch_eager(steps)
    else:
        raise SystemExit(f"unknown worker {name!r}")
    run()  # warm-up: caches, first-call costs
    return run, done


def describe(name: str, members: int, done: int, times: list[float]) -> dict[str, Any]:
    per_step = statistics.median(times) / done
    result = {"worker": name, "steps": done, "rounds": len(times), "seconds": times,
              "us_per_step": per_step * 1e6, "blas": blas()}
    if name in POPULATION_WORKERS:
        result["members"] = members
        result["us_per_member_step"] = per_step / members * 1e6
    return result


def timed(run: Any) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def worker(name: str, members: int, steps: int, rounds: int) -> dict[str, Any]:
    """All rounds of one framework in this process, one after the other."""
    run, done = build(name, members, steps)
    return describe(name, members, done, [timed(run) for _ in range(rounds)])


def serve(name: str, members: int, steps: int) -> None:
    """One timed run per line read from stdin, its seconds printed; the driver takes turns."""
    run, done = build(name, members, steps)
    print(json.dumps({"ready": done}), flush=True)
    for _ in sys.stdin:
        print(json.dumps(timed(run)), flush=True)


def run_workers(names: tuple[str, ...], members: int, steps: int,
                rounds: int) -> dict[str, dict[str, Any]]:
    """Each worker in its own process, all started at once, one run each per round in turn
    (the order rotated every round); a worker that fails is reported, the others go on."""
    env = {**os.environ, **ONE_THREAD}
    procs, logs, done, results = {}, {}, {}, {}
    for name in names:
        logs[name] = tempfile.TemporaryFile(mode="w+")  # stderr: read only if the worker fails
        procs[name] = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", name, "--serve",
             "--members", str(members), "--steps", str(steps)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logs[name], text=True,
            env=env)

    def reply(name: str) -> Any:
        stdout = procs[name].stdout
        assert stdout is not None
        line = stdout.readline()
        if line:
            return json.loads(line)
        procs[name].wait()
        logs[name].seek(0)
        last = (logs[name].read().strip().splitlines() or ["(no output)"])[-1]
        results[name] = {"worker": name, "error": last}
        done.pop(name, None)
        return None

    for name in names:
        ready = reply(name)
        if ready is not None:
            done[name] = ready["ready"]
    times: dict[str, list[float]] = {name: [] for name in done}
    for r in range(rounds):
        order = list(done)[r % len(done):] + list(done)[:r % len(done)] if done else []
        for name in order:
            stdin = procs[name].stdin
            assert stdin is not None
            stdin.write("run\n")
            stdin.flush()
            seconds = reply(name)
            if seconds is not None:
                times[name].append(seconds)
    for name, proc in procs.items():
        if proc.poll() is None and proc.stdin is not None:
            proc.stdin.close()
            proc.wait()
        logs[name].close()
    for name in done:
        results[name] = describe(name, members, done[name], times[name])
    return {name: results[name] for name in names}


def same_round_ratios(results: dict[str, dict[str, Any]], name: str,
                      reference: str) -> list[float]:
    """The worker's time over the reference's, round by round (empty if either failed)."""
    r, ref = results.get(name, {}), results.get(reference, {})
    if "seconds" not in r or "seconds" not in ref:
        return []
    return [a / r["steps"] / (b / ref["steps"])
            for a, b in zip(r["seconds"], ref["seconds"], strict=True)]


def ratio_text(ratios: list[float]) -> str:
    if not ratios:
        return "   nan×"
    return (f"{statistics.median(ratios):6.2f}× ({min(ratios):.2f}–{max(ratios):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", choices=("all", "population", "single"), default="all",
                        help="the tables to measure: both, the populations', one network's")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args()
    removed = reexec_without_blas_env(MARKER)
    if args.worker and args.serve:
        serve(args.worker, args.members, args.steps)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.members, args.steps, args.rounds)))
        return
    if args.quick:
        args.steps, args.rounds = 100, 2
    print(f"64→32→10, batch {BATCH}, SGD {LEARNING_RATE}, float32, digits; one thread per "
          f"framework; {args.steps} steps × {args.rounds} rounds, in turn (median)"
          + (f"; removed {', '.join(removed)} for these processes" if removed else ""))
    results: dict[str, dict[str, Any]] = {}
    # (table rows, heading, the row the others are divided by, the figure, its ratios' key)
    tables = {"population": (POPULATION_WORKERS, f"{args.members} members             µs per "
                             "member-step   vs JAX (same rounds)", "jax-vmap-jit",
                             "us_per_member_step", "vs_jax_rounds"),
              "single": (SINGLE_WORKERS, "one network                µs per step   vs the NumPy "
                         "loop (same rounds)", "numpy-loop", "us_per_step",
                         "vs_numpy_loop_rounds")}
    for table, (workers, heading, baseline, figure, key) in tables.items():
        if args.rows not in ("all", table):
            continue
        results.update(run_workers(workers, args.members, args.steps, args.rounds))
        print("\n" + heading)
        for name in workers:
            r = results[name]
            if "error" in r:
                print(f"  {name:22s} not measured: {r['error']}")
                continue
            r[key] = ratios = same_round_ratios(results, name, baseline)
            print(f"  {name:22s} {r[figure]:10.2f}    {ratio_text(ratios)}")
    blas_info = next((r["blas"] for r in results.values() if r.get("blas")), [])
    for info in blas_info:
        print(f"BLAS: {info}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"results": results, "removed_env": removed}, fh, indent=1)


if __name__ == "__main__":
    main()
