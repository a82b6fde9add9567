"""The playground's server through Starlette's test client: the protocol, and the server
defending itself (origin, host, sizes, floods, caps, idle tabs) without harming other tabs."""

from __future__ import annotations

import io
import json
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2; the client works the same
    from starlette.testclient import TestClient, WebSocketDenialResponse
from fontTools.ttLib import TTFont
from starlette.websockets import WebSocketDisconnect

from descentlab.playground import config as cfg
from descentlab.playground.server import MAX_IN_FLIGHT, STATIC, Settings, create_app

ORIGIN = "http://127.0.0.1:8050"
WS = "ws://127.0.0.1:8050/ws"


@pytest.fixture
def client():
    with TestClient(create_app(), base_url=ORIGIN) as c:
        yield c


def connect(client, origin=ORIGIN):
    return client.websocket_connect(WS, headers={"origin": origin} if origin else {})


def send(ws, **message):
    ws.send_text(json.dumps(message))


def until(ws, kind, ack=True, limit=500):
    """Messages up to the first of ``kind`` (frames on the way are acknowledged)."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == "frame" and ack:
            send(ws, type="ack", frame=message["frame"])
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message")


def start(ws, **config):
    hello = ws.receive_json()
    assert hello["type"] == "hello"
    send(ws, type="config", config=config)
    ready = until(ws, "ready")
    first = until(ws, "frame")
    return hello, ready, first


# -- the protocol -----------------------------------------------------------------------------
def test_hello_ready_and_first_frame(client):
    with connect(client) as ws:
        hello, ready, first = start(ws)
    assert hello["limits"]["maxLayers"] >= 12 and hello["limits"]["maxNeurons"] >= 16
    assert set(hello["options"]["optimizers"]) == {"gd", "sgd", "momentum", "nesterov",
                                                   "adagrad", "rmsprop", "adam", "adamw",
                                                   "nadam"}
    assert hello["options"]["optimizers"]["adam"] == ["beta1", "beta2", "epsilon"]
    assert hello["defaults"] == cfg.DEFAULTS
    assert {s["name"] for s in hello["options"]["surfaces"]} >= {"dlfs", "rosenbrock", "saddle"}
    assert ready["runs"][0]["shape"] == [2, 4, 2, 1]
    assert len(ready["data"]["train"]) == 250 and len(ready["data"]["test"]) == 250
    assert first["epoch"] == 0 and first["frame"] == 1 and "inputs" in first["runs"][0]
    assert len(first["runs"][0]["neurons"]) == 6
    assert "diagnosis" in first["runs"][0]


def test_play_trains_and_lowers_the_loss_pause_stops(client):
    with connect(client) as ws:
        _, _, first = start(ws)
        send(ws, type="play")
        frame = first
        deadline = time.monotonic() + 30
        while frame["epoch"] < 100 and time.monotonic() < deadline:
            frame = until(ws, "frame")
        assert frame["playing"] is True and frame["epoch"] >= 100
        assert frame["runs"][0]["loss"]["train"] < 0.6 * first["runs"][0]["loss"]["train"]
        send(ws, type="pause")
        paused = until(ws, "frame")
        while paused["playing"]:
            paused = until(ws, "frame")
        send(ws, type="step")
        stepped = until(ws, "frame")
        assert stepped["epoch"] == paused["epoch"] + 1 and stepped["playing"] is False


def test_frames_are_dropped_not_queued_when_the_page_does_not_acknowledge(client):
    with connect(client) as ws:
        start(ws)
        send(ws, type="play")
        unacked = [until(ws, "frame", ack=False) for _ in range(MAX_IN_FLIGHT)]
        time.sleep(0.5)  # training goes on, but no third frame may be in flight
        send(ws, type="ack", frame=unacked[-1]["frame"])
        nxt = until(ws, "frame", ack=False)
        assert nxt["frame"] == unacked[-1]["frame"] + 1  # nothing queued in between
        assert nxt["epoch"] > unacked[-1]["epoch"] + 20  # it trained while waiting
        send(ws, type="pause")


def test_live_change_keeps_training_structural_change_rebuilds(client):
    with connect(client) as ws:
        start(ws)
        for _ in range(5):
            send(ws, type="step")
        trained = until(ws, "frame")
        while trained["epoch"] < 5:
            trained = until(ws, "frame")
        send(ws, type="config", config={"learningRate": 0.1})
        updated = until(ws, "updated")
        assert updated["config"]["learningRate"] == 0.1
        assert until(ws, "frame")["epoch"] == 5  # not reset
        send(ws, type="config", config={"learningRate": 0.1, "activation": "relu"})
        ready = until(ws, "ready")
        assert ready["runs"][0]["layers"][0]["activation"] == "relu"
        rebuilt = until(ws, "frame")
        assert rebuilt["epoch"] == 0
        # frames are numbered per tab: the page's acks stay valid across a rebuild
        assert rebuilt["frame"] > trained["frame"]
        send(ws, type="ack", frame=rebuilt["frame"])
        send(ws, type="step")
        assert until(ws, "frame")["epoch"] == 1  # no error in between


def test_compare_mode_sends_two_runs(client):
    with connect(client) as ws:
        ws.receive_json()
        send(ws, type="config", config={"activation": "sigmoid", "networkShape": [8] * 8},
             b={"activation": "relu", "initializer": "he_normal"})
        ready = until(ws, "ready")
        frame = until(ws, "frame")
    assert [r["layers"][0]["activation"] for r in ready["runs"]] == ["sigmoid", "relu"]
    assert len(frame["runs"]) == 2


def test_surface_and_upload_messages(client):
    with connect(client) as ws:
        ws.receive_json()
        send(ws, type="surface", surface="rosenbrock", start=[-2, 2], steps=40,
             runs=[{"optimizer": "sgd", "learningRate": 0.001},
                   {"optimizer": "adam", "learningRate": 0.1}])
        answer = until(ws, "trajectories")
        assert [len(r["path"]) for r in answer["runs"]] == [41, 41]
        send(ws, type="upload", name="../../etc/two.csv",
             text="u,v,w\n1,2,0\n2,1,1\n3,3,0\n4,0,1\n")
        dataset = until(ws, "dataset")
        assert dataset["name"] == "two.csv"  # a name, never a path
        assert dataset["rows"] == 4 and dataset["classes"] == ["0", "1"]
        assert dataset["columns"] == ["u", "v", "w"] and dataset["label"] == "w"
        send(ws, type="config", config={"dataset": "csv", "percTrainData": 50})
        ready = until(ws, "ready")
        assert len(ready["data"]["train"]) == 2


# -- bad messages: an error back, nothing else changes ----------------------------------------
BAD = [
    ("{not json", "Message is not valid JSON."),
    ("[1, 2]", 'A message must be a JSON object with a "type"'),
    ('{"kind": "play"}', 'A message must be a JSON object with a "type"'),
    ('{"type": "fly"}', "Unknown message type 'fly'; valid types are ack, config, pause, play,"),
    ('{"type": "play", "speed": 2}', "Unknown field(s) speed in a 'play' message"),
    ('{"type": "config", "config": {"layers": 3}}', "Unknown setting 'layers'."),
    ('{"type": "config", "config": {"learningRate": -1}}',
     "learningRate must lie in [1e-05, 10]; got -1."),
    ('{"type": "config", "config": {"networkShape": [1000000000]}}',
     "networkShape[0] must lie in [1, 16]; got 1000000000."),
    ('{"type": "config", "config": {"batchSize": "all"}}', "batchSize must be a whole number"),
    ('{"type": "config", "config": {}, "b": {"seed": 1}}',
     "In compare mode A and B share the data and the seed; seed cannot differ."),
    ('{"type": "ack", "frame": 99}', "ack needs the number of a frame that was sent (1 to 1)"),
    ('{"type": "upload", "name": "a.csv", "text": 5}', "upload needs name and text"),
    ('{"type": "surface", "surface": "dlfs", "runs": "all"}', "runs must list 1 to 9"),
    ("[" * 100000 + "]" * 100000, "Message of 200,000 characters refused: the limit is 65,536"),
    ('{"type": "config", "config": ' + "[" * 5000 + "]" * 5000 + "}",
     "Message is nested too deeply to be read."),
    ('{"type": "config", "config": [[1]]}', "config must be an object of settings"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m[:30] for _, m in BAD])
def test_a_bad_message_gets_an_error_and_harms_nothing(client, text, message):
    with connect(client) as ws, connect(client) as other:
        _, _, first = start(ws)
        start(other)
        ws.send_text(text)
        error = until(ws, "error")
        assert error["message"].startswith(message) or message in error["message"]
        # this tab still works with its network untouched ...
        send(ws, type="step")
        frame = until(ws, "frame")
        assert frame["epoch"] == 1
        assert len(frame["runs"][0]["neurons"]) == len(first["runs"][0]["neurons"])
        # ... and so does the other one
        send(other, type="step")
        assert until(other, "frame")["epoch"] == 1


def test_binary_frames_and_play_before_config_are_refused(client):
    with connect(client) as ws:
        ws.receive_json()
        ws.send_bytes(b"\x00\x01")
        assert "not binary frames" in until(ws, "error")["message"]
        send(ws, type="play")
        assert 'Send a "config" message first' in until(ws, "error")["message"]


def test_a_flood_is_answered_and_ignored_then_the_tab_works_again():
    app = create_app(Settings(max_rate=50))
    with TestClient(app, base_url=ORIGIN) as client, connect(client) as ws:
        start(ws)
        for _ in range(400):
            send(ws, type="pause")
        error = until(ws, "error")
        assert error["message"] == "Too many messages (more than 50 a second); some were ignored."
        time.sleep(1.0)
        send(ws, type="step")
        frame = until(ws, "frame")
        while frame["epoch"] == 0:
            frame = until(ws, "frame")
        assert frame["epoch"] == 1


# -- the server's boundaries ------------------------------------------------------------------
def test_websocket_from_another_origin_is_refused(client):
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "null",
                   "http://127.0.0.1:8050.evil.example"):
        with pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)):
            with connect(client, origin) as ws:
                ws.receive_json()
    with connect(client, None) as ws:  # no Origin: not a browser, not a cross-site request
        assert ws.receive_json()["type"] == "hello"


def test_only_loopback_host_names_are_served(client):
    assert client.get("/").status_code == 200
    assert client.get("http://localhost:8050/").status_code == 200
    rebinding = client.get("/", headers={"host": "attacker.example:8050"})
    assert rebinding.status_code == 400  # DNS rebinding: a foreign name is refused


def test_page_headers_and_font(client):
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    font = client.get("/font/NanumGothic.woff")
    assert font.status_code == 200 and font.content[:4] == b"wOFF"
    cmap = TTFont(io.BytesIO(font.content)).getBestCmap()
    page_text = "".join(p.read_text(encoding="utf-8") for p in STATIC.iterdir())
    hangul = {c for c in page_text if "\uac00" <= c <= "\ud7a3"}
    assert len(hangul) > 200  # the Korean interface ...
    assert all(ord(c) in cmap for c in hangul)  # ... has a glyph for every syllable it uses
    assert all(ord(c) in cmap for c in "기울기 소실 해결책")  # and for the diagnosis
    assert client.get("/static/../server.py").status_code == 404


def test_connections_are_capped():
    app = create_app(Settings(max_connections=2))
    with TestClient(app, base_url=ORIGIN) as client, connect(client) as a, connect(client) as b:
        a.receive_json()
        b.receive_json()
        with connect(client) as c:
            error = c.receive_json()
            assert error == {"type": "error", "key": None, "message":
                             "Too many open playground tabs (the limit is 2); close one and "
                             "reload."}
            with pytest.raises(WebSocketDisconnect) as closed:
                c.receive_json()
            assert closed.value.code == 1013
        send(a, type="config", config={})  # the open tabs are unaffected
        assert until(a, "ready")["type"] == "ready"


def test_idle_connections_are_closed():
    app = create_app(Settings(idle_seconds=0.5))
    with TestClient(app, base_url=ORIGIN) as client, connect(client) as ws:
        ws.receive_json()
        error = ws.receive_json()
        assert error["message"] == ("Closed after 0.5 s without a message; reload the page to "
                                    "continue.")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1001


# -- the command --------------------------------------------------------------------------------
def _descentlab(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "descentlab.cli", *args]


def test_the_command_serves_on_loopback_and_stops_cleanly_on_ctrl_c():
    import re
    import signal
    import subprocess

    from websockets.sync.client import connect as ws_connect

    process = subprocess.Popen(_descentlab("playground", "--no-browser", "--port", "0",
                                           "--lang", "ko"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/#lang=ko", line)
        assert url, line
        port = url.group(1)
        deadline = time.monotonic() + 20
        while True:
            try:
                with ws_connect(f"ws://127.0.0.1:{port}/ws",
                                origin=f"http://127.0.0.1:{port}") as ws:
                    hello = json.loads(ws.recv())
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        assert hello["type"] == "hello" and hello["lang"] == "ko"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.strip().endswith("descentlab playground: stopped")
    assert "Traceback" not in err


def test_the_command_refuses_a_busy_port_in_one_line():
    import socket
    import subprocess

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(_descentlab("playground", "--no-browser", "--port", str(port)),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"descentlab: error: --port {port} on 127.0.0.1 cannot be "
                                    "used (Address already in use); choose another")


@pytest.mark.parametrize(("argv", "start"), [
    (["--port", "99999"], "descentlab: error: argument --port: expected a port number from 0 to "
                          "65535, got '99999'"),  # it was a traceback (OverflowError from bind)
    (["--host", "no-such-host.invalid"], "descentlab: error: --host no-such-host.invalid cannot "
                                         "be served on ("),
])
def test_the_command_refuses_a_bad_port_or_host_in_one_line(argv, start):
    import subprocess

    result = subprocess.run(_descentlab("playground", "--no-browser", *argv),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]  # (a host off loopback is warned about first)
    assert last.startswith(start) and "Traceback" not in result.stderr


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lang": "fr"}, "lang 'fr' is not available. Valid names: en, ko."),
    ({"mode": "train"}, "mode 'train' is not available. Valid names: play, compare, surfaces."),
    ({"showTestData": 1}, "showTestData must be true or false; got 1."),
    ({"height": -5}, "height must lie in [100, 10000]; got -5."),
    ({"width": 1e9}, "width must lie in [100, 10000]; got 1000000000.0."),
])
def test_show_refuses_bad_display_settings_in_a_sentence(kwargs, message):
    # they went into the page's URL (or the IFrame) unchecked
    import descentlab.playground as playground
    from descentlab.playground.config import PlaygroundError

    with pytest.raises(PlaygroundError) as caught:
        playground.show(**kwargs)
    assert str(caught.value) == message


def test_show_in_jupyter_serves_the_page_with_the_given_state():
    import urllib.request

    import descentlab.playground as playground

    frame = playground.show(activation="sigmoid", networkShape=[8] * 3, lang="ko", height=700)
    try:
        assert frame.height == 700
        base, fragment = frame.src.split("#")
        assert base.startswith("http://127.0.0.1:") and fragment == (
            "activation=sigmoid&networkShape=8,8,8&lang=ko")
        with urllib.request.urlopen(base, timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
        again = playground.show()  # the same server, reused
        assert again.src.split("#")[0] == base
        with pytest.raises(cfg.PlaygroundError, match="Unknown setting 'activaton'"):
            playground.show(activaton="relu")
    finally:
        server = playground._background.pop("server")
        server.should_exit = True
        playground._background.pop("thread").join(timeout=10)
        playground._background.clear()
