"""Microphones: list input devices and pick one by name or index.

``sounddevice`` is imported lazily (it loads the PortAudio C library and scans devices at
import). A missing PortAudio library, no microphone at all, or an unknown device name become
:class:`~coach.errors.RecordingError`\\ s with a fix; every fix also offers typing the answer.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, cast

from coach.errors import RecordingError

TYPE_INSTEAD = "or type your answer instead"


@dataclass(frozen=True)
class InputDevice:
    """One input device as PortAudio reports it."""

    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"[{self.index}] {self.name}"


def portaudio_fix() -> str:
    if sys.platform == "darwin":
        return f"install it with `brew install portaudio`, {TYPE_INSTEAD}"
    if sys.platform.startswith("linux"):
        return (
            "install it with `sudo apt install libportaudio2` (Fedora: `sudo dnf install "
            f"portaudio`), {TYPE_INSTEAD}"
        )
    return f"reinstall the sounddevice package (it bundles PortAudio), {TYPE_INSTEAD}"


def import_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a RecordingError."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError("PortAudio library not found")
        raise RecordingError(
            f"the PortAudio audio library is not installed ({exc})", portaudio_fix()
        ) from exc
    return cast(ModuleType, sounddevice)


def no_input_device_error() -> RecordingError:
    return RecordingError(
        "no microphone (audio input device) found",
        f"plug in or enable a microphone and check `coach devices`, {TYPE_INSTEAD}",
    )


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, the system default marked."""
    sd = import_sounddevice()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
    except Exception as exc:  # PortAudioError: PortAudio could not scan devices
        raise RecordingError(
            f"cannot list audio devices: {exc}", f"check your sound system, {TYPE_INSTEAD}"
        ) from exc
    try:
        default_in = int(sd.default.device[0])
    except (TypeError, ValueError, IndexError):
        default_in = -1
    if default_in < 0:
        try:
            default_in = int(sd.query_hostapis(0)["default_input_device"])
        except Exception:
            default_in = -1
    result = []
    for info in devices:
        if int(info["max_input_channels"]) <= 0:
            continue
        index = int(info["index"])
        result.append(
            InputDevice(
                index=index,
                name=str(info["name"]),
                hostapi=str(hostapis[int(info["hostapi"])]["name"]),
                channels=int(info["max_input_channels"]),
                default_samplerate=float(info["default_samplerate"]),
                is_default=index == default_in,
            )
        )
    return result


def resolve_device(spec: str | int | None) -> InputDevice:
    """Find an input device by index, by name (case-insensitive substring), or the default.

    An exact name wins over substring matches; several substring matches are an error that
    lists them.
    """
    devices = list_input_devices()
    if not devices:
        raise no_input_device_error()
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        for device in devices:
            if device.is_default:
                return device
        return devices[0]
    if isinstance(spec, int) or _ascii_int(spec):
        index = int(spec)
        for device in devices:
            if device.index == index:
                return device
        raise RecordingError(
            f"no input device with index {index}",
            f"run `coach devices` to see the microphones, {TYPE_INSTEAD}",
        )
    wanted = spec.strip().casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    if exact:
        return exact[0]
    matches = [d for d in devices if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RecordingError(
            f"no input device matches {spec!r}",
            f"run `coach devices` to see the microphones, {TYPE_INSTEAD}",
        )
    names = ", ".join(d.label for d in matches)
    raise RecordingError(
        f"{spec!r} matches several input devices: {names}", "give the index instead"
    )


def _ascii_int(text: str) -> bool:
    """An index typed as ASCII digits; "²" passes ``isdigit`` but not ``int``."""
    digits = text.strip().removeprefix("-")
    return digits.isascii() and digits.isdigit() and len(digits) < 10
