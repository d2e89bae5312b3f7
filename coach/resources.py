"""The data shipped with the package: the question bank and the rubrics.

In a wheel they live inside the package (``coach/question_bank``); in a source checkout
(editable install) they sit at the top of the repository. Both places are looked up here.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_folder(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"the coach's {name}/ folder is missing from {_PACKAGE}; reinstall the package"
    )


def question_bank_dir() -> Path:
    """Folder with the shipped ``*.toml`` question files."""
    return _data_folder("question_bank")


def rubrics_dir() -> Path:
    """Folder with the shipped ``*.toml`` rubric files."""
    return _data_folder("rubrics")
