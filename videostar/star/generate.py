"""Video-STaR data generation (METHOD.md steps 1-4): questions, answers, verification, and
rationalization of failures, written to the run ledger as it goes.

Speed: pending work is sorted by video and cut into batches of ``batch_size`` requests spanning
several videos; each video is decoded once (frame cache on disk, shared by every question and
step). Resume: work already in the ledger is skipped, so a rerun with ``resume`` redoes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from videostar.config import GenerateConfig
from videostar.data.manifest import Sample, load_manifest
from videostar.models.backend import Backend, GenRequest
from videostar.prompts import gold_answer
from videostar.star.questions import Question, parse_model_questions, template_questions
from videostar.store.ledger import GenerationRow, Ledger
from videostar.verify.verifier import SampleVerdict, Verifier, VerifyItem
from videostar.video.cache import FrameCache
from videostar.video.decode import Frames

Progress = Callable[[str, int, int, dict], None]  # (step, advanced by, total, {"kept": k, "failed": f})
# Settings that change what a generation means: resuming with different ones is refused.
RESUME_KEYS = ("model", "frames", "sampling", "prompts", "questions", "samples_per_question", "rationalize_samples", "seed")


class ResumeError(RuntimeError):
    pass


UNVERIFIED = SampleVerdict(passed=False, score=0.0, labels=[])


@dataclass
class Work:
    question: Question
    sample: Sample
    index: int  # sample index among the draws for this question and step


class Generation:
    def __init__(self, config: GenerateConfig, backend: Backend, verifier: Verifier, ledger: Ledger,
                 progress: Progress | None = None):
        self.config = config
        self.backend = backend
        self.verifier = verifier
        self.ledger = ledger
        self.progress = progress or (lambda *a: None)
        self.cache = FrameCache(Path(config.run_dir) / "frames", max_bytes=config.frame_cache_bytes)

    def frames(self, sample: Sample) -> Frames:
        return self.cache.load(sample.video, self.config.frames, segment=sample.segment, fps=sample.fps)

    def _duration(self, sample: Sample, frames: Frames) -> float | None:
        if sample.clip_duration() is not None:
            return sample.clip_duration()
        return frames.info.duration if sample.segment is None else None

    # ------------------------------------------------------------------ questions
    def add_questions(self, samples: list[Sample]) -> list[Question]:
        qc = self.config.questions
        self.ledger.add_questions(q for s in samples for q in template_questions(s, qc.templates_per_sample, self.config.seed))
        if qc.model_questions and not self.ledger.is_done("questions:model"):
            have = {q.sample_id for q in self.ledger.questions() if q.source == "model"}
            todo = [s for s in samples if s.id not in have]
            for batch, frames in self._batches(todo, key=lambda s: s):
                requests = [GenRequest([{"role": "user", "content": self.config.prompts.ask_questions.format(
                    task=s.task, labels=gold_answer(s.labels), n=qc.model_questions)}], frames[s.video])
                    for s in batch]
                replies = self.backend.generate(requests, self.config.sampling)
                self.ledger.add_questions(
                    Question(f"{s.id}/m{k}", s.id, "model", text)
                    for s, reply in zip(batch, replies)
                    for k, text in enumerate(parse_model_questions(reply.text, qc.model_questions, qc.max_chars)))
                self.progress("questions", len(batch), len(todo), {})
            self.ledger.mark_done("questions:model")
        return self.ledger.questions()

    # ------------------------------------------------------------------ answers and rationalizations
    def _batches(self, items: list, key):
        """Batches of ``items`` sorted by video, with each batch's frames decoded once per video."""
        items = sorted(items, key=lambda item: (key(item).video, key(item).id))
        for start in range(0, len(items), self.config.batch_size):
            batch = items[start:start + self.config.batch_size]
            frames = {}
            for item in batch:
                sample = key(item)
                if sample.video not in frames:
                    frames[sample.video] = self.frames(sample)
            yield batch, frames

    def run_step(self, step: str, work: list[Work], prompt: Callable[[Work], str], verify: bool = True) -> None:
        """Generate ``prompt(work)`` for every item, verify against the labels (unless ``verify`` is
        off), and write each batch to the ledger in one transaction."""
        settings_id = self.ledger.settings_id(self._settings())
        counts = {"kept": 0, "failed": 0}
        for batch, frames in self._batches(work, key=lambda w: w.sample):
            requests = [GenRequest([{"role": "user", "content": prompt(w)}], frames[w.sample.video]) for w in batch]
            params = self.config.sampling.model_copy(update={"seed": self.config.sampling.seed + hash_seed(batch)})
            replies = self.backend.generate(requests, params)
            verdicts = self.verifier.verify_many(
                VerifyItem(w.sample.labels, reply.text, self._duration(w.sample, frames[w.sample.video]), w.sample.task)
                for w, reply in zip(batch, replies)) if verify else [UNVERIFIED] * len(batch)
            rows = [GenerationRow(w.question.id, step, w.index, reply.text, reply.prompt_tokens,
                                  reply.completion_tokens, v.passed, v.score, v.to_json())
                    for w, reply, v in zip(batch, replies, verdicts)]
            self.ledger.add_generations(rows, settings_id)
            counts["kept"] += sum(v.passed for v in verdicts)
            counts["failed"] += sum(not v.passed for v in verdicts)
            self.progress(step, len(batch), len(work), dict(counts))

    def _settings(self) -> dict:
        return self.config.model_dump(mode="json", include=set(RESUME_KEYS))

    def pending(self, step: str, questions: list[Question], by_id: dict[str, Sample], draws: int = 1,
                only: set[str] | None = None) -> list[Work]:
        """Work of ``step`` not yet in the ledger: ``draws`` samples per question (of ``only``, if given)."""
        done = self.ledger.done_keys(step)
        return [Work(q, by_id[q.sample_id], k) for q in questions if only is None or q.id in only
                for k in range(draws) if (q.id, k) not in done]

    def check_settings(self) -> None:
        """Refuse to resume a run directory generated with other settings; record ours."""
        previous, settings = self.ledger.meta("settings"), self._settings()
        if previous is not None and previous != settings:
            changed = sorted(k for k in RESUME_KEYS if previous.get(k) != settings.get(k))
            raise ResumeError(f"{self.config.run_dir} was generated with other settings ({', '.join(changed)}); "
                              "resume with the same config or use a new --run-dir")
        self.ledger.set_meta("settings", settings)
        self.ledger.set_meta("frame_sampling", self.config.frames.model_dump(mode="json"))

    def load_samples(self, require_labels: bool = True) -> list[Sample]:
        config = self.config
        samples = [s for s in load_manifest(config.manifest)
                   if config.splits is None or s.split in config.splits][: config.max_samples]
        if not samples:
            raise ValueError(f"{config.manifest}: no samples in splits {config.splits}")
        unlabeled = [s.id for s in samples if not s.labels]
        if require_labels and unlabeled:
            raise ValueError(f"{config.manifest}: {len(unlabeled)} sample(s) have no labels (first: {unlabeled[0]}); "
                             "Video-STaR verifies against labels (VideoSAVi needs none: videostar savi)")
        self.ledger.add_samples(samples)
        return samples

    def run(self) -> dict:
        config = self.config
        self.check_settings()
        samples = self.load_samples()
        by_id = {s.id: s for s in samples}
        questions = [q for q in self.add_questions(samples) if q.sample_id in by_id]
        prompts = config.prompts
        if "answer" in config.steps:
            work = self.pending("answer", questions, by_id, config.samples_per_question)
            self.run_step("answer", work, lambda w: prompts.answer.format(question=w.question.text))
        if "rationalize" in config.steps:
            failed = {qid for qid, _ in self.ledger.done_keys("answer")} - self.ledger.passed_questions("answer")
            work = self.pending("rationalize", questions, by_id, config.rationalize_samples, only=failed)
            self.run_step("rationalize", work, lambda w: prompts.rationalize.format(
                question=w.question.text, answer=gold_answer(w.sample.labels)))
        return yield_table(self.ledger, set(by_id))


