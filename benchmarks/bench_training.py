"""Training throughput of descentlab's ``model.fit`` against PyTorch 2.13 eager, in one run.

Same network, float32, SGD with momentum 0.9 (lr 0.01), cross-entropy, shuffled mini-batches
drawn without replacement each epoch, the same thread count for NumPy's BLAS and torch.
Each framework runs in its own subprocess (so peak RSS is its own); the parent prints ratios.

    python benchmarks/bench_training.py            # full run (about 2-3 minutes on 2 cores)
    python benchmarks/bench_training.py --quick    # smoke run
    python benchmarks/bench_training.py --json results.json

Where OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (some machines here set them for safety
with old OpenBLAS builds), this script unsets both for its own processes and says so; it always
reports which BLAS kernel ran (threadpoolctl).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

CONFIGS = {
    # name: (layer widths, batch size, data, target ratio)
    "digits 64-32-10, batch 32": ([64, 32, 10], 32, "digits", 5.0),
    "mnist-scale 784-100x5-10, batch 128": ([784, 100, 100, 100, 100, 100, 10], 128,
                                            "synthetic", 1.0),
    "wide 784-1024-1024-10, batch 512": ([784, 1024, 1024, 10], 512, "synthetic", 0.9),
}
SYNTHETIC_SAMPLES = 8192


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_data(widths: list[int], kind: str):
    import numpy as np

    if kind == "digits":
        from descentlab import datasets

        x, y = datasets.load_digits()
        return x.astype(np.float32), y.astype(np.int64)
    gen = np.random.default_rng(0)
    x = gen.normal(size=(SYNTHETIC_SAMPLES, widths[0])).astype(np.float32)
    y = gen.integers(0, widths[-1], SYNTHETIC_SAMPLES).astype(np.int64)
    return x, y


def train_flops_per_sample(widths: list[int]) -> int:
    """2·MACs forward + 2·MACs for ∂W + 2·MACs for ∂x (not for the first layer)."""
    macs = [a * b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


# ---------------------------------------------------------------------------------------------
# Workers: one framework, one config, in a fresh process.
# ---------------------------------------------------------------------------------------------
def build_descentlab(widths, batch, kind):
    """descentlab's model; returns (train for k epochs, samples per epoch)."""
    import descentlab as dl
    from descentlab import optimizers
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    x, y = make_data(widths, kind)
    dl.set_random_seed(0)
    model = Sequential()
    for i, units in enumerate(widths[1:]):
        last = i == len(widths) - 2
        model.add(Dense(units, activation="softmax" if last else "relu",
                        input_dim=widths[0] if i == 0 else None))
    model.compile(optimizer=optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")

    def run(n_epochs: int) -> None:
        model.fit(x, y, batch_size=batch, epochs=n_epochs, verbose=0)

    return run, len(x)


def build_torch(widths, batch, kind):
    """The same network in PyTorch eager; returns (train for k epochs, samples per epoch)."""
    import torch

    x, y = make_data(widths, kind)
    torch.manual_seed(0)
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(xt)

    def run(n_epochs):
        for _ in range(n_epochs):
            order = torch.randperm(n)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                opt.zero_grad()
                loss_fn(net(xt[idx]), yt[idx]).backward()
                opt.step()

    return run, n


BUILDERS = {"descentlab": build_descentlab, "torch": build_torch}


def time_both(widths, batch, kind, epochs, repeats) -> dict:
    """Alternate the two frameworks round by round, so that drifts in machine speed (this is a
    shared VM) hit both alike; the ratio is the median of the per-round ratios."""
    runs = {name: build(widths, batch, kind) for name, build in BUILDERS.items()}
    for run, _ in runs.values():
        run(1)  # warm-up
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (run, _) in runs.items():
            start = time.perf_counter()
            run(epochs)
            times[name].append(time.perf_counter() - start)
    samples = runs["descentlab"][1] * epochs
    ratios = sorted(t / d for d, t in zip(times["descentlab"], times["torch"], strict=True))
    return {"samples": samples,
            "samples_per_second": {n: samples / sorted(t)[len(t) // 2] for n, t in times.items()},
            "times": times, "ratio": ratios[len(ratios) // 2]}


def measure_memory(framework, widths, batch, kind, steps) -> dict:
    """RSS after ``steps`` training steps of warm-up and after ``steps`` more: any growth
    between the two is a leak (the warm-up lets the allocator reach its working set)."""
    run, n = BUILDERS[framework](widths, batch, kind)
    steps_per_epoch = -(-n // batch)
    epochs = max(1, steps // steps_per_epoch)
    run(epochs)
    before = rss_mb()
    run(epochs)
    return {"rss_before_mb": before, "rss_after_mb": rss_mb(), "steps": epochs * steps_per_epoch,
            "peak_rss_mb": peak_rss_mb()}


def matmul_peak(framework: str) -> float:
    """Best float32 GFLOP/s of a 1024×1024×1024 matrix product."""
    n = 1024
    if framework == "numpy":
        import numpy as np

        a = np.random.default_rng(0).normal(size=(n, n)).astype(np.float32)
        mm = lambda: a @ a  # noqa: E731
    else:
        import torch

        a = torch.randn(n, n)
        mm = lambda: a @ a  # noqa: E731
    mm()
    best = min(_timed(mm) for _ in range(10))
    return 2 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def environment(threads: int) -> dict:
    import numpy as np
    import threadpoolctl
    import torch

    torch.set_num_threads(threads)
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = [{k: info.get(k) for k in ("internal_api", "version", "architecture",
                                       "num_threads", "filepath")}
            for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    return {"cpu": cpu, "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "torch_mkldnn": torch.backends.mkldnn.is_available(), "numpy_blas": blas,
            "unset_env": os.environ.get("DESCENTLAB_BENCH_UNSET", "")}


def worker_main(args) -> None:
    import threadpoolctl

    with threadpoolctl.threadpool_limits(args.threads, user_api="blas"):
        if args.worker == "env":
            result = environment(args.threads)
            result["numpy_matmul_gflops"] = matmul_peak("numpy")
            result["torch_matmul_gflops"] = matmul_peak("torch")
        else:
            if args.worker != "descentlab":  # descentlab's own worker never loads torch
                import torch

                torch.set_num_threads(args.threads)
            widths, batch, kind, _ = CONFIGS[args.config]
            if args.worker == "time":
                result = time_both(widths, batch, kind, args.epochs, args.repeats)
            else:
                result = measure_memory(args.worker, widths, batch, kind, args.memory_steps)
    print(json.dumps(result))


def spawn(args, worker: str, config: str | None = None, memory_steps: int = 0) -> dict:
    command = [sys.executable, __file__, "--worker", worker, "--threads", str(args.threads),
               "--epochs", str(args.epochs), "--repeats", str(args.repeats),
               "--memory-steps", str(memory_steps)]
    if config:
        command += ["--config", config]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-steps", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    if any(name in os.environ for name in BLAS_ENV):
        unset = [name for name in BLAS_ENV if name in os.environ]
        env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
        env["DESCENTLAB_BENCH_UNSET"] = ",".join(unset)
        print(f"note: unsetting {', '.join(unset)} for this benchmark's processes", flush=True)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    args.epochs = args.epochs or (1 if args.quick else 3)
    args.repeats = args.repeats or (1 if args.quick else 5)

    env = spawn(args, "env")
    print(f"CPU: {env['cpu']}; Python {env['python']}, NumPy {env['numpy']}, "
          f"PyTorch {env['torch']} ({env['torch_threads']} threads)")
    for blas in env["numpy_blas"]:
        print(f"NumPy BLAS: {blas['internal_api']} {blas['version']}, kernel "
              f"{blas['architecture']}, {blas['num_threads']} threads")
    if env["unset_env"]:
        print(f"(unset for this run: {env['unset_env']})")
    print(f"float32 matmul 1024³: NumPy {env['numpy_matmul_gflops']:.1f} GFLOP/s, "
          f"PyTorch {env['torch_matmul_gflops']:.1f} GFLOP/s\n")

    rows, results = [], {"environment": env, "configs": {}}
    memory_steps = 200 if args.quick else 1000
    for name, (widths, _batch, _kind, target) in CONFIGS.items():
        timing = spawn(args, "time", name)
        speed = timing["samples_per_second"]
        entry = {"timing": timing, "ratio": timing["ratio"], "target": target, "memory": {}}
        if not name.startswith("wide"):
            for framework in BUILDERS:
                entry["memory"][framework] = spawn(args, framework, name, memory_steps)
        else:
            flops = train_flops_per_sample(widths) * speed["descentlab"] / 1e9
            entry["training_gflops"] = flops
            entry["fraction_of_numpy_peak"] = flops / env["numpy_matmul_gflops"]
        results["configs"][name] = entry
        rows.append((name, speed["descentlab"], speed["torch"], timing["ratio"], target))
    print("samples/s are medians over rounds; the ratio is the median of per-round ratios\n")
    print(f"{'network':40} {'descentlab/s':>13} {'PyTorch/s':>11} {'ratio':>6} {'target':>7}")
    for name, a, b, ratio, target in rows:
        verdict = "ok" if ratio >= target else "BELOW"
        print(f"{name:40} {a:13,.0f} {b:11,.0f} {ratio:6.2f} {'≥' + str(target):>7} {verdict}")
    wide = results["configs"]["wide 784-1024-1024-10, batch 512"]
    print(f"\nwide network: training reaches {wide['training_gflops']:.1f} GFLOP/s = "
          f"{100 * wide['fraction_of_numpy_peak']:.0f} % of NumPy's measured matmul peak "
          "(FLOPs/sample = 2·MACs forward + 2·MACs ∂W + 2·MACs ∂x, no ∂x for the first layer)")
    print("\nmemory: RSS (MB) after a warm-up of N steps → after N more steps; peak RSS of the "
          "process (each framework alone in its own process):")
    for name, entry in results["configs"].items():
        for framework, mem in entry["memory"].items():
            print(f"  {name:40} {framework:10} {mem['rss_before_mb']:7.1f} → "
                  f"{mem['rss_after_mb']:7.1f} over {mem['steps']} steps; peak "
                  f"{mem['peak_rss_mb']:.0f} MB")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
