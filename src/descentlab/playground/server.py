"""The playground's web server: the page, one WebSocket per tab, and the frame loop.

An ASGI app (Starlette) served by uvicorn. Each tab's WebSocket gets a :class:`Connection`: it
validates every message (size, rate, JSON, type, fields — through :mod:`.config`), owns one
:class:`~descentlab.playground.trainer.Session`, and runs the frame loop:

* while playing: train for a slice of time in a worker thread, then send a frame if fewer than
  :data:`MAX_IN_FLIGHT` frames are un-acknowledged by the page — otherwise the frame is dropped
  and training goes on: frames are never queued, so a slow page never slows training down or
  piles up memory;
* while paused: the loop waits on an event — no CPU at all.

It is a server, so it defends itself (see docs/playground.md, "Safety"): it answers only on
loopback host names (DNS rebinding), refuses WebSocket upgrades from another origin (cross-site
WebSocket hijacking), caps message size, message rate and concurrent tabs, and closes idle tabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

import descentlab
from descentlab.errors import DescentLabError
from descentlab.playground import config as cfg
from descentlab.playground import data, surfaces
from descentlab.playground.trainer import Session

#: Frames sent but not yet acknowledged by the page before new frames are dropped.
MAX_IN_FLIGHT = 2
#: The fastest frame rate the server sends at.
MAX_FPS = 60
#: Training time per loop turn while playing (seconds); a control change waits at most this.
TRAIN_SLICE = 0.02
#: Messages per second one tab may send (a token bucket with this rate and twice the burst).
MAX_RATE = 200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")

STATIC = resources.files("descentlab.playground") / "static"

#: Content-Security-Policy: the page loads nothing from anywhere but this server.
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*")


@dataclass
class Settings:
    """What one server allows; the defaults suit a class of tabs on one laptop."""

    max_connections: int = 8
    idle_seconds: float = 900.0
    max_message_bytes: int = cfg.LIMITS["maxMessageBytes"]
    max_upload_bytes: int = cfg.LIMITS["maxUploadBytes"]
    max_rate: float = MAX_RATE
    lang: str = "en"


class _Refused(Exception):
    """A message that is not accepted; its text goes back to the page."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class Connection:
    """One tab: its WebSocket, its training session and its frame loop."""

    def __init__(self, websocket: WebSocket, settings: Settings) -> None:
        self.websocket = websocket
        self.settings = settings
        self.session: Session | None = None
        self.config: dict[str, Any] = dict(cfg.DEFAULTS)
        self.b_changes: dict[str, Any] | None = None
        self.upload: data.Upload | None = None
        self.playing = False
        self.acked = 0
        self.sent = 0
        self.wake = asyncio.Event()  # set while playing: the frame loop has work
        self.interrupt = False  # a handler waits for the session: end the training slice
        self.lock = asyncio.Lock()  # the session is used by one of loop / handler at a time
        self.send_lock = asyncio.Lock()
        self.tokens = settings.max_rate * 2
        self.refilled = time.monotonic()
        self.flood_reported = 0.0

    # -- sending ------------------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":"),
                                                      allow_nan=False))

    async def error(self, message: str, key: str | None = None) -> None:
        await self.send({"type": "error", "message": message, "key": key})

    # -- receiving ----------------------------------------------------------------------------
    def _take_token(self) -> bool:
        now = time.monotonic()
        rate = self.settings.max_rate
        self.tokens = min(rate * 2, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def parse(self, text: str | None) -> dict[str, Any]:
        """A received frame as a message object, or :class:`_Refused`."""
        if text is None:
            raise _Refused("Messages must be JSON text, not binary frames.")
        limit = self.settings.max_upload_bytes + 4096 if text.startswith('{"type":"upload"') \
            else self.settings.max_message_bytes
        if len(text) > limit:
            raise _Refused(f"Message of {len(text):,} characters refused: the limit is "
                           f"{limit:,} (an upload may carry up to "
                           f"{self.settings.max_upload_bytes:,} bytes of CSV).")
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            raise _Refused("Message is not valid JSON.") from None
        except RecursionError:
            raise _Refused("Message is nested too deeply to be read.") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Refused('A message must be a JSON object with a "type", e.g. {"type": "play"}.')
        return message

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        handler = self.HANDLERS.get(kind)
        if handler is None:
            raise _Refused(f"Unknown message type {kind!r}; valid types are "
                           f"{', '.join(sorted(self.HANDLERS))}.", "type")
        fields = self.FIELDS[kind]
        extra = set(message) - fields - {"type"}
        if extra:
            raise _Refused(f"Unknown field(s) {', '.join(sorted(map(str, extra)))} in a {kind!r} "
                           f"message; it takes {', '.join(sorted(fields)) or 'no fields'}.",
                           sorted(map(str, extra))[0])
        await handler(self, message)

    # -- the messages -------------------------------------------------------------------------
    async def on_config(self, message: dict[str, Any]) -> None:
        config = cfg.validate(message.get("config", {}))
        b_changes = message.get("b")
        if b_changes is not None:
            cfg.validate(b_changes, base=config)  # refuse a bad B before touching anything
        async with self.session_lock():
            if self.session is not None and self.session.apply_live(config, b_changes):
                self.config, self.b_changes = config, b_changes
                await self.send({"type": "updated", "config": config})
                await self.send_frame()
                return
            session = await anyio.to_thread.run_sync(Session, config, b_changes, self.upload)
            self.session, self.config, self.b_changes = session, config, b_changes
            await self.send(session.ready_message())
            await self.send_frame(first=True)

    async def on_play(self, message: dict[str, Any]) -> None:
        await self._require_session()
        self.playing = True
        self.wake.set()

    async def on_pause(self, message: dict[str, Any]) -> None:
        self.playing = False
        async with self.session_lock():
            if self.session is not None:
                await self.send_frame()

    async def on_step(self, message: dict[str, Any]) -> None:
        session = await self._require_session()
        self.playing = False
        async with self.session_lock():
            await anyio.to_thread.run_sync(session.step, 1)
            await self.send_frame()

    async def on_reset(self, message: dict[str, Any]) -> None:
        await self._require_session()
        self.playing = False
        async with self.session_lock():
            session = await anyio.to_thread.run_sync(Session, self.config, self.b_changes,
                                                     self.upload)
            self.session = session
            await self.send(session.ready_message())
            await self.send_frame(first=True)

    async def on_ack(self, message: dict[str, Any]) -> None:
        frame = message.get("frame")
        if isinstance(frame, bool) or not isinstance(frame, int) or not 0 < frame <= self.sent:
            raise _Refused(f"ack needs the number of a frame that was sent (1 to {self.sent}); "
                           f"got {frame!r}.", "frame")
        self.acked = max(self.acked, frame)

    async def on_upload(self, message: dict[str, Any]) -> None:
        name, text = message.get("name", "data.csv"), message.get("text")
        if not isinstance(name, str) or not isinstance(text, str):
            raise _Refused("upload needs name and text, both strings (the CSV's content).",
                           "text")
        if len(text.encode("utf-8")) > self.settings.max_upload_bytes:
            raise _Refused(f"The CSV file is larger than {self.settings.max_upload_bytes:,} "
                           "bytes; the playground takes small data sets.", "text")
        upload = await anyio.to_thread.run_sync(
            data.parse_upload, os.path.basename(name)[:200], text, message.get("x1"),
            message.get("x2"), message.get("label"))
        self.upload = upload
        await self.send({"type": "dataset", "name": upload.name, "rows": len(upload.points.label),
                         "columns": upload.columns, "x1": upload.x1, "x2": upload.x2,
                         "label": upload.target, "classes": upload.classes})

    async def on_surface(self, message: dict[str, Any]) -> None:
        answer = await anyio.to_thread.run_sync(surfaces.trajectories, message)
        await self.send(answer)

    HANDLERS: dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]] = {
        "config": on_config, "play": on_play, "pause": on_pause, "step": on_step,
        "reset": on_reset, "ack": on_ack, "upload": on_upload, "surface": on_surface,
    }
    FIELDS: dict[str, set[str]] = {
        "config": {"config", "b"}, "play": set(), "pause": set(), "step": set(),
        "reset": set(), "ack": {"frame"}, "upload": {"name", "text", "x1", "x2", "label"},
        "surface": {"surface", "start", "runs", "steps"},
    }

    async def _require_session(self) -> Session:
        if self.session is None:
            raise _Refused('Send a "config" message first: there is no network yet.')
        return self.session

    @contextlib.asynccontextmanager
    async def session_lock(self) -> AsyncIterator[None]:
        """The session, for a handler: the frame loop ends its training slice early."""
        self.interrupt = True
        try:
            async with self.lock:
                self.interrupt = False
                yield
        finally:
            self.interrupt = False

    async def send_frame(self, first: bool = False) -> None:
        """Build and send the session's next frame now (the caller holds the lock). Frames are
        numbered per connection, so the page's acknowledgements survive a rebuild."""
        assert self.session is not None
        message = await anyio.to_thread.run_sync(self.session.frame_message, self.playing,
                                                 first)
        self.sent += 1
        message["frame"] = self.sent
        await self.send(message)

    # -- the frame loop -----------------------------------------------------------------------
    def _slice_stop(self, behind: bool) -> Callable[[], bool]:
        """When a training slice ends early: a handler wants the session, or (the page being
        behind) the page acknowledged a frame, so that the next can leave at once."""
        acked = self.acked
        return lambda: self.interrupt or (behind and self.acked != acked)

    async def frame_loop(self) -> None:
        """While playing: train a slice, then send a frame if the page keeps up (at most
        :data:`MAX_IN_FLIGHT` un-acknowledged, at most :data:`MAX_FPS` a second); otherwise
        the frame is skipped and training goes on. When the page is behind, the slice ends as
        soon as it acknowledges a frame, so the next one leaves at once (the page is never kept
        waiting for the rest of a slice). Paused: wait, using no CPU."""
        last_sent = 0.0
        while True:
            await self.wake.wait()
            async with self.lock:
                session = self.session
                if session is not None and self.playing:
                    stop = self._slice_stop(behind=self.sent - self.acked >= MAX_IN_FLIGHT)
                    await anyio.to_thread.run_sync(session.train_for, TRAIN_SLICE, stop)
                    diverged = all(run.diverged for run in session.runs)
                    if diverged:
                        self.playing = False  # nothing left to train: say so in a frame
                    due = time.monotonic() - last_sent >= 1.0 / MAX_FPS
                    # (a pause sends its own frame; the loop only streams while playing)
                    if diverged or (self.playing and due
                                    and self.sent - self.acked < MAX_IN_FLIGHT):
                        await self.send_frame()
                        last_sent = time.monotonic()
            if not self.playing:
                self.wake.clear()
            await asyncio.sleep(0)  # let a waiting handler take the lock


