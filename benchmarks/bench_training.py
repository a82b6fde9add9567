"""Training throughput of descentlab's ``model.fit`` against PyTorch eager, in one run.

What is compared, for each network::

    descentlab:  Sequential(Dense(..., "relu"), ..., Dense(10, "softmax"))
                 compile(SGD(learning_rate=0.01, momentum=0.9), "sparse_categorical_crossentropy")
                 model.fit(x, y, batch_size=B, epochs=k, verbose=0)            ← timed
    PyTorch:     nn.Sequential(Linear, ReLU, ..., Linear) on logits, nn.CrossEntropyLoss,
                 optim.SGD(lr=0.01, momentum=0.9); per epoch a torch.randperm, then for each
                 batch: index, zero_grad, forward, loss, backward, step, loss.item()  ← timed

Both float32, the same thread count (NumPy's BLAS through threadpoolctl, torch.set_num_threads),
mini-batches drawn without replacement from a fresh permutation each epoch, whole epochs timed.

How the numbers are made robust on a small shared machine:

- each framework runs in its own process (so peak RSS is its own, and torch's OpenMP/MKL never
  shares a process with NumPy's OpenBLAS); the parent drives both, alternating round by round
  (and which goes first), pausing briefly between them so the idle process's BLAS/OpenMP threads,
  which spin for a while after their last call, are asleep;
- warm-up epochs are excluded; the samples/s are medians over the rounds, the ratio is the median
  of the per-pair ratios (a pair = one round of each, a moment apart, so a slow moment of the
  machine hits both), printed with its interquartile range;
- the CPU time other processes used during each round is measured from /proc/stat; pairs during
  which they were busy are re-run, and the output flags a run that never got quiet;
- a pure-Python speed probe before each round shows how much the machine itself drifted.

Usage::

    python benchmarks/bench_training.py               # full run, about 2 minutes on 2 cores
    python benchmarks/bench_training.py --quick       # smoke run (checks the script works)
    python benchmarks/bench_training.py --json out.json
    python benchmarks/bench_training.py --profile     # where one descentlab step's time goes
    python benchmarks/bench_training.py --profile all # ... for every network

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on some machines here for safety with old OpenBLAS
builds) are removed for this script's processes, which re-execute themselves without them before
NumPy is imported, and the output says so (``--keep-blas-env`` keeps them). Whichever way, the
BLAS kernel that actually ran is reported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET_MARKER = "DESCENTLAB_BENCH_UNSET"

LEARNING_RATE = 0.01
MOMENTUM = 0.9
SYNTHETIC_SAMPLES = 8192
MEMORY_STEPS = 1000
#: RSS may move by allocator noise; more than this over the steps counts as growth.
RSS_TOLERANCE_MB = 1.0
#: Seconds between the two frameworks' rounds: OpenBLAS worker threads spin for up to ~0.1 s
#: after their last call, libgomp's for less; by then both are asleep.
PAUSE = 0.15
#: A round counts as quiet when other processes used less than this share of the machine.
QUIET = 0.10


@dataclass(frozen=True)
class Config:
    key: str
    label: str
    widths: tuple[int, ...]
    batch: int
    data: str  # "digits" or "synthetic"
    target: float  # required descentlab/torch throughput ratio
    rounds: int
    memory: bool  # whether the RSS-growth check runs on it


CONFIGS = {
    "a": Config("a", "(a) digits 64-32-10, batch 32", (64, 32, 10), 32, "digits", 5.0, 25, True),
    "b": Config("b", "(b) 784-100x5-10, batch 128", (784, 100, 100, 100, 100, 100, 10), 128,
                "synthetic", 1.0, 21, True),
    "c": Config("c", "(c) 784-1024-1024-10, batch 512", (784, 1024, 1024, 10), 512, "synthetic",
                0.9, 11, False),
}


def training_flops_per_sample(widths: tuple[int, ...]) -> int:
    """FLOPs of one training step per sample, counting the matrix products only.

    With M_l = n_in·n_out the multiply-adds of layer l (one multiply-add = 2 FLOPs)::

        forward  z = x·W          2·M_l    every layer
        ∂L/∂W  = xᵀ·∂L/∂z         2·M_l    every layer
        ∂L/∂x  = ∂L/∂z·Wᵀ         2·M_l    every layer but the first (nobody needs ∂L/∂input)

        total = 2·ΣM (forward) + 4·ΣM (backward) − 2·M_1  =  6·ΣM − 2·M_1

    Bias additions, activations, softmax and the update are left out: O(n_out) per sample (the
    update O(params) per batch), under 1 % of the FLOPs on the wide network (not of the time:
    they are memory-bound).
    """
    macs = [a * b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    return 6 * sum(macs) - 2 * macs[0]


# ---------------------------------------------------------------------------------------------
# Small measurements shared by parent and workers (no NumPy needed).
# ---------------------------------------------------------------------------------------------
def rss_mb() -> float:
    """Resident set size now, from /proc/self/statm (second field, in pages)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """The process's peak resident set size (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process, all threads, user + system."""
    return time.process_time()


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / hz, steal / hz


def cpu_model() -> dict[str, Any]:
    info: dict[str, Any] = {"model": platform.processor() or "unknown", "flags": []}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    info["model"] = value.strip()
                elif key == "flags":
                    have = set(value.split())
                    info["flags"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16",
                                                 "amx_tile") if f in have]
                    break
    except OSError:
        pass
    return info


