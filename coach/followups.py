"""Follow-ups that listen: the next question is chosen from what the answer said or left out.

Each question in the bank may carry rules, tried in order; the first that fires gives the
follow-up (an exam mentioned → a remediation follow-up; a gap mentioned without what was done →
"What did you do during that time?"; no backup plan → the backup question)::

    [[questions.followup_rules]]
    mentions = ["gap", "time off"]          # fires if the answer says any of these ...
    omits = ["worked", "research", "job"]   # ... and none of these
    ask = "What did you do during that time?"

    [[questions.followup_rules]]
    omits = ["backup", "dual", "second specialty"]
    ask_question = "bp-dont-match-again"    # or another bank question, by id

Terms are matched the way story points are (:func:`coach.spoken.matching.mentions`): lower
case, spoken numbers, stems and misheard words. When no rule fires the caller falls back to the
question's fixed ``follow_ups``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import DataFileError
from coach.spoken.matching import mentions

if TYPE_CHECKING:
    from coach.datafile import Checker
    from coach.questions import Question

RULE_KEYS = ("mentions", "omits", "ask", "ask_question")


@dataclass(frozen=True, slots=True)
class FollowupRule:
    """When the answer ``mentions`` any term and ``omits`` all of others, ask this."""

    mentions: tuple[str, ...] = ()
    omits: tuple[str, ...] = ()
    ask: str = ""  # the follow-up's text, or
    ask_question: str = ""  # the id of a bank question to ask instead

    def fires(self, answer: str) -> tuple[bool, str]:
        """(whether the rule applies to ``answer``, why: "mentioned 'exam'; did not say …")."""
        said = next((t for t in self.mentions if mentions(answer, t)), None)
        if self.mentions and said is None:
            return False, ""
        if any(mentions(answer, t) for t in self.omits):
            return False, ""
        reasons = []
        if said is not None:
            reasons.append(f"mentioned '{said}'")
        if self.omits:
            reasons.append("did not say " + " or ".join(f"'{t}'" for t in self.omits[:3]))
        return True, "; ".join(reasons)


@dataclass(frozen=True, slots=True)
class FollowupChoice:
    """The chosen follow-up: its text, the rule that chose it and why."""

    text: str
    rule_index: int
    reason: str
    question_id: str = ""  # set when the rule asks another bank question


def parse_rules(c: Checker, raw: Any, key: str) -> tuple[FollowupRule, ...]:
    """Validate ``followup_rules`` of one question (errors name the file and the key)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise c.fail(key, "must be a list of [[questions.followup_rules]] tables", "see the README")
    rules = []
    for i, entry in enumerate(raw):
        k = f"{key}[{i}]"
        t = c.table(entry, k)
        c.unknown(t, RULE_KEYS, k)
        rule = FollowupRule(
            mentions=c.strings(t.get("mentions", []), f"{k}.mentions"),
            omits=c.strings(t.get("omits", []), f"{k}.omits"),
            ask=c.string(t.get("ask", ""), f"{k}.ask", allow_empty=True).strip(),
            ask_question=c.string(
                t.get("ask_question", ""), f"{k}.ask_question", allow_empty=True
            ).strip(),
        )
        if not rule.mentions and not rule.omits:
            raise c.fail(k, "has neither mentions nor omits", 'add mentions = ["..."]')
        if bool(rule.ask) == bool(rule.ask_question):
            raise c.fail(
                k, "needs exactly one of ask and ask_question", 'write ask = "..." (or an id)'
            )
        rules.append(rule)
    return tuple(rules)


def check_targets(questions: Iterable[Question], files: Mapping[str, Path | str]) -> None:
    """Every ``ask_question`` must name a question in the bank (checked once all are loaded)."""
    from coach.datafile import did_you_mean

    known = {q.id for q in questions}
    for q in questions:
        for i, rule in enumerate(q.followup_rules):
            if rule.ask_question and rule.ask_question not in known:
                raise DataFileError(
                    f"{files.get(q.id, q.source)}: key 'questions.{q.id}.followup_rules[{i}]"
                    f".ask_question' names an unknown question '{rule.ask_question}'",
                    did_you_mean(rule.ask_question, sorted(known)),
                )


def choose_followup(
    question: Question, answer: str, lookup: Callable[[str], Question | None] | None = None
) -> FollowupChoice | None:
    """The follow-up the first firing rule asks for, or None (use the fixed follow-ups).

    ``lookup`` finds the bank question an ``ask_question`` rule names (e.g. ``by_id.get``);
    without it, or when it finds nothing, such a rule is passed over.
    """
    for i, rule in enumerate(question.followup_rules):
        fired, reason = rule.fires(answer)
        if not fired:
            continue
        if rule.ask:
            return FollowupChoice(rule.ask, i, reason)
        target = lookup(rule.ask_question) if lookup is not None else None
        if target is not None:
            return FollowupChoice(target.text, i, reason, target.id)
    return None
