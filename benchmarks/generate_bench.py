"""Generation engine vs a naive loop, in one process on the tiny model.

Naive: for each question, decode its video, call the model on that one request, verify it.
Engine: ``Generation`` (frames decoded once per video via the cache, batches across videos,
batched verification, ledger writes). Both run the answer step over the same toy questions with
the same sampling. Prints samples/second for both as JSON.

    python benchmarks/generate_bench.py [--videos 30] [--batch-size 32] [--max-new-tokens 16]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from videostar.config import GenerateConfig
from videostar.data.manifest import load_manifest
from videostar.models.backend import GenRequest
from videostar.models.hf import HFBackend
from videostar.models.tiny import build_tiny_model
from videostar.star.generate import Generation
from videostar.star.questions import template_questions
from videostar.store.ledger import Ledger
from videostar.toyworld.dataset import make_toy_dataset
from videostar.verify.verifier import Verifier, VerifyItem
from videostar.video.decode import decode


def naive(config: GenerateConfig, backend: HFBackend, verifier: Verifier) -> int:
    samples = load_manifest(config.manifest)
    done = 0
    for sample in samples:
        for question in template_questions(sample, config.questions.templates_per_sample, config.seed):
            frames = decode(sample.video, config.frames)
            prompt = config.prompts.answer.format(question=question.text)
            (reply,) = backend.generate([GenRequest([{"role": "user", "content": prompt}], frames)], config.sampling)
            verifier.verify_many([VerifyItem(sample.labels, reply.text, frames.info.duration, sample.task)])
            done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="videostar-genbench-"))
    manifest = make_toy_dataset(work / "toy", n=args.videos, seed=0)
    model = build_tiny_model(work / "tiny")
    config = GenerateConfig.model_validate({
        "model": {"path": str(model), "batch_size": args.batch_size}, "manifest": str(manifest),
        "run_dir": str(work / "run"), "batch_size": args.batch_size, "steps": ["answer"],
        "sampling": {"max_new_tokens": args.max_new_tokens, "temperature": 0.2},
    })
    backend = HFBackend(str(model), device="cpu", batch_size=args.batch_size)
    verifier = Verifier()
    verifier.verify_many([VerifyItem(load_manifest(manifest)[0].labels, "warm up")])  # load the embedder once

    start = time.perf_counter()
    count_naive = naive(config, backend, verifier)
    t_naive = time.perf_counter() - start

    start = time.perf_counter()
    with Ledger(config.run_dir) as ledger:
        Generation(config, backend, verifier, ledger).run()
        count_engine = ledger.count("generations")
    t_engine = time.perf_counter() - start

    print(json.dumps({
        "videos": args.videos, "questions": count_engine, "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch_size,
        "naive_samples_per_s": round(count_naive / t_naive, 2),
        "engine_samples_per_s": round(count_engine / t_engine, 2),
        "speedup": round((count_engine / t_engine) / (count_naive / t_naive), 2),
        "naive_s": round(t_naive, 2), "engine_s": round(t_engine, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
