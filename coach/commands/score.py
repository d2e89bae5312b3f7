"""``coach score``: the rubric verdict on one answer, typed or spoken, as text or JSON.

The answer comes from ``--text FILE`` (``-`` or no option: standard input) or ``--audio FILE``
(transcribed on this machine first). Only the audio branch imports the speech engines, so
scoring typed text starts fast and never loads torch or Whisper.

JSON (other tools rely on it)::

    {"question_id", "category", "overall", "text",
     "criteria": [{"id", "name", "score", "passed", "feedback", "weight",
                   "evidence": [{"start", "end", "text", "effect", "reason"}]}],
     "stats": {"words", "sentences", ["duration_s", "wpm", "fillers", "long_pauses", "hedges"]},
     ["story": {"category", "said", "not_said",
                "points": [{"id", "label", "needed", "said", "quote", "score"}]}]}

``story`` is there only when the user has written a story (``story.toml``, see coach.story).

Evidence offsets index into ``text`` (the answer, or the transcript of the audio).
"""

from __future__ import annotations

import json
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import click

from coach.errors import CoachError
from coach.settings import ENGINES

#: Evidence longer than this is shortened in the plain-text report (JSON keeps it whole).
EVIDENCE_CHARS = 90


def read_answer_text(source: str) -> str:
    """The answer text from a file path, or standard input for ``-``."""
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise CoachError(
                "no answer on standard input",
                "pipe the answer in, or pass --text FILE or --audio FILE",
            )
        # Bytes, decoded strictly here: sys.stdin's own decoding depends on the locale and
        # lets Latin-1 or random bytes through (they were scored as a 945-word answer).
        try:
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else None
            raw = data if data is not None else sys.stdin.read().encode("utf-8")
        except (OSError, UnicodeError) as exc:
            raise CoachError(
                f"cannot read the answer from standard input ({exc})", "pipe UTF-8 text"
            ) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CoachError(
                f"standard input is not UTF-8 text (byte {exc.start})",
                "pipe the answer as plain UTF-8 text",
            ) from None
        return _check_text(text, "standard input")
    path = Path(source)
    if not path.exists():
        raise CoachError(f"{path}: no such file", "check the path of the answer text")
    if path.is_dir():
        raise CoachError(f"{path}: is a folder, not a text file", "give the path of a text file")
    try:
        return _check_text(path.read_text(encoding="utf-8-sig"), str(path))
    except UnicodeDecodeError:
        raise CoachError(
            f"{path}: is not UTF-8 text", "save the answer as plain UTF-8 text"
        ) from None
    except OSError as exc:
        raise CoachError(
            f"{path}: cannot read the file ({exc.strerror or exc})",
            "check that it exists and is readable",
        ) from None


def _check_text(text: str, where: str) -> str:
    """Refuse control characters (other than tab and line ends): binary data, not an answer."""
    for i, ch in enumerate(text):
        if ch not in "\t\n\r" and unicodedata.category(ch) == "Cc":
            raise CoachError(
                f"{where} holds a control character (U+{ord(ch):04X} at character {i}), "
                "so it is not a typed answer",
                "pipe the answer as plain UTF-8 text",
            )
    return text


def _transcribe(audio: str, engine: str | None, model: str | None) -> Any:
    # The speech engines (and torch behind them) are imported only for spoken answers.
    from coach.audio.io import load_audio
    from coach.core import speech

    choice = speech.resolve(engine=engine, model=model)  # the settings unless overridden
    samples = load_audio(audio)
    transcript = speech.create(choice).transcribe(samples)
    if transcript.is_empty:
        raise CoachError(
            f"{audio}: no speech detected", "check the recording, or re-record the answer"
        )
    return transcript


