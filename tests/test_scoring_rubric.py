"""Rubric data: the user's overrides in <config dir>/rubrics/ merge into the shipped rubric, and
invalid files are refused with an error that names the file and the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coach import paths
from coach.errors import DataFileError
from coach.questions import CATEGORIES
from coach.scoring import score_answer
from coach.scoring.rubric import CRITERIA, load_rubric, rubric_files


def user_rubric(name: str, body: str) -> Path:
    folder = paths.config_dir() / "rubrics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_rubric_is_complete() -> None:
    rubric = load_rubric()
    assert set(rubric.criteria) == set(CRITERIA)
    assert set(rubric.categories) == set(CATEGORIES)
    for cat in rubric.categories.values():
        assert cat.groups, f"{cat.id} has no content groups"
        assert set(cat.weights) >= {"brevity", "factual_tone", "growth_focus", "content"}
        lo, hi = cat.words
        assert 0 < lo < hi
        assert cat.target_s[1] <= cat.hard_limit_s
        for group in cat.growth_groups:
            assert group in {g.id for g in rubric.criteria["growth_focus"].groups}
    assert all(f.startswith(str(Path(__file__).parents[1])) for f in rubric.sources)


def test_the_rubric_is_cached_until_a_file_changes() -> None:
    assert load_rubric() is load_rubric()
    before = load_rubric()
    user_rubric("mine.toml", "[criteria.brevity]\nthreshold = 70\n")
    after = load_rubric()
    assert after is not before
    assert after.criteria["brevity"].threshold == 70


def test_a_user_override_changes_only_the_keys_it_names() -> None:
    shipped = load_rubric()
    path = user_rubric(
        "override.toml",
        """
[criteria.brevity]
threshold = 90

[criteria.delivery.params]
wpm_max = 160

[categories.failed-match.weights]
content = 3.0
""",
    )
    rubric = load_rubric()
    assert str(path) in rubric.sources and rubric_files()[-1] == path
    assert rubric.criteria["brevity"].threshold == 90
    assert rubric.criteria["brevity"].name == shipped.criteria["brevity"].name
    assert rubric.criteria["brevity"].params == shipped.criteria["brevity"].params
    assert rubric.criteria["delivery"].param("wpm_max") == 160
    assert rubric.criteria["delivery"].param("wpm_min") == shipped.criteria["delivery"].param(
        "wpm_min"
    )
    weights = rubric.category("failed-match").weights
    assert weights["content"] == 3.0
    assert weights["brevity"] == shipped.category("failed-match").weights["brevity"]


def test_extra_phrases_add_to_a_group_and_extra_lists_add_to_a_list() -> None:
    text = (
        "I did not match. Since then I have worked in a zebrafish lab and this year I am applying "
        "again. Honestly the dean hates me."
    )
    before = score_answer(text, category="failed-match", semantic=False)
    user_rubric(
        "phrases.toml",
        """
[[criteria.growth_focus.groups]]
id = "actions"
extra_phrases = ["zebrafish lab"]

[criteria.factual_tone.extra_lists]
blame = ["the dean hates me"]
""",
    )
    rubric = load_rubric()
    actions = next(g for g in rubric.criteria["growth_focus"].groups if g.id == "actions")
    assert "zebrafish lab" in actions.phrases and "sub-I" in actions.phrases
    assert actions.label == "a concrete step you took since"
    assert "unfair" in rubric.criteria["factual_tone"].lists["blame"]
    # The phrase lists' mechanics, so the rules alone (the semantic layer reads "the dean
    # hates me" as blame with or without the extra list).
    after = score_answer(text, category="failed-match", semantic=False)
    tone = after.criterion("factual_tone")
    assert tone is not None and "the dean hates me" in [e.text for e in tone.evidence]
    before_tone = before.criterion("factual_tone")
    assert before_tone is not None and tone.score < before_tone.score
    growth = after.criterion("growth_focus")
    assert growth is not None and "zebrafish lab" in [e.text for e in growth.evidence]


def test_a_list_given_in_full_replaces_the_shipped_one() -> None:
    user_rubric("hedges.toml", '[criteria.delivery.lists]\nhedges = ["literally"]\n')
    assert load_rubric().criteria["delivery"].lists["hedges"] == ("literally",)


def test_a_new_penalty_and_group_join_a_category() -> None:
    text = "Med-Peds offers continuity across the lifespan and care of chronic illness. Pizza."
    before = score_answer(text, category="why-med-peds").criterion("content")
    user_rubric(
        "food.toml",
        """
[[categories.why-med-peds.penalties]]
id = "food"
cost = 20
phrases = ["pizza"]
reason = "off topic"
feedback = "Keep to medicine."

