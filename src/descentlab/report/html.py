"""The report's HTML: Jinja2 templates with autoescaping, a bilingual catalogue, tied numbers.

The page is written by the templates in ``templates/`` (what is said, in which order) with the
words of ``messages.toml`` (how it is said, in English and Korean). Autoescaping is on for every
template, so no value from ``results.json`` can become markup: a string is text wherever it
lands, in an element or in an attribute.

A measured number is written as ``<span class="num" data-key="a.b.c" data-fmt=".4f">…</span>``:
``data-key`` is its path in ``results.json`` and ``data-fmt`` the format applied, so anyone (and
the tests) can check that every number on the page is the number in the file.
"""

from __future__ import annotations

import base64
import functools
import tomllib
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from descentlab.errors import DataError

__all__ = ["Catalogue", "Markup", "Numbers", "environment", "escape", "format_value",
           "korean_font_face", "lookup"]


def lookup(results: dict, key: str) -> Any:
    """The value at a dotted path; list indices are numbers (``trials.0.config``)."""
    node: Any = results
    for part in key.split("."):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            raise DataError(f"the results have no entry {key!r}: not a complete descentlab "
                            "report.") from None
    return node


def format_value(value: Any, fmt: str) -> str:
    """``value`` as the page shows it: ``format(value, fmt)``, ``%`` as a percentage with one
    decimal, a missing value (``None``, NaN in the JSON) as a dash."""
    if value is None:
        return "—"
    if fmt == "%":
        return f"{float(value) * 100:.1f} %"
    return format(value, fmt)


class Numbers:
    """Renders measured numbers out of one results dict, with their provenance."""

    def __init__(self, results: dict) -> None:
        self.results = results

    def __call__(self, key: str, fmt: str = ".4g") -> Markup:
        value = lookup(self.results, key)
        if not (value is None or isinstance(value, int | float)) or isinstance(value, bool):
            raise DataError(f"the results' entry {key!r} should be a number; got "
                            f"{type(value).__name__}.")
        return Markup('<span class="num" data-key="{}" data-fmt="{}">{}</span>').format(
            key, fmt, format_value(value, fmt))


@functools.cache
def _messages() -> dict[str, Any]:
    text = resources.files("descentlab.report").joinpath("messages.toml").read_text("utf-8")
    return tomllib.loads(text)


class Catalogue:
    """The words of the page in one language: ``t("s92.heading")``, ``t("s92.gd_cost.text",
    hidden=…, gd_updates=num(…))``. The catalogue's text is trusted HTML; the arguments are
    escaped unless they are already markup (a number span)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, message_id: str, **args: Any) -> Markup:
        node: Any = _messages()
        for part in message_id.split("."):
            node = node[part]
        return Markup(node[self.lang]).format(**args) if args else Markup(node[self.lang])

    def get(self, message_id: str, default: str) -> Markup | str:
        """The message, or ``default`` (escaped when shown) for an id the catalogue lacks —
        e.g. a stage or mode name from a results file written by a newer descentlab."""
        try:
            return self(message_id)
        except KeyError:
            return default


@functools.cache
def environment() -> jinja2.Environment:
    """The report's template environment: autoescaping always on, undefined values fail."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("descentlab.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def png_data_uri(png: bytes) -> str:
    """An embedded PNG: the report opens with no server and no network."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def korean_font_face(text: str) -> Markup:
    """A CSS ``@font-face`` embedding NanumGothic, cut down to the characters of ``text``.

    A Korean page must read on a machine with no Korean system font (a fresh Linux box, a
    locked-down lab PC), and the page must stay one file: so the font travels inside it, as a
    WOFF subset of a few tens of kilobytes rather than the 2 MB of the whole font.
    """
    from descentlab.plots.style import KOREAN_FONT, korean_font_subset

    data = base64.b64encode(korean_font_subset(text)).decode("ascii")
    return Markup(f'@font-face{{font-family:"{KOREAN_FONT} report";'
                  f'src:url(data:font/woff;base64,{data}) format("woff")}}'
                  f'body{{font-family:"{KOREAN_FONT} report",sans-serif}}')
