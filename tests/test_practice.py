"""Spaced repetition for drills: weak and unpractised questions first, unless turned off."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coach.practice import box_for, pick_questions, schedule
from coach.questions import Question

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def q(qid: str, category: str = "failed-match") -> Question:
    return Question(
        id=qid,
        category=category,
        text=f"Question {qid}?",
        follow_ups=(),
        think_s=10,
        target_min_s=30,
        target_max_s=90,
        hard_limit_s=120,
        tips=(),
        pitfalls=(),
        example_answer="",
    )


@dataclass(frozen=True)
class Stats:
    question_id: str
    attempts: int
    best: float
    latest: float
    last_practised: datetime


def st(
    qid: str, latest: float, days_ago: float, attempts: int = 1, best: float | None = None
) -> Stats:
    return Stats(
        qid, attempts, best if best is not None else latest, latest, NOW - timedelta(days=days_ago)
    )


def test_boxes_follow_the_latest_score() -> None:
    assert box_for(None)[0] == 0
    assert box_for(st("a", 30, 0))[0] == 1
    assert box_for(st("a", 60, 0)) == (2, timedelta(days=1))
    assert box_for(st("a", 75, 0)) == (3, timedelta(days=3))
    assert box_for(st("a", 90, 0)) == (4, timedelta(days=7))
    assert box_for(st("a", 90, 0, attempts=3, best=92)) == (4, timedelta(days=14))


def test_weak_and_unpractised_come_first() -> None:
    bank = [q("strong"), q("weak"), q("new"), q("ok-due"), q("ok-fresh")]
    stats = [
        st("strong", 95, 1),  # box 4, not due for 6 more days
        st("weak", 35, 0.1),  # box 1, due now
        st("ok-due", 65, 2),  # box 2, a day overdue
        st("ok-fresh", 65, 0.2),  # box 2, due in ~19 h
    ]
    for seed in range(20):
        picked = pick_questions(bank, stats, 3, rng=random.Random(seed), now=NOW)
        assert {p.id for p in picked[:2]} == {"weak", "new"}
        assert picked[2].id == "ok-due"
    everything = pick_questions(bank, stats, 10, rng=random.Random(1), now=NOW)
    assert [p.id for p in everything][2:] == ["ok-due", "ok-fresh", "strong"]
    assert len(everything) == 5 and len({p.id for p in everything}) == 5


def test_more_overdue_comes_first_within_a_box() -> None:
    bank = [q("a"), q("b"), q("c")]
    stats = {"a": st("a", 75, 4), "b": st("b", 75, 10), "c": st("c", 75, 5)}
    picked = pick_questions(bank, stats, 3, rng=random.Random(0), now=NOW)
    assert [p.id for p in picked] == ["b", "c", "a"]


def test_turned_off_is_uniform_random() -> None:
    bank = [q(str(i)) for i in range(6)]
    stats = [st(str(i), 95, 0) for i in range(1, 6)]  # only "0" is new
    rng = random.Random(7)
    firsts = Counter(
        pick_questions(bank, stats, 1, favour_weak=False, rng=rng, now=NOW)[0].id
        for _ in range(600)
    )
    assert set(firsts) == {str(i) for i in range(6)}
    assert max(firsts.values()) < 160  # roughly 100 each, nothing dominates
    favoured = Counter(pick_questions(bank, stats, 1, rng=rng, now=NOW)[0].id for _ in range(50))
    assert favoured == Counter({"0": 50})


def test_category_filter_and_small_banks() -> None:
    bank = [q("a", "red-flag"), q("b", "why-med-peds"), q("c", "red-flag")]
    picked = pick_questions(bank, [], 5, category="red-flag", rng=random.Random(0), now=NOW)
    assert sorted(p.id for p in picked) == ["a", "c"]
    assert pick_questions(bank, [], 0, now=NOW) == []
    assert pick_questions(bank, [], 3, category="weakness", now=NOW) == []
    assert pick_questions([], [], 3, now=NOW) == []


def test_schedule_explains_itself() -> None:
    items = schedule([q("a"), q("b")], [st("a", 40, 1, attempts=2)], now=NOW)
    assert items[0].reason == "latest score 40 (weak), 2 attempts"
    assert items[0].is_due(NOW)
    assert items[1].reason == "not practised yet" and items[1].due is None


def test_works_with_the_real_store() -> None:
    from coach.store import Store
    from tests.history_factories import make_report

    with Store.open() as store:
        sid = store.start_session("drill")
        store.save_attempt(
            sid,
            question_id="a",
            category="failed-match",
            text="t",
            report=make_report(question_id="a", overall=92),
        )
        store.save_attempt(
            sid,
            question_id="b",
            category="failed-match",
            text="t",
            report=make_report(question_id="b", overall=30),
        )
        picked = pick_questions(
            [q("a"), q("b"), q("c")], store.question_stats(), 2, rng=random.Random(3)
        )
    assert {p.id for p in picked} == {"b", "c"}
