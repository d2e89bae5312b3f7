"""coach.scoring.graphcache: the encoder's integer graph kept between runs, used only while it
hashes to its pin, rebuilt when it does not, and never a reason for the encoder not to load."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.errors import ModelError
from coach.scoring import encoder, graphcache

SENTENCES = [
    "Honestly the residents never really gave me a fair shot.",
    "Since then I completed a sub internship in pediatric hospital medicine.",
    "um so i guess the interview day was kind of chaotic you know",
]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("COACH_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def built() -> dict[str, np.ndarray]:
    """Each form's vectors from the graph built from the three pinned files, each verified."""
    return {
        form: encoder.load_encoder(weights=form, cache=False).embed(SENTENCES)
        for form in ("int8", "uint8")
    }


@pytest.mark.parametrize("form", ["int8", "uint8"])
def test_the_pinned_files_build_the_pinned_graph_and_a_second_load_reads_it(
    form: str, cache: Path, built: dict[str, np.ndarray]
) -> None:
    first = encoder.load_encoder(weights=form)
    assert not first.cached
    path = graphcache.graph_path(form, encoder.graph_sha256(form))
    # Written only because the graph built here hashes to the pin: the pin is right.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == encoder.graph_sha256(form)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    again = encoder.load_encoder(weights=form)
    assert again.cached and again.graph == "integer" and again.weights == form
    assert np.array_equal(again.embed(SENTENCES), built[form])
    assert np.array_equal(first.embed(SENTENCES), built[form])


def test_an_altered_cached_graph_is_not_used_but_rebuilt(
    cache: Path, built: dict[str, np.ndarray]
) -> None:
    form = encoder.weight_form()
    encoder.load_encoder()
    path = graphcache.graph_path(form, encoder.graph_sha256(form))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    enc = encoder.load_encoder()
    assert not enc.cached
    assert np.array_equal(enc.embed(SENTENCES), built[form])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == encoder.graph_sha256(form)
    path.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    assert not encoder.load_encoder().cached
    assert encoder.load_encoder().cached


def test_an_older_pins_copy_is_removed_when_the_new_one_is_written(cache: Path) -> None:
    form = encoder.weight_form()
    old = cache / "encoder" / f"minilm-{form}-0123456789abcdef.onnx"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an older graph")
    encoder.load_encoder()
    assert not old.exists()
    assert [p.name for p in old.parent.iterdir()] == [
        graphcache.graph_path(form, encoder.graph_sha256(form)).name
    ]


def test_a_cache_folder_that_cannot_be_written_only_costs_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: dict[str, np.ndarray]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("COACH_CACHE_DIR", str(blocker / "cache"))
    enc = encoder.load_encoder()
    assert not enc.cached
    assert np.array_equal(enc.embed(SENTENCES), built[encoder.weight_form()])
    assert graphcache.read(enc.weights, encoder.graph_sha256(enc.weights)) is None


def test_a_graph_that_differs_from_the_pin_is_never_cached(cache: Path) -> None:
    form = encoder.weight_form()
    assert not graphcache.write(form, encoder.graph_sha256(form), b"not the graph")
    assert not graphcache.graph_path(form, encoder.graph_sha256(form)).exists()


def test_the_cache_never_stands_in_for_a_model_given_by_path(cache: Path, tmp_path: Path) -> None:
    encoder.load_encoder()  # a good cached graph is there
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="integrity check"):
        encoder.load_encoder(model=bad)
    env = {**os.environ, "COACH_ENCODER_MODEL": str(bad), "COACH_CACHE_DIR": str(cache)}
    code = "from coach.scoring import encoder\nencoder.load_encoder()\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode != 0 and "integrity check" in out.stderr


def test_the_doctor_reads_the_pinned_files_not_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.commands.doctor import check_scoring

    encoder.load_encoder()  # a good cached graph is there

    def not_the_cache(form: str, sha: str) -> bytes | None:
        raise AssertionError("the doctor read the cached graph")

    monkeypatch.setattr(graphcache, "read", not_the_cache)
    check = check_scoring()
    assert check.status == "ok" and "verified" in check.detail
