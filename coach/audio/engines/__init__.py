"""The two real speech-to-text engines: openai-whisper and faster-whisper (CTranslate2).

:func:`create_engine` builds either by name; both follow the shared decoding policy of
:mod:`~coach.audio.engines.policy` (domain prompt, no invented text, no dropped text, bounded
work) and differ only in how they load their library and decode one window
(:mod:`~coach.audio.engines.openai_engine`, :mod:`~coach.audio.engines.faster_engine`).
Heavy libraries are imported inside methods; ``load()`` is thread-safe and idempotent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from coach.audio.engines.faster_engine import FasterWhisperEngine
from coach.audio.engines.openai_engine import WhisperEngine
from coach.audio.engines.policy import (
    CONTEXT_WORDS,
    DEFAULT_BEAM_SIZE,
    DEFAULT_ENGINE,
    DOMAIN_PROMPT,
    MAX_CHUNK_S,
    MAX_GAP_S,
    MAX_TAIL_DECODES,
    MIN_SPEECH_S,
    PLAIN_DOMAIN_PROMPT,
    SILENCE_PEAK,
    TAIL_GAP_S,
    BaseEngine,
    DecodeOptions,
    DecodeStats,
    build_prompt,
    speech_chunks,
)
from coach.audio.protocol import Engine
from coach.errors import ModelError
from coach.settings import ENGINES

__all__ = [
    "CONTEXT_WORDS",
    "DEFAULT_BEAM_SIZE",
    "DEFAULT_ENGINE",
    "DOMAIN_PROMPT",
    "MAX_CHUNK_S",
    "MAX_GAP_S",
    "MAX_TAIL_DECODES",
    "MIN_SPEECH_S",
    "PLAIN_DOMAIN_PROMPT",
    "SILENCE_PEAK",
    "TAIL_GAP_S",
    "BaseEngine",
    "DecodeOptions",
    "DecodeStats",
    "FasterWhisperEngine",
    "WhisperEngine",
    "build_prompt",
    "create_engine",
    "speech_chunks",
]

_CLASSES: dict[str, type[BaseEngine]] = {
    "whisper": WhisperEngine,
    "faster-whisper": FasterWhisperEngine,
}


def create_engine(name: str = DEFAULT_ENGINE, model: str | None = None, **options: Any) -> Engine:
    """Build (not load) an engine: ``create_engine("whisper", "base.en", beam_size=5)``.

    ``options`` are :class:`DecodeOptions` fields. Call ``load()`` in a worker thread; the
    first ``transcribe()`` loads it otherwise.
    """
    key = name.strip().lower().replace("_", "-")
    if key in {"openai-whisper"}:
        key = "whisper"
    if key not in _CLASSES:
        raise ModelError(f"unknown engine {name!r}", f"use one of {', '.join(ENGINES)}")
    fields = set(DecodeOptions.__dataclass_fields__)
    unknown = set(options) - fields
    if unknown:
        raise TypeError(f"unknown engine options: {', '.join(sorted(unknown))}")
    decode = replace(DecodeOptions(), **options)
    engine = _CLASSES[key](model, decode)
    assert isinstance(engine, Engine)
    return engine
