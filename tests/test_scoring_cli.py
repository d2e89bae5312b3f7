"""``coach score``: JSON and plain output, every bad input, fast start, and a real spoken answer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from coach import paths
from coach.cli import cli

ANSWER = (
    "Last year I applied only to Med-Peds, at about fifteen programs in one region, and I did "
    "not match. It felt unfair at first. With my advisor I saw that my list was too narrow. "
    "Since then I have worked as a clinical research coordinator in a transition clinic and "
    "earned new letters. This year I am applying more broadly, and I am ready to contribute."
)


def run(
    args: Sequence[str], *, stdin: str | bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``coach ...`` in a fresh interpreter, as a user or another tool would run it."""
    data = stdin.decode("latin-1") if isinstance(stdin, bytes) else stdin
    return subprocess.run(
        [sys.executable, "-m", "coach", *args],
        input=data if data is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def answer_file(tmp_path: Path) -> Path:
    path = tmp_path / "answer.txt"
    path.write_text(ANSWER + "\n", encoding="utf-8")
    return path


def check_report(data: dict[str, Any], *, spoken: bool = False) -> None:
    """The JSON contract other tools rely on."""
    assert 0 <= data["overall"] <= 100
    ids = [c["id"] for c in data["criteria"]]
    assert ids[:4] == ["brevity", "factual_tone", "growth_focus", "content"]
    assert ("delivery" in ids) is spoken
    text = data["text"]
    for c in data["criteria"]:
        assert set(c) >= {"id", "score", "passed", "feedback", "evidence"}
        assert 0 <= c["score"] <= 100 and isinstance(c["passed"], bool) and c["feedback"]
        for e in c["evidence"]:
            assert set(e) >= {"start", "end", "text", "effect"}
            assert e["effect"] in ("+", "-")
            assert text[e["start"] : e["end"]] == e["text"]
    stats = data["stats"]
    assert stats["words"] > 0 and stats["sentences"] > 0
    audio_keys = {"duration_s", "wpm", "fillers", "long_pauses"}
    assert audio_keys <= set(stats) if spoken else not audio_keys & set(stats)


# -- typed answers ---------------------------------------------------------------------------


def test_score_a_text_file_as_json(answer_file: Path) -> None:
    out = run(["score", "--category", "failed-match", "--text", str(answer_file), "--json"])
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    check_report(data)
    assert data["category"] == "failed-match" and data["question_id"] is None
    assert data["text"] == ANSWER + "\n"
    tone = next(c for c in data["criteria"] if c["id"] == "factual_tone")
    assert {"start": ANSWER.index("unfair"), "text": "unfair", "effect": "-"}.items() <= next(
        e for e in tone["evidence"] if e["text"] == "unfair"
    ).items()


def test_score_reads_standard_input() -> None:
    for args in (["--text", "-"], []):
        out = run(["score", "--question", "fm-what-happened", *args, "--json"], stdin=ANSWER)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        check_report(data)
        assert data["question_id"] == "fm-what-happened" and data["text"] == ANSWER


def test_plain_output_explains_each_criterion(answer_file: Path) -> None:
    out = run(["score", "--category", "failed-match", "--text", str(answer_file)])
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("Overall ") and "/100" in text.splitlines()[0]
    for name in ("Brevity", "Factual tone", "Growth focus", "Content"):
        assert name in text
    assert "Transcript:" not in text
    # Evidence: what earned or cost points, and why.
    assert "- “unfair” (sounds like blaming programs, the Match or others)" in text
    assert "+ “Since then” (a concrete step you took since)" in text
    assert "Stats: " in text and "words" in text.splitlines()[-1]


def test_plain_output_shortens_long_evidence(tmp_path: Path) -> None:
    long_answer = ANSWER + (" I kept going on about the interviews and the programs." * 20)
    path = tmp_path / "long.txt"
    path.write_text(long_answer, encoding="utf-8")
    out = run(["score", "--category", "failed-match", "--text", str(path)])
    assert out.returncode == 0
    assert "…" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) < 160


