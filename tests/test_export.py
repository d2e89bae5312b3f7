"""Session exports parsed back: HTML with html.parser, JSON validated, Markdown, redaction."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from coach import questions
from coach.errors import CoachError, StoreError
from coach.export import (
    PLACEHOLDER,
    CriterionDoc,
    EvidenceDoc,
    export_session,
    highlight_html,
    write_export,
)
from coach.questions import Question
from coach.store import Store
from tests.history_factories import ANSWER, make_report, make_transcript, make_wav

NAMES = ["Dr. Okafor", "med-peds"]  # a person and, to be thorough, a word in every answer


class Page(HTMLParser):
    """Collects tags, attributes, text per element class, and inline styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_class: dict[str, list[str]] = {}
        self.style = ""
        self.all_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        self.all_text.append(data)
        if self.stack and self.stack[-1][0] == "style":
            self.style += data
        for _, a in self.stack:
            for cls in (a.get("class") or "").split():
                self.text_by_class.setdefault(cls, []).append(data)

    def by_class(self, cls: str) -> str:
        return "".join(self.text_by_class.get(cls, []))


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open() as s:
        sid = s.start_session("mock", {"microphone": "Okafor's USB mic"})
        s.save_attempt(
            sid,
            question_id="fm-explain-01",
            category="failed-match",
            text=ANSWER,
            report=make_report(overall=61.0),
            transcript=make_transcript(),
            audio_path=make_wav(tmp_path / "a1.wav"),
        )
        s.save_attempt(
            sid,
            question_id="fm-explain-01",
            category="failed-match",
            text=ANSWER,
            report=make_report(overall=74.0),
            transcript=make_transcript(),
            audio_path=make_wav(tmp_path / "a2.wav", seconds=0.3),
        )
        s.finish_session(sid)
        yield s


@pytest.fixture
def bank(monkeypatch: pytest.MonkeyPatch) -> Question:
    """Stand in for the question-bank loader (written in parallel) with one question."""
    q = Question(
        id="fm-explain-01",
        category="failed-match",
        text="Why do you think you did not match last cycle? (ask Dr. Okafor)",
        follow_ups=(),
        think_s=10,
        target_min_s=45,
        target_max_s=90,
        hard_limit_s=120,
        tips=("Own the outcome in one sentence.", "Pivot to what changed."),
        pitfalls=("Blaming programs.",),
        example_answer="",
    )
    monkeypatch.setattr(questions, "load_question_bank", lambda: [q], raising=False)
    return q


def test_html_is_self_contained_and_complete(store: Store, bank: Question) -> None:
    page_text = export_session(store, "latest", "html")
    page = parse(page_text)
    tags = [t for t, _ in page.tags]
    assert tags[0] == "html" and "script" not in tags and "link" not in tags
    assert "iframe" not in tags and "img" not in tags
    for tag, attrs in page.tags:
        for key in ("src", "href", "action", "poster"):
            value = attrs.get(key)
            assert value is None or value.startswith("data:"), (tag, key, value[:40])
    assert "@import" not in page.style and "url(" not in page.style
    assert "@media print" in page.style
    # The question, its tips, the transcript, scores, feedback and delivery figures are there.
    assert bank.text in "".join(page.all_text)
    assert "Own the outcome in one sentence." in page.by_class("") or "Own the outcome" in "".join(
        page.all_text
    )
    transcripts = [
        "".join(page.text_by_class.get("transcript", [])),
    ]
    assert transcripts[0] == ANSWER * 2  # two answers, the whole text of each
    text = "".join(page.all_text)
    assert "Overall 61/100" in text and "Overall 74/100 (+13 since last time)" in text
    assert "Growth Focus" in text and "You owned the result" in text
    assert "142 words/min" in text and "Fillers" in text
    # Evidence highlighted: + green with the reason as title, - red.
    marks = [(a.get("class"), a.get("title")) for t, a in page.tags if t == "mark"]
    assert ("plus", "+ Growth Focus: owns the outcome") in marks
    assert ("minus", "− Factual Tone: naming people distracts") in marks
    assert page.by_class("plus").count("took ownership") >= 2
    # One empty mentor box per answer.
    mentors = [a for t, a in page.tags if "mentor" in (a.get("class") or "")]
    assert len(mentors) == 2 and page.by_class("mentor") == ""
    # The recordings are embedded and decode to the stored WAV bytes.
    audios = [a["src"] for t, a in page.tags if t == "audio"]
    assert len(audios) == 2
    stored = [a.audio_path for a in store.attempts()]
    for src, path in zip(audios, stored, strict=True):
        assert src is not None and src.startswith("data:audio/wav;base64,")
        assert path is not None
        assert base64.b64decode(src.split(",", 1)[1]) == path.read_bytes()


