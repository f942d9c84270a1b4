"""The pure per-batch step: work + frames -> model replies -> verdicts -> ledger rows.

No state of its own and nothing written: everything it needs is passed in, so a distributed runner
calls it on a worker exactly as the in-process engine does, and writes the rows where it likes.
"""

from __future__ import annotations

from typing import Sequence

from videostar.engine.work import Work, batch_seed, clip_duration
from videostar.models.backend import Backend, Generation, GenRequest, SamplingParams
from videostar.store.ledger import GenerationRow
from videostar.verify.verifier import SampleVerdict, Verifier, VerifyItem
from videostar.video.decode import Frames

UNVERIFIED = SampleVerdict(passed=False, score=0.0, labels=[])


def replies(batch: Sequence[Work], frames: Sequence[Frames], backend: Backend, params: SamplingParams) -> list[Generation]:
    """The model's reply to each work item's prompt about its clip (seeded by the batch's content)."""
    requests = [GenRequest([{"role": "user", "content": w.prompt}], f) for w, f in zip(batch, frames)]
    return backend.generate(requests, params.model_copy(update={"seed": params.seed + batch_seed(batch)}))


def verdicts(batch: Sequence[Work], frames: Sequence[Frames], texts: Sequence[str],
             verifier: Verifier | None) -> list[SampleVerdict]:
    """Each text checked against its sample's labels, times read against the clip's own duration."""
    if verifier is None:
        return [UNVERIFIED] * len(batch)
    # Boxes answered in pixels are read against the frames the model was shown (after max_pixels).
    return verifier.verify_many(VerifyItem(w.sample.labels, text, clip_duration(w.sample, f), w.sample.task,
                                           (f.info.width, f.info.height))
                                for w, f, text in zip(batch, frames, texts))


def generate_rows(step: str, batch: Sequence[Work], frames: Sequence[Frames], backend: Backend,
                  params: SamplingParams, verifier: Verifier | None) -> list[GenerationRow]:
    """Ledger rows for a batch of answer-like work (each item has a question); ``verifier`` None
    leaves every row unverified (VideoSAVi's a0, critique, a1)."""
    return verified_rows(step, batch, frames, replies(batch, frames, backend, params), verifier)


def verified_rows(step: str, batch: Sequence[Work], frames: Sequence[Frames], out: Sequence[Generation],
                  verifier: Verifier | None) -> list[GenerationRow]:
    """The second half of the step, for a runner that generates and verifies in different workers."""
    checked = verdicts(batch, frames, [reply.text for reply in out], verifier)
    return [GenerationRow(w.question.id, step, w.index, reply.text, reply.prompt_tokens, reply.completion_tokens,
                          v.passed, v.score, v.to_json()) for w, reply, v in zip(batch, out, checked)]
