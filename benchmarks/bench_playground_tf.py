"""TensorFlow Playground's speed in headless Chromium: the reference for descentlab's playground.

TensorFlow Playground trains in the page: every animation frame (d3.timer, i.e.
requestAnimationFrame) runs one epoch over the training points (``oneStep``), recomputes the
decision boundaries of every neuron and redraws. This script loads an already built copy of it,
drives it with Playwright in Debian's Chromium and measures, for the default state (circle data,
4-2 tanh, learning rate 0.03, batch 10, 50 % training data, noise 0) and for the largest network
TF allows (6 hidden layers × 8 neurons, set through the URL hash):

- **epochs/s while playing**: the rise of TF's iteration counter (``#iter-number``, one epoch per
  step) over ``--seconds`` after pressing play (``#play-pause-button``) and a 1 s warm-up;
- **frames/s**: requestAnimationFrame callbacks counted in the page over the same window (the
  browser's frame rate), with the median and 95th percentile of the frame interval; TF updates
  its display once per epoch, so its display updates/s equal its epochs/s;
- **latency of a control change**, measured in the page with ``performance.now()``: from
  dispatching ``change`` on ``#learningRate`` (TF applies it on the next epoch) or on
  ``#activations`` (TF rebuilds the network and pauses) to the first mutation of ``#iter-number``
  after it (a MutationObserver: "DOM"), and to the end of the frame that paints that mutation
  ("painted": a MessageChannel task queued after it, from within the frame when the mutation
  happened in a requestAnimationFrame callback, else from the next one); median and maximum of
  ``--trials`` changes, while playing (TF is restarted after each activation change);
- **CPU while paused**: user + system CPU seconds of Chromium's whole process tree (psutil) over
  5 s with the page loaded and paused, as a share of one core; the same while playing;
- **JS heap**: ``JSHeapUsedSize`` from the DevTools protocol (``Performance.getMetrics``) after
  loading, after the playing window, and after a forced garbage collection.

On a small shared machine other processes distort all of this. During each rate and latency
measurement the script reads the machine's busy time from /proc/stat; when other processes (not
the browser, not this script) used ≥ 10 % of the machine, the measurement is taken again, up to
``--tries`` times, and the quietest one is kept. The tables show the share other processes used
and the hypervisor's steal time.

How to obtain the TF build: build TensorFlow Playground per its own README
(github.com/tensorflow/playground) and pass the dist folder (the one holding its index.html and
bundle.js) as ``--tf-dist``. The script serves that folder from a static server on 127.0.0.1 and
refuses every request to another host (TF's page asks for Google Fonts and Analytics).

Usage::

    python benchmarks/bench_playground_tf.py --tf-dist PATH/TO/dist
    python benchmarks/bench_playground_tf.py --tf-dist PATH/TO/dist --seconds 20 --json tf.json

Needs Playwright and psutil from PyPI and a Chromium at ``--chromium`` (default
/usr/bin/chromium: Debian's package; Playwright's own browser download is not used). The TF
commit is read with git from the dist folder's parent when that is a work tree (``--tf-commit``
overrides it); the SHA-256 of bundle.js is recorded either way.

``bench_playground.py`` imports this module to measure descentlab's playground the same way in
the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
#: TF Playground's defaults, spelled out, with a fixed data seed so that runs are comparable.
TF_DEFAULT_HASH = (
    "activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03"
    "&regularizationRate=0&noise=0&networkShape=4,2&seed=0.12345&showTestData=false"
    "&discretize=false&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false"
    "&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false"
    "&problem=classification&initZero=false&hideText=false"
)
TF_DEEP_SHAPE = "8,8,8,8,8,8"
WARMUP_SECONDS = 1.0
IDLE_SECONDS = 5.0
#: A measurement counts as quiet when other processes used less than this share of the machine;
#: a busy one is taken again (up to ``--tries`` times) and the quietest one is kept.
QUIET = 0.10

# ---------------------------------------------------------------------------------------------
# In-page instrumentation, shared with bench_playground.py.
# ---------------------------------------------------------------------------------------------
#: Installed before any page script: wraps requestAnimationFrame (so that code can tell whether
#: it runs within a frame's rendering step) and offers a frame counter and a change-latency
#: probe.
PAGE_INIT_SCRIPT = r"""
(() => {
  const nativeRaf = window.requestAnimationFrame.bind(window);
  const bench = window.__bench = {inFrame: false, counting: false, frames: []};
  // inFrame: true from the start of a frame's callbacks until the frame has been rendered (a
  // task queued then runs only after the rendering step), so microtasks such as
  // MutationObserver callbacks that follow a frame callback still see it.
  const frameEnd = new MessageChannel();
  frameEnd.port1.onmessage = () => { bench.inFrame = false; };
  window.requestAnimationFrame = (callback) => nativeRaf((t) => {
    if (!bench.inFrame) { bench.inFrame = true; frameEnd.port2.postMessage(0); }
    return callback(t);
  });
  const tick = (t) => {
    if (!bench.counting) return;
    bench.frames.push(t);
    nativeRaf(tick);
  };
  bench.startFrames = () => {
    bench.frames = [];
    if (!bench.counting) { bench.counting = true; nativeRaf(tick); }
  };
  bench.stopFrames = () => { bench.counting = false; return bench.frames; };
  const afterPaint = (callback) => {
    // The end of the rendering step that paints the current DOM: a task queued from inside a
    // frame callback runs after that frame; outside one, wait for the next frame first.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => callback(performance.now());
    if (bench.inFrame) channel.port2.postMessage(0);
    else nativeRaf(() => channel.port2.postMessage(0));
  };
  // Run `act` (a function), then report when `target` (a selector) next changes in the DOM,
  // optionally only once `accept()` says the change reflects the action.
  bench.latency = (act, target, accept, timeoutMs) => new Promise((resolve) => {
    const node = document.querySelector(target);
    let t0 = 0;
    let done = false;
    const observer = new MutationObserver(() => {
      if (done || (accept && !accept())) return;
      done = true;
      const dom = performance.now() - t0;
      observer.disconnect();
      afterPaint((t) => resolve({dom, painted: t - t0}));
    });
    observer.observe(node, {childList: true, characterData: true, subtree: true});
    setTimeout(() => {
      if (!done) { done = true; observer.disconnect(); resolve(null); }
    }, timeoutMs || 10000);
    t0 = performance.now();
    act();
  });
})();
"""


# ---------------------------------------------------------------------------------------------
# Helpers shared with bench_playground.py.
# ---------------------------------------------------------------------------------------------
class StaticServer:
    """A static file server for one folder, on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, folder: str | Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


