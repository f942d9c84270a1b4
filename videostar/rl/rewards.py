"""Verifiable rewards: Video-STaR's verifiers score a completion against every label of its sample.

``score_completions`` is the one place a completion becomes a reward. A sample's label reward is the
weighted mean over its labels of each verifier's score (graded 0..1: IoU, closeness, cosine, ...;
or 1/0 for pass/fail), the weights set per label type. The optional format reward checks that a
'Final answer:' line is present and that the answer does not loop (repeated 4-grams).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from videostar.data.labels import Label
from videostar.rl.config import RewardSettings
from videostar.verify.reward import completion_text
from videostar.verify.verifier import Verifier, VerifyItem

_FINAL_LINE = re.compile(r"^\s*final answer\s*:\s*\S", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RewardResult:
    reward: float  # label_reward + format_weight * format_reward
    label_reward: float
    format_reward: float
    passed: bool  # every label passed its verifier
    labels: list[dict] = field(default_factory=list)  # per label: type, name, score, passed, reason


def repeated_share(text: str, n: int = 4) -> float:
    """Share of the answer's word n-grams that repeat an earlier one (0: none, near 1: a loop)."""
    words = text.split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def format_reward(text: str, max_repeated_share: float = 0.5) -> float:
    """0.5 for a 'Final answer:' line with something on it, 0.5 for not repeating itself."""
    return 0.5 * bool(_FINAL_LINE.search(text)) + 0.5 * (repeated_share(text) <= max_repeated_share)


def score_completions(verifier: Verifier, labels: list[list[Label]], answers: list[str], settings: RewardSettings,
                      durations: list[float | None] | None = None, tasks: list[str | None] | None = None,
                      ) -> list[RewardResult]:
    """Rewards of a batch of answers, each against its sample's labels (verified in one batch)."""
    durations = durations or [None] * len(answers)
    tasks = tasks or [None] * len(answers)
    verdicts = verifier.verify_many(VerifyItem(l, a, d, t) for l, a, d, t in zip(labels, answers, durations, tasks))
    results = []
    for answer, verdict in zip(answers, verdicts):
        weights = [settings.weight(v.type) for v in verdict.labels]
        scores = [v.score if settings.graded else float(v.passed) for v in verdict.labels]
        label_reward = sum(w * s for w, s in zip(weights, scores)) / sum(weights) if sum(weights) > 0 else 0.0
        fmt = format_reward(answer, settings.max_repeated_ngram_share) if settings.format_weight > 0 else 0.0
        results.append(RewardResult(
            reward=label_reward + settings.format_weight * fmt, label_reward=label_reward, format_reward=fmt,
            passed=verdict.passed,
            labels=[{"type": v.type, "name": v.name, "score": s, "passed": v.passed, "reason": v.reason}
                    for v, s in zip(verdict.labels, scores)]))
    return results


class VerifiedReward:
    """TRL reward function: scores each completion with ``score_completions``, records every rollout
    in the ledger (one transaction per step), and logs per-label-type rewards and the pass rate."""

    __name__ = "verified"

    def __init__(self, verifier: Verifier, settings: RewardSettings, clips, ledger=None, process_index: int = 0):
        self.verifier = verifier
        self.settings = settings
        self.clips = clips
        self.ledger = ledger
        self.process_index = process_index

    def __call__(self, prompts, completions, completion_ids, sample_id, trainer_state=None, log_metric=None, **_):
        samples = [self.clips.samples[i] for i in sample_id]
        answers = [completion_text(c) for c in completions]
        results = score_completions(self.verifier, [s.labels for s in samples], answers, self.settings,
                                    [self.clips.duration(i) for i in sample_id], [s.task for s in samples])
        if log_metric is not None:
            for name, value in step_metrics(results, with_format=self.settings.format_weight > 0).items():
                log_metric(name, value)
        if self.ledger is not None and trainer_state is not None:
            from videostar.rl.ledger import Rollout

            step, offset = trainer_state.global_step + 1, self.process_index * len(answers)
            self.ledger.record([Rollout(step, offset + k, s.id, s.task, completion_text(p), a, len(ids), r.reward,
                                        r.label_reward, r.format_reward, r.passed, r.labels)
                                for k, (s, p, a, ids, r) in enumerate(zip(samples, prompts, answers, completion_ids,
                                                                          results))])
        return [r.reward for r in results]


def step_metrics(results: list[RewardResult], with_format: bool = True) -> dict[str, float]:
    """Mean score per label type (``reward/<type>``), pass rate, and the format reward's mean."""
    by_type: dict[str, list[float]] = {}
    for result in results:
        for label in result.labels:
            by_type.setdefault(label["type"], []).append(label["score"])
    metrics = {f"reward/{kind}": sum(v) / len(v) for kind, v in sorted(by_type.items())}
    metrics["pass_rate"] = sum(r.passed for r in results) / max(len(results), 1)
    if with_format:
        metrics["reward/format"] = sum(r.format_reward for r in results) / max(len(results), 1)
    return metrics
