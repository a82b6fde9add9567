"""descentlab's playground measured as bench_playground_tf.py measures TensorFlow Playground.

The same TF Playground defaults (circle data, 4-2 tanh, learning rate 0.03, batch 10, 50 %
training data, noise 0, seed 0), in this order:

(a) **epochs/s of the training loop alone**: ``descentlab.playground.trainer.Session`` imported
    directly, frames excluded: ``step(1)`` (one epoch per call, as TF's one epoch per frame) and
    ``train_for(TRAIN_SLICE)`` (what the server's loop does between frames: ``fit`` over
    adaptively many epochs); also the cost of one ``frame_message`` with its JSON encoding, and
    its size;
then a real server, ``python -m descentlab.cli playground --no-browser --port N`` on 127.0.0.1,
and its page in headless Chromium (Playwright; the same flags and in-page probes as
bench_playground_tf.py), for the default network, TF's largest (6 × 8) and a 10 × 8 network:

(a') **epochs/s in the page**: the rise of the epoch counter (``#epoch``) over ``--seconds``
     after pressing play and a 1 s warm-up;
(b)  **frames/s**: ``frame`` messages received by the page (counted by a wrapper around its
     WebSocket), frames drawn (``ack`` messages the page sends after drawing one), and the
     browser's requestAnimationFrame rate; and **what a drawn frame costs**: the page's main
     thread (Chrome's Performance.getMetrics: all tasks, and of those script, style
     recalculation, layout) and the CPU time of the browser's processes (the compositor's
     too) and of the server, in ms per drawn frame (less disturbed by a busy machine);
(c)  **latency of a control change**: from dispatching ``change`` on ``#learning-rate`` (applied
     live by the server: answer ``updated``) or ``#activation`` (the server rebuilds: ``ready``)
     to the first DOM update of ``#epoch`` drawing a frame that arrived after that answer
     ("DOM"), and to the end of the rendering step painting it ("painted"); median and maximum
     of ``--trials`` changes, while playing. Where the time goes is reported too: when the page
     sent the ``config`` message, when the server's answer arrived, when the first frame after
     it arrived;
(d)  the 10-layer × 8 network's rates (its frames carry 80 neuron heatmaps);
(e)  **CPU while paused**: the server process's CPU time over 5 s (psutil), as a share of one
     core; the browser's too, and both while playing;
(f)  **server RSS over a long run**: playing the default network for ``--minutes`` (default 1),
     RSS sampled every few seconds; the least-squares slope (MB/min) over the whole run and over
     its second half; the page's JS heap before and after.

Rate and latency measurements are taken again while other processes keep the machine busy, as
in bench_playground_tf.py (``--tries``).

With ``--tf-dist`` (TensorFlow Playground's built dist folder; see bench_playground_tf.py for how
to obtain it) the TF measurements run first, in the same browser, and the output ends with the
ratios descentlab / TF for everything measured on both sides. TF trains tanh outputs on the
squared error, one epoch per animation frame, in the page; descentlab trains a sigmoid output on
binary cross-entropy in the server and sends frames at up to 60/s, so its epochs/s and frames/s
are separate numbers while TF's are one.

Usage::

    python benchmarks/bench_playground.py                        # ours only, about 3 minutes
    python benchmarks/bench_playground.py --tf-dist PATH/TO/dist --json out.json  # 5 minutes
    python benchmarks/bench_playground.py --seconds 20 --minutes 5

Needs the test environment (.venv-test: Playwright, psutil, threadpoolctl) and a Chromium at
``--chromium`` (default /usr/bin/chromium, Debian's). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
where set, are removed for this script and its server (it re-executes itself without them
before NumPy is imported); ``--keep-blas-env`` keeps them. NumPy's BLAS is reported either way.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_playground_tf as tfb  # noqa: E402  (the shared helpers live beside this script)
from bench_labs import BLAS_ENV, reexec_without_blas_env  # noqa: E402

MARKER = "DESCENTLAB_BENCH_PLAYGROUND_UNSET"
#: TF Playground's defaults in descentlab's keys (docs/playground.md; the same names as TF's).
TF_DEFAULTS = {"problem": "classification", "dataset": "circle", "noise": 0,
               "percTrainData": 50, "batchSize": 10, "x": True, "y": True,
               "activation": "tanh", "learningRate": 0.03, "regularization": "none",
               "regularizationRate": 0.0, "optimizer": "sgd", "seed": 0}
NETWORKS = {"default": [4, 2], "tf_deep": [8] * 6, "deep10": [8] * 10}
RSS_EVERY = 3.0
SERVER_START_TIMEOUT = 60.0

#: Counts the WebSocket's messages by type (without parsing whole frames), the acks the page
#: sends, and follows one configuration change: sent → answered (updated/ready) → frames after.
OURS_INIT_SCRIPT = r"""
(() => {
  const bench = window.__bench;
  bench.received = {};
  bench.acks = 0;
  bench.errors = [];
  bench.change = {state: "idle", frames: 0};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const head = typeof event.data === "string" ? event.data.slice(0, 40) : "";
        const match = /^\{"type":"(\w+)"/.exec(head);
        const type = match ? match[1] : "?";
        bench.received[type] = (bench.received[type] || 0) + 1;
        if (type === "error") {
          try { bench.errors.push(JSON.parse(event.data).message); } catch (e) { /* kept count */ }
        }
        const change = bench.change;
        if (change.state === "sent" && (type === "updated" || type === "ready")) {
          change.state = "answered";
          change.answeredAt = performance.now();
          change.frames = 0;
        } else if (change.state === "answered" && type === "frame") {
          change.frames++;
          if (change.frames === 1) change.frameAt = performance.now();
        }
      });
    }
    send(data) {
      if (typeof data === "string" && data.startsWith('{"type":"ack"')) bench.acks++;
      if (typeof data === "string" && data.startsWith('{"type":"config"') &&
          bench.change.state === "sent" && !bench.change.sentAt) {
        bench.change.sentAt = performance.now();
      }
      return super.send(data);
    }
  };
})();
"""


def blas_report() -> list[dict]:
    import numpy  # noqa: F401  (load NumPy's BLAS before asking about it)
    import threadpoolctl

    return [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return float("nan")
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


# ---------------------------------------------------------------------------------------------
# (a) the training loop alone, in this process.
# ---------------------------------------------------------------------------------------------
def time_trainer(shape: list[int], seconds: float) -> dict[str, Any]:
    """Epochs/s of ``Session.step(1)`` and of the server's ``train_for`` slices; frame cost."""
    from descentlab.playground import config as cfg
    from descentlab.playground import trainer
    from descentlab.playground.server import TRAIN_SLICE

    session = trainer.Session(cfg.validate({**TF_DEFAULTS, "networkShape": shape}))
    session.step(3)  # warm-up: first fit, caches
    cpu = tfb.CpuWindow({})  # this process alone: the rest of the machine should be idle
    half = seconds / 2
    epochs, started = 0, time.perf_counter()
    while time.perf_counter() - started < half:
        session.step(1)
        epochs += 1
    one = epochs / (time.perf_counter() - started)
    epochs, started = 0, time.perf_counter()
    while time.perf_counter() - started < half:
        epochs += session.train_for(TRAIN_SLICE)
    sliced = epochs / (time.perf_counter() - started)
    costs, sizes = [], []
    for _ in range(15):
        t0 = time.perf_counter()
        text = json.dumps(session.frame_message(playing=True), separators=(",", ":"))
        costs.append(time.perf_counter() - t0)
        sizes.append(len(text))
    return {"others_machine_share": cpu.stop()["others_machine_share"],
            "network_shape": shape, "epochs_per_second_step1": one,
            "epochs_per_second_train_for": sliced, "train_slice_seconds": TRAIN_SLICE,
            "epochs_per_fit_call": session._epochs_per_call,
            "frame_ms_median": 1000 * statistics.median(costs),
            "frame_ms_max": 1000 * max(costs), "frame_kb": statistics.median(sizes) / 1024}


