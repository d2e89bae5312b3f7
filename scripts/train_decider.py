"""Train the answer-level layer (coach.scoring.decide) and write coach/scoring/data/answer_head.npz.

Run by scripts/train_scorer.py after the sentence head (``make train-scorer``); alone:

    python scripts/train_decider.py          # with the shipped sentence head

1. Every TRAIN and DEV answer of the corpus, and every answer of the older labelled sets in
   tests/data, is scored end to end with the answer layer off; its features, rule results and
   sentence reading are kept. A TRAIN answer is read by an encoder tuned and sentence heads
   fitted without it (train_scorer.cross_heads, 5 folds): read by the shipped ones, which
   learned from its own sentences, its blame would look far plainer than a new answer's does.
2. Choices by 5-fold cross-validation over TRAIN + DEV answers (split by answer, folds by
   category then id, so every fold holds every category; no random state): per criterion the
   L2 strength (out-of-fold log-loss), then the floor below which a pass is withheld, the
   lowest tone risk a withheld tone pass may be pinned on and the floor for such a pinned
   fail (at most tone's own), and the grant thresholds of growth and content,
   each the most conservative value within SLACK answers of the best out-of-fold agreement.
   tests/data is in every fold's fit and never held out.
3. The shipped model per criterion: an L2 logistic regression (numpy, Newton, half-balanced
   class weights; the same fit as the sentence head) on the TRAIN answers plus tests/data and
   the answers unit tests assert pass (tests/data/unit_passes.toml), each of those counted
   GUARD_WEIGHT times. A choice is a candidate only if, with this model, none of their
   decisions moves away from its label and the per-category good > bad ordering of
   tests/data holds. DEV is reported as a hold-out for the shipped model. The test split is
   never read.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.scoring import decide, semantic  # noqa: E402
from coach.scoring.corpus import load_corpus, load_split  # noqa: E402
from coach.scoring.rubric import load_rubric  # noqa: E402
from coach.scoring.scorer import score_answer  # noqa: E402
from coach.scoring.semantic import Head, Reading, read_answer  # noqa: E402
from coach.scoring.text import analyse  # noqa: E402
from coach.scoring.validation import load_labelled, roc_auc  # noqa: E402

#: Unit-test answers that must keep passing (fitted like tests/data, and a constraint).
UNITS = REPO / "tests" / "data" / "unit_passes.toml"

FOLDS = 5
L2S = (1.0, 3.0, 10.0, 30.0, 100.0)
LOS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
#: Lowest tone risk of the sentence a withheld tone pass is pinned on (None: never pinned).
ATTACHES = (None, 0.4, 0.3, 0.2)
#: Floors for a pinned tone fail (each at most tone's own floor).
PIN_FLOORS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
#: Grant thresholds (growth and content); 1.01 never grants.
HIS = (1.01, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6)
#: Out-of-fold answers (of ~520) a less conservative choice must win by to be chosen.
SLACK = 2
#: Whether the older tests/data answers join the fit (they are answer-level labelled).
FIT_GUARD = True
#: How many times each tests/data answer counts in the fit: they are regression tests the
#: layer must keep, and counting them more lets the floors rise without flipping one.
#: Chosen by the cross-validation below (summed out-of-fold agreement of the three criteria,
#: keeping tests/data): 1420 at 1, 1426 at 2, 1430 at 3, 1424 at 5 of 1541 decisions on the
#: first 522 train + dev answers; 1793, 1797, 1801, 1794 of 1977 on the 668 after batch e.
GUARD_WEIGHT = 3


class Row:
    def __init__(
        self, a: Any, x: np.ndarray, results: list[Any], reading: Reading, asr: bool
    ) -> None:
        self.id, self.category, self.label, self.expect = a.id, a.category, a.label, a.expect
        self.x, self.results, self.reading, self.asr = x, results, reading, asr
        self.by_id = {c.id: c for c in results}
        self.pins: dict[float | None, decide.Pin | None] = {}


def rows_for(
    answers: list[Any], head: Head | None, cross: dict[str, Head] | None = None
) -> list[Row]:
    """Answers scored with the layer off; ``cross`` gives an answer's own (out-of-fold)
    sentence head where it has one."""
    rubric = load_rubric()
    out = []
    for a in answers:
        head_a = (cross or {}).get(a.id, head)
        feats: list[np.ndarray] = []
        rep = score_answer(
            a.text,
            category=a.category,
            rubric=rubric,
            head=head_a,
            decider=False,
            features_out=feats,
        )
        # The same reading the scorer made (embeddings are cached per text).
        reading = read_answer(analyse(a.text), a.category, head_a)
        if feats and reading is not None:
            asr = bool(getattr(a, "asr", False))
            out.append(Row(a, feats[0], list(rep.criteria), reading, asr))
    return out


def _guard_fit(guard: list[Row]) -> list[Row]:
    return guard * GUARD_WEIGHT if FIT_GUARD else []


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    from scripts.train_scorer import fit_logreg

    return fit_logreg(x, y, l2=l2, iters=50)


@dataclass(frozen=True)
class Fixed(decide.Decider):
    """A decider whose probabilities are given (out-of-fold ones), to simulate its rule."""

    fixed: dict[str, float] = field(default_factory=dict)

    def prob(self, model: str, x: np.ndarray) -> float:
        return self.fixed[model]


def simulate(
    d: decide.Decider, row: Row, rubric: Any, probs: dict[str, float] | None = None
) -> tuple[dict[str, bool], float]:
    if probs is not None:
        d = Fixed(
            d.names,
            d.mean,
            d.scale,
            d.models,
            d.weights,
            d.bands,
            d.meta,
            d.attach,
            d.pin_below,
            probs,
        )
    results = d.apply(row.results, row.x, rubric, row.reading)
    total = sum(r.weight for r in results)
    return {r.id: r.passed for r in results}, sum(r.score * r.weight for r in results) / total


def tally(
    d: decide.Decider,
    rows: list[Row],
    crit: str,
    rubric: Any,
    probs: list[dict[str, float]] | None = None,
) -> tuple[int, int, int, int]:
    """(agree, total, false passes, false fails) of one criterion: the layer's own decision
    rule (Decider.decide and its pin), on this criterion's rule result alone."""
    ok = n = fp = ff = 0
    for i, r in enumerate(rows):
        if crit in r.expect:
            res = r.by_id[crit]
            p = probs[i][crit] if probs else d.prob(crit, r.x)
            pinned = _pin(d, r, res)
            got = d.decide(res, p, pinned, r.reading)
            n += 1
            ok += got == r.expect[crit]
            fp += got and not r.expect[crit]
            ff += not got and r.expect[crit]
    return ok, n, fp, ff


