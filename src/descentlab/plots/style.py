"""Figure style and fonts: Korean renders on a fresh machine with no system fonts.

The NanumGothic font comes with the ``koreanize-matplotlib`` package (a dependency); it is
registered with matplotlib here without importing that package, which would change matplotlib's
global settings as a side effect. Korean figures list DejaVu Sans first and NanumGothic second:
matplotlib falls back glyph by glyph, so Hangul comes from NanumGothic while digits, Latin letters,
the true minus sign U+2212 (which NanumGothic lacks) and the superscripts of log-axis labels
(10⁻², written in Unicode: mathtext is off) come from DejaVu Sans. No glyph is ever missing, and
negative numbers keep their sign.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.ticker import LogFormatterSciNotation

from descentlab.plots.i18n import check_language

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # the names of matplotlib's settings

KOREAN_FONT = "NanumGothic"
_registered = False


def font_dir() -> str:
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the koreanize-matplotlib package (a dependency) is not installed.")
    return os.path.join(list(spec.submodule_search_locations)[0], "fonts")


def register_fonts() -> None:
    global _registered
    if _registered:
        return
    from matplotlib import font_manager

    folder = font_dir()
    for name in sorted(os.listdir(folder)):
        if name.lower().endswith(".ttf"):
            font_manager.fontManager.addfont(os.path.join(folder, name))
    _registered = True


def rc(lang: str) -> dict[RcKeyType, Any]:
    """matplotlib settings for figures in ``lang``."""
    check_language(lang)
    params: dict[RcKeyType, Any] = {
        "figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
        "svg.fonttype": "path", "figure.constrained_layout.use": True,
        # Text is shown as written: a data set named "prices$_$2020.csv" is a file name, not
        # mathematics for matplotlib's $…$ parser (which would fail on it). No figure here
        # uses mathtext; Unicode gives the formulas (σ′, ‖∂L/∂W‖, x²).
        "text.parse_math": False,
    }
    if lang == "ko":
        register_fonts()
        params.update({"font.family": ["DejaVu Sans", KOREAN_FONT]})
    else:
        params.update({"font.family": ["DejaVu Sans"]})
    return params


@contextlib.contextmanager
def figure_style(lang: str = "en") -> Iterator[None]:
    """Draw inside this block for the project's look in ``lang``."""
    with matplotlib.rc_context(rc(lang)):
        yield


_SUPERSCRIPTS = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")


class UnicodeLogFormatter(LogFormatterSciNotation):
    """matplotlib's log-axis labels (the same ticks labelled: 10⁻², 2×10⁻¹) written in Unicode.

    The figures turn mathtext off (``text.parse_math``), and matplotlib's own log formatter
    writes its labels in mathtext (``$\\mathdefault{10^{-2}}$``), which would then be shown
    as those raw characters."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return unicode_exponents(super().__call__(x, pos))


def unicode_exponents(text: str) -> str:
    """``$\\mathdefault{2\\times10^{-1}}$`` → ``2×10⁻¹``; other text is returned as it is."""
    found = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", text)
    if found is None:
        return text
    body = found.group(1).replace("\\times", "×")
    body = re.sub(r"\^\{([^}]*)\}", lambda m: m.group(1).translate(_SUPERSCRIPTS), body)
    return body.replace("{", "").replace("}", "")


def log_scale(ax: Any, axis: str = "y") -> None:
    """Put ``axis`` of ``ax`` on a log scale when it holds a positive value to show; otherwise
    (every run diverged to NaN, or nothing was drawn) leave it linear, so that the figure is
    still drawn instead of failing with "Data cannot be log-scaled". Its tick labels are
    written in Unicode (:class:`UnicodeLogFormatter`)."""
    limits = ax.dataLim
    smallest_positive = limits.minposy if axis == "y" else limits.minposx
    if math.isfinite(smallest_positive):
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        scale = ax.yaxis if axis == "y" else ax.xaxis
        scale.set_major_formatter(UnicodeLogFormatter())
        scale.set_minor_formatter(UnicodeLogFormatter(labelOnlyBase=False))


def save_figure(fig: Any, folder: str, name: str,
                formats: Sequence[str] = ("png", "svg")) -> list[str]:
    """Write ``fig`` as ``folder/name.<fmt>`` for each format, each file atomically."""
    import io

    from descentlab.lab.results import write_atomic

    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt)
        paths.append(write_atomic(os.path.join(folder, f"{name}.{fmt}"), buffer.getvalue()))
    return paths


def _display_inline_in_ipython() -> None:
    """Let a Figure returned by descentlab show as an image in Jupyter, without pyplot.

    The figures are plain ``matplotlib.figure.Figure`` objects (no pyplot, no global state), and
    IPython only knows how to draw those once pyplot has set up the inline backend; so when
    descentlab's plots are imported inside IPython, the PNG formatter is registered here.
    """
    import sys

    if "IPython" not in sys.modules:
        return
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # pragma: no cover - a partial IPython
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(
        Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


_display_inline_in_ipython()


def korean_font_subset(text: str, flavor: str = "woff") -> bytes:
    """NanumGothic cut down to the characters of ``text`` (a font file's bytes, WOFF by default).

    A Korean page must read on a machine with no Korean system font (a fresh Linux box, a
    locked-down lab PC): the font travels with it, as a subset of a few tens of kilobytes rather
    than the whole font's megabytes. Subsetting also drops the font-editor tables (TSI0–TSI5)
    that the bundled file carries and that browsers refuse ("OTS parsing error").
    """
    import io
    import logging

    from fontTools import subset

    options = subset.Options()
    options.flavor = flavor
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)  # it lists the tables it drops; nothing a reader needs
    try:
        font = subset.load_font(os.path.join(font_dir(), f"{KOREAN_FONT}.ttf"), options)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(text="".join(sorted(set(text))))
            subsetter.subset(font)
            buffer = io.BytesIO()
            subset.save_font(font, buffer, options)
        finally:
            font.close()  # the font file stays open until then
    finally:
        logger.setLevel(level)
    return buffer.getvalue()
