"""The story checklist in exports (issue 13), on a real history and a saved story.

Only when asked (``coach export --with-story``, ``s`` on the History screen): each answer gets
the story points it said (with the sentence) and left out, and the contradictions it is part
of, with both quotes, in Markdown, HTML and JSON (``schema_version`` 2). Without it nothing
from the story is in any format. The patient-detail guard reads the story's own words too, so
a name that only the story holds is redacted like one in an answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coach import paths
from coach.export import PLACEHOLDER, SCHEMA_VERSION_STORY, export_session
from coach.store import Store
from coach.story import LastCycle, SinceThen, StoryProfile, save_story
from coach.story.coverage import check_coverage
from coach.story.sharing import guard_texts, load_session_story
from tests.coach_process import assert_one_line_error
from tests.history_factories import make_report
from tests.test_cli_history import run
from tests.test_export import parse

STORY = StoryProfile(
    last_cycle=LastCycle(specialties=("Med-Peds",), programs=20),
    reasons=("My list was too narrow.",),
    since=SinceThen(
        role="clinical research coordinator",
        months=12,
        letters=("Dr. Nakamura, pediatrics attending",),
    ),
    backup_plan="Dual applying to Med-Peds and categorical pediatrics.",
    must_say=("transition clinic",),
)
FM = (
    "Last cycle I applied to twenty programs and did not match; my list was too narrow. Since "
    "then I have worked as a clinical research coordinator in a transition clinic."
)
BP = "last year i applied to thirty five programs so this cycle im dual applying to pediatrics"
# In the story only, never in an answer: must not leak without --with-story.
STORY_ONLY = ("Nakamura", "pediatrics attending", "Not said", "Your story", "One story")


@pytest.fixture
def session() -> Iterator[Store]:
    """One session: a failed-match answer and a backup-plan answer that disagree on programs."""
    with Store.open() as store:
        sid = store.start_session("mock")
        for qid, category, text in (
            ("fm-what-happened", "failed-match", FM),
            ("bp-dont-match-again", "backup-plan", BP),
        ):
            report = make_report(text, question_id=qid, category=category)
            store.save_attempt(sid, question_id=qid, category=category, text=text, report=report)
        store.finish_session(sid)
        yield store


@pytest.fixture
def story() -> StoryProfile:
    save_story(STORY)
    return STORY


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_without_the_flag_nothing_from_the_story_is_exported(
    session: Store, story: StoryProfile, fmt: str
) -> None:
    out = export_session(session, "latest", fmt)
    for text in STORY_ONLY:
        assert text.lower() not in out.lower(), f"{text!r} in a {fmt} export without the story"
    assert 'class="story"' not in out and "story checklist" not in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["schema_version"] == 1
        assert all("story" not in a for a in doc["attempts"])


def test_json_carries_coverage_and_flags_per_answer(session: Store, story: StoryProfile) -> None:
    notes = load_session_story(session, "latest")
    doc = json.loads(export_session(session, "latest", "json", story=notes))
    assert doc["schema_version"] == SCHEMA_VERSION_STORY == 2
    fm, bp = doc["attempts"]
    expected = check_coverage("failed-match", FM, story).to_dict()
    assert {k: fm["story"][k] for k in ("category", "said", "not_said", "points")} == expected
    assert fm["story"]["said"] == [
        "reason: My list was too narrow.",
        "20 programs",
        "clinical research coordinator role",
        "transition clinic",
    ]
    assert fm["story"]["not_said"] == ["new letter: Dr. Nakamura, pediatrics attending"]
    role = next(p for p in fm["story"]["points"] if p["id"] == "role")
    assert role["needed"] and role["said"] and "clinical research coordinator" in role["quote"]
    # The contradiction, with both quotes, under both answers it involves.
    (flag,) = fm["story"]["flags"]
    assert bp["story"]["flags"] == [flag]
    assert flag["kind"] == "programs"
    assert flag["first"] == {
        "source": "failed-match answer (fm-what-happened)",
        "quote": "twenty programs",
        "attempt_id": fm["id"],
    }
    assert flag["second"]["quote"] == "thirty five programs"
    assert "'twenty programs'" in flag["message"] and "'thirty five programs'" in flag["message"]
    # Everything else is the version 1 document.
    assert json.loads(export_session(session, "latest", "json"))["attempts"][0]["text"] == FM


def test_markdown_lists_said_not_said_and_contradictions(
    session: Store, story: StoryProfile
) -> None:
    md = export_session(session, "latest", "md", story=load_session_story(session, "latest"))
    assert "- With the applicant's story checklist" in md
    first = md.split("## 2.")[0]
    assert "### Your story" in first
    assert (
        "- Said: clinical research coordinator role — “Since then I have worked as a clinical "
        "research coordinator in a transition clinic.”" in first
    )
    assert "- Not said: new letter: Dr. Nakamura, pediatrics attending" in first
    assert "- One story: In the failed-match answer (fm-what-happened): 'twenty programs'" in first
    assert md.count("- One story:") == 2  # under each answer of the pair


def test_html_has_a_story_section_per_answer(session: Store, story: StoryProfile) -> None:
    html_text = export_session(
        session, "latest", "html", story=load_session_story(session, "latest")
    )
    page = parse(html_text)
    sections = [a for t, a in page.tags if t == "section" and a.get("class") == "story"]
    assert len(sections) == 2
    assert "clinical research coordinator role" in page.by_class("said")
    assert "new letter: Dr. Nakamura, pediatrics attending" in page.by_class("not-said")
    assert "'thirty five programs'" in page.by_class("flag")
    assert "with the story checklist" in page.by_class("meta")
    assert "script" not in [t for t, _ in page.tags]


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_names_redacted_in_the_answers_are_redacted_in_the_story_too(
    session: Store, story: StoryProfile, fmt: str
) -> None:
    notes = load_session_story(session, "latest")
    out = export_session(
        session,
        "latest",
        fmt,
        redact=["research coordinator"],
        redact_words=["Nakamura"],
        story=notes,
    )
    assert "nakamura" not in out.lower() and "research coordinator" not in out.lower()
    shown = out.replace("\\", "")  # Markdown escapes the brackets of the placeholder
    assert f"new letter: Dr. {PLACEHOLDER}, pediatrics attending" in shown
    if fmt == "json":
        fm = json.loads(out)["attempts"][0]
        assert fm["story"]["not_said"] == [f"new letter: Dr. {PLACEHOLDER}, pediatrics attending"]
        role = next(p for p in fm["story"]["points"] if p["id"] == "role")
        assert role["label"] == f"clinical {PLACEHOLDER} role"
        assert PLACEHOLDER in role["quote"] and role["quote"] in fm["text"]


def test_the_guard_reads_the_story_texts_an_export_adds(
    session: Store, story: StoryProfile
) -> None:
    texts = guard_texts(load_session_story(session, "latest"))
    assert (1, "new letter: Dr. Nakamura, pediatrics attending") in texts
    assert not any(FM in t or BP in t for _, t in texts)  # answers are scanned once, as answers


def _cli_json(tmp_path: Path, *extra: str) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / "out.json"
    done = run(["export", "latest", "-f", "json", "-o", str(out), "--force", *extra])
    assert done.returncode == 0, done.stderr
    return done, json.loads(out.read_text(encoding="utf-8"))


def test_cli_with_story_and_the_guard(session: Store, story: StoryProfile, tmp_path: Path) -> None:
    # Without a terminal the guard redacts what it finds, here a name only the story holds.
    done, doc = _cli_json(tmp_path, "--with-story")
    assert doc["schema_version"] == 2 and "Nakamura" not in json.dumps(doc)
    assert doc["attempts"][0]["story"]["not_said"] == [
        f"new letter: {PLACEHOLDER}, pediatrics attending"  # the guard found "Dr. Nakamura"
    ]
    assert "patient-detail guard: redacted 1 person name" in done.stderr
    done, doc = _cli_json(tmp_path, "--with-story", "--keep", "names")
    assert "Dr. Nakamura" in doc["attempts"][0]["story"]["not_said"][0]
    # The default: no story, and the guard had nothing to find in the answers.
    done, doc = _cli_json(tmp_path)
    assert doc["schema_version"] == 1 and "story" not in doc["attempts"][0]
    assert "Nakamura" not in json.dumps(doc) and done.stderr == ""
    md = run(["export", "latest", "-f", "md", "-o", "-", "--with-story"])
    assert md.returncode == 0 and "### Your story" in md.stdout


def test_cli_with_story_but_no_valid_story_is_a_one_line_error(
    session: Store, tmp_path: Path
) -> None:
    out = tmp_path / "never.md"
    assert_one_line_error(
        run(["export", "latest", "-o", str(out), "--with-story"]),
        "there is no story to add",
        "coach story --init",
    )
    (paths.config_dir() / "story.toml").write_text("[last_cycle]\nprograms = 'twenty'\n")
    assert_one_line_error(
        run(["export", "latest", "-o", str(out), "--with-story"]), "story.toml", "programs"
    )
    assert not out.exists()


def test_the_apps_export_with_story_redacts_the_story_too(
    session: Store, story: StoryProfile, tmp_path: Path
) -> None:
    from coach.core import library

    service = library.StoreHistory(library.BankSource(), export_dir=tmp_path)
    try:
        plain = service.export_latest("md").read_text(encoding="utf-8")
        with_story = service.export_latest("md", with_story=True).read_text(encoding="utf-8")
    finally:
        service.store.close()
    assert "### Your story" not in plain and "Nakamura" not in plain
    assert "### Your story" in with_story and "Nakamura" not in with_story
    assert f"- Not said: new letter: {PLACEHOLDER}, pediatrics attending" in with_story.replace(
        "\\", ""
    )


@pytest.mark.tui
def test_history_screen_s_adds_the_story_to_the_next_exports(tmp_path: Path) -> None:
    from coach.settings import Settings
    from coach.tui.app import CoachApp
    from tests.fakes import fake_services
    from tests.test_tui_history_export import SIZE, history_of, open_history, shown

    history = history_of(("fm-explain", "I did not match. I learned from it."))

    async def main() -> None:
        app = CoachApp(fake_services(history=history), Settings(export_dir=str(tmp_path)))
        async with app.run_test(size=SIZE) as pilot:
            await open_history(app, pilot)
            await pilot.press("e")  # off by default
            await app.workers.wait_for_complete()
            await pilot.press("s")
            await pilot.pause()
            assert "include your story checklist" in shown(app, "#export-status")
            await pilot.press("w")
            await app.workers.wait_for_complete()
            await pilot.press("s")
            await pilot.pause()
            assert "leave your story out" in shown(app, "#export-status")
            await pilot.press("e")
            await app.workers.wait_for_complete()
            await pilot.pause()

    asyncio.run(main())
    assert history.exported == ["md", "html", "md"]
    assert history.exported_with_story == [False, True, False]


def test_a_story_export_still_brings_mentor_comments_back(
    session: Store, story: StoryProfile, tmp_path: Path
) -> None:
    from coach.mentor import import_comments

    md = export_session(session, "latest", "md", story=load_session_story(session, "latest"))
    marker = "<!-- coach:comments answer=1 -->\n"
    assert md.count(marker) == 1
    sent = tmp_path / "back.md"
    sent.write_text(md.replace(marker, marker + "Say the programs the same way.\n"))
    assert import_comments(session, sent).added == 1
    again = export_session(session, "latest", "md", story=load_session_story(session, "latest"))
    assert "Say the programs the same way." in again and "### Your story" in again


def test_the_apps_export_with_story_but_no_story_says_what_to_do(
    session: Store, tmp_path: Path
) -> None:
    from coach.core import library
    from coach.errors import CoachError

    out = tmp_path / "exports"
    out.mkdir()
    service = library.StoreHistory(library.BankSource(), export_dir=out)
    try:
        with pytest.raises(CoachError, match="there is no story to add") as caught:
            service.export_latest("md", with_story=True)
    finally:
        service.store.close()
    assert "My story in the app" in str(caught.value)
    assert list(out.iterdir()) == []  # nothing written
