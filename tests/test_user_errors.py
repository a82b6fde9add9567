"""Every user mistake the engine can see becomes a DescentLabError naming the value and the fix."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import descentlab as dl
from descentlab import activations, initializers, losses, optimizers, validation
from descentlab.callbacks import EarlyStopping, ModelCheckpoint
from descentlab.errors import ConfigError, DataError, DescentLabError, TrainingDiverged
from descentlab.layers import BatchNormalization, Dense, Dropout
from descentlab.models import Sequential


def model(loss: str = "binary_crossentropy", units: int = 1, out: str = "sigmoid") -> Sequential:
    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(units, activation=out)])
    m.compile(optimizer="sgd", loss=loss)
    return m


X = np.random.default_rng(0).normal(size=(10, 3))
Y = (X[:, :1] > 0).astype(float)


@pytest.mark.parametrize("x, y, kind, message", [
    (X, Y[:7], DataError, "different numbers of samples: 10 and 7"),
    (np.where(np.arange(30).reshape(10, 3) == 7, np.nan, X), Y, DataError,
     r"x contains nan at index \(2, 1\)"),
    (np.where(np.arange(30).reshape(10, 3) == 4, np.inf, X), Y, DataError,
     r"x contains inf at index \(1, 1\)"),
    (X[:, :2], Y, DataError, "x has 2 features per sample, but the model expects 3"),
    (X[:0], Y[:0], DataError, "x is empty"),
    (X[:, 0], Y, DataError, "x must be 2-D"),
    (X.reshape(10, 3, 1), Y, DataError, "x must be 2-D"),
    ([["a", "b", "c"]] * 10, Y, DataError, "x must be numeric"),
    (pd.DataFrame({"a": ["x"] * 10, "b": 1.0, "c": 2.0}), Y, DataError,
     "column 'a' holds non-numeric values"),
    (X, Y * 2, DataError, "binary_crossentropy"),
])
def test_bad_data(x, y, kind, message: str) -> None:
    with pytest.raises(kind, match=message):
        model().fit(x, y, verbose=0)


@pytest.mark.parametrize("loss, units, out, y, message", [
    ("sparse_categorical_crossentropy", 3, "softmax", np.array([0, 1, 5] * 3 + [0]),
     "5"),
    ("categorical_crossentropy", 3, "softmax", np.eye(4)[np.arange(10) % 4],
     "4"),
    ("sparse_categorical_crossentropy", 3, "softmax", np.full(10, 1.5), "integer"),
])
def test_labels_out_of_range_for_the_loss(loss, units, out, y, message: str) -> None:
    with pytest.raises(DataError, match=message):
        model(loss, units, out).fit(X, y, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive integer or 'full'.*got 0"),
    ({"batch_size": -1}, "got -1"),
    ({"batch_size": 2.5}, "got 2.5"),
    ({"batch_size": True}, "got True"),
    ({"batch_size": "all"}, "got 'all'"),
    ({"epochs": 0}, "epochs must be a positive integer; got 0"),
    ({"epochs": -3}, "got -3"),
    ({"validation_split": 1.0}, r"validation_split must be a fraction in \[0, 1\); got 1.0"),
    ({"validation_split": -0.1}, "got -0.1"),
    ({"verbose": 3}, "verbose must be one of 0, 1, 2, 'auto'; got 3"),
    ({"on_divergence": "ignore"},
     "on_divergence must be one of 'raise', 'stop', 'continue'; got 'ignore'"),
])
def test_bad_fit_arguments(kwargs: dict, message: str) -> None:
    args = {"verbose": 0, **kwargs}
    with pytest.raises(ConfigError, match=message):
        model().fit(X, Y, **args)


@pytest.mark.parametrize("make, message", [
    (lambda: activations.get("sigmoud"), "Did you mean 'sigmoid'"),
    (lambda: Dense(3, activation="rellu"), "Did you mean 'relu'"),
    (lambda: initializers.get("he_normall"), "he_normal"),
    (lambda: losses.get("binary_crosentropy"), "binary_crossentropy"),
    (lambda: optimizers.get("rmsporp"), "rmsprop"),
    (lambda: Dense(0), "Dense units must be a positive integer; got 0"),
    (lambda: Dropout(1.5), r"Dropout rate must be a finite number in \[0, 1\); got 1.5"),
    (lambda: dl.set_floatx("float16"),
     "floatx must be one of 'float32', 'float64'; got 'float16'"),
    (lambda: dl.set_random_seed(-1), r"seed must be an integer from 0 to 2\*\*32 - 1 .*; got -1"),
    (lambda: Sequential().compile(optimizer="adam"), "compile needs a loss"),
    (lambda: Sequential([Dense(2, input_dim=3)]).fit(X, Y), "needs a compiled model"),
    (lambda: Sequential().add("dense"), "expects a layer"),
])
def test_bad_names_and_settings(make, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()


def test_every_error_is_a_descentlab_error_and_a_builtin() -> None:
    for error in (ConfigError, DataError):  # both bases, not either
        assert issubclass(error, DescentLabError) and issubclass(error, ValueError)
    with pytest.raises(ValueError):
        model().fit(X, Y[:3], verbose=0)


def test_only_the_output_only_activation_is_refused_as_a_hidden_one() -> None:
    # Keras puts softmax anywhere (and so does Dense here); where an activation must act on each
    # unit alone — a lab's hidden layers, a curve f(x) — softmax is refused in a sentence.
    assert [n for n in activations.names() if activations.get(n).output_only] == ["softmax"]
    assert activations.hidden_names() == [n for n in activations.names() if n != "softmax"]
    for name in activations.hidden_names():
        assert activations.hidden(name).name == activations.get(name).name
    with pytest.raises(ConfigError, match="softmax is an output activation"):
        activations.hidden("softmax")
    with pytest.raises(ConfigError, match="softmax is an output activation"):
        activations.hidden({"name": "softmax", "axis": -1})
    from descentlab.lab import activations as activation_lab
    from descentlab.lab import networks, vanishing
    from descentlab.sweep import space

    for call in (lambda: networks.dense_stack(4, [3], 2, "softmax", activation="softmax"),
                 lambda: vanishing.run_grid(activations=["relu", "softmax"], workers=1),
                 lambda: activation_lab.activation_curves(names=["softmax"]),
                 lambda: space.check(space.SearchSpace(activation=["tanh", "softmax"]))):
        with pytest.raises(ConfigError, match="output activation"):
            call()
    model = Sequential([Dense(3, activation="softmax", input_dim=4), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    assert model.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0).history["loss"]


def test_unknown_activation_lists_every_valid_name() -> None:
    with pytest.raises(ConfigError) as info:
        activations.get("nope")
    for name in activations.names():
        assert name in str(info.value)


# --------------------------------------------------------------------------------------------
# One validator, one sentence: "<name> must be <what>; got <value!r>." for every public argument
# --------------------------------------------------------------------------------------------
def raised(make) -> Exception:
    """The exception ``make()`` raises (the test fails if it raises none)."""
    with pytest.raises(Exception) as info:
        make()
    return info.value


def assert_sentence(error: Exception, kind: type, name: str, value) -> None:
    """The exact class, and the one message form naming the argument and the received value."""
    assert type(error) is kind, f"{type(error).__name__}: {error}"
    text = str(error)
    assert text.startswith(f"{name} must be "), text
    assert text.endswith(f"; got {value!r}."), text


BAD_NUMBERS = [None, "0.5", float("nan"), float("inf"), True, [0.5], 1j]


@pytest.mark.parametrize("value", [*BAD_NUMBERS, 1.0, -0.1, 1])
def test_fit_validation_split_family(value) -> None:
    assert_sentence(raised(lambda: model().fit(X, Y, verbose=0, validation_split=value)),
                    ConfigError, "validation_split", value)


@pytest.mark.parametrize("argument, low, bad", [
    ("initial_epoch", 0, ["a", -1, 1.5, True, None, np.float64(2.0)]),
    ("epochs", 1, ["3", 0, 2.0, False, None]),
])
def test_fit_integer_arguments_family(argument: str, low: int, bad: list) -> None:
    for value in bad:
        error = raised(lambda v=value: model().fit(X, Y, verbose=0, **{argument: v}))
        assert_sentence(error, ConfigError, argument, value)
        assert ("integer ≥ 0" if low == 0 else "positive integer") in str(error)


@pytest.mark.parametrize("kwargs, name, value", [
    ({"shuffle": "yes"}, "shuffle", "yes"),
    ({"shuffle": 1}, "shuffle", 1),
    ({"shuffle": None}, "shuffle", None),
    ({"verbose": True}, "verbose", True),
    ({"verbose": "loud"}, "verbose", "loud"),
    ({"batch_size": "32"}, "batch_size", "32"),
    ({"batch_size": np.float32(8)}, "batch_size", np.float32(8)),
    ({"on_divergence": None}, "on_divergence", None),
])
def test_fit_other_arguments(kwargs: dict, name: str, value) -> None:
    assert_sentence(raised(lambda: model().fit(X, Y, **{"verbose": 0, **kwargs})),
                    ConfigError, name, value)


def test_fit_callbacks_must_be_a_list_of_callbacks() -> None:
    stopper = EarlyStopping()
    assert_sentence(raised(lambda: model().fit(X, Y, verbose=0, callbacks=stopper)),
                    ConfigError, "callbacks", stopper)
    assert_sentence(raised(lambda: model().fit(X, Y, verbose=0, callbacks=[print])),
                    ConfigError, "each of callbacks", print)


def test_evaluate_predict_and_friends_check_their_arguments() -> None:
    m = model()
    assert_sentence(raised(lambda: m.evaluate(X, Y, verbose=0, batch_size=0)), ConfigError,
                    "batch_size", 0)
    assert_sentence(raised(lambda: m.evaluate(X, Y, verbose=0, return_dict="yes")),
                    ConfigError, "return_dict", "yes")
    assert_sentence(raised(lambda: m.predict(X, batch_size=-2)), ConfigError, "batch_size", -2)
    assert_sentence(raised(lambda: m.predict(X, verbose=5)), ConfigError, "verbose", 5)
    assert_sentence(raised(lambda: m.compute_gradients(X, Y, training="no")), ConfigError,
                    "training", "no")
    assert_sentence(raised(lambda: m.set_training_seed(-5)), ConfigError, "seed", -5)


def test_a_long_value_is_shortened_in_the_message() -> None:
    error = raised(lambda: model().fit(X, Y, verbose=0, validation_data=X))
    assert type(error) is DataError
    text = str(error)
    assert text.startswith("validation_data must be a tuple (x_val, y_val); got array(")
    assert text.endswith("… (a ndarray).") and len(text) < 200


@pytest.mark.parametrize("make, kind, name, value", [
    (lambda: Dense(3, input_shape=5), ConfigError, "Dense input_shape", 5),
    (lambda: Dense(3, input_shape=(5, 2)), ConfigError, "Dense input_shape", (5, 2)),
    (lambda: Dense(3, input_shape=(0,)), ConfigError, "Dense input_shape[0]", 0),
    (lambda: Dense("3"), ConfigError, "Dense units", "3"),
    (lambda: Dense(3.0), ConfigError, "Dense units", 3.0),
    (lambda: Dense(3, input_dim=2.5), ConfigError, "input_dim", 2.5),
    (lambda: Dense(3, use_bias="no"), ConfigError, "Dense use_bias", "no"),
    (lambda: Dense(3, name=5), ConfigError, "A layer's name", 5),
    (lambda: Dropout(0.5, seed="x"), ConfigError, "Dropout seed", "x"),
    (lambda: Dropout(0.5, seed=-1), ConfigError, "Dropout seed", -1),
    (lambda: Dropout(0.5, seed=1.5), ConfigError, "Dropout seed", 1.5),
    *[(lambda v=v: Dropout(v), ConfigError, "Dropout rate", v) for v in [*BAD_NUMBERS, 1.0]],
    *[(lambda v=v: BatchNormalization(epsilon=v), ConfigError, "BatchNormalization epsilon", v)
      for v in [*BAD_NUMBERS, 0, -1e-3]],
    *[(lambda v=v: BatchNormalization(momentum=v), ConfigError,
       "BatchNormalization momentum", v) for v in [*BAD_NUMBERS, 1.0, -0.5]],
    (lambda: BatchNormalization(center="no"), ConfigError, "BatchNormalization center", "no"),
])
def test_layer_arguments_family(make, kind, name: str, value) -> None:
    assert_sentence(raised(make), kind, name, value)


@pytest.mark.parametrize("make, name, value", [
    *[(lambda v=v: EarlyStopping(min_delta=v), "min_delta", v) for v in BAD_NUMBERS],
    (lambda: EarlyStopping(patience=-1), "patience", -1),
    (lambda: EarlyStopping(patience=1.5), "patience", 1.5),
    (lambda: EarlyStopping(mode="up"), "mode", "up"),
    (lambda: EarlyStopping(baseline="x"), "baseline", "x"),
    (lambda: EarlyStopping(monitor=3), "monitor", 3),
    (lambda: EarlyStopping(restore_best_weights="yes"), "restore_best_weights", "yes"),
    (lambda: EarlyStopping(start_from_epoch=-2), "start_from_epoch", -2),
    (lambda: ModelCheckpoint(""), "ModelCheckpoint filepath", ""),
    (lambda: ModelCheckpoint(None), "ModelCheckpoint filepath", None),
    (lambda: ModelCheckpoint("m.keras", save_freq=5), "save_freq", 5),
    (lambda: ModelCheckpoint("m.keras", save_best_only=1), "save_best_only", 1),
    (lambda: ModelCheckpoint("m.keras", initial_value_threshold=float("nan")),
     "initial_value_threshold", float("nan")),
])
def test_callback_arguments_family(make, name: str, value) -> None:
    error = raised(make)
    if isinstance(value, float) and value != value:  # nan: its repr is what is compared
        assert type(error) is ConfigError and str(error).endswith("; got nan.")
        assert str(error).startswith(f"{name} must be ")
    else:
        assert_sentence(error, ConfigError, name, value)


#: Each optimizer's bounded hyperparameters, and values outside every bound.
HYPERPARAMETERS = {
    optimizers.SGD: ["learning_rate", "momentum", "weight_decay", "clipnorm", "clipvalue",
                     "global_clipnorm"],
    optimizers.Adagrad: ["learning_rate", "initial_accumulator_value", "epsilon"],
    optimizers.RMSprop: ["learning_rate", "rho", "momentum", "epsilon"],
    optimizers.Adam: ["learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"],
    optimizers.AdamW: ["learning_rate", "weight_decay"],
    optimizers.Nadam: ["learning_rate", "beta_1", "beta_2", "epsilon", "momentum_decay"],
}


@pytest.mark.parametrize("cls, argument", [(c, a) for c, names in HYPERPARAMETERS.items()
                                            for a in names])
@pytest.mark.parametrize("value", ["0.1", float("nan"), float("inf"), -1.0, True, [0.1]])
def test_optimizer_hyperparameters_family(cls, argument: str, value) -> None:
    error = raised(lambda: cls(**{argument: value}))
    assert type(error) is ConfigError
    assert str(error).startswith(f"{argument} must be a finite number")
    assert str(error).endswith(f"; got {value!r}.")


@pytest.mark.parametrize("argument", ["nesterov", "amsgrad", "centered"])
def test_optimizer_switches_are_booleans(argument: str) -> None:
    cls = {"nesterov": optimizers.SGD, "amsgrad": optimizers.Adam,
           "centered": optimizers.RMSprop}[argument]
    extra = {"momentum": 0.9} if argument == "nesterov" else {}
    assert_sentence(raised(lambda: cls(**extra, **{argument: "yes"})), ConfigError, argument,
                    "yes")


@pytest.mark.parametrize("bad_rate", [-0.05, float("nan"), float("inf")])
def test_a_schedule_giving_a_bad_rate_stops_before_the_step(bad_rate: float) -> None:
    """A schedule that turns negative would climb the loss (gradient ascent): refused at the
    step it happens, before any weight moves."""
    def schedule(step: int) -> float:
        return 0.1 if step < 3 else bad_rate

    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1, activation="sigmoid")])
    m.compile(optimizer=optimizers.SGD(schedule), loss="binary_crossentropy")
    m.fit(X, Y, batch_size=5, epochs=1, verbose=0, shuffle=False)  # steps 0 and 1
    m.train_on_batch(X, Y)  # step 2
    before = m.get_weights()
    error = raised(lambda: m.train_on_batch(X, Y))
    assert type(error) is ConfigError
    assert f"gives at step 3 must be a finite number ≥ 0; got {bad_rate!r}." in str(error)
    assert m.optimizer.iterations == 3
    for a, b in zip(before, m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_schedule_arguments_are_checked() -> None:
    from descentlab import schedules

    assert_sentence(raised(lambda: schedules.CosineDecay(0.1, 10, warmup_target=-0.1)),
                    ConfigError, "warmup_target", -0.1)
    assert_sentence(raised(lambda: schedules.CosineDecay(0.1, 10, alpha=float("inf"))),
                    ConfigError, "alpha", float("inf"))
    assert_sentence(raised(lambda: schedules.ExponentialDecay(0.1, 0, 0.5)), ConfigError,
                    "decay_steps", 0)
    assert_sentence(raised(lambda: schedules.InverseTimeDecay(0.1, 1, "0.5")), ConfigError,
                    "decay_rate", "0.5")


@pytest.mark.parametrize("bad, shown", [
    (np.array([["a", "b", "c", "d"]] * 3), "an array of str"),
    (np.ones((3, 4), dtype=complex), "an array of complex128"),
    ([["1", "2", "3", "4"]] * 3, "an array of str"),
    (np.array([[object()] * 4] * 3), "an array of object"),
])
def test_set_weights_refuses_text_and_complex_arrays(bad, shown: str) -> None:
    m = model()
    before = m.get_weights()
    weights = m.get_weights()
    weights[0] = bad
    error = raised(lambda: m.set_weights(weights))
    assert type(error) is DataError
    assert str(error).startswith("set_weights array 0 must be numeric")
    assert f"; got {shown}" in str(error)
    for a, b in zip(before, m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing was written


def test_set_weights_needs_a_list() -> None:
    m = model()
    kernel = m.get_weights()[0]
    error = raised(lambda: m.set_weights(kernel))
    assert type(error) is DataError
    assert str(error).startswith("set_weights' argument must be a list of arrays")


@pytest.mark.parametrize("bad, shown", [
    (np.ones((10, 3), dtype=complex), "complex128"),
    (np.array([["1.0"] * 3] * 10), "str"),
])
def test_training_data_refuses_complex_and_text(bad, shown: str) -> None:
    error = raised(lambda: model().fit(bad, Y, verbose=0))
    assert type(error) is DataError
    assert str(error).startswith("x must be numeric") and shown in str(error)


@pytest.mark.parametrize("check, args, value", [
    (validation.check_int, {"low": 0}, True),
    (validation.check_int, {}, np.bool_(True)),
    (validation.check_float, {}, float("nan")),
    (validation.check_float, {"low": 0.0}, float("nan")),
    (validation.check_float, {"high": 1.0}, float("-inf")),
    (validation.check_float, {}, False),
    (validation.check_bool, {}, 1),
])
def test_the_checks_refuse_bools_as_numbers_and_nan_everywhere(check, args, value) -> None:
    error = raised(lambda: check(value, "v", **args))
    assert type(error) is ConfigError and str(error).endswith(f"; got {value!r}.")


def test_check_choice_tells_true_from_one() -> None:
    assert validation.check_choice(1, "verbose", (0, 1, 2)) == 1
    assert validation.check_choice(np.int64(2), "verbose", (0, 1, 2)) == 2
    assert_sentence(raised(lambda: validation.check_choice(True, "verbose", (0, 1, 2))),
                    ConfigError, "verbose", True)


# --------------------------------------------------------------------------------------------
# TrainingDiverged crosses process boundaries
# --------------------------------------------------------------------------------------------
def test_training_diverged_survives_pickling() -> None:
    """A run in a worker process that diverges reaches its parent with all its facts."""
    m = model("mean_squared_error", 1, "linear")
    m.compile(optimizer=optimizers.SGD(1e6), loss="mse")
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        m.fit(X, Y * 1e3, batch_size=2, epochs=50, verbose=0)
    error = info.value
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is TrainingDiverged
    assert str(again) == str(error)
    assert (again.epoch, again.batch, again.learning_rate) == \
        (error.epoch, error.batch, error.learning_rate)
    assert again.epoch is not None and again.learning_rate == 1e6
    assert again.history.history == error.history.history
    assert again.history.epoch == error.history.epoch
    assert isinstance(again, (DescentLabError)) and isinstance(again, RuntimeError)
