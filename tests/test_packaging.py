"""The wheel ships the question bank, the rubrics and the stylesheet, and finds them installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("medpeds_interview_coach-*.whl")
    return built


def test_wheel_holds_the_data_and_the_stylesheet(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (REPO / "question_bank").glob("*.toml")}
    assert {f"coach/question_bank/{n}" for n in shipped} <= names
    assert {"coach/rubrics/criteria.toml", "coach/rubrics/categories.toml"} <= names
    assert "coach/tui/app.tcss" in names and "coach/py.typed" in names
    # The history is a package (coach/store/): every one of its modules ships.
    assert {f"coach/store/{p.name}" for p in (REPO / "coach" / "store").glob("*.py")} <= names
    # The semantic layer's trained heads (sentences, answers), the tokenizer and its notice.
    assert {
        "coach/scoring/data/semantic_head.npz",
        "coach/scoring/data/answer_head.npz",
        "coach/scoring/data/minilm_tokenizer.json",
        "coach/scoring/data/encoder_top.npz",
        "coach/scoring/data/NOTICE-minilm.txt",
    } <= names
    assert not any(n.startswith("corpus/") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_installed_layout_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import coach.resources as r, coach.questions as q, coach.scoring.rubric as ru;"
        "print(r.question_bank_dir()); print(len(q.load_question_bank(include_user=False)));"
        "print(len(ru.load_rubric().categories))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(site), "COACH_CONFIG_DIR": str(tmp_path / "config")},
        cwd=tmp_path,  # not the checkout, whose own coach/ would come first
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    folder, questions, categories = result.stdout.split()
    assert Path(folder).is_relative_to(site)  # the wheel's copy, not the checkout's
    assert int(questions) >= 40 and int(categories) == 11
