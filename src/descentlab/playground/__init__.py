"""The playground: chapter 9 live in the browser (``descentlab playground``).

TensorFlow Playground's page — a small network learning a 2-D data set while you watch — on the
descentlab engine, with the chapter on top: every optimizer of the book's table, depth up to 16
layers, the gradient flow per layer as it happens, compare and surfaces modes, Korean and English.

* :func:`serve` runs the server until Ctrl-C (the CLI's ``descentlab playground``);
* :func:`show` displays it inline in Jupyter, started in the background on a free port.

Training runs in the server (:mod:`.trainer`, no web code); the page only draws what it is sent.
See ``docs/playground.md`` for the state keys and the WebSocket protocol.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from urllib.parse import quote

from descentlab.playground.config import Choice, Flag, Number, validate

__all__ = ["serve", "show", "state_hash"]

_background: dict[str, Any] = {}


def serve(host: str = "127.0.0.1", port: int = 8050, open_browser: bool = True,
          lang: str = "en", state: str = "") -> None:
    """Run the playground on ``host:port`` until Ctrl-C (see :func:`server.serve`)."""
    from descentlab.playground import server

    server.serve(host=host, port=port, open_browser=open_browser, lang=lang, state=state)


#: The keys only the page reads (docs/playground.md), with their checkers.
_DISPLAY: dict[str, Choice | Flag] = {
    "mode": Choice(("play", "compare", "surfaces")), "lang": Choice(("en", "ko")),
    "showTestData": Flag(), "discretize": Flag()}


def state_hash(**settings: Any) -> str:
    """Settings (the state keys of docs/playground.md) as a URL hash, checked first:
    ``state_hash(activation="sigmoid", networkShape=[8] * 10)`` →
    ``"activation=sigmoid&networkShape=8,8,…"``. Display keys (mode, lang, showTestData,
    discretize) pass through."""
    display: dict[str, Any] = {k: settings.pop(k) for k in _DISPLAY if k in settings}
    validate(settings)  # a bad key or value fails here, in the notebook, with its sentence
    for key, value in display.items():  # the page's own keys, by the same checkers
        _DISPLAY[key].check(key, value)
    parts: list[str] = []
    for key, value in {**settings, **display}.items():
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={quote(str(value), safe=',.-_')}")
    return "&".join(parts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def show(width: int = 1280, height: int = 900, lang: str = "en", **settings: Any) -> Any:
    """The playground inline in Jupyter (an IFrame), with the given state, e.g.
    ``show(activation="sigmoid", networkShape=[8] * 10, lang="ko")``.

    The first call starts the server in a background thread of the kernel on a free loopback
    port; later calls reuse it.
    """
    from IPython.display import IFrame

    pixels = Number(100, 10_000, integer=True)
    for name, value in (("width", width), ("height", height)):
        pixels.check(name, value)
    fragment = state_hash(lang=lang, **settings)
    if "port" not in _background:
        import uvicorn

        from descentlab.playground import server

        port = _free_port()
        config = uvicorn.Config(server.create_app(server.Settings(lang=lang)), host="127.0.0.1",
                                port=port, log_level="warning", ws_max_size=2 << 20,
                                lifespan="off")
        instance = uvicorn.Server(config)
        thread = threading.Thread(target=instance.run, name="descentlab-playground",
                                  daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not instance.started and time.monotonic() < deadline:
            time.sleep(0.05)
        _background.update(port=port, server=instance, thread=thread)
    return IFrame(f"http://127.0.0.1:{_background['port']}/#{fragment}", width=width,
                  height=height)

