"""``coach export``: a session for a mentor as Markdown, self-contained HTML or JSON.

Every format is written to a file: ``--out FILE`` (or a folder), by default
``coach-session-ID.<format>`` in the current folder; the path is printed. An existing file is
replaced only with ``--force`` or after asking on a terminal; links, pipes, devices and folders
are refused (:mod:`coach.outfile`). ``--out -`` prints
Markdown or JSON to stdout instead (for pipes). Files are written atomically and readable by
the user only (0600). Safe to run while the app is open (the history is read in WAL mode).

Before anything is written, the patient-detail guard (:mod:`coach.guard`) looks for patient
and third-party details in the answers. In a terminal it asks per kind: redact, keep, or
review one by one. Without a terminal it redacts everything it found unless told otherwise
(``--keep KIND``, ``--redact-all``). Recordings leave the export when anything is redacted,
because the details are spoken in them. Prompts and notes go to stderr, so ``--out -`` stays
clean.

``--with-story`` adds the story checklist to each answer (the story points it said, with the
sentence, those it left out, and contradictions with the story or other answers of the session);
without it nothing from the story is exported. The guard reads the story's own text too, so a
name in the story is redacted like one in an answer. JSON then has ``schema_version`` 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from coach.commands.history import open_store
from coach.errors import CoachError
from coach.export import FORMATS, Redactor, default_export_name, export_session, write_export
from coach.guard import KIND_LABELS, KINDS, Kind, OwnProfile
from coach.guard.share import (
    KEEP,
    REDACT,
    REVIEW,
    Choice,
    GuardReport,
    Hit,
    decide,
    own_profile,
    parse_kinds,
    redaction_terms,
    scan_session,
    scan_texts,
)
from coach.outfile import check_target

_KINDS_HINT = ", ".join(KINDS) + " or all"


@click.command()
@click.argument("session", metavar="(SESSION_ID|latest)", default="latest")
@click.option("--format", "-f", "fmt", default="md", show_default=True, help="md, html or json.")
@click.option(
    "--out",
    "-o",
    "out",
    default=None,
    help="File or folder to write to (default: coach-session-ID.FORMAT here); - for stdout.",
)
@click.option("--no-audio", is_flag=True, help="Leave the recordings out.")
@click.option("--force", is_flag=True, help="Replace an existing file without asking.")
@click.option(
    "--redact",
    multiple=True,
    metavar="NAME",
    help="Replace this name everywhere (repeatable). Implies --no-audio.",
)
@click.option(
    "--keep",
    multiple=True,
    metavar="KIND",
    help=f"Keep what the patient-detail guard finds of this kind ({_KINDS_HINT}); repeatable.",
)
@click.option("--redact-all", is_flag=True, help="Redact everything the guard finds, no questions.")
@click.option(
    "--review", is_flag=True, help="Decide on each finding one by one (needs a terminal)."
)
@click.option(
    "--with-story",
    is_flag=True,
    help="Add the story checklist per answer: story points said / not said, contradictions.",
)
def export(
    session: str,
    fmt: str,
    out: str | None,
    no_audio: bool,
    force: bool,
    redact: tuple[str, ...],
    keep: tuple[str, ...],
    redact_all: bool,
    review: bool,
    with_story: bool,
) -> None:
    """Export a practice session to share with a mentor.

    The patient-detail guard looks for names, ages, dates, places, record numbers, phone
    numbers and e-mail addresses first; in a terminal you choose per kind, otherwise what it
    finds is redacted unless you --keep that kind.

    Examples: coach export latest --format html; coach export 3 -f md --keep place;
    coach export latest -f html --with-story
    """
    fmt = fmt.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else fmt
    if fmt not in FORMATS:
        raise CoachError(f"unknown export format {fmt!r}", "use --format md, html or json")
    if out == "-" and fmt == "html":
        raise CoachError(
            "an HTML export is a file, not text for the terminal",
            "leave out --out - (or give a file name) to write coach-session-ID.html",
        )
    if out is not None and not out.strip():
        raise CoachError("--out is empty", "give a file or folder name, or - for stdout")
    Redactor.for_names(redact)  # a bad name is refused before the history is opened
    try:
        kept = parse_kinds(keep)
    except ValueError as exc:
        raise CoachError(f"--keep {exc.args[0]!r} is not a kind", f"use {_KINDS_HINT}") from None
    if redact_all and (kept or review):
        raise CoachError(
            "--redact-all cannot be combined with --keep or --review", "choose one of them"
        )
    interactive = sys.stdin.isatty()
    if review and not interactive:
        raise CoachError(
            "--review asks about each finding and needs a terminal",
            "use --keep KIND or --redact-all in scripts",
        )
    with open_store() as store:
        # Resolve first: a missing session is an error before anything is written.
        resolved = store.resolve_session(session)
        # The target is checked before the guard asks anything: a refused --out wastes no choices.
        target = None if out == "-" else _target(out, resolved.id, fmt, force)
        notes = None
        if with_story:
            from coach.story.sharing import load_session_story

            notes = load_session_story(store, resolved.id)
        own = _own_profile()
        report = scan_session(store, resolved.id, own)
        if notes is not None:  # the story's own words go through the guard too
            from coach.story.sharing import guard_texts

            report = report.plus(scan_texts(guard_texts(notes), own, "story"))
        choices = _choices(report, kept, redact_all, review, interactive)
        if REVIEW in choices.values():
            click.echo("One by one (Enter redacts):", err=True)
        hits = decide(report, choices, _ask_each if REVIEW in choices.values() else None)
        words = redaction_terms(hits)
        terms = [*redact, *words]
        audio = not no_audio
        if target is None:
            text = export_session(
                store,
                resolved.id,
                fmt,
                include_audio=audio,
                redact=redact,
                redact_words=words,
                story=notes,
            )
            click.echo(text, nl=False)
        else:
            written = write_export(
                store,
                resolved.id,
                fmt,
                target,
                include_audio=audio,
                redact=redact,
                redact_words=words,
                story=notes,
            )
    # Notes only once the export exists: an error stays the only line on stderr.
    _tell(report, hits)
    if terms and not no_audio:
        click.echo(
            "note: recordings are left out because details were redacted (they are spoken in them)",
            err=True,
        )
    if out != "-":
        click.echo(f"Wrote {written}")


def _own_profile() -> OwnProfile:
    """The applicant's own name and schools from the settings (an invalid file: none)."""
    own, note = own_profile()
    if note:
        click.echo(f"note: {note}", err=True)
    return own


