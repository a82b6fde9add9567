"""The playground in a real browser: the page served by the real app (uvicorn on a free loopback
port), driven by Playwright in Debian's Chromium. Every test asserts what a user would see — the
loss falls, a control rebuilds the network, a link reproduces a lesson, the Korean font covers
the page — and ends by asserting that the page logged no error or warning.

Playwright cannot download its own browsers here, so it drives /usr/bin/chromium (as
tests/test_report.py does: missing Chromium fails in CI and skips elsewhere). The page's
Content-Security-Policy forbids evaluating strings, which Playwright's ``wait_for_function``
does; :func:`until` polls ``page.evaluate`` instead.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

import playwright.sync_api as playwright_api  # test extras: never skipped for lack of it
import pytest
import uvicorn

from descentlab.playground.server import create_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
#: Records the type of every message the page sends (window.__sent), before the page loads.
RECORD_SENT = """
window.__sent = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  try { window.__sent.push(JSON.parse(data).type); } catch (e) { window.__sent.push('?'); }
  return send.call(this, data);
};
// reads of an element's layout (each forces a layout when the page was written to just before)
window.__layoutReads = 0;
for (const name of ['clientWidth', 'clientHeight', 'offsetWidth', 'offsetHeight']) {
  const d = Object.getOwnPropertyDescriptor(Element.prototype, name)
    || Object.getOwnPropertyDescriptor(HTMLElement.prototype, name);
  const owner = Object.getOwnPropertyDescriptor(Element.prototype, name) ? Element.prototype
    : HTMLElement.prototype;
  Object.defineProperty(owner, name, {configurable: true,
    get() { window.__layoutReads++; return d.get.call(this); }});
}
const rect = Element.prototype.getBoundingClientRect;
Element.prototype.getBoundingClientRect = function () {
  window.__layoutReads++; return rect.call(this);
};
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server():
    """The real app under uvicorn, in a thread of this process (uvicorn installs no signal
    handlers outside the main thread)."""
    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                            ws_max_size=2 << 20, lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="playground-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the playground server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(chromium_path):
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, headless=True,
                                     args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A fresh page (its own browser context) that records console errors and warnings."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.context.add_init_script(RECORD_SENT)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, msg) -> None:
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def open(self, hash_: str = "", status: str = "ready") -> None:
        """Load the page afresh (another hash on the same page would only be a hashchange)."""
        self.page.goto("about:blank")
        self.page.goto(self.url + (f"#{hash_}" if hash_ else ""), wait_until="load")
        self.until(f"() => document.body.dataset.status === '{status}' && "
                   "window.descentlab.lastFrame !== null", what=f"status {status}")

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def until(self, predicate: str, arg: Any = None, timeout: float = 15.0,
              what: str = "") -> Any:
        """Poll a JS function until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(predicate, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            self.page.wait_for_timeout(25)

    def epoch(self) -> int:
        return int(self.page.inner_text("#epoch").replace(",", ""))

    def loss(self, which: str = "#loss-train") -> float:
        return float(self.page.inner_text(which))

    def status(self) -> str:
        return self.js("() => document.body.dataset.status")

    def play(self) -> None:
        self.page.click("#play-pause")
        self.until("() => document.body.dataset.status === 'playing'", what="playing")

    def pause(self) -> None:
        self.page.click("#play-pause")
        self.until("() => document.body.dataset.status === 'paused'", what="paused")

    def options(self, select: str) -> list[str]:
        return self.js("(s) => [...document.querySelector(s).options].map((o) => o.value)", select)

    def errors_shown(self) -> list[str]:
        return self.js("() => [...document.querySelectorAll('#messages .message.error')]"
                       ".map((m) => m.textContent)")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser, server):
    p = Page(browser, server)
    yield p
    p.close()


def clean(p: Page, refused_ok: bool = False) -> None:
    """Every test ends here: nothing logged, and the server refused nothing the page sent."""
    assert p.problems == []
    if not refused_ok:
        assert p.errors_shown() == []


# -- training ----------------------------------------------------------------------------------
def test_defaults_training_lowers_the_loss_and_pause_stops(page: Page) -> None:
    page.open()
    # TF Playground's defaults: circle, 4-2 tanh, learning rate 0.03, batch 10
    assert page.js("() => window.descentlab.ready.runs[0].shape") == [2, 4, 2, 1]
    assert page.js("() => window.descentlab.ready.runs[0].layers.map((l) => l.activation)") \
        == ["tanh", "tanh", "sigmoid"]
    assert page.page.input_value("#activation") == "tanh"
    assert page.page.input_value("#learning-rate") == "0.03"
    assert page.page.inner_text("#batch-size-value") == "10"
    assert page.js("() => document.querySelector('.dataset.selected').dataset.dataset") == "circle"
    assert page.page.inner_text("#num-layers") == "2"
    assert page.epoch() == 0
    first = page.loss()
    assert 0.3 < first < 1.5

    page.play()
    started = time.monotonic()
    page.until("([f]) => Number(document.querySelector('#loss-train').textContent) < 0.6 * f",
               [first], timeout=10, what="the training loss below 60 % of its first value")
    assert page.epoch() > 0
    assert time.monotonic() - started < 10
    page.pause()
    stopped = page.epoch()
    page.page.wait_for_timeout(400)
    assert page.epoch() == stopped
    assert page.js("() => window.descentlab.lastFrame.playing") is False
    clean(page)


def test_a_control_change_rebuilds_or_applies_live(page: Page) -> None:
    page.open()
    page.play()
    page.until("() => window.descentlab.lastFrame.epoch > 20", what="some epochs")
    page.pause()
    assert page.epoch() > 20
    # a structural change: sent to the server at once, in the change event itself (the page
    # updates its controls and the URL after that); the server rebuilds the network, epoch 0
    sent = page.js("""() => {
      const n = window.__sent.length, select = document.querySelector('#activation');
      select.value = 'relu';
      select.dispatchEvent(new Event('change'));
      return window.__sent.slice(n);
    }""")
    assert sent == ["config"]
    page.until("() => window.descentlab.ready.runs[0].layers[0].activation === 'relu'",
               what="a relu network")
    assert page.js("() => window.descentlab.ready.runs[0].layers.map((l) => l.activation)") \
        == ["relu", "relu", "sigmoid"]
    assert page.status() == "ready"
    # the counter shows the new network's epoch 0 once its first frame is drawn
    page.until("() => Number(document.querySelector('#epoch').textContent.replace(/,/g, '')) "
               "=== 0", timeout=5, what="the epoch counter back at 0")
    page.until("() => location.hash.includes('activation=relu')", timeout=2,
               what="the hash to say activation=relu")
    # a live change: applied to the running network, the epoch goes on
    page.play()
    page.until("() => window.descentlab.lastFrame.epoch > 20", what="some epochs")
    page.js("() => { window.descentlab.ready.__before = true; }")
    before = page.epoch()
    page.page.select_option("#learning-rate", "0.1")
    page.until("() => window.descentlab.updated?.learningRate === 0.1",
               what="the server's `updated` with learningRate 0.1")
    page.until("([e]) => window.descentlab.lastFrame.epoch > e", [before], what="training on")
    assert page.js("() => window.descentlab.ready.__before === true")  # not rebuilt
    assert page.epoch() >= before
    page.until("() => location.hash.includes('learningRate=0.1&')", timeout=2,
               what="the hash to say learningRate=0.1")
    page.pause()
    clean(page)


def test_the_url_reproduces_a_state(page: Page) -> None:
    page.open("activation=sigmoid&networkShape=8,8,8,8,8,8,8,8,8,8&learningRate=0.1"
              "&optimizer=adam&regularization_hide=true")
    assert page.page.input_value("#activation") == "sigmoid"
    assert page.page.input_value("#learning-rate") == "0.1"
    assert page.page.input_value("#optimizer") == "adam"
    assert page.page.inner_text("#num-layers") == "10"
    ready = page.js("() => window.descentlab.ready.runs[0]")
    assert ready["shape"] == [2, *[8] * 10, 1]
    assert [layer["activation"] for layer in ready["layers"][:-1]] == ["sigmoid"] * 10
    # adam's hyperparameters are shown, momentum's are not
    assert page.page.is_visible("#beta1") and not page.page.is_visible("#momentum")
    # KEY_hide=true hides that control and no other
    assert not page.page.is_visible('.control[data-key="regularization"]')
    assert page.page.is_visible('.control[data-key="activation"]')
    clean(page)


def test_frames_are_drawn_without_forced_layouts(page: Page) -> None:
    """A frame writes to the page and must not read layout back (one layout per drawn frame,
    the browser's own): 10 × 8 neurons while training."""
    page.open("networkShape=8,8,8,8,8,8,8,8,8,8")
    cdp = page.context.new_cdp_session(page.page)
    cdp.send("Performance.enable")
    page.play()
    page.page.wait_for_timeout(500)

    def sample() -> tuple[float, int, int]:
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return (metrics["LayoutCount"], *page.js(
            "() => [window.__sent.filter((t) => t === 'ack').length, window.__layoutReads]"))
    layouts0, acks0, reads0 = sample()
    page.page.wait_for_timeout(2000)
    layouts1, acks1, reads1 = sample()
    page.pause()
    drawn = acks1 - acks0
    assert drawn >= 10
    assert reads1 - reads0 == 0  # sizes come from a ResizeObserver, not from the layout
    assert (layouts1 - layouts0) / drawn < 1.5, (layouts1 - layouts0, drawn)
    clean(page)


def test_deep_sigmoid_diagnosis_and_its_one_click_fix(page: Page) -> None:
    page.open("activation=sigmoid&networkShape=8,8,8,8,8,8,8,8,8,8")
    page.page.click("#step")
    card = page.until(
        "() => { const c = document.querySelector('#diagnosis .finding[data-kind=vanishing]');"
        " return c && c.textContent; }", what="the vanishing-gradient diagnosis")
    assert "vanish" in card.lower()
    page.page.click("#diagnosis .finding[data-kind=vanishing] .apply-fix")
    page.until("() => window.descentlab.ready.runs[0].layers[0].activation === 'relu'",
               what="the rebuilt relu network")
    state = page.js("() => ({a: window.descentlab.state.activation,"
                    " i: window.descentlab.state.initializer})")
    assert state == {"a": "relu", "i": "he_normal"}
    layers = page.js("() => window.descentlab.ready.runs[0].layers")
    assert all(layer["activation"] == "relu" and layer["initializer"] == "he_normal"
               for layer in layers[:-1])
    assert len(layers) == 11
    assert page.page.input_value("#activation") == "relu"
    assert page.page.input_value("#initializer") == "he_normal"
    clean(page)


# -- the other modes ---------------------------------------------------------------------------
_PAINTED = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let colours = new Set();
  for (let i = 0; i < d.length; i += 16) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  const r = c.getBoundingClientRect();
  return {colours: colours.size, w: r.width, h: r.height};
}"""


def test_compare_sgd_vs_adam(page: Page) -> None:
    page.open()
    page.page.click("#mode-compare")
    page.page.click("#preset-adam")
    page.until("() => window.descentlab.ready.runs.length === 2 && "
               "window.descentlab.lastFrame.runs.length === 2", what="two runs")
    assert page.js("() => window.descentlab.state.b") == {"optimizer": "adam", "learningRate": 0.01}
    for canvas in ("output-heatmap", "output-heatmap-b"):
        painted = page.js(_PAINTED, canvas)
        assert painted["w"] > 100 and painted["h"] > 100, canvas
        assert painted["colours"] > 3, canvas
    first = (page.loss("#loss-train"), page.loss("#loss-train-b"))
    page.play()
    page.until("() => window.descentlab.lastFrame.epoch >= 40", timeout=20, what="40 epochs")
    page.pause()
    now = (page.loss("#loss-train"), page.loss("#loss-train-b"))
    assert now[0] < first[0] and now[1] < first[1], (first, now)
    assert now[0] != now[1]  # two different optimizers, two different runs
    clean(page)


def test_surfaces_click_sets_the_start_and_animates(page: Page) -> None:
    page.open()
    page.page.click("#mode-surfaces")
    page.until("() => window.descentlab.trajectories !== null", what="trajectories")
    page.page.select_option("#surface", "rosenbrock")
    page.until("() => window.descentlab.trajectories.surface === 'rosenbrock'",
               what="rosenbrock")
    grid = page.js("() => window.descentlab.trajectories.grid")
    box = page.page.locator("#surface-canvas").bounding_box()
    # a point on the map, away from the default start
    fx, fy = 0.7, 0.25
    page.page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    (x0, x1), (y0, y1) = grid["x"], grid["y"]
    want = [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)]
    got = page.until("([x, y]) => { const t = window.descentlab.trajectories;"
                     " return t.start[0] !== -2 && t.start; }", want, what="a new start")
    pixel = max((x1 - x0) / box["width"], (y1 - y0) / box["height"])
    assert math.dist(got, want) <= 1.5 * pixel, (got, want)
    assert page.js("() => window.descentlab.trajectories.runs.every("
                   "(r) => r.path[0][0] === window.descentlab.trajectories.start[0])")
    # The hash follows the state at most every 200 ms (and held "start=" before the click):
    # wait for the new start in it.
    start = f"start={got[0]:g},{got[1]:g}"
    page.until(f"() => location.hash.includes('{start}&')", timeout=2,
               what=f"{start} in the URL")
    # the animation runs: the step shown advances
    step = page.until("() => { const [k, n] = document.querySelector('#surface-step')"
                      ".textContent.split(' / ').map(Number); return k > 0 && n > 0 && k; }",
                      what="the animation to advance")
    page.until("([s]) => Number(document.querySelector('#surface-step').textContent"
               ".split(' / ')[0]) > s", [step], what="the animation to go on")
    clean(page)


# -- language and font -------------------------------------------------------------------------
_KOREAN_COVERED = """() => {
  // a glyph the font lacks falls back to a system font, and this machine has no Korean one:
  // every Korean character on the page must be measured in NanumGothic, not as a box
  const text = document.body.innerText;
  const chars = [...new Set(text.match(/[\\uac00-\\ud7a3]/g) || [])];
  const ctx = document.createElement('canvas').getContext('2d');
  const width = (font, s) => { ctx.font = font; return ctx.measureText(s).width; };
  const missing = chars.filter((ch) => width('40px NanumGothic, monospace', ch)
                                       === width('40px monospace', ch));
  return {chars: chars.length, missing};
}"""


def test_korean_and_english(page: Page) -> None:
    page.open("lang=en")
    assert page.page.inner_text('label[for="learning-rate"]') == "Learning rate"
    assert page.page.inner_text("#mode-play") == "Play"
    page.page.click("#lang")
    page.until("() => document.documentElement.lang === 'ko'", what="lang ko")
    assert page.page.inner_text('label[for="learning-rate"]') == "학습률"
    assert page.page.inner_text("#mode-play") == "학습"
    page.until("() => location.hash.includes('lang=ko')", timeout=2)
    page.page.click("#lang")
    page.until("() => document.documentElement.lang === 'en'", what="lang en")
    assert page.page.inner_text('label[for="learning-rate"]') == "Learning rate"
    # a link pasted while the page's own hash write is still due (writes are throttled) wins
    page.page.click("#lang")
    page.page.click("#lang")
    page.js("() => { location.hash = 'lang=ko&activation=relu'; }")
    page.until("() => window.descentlab.ready.runs[0].layers[0].activation === 'relu'",
               what="the pasted link's network")
    page.page.wait_for_timeout(400)
    assert page.js("() => [document.documentElement.lang, location.hash.includes('lang=ko')]") \
        == ["ko", True]
    # loaded in Korean, the served font covers the page's Korean text
    page.open("lang=ko")
    assert page.js("() => document.documentElement.lang") == "ko"
    assert page.page.inner_text("#mode-surfaces") == "손실 곡면"
    page.until("() => document.fonts.check('14px NanumGothic', '기울기')", timeout=10,
               what="the Korean font")
    covered = page.js(_KOREAN_COVERED)
    assert covered["chars"] > 100 and covered["missing"] == [], covered
    clean(page)


# -- own data ----------------------------------------------------------------------------------
def test_own_csv_columns_training_and_the_size_limit(page: Page, tmp_path) -> None:
    # two classes (inside a circle or not) in the third column; the last one is a measurement
    rows = ["a,b,inside,w"]
    for i in range(200):
        a, b = 3 * math.cos(i * 2.4) * (i % 7) / 6, 3 * math.sin(i * 2.4) * (i % 7) / 6
        rows.append(f"{a:.4f},{b:.4f},{int(a * a + b * b < 2.25)},{a + b + 0.0005:.4f}")
    csv = tmp_path / "ring.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.open()
    page.page.set_input_files("#csv-file", str(csv))
    page.until("() => window.descentlab.dataset !== null", what="the dataset answer")
    assert page.page.inner_text("#csv-info") == "ring.csv: 200 rows"
    # by default the last column is the label: numbers, so a regression
    page.until("() => window.descentlab.ready.problem === 'regression'", what="regression")
    assert sorted(page.options("#csv-label")) == ["a", "b", "inside", "w"]
    assert page.page.input_value("#csv-label") == "w"
    # the label column is a choice: the two-valued one makes it a classification
    page.page.select_option("#csv-label", "inside")
    page.until("() => window.descentlab.ready.problem === 'classification'",
               what="classification on the chosen label")
    assert page.js("() => window.descentlab.dataset.classes") == ["0", "1"]
    assert page.page.input_value("#csv-label") == "inside"
    assert page.options("#csv-x1") == ["a", "b", "w"]
    data = page.js("() => window.descentlab.ready.data")
    assert len(data["train"]) + len(data["test"]) == 200
    assert page.js("() => window.descentlab.state.dataset") == "csv"
    # training on it works
    first = page.loss()
    page.play()
    page.until("([f]) => Number(document.querySelector('#loss-train').textContent) < 0.8 * f",
               [first], timeout=10, what="the loss on the CSV to fall")
    page.pause()
    assert page.errors_shown() == []
    # a file over the limit is refused in the page, with a message that names it
    limit = page.js("() => window.descentlab.hello.limits.maxUploadBytes")
    big = tmp_path / "big.csv"
    big.write_text("x1,x2,label\n" + "1.0,2.0,1\n" * (limit // 10 + 10), encoding="utf-8")
    page.page.set_input_files("#csv-file", str(big))
    shown = page.until("() => document.querySelector('#messages .message.error')?.textContent",
                       what="the size message")
    assert "big.csv" in shown and f"{limit:,}" in shown
    assert page.page.is_visible("#messages .message.error")
    assert page.js("() => window.descentlab.dataset.name") == "ring.csv"  # nothing was sent
    clean(page, refused_ok=True)


# -- the network drawing's links ---------------------------------------------------------------
#: (x1, y1, x2, y2, width, rgb, alpha) per link, in device pixels of a 160 × 240 canvas.
LINK_CASES = {
    "flat": [[20.5, 100.3, 140.2, 110.7, 3, [0, 0, 0], 1]],
    "steep": [[30.2, 10.5, 130.7, 230.1, 4, [0, 0, 0], 1]],
    "wide": [[20, 60, 140, 150, 7.5, [0, 0, 0], 1]],
    "a pixel and a half": [[20, 50, 140, 190, 1.5, [0, 0, 0], 1]],
    "crossing": [[20, 40, 140, 200, 5, [8, 119, 189], 0.6],
                 [20, 200, 140, 40, 3, [245, 147, 34], 0.5]],
}
COMPARE_LINKS = """async (cases) => {
  const { LinkPainter, linkGeometry } = await import("/static/links.js");
  const W = 160, H = 240;
  const draw = (links, painter) => {
    const canvas = document.createElement("canvas");
    canvas.width = W; canvas.height = H;
    const ctx = canvas.getContext("2d");
    if (painter) {
      new LinkPainter(ctx, W, H).paint(links.map(([x1, y1, x2, y2, width, rgb, alpha]) =>
        ({ geometry: linkGeometry(x1, y1, x2, y2), rgb, width, alpha })));
    } else {                     // the oracle: the browser's own stroke of the same curve
      for (const [x1, y1, x2, y2, width, rgb, alpha] of links) {
        const m = (x1 + x2) / 2;
        ctx.strokeStyle = `rgb(${rgb.join(",")})`;
        ctx.lineWidth = width;
        ctx.globalAlpha = alpha;
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.bezierCurveTo(m, y1, m, y2, x2, y2); ctx.stroke();
      }
    }
    return ctx.getImageData(0, 0, W, H).data;
  };
  const out = {};
  for (const [name, links] of Object.entries(cases)) {
    const a = draw(links, true), b = draw(links, false);
    let inkA = 0, inkB = 0, diff = 0, colour = 0;
    for (let i = 0; i < a.length; i += 4) {
      inkA += a[i + 3] / 255;
      inkB += b[i + 3] / 255;
      diff += Math.abs(a[i + 3] - b[i + 3]) / 255;
      if (a[i + 3] > 200 && b[i + 3] > 200) {
        for (let k = 0; k < 3; k++) colour = Math.max(colour, Math.abs(a[i + k] - b[i + k]));
      }
    }
    out[name] = { inkA, inkB, diff, colour };
  }
  return out;
}"""


def _ink(links: list) -> float:
    """Width × arc length of each link's curve (opaque links), by a fine polyline."""
    total = 0.0
    for x1, y1, x2, y2, width, _, _ in links:
        m = (x1 + x2) / 2
        points = []
        for k in range(2001):
            t = k / 2000
            u = 1 - t
            points.append((u**3 * x1 + 3 * u * u * t * m + 3 * u * t * t * m + t**3 * x2,
                           u**3 * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y2))
        total += width * sum(math.dist(a, b) for a, b in zip(points[:-1], points[1:], strict=True))
    return total


