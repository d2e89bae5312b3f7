"""Sound for the app: questions read aloud, recordings played back, microphone tests.

espeak-ng runs in a child process so reading aloud never blocks the UI; playback and the
level test block and are called from thread workers. sounddevice is imported lazily.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from coach.errors import CoachError
from coach.settings import Settings


class EspeakSpeaker:
    """Reads questions aloud with espeak-ng in a child process (never blocks the UI)."""

    def __init__(self) -> None:
        self.exe = shutil.which("espeak-ng")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        return self.exe is not None

    def say(self, text: str) -> None:
        if self.exe is None:
            return
        self.stop()
        try:
            self._proc = subprocess.Popen(
                [self.exe, "-s", "165", "--", text],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._proc = None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()


def play(path: Path) -> None:
    """Play a WAV on the default output (blocking; call from a worker)."""
    try:
        import soundfile as sf

        from coach.audio.devices import import_sounddevice

        sd = import_sounddevice()
    except CoachError:
        raise
    except Exception as exc:
        raise CoachError(f"audio playback is unavailable ({exc})", "open the WAV yourself") from exc
    if not path.exists():
        raise CoachError(f"the recording {path} is missing", "record the answer again")
    data, rate = sf.read(str(path), dtype="float32")
    try:
        sd.play(data, rate)
        sd.wait()
    except Exception as exc:
        raise CoachError(
            f"no audio output device could play it ({exc})", f"open {path} in a media player"
        ) from exc


def list_devices() -> list[str]:
    from coach.audio.devices import list_input_devices

    return [d.name for d in list_input_devices()]


def level_test(settings: Settings, seconds: float) -> Iterator[float]:
    """Record ``seconds`` from the chosen device to a temporary file and yield RMS levels."""
    from coach.audio.recorder import Recorder
    from coach.core.speech import resolve

    with tempfile.TemporaryDirectory(prefix="coach-level-") as tmp:
        device = resolve(settings).device
        recorder = Recorder(Path(tmp) / "level.wav", device=device, max_seconds=seconds)
        recorder.start()
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end and not recorder.done:
                time.sleep(0.1)
                status = recorder.status()
                if status.elapsed_s > 0:
                    yield status.rms_dbfs
        finally:
            result = recorder.stop() if not recorder.done else recorder.wait()
        if result is not None and result.error is not None:
            raise result.error
