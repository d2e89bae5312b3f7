"""Crash-safe WAV files for recorded answers (16-bit PCM, mono, 16 kHz).

:class:`WavWriter` streams blocks to disk as they arrive and rewrites the RIFF/data sizes,
flushes and ``fsync``\\ s at least every ``sync_interval_s`` (0.5 s by default). A crash, a
``kill -9`` or a power cut therefore loses at most that much audio: everything before the last
sync is on disk *with a valid header*, and anything after it is on disk with a stale header.

While a file is being written it has a sidecar marker ``<name>.wav.partial`` (holding the
writer's pid). A clean :meth:`WavWriter.close` removes it. On the next start,
:func:`recover_incomplete` finds leftover markers and :func:`repair_wav` fixes each file's
header from its length (dropping at most one half-written sample). Recordings are never
deleted here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from coach.errors import RecordingError

SAMPLE_RATE = 16_000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
HEADER_SIZE = 44
PARTIAL_SUFFIX = ".partial"
TYPE_INSTEAD = "or type your answer instead"

# Markers of recordings this process is writing right now: recovery running in the same
# process (the app opening its history while it records) must not take them for stale.
_WRITING: set[str] = set()


def _key(marker: Path) -> str:
    return os.path.abspath(marker)


def _write_private(path: Path, data: bytes) -> None:
    """Create or replace ``path`` as 0600 whatever the umask (a marker names a private answer)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        os.write(fd, data)
    finally:
        os.close(fd)


def marker_path(path: Path) -> Path:
    """The sidecar that marks ``path`` as a recording still being written."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _header(data_bytes: int, rate: int = SAMPLE_RATE) -> bytes:
    block_align = CHANNELS * SAMPLE_WIDTH
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        CHANNELS,
        rate,
        rate * block_align,
        block_align,
        SAMPLE_WIDTH * 8,
        b"data",
        data_bytes,
    )


def write_error(exc: OSError, path: Path, kept_s: float | None = None) -> RecordingError:
    """Turn an OS error on a recording file into a RecordingError the user can act on."""
    kept = f"; the first {kept_s:.1f} s are saved" if kept_s else ""
    if exc.errno == errno.ENOSPC:
        return RecordingError(
            f"disk full while recording to {path}{kept}",
            f"free some disk space and record again, {TYPE_INSTEAD}",
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RecordingError(
            f"permission denied writing the recording {path}",
            f"choose a folder you can write to, {TYPE_INSTEAD}",
        )
    if exc.errno == errno.ENOENT:
        return RecordingError(
            f"folder does not exist for the recording {path}",
            f"create the folder or choose another path, {TYPE_INSTEAD}",
        )
    if exc.errno == errno.EISDIR:
        return RecordingError(
            f"{path} is a folder, not a file name",
            f"give a file name ending in .wav, {TYPE_INSTEAD}",
        )
    return RecordingError(
        f"cannot write the recording {path}: {exc.strerror or exc}{kept}",
        f"check the disk and the path, {TYPE_INSTEAD}",
    )


class WavWriter:
    """Append 16-bit mono PCM to a WAV file, keeping its header valid every ``sync_interval_s``.

    Writes go straight to the file descriptor (no Python buffer), so after a failed write
    (disk full) the file holds exactly what reached the disk and :meth:`close` can still
    give it a valid header.
    """

    def __init__(
        self, path: Path | str, *, rate: int = SAMPLE_RATE, sync_interval_s: float = 0.5
    ) -> None:
        self.path = Path(path)
        self.rate = rate
        self.sync_interval_s = sync_interval_s
        self._fd: int | None = None
        self._data_bytes = 0
        self._synced_bytes = -1
        self._last_sync = 0.0
        self._marker = marker_path(self.path)

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> WavWriter:
        """Create the file (truncating an old one) and its ``.partial`` marker."""
        try:
            _write_private(self._marker, f"{os.getpid()}\n".encode())
            _WRITING.add(_key(self._marker))
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(self._fd, 0o600)  # a replaced file keeps its old mode through O_CREAT
            self._write_all(_header(0, self.rate))
            self.sync()
        except OSError as exc:
            self._abandon()
            raise write_error(exc, self.path) from exc
        return self

    def __enter__(self) -> WavWriter:
        return self.open() if self._fd is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def frames(self) -> int:
        """Samples written so far."""
        return self._data_bytes // SAMPLE_WIDTH

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate

    # -- writing --------------------------------------------------------------------------

    def write(self, samples: npt.NDArray[np.int16] | bytes) -> None:
        """Append samples (int16 array or little-endian bytes); sync if the interval passed.

        Raises :class:`OSError` (e.g. ``ENOSPC``) unchanged, after counting what did reach
        the disk, so the caller can stop and still :meth:`close` a valid file.
        """
        if self._fd is None:
            raise RuntimeError("WavWriter.write() before open()")
        data = (
            samples if isinstance(samples, bytes) else samples.astype("<i2", copy=False).tobytes()
        )
        self._write_all(data, count=True)
        if time.monotonic() - self._last_sync >= self.sync_interval_s:
            self.sync()

    def _write_all(self, data: bytes, *, count: bool = False) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            if count:
                self._data_bytes += written
            view = view[written:]

    def sync(self) -> None:
        """Rewrite the sizes in the header and force everything to disk."""
        if self._fd is None:
            return
        self._last_sync = time.monotonic()
        if self._synced_bytes != self._data_bytes:
            # An odd byte count (half a sample after a failed write) is left out of the header.
            data_bytes = self._data_bytes - self._data_bytes % SAMPLE_WIDTH
            os.pwrite(self._fd, _header(data_bytes, self.rate), 0)
            self._synced_bytes = self._data_bytes
        os.fsync(self._fd)

    def close(self) -> None:
        """Final header, fsync, close, and remove the ``.partial`` marker (idempotent).

        If the final sync fails (the disk is gone), the marker stays so the next start
        repairs the file.
        """
        if self._fd is None:
            return
        fd, ok = self._fd, False
        try:
            if self._data_bytes % SAMPLE_WIDTH:
                os.ftruncate(fd, HEADER_SIZE + self._data_bytes - 1)
                self._data_bytes -= 1
            self.sync()
            ok = True
        except OSError:
            pass
        finally:
            self._fd = None
            os.close(fd)
        _WRITING.discard(_key(self._marker))
        if ok:
            with contextlib.suppress(FileNotFoundError):
                self._marker.unlink()

    def _abandon(self) -> None:
        """Undo a failed :meth:`open`: nothing was recorded yet."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            with contextlib.suppress(OSError):
                self.path.unlink()
        _WRITING.discard(_key(self._marker))
        with contextlib.suppress(OSError):
            self._marker.unlink()


