"""Export a practice session for a mentor: Markdown, one self-contained HTML file, or JSON.

All three formats render the same document, built once by :func:`build_document` (a plain,
JSON-ready dict with a ``schema_version``), so they never disagree. The HTML file has no
external scripts, styles, fonts or images: CSS is inline, recordings are embedded as
``data:`` URIs, and it prints cleanly (``@media print``). Each answer gets an empty "Mentor
comments" box the mentor can type into in the browser or write on once printed.

Redaction (``redact=["Dr. Okafor", ...]``) replaces every occurrence of each name,
case-insensitively and also inside longer words (erring on the side of privacy), with
``[redacted]`` in everything exported: the answer, transcript words and segments, feedback,
evidence text and reasons, question text and tips, settings and file paths. Evidence offsets
are **recomputed** for the redacted answer, so ``text[start:end] == evidence.text`` still holds.
Recordings cannot be redacted (the names are spoken), so a redacted export leaves audio out.

Writes are atomic: a private temporary file in the target folder, then ``os.replace``; the
file is 0600 because it holds the user's answers.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, Literal, cast

from coach import __version__
from coach.errors import CoachError
from coach.history import question_lookup
from coach.mentor import (
    MENTOR_CSS,
    html_after_main,
    html_earlier,
    markdown_block,
    markdown_earlier,
    markdown_tail,
    rubric_view,
    session_marker,
)
from coach.questions import Question
from coach.store import Attempt, Store

Format = Literal["md", "html", "json"]
FORMATS: Final[tuple[str, ...]] = ("md", "html", "json")
SCHEMA_VERSION: Final = 1
PLACEHOLDER: Final = "[redacted]"
_MIME: Final = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
}
_STAT_LABELS: Final = (
    ("duration_s", "Length", "{:.0f} s"),
    ("words", "Words", "{}"),
    ("wpm", "Pace", "{:.0f} words/min"),
    ("fillers", "Fillers", "{}"),
    ("long_pauses", "Long pauses", "{}"),
    ("hedges", "Hedges", "{}"),
    ("sentences", "Sentences", "{}"),
)


# --- redaction ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Redactor:
    """Replaces names case-insensitively; maps offsets of the original text to the new one."""

    pattern: re.Pattern[str] | None

    @classmethod
    def for_names(cls, names: Iterable[str], words: Iterable[str] = ()) -> Redactor:
        """``names`` match anywhere, also inside longer words; ``words`` only as whole words.

        The patient-detail guard's findings are whole words ("Eli"), which must not cut
        "delivery" apart; names the user types keep erring on the side of privacy.
        """
        whole = {" ".join(w.split()) for w in words if w and w.strip()}
        cleaned = sorted({" ".join(n.split()) for n in names if n and n.strip()} | whole, key=len)
        if not cleaned:
            return cls(None)
        short = [n for n in cleaned if len(n) < 2]
        if short:
            raise CoachError(
                f"cannot redact {short[0]!r}: a name must have at least 2 characters",
                "give whole names, e.g. --redact 'Dr. Okafor'",
            )
        # Longest first so "Jane Doe" wins over "Jane"; any run of spaces matches a space.
        alternatives = [
            r"\s+".join(re.escape(part) for part in n.split()) for n in reversed(cleaned)
        ]
        alternatives = [
            rf"(?<!\w){alt}(?!\w)" if n in whole else alt
            for n, alt in zip(reversed(cleaned), alternatives, strict=True)
        ]
        return cls(re.compile("|".join(alternatives), re.IGNORECASE))

    @property
    def active(self) -> bool:
        return self.pattern is not None

    def text(self, value: str) -> str:
        return self.pattern.sub(PLACEHOLDER, value) if self.pattern else value

    def with_offsets(self, value: str) -> tuple[str, Callable[[int, bool], int]]:
        """The redacted text and a function mapping an old offset to the new text.

        An offset inside a redacted name snaps to the start of the placeholder (for a span
        start) or its end (for a span end), so a span never cuts the placeholder in half.
        """
        if not self.pattern:
            return value, lambda i, _end: i
        matches = [(m.start(), m.end()) for m in self.pattern.finditer(value)]
        new = self.pattern.sub(PLACEHOLDER, value)
        return new, _offset_mapper(matches)

    def words(self, words: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Redact a run of timed words so names split across words are caught too.

        The words' texts are joined (they carry their own leading spaces), redacted as one
        string, and each word keeps the part of the result that falls in its own span; the
        placeholder goes to the word where the name starts.
        """
        if not self.pattern:
            return [dict(w) for w in words]
        joined = "".join(str(w["text"]) for w in words)
        matches = [(m.start(), m.end()) for m in self.pattern.finditer(joined)]
        out = []
        pos = 0
        for w in words:
            text = str(w["text"])
            start = pos
            pos += len(text)
            pieces = []
            for i, ch in enumerate(text, start):
                hit = next((m for m in matches if m[0] <= i < m[1]), None)
                if hit is None:
                    pieces.append(ch)
                elif i == hit[0]:
                    pieces.append(PLACEHOLDER)
            new = dict(w)
            new["text"] = "".join(pieces)
            out.append(new)
        return out