def launch_browser(playwright, chromium: str = CHROMIUM):
    """Headless Debian Chromium with the benchmark's flags."""
    return playwright.chromium.launch(executable_path=chromium, headless=True,
                                      args=CHROMIUM_ARGS)


def new_page(browser, extra_scripts: tuple[str, ...] = ()):
    """A page with the instrumentation installed and every non-loopback request refused.

    Returns the page and a DevTools protocol session on it (Performance domain enabled).
    """
    context = browser.new_context(viewport=VIEWPORT)
    for script in (PAGE_INIT_SCRIPT, *extra_scripts):
        context.add_init_script(script)

    def only_loopback(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return page, cdp


def browser_processes() -> list:
    """Chromium's processes: descendants of this process whose name starts with "chrom"."""
    import psutil

    found = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if proc.name().startswith("chrom"):
                found.append(proc)
    return found


def tree_cpu_seconds(procs: list) -> dict[int, float]:
    """user + system CPU seconds of each process that still exists."""
    import psutil

    out = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
    return out


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


def _own_tree() -> list:
    import psutil

    me = psutil.Process(os.getpid())
    return [me, *me.children(recursive=True)]


class CpuWindow:
    """CPU used by groups of processes over a window, and by everything else on the machine.

    ``groups`` maps a name to a function giving that group's processes (re-read at the end, so
    that processes started within the window are not missed; a process counts only while both
    readings exist). This script's own process tree outside the groups (Python, Playwright's
    driver) is counted apart; what remains of the machine's busy time is "others", which shows
    how quiet the machine was. ``steal`` is the hypervisor's steal time, a share of the machine.
    """

    def __init__(self, groups: dict[str, Any]):
        self.groups = groups
        self.before = {name: tree_cpu_seconds(fn()) for name, fn in groups.items()}
        self.own_before = tree_cpu_seconds(_own_tree())
        self.machine_before = machine_cpu_seconds()
        self.started = time.perf_counter()

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        busy, steal = (b - a for a, b in zip(self.machine_before, machine_cpu_seconds(),
                                             strict=True))
        out: dict[str, Any] = {"wall_seconds": wall}
        seen: set[int] = set()
        used_total = 0.0
        for name, fn in self.groups.items():
            after = tree_cpu_seconds(fn())
            before = self.before[name]
            used = sum(after[pid] - before[pid] for pid in after if pid in before)
            seen |= set(after) | set(before)
            used_total += used
            out[name] = {"cpu_seconds": used, "core_share": used / wall,
                         "processes": len(after)}
        own_after = tree_cpu_seconds(_own_tree())
        own = sum(own_after[pid] - self.own_before[pid] for pid in own_after
                  if pid in self.own_before and pid not in seen)
        cores = os.cpu_count() or 1
        out["own_core_share"] = own / wall
        out["others_machine_share"] = max(0.0, busy - used_total - own) / (wall * cores)
        out["steal_machine_share"] = steal / (wall * cores)
        return out


def cpu_share(groups: dict[str, Any], seconds: float) -> dict[str, Any]:
    """CPU used by each group of processes over ``seconds`` (see :class:`CpuWindow`)."""
    window = CpuWindow(groups)
    time.sleep(seconds)
    return window.stop()


def js_heap_mb(cdp, collect: bool = False) -> float:
    """JSHeapUsedSize of the page in MB (after a full garbage collection if ``collect``)."""
    if collect:
        cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["JSHeapUsedSize"] / 2**20


def frame_stats(timestamps: list[float]) -> dict[str, float]:
    """Frames/s and interval statistics from requestAnimationFrame timestamps (ms)."""
    if len(timestamps) < 2:
        return {"fps": 0.0, "frames": len(timestamps), "median_ms": 0.0, "p95_ms": 0.0}
    gaps = sorted(b - a for a, b in zip(timestamps[:-1], timestamps[1:], strict=True))
    span = (timestamps[-1] - timestamps[0]) / 1000
    return {"fps": (len(timestamps) - 1) / span, "frames": len(timestamps),
            "median_ms": statistics.median(gaps), "p95_ms": gaps[int(0.95 * (len(gaps) - 1))]}


def summarize(values: list[float]) -> dict[str, float]:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "median": float("nan"), "max": float("nan"), "min": float("nan")}
    return {"n": len(values), "median": statistics.median(values), "max": max(values),
            "min": min(values)}


