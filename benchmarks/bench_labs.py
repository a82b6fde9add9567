"""Wall-clock time of the labs' default runs, and of the same vanishing grid in PyTorch.

What is timed (each a separate measurement, in this order)::

    descentlab vanishing grid   lab.vanishing.run_grid() with its defaults: 4 activations ×
                                4 depths × 3 seeds, 30 epochs of SGD (lr 0.1, batch 32) on
                                digits, per-epoch gradient norms, 2 worker processes
    PyTorch, the same grid      the same 48 trials written in torch (nn.Linear + activation,
                                xavier_uniform_ = glorot_uniform, zero biases, optim.SGD 0.1,
                                CrossEntropyLoss on logits, batch 32 from a fresh permutation,
                                per-epoch gradient norms on the same 256-sample probe, test
                                accuracy per epoch), on the same 2 worker processes, 1 thread each
    descentlab optimizers       lab.optimizers.run() with its defaults (9 optimizers × 3 seeds,
                                20 epochs on digits, the full training loss after every update),
                                trained as 8 populations (SGD and momentum share one)
    descentlab report --quick   report.build.measure(quick=True) + write (English)
    descentlab report           the default report

Usage::

    python benchmarks/bench_labs.py            # everything (about two minutes)
    python benchmarks/bench_labs.py --only vanishing   # + GradientMonitor's overhead
    python benchmarks/bench_labs.py --json out.json
    python benchmarks/bench_labs.py --against ../old/src --rounds 5

``--against SRC`` compares this checkout with another one (its ``src`` folder, e.g. a
``git worktree`` of an older commit): the default vanishing grid, the default optimizer run and
the default report's measuring, each in a fresh process (imports and data loading included, as a
user's command pays them), the two checkouts taking turns round by round; it prints the median
times and the median of the same-round ratios with their range (this machine's speed drifts
between seconds, so only ratios taken side by side mean much).

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, where set, are removed for this script's own process
(which re-executes itself without them before NumPy is imported); the BLAS kernel that ran is
printed either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MARKER = "DESCENTLAB_BENCH_LABS_UNSET"


def reexec_without_blas_env(marker: str = MARKER) -> list[str]:
    """Re-execute this script without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (before NumPy is
    imported; ``--keep-blas-env`` keeps them); returns the names removed. ``marker`` is the
    environment variable that tells the re-executed process what was removed."""
    removed = [k for k in BLAS_ENV if k in os.environ]
    if removed and marker not in os.environ and "--keep-blas-env" not in sys.argv:
        env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
        env[marker] = ",".join(removed)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    return os.environ.get(marker, "").split(",") if os.environ.get(marker) else []


def torch_trial(config: dict) -> dict:
    """One grid point of the vanishing lab, in PyTorch (float32, one thread)."""
    import numpy as np
    import torch

    from descentlab import datasets

    torch.set_num_threads(1)
    torch.manual_seed(config["seed"])
    x, y = datasets.load_digits()
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, y, test_size=config["test_size"], seed=config["seed"])
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train, dtype=torch.long)
    xv = torch.tensor(x_test, dtype=torch.float32)
    yv = torch.tensor(y_test, dtype=torch.long)
    act = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
           "softplus": torch.nn.Softplus}[config["activation"]]
    layers, width_in = [], 64
    for _ in range(config["depth"]):
        linear = torch.nn.Linear(width_in, config["width"])
        torch.nn.init.xavier_uniform_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, act()]
        width_in = config["width"]
    out = torch.nn.Linear(width_in, 10)
    torch.nn.init.xavier_uniform_(out.weight)
    torch.nn.init.zeros_(out.bias)
    model = torch.nn.Sequential(*layers, out)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=config["learning_rate"])
    probe_x, probe_y = xt[:256], yt[:256]
    kernels = [m.weight for m in model if isinstance(m, torch.nn.Linear)]

    def grad_norms() -> list[float]:
        model.zero_grad()
        loss_fn(model(probe_x), probe_y).backward()
        return [float(k.grad.norm()) for k in kernels]

    started = time.perf_counter()
    norms = [grad_norms()]
    accuracy = []
    n = len(xt)
    for _ in range(config["epochs"]):
        order = torch.randperm(n)
        for start in range(0, n, config["batch_size"]):
            index = order[start:start + config["batch_size"]]
            opt.zero_grad()
            loss_fn(model(xt[index]), yt[index]).backward()
            opt.step()
        norms.append(grad_norms())
        with torch.no_grad():
            accuracy.append(float((model(xv).argmax(1) == yv).float().mean()))
    return {"seconds": time.perf_counter() - started, "final_accuracy": accuracy[-1],
            "ratio_init": norms[0][0] / norms[0][-1], "np": np.__version__}


def time_vanishing(workers: int) -> dict:
    from descentlab.lab import runner, vanishing

    started = time.perf_counter()
    results = vanishing.run_grid(workers=workers, progress=False)
    ours = time.perf_counter() - started
    configs = [t["config"] for t in results["trials"]]
    started = time.perf_counter()
    theirs_results = runner.run_trials(torch_trial, configs, workers=workers, progress=False)
    theirs = time.perf_counter() - started
    return {"trials": len(configs), "descentlab_seconds": ours, "pytorch_seconds": theirs,
            "ratio": theirs / ours,
            "pytorch_sigmoid_depth10_ratio_init": [
                r["ratio_init"] for c, r in zip(configs, theirs_results, strict=True)
                if c["activation"] == "sigmoid" and c["depth"] == 10]}


def monitor_overhead(repeats: int = 15) -> dict:
    """GradientMonitor's cost at the digits scale (64 → 32 → 10, batch 32, one record per
    epoch): the median over ``repeats`` back-to-back pairs of (monitored / plain − 1)."""
    import statistics

    import descentlab as dl
    from descentlab import datasets
    from descentlab.diagnostics import GradientMonitor
    from descentlab.layers import Dense
    from descentlab.models import Sequential

    x, y = datasets.load_digits()

    def run(monitored: bool) -> float:
        dl.set_random_seed(0)
        model = Sequential([Dense(32, activation="relu", input_dim=64),
                            Dense(10, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        callbacks = [GradientMonitor(x, y)] if monitored else []
        started = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=10, verbose=0, callbacks=callbacks)
        return time.perf_counter() - started

    run(True)  # warm-up
    plain, monitored = [], []
    for _ in range(repeats):  # alternate, so a slow moment of the machine hits both
        plain.append(run(False))
        monitored.append(run(True))
    ratios = [m / p - 1.0 for m, p in zip(monitored, plain, strict=True)]
    return {"plain_seconds": statistics.median(plain),
            "monitored_seconds": statistics.median(monitored),
            "overhead": statistics.median(ratios)}


def time_optimizers(workers: int) -> dict:
    from descentlab.lab import optimizers

    started = time.perf_counter()
    optimizers.run(workers=workers, progress=False)
    return {"seconds": time.perf_counter() - started}


def time_report(quick: bool, workers: int) -> dict:
    import contextlib
    import io

    from descentlab.report import build

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            result = build.build(folder, quick=quick, workers=workers, progress=False)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "stages": result["results"]["timings"]}


#: What ``--against`` times, in a fresh process each: a lab's default run as its command does it.
AGAINST = {
    "vanishing": "from descentlab.lab import vanishing\n"
                 "vanishing.run_grid(workers=WORKERS, progress=False)",
    "optimizers": "from descentlab.lab import optimizers\n"
                  "optimizers.run(workers=WORKERS, progress=False)",
    "report": "from descentlab.report import build\n"
              "build.measure(workers=WORKERS, progress=False)",
}


def environment(src: str) -> dict[str, str]:
    """This process's environment for a run of ``src``: its modules first on the path, and
    Python's compiled bytecode kept (PYTHONDONTWRITEBYTECODE, where set, would make every
    process compile descentlab anew — a user's installation does not)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = src
    return env