def _choices(
    report: GuardReport, kept: set[Kind], redact_all: bool, review: bool, interactive: bool
) -> dict[Kind, Choice]:
    found = report.by_kind()
    if not found:
        return {}
    if redact_all:
        return dict.fromkeys(found, REDACT)
    if review:
        return {k: KEEP if k in kept else REVIEW for k in found}
    if kept or not interactive:
        return {k: KEEP if k in kept else REDACT for k in found}
    click.echo(
        f"The patient-detail guard found details a mentor does not need ({report.summary()}):",
        err=True,
    )
    choices: dict[Kind, Choice] = {}
    for kind, hits in found.items():
        texts = list(dict.fromkeys(h.finding.text for h in hits))
        shown = ", ".join(texts[:8]) + (f" and {len(texts) - 8} more" if len(texts) > 8 else "")
        click.echo(f"  {KIND_LABELS[kind]}: {shown}", err=True)
        answer = click.prompt(
            "    [r]edact, [k]eep or re[v]iew one by one?",
            type=click.Choice(["r", "k", "v"]),
            default="r",
            show_choices=False,
            err=True,
        )
        picked: dict[str, Choice] = {"r": REDACT, "k": KEEP, "v": REVIEW}
        choices[kind] = picked[answer]
    return choices


def _ask_each(hit: Hit) -> bool:
    return click.confirm(
        f"  redact {hit.finding.text!r} ({KIND_LABELS[hit.finding.kind]}) in "
        f"{hit.where}: {hit.context}",
        default=True,
        err=True,
    )


def _tell(report: GuardReport, hits: list[Hit]) -> None:
    if not report.hits:
        return
    redacted = GuardReport(tuple(hits)).summary() or "nothing"
    kept = GuardReport(tuple(h for h in report.hits if h not in hits)).summary()
    line = f"patient-detail guard: redacted {redacted}"
    if kept:
        line += f"; kept {kept}"
    click.echo(line + " (coach export --help for --keep, --review)", err=True)


def _target(out: str | None, session_id: int, fmt: str, force: bool) -> Path:
    """Where the export goes, checked: links, pipes, devices and folders are refused, and an
    existing file is replaced only with --force or after asking on a terminal."""
    target = Path(out).expanduser() if out else Path.cwd() / default_export_name(session_id, fmt)
    if target.is_dir():  # a folder (or a link to one): the default name inside it
        target = target / default_export_name(session_id, fmt)
    check_target(target, force=force, ask=_asker())
    return target


def _asker() -> Callable[[str], bool] | None:
    """Ask on the terminal; None when stdin is not one (scripts get an error naming --force)."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    return lambda question: click.confirm(question, default=False, err=True)
