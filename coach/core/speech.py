"""Which speech engine, model and microphone to use: one resolution for every command.

The app, ``coach rehearse``, ``coach score --audio`` and ``coach transcribe`` all take the
engine, the model and the input device from the user's settings, unless the command line
overrides them. The model aliases for the embedded tiny.en ("", "embedded", "default",
"tiny.en (embedded)") come from :data:`coach.audio.models.EMBEDDED_ALIASES`; a device given as
digits ("3") is an index, resolved by :func:`coach.audio.devices.resolve_device` when the
recorder opens it.

Loaded engines are kept per (engine, model), so the app loads a model once and every answer
after the first starts without waiting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coach.errors import CoachError
from coach.settings import ENGINES, Settings, load_settings

if TYPE_CHECKING:
    from coach.audio.protocol import Engine


@dataclass(frozen=True, slots=True)
class SpeechChoice:
    """The resolved engine name, model (``None``: the embedded tiny.en) and input device."""

    engine: str
    model: str | None
    device: str | None  # a device name or index as text; None: the system default

    @property
    def key(self) -> tuple[str, str]:
        return (self.engine, self.model or "")


def model_spec(model: str | None) -> str | None:
    """``None`` for any alias of the embedded model, else the name or path as given."""
    from coach.audio.models import EMBEDDED_ALIASES

    if model is None or model.strip() in EMBEDDED_ALIASES:
        return None
    return model.strip()


def resolve(
    settings: Settings | None = None,
    *,
    engine: str | None = None,
    model: str | None = None,
    device: str | None = None,
) -> SpeechChoice:
    """The engine, model and device: command-line values first, then the settings.

    ``settings=None`` reads the user's settings file (an invalid file is a one-line
    :class:`~coach.errors.DataFileError` naming the file and key).
    """
    if engine is not None and engine not in ENGINES:
        raise CoachError(f"unknown engine '{engine}'", f"use one of {', '.join(ENGINES)}")
    if settings is None:
        settings = load_settings()
    spec = device if device is not None else settings.input_device
    return SpeechChoice(
        engine or settings.engine,
        model_spec(model if model is not None else settings.model),
        spec.strip() if spec and spec.strip() else None,
    )


def create(choice: SpeechChoice) -> Engine:
    """A new, not yet loaded engine for ``choice`` (loading happens on first use)."""
    from coach.audio.engines import create_engine

    return create_engine(choice.engine, choice.model)


# -- loaded engines, shared (the app loads a model once per engine+model) -----------------------

_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings) -> Engine:
    """The loaded engine for ``settings`` (blocking on the first call; thread-safe)."""
    choice = resolve(settings)
    with _engines_lock:
        engine = _engines.get(choice.key)
        if engine is None:
            engine = create(choice)
            _engines[choice.key] = engine
    engine.load()
    return engine


def share_engine(settings: Settings, engine: Engine) -> None:
    """Use an already loaded ``engine`` for ``settings`` (tests and benchmarks load one once)."""
    with _engines_lock:
        _engines[resolve(settings).key] = engine


def prepare_engine(settings: Settings) -> str:
    """Load the engine for ``settings`` and describe it (the app's start-up warm-up)."""
    engine = get_engine(settings)
    return f"{engine.name} {engine.model_name}"
