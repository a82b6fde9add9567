"""The playground's training logic, without a browser or a server.

Oracles: a model written by hand with the textbook's API and trained by ``Sequential.fit`` (the
playground must be that computation, chunked), TF Playground's data formulas transcribed point
by point, hand-computed gradient-descent steps, and the engine's own gradient diagnostics.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest

import descentlab as dl
from descentlab.layers import Activation, BatchNormalization, Dense, Dropout
from descentlab.models import Sequential
from descentlab.optimizers import SGD, Adagrad, Adam, AdamW, Nadam, RMSprop
from descentlab.playground import config as cfg
from descentlab.playground import data, surfaces, trainer
from descentlab.regularizers import L1, L2


def weights_after(config: dict, chunks: list[int]) -> tuple[trainer.Run, list[np.ndarray]]:
    run = trainer.Session(cfg.validate(config)).runs[0]
    for k in chunks:
        run.train(k)
    return run, run.model.get_weights()


# -- the same computation as Sequential.fit ----------------------------------------------------
def reference_model(config: dict, inputs: int) -> Sequential:
    """The network the docs promise, written out by hand with the textbook's API."""
    c = cfg.validate(config)
    reg = None
    if c["regularization"] != "none" and c["regularizationRate"] > 0:
        reg = (L1 if c["regularization"] == "L1" else L2)(c["regularizationRate"])
    model = Sequential()
    for i, units in enumerate(c["networkShape"]):
        act = c["activations"][i] if c["activations"] else c["activation"]
        init = c["initializers"][i] if c["initializers"] else c["initializer"]
        first = {"input_dim": inputs} if i == 0 else {}
        if c["batchNorm"]:
            model.add(Dense(units, kernel_initializer=init, kernel_regularizer=reg, **first))
            model.add(BatchNormalization())
            model.add(Activation(act))
        else:
            model.add(Dense(units, activation=act, kernel_initializer=init,
                            kernel_regularizer=reg, **first))
        if c["dropout"]:
            model.add(Dropout(c["dropout"]))
    model.add(Dense(1, activation="sigmoid", kernel_regularizer=reg))
    lr, flavor = c["learningRate"], c["flavor"]
    optimizer = {
        "sgd": lambda: SGD(lr, flavor=flavor), "gd": lambda: SGD(lr, flavor=flavor),
        "momentum": lambda: SGD(lr, momentum=c["momentum"], flavor=flavor),
        "nesterov": lambda: SGD(lr, momentum=c["momentum"], nesterov=True, flavor=flavor),
        "adagrad": lambda: Adagrad(lr, epsilon=c["epsilon"], flavor=flavor),
        "rmsprop": lambda: RMSprop(lr, rho=c["rho"], epsilon=c["epsilon"], flavor=flavor),
        "adam": lambda: Adam(lr, beta_1=c["beta1"], beta_2=c["beta2"], epsilon=c["epsilon"],
                             flavor=flavor),
        "adamw": lambda: AdamW(lr, weight_decay=c["weightDecay"], beta_1=c["beta1"],
                               beta_2=c["beta2"], epsilon=c["epsilon"], flavor=flavor),
        "nadam": lambda: Nadam(lr, beta_1=c["beta1"], beta_2=c["beta2"], epsilon=c["epsilon"],
                               flavor=flavor),
    }[c["optimizer"]]()
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    return model


CASES = [
    {},  # TF Playground's default: circle, 4-2 tanh, SGD 0.03, batch 10
    {"optimizer": "gd", "learningRate": 0.3},  # batch "full": plain gradient descent
    {"optimizer": "momentum", "dataset": "xor", "xTimesY": True},
    {"optimizer": "nesterov", "flavor": "pytorch", "batchSize": 7},
    {"optimizer": "adagrad", "learningRate": 0.1, "initializer": "he_normal"},
    {"optimizer": "rmsprop", "rho": 0.8, "activation": "relu", "dataset": "gauss"},
    {"optimizer": "adam", "flavor": "pytorch", "networkShape": [6, 5, 3],
     "activations": ["relu", "sigmoid", "elu"], "initializers": ["he_uniform", "zeros",
                                                                  "lecun_normal"]},
    {"optimizer": "adamw", "weightDecay": 0.05, "dataset": "spiral", "sinX": True, "cosY": True},
    {"optimizer": "nadam", "batchNorm": True, "dropout": 0.2, "seed": 7},
    {"regularization": "L2", "regularizationRate": 0.01, "noise": 20},
    {"regularization": "L1", "regularizationRate": 0.003, "optimizer": "adam"},
    {"networkShape": [], "percTrainData": 70},  # no hidden layer: logistic regression
]


