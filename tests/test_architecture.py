"""Layering rules: the domain and audio code never import Textual, and text scoring stays light.

The layers themselves (front ends -> core -> domain -> questions -> audio -> shared) are
import-linter contracts in pyproject.toml, run by `make test` and by the test below.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coach"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


NON_UI = sorted(p for p in PACKAGE.rglob("*.py") if "tui" not in p.relative_to(PACKAGE).parts)


@pytest.mark.parametrize("path", NON_UI, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_domain_and_audio_never_import_textual(path: Path) -> None:
    assert "textual" not in _imports(path), f"{path} imports textual; keep the UI in coach/tui/"


def test_the_import_linter_layers_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is missing: install the dev extras (make test does)"
    env = dict(os.environ, PYTHONPATH=str(PACKAGE.parent))
    done = subprocess.run(
        [lint, "--no-cache"],
        cwd=PACKAGE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


# ---------------------------------------------------------------- onnxruntime telemetry guard
# onnxruntime phones home (DNS) and writes a device id under ~/.cache/Microsoft unless
# ORT_DISABLE_TELEMETRY=1 is set before it is first imported (see coach/ort.py).

ONNX_LOADERS = {"onnxruntime", "faster_whisper", "ctranslate2"}


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside a function): loaded as soon as it is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


ALL_MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", ALL_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_onnxruntime_is_imported_only_through_coach_ort(path: Path) -> None:
    if path == PACKAGE / "ort.py":
        return
    assert "onnxruntime" not in _imports(path), (
        f"{path} imports onnxruntime directly; use coach.ort.load() (telemetry off first)"
    )
    # Lazy, so that nothing can load them before coach/__init__ has set the guard.
    assert not (_top_level_imports(path) & ONNX_LOADERS), (
        f"{path} imports an onnxruntime loader at module level; import it where it is used"
    )


def _run(code: str, env_extra: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(env_extra, HOME=str(home), PYTHONPATH=str(PACKAGE.parent))
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("user_value", [None, "0"])
def test_import_coach_forces_telemetry_off(tmp_path: Path, user_value: str | None) -> None:
    extra = {} if user_value is None else {"ORT_DISABLE_TELEMETRY": user_value}
    done = _run(
        "import os, sys, coach; print(os.environ['ORT_DISABLE_TELEMETRY']);"
        "print('onnxruntime' in sys.modules)",
        extra,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]


# Records the variable at the moment onnxruntime is imported, whoever imports it.
_HOOK = """
import importlib.abc, os, sys
seen = []
class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "onnxruntime":
            seen.append(os.environ.get("ORT_DISABLE_TELEMETRY"))
        return None
sys.meta_path.insert(0, Spy())
"""


def test_every_coach_module_imports_without_loading_onnxruntime(tmp_path: Path) -> None:
    modules = [
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in ALL_MODULES
        if p.name != "__main__.py"
    ]
    code = _HOOK + f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
    code += "print(seen)"
    done = _run(code, {"ORT_DISABLE_TELEMETRY": "0"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_project_loads_onnxruntime_only_with_telemetry_off(tmp_path: Path) -> None:
    """Both places that run Silero VAD (live chunking and whole-file chunking) load onnxruntime
    with the guard set, even when the user's shell says otherwise, and nothing lands in
    ~/.cache/Microsoft."""
    code = _HOOK + (
        "import numpy as np\n"
        "from coach.audio.vad import SileroVad\n"
        "SileroVad()\n"
        "from coach.audio.engines import speech_chunks\n"
        "t = np.arange(16000 * 2) / 16000\n"
        "speech_chunks((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))\n"
        "print(seen, 'onnxruntime' in sys.modules)\n"
    )
    done = _run(code, {"ORT_DISABLE_TELEMETRY": "0"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['1']", "True"]
    assert not (tmp_path / ".cache" / "Microsoft").exists()
