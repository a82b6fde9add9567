"""The ground floor: floating-point precision, the random generator and automatic names.

Nothing here imports the rest of descentlab but the argument checks. Every random draw in the
engine (initial weights, shuffling, dropout) comes from one NumPy ``Generator`` owned by this
module, so that ``set_random_seed(s)`` followed by the same code and data gives bit-identical
results.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from descentlab.validation import check_choice, check_int

_FLOATX = "float32"
_VALID_FLOATX = ("float32", "float64")
_generator: np.random.Generator = np.random.default_rng()


def floatx() -> str:
    """The float type of weights and computations: ``"float32"`` (default) or ``"float64"``."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type for models built afterwards (``"float32"`` or ``"float64"``)."""
    global _FLOATX
    _FLOATX = check_choice(value, "floatx", _VALID_FLOATX)


def dtype() -> np.dtype:
    """``floatx()`` as a NumPy dtype."""
    return np.dtype(_FLOATX)


def set_random_seed(seed: int) -> None:
    """Seed every random draw descentlab makes (initialisation, shuffling, dropout), and, as
    ``keras.utils.set_random_seed`` does, Python's ``random`` and NumPy's global generator
    (``np.random.seed``): code around the model that draws from them (scikit-learn's
    ``train_test_split`` or ``KFold`` without a ``random_state``) repeats too.

    Same seed, same data, same code, same number of BLAS threads → bit-identical weights and
    history (see docs/API.md, "Determinism").
    """
    global _generator
    seed = check_int(seed, "seed", low=0, high=2**32 - 1,
                     what="an integer from 0 to 2**32 - 1 (as NumPy's np.random.seed takes)")
    random.seed(seed)
    np.random.seed(seed)
    _generator = np.random.default_rng(seed)


def rng() -> np.random.Generator:
    """The generator all of descentlab's random draws come from."""
    return _generator


_generator_lock = threading.RLock()


@contextmanager
def use_generator(generator: np.random.Generator) -> Iterator[np.random.Generator]:
    """Within the block, every random draw descentlab makes comes from ``generator``.

    For programs that hold several independent training runs at once (the playground's tabs):
    building a model inside ``use_generator(np.random.default_rng(s))`` draws exactly what it
    would draw after ``set_random_seed(s)``, whatever the other runs do meanwhile. The blocks of
    different threads take turns (a lock), so no draw lands in another run's stream.
    """
    global _generator
    with _generator_lock:
        previous = _generator
        _generator = generator
        try:
            yield generator
        finally:
            _generator = previous


# Constant arrays (ones, zeros), made once per shape and dtype and shared, read-only; looked up
# as they are asked for (a shape tuple and a dtype), which every step does, so cheaply.
_ones: dict[tuple[tuple[int, ...], Any], np.ndarray] = {}
_zeros: dict[tuple[tuple[int, ...], Any], np.ndarray] = {}
#: The most bytes either kind of constant may hold; past it they are made afresh (shapes a
#: user's calls stop using are not kept forever).
CONSTANT_BYTES = 64 << 20


def _constant(made: dict[tuple[tuple[int, ...], Any], np.ndarray], fill: float,
              shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    array = np.full(shape, fill, dtype=dtype)
    array.flags.writeable = False
    if sum(a.nbytes for a in made.values()) + array.nbytes > CONSTANT_BYTES:
        made.clear()
    made[(shape, dtype)] = array
    return array


def ones(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A read-only array of ones of ``shape`` and ``dtype``, made once and shared: a sum over
    a batch or over classes, written as a product with a row or column of ones, is one BLAS
    call per network (per member of a population), and each member sums as its network."""
    array = _ones.get((shape, dtype))
    return _constant(_ones, 1.0, shape, dtype) if array is None else array


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A read-only array of zeros of ``shape`` and ``dtype``, made once and shared:
    ``np.maximum(x, zeros(x.shape, x.dtype))`` is relu(x) element by element as
    ``np.maximum(x, 0.0)`` is, the same numbers, 2–3× faster (NumPy has no vectorised loop for
    a maximum with a scalar)."""
    array = _zeros.get((shape, dtype))
    return _constant(_zeros, 0.0, shape, dtype) if array is None else array


# Automatic names, counted across the Python process as Keras counts them.
_name_counts: dict[str, int] = {}
_name_lock = threading.Lock()


def unique_name(prefix: str) -> str:
    """The next automatic name for ``prefix``, as Keras gives them: ``"dense"`` the first time
    in the process, then ``"dense_1"``, ``"dense_2"``, ...; each prefix (``"sequential"``,
    ``"dropout"``, ...) counts on its own. A name given explicitly does not count."""
    with _name_lock:
        count = _name_counts.get(prefix, 0)
        _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Start the automatic names afresh (as ``keras.backend.clear_session()``): the next model
    is ``"sequential"`` again and its first Dense layer ``"dense"``."""
    with _name_lock:
        _name_counts.clear()
