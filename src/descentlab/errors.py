"""Errors a user can cause, each a sentence that names the value and what would be valid.

Every user-facing error derives from :class:`DescentLabError`, so a program (or the CLI) can tell
"you asked for something invalid" apart from a bug in descentlab. The subclasses also derive from
the built-in exception a Python user would expect (``ValueError``, ``RuntimeError``, ``OSError``),
so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from typing import Any


class DescentLabError(Exception):
    """Base class of every error caused by the user's input or files."""


class ConfigError(DescentLabError, ValueError):
    """An argument, name or setting is not valid (unknown activation, negative learning rate)."""


class DataError(DescentLabError, ValueError):
    """The data cannot be used (mismatched lengths, NaN, wrong width, labels out of range)."""


class ModelFileError(DescentLabError, OSError):
    """A model file is missing, truncated, corrupted or not a descentlab model file."""


class TrainingDiverged(DescentLabError, RuntimeError):
    """The loss became NaN or infinite during ``fit``.

    Attributes:
        epoch: 1-based epoch in which it happened (None in ``train_on_batch``).
        batch: 1-based batch within that epoch (None in ``train_on_batch``).
        learning_rate: the learning rate in force at that step.
        history: the :class:`~descentlab.callbacks.History` up to the last finished epoch.
    """

    def __init__(self, message: str, *, epoch: int | None, batch: int | None,
                 learning_rate: float,
                 history: Any = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.learning_rate = learning_rate
        self.history = history

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling re-creates an exception from its args alone (the message); the facts are
        # keyword-only, so they travel as the state (to a worker process's parent, e.g.).
        return (_training_diverged, (self.args[0],), self.__dict__)


def _training_diverged(message: str) -> TrainingDiverged:
    """An empty TrainingDiverged for unpickling; ``__dict__`` then restores its facts."""
    return TrainingDiverged(message, epoch=None, batch=None, learning_rate=float("nan"))


def did_you_mean(value: str, valid: list[str]) -> str:
    """A short hint listing the valid names, closest first when one is close."""
    import difflib

    close = difflib.get_close_matches(str(value), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Valid names: {', '.join(valid)}.{hint}"


def instantiate(kind: str, key: str, cls: type, params: dict[str, Any]) -> Any:
    """``cls(**params)``, or a ConfigError naming the parameters ``cls`` does take."""
    try:
        return cls(**params)
    except TypeError as exc:
        import inspect

        valid = list(inspect.signature(cls).parameters)
        raise ConfigError(
            f"{kind} {key!r} got parameters {sorted(params)}; it takes "
            f"{', '.join(valid) if valid else 'no parameters'}."
        ) from exc


def name_and_params(identifier: dict[str, Any], kind: str, valid: list[str],
                    ) -> tuple[str, dict[str, Any]]:
    """The name and parameters of a config dict, in Keras' form
    (``{"class_name": ..., "config": {...}}``) or descentlab's (``{"name": ..., ...}``).
    ``kind`` ("An initializer", "A regularizer") starts the message when the name is missing."""
    if "class_name" in identifier:
        name, params = identifier["class_name"], dict(identifier.get("config") or {})
    else:
        params = dict(identifier)
        name = params.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"{kind} config needs a 'name'; got {identifier!r}. "
                          f"{did_you_mean(str(name), valid)}")
    return name, params
