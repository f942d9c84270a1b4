"""Graded rewards from labels, for RL (e.g. GRPO): the verifier's graded score of an answer.

Every label type grades an answer in [0, 1] (1 on the gold answer; see ``videostar.labels``):

| type | graded score |
|---|---|
| temporal_range | IoU of the segments |
| bbox | IoU of the boxes |
| timestamp | 1 - absolute error in fractions of the clip |
| score | 1 - relative error, clipped |
| class | the weakest label word's fuzzy ratio / 100 (0 when an excluded thing is named) |
| text | sentence-embedding cosine, clipped |
| sequence | aligned cosine per gold step x order ratio of the monotone alignment |
| choice | 1 when exactly the correct option is picked, else 0 |
| (judge_types) | 1 when the judge says yes, else 0 |

A sample's reward is its weakest label's score (a sample passes only when all its labels pass).
The pass/fail verdict is unchanged; the reward only grades how close a failing answer came.

Two entry points:

    reward(labels, answer, duration=12.0)                # one answer -> float
    LabelReward()(prompts, completions, labels=[...])    # TRL's reward-function form -> list[float]

``labels`` are Label objects, label dicts, or a JSON string of a list of label dicts (what a
dataset column holds). TRL passes the dataset's other columns as keyword arguments; ``labels`` is
required, ``duration``, ``frame_size`` and ``task`` are used when present:

    from trl import GRPOTrainer
    trainer = GRPOTrainer(model=..., reward_funcs=[LabelReward()], train_dataset=ds)  # ds has "labels"
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from videostar.data.labels import Label, parse_labels
from videostar.verify.verifier import Verifier, VerifierConfig, VerifyItem


def _labels(value: Any) -> list[Label]:
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        value = [value]
    return [x if hasattr(x, "render") else parse_labels([x])[0] for x in value]


def completion_text(completion: Any) -> str:
    """The answer text of a TRL completion: a string, or chat messages (the last one's content,
    itself a string or a list of parts whose text parts are joined)."""
    if isinstance(completion, str):
        return completion
    content = completion[-1]["content"] if completion else ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


_default: Verifier | None = None


def reward(labels: Any, answer: str, *, verifier: Verifier | None = None, duration: float | None = None,
           frame_size: tuple[int, int] | None = None, task: str | None = None, **_: Any) -> float:
    """The graded score in [0, 1] of ``answer`` against ``labels`` (the weakest label's score)."""
    global _default
    if verifier is None:
        _default = _default or Verifier()
        verifier = _default
    item = VerifyItem(_labels(labels), answer, duration, task, tuple(frame_size) if frame_size else None)
    return verifier.verify_many([item])[0].score


class LabelReward:
    """TRL reward function: ``(prompts, completions, labels=..., **columns) -> list[float]``,
    verifying the whole batch in one ``verify_many`` call (one embedding pass)."""

    __name__ = "label_reward"

    def __init__(self, config: VerifierConfig | None = None, verifier: Verifier | None = None):
        self._config = config
        self._verifier = verifier

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier(self._config)
        return self._verifier

    def __call__(self, prompts: Sequence, completions: Sequence, labels: Sequence | None = None,
                 **kwargs: Any) -> list[float]:
        if labels is None:
            raise ValueError("the dataset has no 'labels' column: LabelReward needs each prompt's labels")
        n = len(completions)

        def column(name: str) -> list:
            values = kwargs.get(name)
            return list(values) if values is not None else [None] * n

        items = [VerifyItem(_labels(lab), completion_text(c), d, t, tuple(f) if f else None)
                 for lab, c, d, f, t in zip(labels, completions, column("duration"), column("frame_size"),
                                            column("task"))]
        return [v.score for v in self.verifier.verify_many(items)]
