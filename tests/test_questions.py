"""The question bank: the shipped questions, their timing and examples, and user question files.

The shipped examples are scored with the real scorer: each must read as a strong answer. If one
fails after a rubric change, improve the example's wording (or question the rubric), never
loosen these thresholds.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from coach import resources
from coach.errors import DataFileError
from coach.questions import (
    CATEGORIES,
    SUBTOPICS,
    Question,
    QuestionBank,
    load_question_bank,
    user_questions_dir,
)

GUIDE = (
    Path(__file__).resolve().parents[2] / "shared" / "guide" / "failed-match-recovery-med-peds.txt"
)
#: The categories a reapplicant is grilled on most get more than the minimum.
REAPPLICANT_CRITICAL = ("failed-match", "why-med-peds", "backup-plan", "red-flag", "gap-year")
SHIPPED = load_question_bank(include_user=False)


def _ids(bank: QuestionBank) -> list[str]:
    return [q.id for q in bank]


# --- the shipped bank -------------------------------------------------------------------------


def test_shipped_bank_loads_with_enough_questions() -> None:
    bank = load_question_bank()  # no user files in the isolated config dir
    assert _ids(bank) == _ids(SHIPPED)
    assert len(bank) >= 44
    assert all(q.source == "built-in" for q in bank)


def test_every_category_has_questions() -> None:
    counts = Counter(q.category for q in SHIPPED)
    assert set(counts) == set(CATEGORIES)
    for cat in CATEGORIES:
        assert counts[cat] >= 3, cat
    for cat in REAPPLICANT_CRITICAL:
        assert counts[cat] >= 5, cat


@pytest.mark.parametrize("category", sorted(SUBTOPICS))
def test_subtopics_all_covered(category: str) -> None:
    questions = [q for q in SHIPPED if q.category == category]
    assert all(q.subtopic for q in questions), "every question names its subtopic"
    covered = Counter(q.subtopic for q in questions)
    assert set(covered) == set(SUBTOPICS[category])


def test_red_flag_subtopics_each_have_two_questions() -> None:
    covered = Counter(q.subtopic for q in SHIPPED if q.category == "red-flag")
    assert covered.keys() == {"exam-failure", "gap", "professionalism", "extended-timeline"}
    assert min(covered.values()) >= 2


def test_ids_unique_across_files() -> None:
    ids: list[str] = []
    for path in sorted(resources.question_bank_dir().glob("*.toml")):
        with path.open("rb") as fh:
            ids += [entry["id"] for entry in tomllib.load(fh)["questions"]]
    assert len(ids) == len(SHIPPED)
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_one_file_per_category() -> None:
    for path in resources.question_bank_dir().glob("*.toml"):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        assert data["defaults"]["category"] == path.stem
        assert {e.get("category", path.stem) for e in data["questions"]} == {path.stem}


def test_the_key_prompts_are_asked() -> None:
    asked = " ".join([q.text for q in SHIPPED] + [f for q in SHIPPED for f in q.follow_ups])
    for prompt in (
        "What will you do if you don't match again?",
        "Why not categorical internal medicine?",
        "Why not categorical pediatrics?",
        "Walk me through the Step 1 failure",
        "Why Med-Peds?",
        "What has changed for you since last cycle?",
        "Tell me about yourself.",
    ):
        assert prompt in asked, prompt


@pytest.mark.parametrize("q", SHIPPED.all(), ids=lambda q: q.id)
def test_question_is_complete(q: Question) -> None:
    assert q.text.strip().endswith(("?", "."))
    assert q.follow_ups, "interviewers always follow up"
    assert len(q.tips) >= 2
    assert q.pitfalls
    assert len(q.example_answer.split()) >= 60
    assert q.id.split("-")[0] == _prefix(q.category)


def _prefix(category: str) -> str:
    return {
        "failed-match": "fm",
        "why-med-peds": "wmp",
        "why-this-program": "wtp",
        "backup-plan": "bp",
        "red-flag": "rf",
        "gap-year": "gy",
        "tell-me-about-yourself": "tmay",
        "weakness": "wk",
        "conflict": "cf",
        "mistake": "mk",
        "teamwork": "tw",
    }[category]


@pytest.mark.parametrize("q", SHIPPED.all(), ids=lambda q: q.id)
def test_timing_consistent_with_rubric(q: Question) -> None:
    from coach.scoring.rubric import load_rubric

    cat = load_rubric().category(q.category)
    lo, hi = cat.target_s
    assert lo <= q.target_min_s <= q.target_max_s <= hi
    assert q.hard_limit_s == cat.hard_limit_s
    assert 5 <= q.think_s <= 30
    # The example must fit the target when spoken at an unhurried 130 words a minute.
    assert len(q.example_answer.split()) / 130 * 60 <= q.target_max_s
    words_lo, words_hi = cat.words
    assert words_lo <= len(q.example_answer.split()) <= words_hi


def test_failed_match_timing_is_the_guide_brief_version() -> None:
    for q in SHIPPED.by_category("failed-match"):
        assert (q.target_min_s, q.target_max_s, q.hard_limit_s) == (60, 90, 120)


@pytest.mark.parametrize("q", SHIPPED.all(), ids=lambda q: q.id)
def test_example_answer_scores_well(q: Question) -> None:
    from coach.scoring import score_answer

    report = score_answer(q.example_answer, question=q)
    criteria = {c.id: c for c in report.criteria}
    assert report.overall >= 75, [(c.id, c.score, c.feedback) for c in report.criteria]
    assert criteria["factual_tone"].passed, criteria["factual_tone"].feedback
    assert criteria["growth_focus"].passed, criteria["growth_focus"].feedback


@pytest.mark.parametrize("q", SHIPPED.all(), ids=lambda q: q.id)
def test_example_answer_is_first_person(q: Question) -> None:
    words = re.findall(r"[A-Za-z']+", q.example_answer)
    first_person = [w for w in words if w in {"I", "I'm", "I've", "I'd", "my", "me", "My"}]
    assert len(first_person) >= 4
    assert q.example_answer.count("\n") == 0, "one paragraph, as it would be spoken"


def test_wording_never_shames_the_user() -> None:
    # Addressed to the user: tips, pitfalls and the prompts themselves.
    harsh = re.compile(
        r"\b(you failed|your failures?|failure as|you are a failure|not good enough|"
        r"embarrassing|shameful|pathetic|you should be ashamed)\b",
        re.IGNORECASE,
    )
    for q in SHIPPED:
        for text in (q.text, *q.follow_ups, *q.tips, *q.pitfalls):
            assert not harsh.search(text), (q.id, text)


def test_no_sentences_copied_from_the_guide() -> None:
    if not GUIDE.is_file():
        pytest.skip(f"the guide is not at {GUIDE}")

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))

    n = 8
    guide = words(GUIDE.read_text(encoding="utf-8"))
    runs = {tuple(guide[i : i + n]) for i in range(len(guide) - n + 1)}
    copied = []
    for q in SHIPPED:
        for text in (q.text, q.example_answer, *q.tips, *q.pitfalls, *q.follow_ups):
            w = words(text)
            copied += [
                (q.id, " ".join(w[i : i + n]))
                for i in range(len(w) - n + 1)
                if tuple(w[i : i + n]) in runs
            ]
    assert copied == []


def test_lookups_explain_wrong_ids() -> None:
    from coach.errors import CoachError

    with pytest.raises(CoachError, match="did you mean 'fm-what-happened'"):
        SHIPPED.get("fm-what-hapened")
    with pytest.raises(CoachError, match="did you mean 'red-flag'"):
        SHIPPED.by_category("red-flags")
    # No far-fetched guesses; a category name points to the category's list.
    with pytest.raises(CoachError, match=r"list the ids with `coach questions`$"):
        SHIPPED.get("nope")
    with pytest.raises(CoachError, match=r"`coach questions --category backup-plan`"):
        SHIPPED.get("backup")


# --- the user's own questions -----------------------------------------------------------------

GOOD_USER_FILE = """
[defaults]
category = "failed-match"
think_s = 10
target_s = [60, 90]
hard_limit_s = 120

