"""Layering rules: the domain and audio code never import Textual, and text scoring stays light."""

from __future__ import annotations

import ast
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
