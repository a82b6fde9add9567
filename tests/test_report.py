"""The chapter report: numbers equal to its JSON, reruns equal, both languages, a real browser."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser

import pytest

from descentlab import cli
from descentlab.report import build
from descentlab.report.html import format_value, lookup

#: The sections of the chapter every report has, in both languages.
SECTIONS = ("s91", "activations", "vanishing", "fixes", "diagnosis", "s92", "gd-cost", "sgd",
            "momentum", "table", "config")


class _Page(HTMLParser):
    """Collects the ids, images and measured numbers of a report page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.numbers: list[tuple[str, str, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "span" and attrs.get("class") == "num":
            self._open = {"key": attrs["data-key"], "fmt": attrs["data-fmt"], "text": ""}

    def handle_data(self, data) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag) -> None:
        if tag == "span" and self._open is not None:
            self.numbers.append((self._open["key"], self._open["fmt"], self._open["text"]))
            self._open = None


def _parse(path: str) -> _Page:
    page = _Page()
    with open(path, encoding="utf-8") as stream:
        page.feed(stream.read())
    return page


def _no_timings(node):
    """The results without wall-clock measurements and the worker count: the only things a
    rerun may change (the rerun below uses 1 worker against the report's 2, so it also shows
    that parallel and serial runs measure the same)."""
    if isinstance(node, dict):
        return {k: _no_timings(v) for k, v in node.items()
                if "seconds" not in k and k not in ("timings", "timing", "workers")}
    if isinstance(node, list):
        return [_no_timings(v) for v in node]
    return node


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One quick measurement, written in English and (without retraining) in Korean."""
    root = tmp_path_factory.mktemp("report")
    records: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    built = build.build(str(root / "en"), lang="en", quick=True, workers=2, progress=False)
    handler = Catch()
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a missing glyph is a UserWarning: make it fail
            # workers=1 draws in this process, where the warnings and the log are caught
            ko = build.write(built["results"], str(root / "ko"), lang="ko", workers=1)
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
    return {"en": built, "ko": ko, "results": built["results"], "log": records, "root": root}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_number_on_the_page_is_the_number_in_the_json(reports, lang: str) -> None:
    paths = reports[lang]
    page = _parse(paths["html"])
    with open(paths["json"], encoding="utf-8") as stream:
        saved = json.load(stream)
    assert len(page.numbers) > 40
    for key, fmt, text in page.numbers:
        assert text == format_value(lookup(saved, key), fmt), key


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_section_and_figure_is_there(reports, lang: str) -> None:
    page = _parse(reports[lang]["html"])
    missing = [s for s in SECTIONS if s not in page.ids]
    assert not missing, missing
    assert len(page.images) >= 8
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    figures = os.listdir(reports[lang]["figures"])
    assert len([f for f in figures if f.endswith(".png")]) == len(page.images)
    with open(reports[lang]["html"], encoding="utf-8") as stream:
        links = re.findall(r'href="figures/([^"]+)"', stream.read())
    assert all(link in figures for link in links)  # --quick writes PNG only: no dead links


def test_korean_report_is_korean_and_draws_every_glyph(reports) -> None:
    assert not [m for m in reports["log"] if "glyph" in m.lower()], reports["log"]
    with open(reports["ko"]["html"], encoding="utf-8") as stream:
        text = stream.read()
    assert '<html lang="ko">' in text
    assert "기울기 소실" in text and "경사 하강법" in text
    assert "@font-face" in text  # the page carries its own Korean font
    with open(reports["en"]["html"], encoding="utf-8") as stream:
        english = stream.read()
    assert not re.search("[가-힣]", re.sub(r"<code>.*?</code>", "", english)), \
        "the English report has Korean text outside the configuration dump"


def test_json_matches_a_rerun_with_the_same_seed(reports) -> None:
    again = build.measure(quick=True, workers=1, progress=False)
    assert _no_timings(json.loads(json.dumps(again))) == \
        _no_timings(json.loads(json.dumps(reports["results"])))


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_CHECK = """<script>
window.addEventListener('load', async () => {
  await document.fonts.ready;
  const imgs = [...document.images];
  const result = {images: imgs.length,
                  loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
                  sections: [...document.querySelectorAll('h2[id], h3[id]')].map(h => h.id),
                  korean_font: document.fonts.check('16px "NanumGothic report"', '한글')};
  const out = document.createElement('pre');
  out.id = 'browser-check';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_report_opens_in_headless_chromium(reports, lang: str, tmp_path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; `make test` installs it (Debian package "
                        "chromium) when run as root, as in CI.")
        pytest.skip("Chromium is not installed (outside CI; `make test` as root installs it)")
    source = reports[lang]["html"]
    with open(source, encoding="utf-8") as stream:
        page = stream.read()
    # The same page, in the same folder (so relative links resolve alike), plus a probe script.
    probe = os.path.join(os.path.dirname(source), "browser-check.html")
    with open(probe, "w", encoding="utf-8") as stream:
        stream.write(page.replace("</body>", _CHECK + "</body>"))
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
               "--dump-dom", f"file://{probe}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result["images"] >= 8
    assert result["loaded"] == result["images"]
    assert [s for s in SECTIONS if s not in result["sections"]] == []
    if lang == "ko":
        assert result["korean_font"] is True


def test_cli_report_errors_are_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}', encoding="utf-8")
    for argv, message in (
            (["report", "--from-json", str(tmp_path / "none.json")], "does not exist"),
            (["report", "--from-json", str(bad)], "is not a descentlab report's results.json"),
            (["report", "--quick", "--data", "digitz", "--out", str(tmp_path / "r")],
             "'digitz' is neither a built-in data set nor a CSV file")):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