def time_against(theirs: str, rounds: int, workers: int, only: str | None) -> dict:
    """Each of :data:`AGAINST` for this checkout's ``src`` and ``theirs``, in turn."""
    import statistics
    import subprocess

    ours = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    out: dict = {}
    for name, code in AGAINST.items():
        if only not in (None, name):
            continue
        program = ("import time\nstarted = time.perf_counter()\n"
                   + code.replace("WORKERS", str(workers))
                   + "\nprint(time.perf_counter() - started)\n")
        seconds: dict[str, list[float]] = {"ours": [], "theirs": []}
        for src in (ours, theirs):  # compiled once, as a user's installation keeps it
            subprocess.run([sys.executable, "-c", code.split("\n")[0]], check=True,
                           env=environment(src))
        for round_ in range(rounds):
            order = [("ours", ours), ("theirs", theirs)]
            for who, src in order if round_ % 2 == 0 else order[::-1]:
                done = subprocess.run([sys.executable, "-c", program], capture_output=True,
                                      text=True, check=True, env=environment(src))
                seconds[who].append(float(done.stdout.split()[-1]))
        ratios = [t / o for o, t in zip(seconds["ours"], seconds["theirs"], strict=True)]
        out[name] = {"ours": seconds["ours"], "theirs": seconds["theirs"],
                     "ours_median": statistics.median(seconds["ours"]),
                     "theirs_median": statistics.median(seconds["theirs"]),
                     "speedup": statistics.median(ratios), "range": [min(ratios), max(ratios)]}
        r = out[name]
        print(f"{name}: this checkout {r['ours_median']:.1f} s, {theirs} "
              f"{r['theirs_median']:.1f} s -> {r['speedup']:.2f}x as fast "
              f"(same-round ratios {r['range'][0]:.2f}-{r['range'][1]:.2f}, {rounds} rounds)",
              flush=True)
    return out


