"""Bad input and broken surroundings through the real CLI: one line, exit 2, no traceback.

The table runs each case as a user would (``python -m coach ...`` in a subprocess, fresh XDG
folders, no ``COACH_*`` variables) and checks the exit code, that stderr is exactly one line
starting with ``error: `` (with the words that say what and how to fix), and that nothing was
recorded, written or changed. Cases that need more than one command (a folder of another
user, the overwrite question on a terminal, a closed pipe) follow the table; the faults about
data (a lock at save time, file modes under umask 000, WAV headers, long files) are in
``tests/test_faults_data.py``. Every table case except the ``--seconds nan|inf|-inf`` ones of
``record`` (kept as regressions) failed before issue 16 was fixed (a traceback, two lines,
exit 0 or 1, or a replaced file).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from coach.store import DB_NAME

ROOT = Path(__file__).resolve().parents[1]
APP = "medpeds-coach"
QUESTION = "fm-what-happened"
ANSWER = "I did not match last year. I asked my mentors for honest feedback and applied broadly."


@dataclass
class Home:
    """A user's folders for one case: XDG dirs under ``base`` and the coach's own inside them."""

    base: Path

    @property
    def data(self) -> Path:
        return self.base / "xdg-data" / APP

    @property
    def config(self) -> Path:
        return self.base / "xdg-config" / APP

    @property
    def db(self) -> Path:
        return self.data / DB_NAME

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "XDG_"))}
        env.update(
            HOME=str(self.base / "home"),
            XDG_DATA_HOME=str(self.base / "xdg-data"),
            XDG_CONFIG_HOME=str(self.base / "xdg-config"),
            XDG_CACHE_HOME=str(self.base / "xdg-cache"),
            PYTHONPATH=str(ROOT),
            HF_HUB_OFFLINE="1",
        )
        # The embedded model's converted checkpoint is shared with the other tests.
        if "COACH_CACHE_DIR" in os.environ:
            env["COACH_CACHE_DIR"] = os.environ["COACH_CACHE_DIR"]
        return env


def coach(
    home: Home,
    args: list[str],
    *,
    stdin: bytes | None = None,
    stdout: int | None = subprocess.PIPE,
    prefix: tuple[str, ...] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    (home.base / "home").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "coach", *args],
        env=home.env(),
        cwd=home.base / "home",
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace") if done.stdout else "",
        done.stderr.decode("utf-8", "replace"),
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- set-ups


def _history(home: Home) -> None:
    """A real history with one session (saved through the store, as the app saves)."""
    from coach.scoring import score_answer
    from coach.store import Store

    home.data.mkdir(parents=True, exist_ok=True)
    with Store.open(home.db) as store:
        sid = store.start_session("solo")
        report = score_answer(ANSWER, question=None, category="failed-match")
        store.save_attempt(
            sid, question_id=None, category="failed-match", text=ANSWER, report=report
        )
        store.finish_session(sid)


def _data_dir_is_a_file(home: Home) -> None:
    home.data.parent.mkdir(parents=True)
    home.data.write_text("not a folder")


def _data_dir_of_another_user(home: Home) -> None:
    # As after one `sudo coach`: the folder belongs to someone else and is private to them.
    home.data.mkdir(parents=True)
    os.chown(home.data, 65534, 65534)
    os.chmod(home.data, 0o700)


def _recording_of_another_user(home: Home) -> None:
    # A recording left 0644 and owned by root by one `sudo coach`: making it private fails.
    _history(home)
    wav = home.data / "recordings" / "old.m4a"
    wav.parent.mkdir(exist_ok=True)
    wav.write_bytes(b"RIFF")
    os.chmod(wav, 0o644)
    os.chown(wav, 65534, 65534)


def _history_of_another_user(home: Home) -> None:
    _history(home)
    os.chown(home.db, 65534, 65534)


def _damaged(home: Home) -> None:
    _history(home)
    with sqlite3.connect(home.db) as c:
        pages = c.execute("PRAGMA page_count").fetchone()[0]
    assert pages >= 3
    with home.db.open("r+b") as f:  # a b-tree page's header overwritten
        f.seek(4096 * (pages - 1))
        f.write(bytes(range(256)) * 4)


def _empty_history(home: Home) -> None:
    home.data.mkdir(parents=True)
    home.db.write_bytes(b"")
    old = time.time() - 3600
    os.utime(home.db, (old, old))


def _out(home: Home) -> Path:
    return home.base / "out"


def _with_out(make: Callable[[Path], None]) -> Callable[[Home], None]:
    def setup(home: Home) -> None:
        _history(home)
        out = _out(home)
        out.mkdir()
        make(out)

    return setup


def _fifo(out: Path) -> None:
    os.mkfifo(out / "pipe.md")


def _link(out: Path) -> None:
    (out / "real.md").write_text("my notes\n")
    (out / "link.md").symlink_to(out / "real.md")


def _existing(out: Path) -> None:
    (out / "notes.md").write_text("my notes\n")


def _folder_in_the_way(out: Path) -> None:
    (out / "coach-session-1.md").mkdir()


# Drop the capabilities that let root ignore file modes, so "belongs to another user" bites.
DROP_DAC = (
    "setpriv",
    "--inh-caps=-all",
    "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown",
)
CAN_DROP_DAC = os.geteuid() == 0 and shutil.which("setpriv") is not None


@dataclass
class Case:
    id: str
    args: list[str]
    needles: tuple[str, ...]
    setup: Callable[[Home], None] | None = None
    stdin: bytes | None = None
    stdout_path: str | None = None
    prefix: tuple[str, ...] = ()
    needs: str = ""
    unchanged: list[str] = field(default_factory=list)  # files (relative to base) to compare


WAV = "{speech}"

CASES = [
    # 3. folders that cannot be used: one line with the fix, before anything is recorded.
    Case(
        "rehearse-data-dir-is-a-file",
        ["rehearse", "--question", QUESTION, "--audio", WAV],
        ("is a file, not a folder", "move"),
        _data_dir_is_a_file,
    ),
    Case(
        "record-data-dir-is-a-file",
        ["record", "{base}/answer.wav", "--seconds", "1"],
        ("is a file, not a folder",),
        _data_dir_is_a_file,
    ),
    Case("history-data-dir-is-a-file", ["history"], ("is a file",), _data_dir_is_a_file),
    Case(
        "rehearse-data-dir-of-another-user",
        ["rehearse", "--question", QUESTION, "--audio", WAV],
        ("belongs to nobody", "sudo chown -R"),
        _data_dir_of_another_user,
        prefix=DROP_DAC,
        needs="root",
    ),
    Case(
        "record-data-dir-of-another-user",
        ["record", "{base}/answer.wav", "--seconds", "1"],
        ("belongs to nobody", "sudo chown -R"),
        _data_dir_of_another_user,
        prefix=DROP_DAC,
        needs="root",
    ),
    Case(
        "history-recording-of-another-user",
        ["history"],
        ("belongs to nobody", "sudo chown -R"),
        _recording_of_another_user,
        prefix=DROP_DAC,
        needs="root",
    ),
    Case(
        "rehearse-history-of-another-user",
        ["rehearse", "--question", QUESTION, "--audio", WAV],
        ("belongs to nobody", "sudo chown -R"),
        _history_of_another_user,
        prefix=DROP_DAC,
        needs="root",
    ),
    # 4. ids and numbers.
    Case("export-unicode-digit", ["export", "²"], ("'²' is not a session id",), _history),
    Case("export-arabic-digit", ["export", "١"], ("is not a session id",), _history),
    Case("export-id-2^63", ["export", str(2**63)], ("there is no session",), _history),
    Case("export-huge-id", ["export", "9" * 30], ("there is no session",), _history),
    Case(
        "delete-attempt-2^63",
        ["delete", "attempt", str(2**63), "--yes"],
        ("there is no attempt",),
        _history,
    ),
    Case("delete-session-superscript", ["delete", "session", "³", "--yes"], ("not a session id",)),
    *(
        Case(
            f"{cmd}-seconds-{value}",
            [*pre, "--seconds", value],
            ("--seconds",),
        )
        for cmd, pre in (
            ("record", ["record", "{base}/answer.wav"]),
            ("rehearse", ["rehearse", "--question", QUESTION]),
        )
        for value in ("nan", "inf", "-inf", "1e308")
    ),
    Case(
        "rehearse-silence-nan",
        ["rehearse", "--question", QUESTION, "--silence", "nan"],
        ("--silence",),
    ),
    Case(
        "rehearse-silence-inf",
        ["rehearse", "--question", QUESTION, "--silence", "inf"],
        ("--silence",),
    ),
    # 5. a damaged database: SQLite's multi-line report on one line; the file is untouched.
    Case(
        "history-damaged-db",
        ["history"],
        ("damaged", "left untouched"),
        _damaged,
        unchanged=[f"xdg-data/{APP}/{DB_NAME}"],
    ),
    # 11. a 0-byte history file is reported, not silently replaced by an empty history.
    Case(
        "history-empty-db-file",
        ["history"],
        ("empty (0 bytes)",),
        _empty_history,
        unchanged=[f"xdg-data/{APP}/{DB_NAME}"],
    ),
    # 7. export targets that are not a new or agreed-to regular file.
    Case(
        "export-to-a-device",
        ["export", "1", "--out", "{device}"],
        ("is a device",),
        _history,
    ),
    Case(
        "export-to-fifo",
        ["export", "1", "--out", "{base}/out/pipe.md"],
        ("named pipe",),
        _with_out(_fifo),
    ),
    Case(
        "export-to-symlink",
        ["export", "1", "--out", "{base}/out/link.md"],
        ("symbolic link", "--out {base}/out/real.md"),
        _with_out(_link),
        unchanged=["out/real.md"],
    ),
    Case(
        "export-over-existing-file-no-terminal",
        ["export", "1", "--out", "{base}/out/notes.md"],
        ("already exists", "--force"),
        _with_out(_existing),
        unchanged=["out/notes.md"],
    ),
    Case(
        "export-folder-where-the-file-goes",
        ["export", "1", "--out", "{base}/out"],
        ("is a folder",),
        _with_out(_folder_in_the_way),
    ),
    # 8. standard input that is not a typed answer.
    Case(
        "score-random-bytes",
        ["score", "--question", QUESTION, "--text", "-"],
        ("not UTF-8",),
        stdin=bytes(np.random.default_rng(16).integers(0, 256, 4000, dtype=np.uint8)),
    ),
    Case(
        "score-latin-1",
        ["score", "--question", QUESTION, "--text", "-"],
        ("not UTF-8",),
        stdin="Je n'ai pas été retenu l'an dernier.".encode("latin-1"),
    ),
    Case(
        "score-control-bytes",
        ["score", "--question", QUESTION, "--text", "-"],
        ("control character", "U+001B"),
        stdin=b"I did not match\x1b[2J last year.",
    ),
    Case(
        "score-nul-byte",
        ["score", "--question", QUESTION, "--text", "-"],
        ("control character", "U+0000"),
        stdin=b"I did not match\x00 last year.",
    ),
    # 9. standard output that cannot be written.
    Case(
        "questions-json-to-dev-full",
        ["questions", "--json"],
        ("cannot write the output", "No space left"),
        stdout_path="/dev/full",
    ),
    Case(
        "score-to-dev-full",
        ["score", "--question", QUESTION, "--text", "-"],
        ("cannot write the output",),
        stdin=ANSWER.encode(),
        stdout_path="/dev/full",
    ),
]


def _device_node(tmp_path: Path) -> str:
    """A device node to export to. As root, a private copy of /dev/full's node: code with the
    bug replaces the node it is given, and running this test against it once replaced the
    real /dev/full with a regular file. Other users cannot replace anything in /dev."""
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode), "/dev/full is not a device; recreate it"
    if os.geteuid() != 0:
        return "/dev/full"
    node = tmp_path / "full-device"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    return str(node)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_one_line_exit_2_no_traceback(
    case: Case, tmp_path: Path, speech: Callable[..., Path]
) -> None:
    if case.needs == "root" and not CAN_DROP_DAC:
        pytest.skip("needs root and setpriv to drop the file-permission capabilities")
    home = Home(tmp_path)
    if case.setup is not None:
        case.setup(home)
    before = {p: (tmp_path / p).read_bytes() for p in case.unchanged}
    wav = str(speech(ANSWER)) if any(WAV in a for a in case.args) else ""

    device = _device_node(tmp_path)

    def fill(text: str) -> str:
        return text.replace(WAV, wav).replace("{base}", str(tmp_path)).replace("{device}", device)

    out_file = open(case.stdout_path, "wb") if case.stdout_path else None  # noqa: SIM115
    try:
        done = coach(
            home,
            [fill(a) for a in case.args],
            stdin=case.stdin,
            stdout=out_file.fileno() if out_file else subprocess.PIPE,
            prefix=case.prefix,
        )
    finally:
        if out_file:
            out_file.close()
    assert_one_line_error(done, *(fill(n) for n in case.needles))
    assert "Question (" not in done.stdout  # nothing started
    for p, content in before.items():
        assert (tmp_path / p).read_bytes() == content, p
    # Nothing recorded anywhere.
    assert not list(tmp_path.rglob("*.wav")), list(tmp_path.rglob("*.wav"))


def test_a_folder_of_another_user_fails_before_the_answer_is_transcribed(
    tmp_path: Path, speech: Callable[..., Path]
) -> None:
    """`rehearse` used to transcribe and score, then crash on saving; now it stops at once."""
    if not CAN_DROP_DAC:
        pytest.skip("needs root and setpriv")
    home = Home(tmp_path)
    _data_dir_of_another_user(home)
    start = time.monotonic()
    done = coach(
        home,
        ["rehearse", "--question", QUESTION, "--audio", str(speech(ANSWER))],
        prefix=DROP_DAC,
    )
    assert_one_line_error(done, "belongs to nobody")
    assert "…" not in done.stderr and done.stdout == ""  # no live transcript: nothing started
    assert time.monotonic() - start < 20


def test_export_force_replaces_and_a_terminal_is_asked(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _history(home)
    target = tmp_path / "notes.md"
    target.write_text("my notes\n")
    done = coach(home, ["export", "1", "--out", str(target), "--force"])
    assert done.returncode == 0, done.stderr
    assert target.read_text().startswith("# Practice session 1")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # On a terminal the user is asked; "n" keeps the file.
    target.write_text("my notes\n")
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "coach", "export", "1", "--out", str(target)],
            env=home.env(),
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        seen = b""
        deadline = time.monotonic() + 60
        while b"Replace it?" not in seen and time.monotonic() < deadline:
            seen += os.read(leader, 1024)
        os.write(leader, b"n\n")
        proc.wait(timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert b"already exists. Replace it?" in seen
    assert proc.returncode == 2
    assert target.read_text() == "my notes\n"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """EPIPE: the reader chose to stop (`| head`), so no message, exit 1 (click's convention)."""
    home = Home(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = coach(home, ["questions", "--json"], stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""


def test_a_folder_error_names_the_os_cause(tmp_path: Path) -> None:
    """Neither a file in the way nor another owner: the OS's own reason, still one line."""
    from coach.paths import folder_error

    err = folder_error(tmp_path / "x", OSError(errno.EROFS, "Read-only file system"))
    assert "Read-only file system" in str(err) and "\n" not in str(err)
