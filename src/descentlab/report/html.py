"""Small HTML helpers for the report: every number is tied to the JSON it came from.

A measured number is written as ``<span class="num" data-key="a.b.c" data-fmt=".4f">…</span>``:
``data-key`` is its path in ``results.json`` and ``data-fmt`` the format applied, so anyone (and
the tests) can check that every number on the page is the number in the file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def lookup(results: dict, key: str) -> Any:
    """The value at a dotted path; list indices are numbers (``trials.0.config``)."""
    node: Any = results
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def format_value(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if fmt == "%":
        return f"{float(value) * 100:.1f} %"
    return format(value, fmt)


class Numbers:
    """Renders measured numbers out of one results dict, with their provenance."""

    def __init__(self, results: dict) -> None:
        self.results = results

    def __call__(self, key: str, fmt: str = ".4g") -> str:
        value = lookup(self.results, key)
        return (f'<span class="num" data-key="{escape(key)}" data-fmt="{escape(fmt)}">'
                f"{escape(format_value(value, fmt))}</span>")


def figure(png: bytes, alt: str, caption: str, svg_name: str | None = None) -> str:
    """An embedded PNG (the report opens with no server and no network) and its caption."""
    data = base64.b64encode(png).decode("ascii")
    link = (f' <a href="figures/{escape(svg_name)}">SVG</a>' if svg_name else "")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
            f"<figcaption>{caption}{link}</figcaption></figure>")


def table(heads: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table; cells are HTML already (numbers come from :class:`Numbers`)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<table class="{escape(cls)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


STYLE = """
body{font-family:"Noto Sans KR","Apple SD Gothic Neo","Malgun Gothic",NanumGothic,
 -apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1.2em;
 line-height:1.6;color:#222}
h1{font-size:1.8em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;
 margin-top:2.2em} h3{margin-top:1.6em}
figure{margin:1.2em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}
th{background:#f5f5f5} td:first-child,th:first-child{text-align:left}
.claim{border-left:4px solid #bbb;padding:.3em .8em;margin:.8em 0;background:#fafafa}
.holds{border-color:#2ca02c} .fails{border-color:#d62728} .unknown{border-color:#999}
.verdict{font-weight:bold} .book{color:#555;font-style:italic}
.finding{border-left:4px solid #999;padding:.3em .8em;margin:.6em 0;background:#fafafa}
.critical{border-color:#d62728} .warning{border-color:#ff9800} .info{border-color:#1f77b4}
code{background:#f3f3f3;padding:0 .25em} .meta td{text-align:left}
"""


def korean_font_face(text: str) -> str:
    """A CSS ``@font-face`` embedding NanumGothic, cut down to the characters of ``text``.

    A Korean page must read on a machine with no Korean system font (a fresh Linux box, a
    locked-down lab PC), and the page must stay one file: so the font travels inside it, as a
    WOFF subset of a few tens of kilobytes rather than the 2 MB of the whole font.
    """
    from descentlab.plots.style import KOREAN_FONT, korean_font_subset

    data = base64.b64encode(korean_font_subset(text)).decode("ascii")
    return (f'@font-face{{font-family:"{KOREAN_FONT} report";'
            f'src:url(data:font/woff;base64,{data}) format("woff")}}'
            f'body{{font-family:"{KOREAN_FONT} report",sans-serif}}')


def page(title: str, lang: str, body: str) -> str:
    extra = korean_font_face(title + body) if lang == "ko" else ""
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}{extra}</style></head>"
            f"<body>{body}</body></html>\n")
