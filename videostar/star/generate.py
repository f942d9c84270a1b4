"""Video-STaR data generation (METHOD.md steps 1-4): questions, answers, verification, and
rationalization of failures, written to the run ledger as it goes.

The steps and prompts are Video-STaR's; batching by clip, the frame cache, skipping unreadable
clips, resume and the ledger writes are the engine's (videostar/engine/).
"""

from __future__ import annotations

from collections import defaultdict

from videostar.config import GenerateConfig
from videostar.data.manifest import Sample
from videostar.engine.engine import Engine, Progress
from videostar.engine.work import Work
from videostar.models.backend import Backend
from videostar.prompts import gold_answer
from videostar.labels import question_extras
from videostar.star.questions import Question, parse_model_questions, template_questions
from videostar.store.ledger import Ledger
from videostar.verify.verifier import Verifier


class Generation:
    """One Video-STaR generation over one run ledger."""

    def __init__(self, config: GenerateConfig, backend: Backend, verifier: Verifier, ledger: Ledger,
                 progress: Progress | None = None):
        self.config = config
        self.ledger = ledger
        self.engine = Engine(config, backend, ledger, verifier, progress)

    def add_questions(self, samples: list[Sample]) -> list[Question]:
        qc = self.config.questions
        self.ledger.add_questions(q for s in samples for q in template_questions(s, qc.templates_per_sample, self.config.seed))
        if qc.model_questions and not self.ledger.is_done("questions:model"):
            have = {q.sample_id for q in self.ledger.questions() if q.source == "model"}
            prompt = self.config.prompts.ask_questions
            todo = [Work(s, prompt.format(task=s.task, labels=gold_answer(s.labels), n=qc.model_questions))
                    for s in self.engine.unskipped(samples) if s.id not in have]
            for batch, replies in self.engine.ask("questions", todo):
                self.ledger.add_questions(
                    Question(f"{w.sample.id}/m{k}", w.sample.id, "model", text + question_extras(w.sample.labels))
                    for w, reply in zip(batch, replies)
                    for k, text in enumerate(parse_model_questions(reply.text, qc.model_questions, qc.max_chars)))
            self.ledger.mark_done("questions:model")
        return self.ledger.questions()

    def run(self) -> dict:
        config, engine = self.config, self.engine
        engine.check_settings()
        samples = engine.load_samples()
        by_id = {s.id: s for s in samples}
        questions = [q for q in self.add_questions(samples) if q.sample_id in by_id]
        prompts = config.prompts
        if "answer" in config.steps:
            work = engine.pending("answer", questions, by_id, lambda q: prompts.answer.format(question=q.text),
                                  config.samples_per_question)
            engine.run_step("answer", work)
        if "rationalize" in config.steps:
            failed = {qid for qid, _ in self.ledger.done_keys("answer")} - self.ledger.passed_questions("answer")
            work = engine.pending("rationalize", questions, by_id, lambda q: prompts.rationalize.format(
                question=q.text, answer=gold_answer(by_id[q.sample_id].labels)), config.rationalize_samples, only=failed)
            engine.run_step("rationalize", work)
        return yield_table(self.ledger, set(by_id))


def yield_table(ledger: Ledger, sample_ids: set[str] | None = None) -> dict:
    """Per task: questions, kept by answer generation, kept by rationalization, failed, skipped
    (questions whose clip could not be decoded), and the rates over the questions not skipped."""
    samples = ledger.samples()
    skipped = ledger.skipped()
    kept_answer = ledger.passed_questions("answer")
    kept_rational = ledger.passed_questions("rationalize")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"questions": 0, "kept_answer": 0,
                                                             "kept_rationalization": 0, "failed": 0, "skipped": 0})
    for q in ledger.questions():
        if sample_ids is not None and q.sample_id not in sample_ids:
            continue
        row = counts[samples[q.sample_id].task]
        row["questions"] += 1
        if q.sample_id in skipped:
            row["skipped"] += 1
        elif q.id in kept_answer:
            row["kept_answer"] += 1
        elif q.id in kept_rational:
            row["kept_rationalization"] += 1
        else:
            row["failed"] += 1
    table = {}
    for task, row in sorted(counts.items()):
        n = max(row["questions"] - row["skipped"], 1)
        table[task] = {**row, "answer_yield": round(row["kept_answer"] / n, 4),
                       "rationalization_yield": round(row["kept_rationalization"] / n, 4)}
    return table