def _pin(d: decide.Decider, r: Row, res: Any) -> decide.Pin | None:
    """d.pin, remembered per answer and pin risk floor (the same for every other choice)."""
    if d.attach not in r.pins:
        r.pins[d.attach] = d.pin(res, r.reading)
    return r.pins[d.attach]


def guard_ok(
    d: decide.Decider, guard: list[Row], rubric: Any, units: list[Row] | None = None
) -> bool:
    """The regression tests of tests/test_scoring_validation.py, on their answers, and the
    unit tests' passes copied in tests/data/unit_passes.toml."""
    res = {r.id: simulate(d, r, rubric) for r in guard + (units or [])}
    for r in guard + (units or []):
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


def _target(rows: list[Row], c: str) -> tuple[list[int], np.ndarray]:
    idx = [i for i, r in enumerate(rows) if c in r.expect]
    return idx, np.array([float(rows[i].expect[c]) for i in idx])


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean, scale


def _prob(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-np.clip(x @ w[:-1] + w[-1], -30, 30))))


def out_of_fold(cv: list[Row], guard: list[Row], c: str, l2: float) -> np.ndarray:
    """Each cross-validation answer's probability from a model fit without its fold."""
    order = sorted(range(len(cv)), key=lambda i: (cv[i].category, cv[i].id))
    fold = np.zeros(len(cv), dtype=int)
    for k, i in enumerate(order):
        fold[i] = k % FOLDS
    p = np.full(len(cv), 0.5)
    for k in range(FOLDS):
        fitrows = [r for i, r in enumerate(cv) if fold[i] != k] + _guard_fit(guard)
        x = np.array([r.x for r in fitrows])
        mean, scale = _standardise(x)
        idx, y = _target(fitrows, c)
        w = fit(((x - mean) / scale)[idx], y, l2)
        held = np.flatnonzero(fold == k)
        p[held] = _prob(w, (np.array([cv[i].x for i in held]) - mean) / scale)
    return p


