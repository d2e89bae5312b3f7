"""A virtual microphone through the real PortAudio/ALSA stack, for tests.

How it works: an ALSA config makes the ``default`` capture PCM a ``file`` plugin over a ``null``
slave whose ``infile`` is a named pipe (FIFO). A feeder thread writes raw 16-bit mono samples
into the pipe *in real time*: lead-in silence, then the speech, then silence until the reader
goes away. PortAudio therefore records exactly those samples, at the speed of a real device.

Why a FIFO and not a plain file: the ``null`` slave has no clock, so with a regular ``infile``
ALSA delivers audio as fast as the CPU allows (minutes per second). Reading the FIFO blocks,
which paces the stream. For the samples to stay exact, every read by ALSA must be satisfied
in full: the feeder writes atomic chunks of ``chunk_bytes`` (<= PIPE_BUF = 4096), which must
be a whole multiple of the capture block size in bytes. The recorder's default block (1024
frames = 2048 bytes at 16 kHz) divides the default 4096-byte chunk. The pipe is shrunk to a
few chunks, so a reader that falls behind blocks the feeder, which records it as lag
(:attr:`VirtualMic.max_lag_s`) - the virtual equivalent of an input overflow.

PortAudio opens the default PCM several times (device scan at initialization,
``check_input_settings``, the stream itself). Each open is a new "connection": the feeder
starts over (lead-in silence, then the speech) when a reader closes the pipe, so what the
recording stream sees always begins with silence and then the whole source. Compare with
:func:`find_source` (alignment search) rather than assuming sample 0.

Use in a subprocess (recommended for CLI tests)::

    with VirtualMic(speech_wav) as mic:
        subprocess.run(["coach", "record", "out.wav", "--seconds", "3"], env=mic.env)

Use in-process (sounddevice initializes PortAudio at import, so it must be re-initialized
after the environment changes; :meth:`VirtualMic.activate` does both and
:meth:`VirtualMic.deactivate` restores the previous configuration)::

    with VirtualMic(speech_wav) as mic:
        mic.activate()
        try:
            ...  # Recorder(...) now records the speech
        finally:
            mic.deactivate()

For "no microphone" error tests, :func:`no_device_env` returns an environment whose ALSA
default PCM does not exist, so PortAudio finds no input device on a machine without sound
cards (see its docstring).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
import wave
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

ALSA_CONF = "/usr/share/alsa/alsa.conf"
PIPE_BUF = 4096


def read_pcm16(path: Path) -> tuple[np.ndarray, int]:
    """Samples (int16, mono) and rate of a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(
            np.int16
        ), w.getframerate()


def find_source(recorded: np.ndarray, source: np.ndarray, max_offset: int | None = None) -> int:
    """Offset in ``recorded`` where ``source`` starts exactly, or -1.

    The source must be non-silent at its start (the search keys on its first non-zero sample).
    """
    first = int(np.flatnonzero(source)[0])
    limit = len(recorded) - len(source) if max_offset is None else max_offset
    key = source[first : first + 32]
    for cand in np.flatnonzero(recorded[first : limit + first + 1] == key[0]):
        off = int(cand)
        if np.array_equal(recorded[off + first : off + first + len(key)], key) and np.array_equal(
            recorded[off : off + len(source)], source
        ):
            return off
    return -1