def test_links_painted_by_the_page_match_the_browsers_own_strokes(page: Page) -> None:
    """links.js paints links itself (stroking hundreds of wide curves costs the canvas most of a
    frame). Two oracles: geometry — an opaque link's ink is its width times its arc length,
    within 1 % — and Chromium's ctx.stroke() of the same Bézier curves: the same ink within 5 %
    (Skia's strokes under 2 px wide carry ~4 % less ink than their width says), in the same
    places (pixels differing by at most 20 % of the ink: antialiasing differs at the edges),
    blended to the same colours."""
    page.open()
    found = page.js(COMPARE_LINKS, LINK_CASES)
    for name, r in found.items():
        assert r["inkA"] == pytest.approx(r["inkB"], rel=0.05), name
        assert r["diff"] < 0.2 * r["inkB"], name
        assert r["colour"] <= 4, name
        if all(alpha == 1 for *_, alpha in LINK_CASES[name]):
            assert r["inkA"] == pytest.approx(_ink(LINK_CASES[name]), rel=0.01), name
    clean(page)


def test_links_repainted_column_range_by_range_equal_one_painting(page: Page) -> None:
    """The drawing repaints only the layers whose links changed: painting columns [80, 160)
    again with new links must leave columns [0, 80) as they were and give what one painting
    of everything gives."""
    page.open()
    same = page.js("""async () => {
      const { LinkPainter, linkGeometry } = await import("/static/links.js");
      const W = 160, H = 120;
      const link = (x1, y1, x2, y2, width, rgb, alpha) =>
        ({ geometry: linkGeometry(x1, y1, x2, y2), rgb, width, alpha });
      const left = [link(5, 10, 75, 100, 4, [8, 119, 189], 0.7)];
      const old = [link(85, 100, 155, 10, 3, [245, 147, 34], 0.9)];
      const now = [link(85, 20, 155, 110, 6, [8, 119, 189], 0.5),
                   link(85, 110, 155, 20, 2, [245, 147, 34], 0.8)];
      const canvas = (links, steps) => {
        const c = document.createElement("canvas");
        c.width = W; c.height = H;
        const painter = new LinkPainter(c.getContext("2d"), W, H);
        for (const [list, from, to] of steps) painter.paint(list, from, to);
        return [...c.getContext("2d").getImageData(0, 0, W, H).data];
      };
      const stepwise = canvas(null, [[[...left, ...old]], [now, 80, 160]]);
      const once = canvas(null, [[[...left, ...now]]]);
      const changed = stepwise.some((v, i) => v !== canvas(null, [[[...left, ...old]]])[i]);
      return { equal: stepwise.every((v, i) => v === once[i]), changed };
    }""")
    assert same == {"equal": True, "changed": True}
    clean(page)


