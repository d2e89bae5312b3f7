"""``coach history``, ``coach delete`` and ``coach forget-everything``.

History is read-only and safe to run while the app is open (the database is in WAL mode).
Deleting asks first on a terminal; from scripts (no terminal) it needs ``--yes``, so a pipe can
never delete answers by accident.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import click

from coach import paths
from coach.errors import CoachError, StoreError
from coach.history import HistorySummary, sparkline, summarize
from coach.store import DB_NAME, RECORDINGS, Store, default_path


def open_store() -> Store:
    """Open the history, telling the user (on stderr) about recordings repaired after a crash."""
    store = Store.open()
    for repaired in store.recovered:
        click.echo(repaired.message, err=True)
    for message in store.imported:
        click.echo(message, err=True)
    return store


def _when(value: object) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:16].replace("T", " ")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _label(summary: HistorySummary, question_id: str, width: int) -> str:
    text = summary.question_text.get(question_id)
    label = f"{question_id}: {text}" if text else question_id
    return label if len(label) <= width else label[: width - 1] + "…"


def render_history(summary: HistorySummary, *, max_sessions: int = 10, width: int = 80) -> str:
    """The plain-text history report (what ``coach history`` prints)."""
    if summary.is_empty and not summary.sessions:
        return "No practice yet: run `coach` (or `coach rehearse`) to record your first answer.\n"
    lines = [
        f"History: {len(summary.sessions)} session{'s' if len(summary.sessions) != 1 else ''}, "
        f"{summary.attempt_count} answer{'s' if summary.attempt_count != 1 else ''}",
        "",
        "Sessions (newest first)",
        f"  {'ID':>4}  {'Started':<16}  {'Mode':<8}  {'Answers':>7}  {'Best':>4}  {'Mean':>4}",
    ]
    for s in summary.sessions[:max_sessions]:
        lines.append(
            f"  {s.id:>4}  {_when(s.started_at):<16}  {s.mode:<8}  {s.attempt_count:>7}  "
            f"{_score(s.best):>4}  {_score(s.mean):>4}"
        )
    if len(summary.sessions) > max_sessions:
        lines.append(f"  … {len(summary.sessions) - max_sessions} older (see --all or --json)")
    if summary.questions:
        label_w = max(20, width - 46)
        lines += [
            "",
            "Questions",
            f"  {'Question':<{label_w}}  {'Tries':>5}  {'Best':>4}  {'Latest':>6}  Last practised",
        ]
        for q in summary.questions:
            lines.append(
                f"  {_label(summary, q.question_id, label_w):<{label_w}}  {q.attempts:>5}  "
                f"{q.best:>4.0f}  {q.latest:>6.0f}  {_when(q.last_practised)[:10]}"
            )
    series = ([summary.overall] if summary.overall else []) + summary.criteria
    if series:
        name_w = min(18, max(len(c.name) for c in series))
        most = max(len(c.points) for c in series)
        chart_w = min(most, max(10, width - name_w - 26))
        lines += ["", "Progress per criterion (oldest → newest, 0-100 scale)"]
        for c in series:
            change = f"{'+' if c.change >= 0 else '−'}{abs(c.change):.0f}"
            lines.append(
                f"  {c.name[:name_w]:<{name_w}}  {sparkline(c.scores, width=chart_w):<{chart_w}}"
                f"  {c.first:>3.0f} → {c.latest:>3.0f} ({change})"
            )
    if summary.weakest:
        label_w = max(20, width - 30)
        lines += ["", "Weakest questions (drills bring these back first)"]
        for i, q in enumerate(summary.weakest, 1):
            lines.append(
                f"  {i}. {_label(summary, q.question_id, label_w)} — latest {q.latest:.0f}, "
                f"best {q.best:.0f}"
            )
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
@click.option("--all", "show_all", is_flag=True, help="List every session, not just the last 10.")
@click.option("--weakest", default=5, show_default=True, help="How many weak questions to list.")
def history(as_json: bool, show_all: bool, weakest: int) -> None:
    """Show sessions, scores per question, progress per criterion and the weakest questions."""
    with open_store() as store:
        summary = summarize(store, weakest=max(0, weakest))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    click.echo(
        render_history(summary, max_sessions=10**9 if show_all else 10, width=width), nl=False
    )


def _confirm(prompt: str, yes: bool) -> bool:
    """True if the user agreed (or passed --yes); refuses to guess without a terminal."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise CoachError(
            "refusing to delete without confirmation (not a terminal)", "add --yes to confirm"
        )
    return click.confirm(prompt, default=False)


