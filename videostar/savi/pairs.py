"""Preference pairs and the rules that drop bad ones, each drop counted by its reason.

Self-critique (VideoSAVi): chosen = the revision a1, rejected = the first answer a0. A pair is
dropped when a1 is degenerate (empty, truncated at the token limit, or repetitive), when the
critique found nothing wrong, when a1 equals a0 after normalization, or when it differs only
trivially (text similarity >= ``max_similarity``).

Label-verified (beyond the paper): among several sampled answers to a labeled question, a verified
answer is chosen and a failed one rejected; questions where all answers pass or all fail give none.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from rapidfuzz import fuzz

from videostar.store.ledger import PairRow

_NO_ERRORS_RE = re.compile(
    r"\b(?:no (?:errors?|issues?|problems?|mistakes?|inaccuracies)|nothing (?:is )?(?:wrong|missing)|"
    r"(?:is|looks|seems) (?:fully |completely |entirely )?(?:correct|accurate))\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[a-z0-9]+")
SHORT_CRITIQUE_WORDS = 25  # a "no errors" verdict longer than this is taken to list problems after all


def normalize(text: str) -> str:
    return " ".join(_WORD_RE.findall(text.lower()))


def critique_found_nothing(critique: str) -> bool:
    words = normalize(critique).split()
    return not words or (bool(_NO_ERRORS_RE.search(critique)) and len(words) <= SHORT_CRITIQUE_WORDS)


def degenerate(text: str, truncated: bool) -> str | None:
    """Why ``text`` is unusable as a chosen answer, or None."""
    words = normalize(text).split()
    if not words:
        return "empty"
    if truncated:
        return "truncated"
    trigrams = list(zip(words, words[1:], words[2:]))
    if len(words) >= 12 and len(set(trigrams)) < 0.5 * len(trigrams):
        return "repetitive"
    return None


def self_critique_pair(question_id: str, a0: str, critique: str, a1: str, a1_truncated: bool,
                       max_similarity: float = 0.9) -> PairRow:
    similarity = fuzz.ratio(normalize(a0), normalize(a1)) / 100
    info = {"similarity": round(similarity, 4), "critique": critique}
    reason = ""
    if (bad := degenerate(a1, a1_truncated)) is not None:
        reason = f"revision_{bad}"
    elif critique_found_nothing(critique):
        reason = "critique_found_nothing"
    elif normalize(a0) == normalize(a1):
        reason = "unchanged"
    elif similarity >= max_similarity:
        reason = "trivial_change"
    return PairRow(question_id, "self_critique", chosen=a1, rejected=a0, kept=not reason, reason=reason, info=info)


def label_verified_pairs(rows: list[dict]) -> list[PairRow]:
    """Pairs from answer generations (ledger rows) of the same question: first passing vs first failing."""
    by_question: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_question[row["question_id"]].append(row)
    pairs = []
    for qid, answers in by_question.items():
        passed = [a for a in answers if a["passed"]]
        failed = [a for a in answers if not a["passed"]]
        chosen, rejected = (passed or [{"text": ""}])[0]["text"], (failed or [{"text": ""}])[0]["text"]
        reason = "all_failed" if not passed else "all_passed" if not failed else \
            "identical" if normalize(chosen) == normalize(rejected) else ""
        info = {"answers": len(answers), "passed": len(passed)}
        if passed and failed:
            info["rejected_reason"] = [v["reason"] for v in failed[0]["verdict"]["labels"] if not v["passed"]]
        pairs.append(PairRow(qid, "label_verified", chosen, rejected, kept=not reason, reason=reason, info=info))
    return pairs


def drop_counts(pairs: list[PairRow]) -> dict:
    """{source: {"kept": n, "dropped": {reason: n}}}"""
    out: dict[str, dict] = {}
    for pair in pairs:
        entry = out.setdefault(pair.source, {"kept": 0, "dropped": Counter()})
        if pair.kept:
            entry["kept"] += 1
        else:
            entry["dropped"][pair.reason] += 1
    return {source: {"kept": e["kept"], "dropped": dict(e["dropped"])} for source, e in out.items()}
