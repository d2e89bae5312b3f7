"""The small protocol every speech-to-text engine implements.

Engines take 16 kHz mono float32 audio and return a :class:`~coach.audio.transcript.Transcript`.
``load()`` is separate from construction so callers can build an engine on the UI thread and
load the (slow, heavy) model in a worker.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from coach.audio.transcript import Transcript

SAMPLE_RATE = 16_000
Audio = npt.NDArray[np.float32]


@runtime_checkable
class Engine(Protocol):
    """A loaded-on-demand speech-to-text engine."""

    name: str  # "whisper" or "faster-whisper"
    model_name: str  # "tiny.en (embedded)", "base.en", or a path

    def load(self) -> None:
        """Load the model (idempotent). Raises ModelError with a fix on failure."""
        ...

    def transcribe(self, audio: Audio, *, offset_s: float = 0.0, context: str = "") -> Transcript:
        """Transcribe 16 kHz mono float32 ``audio``.

        ``offset_s`` shifts every timestamp so chunks of a longer answer stay on the
        answer's global timeline. ``context`` is the text said just before this audio (the
        previous chunk), given to the decoder after the domain prompt so chunk borders read on.
        """
        ...
