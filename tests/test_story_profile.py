"""The story profile: TOML round trip, privacy, validation errors and forget-everything."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coach import paths
from coach.errors import DataFileError
from coach.story import Exam, LastCycle, SinceThen, StoryProfile, load_story, save_story
from coach.story.profile import dumps_story, story_path

FULL = StoryProfile(
    last_cycle=LastCycle(
        specialties=("Med-Peds",), programs=20, interviews=3, soap=True, outcome="did not match"
    ),
    reasons=("My list was too narrow and I had no backup specialty.",),
    since=SinceThen(
        role="clinical research coordinator",
        where='adult congenital heart disease clinic ("ACHD")',
        months=12,
        letters=("pediatrics attending", "internal medicine attending"),
        sub_i="Med-Peds sub-internship",
        exams=(Exam("Step 2 CK", "245", 1), Exam("Step 1", "pass", 2)),
        research_qi=("transition checklist QI project",),
        remediation="weekly study plan with a learning specialist",
    ),
    backup_plan="Dual applying to Med-Peds and categorical pediatrics.",
    red_flags=("Step 1 failed on the first attempt",),
    must_say=("transition clinic for young adults", "new pediatrics letter", "broader list"),
)


def test_round_trip_is_private_and_exact() -> None:
    path = save_story(FULL)
    assert path == story_path() and path.parent == paths.config_dir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_story() == FULL
    # No temporary files are left next to it.
    assert [p.name for p in path.parent.iterdir()] == ["story.toml"]


def test_every_field_is_optional() -> None:
    assert load_story() is None  # no story yet
    path = story_path()
    path.write_text("")
    assert load_story() == StoryProfile() and StoryProfile().is_empty
    partial = StoryProfile(since=SinceThen(months=8))
    save_story(partial)
    assert load_story() == partial
    assert "[last_cycle]" not in dumps_story(partial)


def test_hand_written_result_may_be_a_number(tmp_path: Path) -> None:
    path = tmp_path / "story.toml"
    path.write_text('[[since.exams]]\nname = "Step 2 CK"\nresult = 245\n')
    story = load_story(path)
    assert story is not None and story.since.exams == (Exam("Step 2 CK", "245", None),)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("programs = 20\n", "programs"),  # belongs in [last_cycle]
        ('[last_cycle]\nprograms = "twenty"\n', "last_cycle.programs"),
        ("[last_cycle]\nsoap = 1\n", "last_cycle.soap"),
        ("[since]\nmonths = -3\n", "since.months"),
        ("[since]\nletters = [1]\n", "since.letters"),
        ('[[since.exams]]\nresult = "pass"\n', "since.exams[0].name"),
        ('[[since.exams]]\nname = "Step 1"\nattempts = 0\n', "since.exams[0].attempts"),
        ('[[since.exams]]\nname = "Step 1"\nscore = 240\n', "since.exams[0].score"),
        ('must_say = ["a", "b", "c", "d", "e", "f"]\n', "must_say"),
        ('backup_plan = ["x"]\n', "backup_plan"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "story.toml"
    path.write_text(text)
    with pytest.raises(DataFileError) as err:
        load_story(path)
    message = str(err.value)
    assert str(path) in message and f"key '{key}'" in message, message


def test_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "story.toml"
    path.write_text("[since\nrole = 'x'\n")
    with pytest.raises(DataFileError, match=r"story\.toml: invalid TOML"):
        load_story(path)


def test_forget_everything_deletes_the_story_in_a_shared_config_folder() -> None:
    path = save_story(FULL)
    other = path.parent / "not-the-coach.txt"
    other.write_text("mine")
    done = subprocess.run(
        [sys.executable, "-m", "coach", "forget-everything", "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert not path.exists() and other.exists()
