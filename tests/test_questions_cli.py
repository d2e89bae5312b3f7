"""``coach questions``: plain and JSON output, filters, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.cli import cli
from coach.questions import CATEGORIES, load_question_bank, user_questions_dir

JSON_KEYS = {
    "id",
    "category",
    "subtopic",
    "text",
    "follow_ups",
    "think_s",
    "target_s",
    "hard_limit_s",
    "tips",
    "pitfalls",
    "example_answer",
    "source",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["questions", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _write_user(name: str, text: str) -> Path:
    folder = user_questions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


USER_FILE = """
[[questions]]
id = "my-own"
category = "backup-plan"
text = "Would you move to another state for a categorical spot?"
think_s = 10
target_s = [45, 90]
hard_limit_s = 120
"""


def test_plain_list_groups_by_category_in_order() -> None:
    code, out, err = run()
    assert code == 0 and err == ""
    bank = load_question_bank()
    assert out.startswith(f"{len(bank)} questions in {len(CATEGORIES)} categories")
    positions = [out.index(f"[{cat}]") for cat in CATEGORIES]
    assert positions == sorted(positions)
    for q in bank:
        assert f"  {q.id}" in out
    assert "Why not categorical internal medicine?" in out
    assert "think 15 s · answer 60–90 s · stop 120 s" in out
    assert "rf-step1-walk-through (exam-failure)" in out


def test_json_lists_every_question_with_the_contract_keys() -> None:
    code, out, _ = run("--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"questions"}
    items = data["questions"]
    bank = load_question_bank()
    assert sorted(q["id"] for q in items) == sorted(q.id for q in bank)
    order = [CATEGORIES.index(q["category"]) for q in items]
    assert order == sorted(order), "interview order, as in the plain list"
    for item in items:
        assert set(item) == JSON_KEYS
        lo, hi = item["target_s"]
        assert isinstance(lo, int) and lo <= hi <= item["hard_limit_s"]
        assert item["source"] == "built-in"
        assert item["category"] in CATEGORIES
    first = items[0]
    assert first["id"] == "fm-what-happened"
    assert first["target_s"] == [60, 90] and first["hard_limit_s"] == 120
    assert first["follow_ups"] and first["tips"] and first["pitfalls"]
    assert first["example_answer"].startswith("Last cycle")


def test_category_filter_plain_and_json() -> None:
    code, out, _ = run("--category", "red-flag")
    assert code == 0
    assert out.startswith("9 questions in 1 category")
    assert "[red-flag]" in out and "[failed-match]" not in out
    code, out, _ = run("--json", "-c", "gap-year")
    items = json.loads(out)["questions"]
    assert items and {q["category"] for q in items} == {"gap-year"}
    assert {q["subtopic"] for q in items} == {"what-you-did", "what-changed"}


def test_id_shows_one_question_in_full() -> None:
    code, out, _ = run("--id", "wmp-why-not-categorical-im")
    assert code == 0
    assert out.startswith("wmp-why-not-categorical-im [why-med-peds]")
    for heading in ("Timing:", "Follow-ups:", "Tips:", "Pitfalls:", "Example answer:"):
        assert heading in out
    assert "Source: built-in" in out
    code, out, _ = run("--id", "rf-boards", "--json")
    (item,) = json.loads(out)["questions"]
    assert item["id"] == "rf-boards" and item["subtopic"] == "exam-failure"


def test_full_list_shows_examples() -> None:
    code, out, _ = run("-c", "weakness", "--full")
    assert code == 0
    assert out.count("Example answer:") == len(load_question_bank().by_category("weakness"))


def test_user_question_is_listed_and_marked() -> None:
    path = _write_user("mine.toml", USER_FILE)
    code, out, _ = run("-c", "backup-plan")
    assert code == 0
    assert "my-own (yours)" in out
    items = json.loads(run("--json", "-c", "backup-plan")[1])["questions"]
    mine = next(q for q in items if q["id"] == "my-own")
    assert mine["source"] == str(path)
    assert mine["example_answer"] == "" and mine["follow_ups"] == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--category", "red-flags"], "unknown category 'red-flags' — did you mean 'red-flag'"),
        (["-c", "whymedpeds"], "did you mean 'why-med-peds'"),
        (["--category", ""], "--category is empty"),
        (["--id", "fm-what-hapened"], "did you mean 'fm-what-happened'"),
        (["--id", "rf-boards", "-c", "weakness"], "is in category 'red-flag', not 'weakness'"),
        (["--colour"], "No such option"),
        (["--category"], "requires an argument"),
    ],
)
def test_bad_requests_are_one_line_errors(args: list[str], expected: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert expected in err
    assert "Traceback" not in err


def test_invalid_user_file_exit_2_names_file_and_key() -> None:
    path = _write_user("mine.toml", USER_FILE.replace("think_s = 10", "think_s = -3"))
    for args in ([], ["--json"], ["-c", "failed-match"]):
        code, out, err = run(*args)
        assert code == 2 and out == ""
        assert err.count("\n") == 1
        assert str(path) in err and "questions.my-own.think_s" in err


# --- as a real process ------------------------------------------------------------------------


def _coach(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_CONFIG_DIR": str(tmp_path / "config"), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "coach", "questions", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_process_json_and_errors(tmp_path: Path) -> None:
    ok = _coach(tmp_path, "--json", "-c", "failed-match")
    assert ok.returncode == 0, ok.stderr
    assert {q["category"] for q in json.loads(ok.stdout)["questions"]} == {"failed-match"}
    bad = _coach(tmp_path, "--category", "mistakes")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr == "error: unknown category 'mistakes' — did you mean 'mistake'?\n"


def test_process_invalid_user_file(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "questions"
    folder.mkdir(parents=True)
    (folder / "bad.toml").write_text('[[questions]]\nid = "x1"\ntext = "unterminated\n')
    result = _coach(tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(folder / "bad.toml") in result.stderr and "invalid TOML" in result.stderr


HEAVY = ("torch", "whisper", "faster_whisper", "ctranslate2", "textual", "sounddevice")


def test_questions_does_not_import_heavy_modules(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from coach.cli import cli\n"
        "try:\n"
        "    cli.main(['questions', '--json'], prog_name='coach')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "COACH_CONFIG_DIR": str(tmp_path / "config")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["questions"]
    assert result.stderr.strip().splitlines()[-1] == "HEAVY="
