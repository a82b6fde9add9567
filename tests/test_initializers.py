"""Initializers: Keras 3's formulas, checked exactly where they are exact and statistically
(within a few standard errors of the sampling distribution) where they are random.

All draws come from fixed seeds, so the tests are deterministic; the tolerances are nevertheless
set from the sampling error, so they would also hold for other seeds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import descentlab as dl
from descentlab import initializers
from descentlab.errors import ConfigError

SHAPE = (400, 300)  # a Dense kernel (inputs, units): fan_in = 400, fan_out = 300
N = SHAPE[0] * SHAPE[1]
FAN_IN, FAN_OUT = SHAPE
TRUNC = 0.87962566103423978  # std of a standard normal truncated to (−2, 2)

# name → (Keras class name, standard deviation of the weights for SHAPE)
VARIANCE_SCALING = {
    "glorot_uniform": ("GlorotUniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "glorot_normal": ("GlorotNormal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "he_uniform": ("HeUniform", math.sqrt(2 / FAN_IN)),
    "he_normal": ("HeNormal", math.sqrt(2 / FAN_IN)),
    "lecun_uniform": ("LecunUniform", math.sqrt(1 / FAN_IN)),
    "lecun_normal": ("LecunNormal", math.sqrt(1 / FAN_IN)),
}
UNIFORM_LIMITS = {  # the textbook formulas for the half-width a of U(−a, a)
    "glorot_uniform": math.sqrt(6 / (FAN_IN + FAN_OUT)),
    "he_uniform": math.sqrt(6 / FAN_IN),
    "lecun_uniform": math.sqrt(3 / FAN_IN),
}


def _std_standard_error(std: float, n: int, kurtosis: float) -> float:
    """Standard error of the sample standard deviation: σ·√((κ − 1)/(4n))."""
    return std * math.sqrt((kurtosis - 1) / (4 * n))


def _kurtosis(name: str) -> float:
    # Uniform: 1.8. Normal: 3 — also an upper bound for the truncated normal (lighter tails).
    return 1.8 if name.endswith("uniform") else 3.0


def _draw(init, shape=SHAPE, seed=0, dtype="float64"):
    return init(shape, dtype=dtype, rng=np.random.default_rng(seed))


def test_compute_fans_matches_keras():
    from keras.src.initializers.random_initializers import compute_fans

    for shape in [(), (7,), (64, 10), (3, 3, 16, 32), (5, 4, 3, 2, 1)]:
        assert initializers.compute_fans(shape) == compute_fans(shape), shape
    assert initializers.compute_fans(SHAPE) == (FAN_IN, FAN_OUT)


@pytest.mark.parametrize("name", sorted(UNIFORM_LIMITS))
def test_uniform_limits_are_the_keras_formulas(name):
    w = _draw(initializers.get(name))
    limit = UNIFORM_LIMITS[name]
    assert np.abs(w).max() <= limit
    # With 120,000 draws both ends are reached: P(max < a(1 − 1e−4)) ≈ e^{−6} per end.
    assert w.max() > limit * (1 - 1e-4) and w.min() < -limit * (1 - 1e-4)
    # Uniform on (−a, a): std a/√3.
    se = _std_standard_error(limit / math.sqrt(3), N, 1.8)
    assert abs(w.std() - limit / math.sqrt(3)) < 5 * se
    # Swapping fan_in and fan_out would change he/lecun's limit: the kernel is (inputs, units).
    assert initializers.get(name).target_stddev(SHAPE) == pytest.approx(limit / math.sqrt(3))


def test_random_uniform_defaults_and_limit():
    w = _draw(initializers.get("random_uniform"))
    assert w.min() >= -0.05 and w.max() < 0.05 and w.max() > 0.0499
    init = initializers.random_uniform(limit=0.3)
    assert (init.minval, init.maxval) == (-0.3, 0.3)
    w = _draw(init)
    assert np.abs(w).max() <= 0.3 and np.abs(w).max() > 0.2999
    assert abs(w.mean()) < 5 * 0.3 / math.sqrt(3 * N)
    with pytest.raises(ConfigError, match="limit="):
        initializers.RandomUniform(0.3)  # minval 0.3 > maxval 0.05: the user meant limit=0.3


@pytest.mark.parametrize("name", sorted(VARIANCE_SCALING))
def test_std_and_mean_within_sampling_error_of_keras_target(name):
    target = VARIANCE_SCALING[name][1]
    w = _draw(initializers.get(name), seed=1)
    se = _std_standard_error(target, N, _kurtosis(name))
    assert abs(w.std() - target) < 5 * se, (w.std(), target, se)
    assert abs(w.mean()) < 5 * target / math.sqrt(N)


@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal"])
def test_truncated_normal_bounds_and_shape(name):
    std = VARIANCE_SCALING[name][1]
    sigma0 = std / TRUNC  # the underlying normal, before truncation
    z = _draw(initializers.get(name), seed=2) / sigma0
    assert np.abs(z).max() < 2.0  # nothing beyond 2σ₀
    assert np.abs(z).max() > 1.99
    # Redrawn, not clipped: the mass in each band is that of a normal truncated to ±2,
    # P(a < |z| < b) = (erf(b/√2) − erf(a/√2)) / erf(2/√2). Clipping would pile 4.55 % at ±2.
    for lo, hi in [(0.0, 1.0), (1.0, 1.9), (1.99, 2.0)]:
        p = (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2))) / math.erf(math.sqrt(2))
        frac = np.mean((np.abs(z) >= lo) & (np.abs(z) < hi))
        assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / N), (lo, hi, frac, p)


def test_truncated_and_random_normal_parameters():
    w = _draw(initializers.TruncatedNormal(mean=1.0, stddev=0.1), seed=3)
    assert w.min() > 0.8 and w.max() < 1.2
    assert abs(w.std() - 0.1 * TRUNC) < 5 * _std_standard_error(0.1 * TRUNC, N, 3)
    assert abs(w.mean() - 1.0) < 5 * 0.1 / math.sqrt(N)
    w = _draw(initializers.get("random_normal"), seed=4)  # Keras' default stddev 0.05
    assert abs(w.std() - 0.05) < 5 * _std_standard_error(0.05, N, 3)
    assert np.abs(w).max() > 4 * 0.05  # untruncated: 4σ values occur among 120,000 draws
    w = _draw(initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"), seed=5)
    assert abs(w.std() - math.sqrt(2 / FAN_OUT)) < 5 * _std_standard_error(
        math.sqrt(2 / FAN_OUT), N, 3)


@pytest.mark.parametrize("name", sorted(VARIANCE_SCALING))
def test_same_distribution_as_keras(name):
    import keras

    keras_class, target = VARIANCE_SCALING[name]
    theirs = keras.initializers.get({"class_name": keras_class, "config": {"seed": 7}})(
        shape=SHAPE, dtype="float64")
    theirs = theirs.detach().cpu().numpy()
    ours = _draw(initializers.get(name), seed=7)
    se = _std_standard_error(target, N, _kurtosis(name))
    assert abs(ours.std() - theirs.std()) < 5 * math.sqrt(2) * se
    if name.endswith("uniform"):
        limit = UNIFORM_LIMITS[name]
        assert np.abs(theirs).max() <= limit and np.abs(theirs).max() > limit * (1 - 1e-4)
    # (Keras' torch backend truncates by keeping the first of 4 candidates inside ±2σ₀, so about
    # 4e−6 of its values fall outside; descentlab redraws until none does.)


def test_exact_formulas_from_the_same_generator():
    # Same generator state → the named initializers are exactly VarianceScaling / uniform draws.
    he = _draw(initializers.HeNormal(), seed=11)
    z = initializers.truncated_standard_normal(np.random.default_rng(11), SHAPE)
    np.testing.assert_array_equal(he, math.sqrt(2 / FAN_IN) / TRUNC * z)
    glorot = _draw(initializers.GlorotUniform(), seed=12)
    a = math.sqrt(6 / (FAN_IN + FAN_OUT))
    np.testing.assert_allclose(glorot, np.random.default_rng(12).uniform(-a, a, SHAPE),
                               rtol=1e-15)
    vs = _draw(initializers.VarianceScaling(1.0, "fan_avg", "uniform"), seed=12)
    np.testing.assert_array_equal(glorot, vs)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_determinism_and_seeding():
    init = initializers.get("glorot_normal")
    dl.set_random_seed(42)
    a = init((64, 32))
    dl.set_random_seed(42)
    b = init((64, 32))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init((64, 32)))  # the global generator moved on
    dl.set_random_seed(43)
    assert not np.array_equal(a, init((64, 32)))
    # An explicit generator: same state, same values.
    np.testing.assert_array_equal(_draw(init, seed=5), _draw(init, seed=5))
    # A seeded initializer returns the same values on every call (Keras' semantics).
    seeded = initializers.HeUniform(seed=3)
    np.testing.assert_array_equal(seeded((10, 10)), seeded((10, 10)))
    # float32 and float64 weights come from the same float64 draws.
    np.testing.assert_array_equal(_draw(init, seed=6, dtype="float32"),
                                  _draw(init, seed=6).astype(np.float32))


def test_dtype_follows_floatx_and_argument(float64):
    assert initializers.get("he_normal")((3, 4)).dtype == np.float64
    assert initializers.get("zeros")((3,)).dtype == np.float64
    assert initializers.get("he_normal")((3, 4), dtype="float32").dtype == np.float32
    dl.set_floatx("float32")
    for name in initializers.names():
        w = initializers.get(name)((5, 2))
        assert w.dtype == np.float32 and w.shape == (5, 2), name
    assert initializers.get("zeros")(3, dtype="int64").dtype == np.int64
    with pytest.raises(ConfigError, match="float"):
        initializers.get("glorot_uniform")((3, 3), dtype="int32")
    with pytest.raises(ConfigError, match="shape"):
        initializers.get("glorot_uniform")((3, -1))


def test_constant_initializers():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(0.5)((2, 2)), np.full((2, 2), 0.5))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError) as info:
        initializers.get("he_norml")
    message = str(info.value)
    assert "'he_norml'" in message and "Did you mean 'he_normal'?" in message
    for name in initializers.names():
        assert name in message
    with pytest.raises(ConfigError, match="fan_avg"):
        initializers.VarianceScaling(mode="fan_average")
    with pytest.raises(ConfigError, match="scale must be a finite number > 0; got 0.0"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ConfigError, match="seed"):
        initializers.get({"name": "he_normal", "sed": 1})


@pytest.mark.parametrize("init", [
    *(initializers.get(n) for n in initializers.names()),
    initializers.RandomNormal(0.1, 0.2, seed=3), initializers.random_uniform(limit=0.5),
    initializers.Constant(2.5), initializers.VarianceScaling(0.5, "fan_out", "uniform", seed=1),
])
def test_serialize_get_round_trip(init):
    config = initializers.serialize(init)
    rebuilt = initializers.get(json.loads(json.dumps(config)))
    assert rebuilt == init and type(rebuilt) is type(init)
    np.testing.assert_array_equal(_draw(rebuilt, (6, 5)), _draw(init, (6, 5)))


def test_lookup_keras_spellings_and_callables():
    assert initializers.get("GlorotUniform") == initializers.GlorotUniform()
    assert initializers.get({"class_name": "HeNormal", "config": {"seed": 3}}).seed == 3
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.get(initializers.Zeros) == initializers.Zeros()

    def custom(shape, dtype=None):
        return np.full(shape, 0.1, dtype=dtype)

    assert initializers.get(custom) is custom
    with pytest.raises(ConfigError, match="custom initializer"):
        initializers.serialize(custom)
    with pytest.raises(ConfigError):
        initializers.get(None)


def test_a_config_without_a_name_says_so_and_lists_the_names():
    with pytest.raises(ConfigError, match=r"An initializer config needs a 'name'; got "
                                          r"\{'stddev': 0.1\}\. Valid names: "):
        initializers.get({"stddev": 0.1})
    keras_form = initializers.get({"class_name": "RandomNormal", "config": {"stddev": 0.5}})
    assert keras_form.get_config()["stddev"] == 0.5