# -- the app ----------------------------------------------------------------------------------
def _origin_allowed(websocket: WebSocket) -> bool:
    """A browser's WebSocket must come from a page of this server (same scheme, host, port).

    Programs that send no Origin (scripts, tests) are not a cross-site threat and are let in.
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host


def create_app(settings: Settings | None = None, host: str = "127.0.0.1") -> Starlette:
    """The playground as an ASGI app (``uvicorn.run(create_app(), ...)``)."""
    settings = settings or Settings()
    connections: set[Connection] = set()
    fonts: dict[str, bytes] = {}

    async def index(request: Request) -> Response:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers=_headers())

    async def font(request: Request) -> Response:
        if "font" not in fonts:
            fonts["font"] = await anyio.to_thread.run_sync(korean_font)
        return Response(fonts["font"], media_type="font/woff",
                        headers={"Cache-Control": "max-age=86400"})

    async def socket(websocket: WebSocket) -> None:
        if not _origin_allowed(websocket):
            await websocket.close(code=1008)  # policy violation: answered 403 before upgrade
            return
        await websocket.accept()
        connection = Connection(websocket, settings)
        if len(connections) >= settings.max_connections:
            await connection.error(f"Too many open playground tabs (the limit is "
                                   f"{settings.max_connections}); close one and reload.")
            await websocket.close(code=1013)
            return
        connections.add(connection)
        await connection.send({"type": "hello", "version": descentlab.__version__,
                               "limits": {**cfg.LIMITS, "maxConnections":
                                          settings.max_connections},
                               "options": {**cfg.options(), "surfaces": surfaces.options(),
                                           "surfaceOptimizers": list(surfaces.OPTIMIZERS)},
                               "defaults": cfg.DEFAULTS, "lang": settings.lang})
        loop = asyncio.create_task(connection.frame_loop())
        try:
            await _receive(connection)
        finally:
            loop.cancel()
            connections.discard(connection)
            try:
                await loop
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 — closing anyway
                pass

    async def _receive(connection: Connection) -> None:
        websocket = connection.websocket
        while True:
            try:
                with anyio.fail_after(settings.idle_seconds):
                    raw = await websocket.receive()
            except TimeoutError:
                await connection.error(f"Closed after {settings.idle_seconds:g} s without a "
                                       "message; reload the page to continue.")
                await websocket.close(code=1001)
                return
            if raw["type"] == "websocket.disconnect":
                return
            try:
                message = connection.parse(raw.get("text"))
                # Acknowledgements keep the frames flowing and cost nothing: never dropped
                # (a dropped ack would stall the page); everything else is rate-limited.
                if message["type"] != "ack" and not connection._take_token():
                    now = time.monotonic()
                    if now - connection.flood_reported > 1.0:
                        connection.flood_reported = now
                        await connection.error(f"Too many messages (more than "
                                               f"{settings.max_rate:g} a second); some were "
                                               "ignored.")
                    continue
                await connection.handle(message)
            except _Refused as exc:
                await connection.error(str(exc), exc.key)
            except cfg.PlaygroundError as exc:
                await connection.error(str(exc), exc.key)
            except DescentLabError as exc:
                await connection.error(str(exc))

    allowed = list(LOOPBACK_HOSTS) + ([host] if host not in LOOPBACK_HOSTS else [])
    routes = [
        Route("/", index),
        Route("/font/NanumGothic.woff", font),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        WebSocketRoute("/ws", socket),
    ]
    app = Starlette(routes=routes, middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed),
    ])
    app.state.connections = connections
    return app


def korean_font() -> bytes:
    """NanumGothic as WOFF, cut to every character the page can show: its own files and the
    Korean sentences the server sends (the diagnosis catalogue, the engine's messages)."""
    from descentlab.plots.style import korean_font_subset

    package = resources.files("descentlab")
    text = "".join(entry.read_text(encoding="utf-8") for entry in STATIC.iterdir()
                   if entry.name.endswith((".html", ".js", ".css")))
    text += (package / "diagnostics.py").read_text(encoding="utf-8")
    return korean_font_subset(text)


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def serve(host: str = "127.0.0.1", port: int = 8050, open_browser: bool = True,
          lang: str = "en", state: str = "", log: Callable[[str], None] = print) -> None:
    """Run the playground until Ctrl-C. Binds loopback unless told otherwise."""
    import uvicorn

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    url += f"#lang={lang}" + (f"&{state}" if state else "")
    app = create_app(Settings(lang=lang), host=host)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", ws_max_size=2 << 20,
        ws_ping_interval=20, ws_ping_timeout=20, lifespan="off"))
    log(f"descentlab playground: {url}  (Ctrl-C stops it)")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    server.run()