class VirtualMic:
    """A real-time virtual microphone playing ``source`` (a 16-bit WAV path or int16 array)."""

    def __init__(
        self,
        source: Path | str | np.ndarray | None = None,
        *,
        rate: int = 16_000,
        lead_in_s: float = 0.5,
        loop: bool = False,
        chunk_bytes: int = PIPE_BUF,
        pipe_chunks: int = 2,
        workdir: Path | None = None,
    ) -> None:
        if source is None:
            samples = np.zeros(0, dtype=np.int16)
        elif isinstance(source, np.ndarray):
            samples = source.astype(np.int16)
        else:
            samples, file_rate = read_pcm16(Path(source))
            assert file_rate == rate, f"{source} is {file_rate} Hz, the mic runs at {rate} Hz"
        assert chunk_bytes <= PIPE_BUF and chunk_bytes % 2 == 0
        self.samples = samples
        self.rate = rate
        self.lead_in = int(lead_in_s * rate)
        self.loop = loop
        self.chunk_bytes = chunk_bytes
        self.pipe_size = max(4096, chunk_bytes * pipe_chunks)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.dir = workdir
        self.fifo = Path()
        self.conf = Path()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved_env: str | None = None
        # Feeder statistics (read from the test thread).
        self.connections = 0
        self.fed_frames = 0  # on the current connection, lead-in included
        self.connection_started = 0.0  # monotonic time the current connection began
        self.max_lag_s = 0.0  # the most the feeder fell behind real time (reader too slow)

    # -- configuration ---------------------------------------------------------------------

    def alsa_config(self) -> str:
        return (
            "pcm.!default {\n"
            "    type file\n"
            '    slave.pcm "null"\n'
            '    file "/dev/null"\n'
            f'    infile "{self.fifo}"\n'
            '    format "raw"\n'
            '    hint { show on description "Virtual microphone (coach tests)" }\n'
            "}\n"
        )

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` plus ALSA_CONFIG_PATH pointing at this microphone."""
        env = dict(os.environ)
        env["ALSA_CONFIG_PATH"] = f"{ALSA_CONF}:{self.conf}"
        return env

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> VirtualMic:
        if self.dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vmic-")
            self.dir = Path(self._tmp.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fifo = self.dir / "mic.fifo"
        self.conf = self.dir / "asound.conf"
        with contextlib.suppress(FileNotFoundError):
            self.fifo.unlink()
        os.mkfifo(self.fifo)
        self.conf.write_text(self.alsa_config(), encoding="utf-8")
        self._thread = threading.Thread(target=self._feed, name="virtual-mic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # Unblock a feeder waiting in open() for a reader.
            with contextlib.suppress(OSError):
                fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
                time.sleep(0.05)
                os.close(fd)
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.deactivate()
        self.stop()

    # -- in-process use -----------------------------------------------------------------------

    def activate(self) -> Any:
        """Point this process's ALSA at the mic and re-initialize PortAudio; returns sounddevice."""
        if self._saved_env is None:
            self._saved_env = os.environ.get("ALSA_CONFIG_PATH", "")
        os.environ["ALSA_CONFIG_PATH"] = self.env["ALSA_CONFIG_PATH"]
        return reinitialize_portaudio()

    def deactivate(self) -> None:
        if self._saved_env is None:
            return
        if self._saved_env:
            os.environ["ALSA_CONFIG_PATH"] = self._saved_env
        else:
            os.environ.pop("ALSA_CONFIG_PATH", None)
        self._saved_env = None
        reinitialize_portaudio()

    # -- the feeder -----------------------------------------------------------------------------

    def _chunks(self) -> Any:
        silence = np.zeros(self.chunk_bytes // 2, dtype="<i2").tobytes()
        lead = np.zeros(self.lead_in, dtype="<i2").tobytes()
        body = self.samples.astype("<i2").tobytes()
        data = lead + body
        pad = (-len(data)) % self.chunk_bytes
        data += b"\0" * pad
        while True:
            for i in range(0, len(data), self.chunk_bytes):
                yield data[i : i + self.chunk_bytes]
            if not self.loop:
                break
            data = body + b"\0" * ((-len(body)) % self.chunk_bytes)
        while True:
            yield silence

    def _feed(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY)  # blocks until ALSA opens the PCM
            except OSError:
                return
            if self._stop.is_set():
                os.close(fd)
                return
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, self.pipe_size)
            self.connections += 1
            self.fed_frames = 0
            start = self.connection_started = time.monotonic()
            try:
                for chunk in self._chunks():
                    if self._stop.is_set():
                        break
                    os.write(fd, chunk)
                    self.fed_frames += len(chunk) // 2
                    due = start + self.fed_frames / self.rate
                    now = time.monotonic()
                    # A write blocks only when the pipe is full, i.e. the reader is behind.
                    self.max_lag_s = max(self.max_lag_s, now - due)
                    if due > now:
                        time.sleep(due - now)
            except OSError:  # BrokenPipeError: the reader closed the PCM
                pass
            finally:
                os.close(fd)


def reinitialize_portaudio() -> Any:
    """Re-scan devices in this process after ALSA_CONFIG_PATH changed."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    return sd


def no_device_env(directory: Path) -> dict[str, str]:
    """An environment whose ALSA default PCM points at a card that does not exist.

    On a machine without sound cards (CI, containers) PortAudio then lists no input device at
    all. On a machine with real cards their ``hw:`` devices still appear; tests that need "no
    device" should skip when ``coach devices --json`` is not empty. (An ALSA config with no
    definitions at all makes alsa-lib abort, so alsa.conf is kept.)
    """
    conf = directory / "no-device.conf"
    conf.write_text("pcm.!default { type hw card 99 }\n", encoding="utf-8")
    env = dict(os.environ)
    env["ALSA_CONFIG_PATH"] = f"{ALSA_CONF}:{conf}"
    return env
