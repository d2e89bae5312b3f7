"""The zero-network, nothing-outside-its-folders promise, checked on the real CLI under strace.

A spoken answer (espeak-ng speech) goes end to end through ``coach rehearse --realtime`` (live
transcription with Silero VAD on onnxruntime, faster-whisper, scoring, save) and then
``coach export latest --format html --out X``, each under ``strace -f``, with fresh XDG and HOME
folders and no ``COACH_*``/``HF_HUB_OFFLINE`` variables (the defaults a user gets). The test fails on

* any AF_INET/AF_INET6 ``connect``/``sendto``/``sendmsg``/``bind``, any packet to port 53 and any
  connect to nscd's socket (a name lookup); AF_UNIX and AF_NETLINK otherwise are local;
* any file opened for writing, created, renamed to, linked or made a folder outside the places
  listed in :func:`allowed_writes`.

Before the fix onnxruntime looked up ``mobile.events.data.microsoft.com`` and wrote a device id
under ``$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/``; both are caught here.
A second test runs the same answer in a fresh network namespace (``unshare -n``, root only).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.audio

ROOT = Path(__file__).resolve().parents[1]
STRACE = shutil.which("strace")
QUESTION = "fm-what-happened"
ANSWER = (
    "I did not match last year. I applied to too few programs, so this year I asked my "
    "mentors for honest feedback and applied more broadly."
)
APP = "medpeds-coach"

TRACED = (
    "trace=%network,open,openat,openat2,creat,rename,renameat,renameat2,"
    "mkdir,mkdirat,link,linkat,symlink,symlinkat,truncate,mknod,mknodat"
)


@dataclass
class Dirs:
    base: Path
    home: Path
    data: Path
    config: Path
    cache: Path
    state: Path
    runtime: Path
    cwd: Path
    out: Path

    @classmethod
    def make(cls, base: Path) -> Dirs:
        d = cls(
            base=base,
            home=base / "home",
            data=base / "xdg-data",
            config=base / "xdg-config",
            cache=base / "xdg-cache",
            state=base / "xdg-state",
            runtime=base / "xdg-runtime",
            cwd=base / "cwd",
            out=base / "out",
        )
        for p in (d.home, d.cwd, d.out, d.runtime):
            p.mkdir(mode=0o700, parents=True)
        return d

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("COACH_", "XDG_", "ORT_"))
            and k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}
        }
        env.update(
            HOME=str(self.home),
            XDG_DATA_HOME=str(self.data),
            XDG_CONFIG_HOME=str(self.config),
            XDG_CACHE_HOME=str(self.cache),
            XDG_STATE_HOME=str(self.state),
            XDG_RUNTIME_DIR=str(self.runtime),
            PYTHONPATH=str(ROOT),
        )
        return env


def allowed_writes(d: Dirs, out: Path) -> list[tuple[str, re.Pattern[str]]]:
    """Every place a coach run may write, each with the reason it is allowed."""
    esc = re.escape
    coach_dirs = "|".join(esc(str(p / APP)) for p in (d.data, d.config, d.cache))
    return [
        # The coach's own data (history, recordings), config and cache folders, and the
        # XDG parents it creates on the way to them (empty folders).
        ("coach's own folders", re.compile(rf"^({coach_dirs})(/.*)?$")),
        (
            "XDG parents",
            re.compile(rf"^({esc(str(d.data))}|{esc(str(d.config))}|{esc(str(d.cache))})$"),
        ),
        # The export the user asked for, and the private temporary file next to it that is
        # renamed onto it (atomic write).
        ("export target", re.compile(rf"^{esc(str(out))}$")),
        ("export temp", re.compile(rf"^{esc(str(out.parent))}/\.{esc(out.name)}\.[^/]+\.tmp$")),
        # POSIX semaphores (Python's multiprocessing locks, used by the libraries): memory
        # only, on tmpfs, unlinked straight away; they hold no data.
        ("POSIX semaphores", re.compile(r"^/dev/shm/sem\.[^/]+$")),
        # Python's bytecode cache of the code itself (source tree or venv): holds no user data.
        ("bytecode cache", re.compile(r"/__pycache__/[^/]+\.pyc(\.\d+)?$")),
        # Writing to the null device and the terminal is not storage.
        ("null device / tty", re.compile(r"^/dev/(null|tty|pts/\d+)$")),
    ]


_WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")
_OPEN = re.compile(r'^(open|openat|openat2)\((?:[^,]+, )?"([^"]*)", ([^,)]*)')
_PATH_CALLS = {
    "creat": 0,
    "mkdir": 0,
    "mkdirat": 1,
    "truncate": 0,
    "mknod": 0,
    "mknodat": 1,
    "rename": 1,
    "renameat": 3,
    "renameat2": 3,
    "link": 1,
    "linkat": 3,
    "symlink": 1,
    "symlinkat": 2,
}


def _string_positions(call: str) -> list[tuple[int, str]]:
    inner = call[call.index("(") + 1 : call.rindex(") = ")]
    out, pos = [], 0
    for part in re.findall(r'"(?:[^"\\]|\\.)*"|[^,]+', inner):
        part = part.strip()
        if not part:
            continue
        if part.startswith('"'):
            out.append((pos, part[1:-1]))
        pos += 1
    return out


@dataclass
class Trace:
    network: list[str]
    writes: list[str]  # absolute paths written or created


def read_trace(prefix: Path, cwd: Path) -> Trace:
    network: list[str] = []
    writes: list[str] = []
    for f in sorted(prefix.parent.glob(prefix.name + ".*")):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith(("+++", "---")) or " = -1 " in line:
                continue  # exits, signals, and calls that failed (wrote nothing)
            name = line.split("(", 1)[0]
            if name in {"connect", "sendto", "sendmsg", "bind", "sendmmsg"}:
                if "AF_INET" in line or "htons(53)" in line or "nscd" in line:
                    network.append(f"{f.name}: {line}")
                continue
            path: str | None = None
            m = _OPEN.match(line)
            if m:
                if _WRITE_FLAGS.search(m.group(3)):
                    path = m.group(2)
            elif name in _PATH_CALLS:
                positions = dict(_string_positions(line))
                path = positions.get(_PATH_CALLS[name])
            if path is None:
                continue
            full = Path(path) if path.startswith("/") else cwd / path
            writes.append(os.path.normpath(full))
    return Trace(network, writes)


def strace(args: list[str], d: Dirs, prefix: Path) -> subprocess.CompletedProcess[str]:
    assert STRACE, "strace is required (scripts/install-system-deps.sh installs it)"
    return subprocess.run(
        [
            STRACE,
            "-f",
            "-qq",
            "-s",
            "4096",
            "-ff",
            "-o",
            str(prefix),
            "-e",
            TRACED,
            sys.executable,
            "-m",
            "coach",
            *args,
        ],
        cwd=d.cwd,
        env=d.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def check(trace: Trace, d: Dirs, out: Path) -> None:
    assert trace.network == [], "network use:\n" + "\n".join(trace.network)
    rules = allowed_writes(d, out)
    stray = sorted({w for w in trace.writes if not any(r.search(w) for _, r in rules)})
    assert stray == [], "written outside the coach's folders:\n" + "\n".join(stray)


@pytest.mark.skipif(STRACE is None, reason="needs strace (scripts/install-system-deps.sh)")
def test_a_spoken_answer_and_its_export_use_no_network_and_write_only_their_folders(
    tmp_path: Path, speech: Callable[..., Path]
) -> None:
    wav = speech(ANSWER)
    d = Dirs.make(tmp_path / "run")
    out = d.out / "X.html"

    done = strace(
        ["rehearse", "--question", QUESTION, "--audio", str(wav), "--realtime"],
        d,
        tmp_path / "rehearse",
    )
    assert done.returncode == 0, done.stderr
    assert "Saved as attempt 1" in done.stdout and "Overall" in done.stdout
    rehearse = read_trace(tmp_path / "rehearse", d.cwd)
    # The parser sees the writes (otherwise an empty list would prove nothing).
    assert any(w.endswith(f"{APP}/history.sqlite3") for w in rehearse.writes)
    assert any(w.endswith(".wav") for w in rehearse.writes)
    check(rehearse, d, out)

    done = strace(["export", "latest", "--format", "html", "--out", str(out)], d, tmp_path / "exp")
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "<html" in out.read_text(encoding="utf-8").lower()
    export = read_trace(tmp_path / "exp", d.cwd)
    assert str(out) in export.writes
    check(export, d, out)

    # Nothing landed in HOME or the working folder either (belt and braces for the trace).
    assert list(d.home.rglob("*")) == [] and list(d.cwd.rglob("*")) == []
    assert not (d.cache / "Microsoft").exists()


def _unshare_works() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _unshare_works(), reason="needs root and unshare -n")
def test_a_spoken_answer_works_in_a_namespace_without_network(
    tmp_path: Path, speech: Callable[..., Path]
) -> None:
    """No network device at all (not even loopback up): the answer is still transcribed,
    scored, saved and exported, so nothing depends on the network."""
    wav = speech(ANSWER)
    d = Dirs.make(tmp_path / "run")
    out = d.out / "X.html"
    for args in (
        ["rehearse", "--question", QUESTION, "--audio", str(wav), "--realtime"],
        ["export", "latest", "--format", "html", "--out", str(out)],
    ):
        done = subprocess.run(
            ["unshare", "-n", sys.executable, "-m", "coach", *args],
            cwd=d.cwd,
            env=d.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    assert out.is_file()
    assert not (d.cache / "Microsoft").exists() and list(d.home.rglob("*")) == []