def _shorten(text: str, limit: int = EVIDENCE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render_plain(report: Any, *, spoken: bool) -> str:
    """A readable report: overall, then each criterion with its evidence."""
    lines: list[str] = []
    where = report.category + (f" · {report.question_id}" if report.question_id else "")
    lines.append(f"Overall {report.overall:.0f}/100  ({where})")
    if spoken:
        lines.append("")
        lines.append("Transcript:")
        lines.extend(textwrap.wrap(report.text, 88, initial_indent="  ", subsequent_indent="  "))
    for c in report.criteria:
        lines.append("")
        verdict = "pass" if c.passed else "work on this"
        lines.append(f"{c.name:<14} {c.score:5.0f}  {verdict}")
        lines.extend(textwrap.wrap(c.feedback, 88, initial_indent="  ", subsequent_indent="  "))
        # Repeats of one short span ("um" ten times) are shown once with a count.
        seen: dict[tuple[str, str, str], int] = {}
        for e in c.evidence:
            key = (e.effect, _shorten(e.text).lower(), e.reason)
            seen[key] = seen.get(key, 0) + 1
        shown: set[tuple[str, str, str]] = set()
        for e in c.evidence:
            key = (e.effect, _shorten(e.text).lower(), e.reason)
            if key in shown:
                continue
            shown.add(key)
            why = f" ({e.reason})" if e.reason else ""
            times = f" ×{seen[key]}" if seen[key] > 1 else ""
            lines.append(f"    {e.effect} “{_shorten(e.text)}”{times}{why}")
    s = report.stats
    lines.append("")
    lines.append("Stats: " + ", ".join(s.summary_parts()))
    return "\n".join(lines)


@click.command()
@click.option("--question", "question_id", metavar="ID", help="Score against this question.")
@click.option("--category", metavar="CAT", help="Score against a category (see `coach questions`).")
@click.option(
    "--text",
    "text_source",
    metavar="FILE|-",
    help="The answer as a UTF-8 text file, or - for standard input (the default).",
)
@click.option("--audio", metavar="FILE", help="A recorded answer to transcribe and score.")
@click.option(
    "--engine",
    metavar="NAME",
    help="Speech engine for --audio: whisper or faster-whisper (default: settings).",
)
@click.option(
    "--model",
    metavar="NAME|PATH",
    help="Speech model for --audio (default: settings, the embedded tiny.en).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def score(
    question_id: str | None,
    category: str | None,
    text_source: str | None,
    audio: str | None,
    engine: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Score one answer for brevity, tone, growth, content (and delivery, when spoken)."""
    if (question_id is None) == (category is None):
        raise CoachError(
            "give exactly one of --question or --category",
            "e.g. coach score --category failed-match --text answer.txt",
        )
    if text_source is not None and audio is not None:
        raise CoachError("give either --text or --audio, not both", "score one answer at a time")
    if audio is None and (engine is not None or model is not None):
        raise CoachError("--engine and --model only apply to --audio", "add --audio FILE")
    if engine is not None and engine not in ENGINES:
        raise CoachError(f"unknown engine '{engine}'", f"use one of {', '.join(ENGINES)}")
    for name, value in (("--question", question_id), ("--category", category)):
        if value is not None and not value.strip():
            raise CoachError(f"{name} is empty", f"give a value, e.g. {name} failed-match")

    from coach.datafile import did_you_mean
    from coach.questions import CATEGORIES, load_question_bank
    from coach.scoring.scorer import score_answer

    question = None
    if question_id is not None:
        question = load_question_bank().get(question_id)
    elif category not in CATEGORIES:
        raise CoachError(f"unknown category '{category}'", did_you_mean(str(category), CATEGORIES))

    transcript = None
    if audio is not None:
        if not Path(audio).exists():
            raise CoachError(f"{audio}: no such file", "check the path of the recording")
        transcript = _transcribe(audio, engine, model)
        text = transcript.text.strip()
    else:
        text = read_answer_text(text_source or "-")
        if not text.strip():
            where = "standard input" if (text_source or "-") == "-" else text_source
            raise CoachError(f"the answer in {where} is empty", "write the answer, then score it")

    report = score_answer(text, question=question, category=category, transcript=transcript)
    from coach.story.coverage import coverage_for_saved_story

    story, warning = coverage_for_saved_story(report.category, report.text)
    if warning:
        click.echo(warning, err=True)
    if as_json:
        data = report.to_dict()
        data["text"] = report.text
        if story is not None:  # only when the user wrote a story
            data["story"] = story.to_dict()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render_plain(report, spoken=transcript is not None))
        if story is not None:
            click.echo("Story: " + story.summary())