def test_links_painted_over_a_background_equal_transparent_ones_over_it(page: Page) -> None:
    """The network's canvas is opaque: links.js paints its links over white. That must be what
    painting them over transparency and laying the result on white gives (within rounding)."""
    page.open()
    worst = page.js("""async (cases) => {
      const { LinkPainter, linkGeometry } = await import("/static/links.js");
      const W = 160, H = 240;
      const pixels = (links, background) => {
        const c = document.createElement("canvas");
        c.width = W; c.height = H;
        const ctx = c.getContext("2d", { alpha: !background });
        new LinkPainter(ctx, W, H, { background }).paint(links.map(
          ([x1, y1, x2, y2, width, rgb, alpha]) =>
            ({ geometry: linkGeometry(x1, y1, x2, y2), rgb, width, alpha })));
        return ctx.getImageData(0, 0, W, H).data;
      };
      let worst = 0;
      for (const links of Object.values(cases)) {
        const clear = pixels(links, null), white = pixels(links, [255, 255, 255]);
        for (let i = 0; i < clear.length; i += 4) {
          const a = clear[i + 3] / 255;
          for (let k = 0; k < 3; k++) {
            worst = Math.max(worst, Math.abs(white[i + k] - (clear[i + k] * a + 255 * (1 - a))));
          }
          if (white[i + 3] !== 255) return 255;
        }
      }
      return worst;
    }""", LINK_CASES)
    assert worst <= 2
    clean(page)


def test_a_drawing_painted_frame_by_frame_equals_one_painted_at_once(page: Page) -> None:
    """While playing, the network's canvas is painted in part (only the layers of links whose
    look changed, only the bias squares that changed): after a few seconds it must equal a
    drawing of the same frame on a new canvas."""
    page.open("activation=sigmoid&networkShape=8,8,8,8,8,8")
    page.play()
    page.page.wait_for_timeout(2500)
    page.pause()
    page.js("() => { const c = document.querySelector('#network .net-canvas');"
            " window.__canvas = c;"
            " window.__before = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " window.dispatchEvent(new Event('resize')); }")
    page.until("() => document.querySelector('#network .net-canvas') !== window.__canvas",
               what="the network drawn again")
    differ = page.js("""() => {
      const c = document.querySelector('#network .net-canvas');
      const after = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const before = window.__before;
      if (after.length !== before.length) return -1;
      let n = 0;
      for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) n++;
      return n;
    }""")
    assert differ == 0
    clean(page)