def _offset_mapper(matches: list[tuple[int, int]]) -> Callable[[int, bool], int]:
    delta = len(PLACEHOLDER)

    def mapping(i: int, is_end: bool) -> int:
        shift = 0
        for start, end in matches:
            if i <= start:
                break
            if i < end:  # inside a redacted name: snap to the placeholder's edge
                return start + shift + (delta if is_end else 0)
            shift += delta - (end - start)
        return i + shift

    return mapping


def _redact_tree(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, list):
        return [_redact_tree(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v, redactor) for k, v in value.items()}
    return value


# --- the document ---------------------------------------------------------------------------
def build_document(
    store: Store,
    session_id: int | str,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    lookup: Callable[[str | None], Question | None] | None = None,
    redact_words: Sequence[str] = (),
) -> dict[str, Any]:
    """The export as a JSON-ready dict (what the JSON format writes verbatim).

    ``redact`` names are replaced anywhere, ``redact_words`` (the guard's findings) only as
    whole words.
    """
    session = store.resolve_session(session_id)
    redactor = Redactor.for_names(redact, redact_words)
    find = lookup or question_lookup()
    with_audio = include_audio and not redactor.active
    attempts = [
        _attempt_doc(store, a, find(a.question_id), redactor, with_audio)
        for a in store.attempts(session_id=session.id)
    ]
    # Comments mentors sent back (coach import-comments), shown in later exports.
    comments = [_redact_tree(c.to_dict(), redactor) for c in store.comments(session.id)]
    for a_doc in attempts:
        a_doc["mentor_comments"] = [c for c in comments if c["attempt_id"] == a_doc["id"]]
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator": f"medpeds-interview-coach {__version__}",
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "redacted": redactor.active,
        "audio": "included"
        if with_audio
        else ("omitted: redacted" if include_audio else "omitted"),
        "session": _redact_tree(session.to_dict(), redactor),
        "attempts": attempts,
        "mentor_notes": [c for c in comments if c["attempt_id"] is None],
        "rubric": _redact_tree(rubric_view(), redactor),
    }
    return doc