def blas_report() -> list[dict]:
    import numpy  # noqa: F401  (load NumPy's BLAS before asking about it)
    import threadpoolctl

    return [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]


def main() -> None:
    removed = reexec_without_blas_env()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("vanishing", "optimizers", "report"), default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--keep-blas-env", action="store_true")
    parser.add_argument("--against", metavar="SRC", default=None,
                        help="another checkout's src folder to compare with, in turn")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --against")
    args = parser.parse_args()
    from descentlab.lab import runner

    workers = args.workers or runner.default_workers()
    out: dict = {"workers": workers, "blas": blas_report(), "blas_env_removed": removed}
    print(f"workers: {workers}; BLAS: {out['blas']}; removed from the environment: "
          f"{removed or 'nothing'}")
    if args.against:
        out["against"] = time_against(args.against, args.rounds, workers, args.only)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as stream:
                json.dump(out, stream, indent=1)
        return
    if args.only in (None, "vanishing"):
        out["vanishing"] = v = time_vanishing(workers)
        print(f"vanishing grid ({v['trials']} trials): descentlab {v['descentlab_seconds']:.1f} s,"
              f" PyTorch {v['pytorch_seconds']:.1f} s -> descentlab is {v['ratio']:.1f}x "
              "as fast")
    if args.only in (None, "vanishing"):
        out["monitor"] = m = monitor_overhead()
        print(f"GradientMonitor per epoch at digits scale: {m['overhead']:+.1%} training time "
              f"({m['plain_seconds']:.3f} s -> {m['monitored_seconds']:.3f} s for 10 epochs)")
    if args.only in (None, "optimizers"):
        out["optimizers"] = o = time_optimizers(workers)
        print(f"optimizers default run (27 trials): {o['seconds']:.1f} s")
    if args.only in (None, "report"):
        out["report_quick"] = q = time_report(True, workers)
        print(f"report --quick: {q['seconds']:.1f} s")
        out["report"] = r = time_report(False, workers)
        print(f"report (default): {r['seconds']:.1f} s  stages: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in r["stages"].items()))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(out, stream, indent=1)


if __name__ == "__main__":
    main()