def _parse_id(value: str, kind: str) -> int:
    from coach.store import parse_id

    return parse_id(value, kind)


@click.command()
@click.argument("kind", metavar="(attempt|session)")
@click.argument("ident", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, kind: str, ident: str, yes: bool) -> None:
    """Delete one attempt or a whole session, with its recordings.

    Example: coach delete session 3
    """
    kind = kind.lower()
    if kind not in ("attempt", "session"):
        raise CoachError(
            f"cannot delete {kind!r}", "say what to delete: coach delete attempt ID or session ID"
        )
    number = _parse_id(ident, kind)
    with open_store() as store:
        if kind == "attempt":
            a = store.attempt(number)
            what = (
                f"attempt {a.id} ({a.question_id or 'free answer'}, {_when(a.created_at)}, "
                f"score {a.overall:.0f}{', with its recording' if a.audio_path else ''})"
            )
            if not _confirm(f"Delete {what}?", yes):
                click.echo("Nothing deleted.")
                ctx.exit(1)
            store.delete_attempt(number)
        else:
            s = store.session(number)
            what = (
                f"session {s.id} ({s.mode}, {_when(s.started_at)}, {s.attempt_count} "
                f"answer{'s' if s.attempt_count != 1 else ''} and their recordings)"
            )
            if not _confirm(f"Delete {what}?", yes):
                click.echo("Nothing deleted.")
                ctx.exit(1)
            store.delete_session(number)
    click.echo(f"Deleted {what}.")


def _database_in_use(db: Path) -> bool:
    """True if another program (the app, an export) has the history open.

    A writer shows as a lock. An idle reader holds no lock, but SQLite keeps the ``-shm`` file
    while any connection is open and removes it when the last one closes: if it survives our
    own open-and-close, someone else still has the database open.
    """
    if not db.exists():
        return False
    shm = db.with_name(db.name + "-shm")
    conn = sqlite3.connect(db, timeout=0.5, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            return True
    except sqlite3.DatabaseError:
        return False  # corrupt: nobody can be using it; deleting it is what the user wants
    finally:
        conn.close()
    return shm.exists()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def forget_plan(*, keep_settings: bool) -> tuple[list[Path], list[Path]]:
    """(what will be deleted, what will be left) for ``forget-everything``.

    Everything inside the data dir and the config dir goes when they are the coach's own
    folders (the defaults). When a folder was redirected with COACH_DATA_DIR or COACH_CONFIG_DIR
    it may be shared with other files, so only the coach's known files there are deleted.
    """
    targets: list[Path] = []
    left: list[Path] = []
    folders: list[tuple[Path, bool, set[str]]] = [
        (paths.data_dir(), "COACH_DATA_DIR" not in os.environ, {DB_NAME, RECORDINGS}),
    ]
    if not keep_settings:
        folders.append(
            (
                paths.config_dir(),
                "COACH_CONFIG_DIR" not in os.environ,
                {"settings.toml", "questions", "rubrics", "story.toml"},
            )
        )
    for folder, own, known in folders:
        for entry in sorted(folder.iterdir()):
            name = entry.name
            ours = own or any(
                name == k or name.startswith(k + "-") or name.startswith(k + ".") for k in known
            )
            (targets if ours else left).append(entry)
    return targets, left


@click.command(name="forget-everything")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--keep-settings", is_flag=True, help="Keep settings and your own questions (config dir)."
)
@click.pass_context
def forget_everything(ctx: click.Context, yes: bool, keep_settings: bool) -> None:
    """Delete all your data: history, recordings and (unless --keep-settings) settings.

    Downloaded speech models (the cache dir) are not personal and are kept. Exports you saved
    elsewhere are yours to delete.
    """
    db = default_path()
    if _database_in_use(db):
        raise StoreError(
            f"the history {db} is in use by another coach window or command",
            "close the app and any running coach command, then try again",
        )
    targets, left = forget_plan(keep_settings=keep_settings)
    if not targets:
        click.echo("Nothing to delete: there is no saved data.")
        return
    listing = "\n".join(f"  {p}{'/' if p.is_dir() else ''}" for p in targets)
    click.echo(f"This deletes:\n{listing}")
    if not _confirm("Delete all of this for good?", yes):
        click.echo("Nothing deleted.")
        ctx.exit(1)
    for p in targets:
        _remove(p)
    click.echo(f"Deleted {len(targets)} item{'s' if len(targets) != 1 else ''}.")
    if left:
        click.echo("Left alone (not the coach's files):\n" + "\n".join(f"  {p}" for p in left))
