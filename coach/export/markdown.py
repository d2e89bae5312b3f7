"""The export as Markdown: headings per answer, a score table, the answer quoted, evidence."""

from __future__ import annotations

import re

from coach.export.document import ExportDocument, StoryDoc
from coach.mentor import markdown_block, markdown_earlier, markdown_tail, session_marker


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


def to_markdown(doc: ExportDocument) -> str:
    s = doc.session
    lines = [
        f"# {_md_escape(doc.title)}",
        "",
        f"- Answers: {len(doc.attempts)}"
        + (
            f", best {s.best:.0f}, mean {s.mean:.0f}"
            if s.best is not None and s.mean is not None
            else ""
        ),
        f"- Exported: {doc.exported_at} by {doc.generator}",
    ]
    if doc.redacted:
        lines.append("- Names were redacted; recordings are left out.")
    if doc.with_story:
        lines.append("- With the applicant's story checklist: which story points each answer said.")
    lines += ["", session_marker(s.id, s.started_at)]
    lines.append("")
    for n, a in enumerate(doc.attempts, 1):
        q = a.question
        lines += [
            f"## {n}. {_md_escape(q.text or q.id or 'Free answer')}",
            "",
            f"*{_md_escape(q.category or '')} · {a.mode} · {a.created_at}*"
            + (f" · question `{q.id}`" if q.id else ""),
            "",
            f"**Overall: {a.overall:.0f}/100**{a.delta}",
            "",
            "| Criterion | Score | Result | Feedback |",
            "|---|---:|---|---|",
        ]
        for c in a.criteria:
            lines.append(
                f"| {_md_escape(c.name)} | {c.score:.0f} | "
                f"{'pass' if c.passed else 'work on it'} | {_md_escape(c.feedback)} |"
            )
        lines += ["", "### Answer", ""]
        lines += [f"> {_md_escape(line)}" if line else ">" for line in a.text.splitlines()]
        if a.story is not None:
            lines += ["", "### Your story", ""]
            lines += _story_lines(a.story)
        evidence = [(c.name, e) for c in a.criteria for e in c.evidence]
        if evidence:
            lines += ["", "### What earned or cost points", ""]
            for name, e in evidence:
                sign = "+" if e.effect == "+" else "−"
                reason = f": {_md_escape(e.reason)}" if e.reason else ""
                lines.append(f"- {sign} “{_md_escape(e.text)}” ({_md_escape(name)}){reason}")
        rows = a.stats_rows
        if rows:
            lines += ["", "### Delivery", ""]
            lines += [f"- {label}: {value}" for label, value in rows]
        tips = q.tips or a.tips
        if tips:
            lines += ["", "### Tips for this question", ""]
            lines += [f"- {_md_escape(t)}" for t in tips]
        if a.audio:
            lines += ["", f"Recording: `{a.audio.path}`"]
        lines += ["", "### Mentor comments", ""]
        lines += markdown_earlier(list(a.mentor_comments), _md_escape)
        lines += [*markdown_block(f"answer={a.id}"), "", "---", ""]
    lines += markdown_tail(list(doc.mentor_notes), doc.rubric, _md_escape)
    return "\n".join(lines).rstrip() + "\n"


def _story_lines(story: StoryDoc) -> list[str]:
    """Said (with the sentence), not said, and each contradiction with both quotes."""
    lines = [
        f"- Said: {_md_escape(p.label)} — “{_md_escape(p.quote)}”"
        if p.quote
        else f"- Said: {_md_escape(p.label)}"
        for p in story.said_points
    ]
    lines += [f"- Not said: {_md_escape(p.label)}" for p in story.not_said_points]
    lines += [f"- One story: {_md_escape(f.message)}" for f in story.flags]
    return lines or ["- No story points for this question."]
