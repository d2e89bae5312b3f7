"""Mentor comments that come back, and a mentor's view of how the coach scores.

An export carries its session's identity (id and start time). The HTML export lets a mentor
type a comment under each answer and an overall note in any browser, offline, and save them
with a button as a small JSON file (a Blob download made in the page: no server, no network).
The Markdown export has marked comment sections to fill in a text editor::

    <!-- coach:session id=3 started=2026-01-05T09:00:00+00:00 -->
    <!-- coach:comments answer=12 -->
    ...the mentor writes here...
    <!-- coach:end -->

:func:`read_comment_file` reads either back (checking shape and size) and :func:`import_comments`
stores them with the right session and answers, refusing a file from another session. Earlier
comments are never changed; an identical comment is not added twice.

:func:`rubric_view` is the rubric version and each criterion's definition and pass mark, so a
mentor knows what "factual tone 70" means.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from coach.errors import CoachError
from coach.store import MentorComment, Store

FILE_FORMAT: Final = "medpeds-coach-comments"
FILE_VERSION: Final = 1
MAX_BYTES: Final = 5_000_000  # an export with embedded audio is bigger; comments never are
MAX_COMMENT_CHARS: Final = 20_000

# In the project's own words: what each criterion listens for.
DEFINITIONS: Final[dict[str, str]] = {
    "brevity": "Says it in the time and words the question deserves: the setback in two or three "
    "sentences, then a pivot; long dwelling on what went wrong costs points.",
    "factual_tone": "States facts without blaming programs, the Match or people, without venting, "
    "self-pity, excuses or defensiveness, and owns the outcome in the first person.",
    "growth_focus": "Shows what was learned and what changed: concrete actions since (a new role, "
    "letters, a sub-internship, research, QI, a passed retake), a plan ahead and a pivot to "
    "strengths.",
    "content": "Covers what this kind of question needs, specifically (for example, why combined "
    "Medicine-Pediatrics training and not just liking adults and children).",
    "delivery": "For spoken answers: pace between about 110 and 175 words a minute, few fillers, "
    "no long pauses, few hedges.",
}

_SESSION_MARK = re.compile(r"<!--\s*coach:session\s+id=(\d+)\s+started=(\S+)\s*-->")
_BLOCK = re.compile(
    r"<!--\s*coach:comments\s+(answer=(\d+)|overall|mentor)\s*-->(.*?)<!--\s*coach:end\s*-->",
    re.DOTALL,
)


# --- what the export shows ----------------------------------------------------------------
def rubric_view() -> dict[str, Any]:
    """The rubric version, its files and each criterion's name, pass mark and definition."""
    from coach.scoring.rubric import load_rubric, rubric_files

    versions: dict[str, Any] = {}
    for path in rubric_files():
        try:
            versions[path.name] = tomllib.loads(path.read_text(encoding="utf-8")).get("version")
        except (OSError, tomllib.TOMLDecodeError):
            versions[path.name] = None
    criteria = []
    try:
        rubric = load_rubric()
    except CoachError:
        rubric = None
    for cid, definition in DEFINITIONS.items():
        spec = rubric.criteria.get(cid) if rubric else None
        criteria.append(
            {
                "id": cid,
                "name": spec.name if spec else cid.replace("_", " ").capitalize(),
                "pass_mark": spec.threshold if spec else None,
                "definition": definition,
            }
        )
    version = max((v for v in versions.values() if isinstance(v, int)), default=None)
    return {"version": version, "files": versions, "criteria": criteria}


def session_marker(session_id: int, started_at: str) -> str:
    return f"<!-- coach:session id={session_id} started={started_at} -->"


def markdown_block(key: str) -> list[str]:
    """A marked section for the mentor to write in (``answer=12``, ``overall``, ``mentor``)."""
    return [
        f"<!-- coach:comments {key} -->",
        "",
        "<!-- coach:end -->",
    ]


# --- reading comments back ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CommentFile:
    """What a mentor sent back, before it is checked against the history."""

    session_id: int
    session_started: str
    mentor: str
    overall: str
    answers: dict[int, str]
    source: str  # "html" (the saved JSON) or "md"


