"""Verify answers against samples' labels: a sample passes only when every one of its labels passes.

    >>> from videostar.data.labels import parse_labels
    >>> v = Verifier()
    >>> v.verify(parse_labels([{"type": "temporal_range", "value": [0.2, 0.5]}]),
    ...          "The jump happens from 0.25 to 0.5 of the video.").passed
    True

Each label is judged by its type's parser and rule (``videostar.labels``, one module per type).
Thresholds default to the paper's (METHOD.md) and can be overridden per task. Label types listed
in ``judge_types`` are judged instead by a judge model (``judge``: any backend's ModelConfig, e.g.
a served model), which is asked yes/no for all of a batch's labels in one call; its reply is kept
in the verdict. Batches go through ``verify_many``, which embeds every text the batch needs in one
call before judging.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from videostar.data.labels import LABEL_TYPES, Label
from videostar.labels import REGISTRY, Context
from videostar.labels.base import LabelVerdict, failed
from videostar.models import ModelConfig
from videostar.prompts import JUDGE_PROMPT
from videostar.verify.embed import Embedder

_YES_NO_RE = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


class VerifierConfig(BaseModel):
    """Pass thresholds per label type (paper defaults) plus per-task overrides, and the judge."""

    model_config = ConfigDict(extra="forbid")
    range_iou: float = Field(0.5, ge=0, le=1, description="temporal_range passes when IoU > this")
    box_iou: float = Field(0.5, ge=0, le=1, description="bbox passes when IoU > this")
    score_rel_tol: float = Field(0.10, ge=0, description="score passes within this relative error")
    timestamp_abs_tol: float = Field(0.10, ge=0, description="timestamp passes within this absolute error")
    text_cosine: float = Field(0.6, ge=-1, le=1, description="text passes at cosine >= this")
    sequence_cosine: float = Field(0.25, ge=-1, le=1, description="a sequence step can be aligned at cosine >= this")
    sequence_order: float = Field(0.95, ge=0, le=1, description="sequence passes when its ordered alignment keeps "
                                                                   "this share of the unordered one")
    class_fuzzy: float = Field(85, ge=0, le=100, description="a class word matches at fuzzy ratio > this")
    max_answer_chars: int = Field(20_000, ge=1, description="longer answers fail without being parsed")
    judge_types: list[Literal[LABEL_TYPES]] = Field(default_factory=list, description="label types verified by a judge model")
    per_task: dict[str, dict] = Field(default_factory=dict, description="task -> overrides of the fields above")
    judge: ModelConfig | None = Field(None, description="the judge model (any backend), for judge_types")
    judge_max_new_tokens: int = Field(16, ge=1, description="tokens the judge may reply with")

    def for_task(self, task: str | None) -> "VerifierConfig":
        overrides = self.per_task.get(task or "", {})
        return self.model_validate({**self.model_dump(exclude={"per_task"}), **overrides}) if overrides else self


@dataclass(frozen=True)
class SampleVerdict:
    passed: bool  # every label passed
    score: float  # the weakest label's graded score (0..1)
    labels: list[LabelVerdict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"passed": self.passed, "score": round(self.score, 4), "labels": [v.to_json() for v in self.labels]}


@dataclass(frozen=True)
class VerifyItem:
    labels: Sequence[Label]
    answer: str
    duration: float | None = None  # seconds; lets answers in seconds match normalized labels
    task: str | None = None
    frame_size: tuple[int, int] | None = None  # (width, height); lets boxes answered in pixels match


def judge_reply_says_yes(reply: str) -> bool | None:
    """True/False when the reply says yes or no (and not both); None otherwise."""
    said = {m.group(1).lower() for m in _YES_NO_RE.finditer(reply[:400])}
    return (said == {"yes"}) if len(said) == 1 else None


class Verifier:
    """Rules per label type; ``judge`` (prompts -> replies) answers yes/no for the label types listed
    in ``config.judge_types``. Without ``judge``, the config's ``judge`` model is loaded on first use."""

    def __init__(self, config: VerifierConfig | None = None, embedder: Embedder | None = None,
                 judge: Callable[[list[str]], list[str]] | None = None):
        self.config = config or VerifierConfig()
        judged = set(self.config.judge_types).union(
            *(self.config.for_task(task).judge_types for task in self.config.per_task))
        if judged and judge is None and self.config.judge is None:
            raise ValueError(f"judge_types {sorted(judged)} are set but no judge model was given (verifier.judge)")
        self._embedder = embedder
        self.judge = judge

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    def verify(self, labels: Sequence[Label], answer: str, duration: float | None = None,
               task: str | None = None, frame_size: tuple[int, int] | None = None) -> SampleVerdict:
        return self.verify_many([VerifyItem(labels, answer, duration, task, frame_size)])[0]

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
                embeds = REGISTRY[label.type].embeds
                if embeds is not None and label.type not in config.judge_types:
                    texts += embeds(label, item.answer)
        if texts:
            self.embedder.encode(list(dict.fromkeys(t for t in texts if t.strip())))

    def _judge_model(self) -> Callable[[list[str]], list[str]]:
        if self.judge is None:
            from videostar.models import load_backend
            from videostar.models.backend import GenRequest, SamplingParams

            backend = load_backend(self.config.judge)
            params = SamplingParams(temperature=0.0, max_new_tokens=self.config.judge_max_new_tokens)
            self.judge = lambda prompts: [g.text for g in backend.generate(
                [GenRequest([{"role": "user", "content": p}]) for p in prompts], params)]
        return self.judge

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
        replies = self._judge_model()(prompts)  # the whole batch in one call
        out = {}
        for (index, k), reply in zip(keys, replies):
            label = items[index].labels[k]
            says = judge_reply_says_yes(reply)
            reason = "" if says else (f"judge said {reply.strip()[:60]!r}" if says is False else
                                      f"judge reply is not yes/no: {reply.strip()[:60]!r}")
            out[(index, k)] = LabelVerdict(label.type, label.name, bool(says), float(bool(says)), "judge",
                                           float(bool(says)), 1.0, reply.strip()[:500], reason)
        return out

    def _verify_label(self, label: Label, item: VerifyItem, config: VerifierConfig) -> LabelVerdict:
        if self._too_long(item, config):
            return failed(label, "length", config.max_answer_chars,
                          f"answer too long ({len(item.answer):,} > {config.max_answer_chars:,} characters)")
        if not item.answer.strip():
            return failed(label, "empty", 0, "empty answer")
        if item.duration is not None:
            try:
                label = label.normalized(item.duration)
            except ValueError as err:
                return failed(label, "label", 0, f"label cannot be normalized: {err}")
        spec = REGISTRY[label.type]
        ctx = Context(config, item.duration, item.frame_size, lambda: self.embedder)
        return spec.rule(label, spec.parse(label, item.answer, ctx), ctx)
