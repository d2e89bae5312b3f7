"""The patient-detail guard (coach.guard) on the labelled sentences and on single cases.

The floors asserted here are the figures measured by ``benchmarks/guard.py`` (README,
"Patient-detail guard"): recall 1.0 for names, dates and record numbers in clinical stories on
the tuning and held-out files (both tuned on), 0.94 / 1.0 / 1.0 on the first blind file when it
was scored (it has since been tuned on: initials), 0.95 / 1.0 / 1.0 on the second blind file
(written after the rules were frozen, scored once, never tuned on), the applicant's own name and
schools never flagged.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from coach.errors import DataFileError
from coach.guard import KINDS, OwnProfile, find_identifiers
from coach.guard.evaluate import Tally, evaluate, load_labelled
from coach.guard.rules import find, is_own

DATA = Path(__file__).parent / "data"
FILES = ("guard_sentences.toml", "guard_sentences_holdout.toml", "guard_sentences_blind.toml")
BLIND2 = "guard_sentences_blind2.toml"


def _rules(text: str, own: OwnProfile) -> list[tuple[str, int, int]]:
    return [(f.kind, f.start, f.end) for f in find(text, own)]


@pytest.mark.parametrize("name", FILES[:2])
def test_labelled_sets_meet_the_recall_targets(name: str) -> None:
    labelled = load_labelled(DATA / name)
    assert len(labelled.sentences) >= 48
    ev = evaluate(_rules, labelled)
    for kind in ("name", "date", "record"):
        assert ev.total(kind, ("clinical",)).recall == 1.0, (kind, ev.misses)
    assert ev.own_flagged == []
    everything: dict[str, Tally] = {k: ev.total(k) for k in KINDS}
    name_precision = everything["name"].precision
    assert name_precision is not None and name_precision >= 0.96
    for kind in ("age", "date", "record", "phone", "email"):
        recall = everything[kind].recall
        assert recall is not None and recall >= 0.9, kind
    # Places in lower-case recognizer text without a suffix ("in akron") are a known gap.
    place_recall = everything["place"].recall
    assert place_recall is not None and place_recall >= 0.75


def test_the_blind_set_floor() -> None:
    """The blind file was scored once and never tuned on: these are its measured figures."""
    ev = evaluate(_rules, load_labelled(DATA / FILES[2]))
    clinical = {k: ev.total(k, ("clinical",)).recall for k in ("name", "date", "record")}
    assert clinical["name"] is not None and clinical["name"] >= 0.93  # measured 0.938
    assert clinical["date"] == 1.0 and clinical["record"] == 1.0
    assert ev.own_flagged == []
    precision = ev.total("name").precision
    assert precision is not None and precision >= 0.78  # measured 0.783


def test_the_second_blind_set_meets_the_recall_target() -> None:
    """Written after the rules were frozen (a10181b), scored once, never tuned on.

    First and only score: clinical names 19/20 (0.95; "Jayden's mom" missed), dates 9/9,
    records 4/4; no false alarm of any kind (name precision 1.0, 25/25 over all sets); own name
    and schools never flagged; recognizer-style names 5/7 ("doctor mbeki", "daughter imani").
    """
    labelled = load_labelled(DATA / BLIND2)
    assert len(labelled.sentences) >= 40
    assert {s.set for s in labelled.sentences} == {"clinical", "asr", "own", "plain"}
    ev = evaluate(_rules, labelled)
    clinical = {k: ev.total(k, ("clinical",)).recall for k in ("name", "date", "record")}
    assert clinical["name"] is not None and clinical["name"] >= 0.95  # measured 0.95
    assert clinical["date"] == 1.0 and clinical["record"] == 1.0
    assert ev.own_flagged == []
    assert ev.false_alarms == []
    precision = ev.total("name").precision
    assert precision == 1.0


def test_the_labelled_sets_have_over_a_hundred_sentences_of_every_kind() -> None:
    sets = [load_labelled(DATA / n) for n in FILES]
    sentences = [s for labelled in sets for s in labelled.sentences]
    assert len(sentences) >= 190
    assert {s.set for s in sentences} == {"clinical", "asr", "own", "plain"}
    assert {span.kind for s in sentences for span in s.spans} == set(KINDS)


def test_the_issue_example_is_found_with_kinds_spans_and_confidence() -> None:
    text = "a 16-year-old with cystic fibrosis I met at St. Mary's in March, MRN 4471203"
    found = find_identifiers(text)
    assert [(f.kind, f.text) for f in found] == [
        ("age", "16-year-old"),
        ("place", "St. Mary's"),
        ("date", "in March"),
        ("record", "4471203"),
    ]
    for f in found:
        assert text[f.start : f.end] == f.text
        assert 0 < f.confidence <= 1


def test_own_name_and_schools_are_not_flagged_even_misspelled_by_the_recognizer() -> None:
    own = OwnProfile.of(["Priya Raman"], ["Northfield Medical School"])
    text = "I am Priya Ramen from Northfield Medical School, and I met Mrs. Alvarez there."
    assert [(f.kind, f.text) for f in find_identifiers(text, own)] == [("name", "Mrs. Alvarez")]
    # Without the profile the applicant's own name is flagged like any other.
    assert ("name", "Priya Ramen") in [(f.kind, f.text) for f in find_identifiers(text)]
    assert is_own("Dr. Raman", own) and not is_own("Dr. Okafor", own)


def test_ordinary_answers_flag_nothing() -> None:
    for text in (
        "I did not match into Med-Peds last year and I own that I applied too narrowly.",
        "Since then I passed Step 2 CK, did a sub-I and joined a QI project in 2024.",
        "My backup plan is categorical internal medicine, and I would commit to it fully.",
        "um so i ask for help sooner now and i keep a list of what i owe people",
    ):
        assert find_identifiers(text) == [], text


def test_spoken_numbers_and_addresses() -> None:
    spoken = "her m r n was four four seven one two oh three and his mom is at six one four "
    spoken += "five five five oh one eight two or hollis dot family at examplemail dot com"
    kinds = [(f.kind, f.text) for f in find_identifiers(spoken)]
    assert kinds == [
        ("record", "four four seven one two oh three"),
        ("phone", "six one four five five five oh one eight two"),
        ("email", "hollis dot family at examplemail dot com"),
    ]


def test_findings_never_overlap_and_come_in_order() -> None:
    text = "Dr. May saw Mr. June Lee on May 5 at Mercy General, 614-555-0182, MRN 00-553-918."
    found = find_identifiers(text)
    assert [f.start for f in found] == sorted(f.start for f in found)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start


def test_a_bad_labelled_file_names_the_file_and_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[sentence]]\nset = "clinical"\ntext = "Hi"\nspans = [{kind = "name", text = "Bob"}]\n'
    )
    with pytest.raises(DataFileError, match=r"bad\.toml: sentence 1: span text 'Bob' not in text"):
        load_labelled(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pt J.R., DOB 04/12/2009, came in twice.", ("name", "J.R.")),
        ("We called her A. J. at her request.", ("name", "A. J.")),
        ("pt JR was admitted overnight", ("name", "JR")),
        ("the patient j r came back the next week", ("name", "j r")),
        ("benjamin turned eighteen in the hospital", ("name", "benjamin")),
        ("and lucia asked me if she could go home", ("name", "lucia")),
        ("so this kid mateo he was nineteen months old", ("name", "mateo")),
        (
            "her medicaid number was seven seven two oh four one nine nine three oh",
            ("record", None),
        ),
        ("On Tues 3/5 the team met the family.", ("date", "Tues 3/5")),
        ("Benjamin, who turned eighteen in the hospital, asked.", ("age", "eighteen")),
    ],
)
def test_initials_lower_case_names_and_cued_numbers_are_found(
    text: str, expected: tuple[str, str | None]
) -> None:
    kind, piece = expected
    found = [(f.kind, f.text) for f in find(text)]
    assert any(k == kind and (piece is None or t == piece) for k, t in found), found


@pytest.mark.parametrize(
    "text",
    [
        "I moved to the U.S. at nine and finished my M.D. in 2021.",
        "Hope was what kept me going that spring.",
        "My patient ID badge stopped working on the first day.",
        "Feedback was hard to hear, but it changed how I present.",
        "His Medicaid card had lapsed.",
        "We disagreed about sending a teenager home after an overdose.",
        "You could reach the foster mom most evenings.",
    ],
)
def test_titles_common_words_and_family_roles_are_not_names(text: str) -> None:
    assert [f.text for f in find(text) if f.kind == "name"] == []