def threads_available() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Workers: one framework in a fresh process. They answer on a private copy of stdout; anything
# else printed (warnings, stray prints) goes to stderr and cannot break the protocol.
# ---------------------------------------------------------------------------------------------
def _protocol_channel():
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _send(channel, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def load_data(config: Config):
    """(x float32 (n, inputs), y int64 (n,)): digits, or a fixed synthetic set."""
    import numpy as np

    if config.data == "digits":
        from descentlab import datasets

        x, y = datasets.load_digits()
        return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)
    gen = np.random.default_rng(0)
    x = gen.standard_normal((SYNTHETIC_SAMPLES, config.widths[0]), dtype=np.float32)
    y = gen.integers(0, config.widths[-1], SYNTHETIC_SAMPLES).astype(np.int64)
    return x, y


class DescentlabTrainer:
    """The network of ``config`` in descentlab; ``train(k)`` is one ``model.fit`` of k epochs."""

    framework = "descentlab"

    def __init__(self, config: Config) -> None:
        import descentlab as dl
        from descentlab.layers import Dense
        from descentlab.models import Sequential
        from descentlab.optimizers import SGD

        self.x, self.y = load_data(config)
        self.config = config
        dl.set_random_seed(0)
        self.model = Sequential()
        widths = config.widths
        for i, units in enumerate(widths[1:]):
            last = i == len(widths) - 2
            self.model.add(Dense(units, activation="softmax" if last else "relu",
                                 input_dim=widths[0] if i == 0 else None))
        self.model.compile(optimizer=SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
                           loss="sparse_categorical_crossentropy")
        self.samples = len(self.x)

    def train(self, epochs: int, on_epoch_end=None, shuffle: bool = True) -> float:
        """Train ``epochs`` epochs in one fit call; returns the last epoch's mean loss."""
        callbacks = []
        if on_epoch_end is not None:
            from descentlab.callbacks import Callback

            class EpochHook(Callback):  # epoch hooks only: the batch loop stays untouched
                def on_epoch_end(self, epoch, logs=None):
                    on_epoch_end()

            callbacks.append(EpochHook())
        history = self.model.fit(self.x, self.y, batch_size=self.config.batch, epochs=epochs,
                                 verbose=0, callbacks=callbacks, shuffle=shuffle)
        return float(history.history["loss"][-1])


class TorchTrainer:
    """The same network in PyTorch eager, trained by the loop a PyTorch user writes."""

    framework = "torch"

    def __init__(self, config: Config) -> None:
        import torch

        x, y = load_data(config)
        self.torch = torch
        self.config = config
        torch.manual_seed(0)
        modules: list[Any] = []
        for a, b in zip(config.widths[:-1], config.widths[1:], strict=True):
            modules += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*modules[:-1])  # logits out: the loss applies softmax
        self.net.train()
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=LEARNING_RATE,
                                         momentum=MOMENTUM)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.generator = torch.Generator().manual_seed(0)
        self.samples = len(x)

    def train(self, epochs: int, on_epoch_end=None) -> float:
        n, batch = self.samples, self.config.batch
        net, optimizer, loss_fn = self.net, self.optimizer, self.loss_fn
        mean_loss = math.nan
        for _ in range(epochs):
            order = self.torch.randperm(n, generator=self.generator)
            total = 0.0
            for start in range(0, n, batch):
                index = order[start:start + batch]
                xb, yb = self.x[index], self.y[index]
                optimizer.zero_grad()
                loss = loss_fn(net(xb), yb)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(index)  # the running epoch loss, as fit keeps one
            mean_loss = total / n
            if on_epoch_end is not None:
                on_epoch_end()
        return mean_loss


TRAINERS = {"descentlab": DescentlabTrainer, "torch": TorchTrainer}


def _limit_threads(framework: str, threads: int):
    """Limit NumPy's BLAS (threadpoolctl) and, in the torch worker, torch's intra-op pool."""
    import threadpoolctl

    limiter = threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    return limiter


def _environment(framework: str) -> dict[str, Any]:
    """What this worker runs on: versions, the BLAS kernel actually loaded, thread counts."""
    import numpy as np
    import threadpoolctl

    env: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__,
                           "torch_imported": "torch" in sys.modules}
    env["numpy_blas"] = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                  "threading_layer", "filepath")}
        for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"
    ]
    if framework == "torch":
        import torch

        parallel = torch.__config__.parallel_info()
        lines = [line.strip() for line in parallel.splitlines()]
        env["torch"] = {
            "version": torch.__version__,
            "num_threads": torch.get_num_threads(),
            "parallel_info_threads": next(
                (line.rpartition(":")[2].strip() for line in lines
                 if line.startswith("at::get_num_threads()")), None),
            "parallel_backend": next((line.rpartition(":")[2].strip() for line in lines
                                      if line.startswith("ATen parallel backend")), None),
            "mkl": torch.backends.mkl.is_available(),
            "mkl_version": next((line for line in lines if "Math Kernel Library" in line), None),
            "onednn": torch.backends.mkldnn.is_available(),
            "onednn_version": next((line for line in lines if "MKL-DNN" in line
                                    or "oneDNN" in line), None),
        }
    return env


