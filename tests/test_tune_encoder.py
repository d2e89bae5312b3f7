"""scripts/tune_encoder.py: the torch network it tunes is the ONNX encoder the app runs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from coach.scoring import encoder
from scripts import tune_encoder

# torch (training only): outside `make check`, which hides it.
pytestmark = pytest.mark.slow

TEXTS = [
    "Honestly the residents never really gave me a fair shot.",
    "I did not match last year.",
    "so um since then i did a sub i in med peds and got two letters",
]


def _torch_embed(weights: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    model: Any = tune_encoder.build_model(weights)
    tok = tune_encoder.tokenizer(encoder.tokenizer_path())
    enc = tok.encode_batch(TEXTS)
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    with torch.no_grad():
        return np.asarray(model.upper(model.lower(ids, mask), mask).numpy())


def test_the_torch_network_reproduces_the_published_encoder() -> None:
    weights, _ = tune_encoder.base_weights(encoder.model_path())
    ours = _torch_embed(weights)
    theirs = encoder.load_encoder(tuned=False).embed(TEXTS)
    assert (ours * theirs).sum(1).min() > 0.9999


def test_the_shipped_tuned_layers_run_in_the_app_as_they_were_trained() -> None:
    weights, names = tune_encoder.base_weights(encoder.model_path())
    top = encoder.load_top()
    for torch_name, onnx_name in names.items():
        if int(torch_name.split(".")[1]) < tune_encoder.FROZEN:
            continue
        if torch_name.split(".")[2] in tune_encoder.MATRICES and torch_name.endswith(".weight"):
            q, scale = top[onnx_name + "_q"], top[onnx_name + "_scale"]
            weights[torch_name] = np.ascontiguousarray((q.astype(np.float32) * scale).T)
        else:
            weights[torch_name] = top[onnx_name]
    ours = _torch_embed(weights)
    exact = encoder.load_encoder(graph="float").embed(TEXTS)
    assert (ours * exact).sum(1).min() > 0.9999
    # The app multiplies in integer arithmetic (coach.scoring.onnxfast): close to the above.
    app = encoder.get_encoder().embed(TEXTS)
    assert encoder.get_encoder().graph == "integer"
    assert (ours * app).sum(1).min() > 0.98
    # and they are not the published layers
    assert (app * encoder.load_encoder(tuned=False).embed(TEXTS)).sum(1).max() < 0.99


def test_each_seed_tunes_the_same_alone_or_after_others() -> None:
    """The seeds share one preparation (weights, tokens, the frozen layers' pass); each
    tuning must still be exactly what it is alone, whatever ran before it, or the average
    would depend on the order of SEEDS and a retraining would not give the shipped bytes."""
    from coach.scoring.corpus import load_corpus

    few = sorted(load_corpus(tune_encoder.REPO / "corpus"), key=lambda a: a.id)[:12]
    ready = tune_encoder.prepare(encoder.model_path(), encoder.tokenizer_path(), few)
    low = ready.low.clone()
    after = tune_encoder.tune_state(ready, 1, 12, log=False)
    again = tune_encoder.tune_state(ready, 1, 11, log=False)
    alone = tune_encoder.tune_state(
        tune_encoder.prepare(encoder.model_path(), encoder.tokenizer_path(), few),
        1,
        11,
        log=False,
    )
    assert set(again) == set(alone)
    assert all(np.array_equal(again[k], alone[k]) for k in alone)
    # the shared pass is left as it was; the seed moves the tuned layers and only those
    assert bool((ready.low == low).all())
    moved = [k for k in after if not np.array_equal(after[k], alone[k])]
    assert moved
    assert all(
        k.startswith("layers.") and int(k.split(".")[1]) >= tune_encoder.FROZEN for k in moved
    )
