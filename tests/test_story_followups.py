"""Follow-ups that listen: every rule of the shipped bank fires on the answer it is for, and
stays quiet otherwise; malformed rules are refused naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach import questions
from coach.errors import DataFileError
from coach.followups import choose_followup
from coach.questions import load_question_bank

EXAM = (
    "You mentioned an exam. What did you change in how you prepare, and how did the next exam go?"
)
BACKUP = "What will you do if you don't match again?"
GAP = "What did you do during that time?"
LETTERS = "Who wrote your new letters, and what would they say about your work this year?"
WITH_BACKUP = " This cycle I am dual applying to Med-Peds and pediatrics."

# (question id, rule index, an answer the rule is for, the follow-up, an answer it is not for)
CASES = [
    (
        "fm-what-happened",
        0,
        "i failed step one the first time and i think that hurt my application",
        EXAM,
        "I applied to too few programs." + WITH_BACKUP,
    ),
    (
        "fm-what-happened",
        1,
        "After the match I took a few months off, and this year I reapplied." + WITH_BACKUP,
        GAP,
        "After the match I took a few months off, then worked as a research coordinator."
        + WITH_BACKUP,
    ),
    (
        "fm-what-happened",
        2,
        "My list was too narrow. Since then I have worked as a research coordinator.",
        BACKUP,
        "My list was too narrow, so this year I have a backup specialty.",
    ),
    (
        "fm-why-unmatched",
        0,
        "My Step 2 score was below the average for the programs I chose.",
        EXAM,
        "My list was too narrow." + WITH_BACKUP,
    ),
    (
        "fm-why-unmatched",
        1,
        "I applied to only sixteen academic programs.",
        BACKUP,
        "I applied to only sixteen programs; this time I am also applying to categorical IM.",
    ),
    (
        "fm-different-this-time",
        0,
        "I have worked all year in a transition clinic and applied more broadly.",
        LETTERS,
        "I have three new letters of recommendation from attendings who supervised me.",
    ),
    (
        "gy-what-did-you-do",
        0,
        "there was a gap of a few months after graduation before i started applying again",
        GAP,
        "There was a gap of a few months, and then I started working in a clinic.",
    ),
    (
        "gy-what-did-you-do",
        1,
        "I have been doing research in a molecular biology lab.",
        "How have you kept your clinical skills current this year?",
        "I have been doing research with patients in a transition clinic.",
    ),
    (
        "gy-what-changed",
        0,
        "I retook my boards and passed, and I changed how I study.",
        EXAM,
        "I have new letters and a clearer reason for Med-Peds.",
    ),
    (
        "gy-what-changed",
        1,
        "I worked in a clinic and applied more broadly.",
        LETTERS,
        "I worked in a clinic, and two attendings wrote me letters.",
    ),
    (
        "rf-step1-walk-through",
        0,
        "I did not pass the first time, which was very hard for me.",
        "What exactly did you change in how you studied?",
        "I did not pass the first time, so I built a study schedule with a learning specialist.",
    ),
    (
        "tmay-tell-me",
        0,
        "I grew up in Ohio, and i didn't match last year, so this year I am reapplying.",
        "I see you applied last year. Can you tell me what happened?",
        "I grew up in Ohio, love long runs and care most about continuity with my patients.",
    ),
    (
        "bp-dont-match-again",
        0,
        "I would keep working in my clinic and apply again.",
        "Who helped you make that plan?",
        "My mentor and I agreed I would keep working in my clinic and apply again.",
    ),
]


@pytest.fixture(scope="module")
def bank() -> questions.QuestionBank:
    return load_question_bank(include_user=False)


@pytest.mark.parametrize(
    ("qid", "index", "answer", "followup", "other"), CASES, ids=[f"{c[0]}[{c[1]}]" for c in CASES]
)
def test_each_rule_chooses_its_follow_up(
    bank: questions.QuestionBank, qid: str, index: int, answer: str, followup: str, other: str
) -> None:
    by_id = {q.id: q for q in bank}
    question = bank.get(qid)
    choice = choose_followup(question, answer, by_id.get)
    assert choice is not None and choice.rule_index == index, choice
    assert choice.text == followup and choice.reason
    quiet = choose_followup(question, other, by_id.get)
    assert quiet is None or quiet.rule_index != index, quiet


def test_every_shipped_rule_has_a_case(bank: questions.QuestionBank) -> None:
    shipped = {(q.id, i) for q in bank for i in range(len(q.followup_rules))}
    assert shipped == {(c[0], c[1]) for c in CASES}


def test_a_question_without_rules_falls_back_to_its_fixed_list(
    bank: questions.QuestionBank,
) -> None:
    assert choose_followup(bank.get("wmp-why"), "I love continuity.") is None


def _user_file(text: str) -> Path:
    folder = questions.user_questions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mine.toml"
    path.write_text(
        '[[questions]]\nid = "my-q"\ncategory = "failed-match"\ntext = "Why?"\nthink_s = 5\n'
        "target_s = [30, 60]\nhard_limit_s = 90\n" + text
    )
    return path


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ('[[questions.followup_rules]]\nask = "Why?"\n', "followup_rules[0]"),
        (
            '[[questions.followup_rules]]\nmentions = ["x"]\nask = "a"\nask_question = "b"\n',
            "followup_rules[0]",
        ),
        (
            '[[questions.followup_rules]]\nmentions = "gap"\nask = "a"\n',
            "followup_rules[0].mentions",
        ),
        (
            '[[questions.followup_rules]]\nomits = ["x"]\nask = "a"\nwhen = 1\n',
            "followup_rules[0].when",
        ),
        (
            '[[questions.followup_rules]]\nomits = ["x"]\nask_question = "bp-dont-match-agian"\n',
            "followup_rules[0].ask_question",
        ),
    ],
)
def test_malformed_rules_name_the_file_and_key(rule: str, key: str) -> None:
    path = _user_file(rule)
    with pytest.raises(DataFileError) as err:
        load_question_bank()
    message = str(err.value)
    assert str(path) in message and f"'questions.my-q.{key}" in message, message
    if "ask_question" in key:
        assert "did you mean 'bp-dont-match-again'" in message


def test_listen_swaps_the_planned_follow_up_only_when_a_rule_fires(
    bank: questions.QuestionBank,
) -> None:
    from coach.core.plan import follow_up_question, timed
    from coach.settings import Settings
    from coach.tui.listening import listen

    main = bank.get("fm-what-happened")
    planned = timed(follow_up_question(main, 0), Settings(), follow_up_of=main.id)
    swapped = listen(planned, main, "I failed Step 1 the first time.", bank.get)
    assert swapped.question.text == EXAM
    assert swapped.question.id == planned.question.id and swapped.think_s == planned.think_s
    calm = "My list was narrow; this cycle I am dual applying to pediatrics."
    assert listen(planned, main, calm, bank.get) == planned
    backup = listen(planned, main, "My list was too narrow.", bank.get)
    assert backup.question.text == BACKUP  # an ask_question rule, looked up in the bank
    other = timed(bank.get("wmp-why"), Settings())
    assert listen(other, main, "I failed Step 1.", bank.get) == other  # not its follow-up


def test_a_mock_interview_asks_the_follow_up_the_answer_calls_for(
    bank: questions.QuestionBank,
) -> None:
    import asyncio
    import random

    from textual.widgets import Static, TextArea

    from coach.core.plan import follow_up_question, timed
    from coach.settings import Settings
    from coach.tui.app import CoachApp
    from coach.tui.screens.interview import InterviewScreen
    from tests.fakes import fake_services

    main = bank.get("fm-what-happened")
    plan = [
        timed(main, Settings()),
        timed(follow_up_question(main, 0), Settings(), follow_up_of=main.id),
    ]
    services = fake_services(questions=list(bank))
    app = CoachApp(services, Settings(), rng=random.Random(7), load_model=False)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.push_screen(InterviewScreen(plan, "mock"))
            await pilot.pause()
            await pilot.press("t")
            await pilot.pause()
            app.screen.query_one("#typed", TextArea).text = (
                "I failed Step 1 the first time and did not match. I have worked as a research "
                "coordinator since then, and this cycle I am dual applying to pediatrics."
            )
            await pilot.press("ctrl+s")
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause(0.15)
            await pilot.press("n")
            await pilot.pause()
            shown = str(app.screen.query_one("#question-text", Static).render())
            assert shown == EXAM

    asyncio.run(run())