# ---------------------------------------------------------------------------------------------
# The server and its page.
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``descentlab playground --no-browser`` on 127.0.0.1 in a child process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-playground-", suffix=".log")
        self.command = [sys.executable, "-m", "descentlab.cli", "playground", "--no-browser",
                        "--port", str(self.port)]
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Server:
        env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
        self.proc = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.2)
        self.log.seek(0)
        self.__exit__()
        sys.exit(f"the playground server did not start: {' '.join(self.command)}\n"
                 f"{self.log.read()}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def processes(self) -> list:
        import psutil

        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        return []

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total / 2**20


def shape_label(shape: list[int] | str) -> str:
    """"4,2"; a long run of equal widths as "8x10" so that it fits a table column."""
    widths = shape.split(",") if isinstance(shape, str) else [str(w) for w in shape]
    if len(widths) > 3 and len(set(widths)) == 1:
        return f"{widths[0]}x{len(widths)}"
    return ",".join(widths)


def page_hash(shape: list[int]) -> str:
    parts = []
    for key, value in {**TF_DEFAULTS, "networkShape": shape, "lang": "en"}.items():
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, list):
            value = ",".join(map(str, value))
        parts.append(f"{key}={value}")
    return "&".join(parts)


def wait_until(page, predicate: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` (a JS function's source) until it returns true. Playwright's own
    wait_for_function evaluates a string in the page, which the page's CSP (no unsafe-eval)
    forbids; ``page.evaluate`` of a function goes through the DevTools protocol instead."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page never satisfied {predicate}")
        page.wait_for_timeout(20)


def epoch_of(page) -> int:
    return int(page.inner_text("#epoch").replace(",", "") or 0)


def status(page) -> str:
    return page.evaluate("() => document.body.dataset.status")


def open_ours(page, server: Server, shape: list[int]) -> None:
    page.goto(f"{server.url}#{page_hash(shape)}", wait_until="load")
    wait_until(page, "() => document.body.dataset.status === 'ready' && "
               "window.descentlab.lastFrame !== null", 60)
    shape_now = page.evaluate("() => window.descentlab.ready.runs[0].shape")
    assert shape_now[1:-1] == shape, f"the page built {shape_now}, not {shape}"


def play(page) -> None:
    if status(page) != "playing":
        page.click("#play-pause")
        wait_until(page, "() => document.body.dataset.status === 'playing'")


def pause(page) -> None:
    if status(page) == "playing":
        page.click("#play-pause")
        wait_until(page, "() => document.body.dataset.status !== 'playing'")


def counters(page) -> dict[str, Any]:
    return page.evaluate("() => ({frames: window.__bench.received.frame || 0, "
                         "acks: window.__bench.acks, epoch: window.descentlab.lastFrame.epoch})")


#: The page's main-thread times (Chrome's Performance.getMetrics, seconds) reported per frame.
PAGE_METRICS = {"TaskDuration": "task", "ScriptDuration": "script",
                "RecalcStyleDuration": "style", "LayoutDuration": "layout"}


def page_metrics(cdp) -> dict[str, float]:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {short: metrics[name] for name, short in PAGE_METRICS.items()}


def rates(page, cdp, server: Server, seconds: float) -> dict[str, Any]:
    """Epochs/s (the counter), frames/s received and drawn, rAF/s, CPU, while playing; and
    what a drawn frame costs: the page's main thread (all its tasks, and of those: script,
    style, layout) and the CPU time of the browser's processes and of the server, in ms. CPU
    per frame is disturbed far less by other processes than frames/s are."""
    play(page)
    page.wait_for_timeout(tfb.WARMUP_SECONDS * 1000)
    page.evaluate("() => window.__bench.startFrames()")
    cpu = tfb.CpuWindow({"server": server.processes, "browser": tfb.browser_processes})
    m0 = page_metrics(cdp)
    c0, e0, t0 = counters(page), epoch_of(page), time.perf_counter()
    samples = []
    while time.perf_counter() - t0 < seconds:
        page.wait_for_timeout(1000)
        samples.append((time.perf_counter() - t0, epoch_of(page) - e0))
    c1, e1, wall = counters(page), epoch_of(page), time.perf_counter() - t0
    m1 = page_metrics(cdp)
    cpu_playing = cpu.stop()
    drawn = max(1, c1["acks"] - c0["acks"])
    per_frame = {k: 1000 * (m1[k] - m0[k]) / drawn for k in m0}
    per_frame["browser_cpu"] = 1000 * cpu_playing["browser"]["cpu_seconds"] / drawn
    per_frame["server_cpu"] = 1000 * cpu_playing["server"]["cpu_seconds"] / drawn
    frames = tfb.frame_stats(page.evaluate("() => window.__bench.stopFrames()"))
    per_second = [(b[1] - a[1]) / (b[0] - a[0])
                  for a, b in zip([(0.0, 0), *samples[:-1]], samples, strict=True)]
    return {"others_machine_share": cpu_playing["others_machine_share"],
            "epochs_per_second": (e1 - e0) / wall, "epochs": e1 - e0, "seconds": wall,
            "epochs_per_second_median_of_seconds": statistics.median(per_second),
            "frames_received_per_second": (c1["frames"] - c0["frames"]) / wall,
            "frames_drawn_per_second": (c1["acks"] - c0["acks"]) / wall,
            "epochs_per_frame": (e1 - e0) / max(1, c1["acks"] - c0["acks"]),
            "ms_per_drawn_frame": per_frame, "frames": frames, "cpu_playing": cpu_playing}


def latency(page, server: Server, kind: str, trials: int) -> dict[str, Any]:
    """Control change → the first drawn frame that arrived after the server's answer."""
    selector, values = (("#learning-rate", ["0.01", "0.03"]) if kind == "learningRate"
                        else ("#activation", ["relu", "tanh"]))
    results = []
    cpu = tfb.CpuWindow({"server": server.processes, "browser": tfb.browser_processes})
    for trial in range(trials):
        play(page)
        page.wait_for_timeout(300 + 37 * trial)  # vary the phase against the frame clock
        results.append(page.evaluate(
            """([selector, value]) => {
                 const bench = window.__bench;
                 return bench.latency(() => {
                   bench.change = {state: "sent", frames: 0, t0: performance.now()};
                   const node = document.querySelector(selector);
                   node.value = value;
                   node.dispatchEvent(new Event('change'));
                 }, '#epoch',
                 () => bench.change.state === "answered" && bench.change.frames >= 1, 20000
                 ).then((r) => r && {...r, sent: bench.change.sentAt - bench.change.t0,
                                     answer: bench.change.answeredAt - bench.change.t0,
                                     arrival: bench.change.frameAt - bench.change.t0});
               }""",
            [selector, values[trial % 2]]))
    pause(page)
    ok = [r for r in results if r]
    return {"trials": trials, "timeouts": trials - len(ok),
            "others_machine_share": cpu.stop()["others_machine_share"],
            "dom_ms": tfb.summarize([r["dom"] for r in ok]),
            "painted_ms": tfb.summarize([r["painted"] for r in ok]),
            # where the time goes: the page sends the config, the server answers (updated or
            # ready), the first frame after that answer arrives
            "config_sent_ms": tfb.summarize([r["sent"] for r in ok]),
            "answer_ms": tfb.summarize([r["answer"] for r in ok]),
            "frame_arrival_ms": tfb.summarize([r["arrival"] for r in ok])}


def measure_network(browser, server: Server, shape: list[int], seconds: float,
                    trials: int, tries: int = 3, log=print) -> dict[str, Any]:
    page, cdp = tfb.new_page(browser, (OURS_INIT_SCRIPT,))
    try:
        open_ours(page, server, shape)
        page.wait_for_timeout(1000)
        result: dict[str, Any] = {"network_shape": ",".join(map(str, shape)),
                                  "heap_start_mb": tfb.js_heap_mb(cdp)}
        log(f"  CPU while paused ({tfb.IDLE_SECONDS:.0f} s)")
        result["cpu_paused"] = tfb.cpu_share(
            {"server": server.processes, "browser": tfb.browser_processes}, tfb.IDLE_SECONDS)
        log(f"  playing {seconds:.0f} s")
        started = time.perf_counter()
        result.update(tfb.quietest(functools.partial(rates, page, cdp, server, seconds), tries,
                                   log))
        result["heap_after_play_mb"] = tfb.js_heap_mb(cdp)
        result["heap_after_play_gc_mb"] = tfb.js_heap_mb(cdp, collect=True)
        result["heap_play_seconds"] = time.perf_counter() - started
        pause(page)
        for kind in ("learningRate", "activation"):
            log(f"  latency: {kind} ({trials} changes)")
            result[f"latency_{kind}"] = tfb.quietest(
                functools.partial(latency, page, server, kind, trials), tries, log)
        result["rss_mb"] = server.rss_mb()
        # every message type the page received: "error" ones would mean the protocol misfired
        result["messages_received"] = page.evaluate("() => window.__bench.received")
        result["errors_received"] = page.evaluate("() => window.__bench.errors")
        return result
    finally:
        page.context.close()


def long_run(browser, server: Server, minutes: float, log=print) -> dict[str, Any]:
    """(f) Play the default network for ``minutes``; the server's RSS every few seconds."""
    page, cdp = tfb.new_page(browser, (OURS_INIT_SCRIPT,))
    try:
        open_ours(page, server, NETWORKS["default"])
        heap_start = tfb.js_heap_mb(cdp, collect=True)
        play(page)
        started = time.perf_counter()
        samples = [(0.0, server.rss_mb())]
        total = 60 * minutes
        while time.perf_counter() - started < total:
            page.wait_for_timeout(RSS_EVERY * 1000)
            samples.append((time.perf_counter() - started, server.rss_mb()))
        c = counters(page)
        pause(page)
        second_half = [s for s in samples if s[0] >= total / 2]
        out = {"minutes": minutes, "samples": samples, "rss_start_mb": samples[0][1],
               "rss_end_mb": samples[-1][1], "rss_max_mb": max(s[1] for s in samples),
               "slope_mb_per_minute": slope_per_minute(samples),
               "slope_second_half_mb_per_minute": slope_per_minute(second_half),
               "epochs": c["epoch"], "frames_received": c["frames"],
               "heap_start_gc_mb": heap_start, "heap_end_gc_mb": tfb.js_heap_mb(cdp, collect=True)}
        log(f"  {out['epochs']:,} epochs, {out['frames_received']:,} frames in {minutes:g} min")
        return out
    finally:
        page.context.close()


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------
def print_ours_table(trainer_rows: dict[str, Any], live: dict[str, Any],
                     rss: dict[str, Any] | None) -> None:
    def row(label: str, values: list[str]) -> None:
        print(f"{label:48s}" + "".join(f"{v:>16s}" for v in values))

    print(f"{'descentlab: training loop alone (a)':48s}"
          + "".join(f"{k:>16s}" for k in trainer_rows))
    print("-" * (48 + 16 * len(trainer_rows)))
    rows = list(trainer_rows.values())
    row("network", [shape_label(r["network_shape"]) for r in rows])
    row("epochs/s, step(1) per call", [tfb.fmt(r["epochs_per_second_step1"]) for r in rows])
    row("epochs/s, server's train_for slices", [tfb.fmt(r["epochs_per_second_train_for"])
                                                for r in rows])
    row("one frame_message + JSON (ms, median)", [tfb.fmt(r["frame_ms_median"], 2) for r in rows])
    row("frame size (KB)", [tfb.fmt(r["frame_kb"]) for r in rows])
    row("other processes (% of machine)", [tfb.fmt(100 * r["others_machine_share"])
                                           for r in rows])
    print()
    print(f"{'descentlab: server + page':48s}" + "".join(f"{k:>16s}" for k in live))
    print("-" * (48 + 16 * len(live)))
    rows = list(live.values())
    row("network", [shape_label(r["network_shape"]) for r in rows])
    row("epochs/s in the page (a')", [tfb.fmt(r["epochs_per_second"]) for r in rows])
    row("frames/s received (b)", [tfb.fmt(r["frames_received_per_second"]) for r in rows])
    row("frames/s drawn (acks)", [tfb.fmt(r["frames_drawn_per_second"]) for r in rows])
    row("epochs per drawn frame", [tfb.fmt(r["epochs_per_frame"]) for r in rows])
    row("rAF frames/s (browser)", [tfb.fmt(r["frames"]["fps"]) for r in rows])
    row("page main thread per drawn frame (ms)",
        [tfb.fmt(r["ms_per_drawn_frame"]["task"]) for r in rows])
    row("  of which script / style / layout (ms)",
        ["/".join(tfb.fmt(r["ms_per_drawn_frame"][k], 2 if k != "script" else 1)
                  for k in ("script", "style", "layout")) for r in rows])
    row("CPU per drawn frame: browser / server (ms)",
        [f"{tfb.fmt(r['ms_per_drawn_frame']['browser_cpu'])} / "
         f"{tfb.fmt(r['ms_per_drawn_frame']['server_cpu'])}" for r in rows])
    parts = {"config_sent_ms": "config sent", "answer_ms": "server answers",
             "frame_arrival_ms": "frame arrives", "dom_ms": "DOM", "painted_ms": "painted"}
    for kind in ("learningRate", "activation"):
        for part, name in parts.items():
            row(f"(c) {kind} -> {name}, med/max (ms)",
                [f"{tfb.fmt(r[f'latency_{kind}'][part]['median'])}/"
                 f"{tfb.fmt(r[f'latency_{kind}'][part]['max'])}" for r in rows])
    row("CPU paused, server (% of a core) (e)",
        [tfb.fmt(100 * r["cpu_paused"]["server"]["core_share"], 2) for r in rows])
    row("CPU paused, browser (% of a core)",
        [tfb.fmt(100 * r["cpu_paused"]["browser"]["core_share"], 2) for r in rows])
    row("CPU playing, server / browser (%)",
        [f"{tfb.fmt(100 * r['cpu_playing']['server']['core_share'], 0)} / "
         f"{tfb.fmt(100 * r['cpu_playing']['browser']['core_share'], 0)}" for r in rows])
    row("other processes, playing (% of machine)",
        [tfb.fmt(100 * r["cpu_playing"]["others_machine_share"]) for r in rows])
    row("hypervisor steal, playing (% of machine)",
        [tfb.fmt(100 * r["cpu_playing"]["steal_machine_share"]) for r in rows])
    row("other processes, paused (% of machine)",
        [tfb.fmt(100 * r["cpu_paused"]["others_machine_share"]) for r in rows])
    row("other processes, latency trials (% of machine)",
        [f"{tfb.fmt(100 * r['latency_learningRate']['others_machine_share'])} / "
         f"{tfb.fmt(100 * r['latency_activation']['others_machine_share'])}" for r in rows])
    row("measurements taken again (busy machine)",
        [str(sum(r[k]["attempt"] - 1 for k in ("latency_learningRate", "latency_activation"))
             + r["attempt"] - 1) for r in rows])
    row("JS heap start / after play / GC (MB)",
        [f"{r['heap_start_mb']:.1f}/{r['heap_after_play_mb']:.1f}/"
         f"{r['heap_after_play_gc_mb']:.1f}" for r in rows])
    row("server RSS after the network's tests (MB)", [tfb.fmt(r["rss_mb"]) for r in rows])
    row("error messages received by the page",
        [str(r["messages_received"].get("error", 0)) for r in rows])
    if rss:
        print()
        print(f"(f) server RSS over {rss['minutes']:g} min of playing the default network: "
              f"{rss['rss_start_mb']:.1f} -> {rss['rss_end_mb']:.1f} MB (max "
              f"{rss['rss_max_mb']:.1f}); slope {rss['slope_mb_per_minute']:+.2f} MB/min, "
              f"second half {rss['slope_second_half_mb_per_minute']:+.2f} MB/min; "
              f"{rss['epochs']:,} epochs, {rss['frames_received']:,} frames; page JS heap "
              f"after GC {rss['heap_start_gc_mb']:.1f} -> {rss['heap_end_gc_mb']:.1f} MB")


def ratios(tf: dict[str, Any], ours: dict[str, Any], trainer_rows: dict[str, Any]) -> dict:
    """descentlab / TF for what both measured (same network: default and 6 × 8)."""
    out: dict[str, Any] = {}
    for name, tf_name in (("default", "default"), ("tf_deep", "deep")):
        if name not in ours or tf_name not in tf:
            continue
        o, t = ours[name], tf[tf_name]
        r = {
            "epochs_per_second_page": o["epochs_per_second"] / t["epochs_per_second"],
            "epochs_per_second_step1": trainer_rows[name]["epochs_per_second_step1"]
            / t["epochs_per_second"],
            "epochs_per_second_train_for": trainer_rows[name]["epochs_per_second_train_for"]
            / t["epochs_per_second"],
            "frames_drawn_per_second": o["frames_drawn_per_second"]
            / t["display_updates_per_second"],
            "raf_per_second": o["frames"]["fps"] / t["frames"]["fps"],
        }
        for kind in ("learningRate", "activation"):
            for part in ("dom_ms", "painted_ms"):
                r[f"latency_{kind}_{part}"] = (o[f"latency_{kind}"][part]["median"]
                                               / t[f"latency_{kind}"][part]["median"])
        tf_paused = max(t["cpu_paused"]["browser"]["core_share"], 1e-9)
        r["cpu_paused_server_vs_tf_browser"] = o["cpu_paused"]["server"]["core_share"] / tf_paused
        r["cpu_paused_browser"] = o["cpu_paused"]["browser"]["core_share"] / tf_paused
        out[name] = r
    return out


def print_ratios(r: dict[str, Any]) -> None:
    labels = [
        ("epochs/s: page counter (ours) / TF", "epochs_per_second_page"),
        ("epochs/s: step(1) alone (ours) / TF", "epochs_per_second_step1"),
        ("epochs/s: train_for alone (ours) / TF", "epochs_per_second_train_for"),
        ("frames drawn/s (ours) / TF display updates/s", "frames_drawn_per_second"),
        ("browser rAF/s (ours) / TF", "raf_per_second"),
        ("latency learningRate, DOM (lower is better)", "latency_learningRate_dom_ms"),
        ("latency learningRate, painted (lower better)", "latency_learningRate_painted_ms"),
        ("latency activation, DOM (lower is better)", "latency_activation_dom_ms"),
        ("latency activation, painted (lower better)", "latency_activation_painted_ms"),
        ("CPU paused: our server / TF's browser", "cpu_paused_server_vs_tf_browser"),
        ("CPU paused: our browser / TF's browser", "cpu_paused_browser"),
    ]
    print(f"{'ratio descentlab / TF Playground':48s}" + "".join(f"{k:>16s}" for k in r))
    print("-" * (48 + 16 * len(r)))
    for label, key in labels:
        print(f"{label:48s}" + "".join(f"{tfb.fmt(v[key], 2) + 'x':>16s}" for v in r.values()))


# ---------------------------------------------------------------------------------------------
def main() -> None:
    removed = reexec_without_blas_env(MARKER)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf-dist", type=Path, default=None,
                        help="TensorFlow Playground's built dist folder: measure it too")
    parser.add_argument("--tf-commit", default=None, help="TF Playground commit, if not in git")
    parser.add_argument("--minutes", type=float, default=1.0,
                        help="length of the server-RSS run (default 1; 0 skips it)")
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help=f"which of {', '.join(NETWORKS)} to run live (default: all)")
    parser.add_argument("--keep-blas-env", action="store_true")
    tfb.add_common_arguments(parser)
    args = parser.parse_args()
    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    unknown = set(networks) - set(NETWORKS)
    if unknown:
        parser.error(f"unknown network(s) {', '.join(sorted(unknown))}")
    if args.tf_dist is not None:
        tfb.check_tf_dist(args.tf_dist)

    import descentlab

    out: dict[str, Any] = {"blas": blas_report(), "blas_env_removed": removed,
                           "descentlab": descentlab.__version__, "seconds": args.seconds,
                           "trials": args.trials}
    print(f"BLAS: {out['blas']}; removed from the environment: {removed or 'nothing'}")
    print("(a) the training loop alone, frames excluded")
    trainer_rows = {}
    for name, shape in NETWORKS.items():
        trainer_rows[name] = tfb.quietest(
            functools.partial(time_trainer, shape, max(4.0, args.seconds / 2)), args.tries)
        print(f"  {name}: step(1) {trainer_rows[name]['epochs_per_second_step1']:.1f} epochs/s, "
              f"train_for {trainer_rows[name]['epochs_per_second_train_for']:.1f} epochs/s")
    out["trainer"] = trainer_rows

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = tfb.launch_browser(playwright, args.chromium)
        try:
            out["machine"] = tfb.machine_info(browser)
            print(f"machine: {out['machine']['cores']} cores ({out['machine']['cpu_model']}), "
                  f"Chromium {out['machine']['chromium']}")
            if args.tf_dist is not None:
                out["tf_playground"] = tfb.tf_dist_info(args.tf_dist, args.tf_commit)
                print(f"TF Playground {out['tf_playground']['commit']}")
                out["tf"] = tfb.run_tf(browser, args.tf_dist, args.seconds, args.trials,
                                       args.tries)
            live: dict[str, Any] = {}
            with Server() as server:
                out["server_command"] = " ".join(server.command)
                for name in networks:
                    print(f"descentlab, network {name} {NETWORKS[name]}: loading")
                    live[name] = measure_network(browser, server, NETWORKS[name], args.seconds,
                                                 args.trials, args.tries)
                if args.minutes > 0:
                    print(f"(f) playing the default network for {args.minutes:g} min")
                    out["rss"] = long_run(browser, server, args.minutes)
            out["ours"] = live
        finally:
            browser.close()

    print()
    if "tf" in out:
        tfb.print_tf_table(out["tf"])
        print()
    print_ours_table(trainer_rows, out["ours"], out.get("rss"))
    if "tf" in out:
        out["ratios"] = ratios(out["tf"], out["ours"], trainer_rows)
        print()
        print_ratios(out["ratios"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(out, stream, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
