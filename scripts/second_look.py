"""Choose the tone risk from which a passing factual_tone asks the speaker to reread a sentence
(coach.scoring.decide.SECOND_LOOK), on the corpus's DEV split, and write it into decide.py.

    python scripts/second_look.py            # print the table and the choice
    python scripts/second_look.py --write    # and write it (``make train-scorer`` runs this)
    python scripts/second_look.py --split test   # report the choice on test (or reserve)

Every dev answer labelled for factual_tone is scored by the shipped scorer with the note off;
for each candidate floor, among the answers whose tone passes with plain praise:
``caught``, answers labelled to fail tone whose note names a sentence labelled blame, excuse,
venting or self-pity (a sentence of the scorer's segmenting that overlaps one); ``noted_good``,
answers labelled to pass tone that get a note at all. The choice maximises caught minus
noted_good (ties: more caught, then the higher floor). Deterministic; the test split and the
reserve sets are read only with ``--split``, to report.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.scoring import decide  # noqa: E402
from coach.scoring.corpus import load_corpus, load_split  # noqa: E402
from coach.scoring.rubric import load_rubric  # noqa: E402
from coach.scoring.scorer import score_answer  # noqa: E402
from coach.scoring.semantic import read_answer  # noqa: E402
from coach.scoring.text import analyse  # noqa: E402

CANDIDATES = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)


def table(split_name: str) -> dict[float, dict[str, int]]:
    if split_name == "reserve":
        answers = load_corpus(REPO / "corpus", "reserve")
    else:
        split = load_split(REPO / "corpus" / "split.toml")
        answers = [a for a in load_corpus(REPO / "corpus") if split.get(a.id) == split_name]
    rubric = load_rubric()
    shipped, decide.SECOND_LOOK = decide.SECOND_LOOK, 2.0  # the note off: what it would add
    out = {
        t: {"caught": 0, "noted_good": 0, "false_passes": 0, "good_passes": 0} for t in CANDIDATES
    }
    try:
        for a in answers:
            want = a.expect.get("factual_tone")
            if want is None:
                continue
            report = score_answer(a.text, category=a.category, rubric=rubric)
            tone = next(c for c in report.criteria if c.id == "factual_tone")
            if not tone.passed:
                continue
            reading = read_answer(analyse(a.text), a.category)
            spans, pos = [], 0
            for s in a.sentences:
                spans.append((pos, pos + len(s.text), s.tone_risk))
                pos += len(s.text) + 1
            for t in CANDIDATES:
                row = out[t]
                row["good_passes" if want else "false_passes"] += 1
                noted = decide.second_look(tone, rubric, reading, t)
                if noted is tone:
                    continue
                pin = decide.tone_pin(tone, reading, t) if reading is not None else None
                real = pin is not None and any(
                    st < pin.end and pin.start < en and risky for st, en, risky in spans
                )
                if want:
                    row["noted_good"] += 1
                elif real:
                    row["caught"] += 1
    finally:
        decide.SECOND_LOOK = shipped
    return out


def choose(rows: dict[float, dict[str, int]]) -> float:
    return max(
        rows, key=lambda t: (rows[t]["caught"] - rows[t]["noted_good"], rows[t]["caught"], t)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=("dev", "test", "reserve"))
    ap.add_argument("--write", action="store_true", help="write the dev choice into decide.py")
    args = ap.parse_args(argv)
    rows = table(args.split)
    for t, row in rows.items():
        print(f"{t:.2f}  {row}")
    if args.split != "dev":
        print(f"shipped SECOND_LOOK = {decide.SECOND_LOOK} (chosen on dev)")
        return 0
    best = choose(rows)
    print(f"chosen on dev: {best}")
    if args.write:
        path = REPO / "coach" / "scoring" / "decide.py"
        text = path.read_text(encoding="utf-8")
        text, n = re.subn(r"^SECOND_LOOK = [0-9.]+$", f"SECOND_LOOK = {best}", text, flags=re.M)
        if n != 1:
            print(f"error: {path}: no single SECOND_LOOK line", file=sys.stderr)
            return 1
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