def test_text_scoring_never_imports_torch_or_whisper(answer_file: Path) -> None:
    code = (
        "import sys\n"
        "from coach.cli import cli\n"
        f"args = ['score', '--category', 'failed-match', '--text', {str(answer_file)!r}, '--json']\n"
        "try:\n"
        "    cli.main(args, prog_name='coach')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('torch', 'whisper', 'faster_whisper', 'ctranslate2', 'textual')\n"
        "print('HEAVY:' + ','.join(m for m in heavy if m in sys.modules))\n"
        "print('ONNX:' + str('onnxruntime' in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-2] == "HEAVY:"
    # onnxruntime is the semantic layer's sentence encoder (issue 11): text scoring loads it,
    # and nothing else heavy.
    assert out.stdout.strip().splitlines()[-1] == "ONNX:True"


# -- bad input: one line on stderr, exit 2, no traceback -------------------------------------


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str | bytes | None, str]]:
    empty = tmp / "empty.txt"
    empty.write_text("", encoding="utf-8")
    blank = tmp / "blank.txt"
    blank.write_text("  \n\t\n", encoding="utf-8")
    punct = tmp / "punct.txt"
    punct.write_text("... ?! --", encoding="utf-8")
    latin = tmp / "latin1.txt"
    latin.write_bytes("Je n’ai pas été accepté, déçu.".encode("cp1252"))
    folder = tmp / "folder"
    folder.mkdir()
    ok = tmp / "ok.txt"
    ok.write_text(ANSWER, encoding="utf-8")
    not_audio = tmp / "not-audio.wav"
    not_audio.write_text("this is not a wave file", encoding="utf-8")
    fm = ["--category", "failed-match"]
    return [
        (["--question", "fm-nope", "--text", str(ok)], None, "unknown question 'fm-nope'"),
        (["--category", "failed-mach", "--text", str(ok)], None, "did you mean 'failed-match'"),
        (["--category", "", "--text", str(ok)], None, "--category is empty"),
        ([*fm, "--text", str(empty)], None, "is empty"),
        ([*fm, "--text", str(blank)], None, "is empty"),
        ([*fm, "--text", "-"], "   \n", "standard input is empty"),
        ([*fm], "", "standard input is empty"),
        ([*fm, "--text", str(punct)], None, "no words"),
        ([*fm, "--text", str(tmp / "missing.txt")], None, "no such file"),
        ([*fm, "--text", str(folder)], None, "is a folder"),
        ([*fm, "--text", str(latin)], None, "is not UTF-8 text"),
        (["--question", "fm-what-happened", *fm, "--text", str(ok)], None, "exactly one of"),
        (["--text", str(ok)], None, "exactly one of"),
        ([*fm, "--text", str(ok), "--audio", str(not_audio)], None, "not both"),
        ([*fm, "--text", str(ok), "--engine", "whisper"], None, "only apply to --audio"),
        ([*fm, "--text", str(ok), "--model", "base.en"], None, "only apply to --audio"),
        ([*fm, "--audio", str(not_audio), "--engine", "vosk"], None, "unknown engine 'vosk'"),
        ([*fm, "--audio", str(tmp / "missing.wav")], None, "no such file"),
        ([*fm, "--audio", str(not_audio)], None, str(not_audio)),
        (["--question"], None, "requires an argument"),
        ([*fm, "--text", str(ok), "--colour"], None, "No such option"),
    ]


def test_every_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    cases = _bad_inputs(tmp_path)
    # One interpreter for all cases (each would otherwise pay the start-up cost).
    for args, stdin, expected in cases:
        result = CliRunner().invoke(cli, ["score", *args], input=stdin)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), (args, result.exception)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("error: ") and expected in lines[0], (args, lines)
        assert "Traceback" not in result.stderr
        assert result.stdout == "", (args, result.stdout)


@pytest.mark.parametrize("args", [["--category", "nope"], ["--text", "/no/such/file.txt"]])
def test_bad_input_from_a_real_process_has_no_traceback(args: list[str]) -> None:
    out = run(["score", "--category", "weakness", *args] if "--text" in args else ["score", *args])
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_an_invalid_rubric_override_is_one_line_naming_file_and_key(answer_file: Path) -> None:
    folder = paths.config_dir() / "rubrics"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_text("[criteria.brevity]\nthreshold = 300\n", encoding="utf-8")
    out = run(["score", "--category", "failed-match", "--text", str(answer_file)])
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "mine.toml" in out.stderr and "'criteria.brevity.threshold'" in out.stderr


# -- spoken answers (real speech, real Whisper) ----------------------------------------------

SPOKEN = (
    "Last year I did not match in Med-Peds. I applied to too few programs. Since then I have "
    "worked as a research coordinator in a transition clinic, and this year I am applying more "
    "broadly."
)


@pytest.fixture
def shared_engine(monkeypatch: pytest.MonkeyPatch, faster_engine: Any) -> Any:
    """``coach score --audio`` uses the session's loaded faster-whisper engine (no reload)."""
    import coach.audio.engines as engines

    def create(name: str = engines.DEFAULT_ENGINE, model: str | None = None, **_: Any) -> Any:
        assert name == "faster-whisper" and model is None
        return faster_engine

    monkeypatch.setattr(engines, "create_engine", create)
    return faster_engine


@pytest.mark.audio
@pytest.mark.slow
@pytest.mark.e2e
def test_score_a_spoken_answer(speech: Callable[..., Path], shared_engine: Any) -> None:
    wav = speech(SPOKEN, rate=150)
    result = CliRunner().invoke(
        cli, ["score", "--question", "fm-what-happened", "--audio", str(wav), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    check_report(data, spoken=True)
    stats = data["stats"]
    assert stats["duration_s"] > 5 and 90 <= stats["wpm"] <= 220
    assert stats["fillers"] == 0 and stats["long_pauses"] == 0
    assert "research coordinator" in data["text"].lower()
    content = next(c for c in data["criteria"] if c["id"] == "content")
    assert content["passed"], content
    plain = CliRunner().invoke(cli, ["score", "--category", "failed-match", "--audio", str(wav)])
    assert plain.exit_code == 0
    assert "Transcript:" in plain.stdout and "Delivery" in plain.stdout
    assert "words/min" in plain.stdout


@pytest.mark.audio
@pytest.mark.slow
def test_silence_is_no_speech_not_an_empty_score(tmp_path: Path, shared_engine: Any) -> None:
    wav = tmp_path / "silence.wav"
    sf.write(wav, np.zeros(16000 * 2, dtype=np.float32), 16000, subtype="PCM_16")
    result = CliRunner().invoke(cli, ["score", "--category", "failed-match", "--audio", str(wav)])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"error: {wav}: no speech detected — check the recording, or re-record the answer"
    )


def test_plain_output_counts_repeated_evidence_once(tmp_path: Path) -> None:
    path = tmp_path / "repeat.txt"
    path.write_text(ANSWER + " It was unfair. Really unfair. So unfair.", encoding="utf-8")
    result = CliRunner().invoke(cli, ["score", "--category", "failed-match", "--text", str(path)])
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("    - “unfair”")]
    assert lines == ["    - “unfair” ×4 (sounds like blaming programs, the Match or others)"]
