"""Interview-day readiness from a real history database and a saved story."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from coach.questions import load_question_bank
from coach.store import Store
from coach.story import LastCycle, SinceThen, StoryProfile, save_story
from coach.story.readiness import build_readiness, render_readiness
from tests.coach_process import assert_one_line_error
from tests.history_factories import make_report

STORY = StoryProfile(
    last_cycle=LastCycle(specialties=("Med-Peds",), programs=20),
    reasons=("My list was too narrow.",),
    since=SinceThen(
        role="clinical research coordinator",
        months=12,
        letters=("pediatrics attending",),
    ),
    backup_plan="Dual applying to Med-Peds and categorical pediatrics.",
    must_say=("transition clinic", "NMPRA"),
)
FM = (
    "Last cycle I applied to twenty programs and did not match; my list was too narrow. Since "
    "then I have worked as a clinical research coordinator in a transition clinic."
)
BP_CONTRADICTS = (
    "last year i applied to thirty five programs so this cycle im dual applying to pediatrics"
)
BP_AGREES = "Last year I applied to 20 programs, so this cycle I am dual applying to pediatrics."


def _save(store: Store, session: int, qid: str, category: str, text: str, overall: float) -> int:
    report = make_report(text, question_id=qid, category=category, overall=overall)
    return store.save_attempt(session, question_id=qid, category=category, text=text, report=report)


def _populate(second_backup: bool = False) -> None:
    with Store.open() as store:
        s = store.start_session("mock")
        _save(store, s, "fm-what-happened", "failed-match", FM, 61.0)
        _save(store, s, "fm-what-happened", "failed-match", FM, 74.0)
        _save(store, s, "bp-dont-match-again", "backup-plan", BP_CONTRADICTS, 55.0)
        if second_backup:
            _save(store, s, "bp-dont-match-again", "backup-plan", BP_AGREES, 58.0)


def _build() -> object:
    with Store.open() as store:
        attempts = store.attempts()
    return build_readiness(attempts, load_question_bank(), STORY)


def test_readiness_per_category_with_unsaid_points_and_open_flags() -> None:
    _populate()
    r = _build()
    fm = r.category("failed-match")  # type: ignore[attr-defined]
    assert (fm.attempts, fm.questions_practised, fm.latest, fm.best) == (2, 1, 74.0, 74.0)
    assert fm.questions_total == len(load_question_bank().by_category("failed-match"))
    assert fm.unsaid == ("new letter: pediatrics attending",)
    bp = r.category("backup-plan")  # type: ignore[attr-defined]
    assert bp.unsaid == ()  # "dual applying ... pediatrics" says the backup plan
    assert [f.kind for f in bp.flags] == ["programs"] and bp.flags == fm.flags
    flag = bp.flags[0]
    assert flag.first.quote == "twenty programs" and flag.second.quote == "thirty five programs"
    never = r.category("weakness")  # type: ignore[attr-defined]
    assert never.attempts == 0 and never.latest is None and not never.practised
    assert r.must_say_unsaid == ("NMPRA",)  # type: ignore[attr-defined]
    text = render_readiness(r)  # type: ignore[arg-type]
    assert "still unsaid: new letter: pediatrics attending" in text
    assert "'thirty five programs'" in text and "  - NMPRA" in text


def test_answering_again_closes_the_flag() -> None:
    _populate(second_backup=True)
    r = _build()
    assert r.flags == ()  # type: ignore[attr-defined]
    assert r.category("backup-plan").attempts == 2  # type: ignore[attr-defined]


def _coach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "100"},
    )


def test_coach_readiness_json_and_text() -> None:
    _populate()
    save_story(STORY)
    done = _coach("readiness", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["has_story"] is True
    cats = {c["category"]: c for c in data["categories"]}
    assert cats["failed-match"]["latest"] == 74.0 and cats["failed-match"]["attempts"] == 2
    assert cats["failed-match"]["unsaid"] == ["new letter: pediatrics attending"]
    assert data["flags"][0]["kind"] == "programs"
    assert data["flags"][0]["second"]["quote"] == "thirty five programs"
    plain = _coach("readiness")
    assert plain.returncode == 0 and plain.stdout.startswith("Interview-day readiness")


def test_coach_readiness_without_history_or_story() -> None:
    done = _coach("readiness")
    assert done.returncode == 0, done.stderr
    assert "No story yet" in done.stdout


def test_coach_readiness_with_a_broken_story_is_one_line() -> None:
    from coach.story.profile import story_path

    story_path().write_text("[since]\nmonths = 'a year'\n")
    assert_one_line_error(_coach("readiness"), "story.toml", "key 'since.months'")


def test_coach_story_init_show_and_session_check() -> None:
    from coach.story.profile import load_story, story_path

    assert "No story yet" in _coach("story").stdout
    done = _coach("story", "--init")
    assert done.returncode == 0, done.stderr
    assert load_story() == StoryProfile()  # the template is valid and empty until filled in
    assert oct(story_path().stat().st_mode & 0o777) == "0o600"
    assert_one_line_error(_coach("story", "--init"), "already exists")
    save_story(STORY)
    assert "  - 20 programs" in _coach("story").stdout
    _populate()
    check = _coach("story", "--check", "--json")
    assert check.returncode == 0, check.stderr
    flags = json.loads(check.stdout)["flags"]
    assert [f["kind"] for f in flags] == ["programs"]
    assert "'thirty five programs'" in _coach("story", "--check").stdout
    assert_one_line_error(_coach("story", "--session", "1"), "--session only applies to --check")
