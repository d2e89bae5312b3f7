"""Rubric data: criteria, per-category content, weights and feedback templates.

The shipped rubrics live in ``rubrics/*.toml``; a user may override any part in
``<config dir>/rubrics/*.toml``. Files are merged in order (shipped first, then the user's,
alphabetically): tables merge key by key, lists are replaced, and ``groups`` / ``penalties``
entries merge by ``id``. ``extra_phrases`` (in a group or penalty) and ``extra_lists`` (in a
criterion) *add* phrases instead of replacing them. Every file is checked on load; a bad key
raises :class:`~coach.errors.DataFileError` naming the file and the key.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from coach import paths, resources
from coach.datafile import Checker, did_you_mean, read_toml
from coach.errors import DataFileError
from coach.questions import CATEGORIES
from coach.scoring.phrases import Matcher

CRITERIA: tuple[str, ...] = ("brevity", "factual_tone", "growth_focus", "content", "delivery")
#: Criterion lists that are sets of single words looked up by stem, not phrases to match.
#: Kept out of the phrase index, where an exact word would stop a near spelling of another
#: phrase from matching ("unfairly" would no longer reach "unfair").
WORD_SETS = frozenset({"disparaging", "mistreatment"})

_CRITERION_KEYS = (
    "name",
    "threshold",
    "feedback",
    "params",
    "lists",
    "extra_lists",
    "groups",
    "penalties",
)
_CATEGORY_KEYS = (
    "label",
    "words",
    "target_s",
    "hard_limit_s",
    "max_setback_sentences",
    "setback_share_max",
    "min_groups",
    "min_past_verbs",
    "full_credit_share",
    "growth_groups",
    "weights",
    "groups",
    "penalties",
    "feedback",
)
_GROUP_KEYS = ("id", "label", "weight", "phrases", "extra_phrases", "max_hits", "required")
_PENALTY_KEYS = (
    "id",
    "cost",
    "phrases",
    "extra_phrases",
    "reason",
    "feedback",
    "cap",
    "others_only",
)


@dataclass(frozen=True, slots=True)
class Group:
    """Phrases that earn points when present (e.g. "transitions of care")."""

    id: str
    label: str  # how feedback names it: "a concrete step you took since"
    weight: float
    phrases: tuple[str, ...]
    max_hits: int = 1
    required: bool = False


@dataclass(frozen=True, slots=True)
class Penalty:
    """Phrases that cost points (e.g. "consolation prize"), unless negated."""

    id: str
    cost: float
    phrases: tuple[str, ...]
    reason: str
    feedback: str
    cap: float | None = None  # the criterion score cannot exceed this when present
    # Counts only when it judges someone else: "I was rude to her" owns it, "she was rude" not.
    others_only: bool = False


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    id: str
    name: str
    threshold: float
    feedback: Mapping[str, str]
    params: Mapping[str, float]
    lists: Mapping[str, tuple[str, ...]]
    groups: tuple[Group, ...] = ()
    penalties: tuple[Penalty, ...] = ()

    def param(self, key: str) -> float:
        try:
            return self.params[key]
        except KeyError:
            raise DataFileError(
                f"rubrics: key 'criteria.{self.id}.params.{key}' is missing",
                "restore it in your rubric override or delete the override",
            ) from None

    def template(self, key: str) -> str:
        return self.feedback.get(key) or self.feedback.get("good", "")


@dataclass(frozen=True, slots=True)
class CategorySpec:
    id: str
    label: str
    words: tuple[float, float]  # target word range for a typed answer
    target_s: tuple[float, float]  # answer-time target when no question is given
    hard_limit_s: float
    max_setback_sentences: int
    setback_share_max: float
    min_groups: int
    weights: Mapping[str, float]
    groups: tuple[Group, ...]
    penalties: tuple[Penalty, ...]
    feedback: Mapping[str, str] = field(default_factory=dict)
    growth_groups: tuple[str, ...] = ()  # growth groups expected here (empty: all)
    full_credit_share: float | None = None  # content: share of group weight for full marks
    # "Tell me about a time..." questions: content needs this many past-tense verbs, i.e. one
    # real event told as a story rather than what the speaker usually does.
    min_past_verbs: int = 0


@dataclass(frozen=True)
class Rubric:
    """The merged rubric: criteria and every category's content and weights."""

    criteria: Mapping[str, CriterionSpec]
    categories: Mapping[str, CategorySpec]
    sources: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def category(self, category: str) -> CategorySpec:
        return self.categories[category]

    @cached_property
    def matcher(self) -> Matcher:
        """Every phrase list compiled once into a single index."""
        lists: dict[str, tuple[str, ...]] = {}
        for crit in self.criteria.values():
            for name, phrases in crit.lists.items():
                if name in WORD_SETS:
                    continue
                lists[f"{crit.id}:{name}"] = phrases
            for g in crit.groups:
                lists[f"{crit.id}:g:{g.id}"] = g.phrases
            for p in crit.penalties:
                lists[f"{crit.id}:p:{p.id}"] = p.phrases
        for cat in self.categories.values():
            for g in cat.groups:
                lists[f"{cat.id}:g:{g.id}"] = g.phrases
            for p in cat.penalties:
                lists[f"{cat.id}:p:{p.id}"] = p.phrases
        return Matcher(lists, self.aliases)


