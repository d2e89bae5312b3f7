"""``coach devices`` and ``coach record``: list microphones and record an answer to a WAV.

``coach record`` stops on Enter (a line on stdin, from a terminal or a pipe), Ctrl-C, SIGTERM
or ``--seconds``; the WAV is valid in every case. Before recording, interrupted recordings
left by a crashed run (in the output folder and in the app's recordings folder) are repaired
and reported, and are never overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import stat
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click

from coach.commands.options import SECONDS
from coach.errors import RecordingError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
def devices(as_json: bool) -> None:
    """List audio input devices (the default is marked with *)."""
    from coach.audio.devices import list_input_devices, no_input_device_error

    found = list_input_devices()
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in found], indent=2))
        return
    if not found:
        raise no_input_device_error()
    for d in found:
        mark = "*" if d.is_default else " "
        click.echo(
            f"{mark} {d.index:>3}  {d.name}  ({d.hostapi}, {d.channels} in, "
            f"{d.default_samplerate:g} Hz)"
        )


def _meter(rms_dbfs: float, width: int = 20) -> str:
    filled = max(0, min(width, int((rms_dbfs + 60) / 60 * width)))
    return "#" * filled + "-" * (width - filled)


class _StdinWatch:
    """Stops the recording when a line (Enter) arrives on stdin: a terminal, a pipe or a pty.

    End of input (``< /dev/null``, a closed pipe) only stops the watching. A terminal is read
    only while this process is in the foreground, so ``coach record x.wav &`` is never
    stopped by SIGTTIN.
    """

    def __init__(self) -> None:
        self.fd: int | None = None
        self.is_tty = False
        try:
            if sys.stdin is not None:
                fd = sys.stdin.fileno()
                mode = os.fstat(fd).st_mode
                self.is_tty = os.isatty(fd)
                # Only something a person (or a script) can type into: not /dev/null or a file.
                if self.is_tty or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                    self.fd = fd
        except (OSError, ValueError, AttributeError):
            self.fd = None

    @property
    def active(self) -> bool:
        return self.fd is not None

    def _foreground(self) -> bool:
        if not self.is_tty or self.fd is None:
            return True
        try:
            return os.tcgetpgrp(self.fd) == os.getpgrp()
        except OSError:  # a terminal that is not ours to control: reading cannot stop us
            return True

    def enter_pressed(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True once a newline was read."""
        if self.fd is None or not self._foreground():
            time.sleep(timeout)
            return False
        try:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return False
            data = os.read(self.fd, 4096)
        except (OSError, ValueError):
            self.fd = None
            return False
        if not data:  # end of input: nobody can press Enter any more
            self.fd = None
            return False
        return b"\n" in data or b"\r" in data


@click.command()
@click.argument("out", type=click.Path(path_type=Path))  # folders: our error
@click.option("--seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
@click.option("--device", default=None, help="Input device: index or part of its name.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it already exists.")
def record(out: Path, seconds: float | None, device: str | None, overwrite: bool) -> None:
    """Record from the microphone to OUT (16 kHz mono WAV).

    Press Enter or Ctrl-C to stop early; the file is valid either way.
    """
    from coach import paths
    from coach.audio.wavfile import TYPE_INSTEAD, marker_path, recover_incomplete, writer_pid

    paths.check_private_dirs()  # a folder we cannot use fails now, not after the answer

    if seconds is not None and not (0 < seconds < float("inf")):
        raise RecordingError(
            f"--seconds must be a positive number, got {seconds:g}", "give e.g. --seconds 90"
        )
    out = out.expanduser()
    folders = [out.parent if str(out.parent) else Path(".")]
    with contextlib.suppress(OSError):
        folders.append(paths.recordings_dir())  # answers the app was recording when it died
    seen: set[Path] = set()
    recovered: set[Path] = set()
    for folder in folders:
        key = folder.resolve()
        if key in seen:
            continue
        seen.add(key)
        for repaired in recover_incomplete(folder):
            click.echo(repaired.message, err=True)
            recovered.add(repaired.path.resolve())
    if out.is_dir():
        raise RecordingError(
            f"{out} is a folder", f"give a file name ending in .wav, {TYPE_INSTEAD}"
        )
    if not out.parent.is_dir():
        what = "is not a folder" if out.parent.exists() else "does not exist"
        raise RecordingError(
            f"cannot record to {out}: {out.parent} {what}",
            f"create the folder first or choose another path, {TYPE_INSTEAD}",
        )
    busy = writer_pid(marker_path(out))
    if busy is not None:
        raise RecordingError(
            f"{out} is being recorded right now by another program (pid {busy})",
            f"choose another file name, {TYPE_INSTEAD}",
        )
    if out.exists() and out.resolve() in recovered:
        # Even with --overwrite: the user has not heard the recovered answer yet.
        raise RecordingError(
            f"{out} holds an interrupted recording that was just recovered",
            f"listen to it or move it, then record to another name, {TYPE_INSTEAD}",
        )
    if out.exists() and not overwrite:
        raise RecordingError(
            f"{out} already exists", f"choose another name or pass --overwrite, {TYPE_INSTEAD}"
        )

    # Ctrl-C and SIGTERM only ask the loop to stop: a KeyboardInterrupt raised in the middle
    # of opening or finalizing the stream could leave the WAV without its final header.
    stop_event = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_event.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _record(out, seconds, device, stop_event)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _record(
    out: Path, seconds: float | None, device: str | None, stop_event: threading.Event
) -> None:
    from coach.audio.recorder import (
        ClippingWarning,
        OverflowWarning,
        Recorder,
        SilenceWarning,
        SoundDetected,
    )

    stdin = _StdinWatch()
    meter = sys.stderr.isatty()
    rec = Recorder(out, device=device, max_seconds=seconds)
    rec.start()
    stop_note = "Enter or Ctrl-C stops" if stdin.active else "Ctrl-C stops"
    limit = f", up to {seconds:g} s" if seconds else ""
    click.echo(
        f"recording from {rec.device.label if rec.device else 'default'} to {out}{limit} "
        f"({stop_note})",
        err=True,
    )
    try:
        while not rec.done and not stop_event.is_set():
            for event in rec.poll_events():
                if isinstance(
                    event, SilenceWarning | SoundDetected | ClippingWarning | OverflowWarning
                ):
                    text = f"at {event.elapsed_s:.1f} s: {event.message}"
                    # On a terminal the warning replaces the meter line (padded to cover it).
                    click.echo(f"\r{text:<78}" if meter else text, err=True)
                # DeviceLost and RecordingStopped: the result (and its error) is reported below.
            if meter:
                st = rec.status()
                m, s = divmod(st.elapsed_s, 60)
                click.echo(
                    f"\r  {int(m):02d}:{s:04.1f}  level {st.rms_dbfs:6.1f} dBFS  "
                    f"peak {st.peak_dbfs:6.1f} dBFS  {_meter(st.rms_dbfs)}",
                    err=True,
                    nl=False,
                )
            if stdin.enter_pressed(0.1):
                break
    finally:
        result = rec.stop()
    if meter:
        click.echo("", err=True)
    click.echo(f"saved {out} ({result.duration_s:.1f} s)")
    if result.heard_nothing and result.frames:
        click.echo("warning: the recording is silent — check your microphone", err=True)
    if result.error is not None:
        raise result.error