def test_html_without_audio_and_without_a_bank(store: Store) -> None:
    page = parse(export_session(store, 1, "html", include_audio=False))
    assert not [t for t, _ in page.tags if t == "audio"]
    text = "".join(page.all_text)
    assert "1. fm-explain-01" in text  # the id stands in for the question text
    assert "Keep it under a minute." in text  # the report's own tips


def _validate(doc: dict[str, Any]) -> None:
    """The documented JSON structure (schema_version 1)."""
    assert doc["schema_version"] == 1
    assert isinstance(doc["exported_at"], str) and isinstance(doc["redacted"], bool)
    s = doc["session"]
    assert {"id", "mode", "started_at", "finished_at", "attempt_count", "best", "mean"} <= set(s)
    for a in doc["attempts"]:
        assert {
            "id", "mode", "created_at", "duration_s", "engine", "model", "question", "text",
            "overall", "previous_overall", "criteria", "stats", "tips", "transcript", "audio",
        } <= set(a)  # fmt: skip
        assert set(a["question"]) == {"id", "category", "text", "tips", "pitfalls"}
        assert isinstance(a["overall"], float) and 0 <= a["overall"] <= 100
        for c in a["criteria"]:
            assert {"id", "name", "score", "passed", "feedback", "weight", "evidence"} <= set(c)
            for e in c["evidence"]:
                assert e["effect"] in ("+", "-")
                assert a["text"][e["start"] : e["end"]] == e["text"]
        t = a["transcript"]
        if t is not None:
            for seg in t["segments"]:
                assert "".join(w["text"] for w in seg["words"]).strip() == seg["text"].strip()
                for w in seg["words"]:
                    assert w["start"] <= w["end"]


def test_json_round_trip(store: Store, bank: Question) -> None:
    doc = json.loads(export_session(store, "latest", "json"))
    _validate(doc)
    assert doc["session"]["settings"] == {"microphone": "Okafor's USB mic"}
    a1, a2 = doc["attempts"]
    assert a1["question"]["text"] == bank.text and a1["question"]["tips"] == list(bank.tips)
    assert (a1["overall"], a2["overall"], a2["previous_overall"]) == (61.0, 74.0, 61.0)
    assert a1["transcript"]["segments"][0]["words"][0] == {
        "start": 0.0, "end": 0.35, "text": "I", "probability": 0.9,
    }  # fmt: skip
    assert Path(a1["audio"]["path"]).is_file() and a1["audio"]["mime"] == "audio/wav"
    assert (
        json.loads(export_session(store, 1, "json", include_audio=False))["attempts"][0]["audio"]
        is None
    )