def matmul_peak(framework: str, n: int = 1024, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an n×n×n matrix product (2n³ FLOPs), output preallocated."""
    if framework == "descentlab":
        import numpy as np

        gen = np.random.default_rng(0)
        a = gen.standard_normal((n, n), dtype=np.float32)
        b = gen.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)

        def product():
            np.matmul(a, b, out=c)
    else:
        import torch

        a, b = torch.randn(n, n), torch.randn(n, n)
        c = torch.empty(n, n)

        def product():
            torch.matmul(a, b, out=c)
    product()
    product()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def step_gemms(framework: str, config: Config, repeats: int = 5) -> float:
    """Seconds per training step spent in its matrix products alone, best of ``repeats``.

    Per layer: z = x·W, ∂W = xᵀ·∂z and (except the first layer) ∂x = ∂z·Wᵀ, all on full batches
    with preallocated outputs: what the step would cost if everything else were free.
    """
    batch, widths = config.batch, config.widths
    if framework == "descentlab":
        import numpy as np

        gen = np.random.default_rng(0)

        def rand(*shape):
            return gen.standard_normal(shape, dtype=np.float32)
        empty, mm = (lambda *shape: np.empty(shape, dtype=np.float32)), np.matmul
    else:
        import torch

        def rand(*shape):
            return torch.randn(*shape)
        empty = torch.empty

        def mm(a, b, out):
            return torch.mm(a, b, out=out)
    products = []
    for k, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        x, w, dz = rand(batch, n_in), rand(n_in, n_out), rand(batch, n_out)
        products.append((x, w, empty(batch, n_out)))  # z = x·W
        products.append((x.T, dz, empty(n_in, n_out)))  # ∂W = xᵀ·∂z
        if k > 0:
            products.append((dz, w.T, empty(batch, n_in)))  # ∂x = ∂z·Wᵀ

    def step():
        for a, b, out in products:
            mm(a, b, out=out)
    number = max(1, int(0.05 / max(_timed(step), 1e-6)))
    return _best_per_call(step, number=number, repeat=repeats)


def serve(framework: str, config: Config, threads: int) -> None:
    """Timing worker: build, warm up, then answer the parent's commands one line at a time."""
    channel = _protocol_channel()
    with _limit_threads(framework, threads):
        trainer = TRAINERS[framework](config)
        trainer.train(1)  # warm-up: first-call costs, allocations, optimizer slots
        start = time.perf_counter()
        trainer.train(1)  # a second epoch, timed only to size the rounds
        calibration = time.perf_counter() - start
        _send(channel, {"samples": trainer.samples, "epoch_seconds": calibration,
                        "environment": _environment(framework)})
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "train":
                cpu0, start = cpu_seconds(), time.perf_counter()
                loss = trainer.train(command["epochs"])
                wall = time.perf_counter() - start
                _send(channel, {"seconds": wall, "cpu_seconds": cpu_seconds() - cpu0,
                                "loss": loss})
            elif command["op"] == "peak":
                _send(channel, {"gflops": matmul_peak(framework, repeats=5),
                                "gemm_seconds_per_step": step_gemms(framework, config,
                                                                    repeats=3)})
            else:
                break


def memory_worker(framework: str, config: Config, threads: int, steps: int) -> None:
    """RSS after imports, after a warm-up, along ≥ ``steps`` more steps, and the peak."""
    channel = _protocol_channel()
    with _limit_threads(framework, threads):
        trainer = TRAINERS[framework](config)
        rss_built = rss_mb()
        trainer.train(2)  # warm-up
        rss_warm = rss_mb()
        steps_per_epoch = math.ceil(trainer.samples / config.batch)
        epochs = math.ceil(steps / steps_per_epoch)
        trace: list[float] = []
        trainer.train(epochs, on_epoch_end=lambda: trace.append(rss_mb()))
        _send(channel, {"rss_built_mb": rss_built, "rss_warm_mb": rss_warm,
                        "rss_trace_mb": trace, "rss_end_mb": rss_mb(),
                        "steps": epochs * steps_per_epoch, "peak_rss_mb": peak_rss_mb(),
                        "torch_imported": "torch" in sys.modules})


# ---------------------------------------------------------------------------------------------
# Profile: where the time of one descentlab training step goes (uses engine internals).
# ---------------------------------------------------------------------------------------------
def _best_per_call(fn, number: int, repeat: int = 5) -> float:
    """Seconds per call: the best of ``repeat`` loops of ``number`` calls."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _numpy_ops(model, batch: int) -> list[tuple[str, float]]:
    """The NumPy calls a step of this network needs, each timed alone on arrays of the right
    shapes: a floor for any NumPy implementation of the same step (no Python around them)."""
    import numpy as np

    gen = np.random.default_rng(0)
    ops: list[tuple[str, Any]] = []
    layers = model.layers
    for k, layer in enumerate(layers):
        n_in, n_out = layer.kernel.shape
        x = gen.standard_normal((batch, n_in), dtype=np.float32)
        w = layer.kernel.copy()
        b = np.zeros(n_out, dtype=np.float32)
        z = x @ w
        dz = gen.standard_normal((batch, n_out), dtype=np.float32)
        gw = np.empty_like(w)
        gb = np.empty_like(b)
        tag = f"L{k + 1} {n_in}→{n_out}"
        ops.append((f"{tag} forward   x·W  ({batch}×{n_in}·{n_in}×{n_out})",
                    lambda x=x, w=w: x @ w))
        ops.append((f"{tag} forward   z += b", lambda z=z, b=b: np.add(z, b, out=z)))
        if layer.activation.name == "relu":
            ops.append((f"{tag} forward   relu = maximum(z, 0)",
                        lambda z=z: np.maximum(z, 0.0)))
            ops.append((f"{tag} backward  dz = g ⊙ (z > 0)", lambda z=z, g=dz: g * (z > 0)))
        elif layer.activation.name == "softmax":
            def softmax(z=z):
                y = z - z.max(axis=1, keepdims=True)
                np.exp(y, out=y)
                y /= y.sum(axis=1, keepdims=True)
                return y
            ops.append((f"{tag} forward   softmax (max, −, exp, sum, ÷)", softmax))
            t = gen.integers(0, n_out, batch)
            rows = np.arange(batch)
            p = softmax()

            def ce_value(p=p, t=t, rows=rows):
                return -float(np.log(np.clip(p[rows, t], 1e-7, 1 - 1e-7)).sum()) / len(t)

            def ce_grad(p=p, t=t, rows=rows):
                g = p.copy()
                g[rows, t] -= 1.0
                g /= len(g)
                return g
            ops.append((f"{tag} loss      −mean log p[t] (gather, clip, log, sum)", ce_value))
            ops.append((f"{tag} backward  ∂L/∂z = (p − onehot(t))/n", ce_grad))
        ops.append((f"{tag} backward  ∂W = xᵀ·dz (out=)",
                    lambda x=x, dz=dz, gw=gw: np.matmul(x.T, dz, out=gw)))
        ops.append((f"{tag} backward  ∂b = Σ dz (out=)",
                    lambda dz=dz, gb=gb: np.add.reduce(dz, axis=0, out=gb)))
        if k > 0:
            ops.append((f"{tag} backward  ∂x = dz·Wᵀ", lambda dz=dz, w=w: dz @ w.T))
    size = sum(w.size for w in model.trainable_weights)
    p = np.zeros(size, dtype=np.float32)
    g = np.ones(size, dtype=np.float32)
    m = np.zeros(size, dtype=np.float32)

    def sgd_momentum():  # m ← βm − lr·g ; p ← p + m, on the flat parameter vector
        g.__imul__(LEARNING_RATE)
        m.__imul__(MOMENTUM)
        m.__isub__(g)
        p.__iadd__(m)
    ops.append((f"SGD momentum on {size:,} flat params (4 in-place ops)", sgd_momentum))
    out = []
    for name, fn in ops:
        seconds = _best_per_call(fn, number=max(3, min(2000, int(0.02 / max(
            _best_per_call(fn, 3, 1), 1e-7)))))
        out.append((name, seconds))
    return out


def profile_worker(config: Config, threads: int, target_steps: int) -> None:
    """Time fit per step, the step's pieces, each layer, the raw NumPy ops, and cProfile."""
    import cProfile
    import pstats

    import numpy as np

    channel = _protocol_channel()
    with _limit_threads("descentlab", threads):
        trainer = DescentlabTrainer(config)
        model, x, y = trainer.model, trainer.x, trainer.y
        trainer.train(1)  # warm-up: flat storage, optimizer slots, _params_and_grads
        n, batch = len(x), config.batch
        steps = math.ceil(n / batch)
        epochs = max(2, math.ceil(target_steps / steps))
        total_steps = epochs * steps

        params, grads = model._params_and_grads
        prepare = getattr(model.loss, "prepare_targets", None)
        y_ready = prepare(y, model.output_units, model.dtype) if prepare else y
        rng = np.random.default_rng(1)
        clock = time.perf_counter_ns
        names = ["shuffle (x[order], y[order], per epoch)", "slice the batch",
                 "forward (all layers)", "loss value",
                 "backward (fused softmax-CE + all layers)",
                 "optimizer (SGD momentum, flat storage)"]
        fit, unshuffled, train_step, best = math.inf, math.inf, math.inf, None
        busy0, cpu0, wall0 = machine_cpu()[0], cpu_seconds(), time.perf_counter()
        # Five passes, each: (1) fit as a user calls it; (2) the same epochs by hand with each
        # piece of the step timed; (3) _train_step alone. Interleaved, so that a noisy moment
        # hits all three; the best pass of each is kept.
        for _ in range(5):
            fit = min(fit, _timed(lambda: trainer.train(epochs)) / total_steps)
            unshuffled = min(unshuffled, _timed(lambda: trainer.train(epochs, shuffle=False))
                             / total_steps)
            spent = dict.fromkeys(names, 0)
            for _ in range(epochs):
                t0 = clock()
                order = rng.permutation(n)
                xs, ys = x[order], y_ready[order]
                spent[names[0]] += clock() - t0
                for step in range(steps):
                    t0 = clock()
                    start = step * batch
                    xb, yb = xs[start:start + batch], ys[start:start + batch]
                    t1 = clock()
                    output = model._forward(xb, training=True)
                    t2 = clock()
                    model.loss(yb, output)
                    t3 = clock()
                    model._backward(yb, output)
                    t4 = clock()
                    model.optimizer.apply(grads, params)
                    t5 = clock()
                    spent[names[1]] += t1 - t0
                    spent[names[2]] += t2 - t1
                    spent[names[3]] += t3 - t2
                    spent[names[4]] += t4 - t3
                    spent[names[5]] += t5 - t4
            if best is None or sum(spent.values()) < sum(best.values()):
                best = spent
            train_step = min(train_step, _best_per_call(
                lambda xb=x[:batch], yb=y_ready[:batch]: model._train_step(xb, yb),
                number=steps, repeat=1))
        pieces = {k: v / 1e9 / total_steps for k, v in best.items()}
        # The step against its matrix products alone, alternately, so that both see the same
        # machine: the share of the step that BLAS does, and what is left for everything else.
        step_times, gemm_times = [], []
        for _ in range(8):
            step_times.append(_best_per_call(
                lambda xb=x[:batch], yb=y_ready[:batch]: model._train_step(xb, yb),
                number=max(3, steps), repeat=1))
            gemm_times.append(step_gemms("descentlab", config, repeats=1))
        gemm_share = statistics.median(g / t for g, t in zip(gemm_times, step_times,
                                                               strict=True))
        wall = time.perf_counter() - wall0
        others = max(0.0, machine_cpu()[0] - busy0 - (cpu_seconds() - cpu0)) / (
            wall * (os.cpu_count() or 1))

        # 4. each layer's forward and backward (timing wrappers on the instances).
        per_layer: dict[str, list[int]] = {}
        originals = []
        for k, layer in enumerate(model.layers):
            label = f"L{k + 1} {layer.kernel.shape[0]}→{layer.kernel.shape[1]} " \
                    f"{layer.activation.name}"
            per_layer[label] = [0, 0]
            for slot, method in ((0, "forward"), (1, "backward")):
                original = getattr(layer, method)
                originals.append((layer, method))

                def wrapped(*args, _original=original, _slot=slot, _label=label, **kwargs):
                    t0 = clock()
                    result = _original(*args, **kwargs)
                    per_layer[_label][_slot] += clock() - t0
                    return result
                setattr(layer, method, wrapped)
        wrapped_steps = 0
        for _ in range(max(1, epochs // 2)):
            for step in range(steps):
                model._train_step(x[step * batch:(step + 1) * batch],
                                  y_ready[step * batch:(step + 1) * batch])
                wrapped_steps += 1
        for layer, method in originals:
            delattr(layer, method)
        layers = {k: (f / 1e9 / wrapped_steps, b / 1e9 / wrapped_steps)
                  for k, (f, b) in per_layer.items()}

        # 5. the NumPy floor and cProfile's view of fit.
        numpy_ops = _numpy_ops(model, batch)
        profiler = cProfile.Profile()
        profiler.enable()
        trainer.train(epochs)
        profiler.disable()
        stats = pstats.Stats(profiler).stats
        rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:18]
        hot = [{"function": f"{os.path.basename(f)}:{line}({name})", "calls": calls,
                "own_us_per_step": own / total_steps * 1e6,
                "cum_us_per_step": cumulative / total_steps * 1e6}
               for (f, line, name), (_, calls, own, cumulative, _) in rows]

    _send(channel, {"config": config.key, "steps": total_steps, "fit_per_step": fit,
                    "fit_unshuffled_per_step": unshuffled,
                    "others_cpu_fraction": others, "gemm_share": gemm_share,
                    "gemm_seconds": statistics.median(gemm_times),
                    "step_seconds": statistics.median(step_times),
                    "train_step": train_step, "pieces": pieces, "layers": layers,
                    "numpy_ops": numpy_ops, "cprofile": hot})


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def worker_main(args: argparse.Namespace) -> None:
    config = CONFIGS[args.config]
    if args.worker == "serve":
        serve(args.framework, config, args.threads)
    elif args.worker == "memory":
        memory_worker(args.framework, config, args.threads, args.memory_steps)
    elif args.worker == "profile":
        profile_worker(config, args.threads, args.profile_steps)
    else:
        raise SystemExit(f"unknown worker {args.worker!r}")


# ---------------------------------------------------------------------------------------------
# The parent: starts workers, alternates rounds, prints the tables.
# ---------------------------------------------------------------------------------------------
class Worker:
    """A worker process and its line protocol: one JSON command in, one JSON answer out."""

    def __init__(self, threads: int, worker: str, config: str, framework: str = "descentlab",
                 **extra: Any) -> None:
        command = [sys.executable, os.path.abspath(__file__), "--worker", worker,
                   "--config", config, "--framework", framework, "--threads", str(threads)]
        for key, value in extra.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        self.name = f"{worker} {framework} {config}"
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)

    def receive(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise RuntimeError(f"worker '{self.name}' ended without an answer (exit status "
                               f"{code}); its error is printed above.")
        return json.loads(line)

    def ask(self, **command: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.receive()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            self.process.wait(timeout=60)


def run_once(threads: int, worker: str, config: str, framework: str = "descentlab",
             **extra: Any) -> dict[str, Any]:
    handle = Worker(threads, worker, config, framework, **extra)
    try:
        return handle.receive()
    finally:
        handle.close()


def speed_probe() -> float:
    """Milliseconds of a fixed pure-Python loop (best of 3): the machine's speed right now.

    On a virtual machine this moves by tens of per cent from second to second (a neighbour on
    the same physical core, frequency changes) without any process of ours being busy; the
    spread of the probe over a run is the noise floor of its ratios.
    """
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(50_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def timed_round(worker: Worker, epochs: int) -> dict[str, Any]:
    """One round: ``epochs`` epochs in ``worker``, with what the rest of the machine used."""
    time.sleep(PAUSE)
    probe = speed_probe()
    busy0, steal0 = machine_cpu()
    answer = worker.ask(op="train", epochs=epochs)
    busy1, steal1 = machine_cpu()
    wall, cpus = answer["seconds"], os.cpu_count() or 1
    answer["epochs"] = epochs
    answer["probe_ms"] = probe
    answer["others_cpu_fraction"] = max(0.0, (busy1 - busy0) - answer["cpu_seconds"]) / (
        wall * cpus)
    answer["steal_fraction"] = (steal1 - steal0) / (wall * cpus)
    return answer


def benchmark_config(config: Config, threads: int, quick: bool, peak: bool) -> dict[str, Any]:
    """Paired rounds of both frameworks until ``config.rounds`` quiet pairs (at most twice as
    many pairs in all); a pair is quiet when other processes used < QUIET of the machine."""
    workers: dict[str, Worker] = {}
    ready: dict[str, dict[str, Any]] = {}
    try:
        for name in TRAINERS:  # one at a time, so that each one's calibration epoch is alone
            workers[name] = Worker(threads, "serve", config.key, name)
            ready[name] = workers[name].receive()
        samples = ready["descentlab"]["samples"]
        # Each framework trains whole epochs for about round_seconds per round.
        round_seconds = 0.1 if quick else 0.25
        epochs = {name: max(1, round(round_seconds / r["epoch_seconds"]))
                  for name, r in ready.items()}
        wanted = 2 if quick else config.rounds
        pairs: list[dict[str, dict[str, Any]]] = []
        order = list(workers)
        while sum(_quiet(p) for p in pairs) < wanted and len(pairs) < 2 * wanted:
            first = order if len(pairs) % 2 == 0 else order[::-1]  # alternate who goes first
            pairs.append({name: timed_round(workers[name], epochs[name]) for name in first})
        # Best over several alternations: the machine's speed drifts by tens of per cent over
        # seconds, and a best-of taken in one slow second would understate a peak.
        # The products' times are compared like the training rounds: median of paired ratios.
        peaks = dict.fromkeys(workers, 0.0)
        gemm_rounds: dict[str, list[float]] = {name: [] for name in workers}
        for _ in range(0 if quick and not peak else 2 if quick else 6):
            for name, w in workers.items():
                time.sleep(PAUSE)
                answer = w.ask(op="peak")
                peaks[name] = max(peaks[name], answer["gflops"])
                gemm_rounds[name].append(answer["gemm_seconds_per_step"])
    finally:
        for w in workers.values():
            w.close()
    quiet = [p for p in pairs if _quiet(p)]
    used = quiet if len(quiet) >= max(2, wanted // 2) else pairs

    def speed(r: dict[str, Any]) -> float:
        return samples * r["epochs"] / r["seconds"]

    ratios = [speed(p["descentlab"]) / speed(p["torch"]) for p in used]
    out: dict[str, Any] = {
        "label": config.label, "widths": config.widths, "batch": config.batch,
        "samples": samples, "epochs_per_round": epochs, "pairs": pairs,
        "pairs_used": "quiet" if used is quiet else "all (too few quiet ones)",
        "samples_per_second": {name: statistics.median(speed(p[name]) for p in used)
                               for name in TRAINERS},
        "ratio": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)],
        "ratio_quartiles": _quartiles(ratios),
        "target": config.target, "passed": statistics.median(ratios) >= config.target,
        "others_cpu_fraction": statistics.median(
            max(r["others_cpu_fraction"] for r in p.values()) for p in used),
        "probe_ms": [r["probe_ms"] for p in pairs for r in p.values()],
        "cpu_utilisation": {name: statistics.median(p[name]["cpu_seconds"] / p[name]["seconds"]
                                                    for p in used) for name in TRAINERS},
        "environment": {name: r["environment"] for name, r in ready.items()},
    }
    if gemm_rounds["torch"]:
        # If both spent nothing outside their matrix products, the ratio would be this.
        gemms = {name: statistics.median(times) for name, times in gemm_rounds.items()}
        out["gemm_seconds_per_step"] = gemms
        out["gemm_only_ratio"] = statistics.median(
            t / d for d, t in zip(gemm_rounds["descentlab"], gemm_rounds["torch"], strict=True))
        # steps/s = samples/s ÷ batch, so the share of time in products = gemm time × that.
        out["gemm_share"] = {name: gemms[name] * s / config.batch
                             for name, s in out["samples_per_second"].items()}
    if peak:
        flops = training_flops_per_sample(config.widths)
        got = {name: flops * s / 1e9 for name, s in out["samples_per_second"].items()}
        out.update(matmul_peak_gflops=peaks, training_flops_per_sample=flops,
                   training_gflops=got,
                   fraction_of_peak={name: got[name] / peaks[name] for name in got},
                   fraction_of_numpy_peak={name: got[name] / peaks["descentlab"] for name in got})
    return out


def _quartiles(values: list[float]) -> list[float]:
    if len(values) < 2:
        return [values[0], values[0]]
    q = statistics.quantiles(values, n=4)
    return [q[0], q[2]]


def _quiet(pair: dict[str, dict[str, Any]]) -> bool:
    return all(r["others_cpu_fraction"] < QUIET for r in pair.values())


def memory_check(config: Config, threads: int, steps: int) -> dict[str, Any]:
    out = {}
    for framework in TRAINERS:
        result = run_once(threads, "memory", config.key, framework, memory_steps=steps)
        trace = result["rss_trace_mb"]
        result["growth_mb"] = result["rss_end_mb"] - result["rss_warm_mb"]
        # Growth over the second half of the steps tells a leak (still growing) from a one-off
        # step (the allocator keeping a freed block once, then flat).
        middle = trace[len(trace) // 2 - 1] if len(trace) >= 2 else result["rss_warm_mb"]
        result["second_half_growth_mb"] = result["rss_end_mb"] - middle
        result["passed"] = result["growth_mb"] <= RSS_TOLERANCE_MB
        result["verdict"] = ("pass" if result["passed"] else
                             "GROWS: leak" if result["second_half_growth_mb"] > RSS_TOLERANCE_MB
                             else "GROWS once, then flat")
        out[framework] = result
    return out


def print_environment(env: dict[str, Any], unset: str, threads: int) -> None:
    dl_env, torch_env = env["descentlab"], env["torch"]
    cpu = cpu_model()
    t = torch_env["torch"]
    print(f"CPU: {cpu['model']} ({os.cpu_count()} logical CPUs; {', '.join(cpu['flags'])})")
    print(f"Python {dl_env['python']}, NumPy {dl_env['numpy']}, PyTorch {t['version']}; "
          f"{threads} thread(s) each")
    for blas in dl_env["numpy_blas"]:
        path = blas["filepath"] or ""
        # numpy's own BLAS sits in numpy.libs; scipy's (loaded by scikit-learn) in scipy.libs.
        owner = "NumPy" if "numpy" in path else "also loaded" if "scipy" not in path else \
            "SciPy (loaded by scikit-learn, unused by descentlab)"
        print(f"{owner} BLAS: {blas['internal_api']} {blas['version']}, kernel "
              f"{blas['architecture']}, {blas['num_threads']} threads "
              f"({blas['threading_layer']}; {os.path.basename(path)})")
    print(f"PyTorch: {t['num_threads']} threads (parallel_info: at::get_num_threads() = "
          f"{t['parallel_info_threads']}, {t['parallel_backend']} backend); "
          f"MKL {'yes' if t['mkl'] else 'no'} ({t['mkl_version'] or '-'}); "
          f"oneDNN {'yes' if t['onednn'] else 'no'} ({t['onednn_version'] or '-'})")
    if dl_env["torch_imported"]:
        print("warning: torch was imported in the descentlab worker")
    if unset:
        print(f"Environment: removed for this benchmark's processes: {unset}")
    else:
        kept = [f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ]
        print("Environment: " + (", ".join(kept) + " kept (--keep-blas-env)" if kept
                                 else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were not set"))


def print_results(results: dict[str, Any], quick: bool) -> None:
    configs = results["configs"]
    print()
    head = (f"{'network':34} {'descentlab/s':>13} {'PyTorch/s':>11} {'ratio':>6} "
            f"{'(IQR)':>11} {'target':>7}  result")
    print(head)
    print("-" * len(head))
    for entry in configs.values():
        speed = entry["samples_per_second"]
        low, high = entry["ratio_quartiles"]
        print(f"{entry['label']:34} {speed['descentlab']:13,.0f} {speed['torch']:11,.0f} "
              f"{entry['ratio']:6.2f} {f'{low:.2f}-{high:.2f}':>11} "
              f"{'≥ ' + format(entry['target'], '.1f'):>7}  "
              f"{'pass' if entry['passed'] else 'FAIL'}")
    print("samples/s: median over paired rounds of whole epochs (warm-up excluded); ratio = "
          "descentlab/PyTorch samples/s,\nthe median of the per-pair ratios (interquartile "
          "range beside it). "
          f"Rounds in which other processes used ≥ {100 * QUIET:.0f} % of the machine are re-run.")
    for entry in configs.values():
        busy = entry["others_cpu_fraction"]
        util = entry["cpu_utilisation"]
        epochs = entry["epochs_per_round"]
        note = "  ← machine busy: numbers unreliable" if busy >= QUIET else ""
        probe = entry["probe_ms"]
        spread = f"{100 * (max(probe) / min(probe) - 1):.0f} %"
        print(f"  {entry['label']}: rounds of {epochs['descentlab']} / {epochs['torch']} epochs "
              f"(descentlab / torch), {len(entry['pairs'])} pairs run, {entry['pairs_used']} "
              f"used;\n    cores kept busy: descentlab {util['descentlab']:.2f}, torch "
              f"{util['torch']:.2f}; other processes {100 * busy:.0f} % of the machine; "
              f"speed probe spread {spread}{note}")
    gemm_rows = [e for e in configs.values() if "gemm_seconds_per_step" in e]
    if gemm_rows:
        print("\nMatrix products alone (the step's x·W, xᵀ·∂z, ∂z·Wᵀ on full batches, "
              "preallocated; median of 6 alternations,\neach the best of 3):")
        for entry in gemm_rows:
            g, share = entry["gemm_seconds_per_step"], entry["gemm_share"]
            print(f"  {entry['label']:34} NumPy {g['descentlab'] * 1e6:8.1f} µs/step, PyTorch "
                  f"{g['torch'] * 1e6:8.1f} µs/step → ceiling ratio {entry['gemm_only_ratio']:.2f}"
                  f"; share of the step: descentlab {100 * share['descentlab']:.0f} %, "
                  f"PyTorch {100 * share['torch']:.0f} %")
    for entry in configs.values():
        if "matmul_peak_gflops" not in entry:
            continue
        peak, got = entry["matmul_peak_gflops"], entry["training_gflops"]
        print(f"\n{entry['label']}: {entry['training_flops_per_sample'] / 1e6:.2f} MFLOP per "
              "sample per step (= 6·ΣM − 2·M₁, M_l = n_in·n_out: forward 2·M, ∂W 2·M, ∂x 2·M "
              "except layer 1)")
        print(f"  float32 matmul 1024×1024×1024 peak (best of 6×5, alternating): NumPy "
              f"{peak['descentlab']:.1f} GFLOP/s, PyTorch {peak['torch']:.1f} GFLOP/s")
        print(f"  training reaches: descentlab {got['descentlab']:.1f} GFLOP/s = "
              f"{100 * entry['fraction_of_peak']['descentlab']:.0f} % of NumPy's peak; PyTorch "
              f"{got['torch']:.1f} GFLOP/s = {100 * entry['fraction_of_peak']['torch']:.0f} % "
              "of its own peak")
    memory = [(entry["label"], fw, m) for entry in configs.values()
              for fw, m in entry.get("memory", {}).items()]
    if memory:
        print(f"\nMemory (RSS from /proc/self/statm, MB; each framework in its own process; "
              f"growth allowed ≤ {RSS_TOLERANCE_MB:.0f} MB):")
        head = (f"{'network':34} {'framework':10} {'built':>7} {'warm':>7} {'end':>7} "
                f"{'growth':>7} {'steps':>6} {'peak':>7}  result")
        print(head)
        print("-" * len(head))
        for label, fw, m in memory:
            print(f"{label:34} {fw:10} {m['rss_built_mb']:7.1f} {m['rss_warm_mb']:7.1f} "
                  f"{m['rss_end_mb']:7.1f} {m['growth_mb']:+7.2f} {m['steps']:6d} "
                  f"{m['peak_rss_mb']:7.1f}  {m['verdict']}")
        print("built = after imports, data and model; warm = after 2 warm-up epochs; end = after "
              "the steps (one fit call / loop);\npeak = ru_maxrss of the process, imports "
              "included (torch's libraries are most of its peak).")
    if quick:
        print("\n--quick: few rounds and steps; a smoke test, not a measurement.")


def print_profile(result: dict[str, Any]) -> None:
    config = CONFIGS[result["config"]]
    us = 1e6
    fit = result["fit_per_step"]
    print(f"\nProfile of one descentlab training step: {config.label} "
          f"(averaged over {result['steps']} steps; best of 5 passes;\n other processes used "
          f"{100 * result['others_cpu_fraction']:.0f} % of the machine meanwhile)")
    print(f"  model.fit, wall time per step               {fit * us:8.1f} µs   100 %")
    pieces = result["pieces"]
    for name, seconds in pieces.items():
        print(f"    {name:42} {seconds * us:8.1f} µs  {100 * seconds / fit:4.0f} %")
    rest = fit - sum(pieces.values())
    print(f"    {'fit per-batch overhead (the rest)':42} {rest * us:8.1f} µs  "
          f"{100 * rest / fit:4.0f} %" + ("  (< 0: within the machine's noise)" if rest < 0
                                          else ""))
    print(f"  model._train_step alone (same batch each time)  {result['train_step'] * us:8.1f} µs")
    shuffle_cost = fit - result["fit_unshuffled_per_step"]
    print(f"  model.fit(shuffle=False), per step              "
          f"{result['fit_unshuffled_per_step'] * us:8.1f} µs  (so shuffling, i.e. gathering the "
          f"data in permuted order, costs {shuffle_cost * us:.1f} µs/step, "
          f"{100 * shuffle_cost / fit:.0f} %)")
    print(f"  _train_step vs its matrix products alone, alternating 8×: step "
          f"{result['step_seconds'] * us:.1f} µs, products {result['gemm_seconds'] * us:.1f} µs "
          f"→ BLAS does {100 * result['gemm_share']:.0f} % of the step, the rest is NumPy "
          "elementwise work and Python")
    print("  per layer (timing wrappers add ~0.2 µs per call):")
    for label, (forward, backward) in result["layers"].items():
        print(f"    {label:30} forward {forward * us:7.1f} µs   backward {backward * us:7.1f} µs")
    print("  the NumPy calls such a step needs, each timed alone (a floor for a NumPy engine):")
    floor = 0.0
    for name, seconds in result["numpy_ops"]:
        floor += seconds
        print(f"    {name:62} {seconds * us:8.2f} µs")
    print(f"    {'sum = NumPy floor of the step':62} {floor * us:8.2f} µs "
          f"(fit spends {fit / floor:.1f}× that)")
    print("  cProfile of fit (own = time inside the function itself), per training step:")
    print(f"    {'function':58} {'calls':>8} {'own µs':>8} {'cum µs':>8}")
    for row in result["cprofile"]:
        print(f"    {row['function'][:58]:58} {row['calls']:8d} {row['own_us_per_step']:8.2f} "
              f"{row['cum_us_per_step']:8.2f}")


def reexec_without_blas_env(keep: bool) -> None:
    """Re-run this script without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (before NumPy loads)."""
    present = [name for name in BLAS_ENV if name in os.environ]
    if keep or not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    env[UNSET_MARKER] = ", ".join(f"{k}={os.environ[k]}" for k in present)
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Training throughput of descentlab's model.fit against PyTorch eager.")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: 2 rounds, 200 memory steps")
    parser.add_argument("--json", metavar="PATH", help="also write all results to PATH")
    parser.add_argument("--threads", type=int, default=threads_available(),
                        help="threads for NumPy's BLAS and torch (default: all cores)")
    parser.add_argument("--configs", default="abc", help="which networks to run (default abc)")
    parser.add_argument("--profile", nargs="?", const="a", metavar="a|b|c|all",
                        help="only profile descentlab's training step (default network a)")
    parser.add_argument("--keep-blas-env", action="store_true",
                        help="do not unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--framework", default="descentlab", help=argparse.SUPPRESS)
    parser.add_argument("--config", default="a", help=argparse.SUPPRESS)
    parser.add_argument("--memory-steps", type=int, default=MEMORY_STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--profile-steps", type=int, default=1000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    reexec_without_blas_env(args.keep_blas_env)
    unset = os.environ.get(UNSET_MARKER, "")
    if unset:
        print(f"note: this benchmark removed {unset} from its environment (re-executed itself "
              "before NumPy was imported)", flush=True)

    if args.profile:
        keys = list(CONFIGS) if args.profile == "all" else list(args.profile)
        for key in keys:
            steps = 200 if args.quick else (1000 if key == "a" else 100)
            print_profile(run_once(args.threads, "profile", key, profile_steps=steps))
        return

    started = time.perf_counter()
    results: dict[str, Any] = {"threads": args.threads, "unset_environment": unset,
                               "quick": args.quick, "configs": {}}
    memory_steps = 200 if args.quick else MEMORY_STEPS
    for key in args.configs:
        config = CONFIGS[key]
        print(f"running {config.label} ...", flush=True)
        entry = benchmark_config(config, args.threads, args.quick, peak=key == "c")
        if config.memory:
            entry["memory"] = memory_check(config, args.threads, memory_steps)
        results["configs"][key] = entry
        if "environment" not in results:
            results["environment"] = entry["environment"]
            print_environment(entry["environment"], unset, args.threads)
    results["cpu"] = cpu_model()
    results["seconds"] = time.perf_counter() - started
    print_results(results, args.quick)
    print(f"\n(total {results['seconds']:.0f} s)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1, default=_jsonable)
        print(f"results written to {args.json}")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return str(value)


if __name__ == "__main__":
    main()