def hash_seed(batch: list[Work]) -> int:
    """A per-batch seed that depends on what is in the batch, not on when it ran (resume-stable)."""
    import zlib

    return zlib.crc32("|".join(f"{w.question.id}:{w.index}" for w in batch).encode()) % 100_000


def yield_table(ledger: Ledger, sample_ids: set[str] | None = None) -> dict:
    """Per task: questions, kept by answer generation, kept by rationalization, failed (and rates)."""
    samples = ledger.samples()
    kept_answer = ledger.passed_questions("answer")
    kept_rational = ledger.passed_questions("rationalize")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"questions": 0, "kept_answer": 0,
                                                             "kept_rationalization": 0, "failed": 0})
    for q in ledger.questions():
        if sample_ids is not None and q.sample_id not in sample_ids:
            continue
        row = counts[samples[q.sample_id].task]
        row["questions"] += 1
        if q.id in kept_answer:
            row["kept_answer"] += 1
        elif q.id in kept_rational:
            row["kept_rationalization"] += 1
        else:
            row["failed"] += 1
    table = {}
    for task, row in sorted(counts.items()):
        n = max(row["questions"], 1)
        table[task] = {**row, "answer_yield": round(row["kept_answer"] / n, 4),
                       "rationalization_yield": round(row["kept_rationalization"] / n, 4)}
    return table