def test_markdown(store: Store, bank: Question) -> None:
    md = export_session(store, "latest", "md")
    assert md.startswith("# Practice session 1 (mock)")
    assert f"## 1. {bank.text.replace('(', '(')}" in md
    assert "**Overall: 74/100** (+13 since last time)" in md
    assert "| Growth Focus | 75 | pass |" in md
    assert "- + “took ownership” (Growth Focus): owns the outcome" in md
    assert "### Mentor comments" in md and "- Pace: 142 words/min" in md
    paths = re.findall(r"Recording: `([^`]+)`", md)
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)
    assert "Recording:" not in export_session(store, "latest", "md", include_audio=False)


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_redaction_leaves_no_trace(store: Store, bank: Question, fmt: str) -> None:
    out = export_session(store, "latest", fmt, redact=[*NAMES, "OKAFOR"])
    for name in ("okafor", "med-peds", "med peds"):
        assert name not in out.lower(), f"{name} left in {fmt}"
    assert "data:audio" not in out  # the recording speaks the names: left out
    if fmt == "json":
        doc = json.loads(out)
        _validate(doc)  # evidence offsets and word timings still line up
        a = doc["attempts"][0]
        assert a["text"].startswith(
            f"I did not match in {PLACEHOLDER} last year, and {PLACEHOLDER}"
        )
        minus = a["criteria"][1]["evidence"][0]
        assert minus["text"] == f"{PLACEHOLDER} helped me"
        assert a["criteria"][0]["evidence"][0]["text"] == "took ownership"
        assert doc["session"]["settings"]["microphone"] == f"{PLACEHOLDER}'s USB mic"
        assert doc["audio"] == "omitted: redacted"
    if fmt == "html":
        page = parse(out)
        assert page.by_class("minus").startswith(f"cost points{PLACEHOLDER} helped me")


def test_redaction_across_word_timings_and_spacing(store: Store) -> None:
    sid = store.start_session("solo")
    text = "Thanks to DR.  okafor and dr. Okafor-Smith, I grew."
    store.save_attempt(
        sid,
        question_id=None,
        category="free",
        text=text,
        report=make_report(text, question_id=None),
        transcript=make_transcript(text),
    )
    doc = json.loads(export_session(store, sid, "json", redact=["Dr. Okafor"]))
    _validate(doc)
    a = doc["attempts"][0]
    assert a["text"] == f"Thanks to {PLACEHOLDER} and {PLACEHOLDER}-Smith, I grew."
    words = [w["text"] for w in a["transcript"]["segments"][0]["words"]]
    assert words[2] == f" {PLACEHOLDER}" and words[3] == ""  # "DR." + "okafor" -> one placeholder
    assert "okafor" not in json.dumps(doc).lower()


def test_redaction_rejects_one_letter_names(store: Store) -> None:
    with pytest.raises(CoachError, match="at least 2 characters"):
        export_session(store, "latest", "md", redact=["J"])


def test_highlight_overlapping_spans() -> None:
    def criterion(name: str, start: int, end: int, effect: str, reason: str) -> CriterionDoc:
        evidence = EvidenceDoc(start, end, "", effect, reason)
        return CriterionDoc(name.lower(), name, 50.0, True, "", 1.0, (evidence,))

    crit = [criterion("A", 0, 9, "+", "good"), criterion("B", 4, 14, "-", "bad")]
    out = highlight_html("one two three four <b>", crit)
    assert out.startswith('<mark class="plus" title="+ A: good">one </mark>')
    assert '<mark class="mixed" title="+ A: good; − B: bad">two t</mark>' in out
    assert out.endswith("</mark>four &lt;b&gt;")


def test_write_export_is_atomic_and_private(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports" / "mentor.html"
    out.parent.mkdir()
    written = write_export(store, "latest", "html", out)
    assert written == out and out.stat().st_mode & 0o777 == 0o600
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind
    # Into a folder: the default, name-free file name.
    assert write_export(store, 1, "json", out.parent).name == "coach-session-1.json"
    # A failure while writing leaves the previous export as it was and no temporary file.
    before = out.read_bytes()

    def no_space(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(CoachError, match="No space left on device"):
        write_export(store, "latest", "html", out)
    monkeypatch.undo()
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["coach-session-1.json", "mentor.html"]
    with pytest.raises(CoachError, match="does not exist"):
        write_export(store, "latest", "md", tmp_path / "nope" / "x.md")


def test_bad_requests(store: Store) -> None:
    with pytest.raises(CoachError, match="unknown export format"):
        export_session(store, "latest", "pdf")
    with pytest.raises(StoreError, match="no session 99"):
        export_session(store, 99, "md")
    with pytest.raises(StoreError, match="not a session id"):
        export_session(store, "yesterday", "md")