@pytest.mark.parametrize("settings", CASES, ids=lambda s: ",".join(f"{k}={v}" for k, v in
                                                                  s.items()) or "tf-default")
def test_playground_run_equals_sequential_fit(settings):
    """After N epochs, trained in chunks by the playground, the weights are bit for bit those of
    one ``model.fit(x, y, epochs=N)`` of the same network written by hand with the same seed."""
    run, got = weights_after(settings, [1, 4, 2])
    c = cfg.validate(settings)
    dl.set_random_seed(c["seed"])
    model = reference_model(settings, len(cfg.features(c)))
    batch = "full" if c["optimizer"] == "gd" else c["batchSize"]
    history = model.fit(run.x_train, run.y_train, batch_size=batch, epochs=7, verbose=0)
    for a, b in zip(got, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert run.epoch == 7
    assert run.history == history.history["loss"]


def test_live_learning_rate_change_equals_fit_resumed_with_the_new_rate():
    """A learning-rate change while training (no rebuild) is ``fit`` continued with the
    optimizer's new rate, as a Keras user would write it."""
    base = {"optimizer": "momentum", "learningRate": 0.1}
    session = trainer.Session(cfg.validate(base))
    session.step(3)
    assert session.apply_live(cfg.validate({**base, "learningRate": 0.02}), None)
    session.step(4)
    run = session.runs[0]

    dl.set_random_seed(0)
    model = reference_model(base, 2)
    model.fit(run.x_train, run.y_train, batch_size=10, epochs=3, verbose=0)
    model.optimizer.learning_rate = 0.02
    model.fit(run.x_train, run.y_train, batch_size=10, epochs=7, initial_epoch=3, verbose=0)
    for a, b in zip(run.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_structural_change_is_not_applied_live():
    session = trainer.Session(cfg.validate({}))
    assert not session.apply_live(cfg.validate({"activation": "relu"}), None)
    assert not session.apply_live(cfg.validate({"momentum": 0.0}), None)  # 0.9 → 0 drops SGD's
    assert session.apply_live(cfg.validate({"regularizationRate": 0.5}), None)  # velocity


def test_same_seed_same_frames_other_seed_other_weights():
    a = trainer.Session(cfg.validate({"seed": 3, "dropout": 0.1}))
    b = trainer.Session(cfg.validate({"seed": 3, "dropout": 0.1}))
    # interleaved, as two browser tabs would be: each run keeps its own random streams
    a.step(2)
    b.step(1)
    b.step(1)
    fa, fb = a.frame_message(True), b.frame_message(True)
    assert fa["runs"][0]["weights"] == fb["runs"][0]["weights"]
    assert fa["runs"][0]["output"] == fb["runs"][0]["output"]
    c = trainer.Session(cfg.validate({"seed": 4, "dropout": 0.1}))
    c.step(2)
    assert c.frame_message(True)["runs"][0]["weights"] != fa["runs"][0]["weights"]


def test_training_lowers_the_loss_on_the_tf_default():
    session = trainer.Session(cfg.validate({}))
    before = session.runs[0].losses()["train"]
    session.step(150)
    after = session.runs[0].losses()
    assert after["train"] < 0.5 * before
    assert after["test"] < 0.5 * before


def test_compare_mode_trains_both_in_lockstep_on_the_same_data():
    session = trainer.Session(cfg.validate({"optimizer": "sgd"}), {"optimizer": "adam",
                                                                  "learningRate": 0.01})
    session.train_for(0.05)
    a, b = session.runs
    assert a.epoch == b.epoch > 0
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.model.optimizer.__class__.__name__ == "SGD"
    assert b.model.optimizer.__class__.__name__ == "Adam"
    # same seed: B starts from A's initial weights (same architecture)
    fresh = trainer.Session(cfg.validate({}), {"optimizer": "adam"})
    for wa, wb in zip(*(r.model.get_weights() for r in fresh.runs), strict=True):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(cfg.PlaygroundError, match="share the data and the seed; seed"):
        trainer.Session(cfg.validate({}), {"seed": 5})


# -- what a frame says --------------------------------------------------------------------------
def decode(heatmap: dict) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(heatmap["data"]), dtype=np.uint8)
    assert raw.size == heatmap["n"] ** 2
    return raw.reshape(heatmap["n"], heatmap["n"]).astype(np.float64) / 127.5 - 1.0


def test_output_heatmap_is_the_models_prediction_over_the_box_row_0_on_top():
    session = trainer.Session(cfg.validate({"xSquared": True}))
    session.step(30)
    run = session.runs[0]
    image = decode(run.frame()["output"])
    n = trainer.OUTPUT_GRID
    # an independent prediction at the four corners: (x₁, x₂) = (−6, 6) is row 0, column 0
    corners = np.array([[-6, 6], [6, 6], [-6, -6], [6, -6]], dtype=np.float64)
    feats = np.column_stack([corners[:, 0], corners[:, 1], corners[:, 0] ** 2])
    p = run.model.predict(feats.astype(np.float32))[:, 0]
    expected = 2 * p - 1
    got = [image[0, 0], image[0, n - 1], image[n - 1, 0], image[n - 1, n - 1]]
    np.testing.assert_allclose(got, expected, atol=1 / 127.5)


def test_neuron_heatmaps_are_the_hidden_activations():
    session = trainer.Session(cfg.validate({"networkShape": [3, 2]}))
    session.step(5)
    run = session.runs[0]
    frame = run.frame(with_inputs=True)
    assert len(frame["neurons"]) == 5 and len(frame["inputs"]) == 2
    n = run.neuron_grid
    dense1 = run.model.layers[0]
    centre = np.array([[0.0, 0.0]], dtype=np.float32)  # never on the grid exactly; take corner
    corner = np.array([[-6.0, 6.0]], dtype=np.float32)
    a1 = np.tanh(corner @ dense1.kernel + dense1.bias)[0]
    for j in range(3):
        assert decode(frame["neurons"][j])[0, 0] == pytest.approx(a1[j], abs=1 / 127.5)
    dense2 = run.model.layers[1]
    a2 = np.tanh(a1 @ dense2.kernel + dense2.bias)
    for j in range(2):  # the second layer's neurons follow the first's
        assert decode(frame["neurons"][3 + j])[0, 0] == pytest.approx(a2[j], abs=1 / 127.5)
    del centre
    # inputs are shown scaled to [−1, 1]: x₁ runs left to right, x₂ bottom to top
    x1, x2 = decode(frame["inputs"][0]), decode(frame["inputs"][1])
    assert x1[0, 0] == pytest.approx(-1) and x1[0, n - 1] == pytest.approx(1)
    assert x2[0, 0] == pytest.approx(1) and x2[n - 1, 0] == pytest.approx(-1)


def test_heatmap_encoding_clamps_and_rounds():
    values = np.array([-5.0, -1.0, 0.0, 0.5, 1.0, 7.0, np.nan, -0.25, 0.999])
    encoded = np.frombuffer(base64.b64decode(trainer.heatmap(values, 3)["data"]), np.uint8)
    assert encoded.tolist() == [0, 0, 128, 191, 255, 255, 128, 96, 255]
    # many columns at once (a frame's neurons): column k is heatmap k, in order
    columns = np.stack([values, -values, np.full(9, np.inf)], axis=1)
    pictures = trainer.heatmaps(columns, 3)
    assert [np.frombuffer(base64.b64decode(p["data"]), np.uint8).tolist() for p in pictures] == [
        [0, 0, 128, 191, 255, 255, 128, 96, 255],
        [255, 255, 128, 64, 0, 0, 128, 159, 0],
        [255] * 9]
    assert [p["n"] for p in pictures] == [3, 3, 3]


def test_gradient_flow_shows_the_vanishing_sigmoid_and_the_healthy_relu():
    """10 sigmoid layers: the first layer's gradient is a tiny fraction of the last one's and
    the diagnosis says 'vanishing'; ReLU with He init at the same depth does not vanish."""
    deep = {"networkShape": [8] * 10}
    sig = trainer.Session(cfg.validate({**deep, "activation": "sigmoid"})).frame_message(
        False, first=True)["runs"][0]
    relu = trainer.Session(cfg.validate({**deep, "activation": "relu",
                                         "initializer": "he_normal"})).frame_message(
        False, first=True)["runs"][0]
    assert len(sig["gradients"]) == 11
    sig_ratio = sig["gradients"][0]["kernel_norm"] / sig["gradients"][-1]["kernel_norm"]
    relu_ratio = relu["gradients"][0]["kernel_norm"] / relu["gradients"][-1]["kernel_norm"]
    assert sig_ratio < 0.25 ** 6  # at least the bound of 6 sigmoid layers' worth of shrinking
    assert relu_ratio > 1e-2
    assert sig["gradients"][0]["ratio_to_last"] == pytest.approx(sig_ratio, rel=1e-6)
    assert "vanishing" in [f["kind"] for f in sig["diagnosis"]["en"]]
    assert "vanishing" not in [f["kind"] for f in relu["diagnosis"]["en"]]
    finding = next(f for f in sig["diagnosis"]["ko"] if f["kind"] == "vanishing")
    assert finding["title"] == "기울기 소실"
    assert finding["fix"]["activation"] == "relu"
    # per-neuron tints: ‖∂L/∂W[:, j]‖ of layer 1 recomputed from the engine's gradients
    run = trainer.Session(cfg.validate({**deep, "activation": "sigmoid"})).runs[0]
    _, grads = run.model.compute_gradients(run.x_train, run.y_train)
    expected = np.linalg.norm(grads[0].astype(np.float64), axis=0)
    got = run.frame()["gradients"][0]["neuron"]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_a_diverging_run_stops_and_says_so():
    session = trainer.Session(cfg.validate({"optimizer": "sgd", "learningRate": 10.0,
                                            "activation": "linear", "networkShape": [16] * 6,
                                            "initializer": "ones", "xSquared": True,
                                            "ySquared": True}))
    session.step(20)
    run = session.runs[0]
    assert run.diverged
    epoch = run.epoch
    session.step(5)
    assert run.epoch == epoch  # no training after divergence
    frame = run.frame()
    assert frame["diverged"] is True and frame["gradients"] == []


# -- TF Playground's data, point by point ---------------------------------------------------------
def test_circle_labels_follow_the_radius_and_half_are_inside():
    points = data.circle(500, 0.0, np.random.default_rng(0))
    r = np.hypot(points.xy[:, 0], points.xy[:, 1])
    assert points.label.sum() == 250
    np.testing.assert_array_equal(points.label, (r < 2.5).astype(int))
    assert r[points.label == 1].max() <= 2.5 and r[points.label == 0].min() >= 3.5


def test_circle_with_noise_labels_points_by_their_noisy_position():
    """TF: the label is read at (x + noiseX, y + noiseY) against radius 5·0.5, with the noise
    uniform in ±5·noise; the point itself is drawn without it."""
    points = data.circle(400, 0.3, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the same draws, in the generator's order
    r = np.concatenate([rng.uniform(0, 2.5, 200), rng.uniform(3.5, 5, 200)])
    angle = rng.uniform(0, 2 * math.pi, 400)
    shift = rng.uniform(-5, 5, (400, 2)) * 0.3
    x, y = r * np.sin(angle), r * np.cos(angle)
    np.testing.assert_allclose(points.xy, np.column_stack([x, y]))
    expected = (np.hypot(x + shift[:, 0], y + shift[:, 1]) < 2.5).astype(int)
    np.testing.assert_array_equal(points.label, expected)
    assert 0 < (expected != (r < 2.5)).sum() < 100  # the noise does flip some labels


def test_xor_labels_and_padding():
    points = data.xor(500, 0.0, np.random.default_rng(1))
    x, y = points.xy[:, 0], points.xy[:, 1]
    assert np.abs(points.xy).min() >= 0.3 and np.abs(points.xy).max() <= 5.3
    np.testing.assert_array_equal(points.label, (x * y >= 0).astype(int))


def test_gauss_centres_and_noise_widen_them():
    quiet = data.gauss(2000, 0.0, np.random.default_rng(2))
    loud = data.gauss(2000, 0.5, np.random.default_rng(2))
    pos = quiet.xy[quiet.label == 1]
    np.testing.assert_allclose(pos.mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(pos.var(axis=0), [0.5, 0.5], rtol=0.15)
    np.testing.assert_allclose(loud.xy[loud.label == 0].var(axis=0), [4, 4], rtol=0.15)


def test_spiral_at_zero_noise_is_tf_formula():
    points = data.spiral(10, 0.0, np.random.default_rng(0))
    for i in range(5):  # TF: r = i/n·5, t = 1.75·i/n·2π (+π for the negative class)
        r, t = i / 5 * 5, 1.75 * i / 5 * 2 * math.pi
        assert points.xy[i] == pytest.approx([r * math.sin(t), r * math.cos(t)])
        assert points.xy[5 + i] == pytest.approx([r * math.sin(t + math.pi),
                                                   r * math.cos(t + math.pi)])
    assert points.label.tolist() == [1] * 5 + [0] * 5


def test_regression_sets_follow_tf_formulas():
    plane = data.reg_plane(300, 0.0, np.random.default_rng(3))
    np.testing.assert_allclose(plane.label, (plane.xy[:, 0] + plane.xy[:, 1]) / 10)
    bumps = data.reg_gauss(300, 0.0, np.random.default_rng(4))

    def tf_label(x, y):  # TF Playground's getLabel, transcribed
        centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1),
                   (4, -2.5, -1)]
        label = 0.0
        for cx, cy, sign in centres:
            d = math.hypot(x - cx, y - cy)
            new = sign * min(max(1 - d / 2, 0.0), 1.0)
            if abs(new) > abs(label):
                label = new
        return label

    expected = [tf_label(x, y) for x, y in bumps.xy]
    np.testing.assert_allclose(bumps.label, expected)


def test_split_sizes_and_features():
    split = data.make(cfg.validate({"percTrainData": 30, "seed": 9}))
    assert len(split.train.label) == 150 and len(split.test.label) == 350
    c = cfg.validate({"x": False, "sinY": True, "xTimesY": True, "cosX": True})
    xy = np.array([[0.5, -2.0]])
    np.testing.assert_allclose(data.feature_matrix(c, xy),
                               [[-2.0, 0.5 * -2.0, math.sin(-2.0), math.cos(0.5)]])


def test_upload_two_classes_rescaled_into_the_box():
    text = "a,b,c,kind\n1,10,5,cat\n2,20,6,dog\n3,40,7,cat\n4,30,8,dog\n"
    upload = data.parse_upload("pets.csv", text, x1="a", x2="c", label="kind")
    assert upload.classes == ["cat", "dog"] and (upload.x1, upload.x2) == ("a", "c")
    np.testing.assert_allclose(upload.points.xy[:, 0], [-5, -5 / 3, 5 / 3, 5])
    assert upload.points.label.tolist() == [0, 1, 0, 1]
    session = trainer.Session(cfg.validate({"dataset": "csv", "percTrainData": 50}), None,
                              upload)
    assert len(session.split.train.label) == 2


@pytest.mark.parametrize("text,kwargs,message", [
    ("a,b,c\n1,2,0\n3,4,1\n5,6,2\n", {}, "has 3 classes"),
    ("a,b,c\n1,2,x\n", {}, "single class"),
    ("a,b,c\n1,2,0\n3,4,1\n", {"x1": "zz"}, "x1 column 'zz' is not in the file"),
    ("a,b,c\n1,2,0\n3,4,1\n", {"x2": 7}, "x2 column 7 does not exist"),
    ("a,b,c\n1,q,0\n3,4,1\n", {}, "feature column 'b'"),
    ("a,b\n1,0\n2,1\n3,0\n", {}, "needs at least two numeric feature columns"),
    ("x,y,z\n" + "1,2,0.5\n" * 2001, {}, "has 2001 rows"),
])
def test_bad_uploads_are_refused_with_a_sentence(text, kwargs, message):
    with pytest.raises(cfg.PlaygroundError, match=message):
        data.parse_upload("u.csv", text, **kwargs)


def test_csv_without_upload_and_with_a_mismatched_problem():
    with pytest.raises(cfg.PlaygroundError, match="No CSV file has been uploaded"):
        data.make(cfg.validate({"dataset": "csv"}))
    upload = data.parse_upload("r.csv", "a,b,price\n1,2,10.5\n2,3,11.25\n3,1,9.75\n")
    assert upload.classes is None
    with pytest.raises(cfg.PlaygroundError, match="holds a regression target"):
        data.make(cfg.validate({"dataset": "csv"}), upload)
    split = data.make(cfg.validate({"problem": "regression", "regDataset": "csv"}), upload)
    assert np.abs(np.concatenate([split.train.label, split.test.label])).max() == 1.0


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,message", [
    ({"activaton": "relu"}, "Unknown setting 'activaton'. .* Did you mean 'activation'"),
    ({"networkShape": [4] * 17}, "networkShape must have 0 to 16 entries; got 17"),
    ({"networkShape": [0]}, r"networkShape\[0\] must lie in \[1, 16\]; got 0"),
    ({"networkShape": [2.5]}, r"networkShape\[0\] must be a whole number; got 2.5"),
    ({"networkShape": "4,2"}, "networkShape must be a list; got '4,2'"),
    ({"learningRate": 0}, r"learningRate must lie in \[1e-05, 10\]; got 0"),
    ({"learningRate": float("nan")}, "learningRate must be a number; got nan"),
    ({"learningRate": "0.1"}, "learningRate must be a number; got '0.1'"),
    ({"batchSize": 0}, "batchSize must be a whole number from 1 to 500 or 'full'"),
    ({"batchSize": True}, "batchSize must be a whole number"),
    ({"activation": "softmax"}, "activation 'softmax' is not available"),
    ({"optimizer": "lion"}, "optimizer 'lion' is not available"),
    ({"x": 1}, "x must be true or false; got 1"),
    ({"x": False, "y": False}, "Choose at least one input feature"),
    ({"networkShape": [4, 2], "activations": ["relu"]},
     "activations lists 1 layers but networkShape has 2"),
    ({"optimizer": "nesterov", "momentum": 0}, "Nesterov momentum needs a momentum above 0"),
    ({"seed": -1}, r"seed must lie in \[0, 2.147\d+e\+09\]; got -1"),
    ([1, 2], "config must be an object of settings"),
])
def test_validation_names_the_key_the_value_and_what_is_valid(raw, message):
    with pytest.raises(cfg.PlaygroundError, match=message) as caught:
        cfg.validate(raw)
    assert isinstance(caught.value, ValueError)


