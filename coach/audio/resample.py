"""Streaming resampling of microphone blocks to the recognizer's 16 kHz.

Used by the recorder when a device cannot open at 16 kHz: blocks arrive at the device's native
rate and leave at 16 kHz with no seam at block borders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from coach.audio.protocol import Audio
from coach.audio.wavfile import SAMPLE_RATE


class StreamResampler:
    """Streaming resampler (windowed-sinc low-pass, then linear interpolation).

    Good enough for speech to a 16 kHz recognizer; state carries across blocks so block
    borders are seamless.
    """

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE, taps: int = 63) -> None:
        self.step = in_rate / out_rate
        cutoff = 0.45 * min(1.0, out_rate / in_rate)  # cycles per input sample
        n = np.arange(taps) - (taps - 1) / 2
        kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        self._kernel = (kernel / kernel.sum()).astype(np.float64)
        self._history = np.zeros(taps - 1)
        self._last = np.zeros(1)
        self._pos = 0.0

    def process(self, block: npt.NDArray[Any]) -> Audio:
        x = np.asarray(block, dtype=np.float64).reshape(-1)
        buf = np.concatenate([self._history, x])
        self._history = buf[len(buf) - len(self._history) :]
        filtered = np.convolve(buf, self._kernel, mode="valid")
        z = np.concatenate([self._last, filtered])
        end = len(z) - 1
        if self._pos > end:
            self._pos -= len(filtered)
            self._last = z[-1:]
            return np.zeros(0, dtype=np.float32)
        positions = np.arange(self._pos, end + 1e-9, self.step)
        out = np.interp(positions, np.arange(len(z)), z)
        self._pos = positions[-1] + self.step - end
        self._last = z[-1:]
        result: Audio = out.astype(np.float32)
        return result
