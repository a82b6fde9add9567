"""The ground floor: floating-point precision and the random generator.

Nothing here imports the rest of descentlab but the argument checks. Every random draw in the
engine (initial weights, shuffling, dropout) comes from one NumPy ``Generator`` owned by this
module, so that ``set_random_seed(s)`` followed by the same code and data gives bit-identical
results.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
    """Seed every random draw descentlab makes (initialisation, shuffling, dropout).

    Same seed, same data, same code → bit-identical weights and history.
    """
    global _generator
    _generator = np.random.default_rng(check_int(seed, "seed", low=0))


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
