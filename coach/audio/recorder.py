"""Record a spoken answer from the microphone without ever losing it.

A sounddevice ``InputStream`` (16 kHz mono when the device supports it, otherwise the device's
native rate resampled to 16 kHz) calls :meth:`Recorder._callback` on PortAudio's real-time
thread. The callback only copies the block onto a queue. A writer thread takes blocks off the
queue and, in this order: appends them to the WAV on disk (:class:`~coach.audio.wavfile.WavWriter`
syncs the header at least every 0.5 s), measures the level, and hands a float32 16 kHz copy
to consumers (``on_block`` callback and :meth:`Recorder.subscribe` queues) — live
transcription builds on these, and they can never slow the audio callback down.

Feedback arrives as typed events (:data:`RecorderEvent`, defined in coach.audio.recording
with the status and the result) through ``on_event`` (called on the
writer thread) and :meth:`Recorder.poll_events`; :meth:`Recorder.status` gives the live level.

Whatever goes wrong after the first block — the device is unplugged, the disk fills up —
recording stops, the WAV is finalized with everything that reached the disk, and the
:class:`RecordingResult` carries a :class:`~coach.errors.RecordingError` that offers typing the
answer instead. sounddevice is imported lazily.
"""

from __future__ import annotations

import contextlib
import errno
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.audio.devices import (
    TYPE_INSTEAD,
    InputDevice,
    import_sounddevice,
    no_input_device_error,
    resolve_device,
)
from coach.audio.protocol import Audio

# The typed events and the resampler live in their own modules; callers have always imported
# them from here, so they are re-exported (``__all__``).
from coach.audio.recording import (
    SILENT_DBFS_FLOOR,
    ClippingWarning,
    DeviceLost,
    OverflowWarning,
    RecorderEvent,
    RecorderStatus,
    RecordingResult,
    RecordingStopped,
    SilenceWarning,
    SoundDetected,
    StopReason,
    dbfs,
)
from coach.audio.resample import StreamResampler
from coach.audio.wavfile import SAMPLE_RATE, WavWriter, write_error
from coach.errors import RecordingError

__all__ = [
    "Audio",
    "ClippingWarning",
    "DeviceLost",
    "OverflowWarning",
    "Recorder",
    "RecorderEvent",
    "RecorderStatus",
    "RecordingResult",
    "RecordingStopped",
    "SilenceWarning",
    "SoundDetected",
    "StopReason",
    "StreamResampler",
    "dbfs",
    "stream_error",
]

BLOCK_FRAMES = 1024  # 64 ms at 16 kHz: small enough for live levels, large enough to be cheap
SILENCE_DBFS = -60.0
CLIP_LEVEL = 32767 / 32768
PA_DEVICE_UNAVAILABLE = -9985


# -- errors -----------------------------------------------------------------------------------


def stream_error(exc: Exception, device: InputDevice | None) -> RecordingError:
    """A RecordingError for a failure to open or start the input stream."""
    name = device.label if device else "the microphone"
    text = str(exc)
    code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    lowered = text.lower()
    if code == PA_DEVICE_UNAVAILABLE or "busy" in lowered or "unavailable" in lowered:
        return RecordingError(
            f"{name} is busy (another program is using it)",
            f"close the other program (video call, recorder) or pick another with --device, {TYPE_INSTEAD}",
        )
    if "invalid device" in lowered or "no default" in lowered:
        return no_input_device_error()
    return RecordingError(
        f"cannot open {name}: {text}",
        f"check the microphone or pick another with --device, {TYPE_INSTEAD}",
    )


# -- the recorder ---------------------------------------------------------------------------