def read_comment_file(path: Path) -> CommentFile:
    """Parse the JSON the HTML page saved, or a filled-in Markdown export."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CoachError(
                f"{path} is {size // 1_000_000} MB, too large for a comments file",
                "give the .json the mentor saved or the .md they filled in",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise CoachError(
            f"cannot read {path}: {exc.strerror or exc}", "check the file name and try again"
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CoachError(
            f"{path} is not text (not a comments file from the coach)",
            "give the .json the mentor saved or the .md they filled in",
        ) from None
    if text.lstrip().startswith("{"):
        return _from_json(path, text)
    if _SESSION_MARK.search(text):
        return _from_markdown(text)
    raise CoachError(
        f"{path} is not a comments file from the coach (no session marker)",
        "give the .json the mentor saved or the .md export they filled in",
    )


def _bad(path: Path, what: str) -> CoachError:
    return CoachError(
        f"{path} is not a valid comments file ({what})",
        "ask the mentor to save the comments again from the exported page; nothing was imported",
    )


def _from_json(path: Path, text: str) -> CommentFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"broken JSON at line {exc.lineno}") from None
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise _bad(path, f"'format' is not {FILE_FORMAT!r}")
    if data.get("version") != FILE_VERSION:
        raise _bad(path, f"version {data.get('version')!r}; this coach reads {FILE_VERSION}")
    sid, started = data.get("session_id"), data.get("session_started_at")
    if isinstance(sid, bool) or not isinstance(sid, int) or not isinstance(started, str):
        raise _bad(path, "no session id and start time")
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise _bad(path, "'answers' is not a table")
    parsed: dict[int, str] = {}
    for key, value in answers.items():
        if not str(key).isdigit() or not isinstance(value, str):
            raise _bad(path, f"answer {key!r}")
        parsed[int(key)] = value
    overall, mentor = data.get("overall", ""), data.get("mentor", "")
    if not isinstance(overall, str) or not isinstance(mentor, str):
        raise _bad(path, "'overall' and 'mentor' must be text")
    return CommentFile(sid, started, mentor.strip()[:200], overall, parsed, "html")


def _from_markdown(text: str) -> CommentFile:
    mark = _SESSION_MARK.search(text)
    assert mark is not None
    answers: dict[int, str] = {}
    overall = mentor = ""
    for block in _BLOCK.finditer(text):
        body = block.group(3)
        if block.group(2):
            answers[int(block.group(2))] = body
        elif block.group(1) == "overall":
            overall = body
        else:
            mentor = body
    return CommentFile(
        int(mark.group(1)), mark.group(2), " ".join(mentor.split())[:200], overall, answers, "md"
    )


@dataclass(frozen=True, slots=True)
class ImportResult:
    session_id: int
    added: int
    already: int  # identical comments that were there before


def import_comments(store: Store, path: Path) -> ImportResult:
    """Store the comments of ``path`` with their session; refuses another session's file."""
    sent = read_comment_file(path)
    try:
        session = store.session(sent.session_id)
    except CoachError:
        session = None
    if session is None or session.started_at.isoformat() != sent.session_started:
        raise CoachError(
            f"{path} has comments for another session (session {sent.session_id} started "
            f"{sent.session_started[:16].replace('T', ' ')}), not one in this history",
            "import it on the computer that made the export; nothing was imported",
        )
    own = {a.id for a in store.attempts(session_id=session.id)}
    for attempt_id in sent.answers:
        if attempt_id not in own:
            raise CoachError(
                f"{path} has a comment on answer {attempt_id}, which is not in session "
                f"{session.id}",
                "the file was changed or mixed up with another export; nothing was imported",
            )
    comments = [
        MentorComment(session.id, aid, _clean(body), sent.mentor, sent.source)
        for aid, body in sorted(sent.answers.items())
        if _clean(body)
    ]
    if _clean(sent.overall):
        comments.append(
            MentorComment(session.id, None, _clean(sent.overall), sent.mentor, sent.source)
        )
    added = store.add_comments(comments) if comments else 0
    return ImportResult(session.id, added, len(comments) - added)


def _clean(body: str) -> str:
    """Trimmed, at most MAX_COMMENT_CHARS, with the editor's stray blank lines removed."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)[:MAX_COMMENT_CHARS]


# --- rendering (used by coach.export) -----------------------------------------------------
MENTOR_CSS: Final = """
.earlier { border-left: 4px solid #6a8caf; background: #f3f7fb; padding: .4rem .8rem;
  margin: .4rem 0; white-space: pre-wrap; }