def log_loss(rows: list[Row], c: str, p: np.ndarray) -> float:
    idx, y = _target(rows, c)
    q = p[idx]
    return float(-np.mean(y * np.log(q + 1e-9) + (1 - y) * np.log(1 - q + 1e-9)))


Choice = tuple[float, float, float | None, float | None]


def choices(c: str) -> list[Choice]:
    """(floor, grant, pin, pin floor) candidates of one criterion, most conservative first: a
    lower floor withholds fewer passes, a higher grant threshold grants fewer, a higher pin
    risk floor and a lower pin floor pin fewer."""
    his = HIS if c in decide.GRANTS else (1.01,)
    out: list[Choice] = []
    for lo in LOS:
        for hi in his:
            out.append((lo, hi, None, None))
            if c == "factual_tone":
                pins = [at for at in ATTACHES if at is not None]
                out += [(lo, hi, at, pb) for at in pins for pb in PIN_FLOORS if pb <= lo]
    return sorted(
        out,
        key=lambda v: (v[0], -v[1], -(v[2] if v[2] is not None else 9.0), v[3] or 0.0),
    )


def train(
    train_answers: list[Any],
    dev_answers: list[Any],
    guard_answers: list[Any],
    head: Head | None,
    cross: dict[str, Head] | None = None,
) -> decide.Decider:
    """The answer layer on ``head``'s readings; train answers are read by their ``cross``
    (out-of-fold) heads where given (train_scorer.cross_heads)."""
    rubric = load_rubric()
    units = rows_for(load_labelled(UNITS), head)
    tr = rows_for(train_answers, head, cross)
    dv, gd = (rows_for(x, head) for x in (dev_answers, guard_answers))
    gd_fit = gd + units
    cv = tr + dv
    fitset = tr + _guard_fit(gd_fit)
    x = np.array([r.x for r in fitset])
    mean, scale = _standardise(x)
    xs = (x - mean) / scale
    models = list(decide.DECIDED)
    weights, chosen_l2 = [], {}
    oof: dict[str, np.ndarray] = {}
    for m in models:
        best: tuple[float, float, np.ndarray] | None = None
        for l2 in L2S:
            p = out_of_fold(cv, gd_fit, m, l2)
            loss = log_loss(cv, m, p)
            if best is None or loss < best[0] - 1e-9:
                best = (loss, l2, p)
        assert best is not None
        oof[m] = best[2]
        chosen_l2[m] = best[1]
        idx, y = _target(fitset, m)
        weights.append(fit(xs[idx], y, best[1]))
        print(f"  {m}: l2 {best[1]}, out-of-fold log-loss {best[0]:.3f}", file=sys.stderr)
    probs = [{m: float(oof[m][i]) for m in models} for i in range(len(cv))]
    names = tuple(decide.feature_names())
    meta: dict[str, Any] = {
        "train_answers": len(tr),
        "guard_answers": len(gd),
        "dev_answers": len(dv),
        "cv_answers": len(cv),
        "l2": chosen_l2,
    }
    none = {c: (0.0, 1.01) for c in decide.DECIDED}  # the rules decide everywhere
    d = decide.Decider(names, mean, scale, tuple(models), np.array(weights), dict(none), meta)
    before = {c: tally(d, cv, c, rubric, probs) for c in decide.DECIDED}
    for c in decide.DECIDED:
        scored = [
            (tally(with_band(d, c, ch), cv, c, rubric, probs)[0], k, ch)
            for k, ch in enumerate(choices(c))
        ]
        # Only choices that keep every tests/data decision and ordering are candidates;
        # of those, the most conservative within SLACK of the best (checked lazily: the
        # best first, then the conservative end).
        best_ok = next(
            (
                ok
                for ok, _, ch in sorted(scored, key=lambda v: (-v[0], v[1]))
                if guard_ok(with_band(d, c, ch), gd, rubric, units)
            ),
            None,
        )
        if best_ok is None:
            # Only when the rules and the sentence layer alone already break one of those
            # answers (the layer cannot mend that): leave the criterion to them, and say so.
            print(f"  {c}: no choice keeps tests/data; the rules decide", file=sys.stderr)
            continue
        ok, _, ch = next(
            v
            for v in scored
            if v[0] >= best_ok - SLACK and guard_ok(with_band(d, c, v[2]), gd, rubric, units)
        )
        d = with_band(d, c, ch)
        print(
            f"  {c}: floor {ch[0]}, grant {ch[1]}, pin risk {ch[2]} below {ch[3]} ({ok}"
            f" out-of-fold; best {max(v[0] for v in scored)}, {best_ok} keeping tests/data)",
            file=sys.stderr,
        )
    report(d, cv, dv, rubric, probs, before)
    return d