[[categories.why-med-peds.groups]]
id = "owl"
label = "an owl"
weight = 5
phrases = ["owl"]
""",
    )
    after = score_answer(text, category="why-med-peds").criterion("content")
    assert before is not None and after is not None
    assert after.score < before.score
    assert ("-", "Pizza", "off topic") in [(e.effect, e.text, e.reason) for e in after.evidence]
    ids = [g.id for g in load_rubric().category("why-med-peds").groups]
    assert ids[-1] == "owl" and "continuity" in ids


def test_later_files_win_and_aliases_are_added() -> None:
    user_rubric("a.toml", "[criteria.brevity]\nthreshold = 70\n")
    user_rubric(
        "b.toml", '[criteria.brevity]\nthreshold = 75\n[aliases]\n"Med-Peds" = ["mud pads"]\n'
    )
    rubric = load_rubric()
    assert rubric.criteria["brevity"].threshold == 75
    assert "mud pads" in rubric.aliases["Med-Peds"]
    assert "med med" not in rubric.aliases["Med-Peds"]  # a list given again replaces it
    report = score_answer(
        "My mud pads attending showed me what continuity across the lifespan means.",
        category="why-med-peds",
    )
    content = report.criterion("content")
    assert content is not None and any("mud pads" in e.text for e in content.evidence)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("criterias = 1\n", "criterias"),
        ("[criteria.brevty]\nthreshold = 50\n", "criteria.brevty"),
        ("[criteria.brevity]\nthreshold = 150\n", "criteria.brevity.threshold"),
        ('[criteria.brevity]\nthreshold = "high"\n', "criteria.brevity.threshold"),
        ("[criteria.brevity]\nthresold = 50\n", "criteria.brevity.thresold"),
        ('[criteria.delivery.params]\nwpm_min = "fast"\n', "criteria.delivery.params.wpm_min"),
        ('[criteria.factual_tone.lists]\nblame = "unfair"\n', "criteria.factual_tone.lists.blame"),
        ("[criteria.factual_tone.lists]\nblame = [1, 2]\n", "criteria.factual_tone.lists.blame"),
        ("[criteria.growth_focus]\ngroups = 3\n", "criteria.growth_focus.groups"),
        (
            '[[criteria.growth_focus.groups]]\nid = "actions"\nphrase = ["x"]\n',
            "criteria.growth_focus.groups[0].phrase",
        ),
        (
            '[[criteria.growth_focus.groups]]\nid = "actions"\nweight = -3\n',
            "criteria.growth_focus.groups[0].weight",
        ),
        (
            '[[criteria.growth_focus.groups]]\nid = "brand_new"\nphrases = ["x"]\nweight = 5\n',
            "criteria.growth_focus.groups.brand_new.label",
        ),
        ("[categories.failed-matches]\nlabel = 'x'\n", "categories.failed-matches"),
        ("[categories.weakness]\nwords = [200, 100]\n", "categories.weakness.words"),
        ("[categories.weakness]\nwords = [100]\n", "categories.weakness.words"),
        ("[categories.weakness.weights]\ntone = 1.0\n", "categories.weakness.weights.tone"),
        (
            "[categories.weakness]\nmax_setback_sentences = 0\n",
            "categories.weakness.max_setback_sentences",
        ),
        ("[categories.red-flag]\nfull_credit_share = 2\n", "categories.red-flag.full_credit_share"),
        (
            '[[categories.backup-plan.penalties]]\nid = "consolation"\ncost = 500\n',
            "categories.backup-plan.penalties[0].cost",
        ),
        (
            '[[categories.backup-plan.penalties]]\nid = "new"\ncost = 5\nphrases = ["x"]\n',
            "categories.backup-plan.penalties.new.reason",
        ),
        ('[aliases]\n"Med-Peds" = "med med"\n', "aliases.Med-Peds"),
        ('[categories.weakness]\ngrowth_groups = "learned"\n', "categories.weakness.growth_groups"),
    ],
)
def test_an_invalid_override_names_the_file_and_the_key(body: str, key: str) -> None:
    path = user_rubric("broken.toml", body)
    with pytest.raises(DataFileError) as err:
        load_rubric()
    message = str(err.value)
    assert str(path) in message, message
    assert f"'{key}'" in message, message
    assert "\n" not in message


def test_invalid_toml_syntax_names_the_file_and_line() -> None:
    path = user_rubric("syntax.toml", "[criteria.brevity]\nthreshold = = 5\n")
    with pytest.raises(DataFileError, match="invalid TOML") as err:
        load_rubric()
    assert str(path) in str(err.value) and "line 2" in str(err.value)


def test_a_rubric_file_that_is_not_utf8_is_refused() -> None:
    folder = paths.config_dir() / "rubrics"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "latin1.toml"
    path.write_bytes('[criteria.brevity]\nname = "Kürze"\n'.encode("latin-1"))
    with pytest.raises(DataFileError, match="UTF-8") as err:
        load_rubric()
    assert str(path) in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_rubric_file_is_refused() -> None:
    path = user_rubric("locked.toml", "[criteria.brevity]\nthreshold = 70\n")
    path.chmod(0)
    try:
        with pytest.raises(DataFileError, match="cannot read") as err:
            load_rubric()
        assert str(path) in str(err.value)
    finally:
        path.chmod(0o600)


def test_fixing_the_file_recovers() -> None:
    path = user_rubric("fixme.toml", "[criteria.brevity]\nthreshold = 500\n")
    with pytest.raises(DataFileError):
        load_rubric()
    path.write_text("[criteria.brevity]\nthreshold = 55\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert load_rubric().criteria["brevity"].threshold == 55