def test_validate_fills_defaults_and_keeps_tf_playground_defaults():
    c = cfg.validate({})
    assert (c["dataset"], c["networkShape"], c["activation"], c["learningRate"],
            c["batchSize"], c["percTrainData"], c["noise"]) == ("circle", [4, 2], "tanh", 0.03,
                                                                  10, 50, 0)
    assert cfg.features(c) == ["x", "y"]


# -- surfaces ---------------------------------------------------------------------------------
def test_surface_trajectory_is_plain_gradient_descent_by_hand():
    answer = surfaces.trajectories({"surface": "dlfs", "start": [-7, 2], "steps": 5,
                                    "runs": [{"optimizer": "sgd", "learningRate": 0.95}]})
    point = np.array([-7.0, 2.0])
    expected = [point.copy()]
    for _ in range(5):  # f = x²/20 + y²: ∇f = (x/10, 2y)
        point = point - 0.95 * np.array([point[0] / 10, 2 * point[1]])
        expected.append(point.copy())
    np.testing.assert_allclose(answer["runs"][0]["path"], expected, rtol=1e-12)
    np.testing.assert_allclose(answer["runs"][0]["loss"],
                               [x * x / 20 + y * y for x, y in expected], rtol=1e-12)
    assert answer["grid"]["size"] == surfaces.GRID and answer["runs"][0]["diverged"] is False


def test_surface_divergence_is_marked_and_requests_are_checked():
    answer = surfaces.trajectories({"surface": "dlfs", "steps": 200,
                                    "runs": [{"optimizer": "sgd", "learningRate": 5.0}]})
    assert answer["runs"][0]["diverged"] is True
    for bad, message in [
        ({"surface": "moon", "runs": []}, "surface 'moon' is not available"),
        ({"surface": "dlfs", "runs": []}, "runs must list 1 to 9"),
        ({"surface": "dlfs", "runs": [{"optimizer": "sgd", "learningRate": 0}]},
         r"runs\[0\].learningRate must be a number in \[1e-05, 10\]"),
        ({"surface": "dlfs", "start": [99, 0], "runs": [{"optimizer": "sgd",
                                                         "learningRate": 0.1}]},
         r"start\[0\] must be a number in \[-10, 10\]"),
        ({"surface": "dlfs", "steps": 5000, "runs": [{"optimizer": "sgd",
                                                      "learningRate": 0.1}]},
         "steps must be a whole number from 1 to 1000"),
    ]:
        with pytest.raises(cfg.PlaygroundError, match=message):
            surfaces.trajectories(bad)