def _attempt_doc(
    store: Store,
    a: Attempt,
    question: Question | None,
    redactor: Redactor,
    with_audio: bool,
) -> dict[str, Any]:
    text, remap = redactor.with_offsets(a.text)
    criteria = []
    for c in a.report.criteria:
        evidence = []
        for e in c.evidence:
            start = max(0, min(len(a.text), e.start))
            end = max(start, min(len(a.text), e.end))
            new_start, new_end = remap(start, False), remap(end, True)
            evidence.append(
                {
                    "start": new_start,
                    "end": new_end,
                    "text": text[new_start:new_end],
                    "effect": e.effect,
                    "reason": redactor.text(e.reason),
                }
            )
        criteria.append(
            {
                "id": c.id,
                "name": redactor.text(c.name),
                "score": round(c.score, 1),
                "passed": c.passed,
                "feedback": redactor.text(c.feedback),
                "weight": c.weight,
                "evidence": evidence,
            }
        )
    transcript = None
    if a.transcript is not None:
        t = a.transcript.to_dict()
        segments = []
        for s in t["segments"]:
            segments.append(
                {
                    **s,
                    "text": redactor.text(s["text"]),
                    "words": redactor.words(s["words"]),
                }
            )
        transcript = {
            "text": redactor.text(t["text"]),
            "duration_s": t["duration_s"],
            "engine": t["engine"],
            "model": t["model"],
            "segments": segments,
        }
    audio: dict[str, Any] | None = None
    if with_audio and a.audio_path is not None:
        audio = {
            "path": str(a.audio_path),
            "exists": a.audio_path.is_file(),
            "mime": _MIME.get(a.audio_path.suffix.lower(), "audio/wav"),
        }
    previous = store.previous_attempt(a.question_id, a.id) if a.question_id else None
    q_doc: dict[str, Any] = {
        "id": a.question_id,
        "category": a.category,
        "text": question.text if question else None,
        "tips": list(question.tips) if question else [],
        "pitfalls": list(question.pitfalls) if question else [],
    }
    return {
        "id": a.id,
        "mode": a.mode,
        "created_at": a.created_at.isoformat(timespec="seconds"),
        "duration_s": None if a.duration_s is None else round(a.duration_s, 2),
        "engine": a.engine,
        "model": a.model,
        "question": _redact_tree(q_doc, redactor),
        "text": text,
        "overall": round(a.overall, 1),
        "previous_overall": round(previous.overall, 1) if previous else None,
        "criteria": criteria,
        "stats": a.report.stats.to_dict(),
        "tips": [redactor.text(t) for t in a.report.tips],
        "transcript": transcript,
        "audio": _redact_tree(audio, redactor),
    }


# --- renderers ------------------------------------------------------------------------------
def export_session(
    store: Store,
    session_id: int | str,
    fmt: str,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    redact_words: Sequence[str] = (),
) -> str:
    """The session (an id or ``"latest"``) rendered as ``md``, ``html`` or ``json`` text."""
    fmt = _check_format(fmt)
    doc = build_document(
        store, session_id, include_audio=include_audio, redact=redact, redact_words=redact_words
    )
    return render(doc, fmt)


def render(doc: dict[str, Any], fmt: str) -> str:
    """Render a :func:`build_document` dict."""
    fmt = _check_format(fmt)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(doc)
    return _html(doc)


def write_export(
    store: Store,
    session_id: int | str,
    fmt: str,
    out: Path,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    redact_words: Sequence[str] = (),
) -> Path:
    """Export to ``out`` atomically (0600); a folder gets the default file name. Returns the file."""
    fmt = _check_format(fmt)
    doc = build_document(
        store, session_id, include_audio=include_audio, redact=redact, redact_words=redact_words
    )
    out = Path(out).expanduser()
    if out.is_dir():
        out = out / default_export_name(int(doc["session"]["id"]), fmt)
    atomic_write(out, render(doc, fmt))
    return out


def default_export_name(session_id: int, fmt: str) -> str:
    """``coach-session-12.html``: no names or dates that could identify the user."""
    return f"coach-session-{session_id}.{_check_format(fmt)}"


def default_export_path(session_id: int, fmt: str, directory: Path | None = None) -> Path:
    """Where the app saves an export: ``directory``, else ~/Documents if it exists, else ~."""
    if directory is None:
        home = Path.home()
        directory = home / "Documents" if (home / "Documents").is_dir() else home
    return directory / default_export_name(session_id, fmt)


