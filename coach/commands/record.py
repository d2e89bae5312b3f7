"""``coach devices`` and ``coach record``: list microphones and record an answer to a WAV.

``coach record`` stops on Enter (when run in a terminal), Ctrl-C, SIGTERM or ``--seconds``;
the WAV is valid in every case. Before recording, interrupted recordings left in the output
folder by a crashed run are repaired and reported.
"""

from __future__ import annotations

import json
import select
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

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


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seconds", type=float, default=None, help="Stop after this many seconds.")
@click.option("--device", default=None, help="Input device: index or part of its name.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it already exists.")
def record(out: Path, seconds: float | None, device: str | None, overwrite: bool) -> None:
    """Record from the microphone to OUT (16 kHz mono WAV).

    Press Enter or Ctrl-C to stop early; the file is valid either way.
    """
    from coach.audio.recorder import (
        ClippingWarning,
        DeviceLost,
        OverflowWarning,
        Recorder,
        RecordingStopped,
        SilenceWarning,
        SoundDetected,
    )
    from coach.audio.wavfile import TYPE_INSTEAD, marker_path, recover_incomplete

    if seconds is not None and seconds <= 0:
        raise RecordingError(
            f"--seconds must be positive, got {seconds:g}", "give e.g. --seconds 90"
        )
    out = out.expanduser()
    for repaired in recover_incomplete(out.parent if str(out.parent) else Path(".")):
        click.echo(repaired.message, err=True)
    if out.is_dir():
        raise RecordingError(f"{out} is a folder", "give a file name ending in .wav")
    if out.exists() and not overwrite and not marker_path(out).exists():
        raise RecordingError(
            f"{out} already exists", f"choose another name or pass --overwrite, {TYPE_INSTEAD}"
        )
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    rec = Recorder(out, device=device, max_seconds=seconds)
    rec.start()
    stop_note = "Enter or Ctrl-C stops" if interactive else "Ctrl-C stops"
    limit = f", up to {seconds:g} s" if seconds else ""
    click.echo(
        f"recording from {rec.device.label if rec.device else 'default'} to {out}{limit} "
        f"({stop_note})",
        err=True,
    )
    stop_event = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop_event.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while not rec.done and not stop_event.is_set():
            for event in rec.poll_events():
                if isinstance(event, RecordingStopped | DeviceLost):
                    continue  # the result (and its error) is reported at the end
                if isinstance(
                    event, SilenceWarning | SoundDetected | ClippingWarning | OverflowWarning
                ):
                    prefix = "\r" if interactive else ""
                    click.echo(f"{prefix}{event.message}" + " " * 20, err=True)
            if interactive:
                st = rec.status()
                m, s = divmod(st.elapsed_s, 60)
                click.echo(
                    f"\r  {int(m):02d}:{s:04.1f}  level {st.rms_dbfs:6.1f} dBFS  "
                    f"peak {st.peak_dbfs:6.1f} dBFS  {_meter(st.rms_dbfs)}",
                    err=True,
                    nl=False,
                )
                ready, _, _ = select.select([sys.stdin], [], [], 0.1)
                if ready:
                    sys.stdin.readline()
                    break
            else:
                stop_event.wait(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the finalizing
        signal.signal(signal.SIGTERM, previous)
        result = rec.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if interactive:
        click.echo("", err=True)
    click.echo(f"saved {out} ({result.duration_s:.1f} s)")
    if result.heard_nothing and result.frames:
        click.echo("warning: the recording is silent — check your microphone", err=True)
    if result.error is not None:
        raise result.error