class Recorder:
    """Record from an input device to a crash-safe 16 kHz mono WAV.

    Typical use::

        rec = Recorder(path, device="USB", max_seconds=180, on_event=print)
        rec.start()          # raises RecordingError (no PortAudio, no device, busy, ...)
        ...                  # rec.status() for the level meter
        result = rec.stop()  # or rec.wait() for max_seconds; result.error if it failed

    ``on_block`` receives float32 16 kHz blocks on the writer thread (never the audio
    thread); an exception in it is kept in :attr:`consumer_error` and recording goes on.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        device: str | int | None = None,
        max_seconds: float | None = None,
        on_block: Callable[[Audio], None] | None = None,
        on_event: Callable[[RecorderEvent], None] | None = None,
        samplerate: int | None = None,
        block_frames: int = BLOCK_FRAMES,
        sync_interval_s: float = 0.5,
        silence_s: float = 3.0,
        silence_dbfs: float = SILENCE_DBFS,
        stall_timeout_s: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.device_spec = device
        self.max_frames = round(max_seconds * SAMPLE_RATE) if max_seconds else None
        self.on_block = on_block
        self.on_event = on_event
        self.requested_rate = samplerate
        self.block_frames = block_frames
        self.sync_interval_s = sync_interval_s
        self.silence_frames = int(silence_s * SAMPLE_RATE)
        self.silence_dbfs = silence_dbfs
        self.stall_timeout_s = stall_timeout_s

        self.device: InputDevice | None = None
        self.capture_rate = SAMPLE_RATE
        self.consumer_error: BaseException | None = None
        self._stream: Any = None
        self._writer: WavWriter | None = None
        self._thread: threading.Thread | None = None
        self._queue: queue.SimpleQueue[npt.NDArray[Any]] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[RecorderEvent] = queue.SimpleQueue()
        self._subscribers: list[queue.Queue[Audio | None]] = []
        self._stop_requested = threading.Event()
        self._stream_finished = threading.Event()
        self._stream_closed = threading.Event()
        self._done = threading.Event()
        self._stream_lock = threading.Lock()
        self._resampler: StreamResampler | None = None
        self._result: RecordingResult | None = None
        # Written by the audio callback (ints only), read by the writer thread.
        self._overflow_count = 0
        # Writer-thread state
        self._frames = 0
        self._rms_dbfs = SILENT_DBFS_FLOOR
        self._peak_dbfs = SILENT_DBFS_FLOOR
        self._max_rms_dbfs = SILENT_DBFS_FLOOR
        self._reported_overflows = 0
        self._silence_warned = False
        self._sound_reported = False
        self._last_clip_frame = -(10**9)
        self._clipped_blocks = 0

    # -- public API -------------------------------------------------------------------------

    def subscribe(self, maxsize: int = 0) -> queue.Queue[Audio | None]:
        """A queue receiving every float32 16 kHz block, then ``None`` when recording ends.

        Call before :meth:`start`. With ``maxsize`` > 0 a slow consumer loses blocks (only
        its copy; the WAV is always complete) instead of growing memory.
        """
        q: queue.Queue[Audio | None] = queue.Queue(maxsize)
        self._subscribers.append(q)
        return q

    def start(self) -> Recorder:
        """Open the device and the WAV, then start recording (returns at once)."""
        sd = import_sounddevice()
        self.device = resolve_device(self.device_spec)
        self.capture_rate = self._choose_rate(sd, self.device)
        if self.capture_rate != SAMPLE_RATE:
            self._resampler = StreamResampler(self.capture_rate, SAMPLE_RATE)
        self._writer = self._open_writer()
        try:
            self._stream = sd.InputStream(
                device=self.device.index,
                channels=1,
                samplerate=self.capture_rate,
                dtype="int16",  # PortAudio converts; WAV samples stay exactly what was heard
                blocksize=max(64, round(self.block_frames * self.capture_rate / SAMPLE_RATE)),
                callback=self._callback,
                finished_callback=self._stream_finished.set,
            )
        except Exception as exc:
            self._discard_empty_writer()
            raise stream_error(exc, self.device) from exc
        self._thread = threading.Thread(target=self._write_loop, name="coach-recorder", daemon=True)
        self._thread.start()
        try:
            self._stream.start()
        except Exception as exc:
            self._stop_requested.set()
            self._close_stream()
            self._thread.join()
            self._discard_empty_writer()
            raise stream_error(exc, self.device) from exc
        return self

    def stop(self) -> RecordingResult:
        """Stop recording, write out every block received, finalize the WAV."""
        if self._thread is None:
            raise RuntimeError("Recorder.stop() before start()")
        self._stop_requested.set()
        self._close_stream()
        self._thread.join()
        assert self._result is not None
        return self._result

    def wait(self, timeout: float | None = None) -> RecordingResult | None:
        """Block until recording ends by itself (max duration, failure); None on timeout."""
        if not self._done.wait(timeout):
            return None
        if self._thread is not None:
            self._thread.join()
        return self._result

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def result(self) -> RecordingResult | None:
        return self._result

    def status(self) -> RecorderStatus:
        return RecorderStatus(
            recording=self._thread is not None and not self._done.is_set(),
            elapsed_s=self._frames / SAMPLE_RATE,
            rms_dbfs=self._rms_dbfs,
            peak_dbfs=self._peak_dbfs,
            overflows=self._overflow_count,
            device=self.device,
        )

    def poll_events(self) -> list[RecorderEvent]:
        """Events since the last call (non-blocking)."""
        events: list[RecorderEvent] = []
        with contextlib.suppress(queue.Empty):
            while True:
                events.append(self._events.get_nowait())
        return events

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        if self._thread is not None:
            self.stop()

    # -- setup helpers ------------------------------------------------------------------------

    def _choose_rate(self, sd: Any, device: InputDevice) -> int:
        if self.requested_rate:
            return int(self.requested_rate)
        try:
            sd.check_input_settings(
                device=device.index, channels=1, samplerate=SAMPLE_RATE, dtype="int16"
            )
            return SAMPLE_RATE
        except Exception:
            return int(device.default_samplerate) or SAMPLE_RATE

    def _open_writer(self) -> WavWriter:
        return WavWriter(self.path, sync_interval_s=self.sync_interval_s).open()

    def _discard_empty_writer(self) -> None:
        """The stream never ran: remove the empty WAV we just created (nothing recorded)."""
        writer = self._writer
        if writer is None:
            return
        writer.close()
        if writer.frames == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _close_stream(self) -> None:
        with self._stream_lock:
            stream, self._stream = self._stream, None
        if stream is None:
            return
        with contextlib.suppress(Exception):
            stream.stop()
        with contextlib.suppress(Exception):
            stream.close()
        self._stream_finished.set()
        self._stream_closed.set()

    # -- audio thread -------------------------------------------------------------------------

    def _callback(self, indata: npt.NDArray[Any], frames: int, time_info: Any, status: Any) -> None:
        # Real-time thread: no I/O, no locks, no logging. Only count and hand over a copy.
        if status.input_overflow:
            self._overflow_count += 1
        self._queue.put_nowait(indata.copy())

    # -- writer thread --------------------------------------------------------------------------

    def _emit(self, event: RecorderEvent) -> None:
        self._events.put(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception as exc:  # a UI bug must not stop the recording
                self.consumer_error = self.consumer_error or exc

    def _write_loop(self) -> None:
        reason: StopReason = "stopped"
        error: RecordingError | None = None
        last_block = time.monotonic()
        try:
            while True:
                try:
                    block = self._queue.get(timeout=0.05)
                except queue.Empty:
                    if self._stop_requested.is_set() and self._stream_closed.is_set():
                        break  # stopped and drained
                    if self._stream_finished.is_set() and not self._stop_requested.is_set():
                        reason = "device_lost"
                        break
                    if self._frames and time.monotonic() - last_block > self.stall_timeout_s:
                        reason = "device_lost"
                        break
                    continue
                last_block = time.monotonic()
                if self._handle_block(block):
                    reason = "max_duration"
                    break
        except OSError as exc:
            reason = "disk_full" if exc.errno == errno.ENOSPC else "write_error"
            error = write_error(exc, self.path, self._frames / SAMPLE_RATE)
        finally:
            self._finish(reason, error)

    def _handle_block(self, block: npt.NDArray[Any]) -> bool:
        """Write one block; True when the maximum duration is reached."""
        assert self._writer is not None
        mono = block[:, 0] if block.ndim == 2 else block
        if self._resampler is not None:
            audio = self._resampler.process(mono.astype(np.float32) / 32768.0)
            pcm = np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)
        else:
            pcm = mono.astype(np.int16, copy=False)
        if self.max_frames is not None:
            pcm = pcm[: max(0, self.max_frames - self._frames)]
        if len(pcm) == 0:
            return self.max_frames is not None and self._frames >= self.max_frames
        self._writer.write(pcm)  # disk first: the answer matters more than the meters
        audio = pcm.astype(np.float32) / 32768.0
        start_frame = self._frames
        self._frames += len(pcm)
        self._measure(audio, start_frame)
        self._deliver(audio)
        return self.max_frames is not None and self._frames >= self.max_frames

    def _measure(self, audio: Audio, start_frame: int) -> None:
        peak = float(np.max(np.abs(audio)))
        self._rms_dbfs = dbfs(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))))
        self._peak_dbfs = dbfs(peak)
        self._max_rms_dbfs = max(self._max_rms_dbfs, self._rms_dbfs)
        elapsed = self._frames / SAMPLE_RATE
        if (
            not self._silence_warned
            and self._frames >= self.silence_frames
            and self._max_rms_dbfs < self.silence_dbfs
        ):
            self._silence_warned = True
            self._emit(SilenceWarning(elapsed, self._max_rms_dbfs))
        elif (
            self._silence_warned
            and not self._sound_reported
            and self._rms_dbfs >= self.silence_dbfs
        ):
            self._sound_reported = True
            self._emit(SoundDetected(elapsed, self._rms_dbfs))
        if peak >= CLIP_LEVEL - 1e-6:
            clipped = int(np.count_nonzero(np.abs(audio) >= CLIP_LEVEL - 1e-6))
            if clipped >= 3:
                self._clipped_blocks += 1
                if start_frame - self._last_clip_frame >= 2 * SAMPLE_RATE:
                    self._last_clip_frame = start_frame
                    self._emit(ClippingWarning(elapsed, self._peak_dbfs, clipped))
        if self._overflow_count != self._reported_overflows:
            self._reported_overflows = self._overflow_count
            self._emit(OverflowWarning(elapsed, self._overflow_count))

    def _deliver(self, audio: Audio) -> None:
        if self.on_block is not None:
            try:
                self.on_block(audio)
            except Exception as exc:
                self.consumer_error = self.consumer_error or exc
        for q in self._subscribers:
            with contextlib.suppress(queue.Full):
                q.put_nowait(audio)

    def _finish(self, reason: StopReason, error: RecordingError | None) -> None:
        # Stop the stream first so no more blocks arrive, then keep whatever is queued
        # (unless the disk is full or the maximum was reached).
        if reason != "stopped":
            self._close_stream()
        if reason in ("stopped", "device_lost"):
            try:
                while True:
                    self._handle_block(self._queue.get_nowait())
            except queue.Empty:
                pass
            except OSError as exc:
                reason = "disk_full" if exc.errno == errno.ENOSPC else "write_error"
                error = write_error(exc, self.path, self._frames / SAMPLE_RATE)
        if reason == "device_lost":
            kept = self._frames / SAMPLE_RATE
            name = self.device.label if self.device else "the microphone"
            error = RecordingError(
                f"{name} stopped working (unplugged?) after {kept:.1f} s; what was recorded is saved in {self.path}",
                f"reconnect it and record the rest, {TYPE_INSTEAD}",
            )
            self._emit(DeviceLost(kept, error.message))
        frames = self._frames
        if self._writer is not None:
            self._writer.close()
            frames = self._writer.frames
        result = RecordingResult(
            path=self.path,
            frames=frames,
            duration_s=frames / SAMPLE_RATE,
            device=self.device,
            capture_rate=self.capture_rate,
            overflows=self._overflow_count,
            stop_reason=reason,
            error=error,
            heard_nothing=self._max_rms_dbfs < self.silence_dbfs,
            clipped_blocks=self._clipped_blocks,
        )
        self._result = result
        for q in self._subscribers:
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)
        self._done.set()
        self._emit(RecordingStopped(result))