[[questions]]
id = "my-own"
text = "What did your dean say about your application?"
follow_ups = ["And what did you do with that?"]
tips = ["Keep it short."]
example_answer = "My dean said my list was too narrow, so I widened it."
"""


def _write_user(name: str, text: str) -> Path:
    folder = user_questions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_questions_are_added() -> None:
    path = _write_user("mine.toml", GOOD_USER_FILE)
    bank = load_question_bank()
    assert len(bank) == len(SHIPPED) + 1
    mine = bank.get("my-own")
    assert mine.source == str(path)
    assert mine.category == "failed-match"
    assert (mine.think_s, mine.target_min_s, mine.target_max_s, mine.hard_limit_s) == (
        10,
        60,
        90,
        120,
    )
    assert mine.follow_ups == ("And what did you do with that?",)
    assert mine in bank.by_category("failed-match")
    assert load_question_bank(include_user=False).all() == SHIPPED.all()


def test_user_question_replaces_a_shipped_id() -> None:
    path = _write_user(
        "override.toml",
        """
[[questions]]
id = "fm-what-happened"
category = "failed-match"
text = "So, what happened in the Match?"
think_s = 20
target_s = [45, 75]
hard_limit_s = 100
""",
    )
    bank = load_question_bank()
    assert len(bank) == len(SHIPPED)
    q = bank.get("fm-what-happened")
    assert q.text == "So, what happened in the Match?"
    assert q.source == str(path)
    assert (q.target_min_s, q.target_max_s, q.hard_limit_s) == (45, 75, 100)
    assert q.example_answer == ""


def test_user_subtopic_is_checked() -> None:
    _write_user(
        "rf.toml",
        """