# -- loading ---------------------------------------------------------------------------------


def rubric_files() -> list[Path]:
    """The shipped rubric files, then the user's overrides."""
    shipped = sorted(resources.rubrics_dir().glob("*.toml"))
    user_dir = paths.config_dir() / "rubrics"
    user = sorted(user_dir.glob("*.toml")) if user_dir.is_dir() else []
    return shipped + user


_CACHE: dict[tuple[tuple[str, int, int], ...], Rubric] = {}


def load_rubric() -> Rubric:
    """The merged, validated rubric (cached until a file changes)."""
    files = rubric_files()
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    merged: dict[str, Any] = {"criteria": {}, "categories": {}, "aliases": {}}
    for path in files:
        data = read_toml(path)
        _check_file(data, Checker(path))
        _merge_file(merged, data, str(path))
    rubric = _build(merged, tuple(str(p) for p in files))
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = rubric
    return rubric


def _check_entries(entries: Any, c: Checker, key: str, keys: tuple[str, ...]) -> None:
    if not isinstance(entries, list):
        raise c.fail(key, "must be a list of tables", f"write each entry as [[{key}]]")
    for i, entry in enumerate(entries):
        k = f"{key}[{i}]"
        c.table(entry, k)
        c.unknown(entry, keys, k)
        c.string(entry.get("id"), f"{k}.id")
        for name in ("phrases", "extra_phrases"):
            if name in entry:
                c.strings(entry[name], f"{k}.{name}")
        for name in ("label", "reason", "feedback"):
            if name in entry:
                c.string(entry[name], f"{k}.{name}")
        if "weight" in entry:
            c.number(entry["weight"], f"{k}.weight", lo=0)
        if "cost" in entry:
            c.number(entry["cost"], f"{k}.cost", lo=0, hi=100)
        if "cap" in entry:
            c.number(entry["cap"], f"{k}.cap", lo=0, hi=100)
        if "max_hits" in entry:
            c.integer(entry["max_hits"], f"{k}.max_hits", lo=1)
        if "required" in entry:
            c.boolean(entry["required"], f"{k}.required")
        if "others_only" in entry:
            c.boolean(entry["others_only"], f"{k}.others_only")


