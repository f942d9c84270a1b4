"""One VideoSAVi iteration's data: self-questions, a0, critique, a1, and filtered preference pairs
(METHOD.md section 2); plus label-verified pairs where samples have labels.

Composed on the engine (videostar/engine/): the same batching by clip, frame cache, skipped clips,
ledger and resume as Video-STaR; only the steps, prompts and verification differ.
Questions are asked for separately by kind (spatial, temporal), so the kinds stay balanced.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videostar.config import GenerateConfig
from videostar.data.manifest import Sample
from videostar.engine.engine import Engine, Progress
from videostar.engine.work import Work
from videostar.models.backend import Backend
from videostar.savi.pairs import drop_counts, label_verified_pairs, self_critique_pair
from videostar.star.questions import Question, parse_model_questions, template_questions
from videostar.store.ledger import Ledger
from videostar.verify.verifier import Verifier

KINDS = ("spatial", "temporal")


class ClipSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str  # a CLIP checkpoint directory or hub id
    action: Literal["swap", "drop"] = "swap"
    margin: float = 0.0


class SaviSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions_per_video: int = Field(6, ge=2, description="split evenly between spatial and temporal")
    sources: list[Literal["self_critique", "label_verified"]] = Field(default_factory=lambda: ["self_critique"])
    max_similarity: float = Field(0.9, gt=0, le=1, description="pairs with a0 ~ a1 at or above this are dropped")
    label_samples: int = Field(4, ge=2, description="label_verified: answers sampled per question")
    clip: ClipSettings | None = None


class SaviGeneration:
    """One VideoSAVi iteration over one run ledger, composed on the engine (nothing is verified
    except the label-verified answers)."""

    def __init__(self, config: GenerateConfig, savi: SaviSettings, backend: Backend, verifier: Verifier,
                 ledger: Ledger, progress: Progress | None = None):
        self.config = config
        self.savi = savi
        self.ledger = ledger
        self.engine = Engine(config, backend, ledger, verifier, progress)

    def _self_questions(self, samples: list[Sample]) -> list[Question]:
        per_kind = math.ceil(self.savi.questions_per_video / len(KINDS))
        if not self.ledger.is_done("questions:savi"):
            prompts = {"spatial": self.config.prompts.spatial_questions, "temporal": self.config.prompts.temporal_questions}
            todo = [Work(s, prompts[kind].format(n=per_kind), index=i)
                    for s in self.engine.unskipped(samples) for i, kind in enumerate(KINDS)]
            for batch, replies in self.engine.ask("questions", todo):
                self.ledger.add_questions(
                    Question(f"{w.sample.id}/{KINDS[w.index][:2]}{i}", w.sample.id, KINDS[w.index], text)
                    for w, reply in zip(batch, replies)
                    for i, text in enumerate(parse_model_questions(reply.text, per_kind, self.config.questions.max_chars)))
            self.ledger.mark_done("questions:savi")
        ids = {s.id for s in samples}
        return [q for q in self.ledger.questions() if q.source in KINDS and q.sample_id in ids]

    def _self_critique(self, samples: list[Sample], by_id: dict) -> list:
        prompts, engine = self.config.prompts, self.engine
        questions = self._self_questions(samples)
        engine.run_step("a0", engine.pending("a0", questions, by_id, lambda q: prompts.answer.format(question=q.text)),
                        verify=False)
        a0 = self.ledger.texts("a0")
        engine.run_step("critique", engine.pending(
            "critique", questions, by_id, lambda q: prompts.critique.format(question=q.text, answer=a0[q.id]),
            only=set(a0)), verify=False)
        critiques = self.ledger.texts("critique")
        engine.run_step("a1", engine.pending(
            "a1", questions, by_id, lambda q: prompts.revise.format(question=q.text, answer=a0[q.id],
                                                                    critique=critiques[q.id]),
            only=set(critiques)), verify=False)
        limit = self.config.sampling.max_new_tokens
        truncated = {r["question_id"]: r["completion_tokens"] >= limit for r in self.ledger.generations(step="a1")}
        a1 = self.ledger.texts("a1")
        return [self_critique_pair(q.id, a0[q.id], critiques[q.id], a1[q.id], truncated[q.id], self.savi.max_similarity)
                for q in questions if q.id in a1]

    def _label_verified(self, samples: list[Sample], by_id: dict) -> list:
        labeled = [s for s in samples if s.labels]
        questions = [q for s in labeled for q in template_questions(s, self.config.questions.templates_per_sample,
                                                                    self.config.seed)]
        self.ledger.add_questions(questions)
        work = self.engine.pending("answer", questions, by_id,
                                   lambda q: self.config.prompts.answer.format(question=q.text), self.savi.label_samples)
        self.engine.run_step("answer", work)
        ids = {q.id for q in questions}
        return label_verified_pairs([r for r in self.ledger.generations(step="answer") if r["question_id"] in ids])

    def run(self) -> dict:
        self.engine.check_settings()
        samples = self.engine.load_samples(require_labels=False)
        by_id = {s.id: s for s in samples}
        pairs = []
        if "self_critique" in self.savi.sources:
            pairs += self._self_critique(samples, by_id)
        if "label_verified" in self.savi.sources:
            pairs += self._label_verified(samples, by_id)
        if self.savi.clip is not None:
            pairs = self._clip(pairs, by_id)
        self.ledger.add_pairs(pairs)
        questions = self.ledger.questions()
        counts = drop_counts(pairs)
        if "self_critique" in self.savi.sources:  # zero questions of a kind explains zero pairs
            counts.setdefault("self_critique", {"kept": 0, "dropped": {}})["questions"] = {
                kind: sum(q.source == kind and q.sample_id in by_id for q in questions) for kind in KINDS}
        return counts

    def _clip(self, pairs: list, by_id: dict) -> list:
        from videostar.savi.clip_filter import ClipFilter

        clip = ClipFilter(self.savi.clip.model, self.savi.clip.action, self.savi.clip.margin)
        samples = {q.id: by_id[q.sample_id] for q in self.ledger.questions() if q.sample_id in by_id}
        return [clip.apply(p, self.engine.frames(samples[p.question_id]).array) if p.kept else p for p in pairs]