[[questions]]
id = "my-rf"
category = "red-flag"
subtopic = "exam-failure"
text = "Tell me about your COMLEX Level 1 attempt."
think_s = 20
target_s = [60, 90]
hard_limit_s = 120
""",
    )
    assert load_question_bank().get("my-rf").subtopic == "exam-failure"


ONE = """
[[questions]]
id = "my-q"
category = "failed-match"
text = "Why did you not match?"
think_s = 10
target_s = [60, 90]
hard_limit_s = 120
"""

INVALID = {
    "bad-syntax": (ONE.replace('text = "Why', "text = Why"), "invalid TOML"),
    "unknown-key": (ONE + 'colour = "blue"\n', "questions[0].colour"),
    "wrong-type": (ONE.replace("think_s = 10", 'think_s = "ten"'), "questions.my-q.think_s"),
    "wrong-type-list": (
        ONE + 'follow_ups = "just one"\n',
        "questions.my-q.follow_ups",
    ),
    "bad-target": (ONE.replace("[60, 90]", "[90, 60]"), "questions.my-q.target_s"),
    "unknown-category": (
        ONE.replace('"failed-match"', '"failed-matchh"'),
        "questions.my-q.category",
    ),
    "unknown-subtopic": (
        ONE.replace('"failed-match"', '"red-flag"') + 'subtopic = "exams"\n',
        "questions.my-q.subtopic",
    ),
    "missing-text": (ONE.replace('text = "Why did you not match?"\n', ""), "questions.my-q.text"),
    "empty-text": (ONE.replace('"Why did you not match?"', '"  "'), "questions.my-q.text"),
    "missing-id": (ONE.replace('id = "my-q"\n', ""), "questions[0].id"),
    "bad-id": (ONE.replace('"my-q"', '"My Question"'), "questions.My Question.id"),
    "hard-below-target": (
        ONE.replace("hard_limit_s = 120", "hard_limit_s = 80"),
        "questions.my-q.hard_limit_s",
    ),
    "no-questions": ('description = "nothing yet"\n', "'questions'"),
    "unknown-default": ('[defaults]\ncolour = "red"\n' + ONE, "defaults.colour"),
    "duplicate-in-file": (ONE + ONE, "questions.my-q"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_user_file_names_file_and_key(case: str) -> None:
    text, key = INVALID[case]
    path = _write_user("broken.toml", text)
    with pytest.raises(DataFileError) as info:
        load_question_bank()
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert "\n" not in message
    assert info.value.fix


def test_invalid_syntax_names_the_line() -> None:
    path = _write_user("broken.toml", ONE.replace('text = "Why', "text = Why"))
    with pytest.raises(DataFileError, match=r"line \d+") as info:
        load_question_bank()
    assert str(path) in str(info.value)


def test_unknown_category_suggests_the_close_one() -> None:
    _write_user("broken.toml", ONE.replace('"failed-match"', '"failed-matchh"'))
    with pytest.raises(DataFileError) as info:
        load_question_bank()
    assert info.value.fix is not None and "failed-match" in info.value.fix


def test_duplicate_id_across_user_files_names_both() -> None:
    first = _write_user("a.toml", ONE)
    second = _write_user("b.toml", ONE)
    with pytest.raises(DataFileError) as info:
        load_question_bank()
    message = str(info.value)
    assert str(second) in message and str(first) in message
    assert "questions.my-q" in message


def test_shipped_bank_ignores_user_files() -> None:
    _write_user("broken.toml", "this is not toml")
    assert len(load_question_bank(include_user=False)) == len(SHIPPED)
