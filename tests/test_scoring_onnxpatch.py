"""coach.scoring.onnxpatch: tensors written over an ONNX model's own, or one clear refusal."""

from __future__ import annotations

import numpy as np
import pytest

from coach.scoring import encoder
from coach.scoring.onnxpatch import PatchError, patch


def _model() -> bytes:
    return encoder.model_path().read_bytes()


def test_a_patched_tensor_changes_only_its_own_bytes() -> None:
    model = _model()
    name = "inner.encoder.layer.5.output.LayerNorm.bias"
    new = np.full(encoder.DIM, 0.25, dtype=np.float32)
    out = patch(model, {name: new})
    assert len(out) == len(model)
    changed = [i for i in range(len(model)) if model[i] != out[i]]
    assert changed and changed[-1] - changed[0] < new.nbytes
    assert new.tobytes() in out and new.tobytes() not in model


def test_a_tensor_the_model_lacks_is_refused() -> None:
    with pytest.raises(PatchError, match="no tensor nonexistent"):
        patch(_model(), {"nonexistent": np.zeros(3, dtype=np.float32)})


def test_a_tensor_of_another_size_or_type_is_refused() -> None:
    name = "inner.encoder.layer.5.output.LayerNorm.bias"
    with pytest.raises(PatchError, match="bytes"):
        patch(_model(), {name: np.zeros(3, dtype=np.float32)})
    with pytest.raises(PatchError, match="type"):
        patch(_model(), {name: np.zeros(encoder.DIM, dtype=np.int8)})


def test_bytes_that_are_not_a_model_are_refused() -> None:
    for junk in (b"\x3a\xff\xff\xff\x0f garbage", b"\x3a\xff", b"\x3f"):
        with pytest.raises(PatchError, match="not an ONNX model"):
            patch(junk, {"x": np.zeros(1, dtype=np.float32)})
