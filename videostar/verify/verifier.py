"""Verify answers against samples' labels: a sample passes only when every one of its labels passes.

    >>> from videostar.data.labels import parse_labels
    >>> v = Verifier()
    >>> v.verify(parse_labels([{"type": "temporal_range", "value": [0.2, 0.5]}]),
    ...          "The jump happens from 0.25 to 0.5 of the video.").passed
    True

Thresholds default to the paper's (METHOD.md) and can be overridden per task. Batches go through
``verify_many``, which embeds every text the batch needs in one call before judging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from videostar.data.labels import LABEL_TYPES, Label
from videostar.prompts import JUDGE_PROMPT
from videostar.verify import rules
from videostar.verify.embed import Embedder


class VerifierConfig(BaseModel):
    """Pass thresholds per label type (paper defaults) plus per-task overrides."""

    model_config = ConfigDict(extra="forbid")
    range_iou: float = Field(0.5, ge=0, le=1, description="temporal_range passes when IoU > this")
    box_iou: float = Field(0.5, ge=0, le=1, description="bbox passes when IoU > this")
    score_rel_tol: float = Field(0.10, ge=0, description="score passes within this relative error")
    timestamp_abs_tol: float = Field(0.10, ge=0, description="timestamp passes within this absolute error")
    text_cosine: float = Field(0.6, ge=-1, le=1, description="text passes at cosine >= this")
    sequence_cosine: float = Field(0.25, ge=-1, le=1, description="a sequence step matches at cosine >= this")
    class_fuzzy: float = Field(85, ge=0, le=100, description="a class word matches at fuzzy ratio > this")
    max_answer_chars: int = Field(20_000, ge=1, description="longer answers fail without being parsed")
    judge_types: list[Literal[LABEL_TYPES]] = Field(default_factory=list, description="label types verified by a judge model")
    per_task: dict[str, dict] = Field(default_factory=dict, description="task -> overrides of the fields above")

    def for_task(self, task: str | None) -> "VerifierConfig":
        overrides = self.per_task.get(task or "", {})
        return self.model_validate({**self.model_dump(exclude={"per_task"}), **overrides}) if overrides else self


@dataclass(frozen=True)
class SampleVerdict:
    passed: bool  # every label passed
    score: float  # the weakest label's score (0..1)
    labels: list[rules.LabelVerdict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"passed": self.passed, "score": round(self.score, 4), "labels": [v.to_json() for v in self.labels]}


@dataclass(frozen=True)
class VerifyItem:
    labels: Sequence[Label]
    answer: str
    duration: float | None = None  # seconds; lets answers in seconds match normalized labels
    task: str | None = None


class Verifier:
    """Rules per label type; ``judge`` (prompts -> replies, e.g. a model backend's generate) answers
    yes/no for the label types listed in ``config.judge_types``."""

    def __init__(self, config: VerifierConfig | None = None, embedder: Embedder | None = None,
                 judge: Callable[[list[str]], list[str]] | None = None):
        self.config = config or VerifierConfig()
        unknown = set(self.config.judge_types) - set(LABEL_TYPES)
        if unknown:
            raise ValueError(f"judge_types: unknown label type(s) {sorted(unknown)}")
        if self.config.judge_types and judge is None:
            raise ValueError("judge_types is set but no judge model was given")
        self._embedder = embedder
        self.judge = judge

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    def verify(self, labels: Sequence[Label], answer: str, duration: float | None = None,
               task: str | None = None) -> SampleVerdict:
        return self.verify_many([VerifyItem(labels, answer, duration, task)])[0]

    def verify_many(self, items: Iterable[VerifyItem]) -> list[SampleVerdict]:
        items = list(items)
        configs = [self.config.for_task(item.task) for item in items]
        self._prefetch_embeddings(items, configs)
        judged = self._ask_judge(items, configs)
        verdicts = []
        for index, (item, config) in enumerate(zip(items, configs)):
            label_verdicts = [judged.get((index, k)) or self._verify_label(label, item, config)
                              for k, label in enumerate(item.labels)]
            verdicts.append(SampleVerdict(
                passed=bool(label_verdicts) and all(v.passed for v in label_verdicts),
                score=min((v.score for v in label_verdicts), default=0.0),
                labels=label_verdicts,
            ))
        return verdicts

    def _too_long(self, item: VerifyItem, config: VerifierConfig) -> bool:
        return len(item.answer) > config.max_answer_chars

    def _prefetch_embeddings(self, items: list[VerifyItem], configs: list[VerifierConfig]) -> None:
        texts: list[str] = []
        for item, config in zip(items, configs):
            if self._too_long(item, config):
                continue
            for label in item.labels:
                if label.type in config.judge_types:
                    continue
                if label.type == "text":
                    texts += rules.text_inputs(label, item.answer)
                elif label.type == "sequence":
                    texts += rules.sequence_inputs(label, item.answer)
        if texts:
            self.embedder.encode(list(dict.fromkeys(t for t in texts if t.strip())))

    def _ask_judge(self, items: list[VerifyItem], configs: list[VerifierConfig]) -> dict:
        keys, prompts = [], []
        for index, (item, config) in enumerate(zip(items, configs)):
            for k, label in enumerate(item.labels):
                if label.type in config.judge_types and not self._too_long(item, config):
                    keys.append((index, k))
                    prompts.append(JUDGE_PROMPT.format(task=item.task or "video understanding", kind=label.type,
                                                       label=label.render(), answer=item.answer))
        if not prompts:
            return {}
        replies = self.judge(prompts)
        out = {}
        for (index, k), reply in zip(keys, replies):
            label = items[index].labels[k]
            first = (reply.strip().split() or [""])[0].strip(".,!:").lower()
            passed = first == "yes"
            reason = "" if passed else (f"judge said {reply.strip()[:40]!r}" if first == "no" else
                                        f"judge reply is not yes/no: {reply.strip()[:40]!r}")
            out[(index, k)] = rules.LabelVerdict(label.type, label.name, passed, float(passed), "judge",
                                                 float(passed), 1.0, reply.strip()[:200], reason)
        return out

    def _verify_label(self, label: Label, item: VerifyItem, config: VerifierConfig) -> rules.LabelVerdict:
        if self._too_long(item, config):
            return rules.failed(label, "length", config.max_answer_chars,
                                f"answer too long ({len(item.answer):,} > {config.max_answer_chars:,} characters)")
        if not item.answer.strip():
            return rules.failed(label, "empty", 0, "empty answer")
        duration = item.duration
        if duration is not None:
            try:
                label = label.normalized(duration)
            except ValueError as err:
                return rules.failed(label, "label", 0, f"label cannot be normalized: {err}")
        answer = item.answer
        if label.type == "temporal_range":
            return rules.verify_temporal_range(label, answer, duration, config.range_iou)
        if label.type == "bbox":
            return rules.verify_bbox(label, answer, config.box_iou)
        if label.type == "timestamp":
            return rules.verify_timestamp(label, answer, duration, config.timestamp_abs_tol)
        if label.type == "score":
            return rules.verify_score(label, answer, config.score_rel_tol)
        if label.type == "class":
            return rules.verify_class(label, answer, config.class_fuzzy)
        if label.type == "text":
            return rules.verify_text(label, answer, self.embedder, config.text_cosine)
        return rules.verify_sequence(label, answer, self.embedder, config.sequence_cosine)
