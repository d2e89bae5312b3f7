"""``coach export`` with the patient-detail guard, as subprocesses on a real history.

Without a terminal the guard redacts what it finds (recordings then leave the export);
``--keep KIND`` keeps a kind; in a terminal (a real pty here) the user chooses per kind or
reviews one by one; the applicant's own name in the settings is never flagged.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from coach import paths
from tests.coach_process import COACH, assert_one_line_error
from tests.test_cli_history import populate, run


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    return populate(tmp_path)


def _export_json(
    tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path / "out.json"
    done = run(["export", "latest", "-f", "json", "-o", str(out), "--force", *extra])
    assert done.returncode == 0, done.stderr
    return done, json.loads(out.read_text(encoding="utf-8"))


def test_without_a_terminal_what_the_guard_finds_is_redacted(
    history: dict[str, Any], tmp_path: Path
) -> None:
    done, doc = _export_json(tmp_path)
    text = json.dumps(doc)
    assert "Okafor" not in text and "[redacted]" in text
    assert doc["redacted"] is True and doc["audio"] == "omitted: redacted"
    assert all(a["audio"] is None for a in doc["attempts"])
    assert "[redacted] helped me see why" in doc["attempts"][0]["text"]
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("patient-detail guard: redacted 2 person names")
    assert "recordings are left out" in lines[1]


def test_keep_a_kind_and_the_applicants_own_name(history: dict[str, Any], tmp_path: Path) -> None:
    done, doc = _export_json(tmp_path, "--keep", "names")
    assert "Dr. Okafor helped me" in doc["attempts"][0]["text"]
    assert doc["redacted"] is False and doc["attempts"][0]["audio"]["exists"] is True
    assert "kept 2 person names" in done.stderr
    # Their own name in the settings is theirs, not a patient's: nothing to redact.
    (paths.config_dir() / "settings.toml").write_text('own_names = ["Okafor"]\n')
    done, doc = _export_json(tmp_path)
    assert doc["redacted"] is False and "Dr. Okafor" in doc["attempts"][0]["text"]
    assert done.stderr == ""


def test_bad_guard_options_are_one_line_errors(history: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "never.md"
    assert_one_line_error(
        run(["export", "latest", "-o", str(out), "--keep", "patients"]),
        "--keep 'patients' is not a kind",
        "name, age, date",
    )
    assert_one_line_error(
        run(["export", "latest", "-o", str(out), "--review"]), "needs a terminal", "--keep"
    )
    assert_one_line_error(
        run(["export", "latest", "-o", str(out), "--redact-all", "--keep", "date"]),
        "cannot be combined",
    )
    (paths.config_dir() / "settings.toml").write_text("own_names = 3\n")
    done = run(["export", "latest", "-o", str(out)])
    assert done.returncode == 0 and "settings not read" in done.stderr
    assert "Okafor" not in out.read_text()


def _in_a_terminal(
    tmp_path: Path, keys: bytes
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``coach export`` with stdin on a real pseudo-terminal, typing ``keys``."""
    out = tmp_path / "typed.json"
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [*COACH, "export", "latest", "-f", "json", "-o", str(out), "--force"],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(slave)
        os.write(master, keys)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        os.close(master)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert done.returncode == 0, stderr
    return done, json.loads(out.read_text(encoding="utf-8"))


def test_in_a_terminal_the_user_chooses_per_kind(history: dict[str, Any], tmp_path: Path) -> None:
    done, doc = _in_a_terminal(tmp_path, b"k\n")
    assert "person names: Dr. Okafor" in done.stderr
    assert "[r]edact, [k]eep or re[v]iew" in done.stderr
    assert doc["redacted"] is False and "Dr. Okafor" in doc["attempts"][0]["text"]
    done, doc = _in_a_terminal(tmp_path, b"\n")  # Enter: the default, redact
    assert doc["redacted"] is True and "Okafor" not in json.dumps(doc)


def test_in_a_terminal_review_asks_once_per_distinct_text(
    history: dict[str, Any], tmp_path: Path
) -> None:
    done, doc = _in_a_terminal(tmp_path, b"v\nn\n")
    assert done.stderr.count("redact 'Dr. Okafor' (person names)") == 1
    assert "helped me see why" in done.stderr  # the context is shown
    assert doc["redacted"] is False
    done, doc = _in_a_terminal(tmp_path, b"v\ny\n")
    assert doc["redacted"] is True and "Okafor" not in json.dumps(doc)


def test_the_apps_export_redacts_what_the_guard_finds(
    history: dict[str, Any], tmp_path: Path
) -> None:
    from coach.core import library

    service = library.StoreHistory(library.BankSource(), export_dir=tmp_path)
    try:
        out = service.export_latest("json")
    finally:
        service.store.close()
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["redacted"] is True and "Okafor" not in json.dumps(doc)
    assert doc["audio"] == "omitted: redacted"


def test_guard_findings_are_redacted_as_whole_words_only() -> None:
    """A short name the guard found ("Eli") must not cut "delivery" or "Delivery" apart."""
    from coach.export import export_session
    from coach.guard.share import redaction_terms, scan_session
    from coach.store import Store
    from tests.history_factories import make_report

    text = (
        "On Christmas Eve I met a boy named Eli, and my delivery of bad news improved; Eli was 4."
    )
    with Store.open() as store:
        sid = store.start_session("solo")
        store.save_attempt(
            sid, question_id=None, category="mistake", text=text, report=make_report(text)
        )
        report = scan_session(store, sid)
        terms = redaction_terms(report.hits)
        assert terms == ["Christmas Eve", "Eli", "was 4"]
        doc = json.loads(export_session(store, sid, "json", redact_words=terms))
    answer = doc["attempts"][0]["text"]
    assert answer == (
        "On [redacted] I met a boy named [redacted], and my delivery of bad news improved; "
        "[redacted] [redacted]."
    )
    assert "Delivery" in [c["name"] for c in doc["attempts"][0]["criteria"]]
