"""The export as one self-contained HTML page: inline CSS, embedded recordings, prints well.

No external scripts, styles, fonts or images: CSS is inline, recordings are embedded as
``data:`` URIs, and it prints cleanly (``@media print``). Each answer gets an empty "Mentor
comments" box the mentor can type into in the browser or write on once printed.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from coach.export.document import AttemptDoc, AudioDoc, CriterionDoc, ExportDocument, StoryDoc
from coach.mentor import MENTOR_CSS, html_after_main, html_earlier

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
ul.story { padding-left: 1.2rem; }
.story .said b { color: var(--plus-b); } .story .not-said b { color: #8a6d00; }
.story .flag b { color: var(--minus-b); }
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


def highlight_html(text: str, criteria: Sequence[CriterionDoc]) -> str:
    """The answer with evidence spans wrapped in ``<mark>`` (+ green, − red, reasons as title)."""
    spans = []
    for c in criteria:
        for e in c.evidence:
            if 0 <= e.start < e.end <= len(text):
                spans.append((e.start, e.end, e.effect, c.name, e.reason))
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


def _audio_html(audio: AudioDoc | None) -> str:
    if not audio:
        return ""
    path = Path(audio.path)
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return '<p class="muted noprint">The recording is no longer on this computer.</p>'
    return f'<audio controls preload="none" src="data:{_e(audio.mime)};base64,{data}"></audio>'


def to_html(doc: ExportDocument) -> str:
    s = doc.session
    n_answers = len(doc.attempts)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="' + _e(doc.generator) + '">',
        f"<title>{_e(doc.title)}</title>",
        f"<style>{_CSS}{MENTOR_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(doc.title)}</h1>",
        '<p class="meta">'
        + f"{n_answers} answer{'s' if n_answers != 1 else ''}"
        + (
            f" · best {s.best:.0f} · mean {s.mean:.0f}"
            if s.best is not None and s.mean is not None
            else ""
        )
        + f" · exported {_e(doc.exported_at)}"
        + (" · names redacted" if doc.redacted else "")
        + (" · with the story checklist" if doc.with_story else "")
        + "</p>",
        '<p class="legend meta">Highlights: <mark class="plus">earned points</mark> '
        '<mark class="minus">cost points</mark> <mark class="mixed">both</mark>; '
        "hover a highlight for the reason.</p>",
        "</header>",
        f'<main data-session-id="{_e(s.id)}" data-session-started="{_e(s.started_at)}">',
    ]
    for n, a in enumerate(doc.attempts, 1):
        parts.append(_attempt_html(n, a))
    parts += [
        "</main>",
        html_after_main(list(doc.mentor_notes), doc.rubric),
        f'<footer class="meta"><p>Made offline by {_e(doc.generator)}. '
        "Private: share only with people you trust.</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _attempt_html(n: int, a: AttemptDoc) -> str:
    q = a.question
    title = q.text or q.id or "Free answer"
    rows = "".join(
        "<tr>"
        f"<td>{_e(c.name)}</td>"
        f'<td class="score">{c.score:.0f}</td>'
        f'<td class="{"pass" if c.passed else "fail"}">'
        f"{'pass' if c.passed else 'work on it'}</td>"
        f"<td>{_e(c.feedback)}</td>"
        "</tr>"
        for c in a.criteria
    )
    evidence = "".join(
        f'<li><mark class="{"plus" if e.effect == "+" else "minus"}">{_e(e.text)}</mark> '
        f'<span class="muted">{_e(c.name)}</span>'
        + (f" — {_e(e.reason)}" if e.reason else "")
        + "</li>"
        for c in a.criteria
        for e in c.evidence
    )
    stats = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in a.stats_rows)
    tips = q.tips or a.tips
    tips_html = "".join(f"<li>{_e(t)}</li>" for t in tips)
    pitfalls_html = "".join(f"<li>{_e(t)}</li>" for t in q.pitfalls)
    meta = " · ".join(
        _e(x)
        for x in (
            q.category,
            a.mode,
            a.created_at.replace("T", " "),
            f"question {q.id}" if q.id else "",
            f"{a.engine} {a.model}".strip(),
        )
        if x
    )
    return "\n".join(
        [
            f'<article id="answer-{a.id}" data-attempt-id="{a.id}">',
            f"<h2>{n}. {_e(title)}</h2>",
            f'<p class="meta">{meta}</p>',
            f'<p class="overall">Overall {a.overall:.0f}/100{_e(a.delta)}</p>',
            "<table><thead><tr><th>Criterion</th><th>Score</th><th>Result</th>"
            f"<th>Feedback</th></tr></thead><tbody>{rows}</tbody></table>",
            "<h3>Answer</h3>",
            f'<div class="transcript">{highlight_html(a.text, a.criteria)}</div>',
            _audio_html(a.audio),
            _story_html(a.story),
            f'<h3>What earned or cost points</h3><ul class="evidence">{evidence}</ul>'
            if evidence
            else "",
            f'<h3>Delivery</h3><ul class="stats">{stats}</ul>' if stats else "",
            f"<h3>Tips for this question</h3><ul>{tips_html}</ul>" if tips_html else "",
            f"<h3>Pitfalls</h3><ul>{pitfalls_html}</ul>" if pitfalls_html else "",
            "<h3>Mentor comments</h3>",
            html_earlier(list(a.mentor_comments)),
            '<div class="mentor" contenteditable="true" role="textbox" aria-multiline="true" '
            f'aria-label="Mentor comments on answer {n}"></div>',
            "</article>",
        ]
    )


def _story_html(story: StoryDoc | None) -> str:
    """The story checklist: said (with the sentence), not said, and contradictions."""
    if story is None:
        return ""
    items = [
        f'<li class="said" data-point="{_e(p.id)}"><b>Said:</b> {_e(p.label)}'
        + (f' <span class="muted">— “{_e(p.quote)}”</span>' if p.quote else "")
        + "</li>"
        for p in story.said_points
    ]
    items += [
        f'<li class="not-said" data-point="{_e(p.id)}"><b>Not said:</b> {_e(p.label)}</li>'
        for p in story.not_said_points
    ]
    items += [
        f'<li class="flag" data-kind="{_e(f.kind)}"><b>One story:</b> {_e(f.message)}</li>'
        for f in story.flags
    ]
    if not items:
        items = ['<li class="muted">No story points for this question.</li>']
    return f'<section class="story"><h3>Your story</h3><ul class="story">{"".join(items)}</ul></section>'