.earlier .who { color: #555; font-size: .85rem; }
.note-box { width: 100%; min-height: 7rem; font: inherit; padding: .5rem; border-radius: 6px;
  border: 1px dashed #999; background: #fffef6; }
.save-row { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin-top: .6rem; }
.save-row button { font: inherit; padding: .4rem 1rem; }
dl.rubric dt { font-weight: 600; margin-top: .5rem; }
dl.rubric dd { margin: 0 0 0 1rem; }
@media print { .save-row { display: none; } .note-box { min-height: 12rem; background: none; } }
"""

# The Save button's handler: collects the boxes and downloads them as JSON through a Blob URL
# made in the page. No request leaves the browser. Written as an attribute (not a <script>
# element) and in ES5, so it runs offline from a file in any browser. Globals are named through
# `window`: in an attribute handler `URL` is document.URL, a string.
SAVE_JS: Final = (
    "(function(){var d=document,m=d.querySelector('main'),"
    "o={format:'" + FILE_FORMAT + "',version:" + str(FILE_VERSION) + ","
    "session_id:parseInt(m.getAttribute('data-session-id'),10),"
    "session_started_at:m.getAttribute('data-session-started'),"
    "mentor:d.getElementById('mentor-name').value,"
    "overall:d.getElementById('overall-note').value,answers:{},"
    "saved_at:new window.Date().toISOString()};"
    "var arts=d.querySelectorAll('article[data-attempt-id]');"
    "for(var i=0;i<arts.length;i++){var b=arts[i].querySelector('.mentor');"
    "if(b){o.answers[arts[i].getAttribute('data-attempt-id')]=b.innerText||b.textContent||'';}}"
    "var name='coach-comments-session-'+o.session_id+'.json',"
    "blob=new window.Blob([window.JSON.stringify(o,null,2)],{type:'application/json'});"
    "if(window.navigator.msSaveOrOpenBlob){window.navigator.msSaveOrOpenBlob(blob,name);}"
    "else{var u=window.URL.createObjectURL(blob),l=d.createElement('a');l.href=u;"
    "l.download=name;"
    "d.body.appendChild(l);l.click();"
    "window.setTimeout(function(){window.URL.revokeObjectURL(u);d.body.removeChild(l);},1000);}"
    "d.getElementById('save-status').textContent='Saved '+name+' \\u2014 send this file back.';"
    "})();return false;"
)


def _who(c: dict[str, Any]) -> str:
    when = (c.get("imported_at") or "")[:10]
    return f"{c.get('mentor') or 'Mentor'}" + (f", {when}" if when else "")


def html_earlier(comments: list[dict[str, Any]]) -> str:
    """Comments that came back before, shown above the box (never inside it)."""
    from html import escape

    return "".join(
        f'<div class="earlier"><span class="who">{escape(_who(c))}:</span> '
        f"{escape(c['body'])}</div>"
        for c in comments
    )


def html_after_main(notes_in: list[dict[str, Any]], rubric: dict[str, Any] | None) -> str:
    """The overall note, the mentor's name, the Save button, and how the coach scores."""
    from html import escape

    notes = html_earlier(notes_in)
    return "\n".join(
        [
            '<section class="overall-section">',
            "<h2>Overall note for the applicant</h2>",
            notes,
            '<textarea id="overall-note" class="note-box" '
            'aria-label="Overall note for the applicant"></textarea>',
            '<div class="save-row">',
            '<label>Your name (optional) <input id="mentor-name" type="text"></label>',
            f'<button type="button" id="save-comments" onclick="{escape(SAVE_JS)}">'
            "Save comments</button>",
            '<span id="save-status" class="muted">Type in the boxes, then save and send the '
            "file back. Nothing is sent anywhere.</span>",
            "</div>",
            "</section>",
            html_rubric(rubric),
        ]
    )


def html_rubric(rubric: dict[str, Any] | None) -> str:
    from html import escape

    if not rubric:
        return ""
    items = "".join(
        f"<dt>{escape(c['name'])}"
        + (f" (passes at {c['pass_mark']:.0f})" if c.get("pass_mark") is not None else "")
        + f"</dt><dd>{escape(c['definition'])}</dd>"
        for c in rubric["criteria"]
    )
    version = rubric.get("version")
    return (
        '<section class="rubric-section"><h2>How the coach scores</h2>'
        f'<p class="muted">Rubric version {escape(str(version))}. Each criterion scores 0–100; '
        "the overall score is a weighted mean that depends on the question's category.</p>"
        f'<dl class="rubric">{items}</dl></section>'
    )


def markdown_earlier(comments: list[dict[str, Any]], escape_md: Any) -> list[str]:
    out = []
    for c in comments:
        body = escape_md(c["body"]).replace("\n", "\n> ")
        out += [f"> **{escape_md(_who(c))}:** {body}", ""]
    return out


def markdown_tail(
    notes: list[dict[str, Any]], rubric: dict[str, Any] | None, escape_md: Any
) -> list[str]:
    """The overall note and name sections to fill in, then how the coach scores."""
    lines = ["## Overall note for the applicant", ""]
    lines += markdown_earlier(notes, escape_md)
    lines += [
        "Write between the marker lines, save the file and send it back "
        "(the applicant runs `coach import-comments` on it).",
        "",
        *markdown_block("overall"),
        "",
        "Your name (optional):",
        "",
        *markdown_block("mentor"),
        "",
    ]
    if rubric:
        lines += [
            "## How the coach scores",
            "",
            f"Rubric version {rubric.get('version')}. Each criterion scores 0–100; the overall "
            "score is a weighted mean that depends on the question's category.",
            "",
        ]
        for c in rubric["criteria"]:
            mark = f" (passes at {c['pass_mark']:.0f})" if c.get("pass_mark") is not None else ""
            lines.append(f"- **{escape_md(c['name'])}**{mark}: {escape_md(c['definition'])}")
        lines.append("")
    return lines