def with_band(d: decide.Decider, c: str, ch: Choice) -> decide.Decider:
    lo, hi, at, pb = ch
    if c != "factual_tone":
        at, pb = d.attach, d.pin_below
    return decide.Decider(
        d.names, d.mean, d.scale, d.models, d.weights, {**d.bands, c: (lo, hi)}, d.meta, at, pb
    )


def report(
    d: decide.Decider,
    cv: list[Row],
    dv: list[Row],
    rubric: Any,
    probs: list[dict[str, float]],
    before: dict[str, tuple[int, int, int, int]],
) -> None:
    """Agreement, false passes and false fails: out of fold over train + dev, and on dev
    for the shipped model."""
    none = decide.Decider(
        d.names, d.mean, d.scale, d.models, d.weights, {c: (0.0, 1.01) for c in d.bands}, d.meta
    )
    for c in decide.DECIDED:
        ok, n, fp, ff = tally(d, cv, c, rubric, probs)
        b = before[c]
        dok, dn, dfp, dff = tally(d, dv, c, rubric)
        r0 = tally(none, dv, c, rubric)
        print(
            f"  {c}: out-of-fold {ok}/{n} (false pass {fp}, false fail {ff}; rules + sentences"
            f" {b[0]}, {b[2]}, {b[3]}); dev {dok}/{dn} ({dfp}, {dff}; rules + sentences"
            f" {r0[0]}, {r0[2]}, {r0[3]})",
            file=sys.stderr,
        )
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
    from scripts.train_scorer import cross_heads, regression_sets

    corpus = REPO / "corpus"
    answers = load_corpus(corpus)
    split = load_split(corpus / "split.toml")
    tr = [a for a in answers if split[a.id] == "train"]
    dv = [a for a in answers if split[a.id] == "dev"]
    shipped = semantic.load_head()
    d = train(tr, dv, regression_sets(), shipped, cross_heads(tr, shipped))
    d.meta["semantic_corpus_sha256"] = shipped.meta["corpus_sha256"]
    decide.save(decide.head_path(), d)
    print(
        f"answer head: bands {d.bands}, pin risk {d.attach} below {d.pin_below}"
        f" -> {decide.head_path()}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
