"""``coach transcribe AUDIO``: speech to text on this machine, as plain text or JSON."""

from __future__ import annotations

import json

import click

from coach.errors import AudioInputError
from coach.settings import ENGINES


@click.command()
@click.argument("audio", metavar="AUDIO", type=str)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Speech engine (default: settings; faster-whisper, same words as whisper, faster).",
)
@click.option(
    "--model",
    "model",
    default=None,
    metavar="NAME|PATH",
    help="Model name (tiny.en, base.en, small.en…; downloads once) or a model path. "
    "Default: settings, the embedded tiny.en.",
)
@click.option(
    "--channel",
    type=int,
    default=None,
    metavar="N",
    help="Use channel N (0-based) of a multi-channel file instead of mixing down.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the transcript as JSON.")
def transcribe(
    audio: str, engine: str | None, model: str | None, channel: int | None, as_json: bool
) -> None:
    """Transcribe AUDIO (WAV, FLAC, OGG; MP3/M4A with ffmpeg) offline."""
    from coach.audio.io import load_audio
    from coach.core import speech

    if channel is not None and channel < 0:
        raise AudioInputError(f"--channel {channel} is negative", "channels count from 0")
    choice = speech.resolve(engine=engine, model=model)  # the settings unless overridden
    samples = load_audio(audio, channel=channel)
    result = speech.create(choice).transcribe(samples)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        if result.is_empty:
            click.echo("no speech detected", err=True)
        return
    if result.is_empty:
        click.echo("no speech detected", err=True)
        return
    click.echo(result.text)