def _check_file(data: dict[str, Any], c: Checker) -> None:
    c.unknown(data, ("version", "description", "aliases", "criteria", "categories"), "")
    for k, v in c.table(data.get("aliases", {}), "aliases").items():
        c.strings(v, f"aliases.{k}")
    for crit_id, crit in c.table(data.get("criteria", {}), "criteria").items():
        key = f"criteria.{crit_id}"
        if crit_id not in CRITERIA:
            raise c.fail(key, "is not a known criterion", did_you_mean(crit_id, CRITERIA))
        c.table(crit, key)
        c.unknown(crit, _CRITERION_KEYS, key)
        if "name" in crit:
            c.string(crit["name"], f"{key}.name")
        if "threshold" in crit:
            c.number(crit["threshold"], f"{key}.threshold", lo=0, hi=100)
        for k, v in c.table(crit.get("feedback", {}), f"{key}.feedback").items():
            c.string(v, f"{key}.feedback.{k}")
        for k, v in c.table(crit.get("params", {}), f"{key}.params").items():
            c.number(v, f"{key}.params.{k}")
        for table in ("lists", "extra_lists"):
            for k, v in c.table(crit.get(table, {}), f"{key}.{table}").items():
                c.strings(v, f"{key}.{table}.{k}")
        for entries in ("groups", "penalties"):
            if entries in crit:
                _check_entries(
                    crit[entries],
                    c,
                    f"{key}.{entries}",
                    _GROUP_KEYS if entries == "groups" else _PENALTY_KEYS,
                )
    for cat_id, cat in c.table(data.get("categories", {}), "categories").items():
        key = f"categories.{cat_id}"
        if cat_id not in CATEGORIES:
            raise c.fail(key, "is not a known category", did_you_mean(cat_id, CATEGORIES))
        c.table(cat, key)
        c.unknown(cat, _CATEGORY_KEYS, key)
        if "label" in cat:
            c.string(cat["label"], f"{key}.label")
        for pair in ("words", "target_s"):
            if pair in cat:
                c.pair(cat[pair], f"{key}.{pair}")
        if "hard_limit_s" in cat:
            c.number(cat["hard_limit_s"], f"{key}.hard_limit_s", lo=1)
        if "max_setback_sentences" in cat:
            c.integer(cat["max_setback_sentences"], f"{key}.max_setback_sentences", lo=1)
        if "growth_groups" in cat:
            c.strings(cat["growth_groups"], f"{key}.growth_groups")
        if "min_groups" in cat:
            c.integer(cat["min_groups"], f"{key}.min_groups", lo=0)
        if "min_past_verbs" in cat:
            c.integer(cat["min_past_verbs"], f"{key}.min_past_verbs", lo=0)
        if "setback_share_max" in cat:
            c.number(cat["setback_share_max"], f"{key}.setback_share_max", lo=0, hi=1)
        if "full_credit_share" in cat:
            c.number(cat["full_credit_share"], f"{key}.full_credit_share", lo=0.1, hi=1)
        for k, v in c.table(cat.get("weights", {}), f"{key}.weights").items():
            if k not in CRITERIA:
                raise c.fail(f"{key}.weights.{k}", "is not a criterion", did_you_mean(k, CRITERIA))
            c.number(v, f"{key}.weights.{k}", lo=0)
        for k, v in c.table(cat.get("feedback", {}), f"{key}.feedback").items():
            c.string(v, f"{key}.feedback.{k}")
        for entries in ("groups", "penalties"):
            if entries in cat:
                _check_entries(
                    cat[entries],
                    c,
                    f"{key}.{entries}",
                    _GROUP_KEYS if entries == "groups" else _PENALTY_KEYS,
                )


def _merge_entries(old: list[dict[str, Any]], new: list[dict[str, Any]], src: str) -> None:
    by_id = {e["id"]: e for e in old}
    for entry in new:
        target = by_id.get(entry["id"])
        if target is None:
            target = {"_file": src}
            old.append(target)
            by_id[entry["id"]] = target
        for k, v in entry.items():
            if k == "extra_phrases":
                target["phrases"] = [*target.get("phrases", []), *v]
            else:
                target[k] = copy.deepcopy(v)


def _merge_file(merged: dict[str, Any], data: dict[str, Any], src: str) -> None:
    merged["aliases"].update(copy.deepcopy(data.get("aliases", {})))
    for section in ("criteria", "categories"):
        for item_id, item in data.get(section, {}).items():
            target = merged[section].setdefault(item_id, {"_file": src})
            for k, v in item.items():
                if k in ("groups", "penalties"):
                    _merge_entries(target.setdefault(k, []), v, src)
                elif k == "extra_lists":
                    lists = target.setdefault("lists", {})
                    for name, phrases in v.items():
                        lists[name] = [*lists.get(name, []), *phrases]
                elif isinstance(v, dict):
                    target.setdefault(k, {}).update(copy.deepcopy(v))
                else:
                    target[k] = copy.deepcopy(v)


