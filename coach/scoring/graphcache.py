"""The encoder's integer graph, kept in the user's cache folder between runs.

Building the graph the coach scores with (the pinned model's bytes read and verified, the tuned
layers swapped in, the graph rewritten by coach.scoring.onnxfast) took ~0.2 s of the encoder's
~0.55 s first load in a fresh process on a 2-core AVX2 host. The result depends only on the
three pinned files and the weight form, so it is the same bytes on every machine: its SHA-256
is pinned per form (``encoder.GRAPH_SHA256_INT8`` / ``_UINT8``, written by
scripts/train_scorer.py with the tuned layers' pin), and a cached copy is used only if it
hashes to that pin. A missing, truncated or altered copy is rebuilt from the pinned files and
written again; a cache folder that cannot be written only costs the time.

The copy is one 23 MB file per form in ``<cache>/encoder/`` (``coach.paths.cache_dir``), written
atomically, 0600 in a 0700 folder; an older pin's copy is removed when a new one is written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from coach.errors import CoachError
from coach.paths import cache_dir, private_dir


def graph_path(form: str, sha: str) -> Path:
    """Where the graph of weight form ``form`` with SHA-256 ``sha`` is cached."""
    return cache_dir() / "encoder" / f"minilm-{form}-{sha[:16]}.onnx"


def read(form: str, sha: str) -> bytes | None:
    """The cached graph, if it is there and hashes to ``sha``; else None (build it)."""
    try:
        data = graph_path(form, sha).read_bytes()
    except (OSError, CoachError):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha else None


def write(form: str, sha: str, data: bytes) -> bool:
    """Cache ``data`` if it hashes to ``sha`` (a graph built on this machine that differs from
    the pin is used but never cached); whether it was written."""
    if hashlib.sha256(data).hexdigest() != sha:
        return False
    try:
        target = graph_path(form, sha)
        folder = private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in folder.glob(f"minilm-{form}-*.onnx"):
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, CoachError):
        return False
    return True