# -- crash recovery -----------------------------------------------------------------------


@dataclass(frozen=True)
class RepairResult:
    """What :func:`repair_wav` found and did."""

    path: Path
    recovered: bool  # the header was stale and has been fixed
    frames: int
    duration_s: float
    dropped_bytes: int = 0  # half-written sample cut off the end
    error: str | None = None  # could not be repaired (the file is left untouched)

    @property
    def message(self) -> str:
        if self.error:
            return f"{self.path}: {self.error}"
        if self.recovered:
            return f"recovered an interrupted recording: {self.path} ({self.duration_s:.1f} s)"
        return f"{self.path} is complete ({self.duration_s:.1f} s)"


def _find_data_chunk(head: bytes) -> tuple[int, int, int, int] | None:
    """Return (data offset, rate, channels, bits) from a RIFF header, or None."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, rate, channels, bits = 12, 0, 0, 0
    while pos + 8 <= len(head):
        cid, size = struct.unpack_from("<4sI", head, pos)
        if cid == b"fmt " and pos + 24 <= len(head):
            _fmt, channels, rate, _bps, _align, bits = struct.unpack_from("<HHIIHH", head, pos + 8)
        if cid == b"data":
            return pos + 8, rate, channels, bits
        pos += 8 + size + (size & 1)
    return None


def repair_wav(path: Path | str) -> RepairResult:
    """Fix the header of a WAV left stale by a killed writer, from the file's length.

    Sizes are recomputed from the file length; a trailing partial frame is cut off. A file
    whose header is already right is reported as complete and not modified. Files that are
    not WAV at all are reported with an ``error`` and left as they are; nothing is deleted.
    """
    path = Path(path)
    try:
        with open(path, "r+b") as f:
            head = f.read(4096)
            found = _find_data_chunk(head)
            if found is None:
                return RepairResult(path, False, 0, 0.0, error="no WAV header (left untouched)")
            offset, rate, channels, bits = found
            rate = rate or SAMPLE_RATE
            align = max(1, channels) * max(1, bits // 8)
            length = os.fstat(f.fileno()).st_size
            data_bytes = max(0, length - offset)
            dropped = data_bytes % align
            data_bytes -= dropped
            riff_size, data_size = (
                struct.unpack_from("<I", head, 4)[0],
                struct.unpack_from("<I", head, offset - 4)[0],
            )
            frames = data_bytes // align
            expected_riff = offset - 8 + data_bytes
            if not dropped and riff_size == expected_riff and data_size == data_bytes:
                return RepairResult(path, False, frames, frames / rate)
            if dropped:
                f.truncate(offset + data_bytes)
            f.seek(4)
            f.write(struct.pack("<I", expected_riff))
            f.seek(offset - 4)
            f.write(struct.pack("<I", data_bytes))
            f.flush()
            os.fsync(f.fileno())
            return RepairResult(path, True, frames, frames / rate, dropped_bytes=dropped)
    except OSError as exc:
        return RepairResult(path, False, 0, 0.0, error=f"cannot repair: {exc.strerror or exc}")


def writer_pid(marker: Path) -> int | None:
    """The pid of the live process still writing the recording ``marker`` belongs to, or None.

    None when there is no marker, it is unreadable, or its process is gone (or a zombie). A
    marker with this process's pid counts only while a :class:`WavWriter` here has it open.
    """
    try:
        pid = int(marker.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if pid == os.getpid():
        return pid if _key(marker) in _WRITING else None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie (killed child not yet reaped) is not writing any more.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        return None if stat.rsplit(")", 1)[1].split()[0] == "Z" else pid
    except (OSError, IndexError):
        return pid


def _writer_alive(marker: Path) -> bool:
    return writer_pid(marker) is not None


def recover_incomplete(directory: Path | str) -> list[RepairResult]:
    """Repair every recording in ``directory`` whose writer died (call on start).

    Recordings still being written by a live process are skipped. Each repaired file's
    marker is removed, so it is reported once.
    """
    directory = Path(directory)
    results: list[RepairResult] = []
    if not directory.is_dir():
        return results
    for marker in sorted(directory.glob(f"*{PARTIAL_SUFFIX}")):
        if _writer_alive(marker):
            continue
        wav = marker.with_name(marker.name[: -len(PARTIAL_SUFFIX)])
        if not wav.exists():
            with contextlib.suppress(OSError):
                marker.unlink()
            continue
        result = repair_wav(wav)
        if result.error is None:
            with contextlib.suppress(OSError):
                marker.unlink()
            # A file that was fine on disk still came from an interrupted run.
            result = RepairResult(
                result.path, True, result.frames, result.duration_s, result.dropped_bytes
            )
        results.append(result)
    return results


def read_wav_int16(path: Path | str) -> tuple[npt.NDArray[np.int16], int]:
    """Read a 16-bit PCM mono WAV (ours) into int16 samples and its rate."""
    data = Path(path).read_bytes()
    found = _find_data_chunk(data[:4096])
    if found is None:
        raise ValueError(f"{path} is not a WAV file")
    offset, rate, _channels, _bits = found
    size = struct.unpack_from("<I", data, offset - 4)[0]
    body = data[offset : offset + size]
    body = body[: len(body) - len(body) % 2]
    return np.frombuffer(body, dtype="<i2").astype(np.int16), rate


def read_stale_wav(path: Path | str) -> tuple[npt.NDArray[np.float32], int, int] | None:
    """Samples of a 16-bit PCM WAV whose header still says "no data" but whose body holds audio.

    That is the file a killed writer leaves before its first header update. What
    :func:`repair_wav` would recover is read here without changing the file (it may be the
    user's own). Returns (frames × channels float32, rate, channels), or None when the file
    is not such a WAV.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            found = _find_data_chunk(head)
            if found is None:
                return None
            offset, rate, channels, bits = found
            if bits != 16 or channels < 1 or rate <= 0:
                return None
            if struct.unpack_from("<I", head, offset - 4)[0] != 0:
                return None
            f.seek(offset)
            body = f.read()
    except OSError:
        return None
    align = 2 * channels
    body = body[: len(body) - len(body) % align]
    if not body:
        return None
    samples = np.frombuffer(body, dtype="<i2").reshape(-1, channels)
    return (samples.astype(np.float32) / 32768.0), rate, channels
