"""Korean and English words for figures and reports: one table, looked up by key.

Every label, title and legend a figure draws comes from :data:`TEXT` through :func:`t`, so a
missing translation is an error at the moment it is drawn, not a silently English figure.
Modules add their own entries with :func:`register`.
"""

from __future__ import annotations

from descentlab.errors import ConfigError

LANGUAGES = ("en", "ko")

TEXT: dict[str, dict[str, str]] = {
    "step": {"en": "step", "ko": "스텝"},
    "epoch": {"en": "epoch", "ko": "에포크"},
    "loss": {"en": "loss", "ko": "손실"},
    "accuracy": {"en": "accuracy", "ko": "정확도"},
    "seconds": {"en": "wall-clock time (s)", "ko": "경과 시간 (초)"},
    "layer": {"en": "layer", "ko": "층"},
    "diverged": {"en": "diverged", "ko": "발산"},
    "minimum": {"en": "minimum", "ko": "최솟값"},
    "start": {"en": "start", "ko": "시작점"},
}


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ConfigError(f"Unknown language {lang!r}; valid languages are "
                          f"{', '.join(LANGUAGES)}.")
    return lang


def register(entries: dict[str, dict[str, str]]) -> None:
    """Add a module's strings; each entry must exist in every language."""
    for key, texts in entries.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ConfigError(f"text {key!r} has no {', '.join(missing)} version.")
        TEXT[key] = texts


def t(key: str, lang: str = "en", **values: object) -> str:
    """The text for ``key`` in ``lang``, formatted with ``values``.

    For every whole number ``name`` among the values a template may also write ``{name_s}``,
    English's plural ending: "" when the number is 1, else "s" ("over {seeds} seed{seeds_s}":
    "over 1 seed", "over 3 seeds"; Korean needs none)."""
    check_language(lang)
    try:
        template = TEXT[key][lang]
    except KeyError:
        raise ConfigError(f"no text {key!r} for language {lang!r}.") from None
    if not values:
        return template
    endings = {f"{name}_s": "" if value == 1 else "s" for name, value in values.items()
               if isinstance(value, int) and not isinstance(value, bool)}
    return template.format(**{**endings, **values})
