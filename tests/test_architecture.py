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
