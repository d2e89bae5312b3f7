"""What a recording tells its listeners: typed status, events and the final result.

The recorder (coach.audio.recorder) posts these from its writer thread; the application core
and the front ends read them (a level meter, "we hear nothing", the finished WAV). They are
plain frozen dataclasses with no audio stack behind them, so a front end can match on them
without importing sounddevice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from coach.audio.devices import InputDevice
from coach.errors import RecordingError

StopReason = Literal["stopped", "max_duration", "device_lost", "disk_full", "write_error"]

SILENT_DBFS_FLOOR = -120.0


def dbfs(value: float) -> float:
    """Amplitude (1.0 = full scale) in dBFS, floored at -120."""
    return 20 * math.log10(value) if value > 1e-6 else SILENT_DBFS_FLOOR


# -- typed status and events ----------------------------------------------------------------


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot of a recording in progress (poll it for a level meter)."""

    recording: bool
    elapsed_s: float  # audio on disk so far
    rms_dbfs: float  # level of the latest block
    peak_dbfs: float
    overflows: int  # blocks PortAudio flagged as input overflow
    device: InputDevice | None


@dataclass(frozen=True)
class SilenceWarning:
    """Nothing above the noise floor in the first seconds: the microphone may be off or muted."""

    elapsed_s: float
    level_dbfs: float
    message: str = "we hear nothing — check your microphone (is it muted or the wrong device?)"


@dataclass(frozen=True)
class SoundDetected:
    """Sound arrived after a :class:`SilenceWarning`; the warning can be cleared."""

    elapsed_s: float
    level_dbfs: float
    message: str = "we hear you now"


@dataclass(frozen=True)
class ClippingWarning:
    """The input is too hot: samples hit full scale (at most one every 2 s)."""

    elapsed_s: float
    peak_dbfs: float
    clipped_samples: int
    message: str = "your microphone is too loud (clipping) — lower the input gain or move back"


@dataclass(frozen=True)
class OverflowWarning:
    """PortAudio reported input overflow: the system could not keep up and audio was lost."""

    elapsed_s: float
    count: int
    message: str = "the computer could not keep up with the microphone; a few ms may be missing"


@dataclass(frozen=True)
class DeviceLost:
    """The input stream stopped by itself (device unplugged or failed)."""

    elapsed_s: float
    message: str


@dataclass(frozen=True)
class RecordingStopped:
    """The last event: the WAV is final."""

    result: RecordingResult


RecorderEvent = (
    SilenceWarning
    | SoundDetected
    | ClippingWarning
    | OverflowWarning
    | DeviceLost
    | RecordingStopped
)


@dataclass(frozen=True)
class RecordingResult:
    """A finished recording. ``error`` is set when it ended because something failed."""

    path: Path
    frames: int
    duration_s: float
    device: InputDevice | None
    capture_rate: int  # the rate the device was opened at (resampled to 16 kHz when different)
    overflows: int
    stop_reason: StopReason
    error: RecordingError | None = None
    heard_nothing: bool = False  # never rose above the silence threshold
    clipped_blocks: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None