def atomic_write(out: Path, content: str) -> None:
    """Write ``content`` to ``out`` via a private temporary file and ``os.replace``."""
    folder = out.parent
    if not folder.is_dir():
        raise CoachError(
            f"cannot write {out}: the folder {folder} does not exist",
            "create it first or choose another --out",
        )
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise CoachError(
            f"cannot write in {folder}: {exc.strerror or exc}",
            "check the folder's permissions or choose another --out",
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CoachError(
            f"cannot write {out}: {exc.strerror or exc}",
            "check free disk space and permissions; nothing was changed",
        ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_format(fmt: str) -> Format:
    value = fmt.lower().lstrip(".")
    if value == "markdown":
        value = "md"
    if value not in FORMATS:
        raise CoachError(f"unknown export format {fmt!r}", "use md, html or json")
    return cast(Format, value)


def _fmt_stat(key: str, value: Any, pattern: str) -> str:
    try:
        return pattern.format(value)
    except (ValueError, TypeError):
        return str(value)


def _stats_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (label, _fmt_stat(key, stats[key], pattern))
        for key, label, pattern in _STAT_LABELS
        if stats.get(key) is not None
    ]


def _delta(a: dict[str, Any]) -> str:
    prev = a.get("previous_overall")
    if prev is None:
        return ""
    diff = a["overall"] - prev
    return f" ({'+' if diff >= 0 else '−'}{abs(diff):.0f} since last time)"


def _session_title(doc: dict[str, Any]) -> str:
    s = doc["session"]
    return f"Practice session {s['id']} ({s['mode']}), {s['started_at'][:10]}"


# Markdown -----------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


def _markdown(doc: dict[str, Any]) -> str:
    s = doc["session"]
    lines = [
        f"# {_md_escape(_session_title(doc))}",
        "",
        f"- Answers: {len(doc['attempts'])}"
        + (f", best {s['best']:.0f}, mean {s['mean']:.0f}" if s.get("best") is not None else ""),
        f"- Exported: {doc['exported_at']} by {doc['generator']}",
    ]
    if doc["redacted"]:
        lines.append("- Names were redacted; recordings are left out.")
    lines += ["", session_marker(s["id"], s["started_at"])]
    lines.append("")
    for n, a in enumerate(doc["attempts"], 1):
        q = a["question"]
        lines += [
            f"## {n}. {_md_escape(q['text'] or q['id'] or 'Free answer')}",
            "",
            f"*{_md_escape(q['category'] or '')} · {a['mode']} · {a['created_at']}*"
            + (f" · question `{q['id']}`" if q["id"] else ""),
            "",
            f"**Overall: {a['overall']:.0f}/100**{_delta(a)}",
            "",
            "| Criterion | Score | Result | Feedback |",
            "|---|---:|---|---|",
        ]
        for c in a["criteria"]:
            lines.append(
                f"| {_md_escape(c['name'])} | {c['score']:.0f} | "
                f"{'pass' if c['passed'] else 'work on it'} | {_md_escape(c['feedback'])} |"
            )
        lines += ["", "### Answer", ""]
        lines += [f"> {_md_escape(line)}" if line else ">" for line in a["text"].splitlines()]
        evidence = [(c["name"], e) for c in a["criteria"] for e in c["evidence"]]
        if evidence:
            lines += ["", "### What earned or cost points", ""]
            for name, e in evidence:
                sign = "+" if e["effect"] == "+" else "−"
                reason = f": {_md_escape(e['reason'])}" if e["reason"] else ""
                lines.append(f"- {sign} “{_md_escape(e['text'])}” ({_md_escape(name)}){reason}")
        rows = _stats_rows(a["stats"])
        if rows:
            lines += ["", "### Delivery", ""]
            lines += [f"- {label}: {value}" for label, value in rows]
        tips = a["question"]["tips"] or a["tips"]
        if tips:
            lines += ["", "### Tips for this question", ""]
            lines += [f"- {_md_escape(t)}" for t in tips]
        if a["audio"]:
            lines += ["", f"Recording: `{a['audio']['path']}`"]
        lines += ["", "### Mentor comments", ""]
        lines += markdown_earlier(a.get("mentor_comments", []), _md_escape)
        lines += [*markdown_block(f"answer={a['id']}"), "", "---", ""]
    lines += markdown_tail(doc, _md_escape)
    return "\n".join(lines).rstrip() + "\n"


# HTML ---------------------------------------------------------------------------------------
_CSS: Final = """
:root { --plus: #d7f5dc; --plus-b: #1e7b34; --minus: #fde0e0; --minus-b: #b3261e; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
  max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 0; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, .muted { color: #555; font-size: .9rem; }
article { border: 1px solid #ccc; border-radius: 8px; padding: 1rem 1.2rem; margin: 1.5rem 0; }
.overall { font-size: 1.2rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e3e3;
  vertical-align: top; }
td.score { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pass { color: var(--plus-b); } .fail { color: var(--minus-b); }
.transcript { background: #fafafa; border-left: 4px solid #bbb; padding: .6rem .9rem;
  white-space: pre-wrap; }
mark { padding: 0 .1em; border-radius: 3px; color: inherit; }
mark.plus { background: var(--plus); border-bottom: 2px solid var(--plus-b); }
mark.minus { background: var(--minus); border-bottom: 2px solid var(--minus-b); }
mark.mixed { background: #fff1c2; border-bottom: 2px dashed #8a6d00; }
.legend mark { font-size: .85rem; }
ul.evidence { padding-left: 1.2rem; }
.stats { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; padding: 0; list-style: none; }
.stats b { font-variant-numeric: tabular-nums; }
.mentor { min-height: 7rem; border: 1px dashed #999; border-radius: 6px; padding: .5rem;
  background: #fffef6; }
.mentor:empty::before { content: "Mentor comments…"; color: #999; }
audio { width: 100%; margin-top: .5rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  article { break-inside: avoid-page; page-break-inside: avoid; border-color: #999; }
  article + article { break-before: page; page-break-before: always; }
  audio, .noprint { display: none; }
  mark.plus { background: none; border-bottom: 2px solid #000; }
  mark.minus { background: none; border-bottom: 2px dotted #000; }
  mark.plus::before { content: "[+"; font-size: .75em; }
  mark.minus::before { content: "[−"; font-size: .75em; }
  mark.plus::after, mark.minus::after { content: "]"; font-size: .75em; }
  .mentor { min-height: 12rem; background: none; }
  .mentor:empty::before { content: ""; }
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def highlight_html(text: str, criteria: Sequence[dict[str, Any]]) -> str:
    """The answer with evidence spans wrapped in ``<mark>`` (+ green, − red, reasons as title)."""
    spans = []
    for c in criteria:
        for e in c["evidence"]:
            if 0 <= e["start"] < e["end"] <= len(text):
                spans.append((e["start"], e["end"], e["effect"], c["name"], e["reason"]))
    cuts = sorted({0, len(text), *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    out = []
    for lo, hi in pairwise(cuts):
        covering = [s for s in spans if s[0] <= lo and hi <= s[1]]
        piece = _e(text[lo:hi])
        if not covering:
            out.append(piece)
            continue
        effects = {s[2] for s in covering}
        cls = "mixed" if len(effects) > 1 else ("plus" if "+" in effects else "minus")
        title = "; ".join(
            f"{'+' if s[2] == '+' else '−'} {s[3]}" + (f": {s[4]}" if s[4] else "")
            for s in covering
        )
        out.append(f'<mark class="{cls}" title="{_e(title)}">{piece}</mark>')
    return "".join(out)


def _audio_html(audio: dict[str, Any] | None) -> str:
    if not audio:
        return ""
    path = Path(audio["path"])
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return '<p class="muted noprint">The recording is no longer on this computer.</p>'
    return f'<audio controls preload="none" src="data:{_e(audio["mime"])};base64,{data}"></audio>'


def _html(doc: dict[str, Any]) -> str:
    s = doc["session"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="' + _e(doc["generator"]) + '">',
        f"<title>{_e(_session_title(doc))}</title>",
        f"<style>{_CSS}{MENTOR_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(_session_title(doc))}</h1>",
        '<p class="meta">'
        + f"{len(doc['attempts'])} answer{'s' if len(doc['attempts']) != 1 else ''}"
        + (f" · best {s['best']:.0f} · mean {s['mean']:.0f}" if s.get("best") is not None else "")
        + f" · exported {_e(doc['exported_at'])}"
        + (" · names redacted" if doc["redacted"] else "")
        + "</p>",
        '<p class="legend meta">Highlights: <mark class="plus">earned points</mark> '
        '<mark class="minus">cost points</mark> <mark class="mixed">both</mark>; '
        "hover a highlight for the reason.</p>",
        "</header>",
        f'<main data-session-id="{_e(s["id"])}" data-session-started="{_e(s["started_at"])}">',
    ]
    for n, a in enumerate(doc["attempts"], 1):
        parts.append(_attempt_html(n, a))
    parts += [
        "</main>",
        html_after_main(doc),
        f'<footer class="meta"><p>Made offline by {_e(doc["generator"])}. '
        "Private: share only with people you trust.</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _attempt_html(n: int, a: dict[str, Any]) -> str:
    q = a["question"]
    title = q["text"] or q["id"] or "Free answer"
    rows = "".join(
        "<tr>"
        f"<td>{_e(c['name'])}</td>"
        f'<td class="score">{c["score"]:.0f}</td>'
        f'<td class="{"pass" if c["passed"] else "fail"}">'
        f"{'pass' if c['passed'] else 'work on it'}</td>"
        f"<td>{_e(c['feedback'])}</td>"
        "</tr>"
        for c in a["criteria"]
    )
    evidence = "".join(
        f'<li><mark class="{"plus" if e["effect"] == "+" else "minus"}">{_e(e["text"])}</mark> '
        f'<span class="muted">{_e(c["name"])}</span>'
        + (f" — {_e(e['reason'])}" if e["reason"] else "")
        + "</li>"
        for c in a["criteria"]
        for e in c["evidence"]
    )
    stats = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in _stats_rows(a["stats"]))
    tips = q["tips"] or a["tips"]
    tips_html = "".join(f"<li>{_e(t)}</li>" for t in tips)
    pitfalls_html = "".join(f"<li>{_e(t)}</li>" for t in q["pitfalls"])
    meta = " · ".join(
        _e(x)
        for x in (
            q["category"],
            a["mode"],
            a["created_at"].replace("T", " "),
            f"question {q['id']}" if q["id"] else "",
            f"{a['engine']} {a['model']}".strip(),
        )
        if x
    )
    return "\n".join(
        [
            f'<article id="answer-{a["id"]}" data-attempt-id="{a["id"]}">',
            f"<h2>{n}. {_e(title)}</h2>",
            f'<p class="meta">{meta}</p>',
            f'<p class="overall">Overall {a["overall"]:.0f}/100{_e(_delta(a))}</p>',
            "<table><thead><tr><th>Criterion</th><th>Score</th><th>Result</th>"
            f"<th>Feedback</th></tr></thead><tbody>{rows}</tbody></table>",
            "<h3>Answer</h3>",
            f'<div class="transcript">{highlight_html(a["text"], a["criteria"])}</div>',
            _audio_html(a["audio"]),
            f'<h3>What earned or cost points</h3><ul class="evidence">{evidence}</ul>'
            if evidence
            else "",
            f'<h3>Delivery</h3><ul class="stats">{stats}</ul>' if stats else "",
            f"<h3>Tips for this question</h3><ul>{tips_html}</ul>" if tips_html else "",
            f"<h3>Pitfalls</h3><ul>{pitfalls_html}</ul>" if pitfalls_html else "",
            "<h3>Mentor comments</h3>",
            html_earlier(a.get("mentor_comments", [])),
            '<div class="mentor" contenteditable="true" role="textbox" aria-multiline="true" '
            f'aria-label="Mentor comments on answer {n}"></div>',
            "</article>",
        ]
    )