def machine_info(browser=None) -> dict[str, Any]:
    """Cores, CPU model, OS, Python and (when given a browser) Chromium's version."""
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    info = {"cores": os.cpu_count(), "cpu_model": model, "platform": platform.platform(),
            "python": platform.python_version()}
    try:
        info["affinity_cores"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    if browser is not None:
        info["chromium"] = browser.version
    return info


def quietest(measure, tries: int, log=print) -> dict[str, Any]:
    """Run ``measure()`` (which returns a dict with ``others_machine_share``) until the machine
    was quiet during it, at most ``tries`` times; keep the quietest result."""
    best: dict[str, Any] | None = None
    for attempt in range(1, max(1, tries) + 1):
        result = measure()
        result["attempt"] = attempt
        if best is None or result["others_machine_share"] < best["others_machine_share"]:
            best = result
        if result["others_machine_share"] < QUIET:
            break
        if attempt < tries:
            log(f"    other processes used {100 * result['others_machine_share']:.0f} % of the "
                "machine: again")
    best["quiet"] = best["others_machine_share"] < QUIET
    return best


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


# ---------------------------------------------------------------------------------------------
# TensorFlow Playground.
# ---------------------------------------------------------------------------------------------
def tf_commit(dist: Path, given: str | None) -> str:
    if given:
        return given
    try:
        out = subprocess.run(["git", "-C", str(dist.resolve().parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def tf_iter(page) -> int:
    return int(page.inner_text("#iter-number").replace(",", "") or 0)


def tf_open(page, base_url: str, shape: str) -> None:
    url_hash = TF_DEFAULT_HASH.replace("networkShape=4,2", f"networkShape={shape}")
    page.goto(f"{base_url}index.html#{url_hash}", wait_until="load")
    page.wait_for_selector("#iter-number")
    page.wait_for_timeout(500)
    assert tf_iter(page) == 0, "TF Playground should start paused at iteration 0"


def tf_is_playing(page) -> bool:
    return page.evaluate(
        "() => document.querySelector('#play-pause-button').classList.contains('playing')")


def tf_play(page) -> None:
    if not tf_is_playing(page):
        page.click("#play-pause-button")


def tf_pause(page) -> None:
    if tf_is_playing(page):
        page.click("#play-pause-button")


def tf_rates(page, seconds: float) -> dict[str, Any]:
    """Epochs/s (the iteration counter) and frames/s (rAF) over ``seconds`` while playing."""
    tf_play(page)
    page.wait_for_timeout(WARMUP_SECONDS * 1000)
    page.evaluate("() => window.__bench.startFrames()")
    iter0, t0 = tf_iter(page), time.perf_counter()
    samples = []
    cpu = CpuWindow({"browser": browser_processes})
    while time.perf_counter() - t0 < seconds:
        page.wait_for_timeout(1000)
        samples.append((time.perf_counter() - t0, tf_iter(page) - iter0))
    iters, wall = tf_iter(page) - iter0, time.perf_counter() - t0
    cpu_playing = cpu.stop()
    frames = frame_stats(page.evaluate("() => window.__bench.stopFrames()"))
    per_second = [(b[1] - a[1]) / (b[0] - a[0])
                  for a, b in zip([(0.0, 0), *samples[:-1]], samples, strict=True)]
    return {
        "others_machine_share": cpu_playing["others_machine_share"],
        "epochs_per_second": iters / wall,
        "epochs": iters,
        "seconds": wall,
        "epochs_per_second_each_second": per_second,
        "frames": frames,
        "display_updates_per_second": iters / wall,  # one updateUI per epoch
        "epochs_per_second_median_of_seconds": statistics.median(per_second),
        "cpu_playing": cpu_playing,
        "iteration_after": tf_iter(page),
    }


def tf_latency(page, kind: str, trials: int) -> dict[str, Any]:
    """Control change → next DOM update of the iteration counter, and → the frame painting it."""
    results = []
    if kind == "learningRate":
        values = ["0.01", "0.03"]
        selector = "#learningRate"
    else:
        values = ["relu", "tanh"]
        selector = "#activations"
    cpu = CpuWindow({"browser": browser_processes})
    for trial in range(trials):
        tf_play(page)
        page.wait_for_timeout(300 + 37 * trial)  # vary the phase against the frame clock
        value = values[trial % 2]
        results.append(page.evaluate(
            """([selector, value]) => window.__bench.latency(() => {
                 const node = document.querySelector(selector);
                 node.value = value;
                 node.dispatchEvent(new Event('change'));
               }, '#iter-number', null, 10000)""",
            [selector, value]))
    tf_pause(page)
    ok = [r for r in results if r]
    return {"trials": trials, "timeouts": trials - len(ok),
            "others_machine_share": cpu.stop()["others_machine_share"],
            "dom_ms": summarize([r["dom"] for r in ok]),
            "painted_ms": summarize([r["painted"] for r in ok])}


def run_tf(browser, dist: Path, seconds: float, trials: int, tries: int = 3,
           log=print) -> dict[str, Any]:
    """All TF Playground measurements; returns the JSON-ready result."""
    out: dict[str, Any] = {}
    with StaticServer(dist) as server:
        for name, shape in (("default", "4,2"), ("deep", TF_DEEP_SHAPE)):
            log(f"TF Playground, network {shape}: loading")
            page, cdp = new_page(browser)
            tf_open(page, server.url, shape)
            result: dict[str, Any] = {"network_shape": shape}
            page.wait_for_timeout(1000)
            result["heap_start_mb"] = js_heap_mb(cdp)
            log(f"  CPU while paused ({IDLE_SECONDS:.0f} s)")
            result["cpu_paused"] = cpu_share({"browser": browser_processes}, IDLE_SECONDS)
            log(f"  playing {seconds:.0f} s")
            started = time.perf_counter()
            result.update(quietest(functools.partial(tf_rates, page, seconds), tries, log))
            result["heap_after_play_mb"] = js_heap_mb(cdp)
            result["heap_after_play_gc_mb"] = js_heap_mb(cdp, collect=True)
            result["heap_play_seconds"] = time.perf_counter() - started
            tf_pause(page)
            for kind in ("learningRate", "activation"):
                log(f"  latency: {kind} ({trials} changes)")
                result[f"latency_{kind}"] = quietest(
                    functools.partial(tf_latency, page, kind, trials), tries, log)
            out[name] = result
            page.context.close()
    return out


def print_tf_table(tf: dict[str, Any]) -> None:
    rows = [
        ("epochs/s while playing", "epochs_per_second", 1),
        ("  median of its 1-s samples", "epochs_per_second_median_of_seconds", 1),
        ("display updates/s (1 per epoch)", "display_updates_per_second", 1),
    ]
    header = f"{'TF Playground':42s}" + "".join(f"{k:>18s}" for k in tf)
    print(header)
    print("-" * len(header))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:42s}" + "".join(f"{v:>18s}" for v in values))

    row("network", [r["network_shape"] for r in tf.values()])
    for label, key, digits in rows:
        row(label, [fmt(r[key], digits) for r in tf.values()])
    row("rAF frames/s (browser)", [fmt(r["frames"]["fps"]) for r in tf.values()])
    row("frame interval median / p95 (ms)",
        [f"{fmt(r['frames']['median_ms'])} / {fmt(r['frames']['p95_ms'])}" for r in tf.values()])
    for kind in ("learningRate", "activation"):
        for part in ("dom_ms", "painted_ms"):
            row(f"latency {kind} -> {part[:-3]} med/max (ms)",
                [f"{fmt(r[f'latency_{kind}'][part]['median'])} / "
                 f"{fmt(r[f'latency_{kind}'][part]['max'])}" for r in tf.values()])
    row("CPU paused (% of a core, 5 s)",
        [fmt(100 * r["cpu_paused"]["browser"]["core_share"], 2) for r in tf.values()])
    row("other processes, paused (% of machine)",
        [fmt(100 * r["cpu_paused"]["others_machine_share"]) for r in tf.values()])
    row("CPU playing (% of a core)",
        [fmt(100 * r["cpu_playing"]["browser"]["core_share"]) for r in tf.values()])
    row("other processes, playing (% of machine)",
        [fmt(100 * r["cpu_playing"]["others_machine_share"]) for r in tf.values()])
    row("hypervisor steal, playing (% of machine)",
        [fmt(100 * r["cpu_playing"]["steal_machine_share"]) for r in tf.values()])
    row("other processes, latency trials (% of machine)",
        [f"{fmt(100 * r['latency_learningRate']['others_machine_share'])} / "
         f"{fmt(100 * r['latency_activation']['others_machine_share'])}" for r in tf.values()])
    row("measurements taken again (busy machine)",
        [str(sum(r[k]["attempt"] - 1 for k in ("latency_learningRate", "latency_activation"))
             + r["attempt"] - 1) for r in tf.values()])
    row("JS heap at start (MB)", [fmt(r["heap_start_mb"], 2) for r in tf.values()])
    row("JS heap after playing (MB)", [fmt(r["heap_after_play_mb"], 2) for r in tf.values()])
    row("JS heap after playing, after GC (MB)",
        [fmt(r["heap_after_play_gc_mb"], 2) for r in tf.values()])
    row("seconds played before the heap reading",
        [fmt(r["heap_play_seconds"]) for r in tf.values()])


def tf_dist_info(dist: Path, commit: str | None) -> dict[str, Any]:
    bundle = dist / "bundle.js"
    return {"dist": str(dist.resolve()), "commit": tf_commit(dist, commit),
            "bundle_sha256": hashlib.sha256(bundle.read_bytes()).hexdigest()}


def check_tf_dist(dist: Path) -> None:
    missing = [n for n in ("index.html", "bundle.js") if not (dist / n).is_file()]
    if missing:
        sys.exit(f"--tf-dist {dist}: no {', '.join(missing)} there; build TensorFlow Playground "
                 "per its own README (github.com/tensorflow/playground) and pass its dist folder")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="playing window for the epoch and frame rates (default 10)")
    parser.add_argument("--trials", type=int, default=10,
                        help="control changes per latency measurement (default 10)")
    parser.add_argument("--tries", type=int, default=3,
                        help="measurements taken again while other processes keep the machine "
                             f"busy (≥ {100 * QUIET:.0f} %%); the quietest is kept (default 3)")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    parser.add_argument("--json", default=None, help="write the results to this file")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf-dist", required=True, type=Path,
                        help="TensorFlow Playground's built dist folder (index.html, bundle.js)")
    parser.add_argument("--tf-commit", default=None, help="TF Playground commit, if not in git")
    add_common_arguments(parser)
    args = parser.parse_args()
    check_tf_dist(args.tf_dist)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright, args.chromium)
        try:
            out = {"machine": machine_info(browser), "tf_playground": tf_dist_info(
                args.tf_dist, args.tf_commit), "seconds": args.seconds, "trials": args.trials}
            print(f"machine: {out['machine']['cores']} cores ({out['machine']['cpu_model']}), "
                  f"Chromium {out['machine']['chromium']}; TF Playground "
                  f"{out['tf_playground']['commit']}")
            out["tf"] = run_tf(browser, args.tf_dist, args.seconds, args.trials, args.tries)
        finally:
            browser.close()
    print()
    print_tf_table(out["tf"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(out, stream, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
