"""Argument checks, one place for all of them (as Keras' ``utils/argument_validation.py``).

Each check returns the value in its plain form (``int``, ``float``, array) or raises an error
whose message has one shape, the expected value and then the received one::

    <name> must be <what is valid>; got <value!r>.

:class:`~descentlab.errors.ConfigError` for settings and arguments, and
:class:`~descentlab.errors.DataError` for data. A bool is never taken for a number (``True`` is
an ``int`` in Python, but ``epochs=True`` is a mistake), and NaN passes no numeric check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import DTypeLike

from descentlab.errors import ConfigError, DataError

T = TypeVar("T")


#: A received value whose repr is longer than this is shortened in messages (a whole array).
_LONGEST_SHOWN = 80


def fail(name: str, what: str, value: Any, error: type[Exception] = ConfigError) -> Exception:
    """The error ``<name> must be <what>; got <value!r>.`` (to raise)."""
    shown = repr(value)
    if len(shown) > _LONGEST_SHOWN:
        shown = f"{shown[:_LONGEST_SHOWN - 20]}… (a {type(value).__name__})"
    return error(f"{name} must be {what}; got {shown}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return _is_int(value) or isinstance(value, (float, np.floating))


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """' in [0, 1)', ' > 0', ' ≥ 0', ' ≤ 1' or '' (no bounds)."""
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '≥'} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '≤'} {high:g}"
    return ""


def _outside(value: float, low: float | None, high: float | None, low_open: bool,
             high_open: bool) -> bool:
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    return below or above


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None,
              what: str | None = None) -> int:
    """``value`` as an ``int`` in [low, high] (either bound optional). ``what`` replaces the
    description of the valid values in the message."""
    if not _is_int(value) or _outside(int(value), low, high, False, False):
        if what is None:
            what = "a positive integer" if low == 1 and high is None else \
                f"an integer{_bounds(low, high, False, False)}"
        raise fail(name, what, value)
    return int(value)


def check_float(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False,
                what: str | None = None) -> float:
    """``value`` as a finite ``float`` within the bounds (``low_open``: ``low`` itself is
    excluded; likewise ``high_open``). NaN and ±inf are refused."""
    if not _is_real(value) or not math.isfinite(value) or \
            _outside(float(value), low, high, low_open, high_open):
        raise fail(name, what or "a finite number" + _bounds(low, high, low_open, high_open),
                   value)
    return float(value)


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a ``bool`` (True/False, NumPy's included; not 0/1 or strings)."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[T]) -> T:
    """``value`` if it is one of ``choices``; the message lists them. ``True`` is not ``1``."""
    for choice in choices:
        if _matches(value, choice):
            return choice
    raise fail(name, "one of " + ", ".join(repr(c) for c in choices), value)


def _matches(value: Any, choice: Any) -> bool:
    if isinstance(value, (bool, np.bool_)) != isinstance(choice, (bool, np.bool_)):
        return False
    try:
        return bool(value == choice)
    except (TypeError, ValueError):  # e.g. an array against a name
        return False


def check_array(data: Any, name: str, dtype: DTypeLike,
                error: type[Exception] = DataError) -> np.ndarray:
    """``data`` (array, nested lists, pandas DataFrame/Series) as a real array of ``dtype``.

    Booleans convert to 0/1 (as in the one-hot frames of ``pandas.get_dummies``); text,
    complex numbers and other objects do not: :class:`DataError` (or ``error``)."""
    if data is None:
        raise fail(name, "an array of numbers", None, error)
    if hasattr(data, "to_numpy") and hasattr(data, "dtypes"):
        _check_frame(data, name, error)
        data = data.to_numpy()
    what = "numeric (an array, nested lists of real numbers or a numeric DataFrame)"
    try:
        array = np.asarray(data)
        if array.dtype.kind not in "biuf" and not (
                array.dtype.kind == "O" and all(_is_real(v) for v in array.ravel())):
            raise fail(name, what, _Shown(f"an array of {array.dtype.name}"
                                          + _first(array)), error)
        return array.astype(dtype, copy=False)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, error):
            raise
        raise error(f"{name} must be {what}; it could not be converted: {exc}.") from None


class _Shown(str):
    """Text shown as it is in a message's "got ..." part (not quoted by repr)."""

    def __repr__(self) -> str:
        return str(self)


def _first(array: np.ndarray) -> str:
    return f" such as {array.ravel()[0]!r}" if array.size else ""


def _check_frame(data: Any, name: str, error: type[Exception]) -> None:
    """A pandas DataFrame/Series must hold numbers or booleans in every column."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype  # pandas is optional

    kinds = data.dtypes
    kinds = [kinds] if not hasattr(kinds, "__iter__") else list(kinds)
    columns = getattr(data, "columns", [getattr(data, "name", name)])
    for column, kind in zip(columns, kinds, strict=False):
        if not (is_numeric_dtype(kind) or is_bool_dtype(kind)) or \
                getattr(kind, "kind", "") == "c":
            raise error(
                f"{name} column {column!r} holds non-numeric values ({kind}); encode it "
                "first (for labels: pandas.get_dummies or a category code)."
            )


def check_finite(array: np.ndarray, name: str) -> None:
    """Refuse NaN and ±inf, naming the first one and its index."""
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        where = tuple(int(i) for i in bad)
        index = where if len(where) > 1 else where[0]
        raise DataError(
            f"{name} contains {float(array[where])} at index {index}; "
            "NaN and infinite values cannot be trained on (drop or impute them first)."
        )