def _require(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise DataFileError(
            f"{d.get('_file', 'rubrics')}: key '{where}.{key}' is missing",
            f"add {key} to [{where}]",
        )
    return d[key]


def _groups(entries: list[dict[str, Any]], where: str) -> tuple[Group, ...]:
    out = []
    for e in entries:
        w = f"{where}.groups.{e['id']}"
        out.append(
            Group(
                id=e["id"],
                label=str(_require(e, "label", w)),
                weight=float(_require(e, "weight", w)),
                phrases=tuple(_require(e, "phrases", w)),
                max_hits=int(e.get("max_hits", 1)),
                required=bool(e.get("required", False)),
            )
        )
    return tuple(out)


def _penalties(entries: list[dict[str, Any]], where: str) -> tuple[Penalty, ...]:
    out = []
    for e in entries:
        w = f"{where}.penalties.{e['id']}"
        cap = e.get("cap")
        out.append(
            Penalty(
                id=e["id"],
                cost=float(_require(e, "cost", w)),
                phrases=tuple(_require(e, "phrases", w)),
                reason=str(_require(e, "reason", w)),
                feedback=str(e.get("feedback", "")),
                cap=None if cap is None else float(cap),
                others_only=bool(e.get("others_only", False)),
            )
        )
    return tuple(out)


def _build(merged: dict[str, Any], sources: tuple[str, ...]) -> Rubric:
    criteria: dict[str, CriterionSpec] = {}
    for crit_id in CRITERIA:
        d = merged["criteria"].get(crit_id)
        if d is None:
            raise DataFileError(
                f"rubrics: criterion 'criteria.{crit_id}' is missing",
                "reinstall the package (the shipped rubrics/ folder is incomplete)",
            )
        where = f"criteria.{crit_id}"
        criteria[crit_id] = CriterionSpec(
            id=crit_id,
            name=str(_require(d, "name", where)),
            threshold=float(_require(d, "threshold", where)),
            feedback=dict(d.get("feedback", {})),
            params={k: float(v) for k, v in d.get("params", {}).items()},
            lists={k: tuple(v) for k, v in d.get("lists", {}).items()},
            groups=_groups(d.get("groups", []), where),
            penalties=_penalties(d.get("penalties", []), where),
        )
    categories: dict[str, CategorySpec] = {}
    for cat_id in CATEGORIES:
        d = merged["categories"].get(cat_id)
        if d is None:
            raise DataFileError(
                f"rubrics: category 'categories.{cat_id}' is missing",
                "reinstall the package (the shipped rubrics/ folder is incomplete)",
            )
        where = f"categories.{cat_id}"
        words = _require(d, "words", where)
        target = _require(d, "target_s", where)
        categories[cat_id] = CategorySpec(
            id=cat_id,
            label=str(d.get("label", cat_id)),
            words=(float(words[0]), float(words[1])),
            target_s=(float(target[0]), float(target[1])),
            hard_limit_s=float(_require(d, "hard_limit_s", where)),
            max_setback_sentences=int(d.get("max_setback_sentences", 3)),
            setback_share_max=float(d.get("setback_share_max", 0.5)),
            min_groups=int(d.get("min_groups", 0)),
            weights={k: float(v) for k, v in _require(d, "weights", where).items()},
            groups=_groups(d.get("groups", []), where),
            penalties=_penalties(d.get("penalties", []), where),
            feedback=dict(d.get("feedback", {})),
            growth_groups=tuple(d.get("growth_groups", ())),
            full_credit_share=(float(d["full_credit_share"]) if "full_credit_share" in d else None),
            min_past_verbs=int(d.get("min_past_verbs", 0)),
        )
    aliases = {k: tuple(v) for k, v in merged["aliases"].items()}
    return Rubric(criteria, categories, sources, aliases)
