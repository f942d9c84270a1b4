"""The Ray Data runner (``engine: ray``): one engine step as a streaming pipeline across a cluster.

    batches of pending work -> decode clips (CPU tasks) -> generate (model actors: one per GPU, or
    N on CPU) -> verify and write a ledger shard per batch (CPU actors) -> the driver merges shards

It runs the same pure pieces as the in-process runner (``plan``, ``decode_batch``, ``replies``,
``verdicts``) on the same batches with the same per-batch seeds, so under greedy decoding both give
the same rows. Workers never touch the run ledger (one writer holds its lock): each batch's rows go
to their own SQLite shard under ``<run_dir>/shards/<step>/``, written atomically, and the driver
merges them with the ledger's unique keys, so merging a shard twice is a no-op. A driver killed
mid-step leaves finished shards behind; the next ``--resume`` merges them first and generates only
what is still missing. A worker that dies is retried by Ray; its batch's shard is simply rewritten.
Ray is imported only here, only when this runner is chosen (``pip install 'videostar[ray]'``).

``stream`` is the pipeline itself, with the last stage chosen by the caller: ``run_step`` writes
ledger shards, ``ask`` (model-written questions) returns the replies, and evaluation
(``videostar.eval.evaluate``) scores them without a ledger. Only the model actors load the model:
the driver holds none.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from videostar.config import RayConfig
from videostar.engine.step import replies, verified_rows
from videostar.engine.work import ClipFrames, Work, plan
from videostar.errors import VideostarError
from videostar.models import ModelConfig
from videostar.models.backend import Generation, SamplingParams
from videostar.store.ledger import GenerationRow, Ledger
from videostar.video.sampling import FrameSampling

if TYPE_CHECKING:
    from videostar.engine.engine import Engine

SHARDS = "shards"
_SHARD_SCHEMA = """
CREATE TABLE generations (question_id TEXT, step TEXT, sample_index INTEGER, text TEXT, prompt_tokens INTEGER,
                          completion_tokens INTEGER, passed INTEGER, score REAL, verdict TEXT);
CREATE TABLE skipped (sample_id TEXT, video TEXT, reason TEXT);
"""
# CPU shares per worker: small enough that a 2-CPU local Ray fits decode tasks, a model actor and a
# verify actor at once (whole CPUs would leave no room for decoding and stall the stream). Decoding
# and the model ask for different shares on purpose: Ray Data fuses adjacent stages whose resource
# requests are equal, which would put decoding back inside the model's actor.
_DECODE_CPUS, _MODEL_CPUS, _VERIFY_CPUS = 0.25, 0.5, 0.25


def start(config: RayConfig):
    """Ray, joined to ``config.address`` when one is set, else a local Ray started here."""
    try:
        import ray
    except ImportError:
        raise VideostarError("engine: ray needs Ray, which is not installed: pip install 'videostar[ray]'") from None
    if not ray.is_initialized():
        if config.address:
            ray.init(address=config.address)
        else:
            ray.init(num_cpus=config.num_cpus, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def run_step(engine: Engine, step: str, work: list[Work], verify: bool) -> None:
    """``Engine.run_step`` on Ray: shards left by an earlier driver merged first, then only the work
    still missing goes through the pipeline, each finished batch merged as it arrives."""
    config, ledger = engine.config, engine.ledger
    settings_id = ledger.settings_id(engine.settings())
    shard_dir = ledger.run_dir / SHARDS / step
    for shard in sorted(shard_dir.glob("*.sqlite")):
        merge_shard(ledger, shard, settings_id)
    done, skipped = ledger.done_keys(step), ledger.skipped()
    work = [w for w in work if (w.question.id, w.index) not in done and w.sample.id not in skipped]
    if not work:
        return
    pipeline = stream(plan(work, config.frames, config.batch_size), config.frames, config.model, config.sampling,
                      config.ray, _VerifyAndWrite, {"step": step, "verifier": config.verifier if verify else None,
                                                    "shard_dir": str(shard_dir)},
                      cache_dir=ledger.run_dir / "frames", max_bytes=config.frame_cache_bytes)
    counts, busy, start_s = {"kept": 0, "failed": 0}, 0.0, time.perf_counter()
    for out in pipeline:
        merge_shard(ledger, Path(out["shard"]), settings_id)
        counts["kept"] += out["kept"]
        counts["failed"] += out["failed"]
        busy += out["busy_s"]
        engine.progress(step, out["done"], len(work), dict(counts))
    engine.record_busy(step, busy / config.ray.model_actors, time.perf_counter() - start_s)


def ask(engine: Engine, step: str, work: list[Work]) -> Iterator[tuple[list[Work], list[Generation]]]:
    """``Engine.ask`` on Ray (e.g. model-written questions): replies per batch from the model actors,
    handed back in plan order once all are in (as the in-process runner would), skipped clips recorded."""
    config = engine.config
    outs = []
    for out in stream(plan(work, config.frames, config.batch_size), config.frames, config.model, config.sampling,
                      config.ray, _Replies, {}, cache_dir=engine.ledger.run_dir / "frames",
                      max_bytes=config.frame_cache_bytes):
        outs.append(out)
        engine.progress(step, out["done"], len(work), {})
    for out in sorted(outs, key=lambda out: out["position"]):
        engine.ledger.add_skipped((s.id, s.video, reason) for s, reason in pickle.loads(out["skipped"]))
        batch = pickle.loads(out["kept"])
        if batch:
            yield batch, pickle.loads(out["replies"])


def stream(chunks: list[list[Work]], sampling: FrameSampling, model: ModelConfig, params: SamplingParams,
           settings: RayConfig, finish: type, finish_kwargs: dict, cache_dir: Path | None = None,
           max_bytes: int = 0) -> Iterator[dict]:
    """Batches (``plan``'s chunks) through decode tasks and model actors into ``finish`` actors (CPU;
    built with ``finish_kwargs``), yielding what ``finish`` returns per batch as it arrives, in no
    fixed order. Each item carries ``position`` (the chunk's index); after the model stage it holds
    ``batch``, ``kept``, ``frames``, ``skipped`` ([(sample, reason)]), ``replies`` (pickled) and ``busy_s``."""
    ray = start(settings)
    items = [{"batch": pickle.dumps(chunk), "position": i} for i, chunk in enumerate(chunks)]
    pipeline = (
        ray.data.from_items(items, override_num_blocks=len(items))
        .map(_decode, fn_kwargs={"sampling": sampling, "cache_dir": str(cache_dir) if cache_dir else None,
                                 "max_bytes": max_bytes}, num_cpus=_DECODE_CPUS)
        .map(_Model, fn_constructor_kwargs={"model": model, "params": params},
             concurrency=settings.model_actors, num_gpus=settings.gpus_per_actor or None, num_cpus=_MODEL_CPUS)
        .map(finish, fn_constructor_kwargs=finish_kwargs, concurrency=settings.verify_actors, num_cpus=_VERIFY_CPUS)
    )
    return pipeline.iter_rows()


def merge_shard(ledger: Ledger, shard: Path, settings_id: int) -> int:
    """A shard's rows and skipped clips into the run ledger (rows already there are left alone, so
    merging twice is a no-op); the shard is removed once merged. Returns the rows it held."""
    with sqlite3.connect(shard) as db:
        rows = [GenerationRow(q, s, i, text, pt, ct, bool(passed), score, json.loads(verdict))
                for q, s, i, text, pt, ct, passed, score, verdict in db.execute("SELECT * FROM generations")]
        skipped = list(db.execute("SELECT * FROM skipped"))
    db.close()
    ledger.add_skipped(skipped)
    ledger.add_generations(rows, settings_id)
    shard.unlink()
    return len(rows)


def write_shard(shard_dir: Path, rows: list[GenerationRow], skipped: list[tuple[str, str, str]], key: str) -> Path:
    """One batch's rows as a SQLite file, written whole or not at all (a killed worker leaves none)."""
    from videostar.atomic import write_bytes

    db = sqlite3.connect(":memory:")
    db.executescript(_SHARD_SCHEMA)
    db.executemany("INSERT INTO generations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(r.question_id, r.step, r.sample_index, r.text, r.prompt_tokens, r.completion_tokens,
                     int(r.passed), r.score, json.dumps(r.verdict)) for r in rows])
    db.executemany("INSERT INTO skipped VALUES (?, ?, ?)", skipped)
    db.commit()
    path = shard_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.sqlite"  # one per batch: a retry rewrites it
    write_bytes(path, db.serialize())
    db.close()
    return path


# ---------------------------------------------------------------------- the pipeline's stages
def _decode(item: dict, sampling, cache_dir: str | None, max_bytes: int) -> dict:
    from videostar.engine.work import decode_batch

    kept, frames, skips = decode_batch(pickle.loads(item["batch"]), sampling, ClipFrames(cache_dir, max_bytes))
    skipped = [(s, err.reason) for samples, err in skips for s in samples]
    return {**item, "kept": pickle.dumps(kept), "frames": pickle.dumps(frames), "skipped": pickle.dumps(skipped)}


class _Model:
    """One model replica (loaded once per actor) answering decoded batches."""

    def __init__(self, model, params):
        from videostar.models import load_backend

        self.backend, self.params = load_backend(model), params

    def __call__(self, item: dict) -> dict:
        kept = pickle.loads(item["kept"])
        start = time.perf_counter()
        out = replies(kept, pickle.loads(item["frames"]), self.backend, self.params) if kept else []
        return {**item, "replies": pickle.dumps(out), "busy_s": time.perf_counter() - start}


class _VerifyAndWrite:
    """Verification on CPU (the verifier, with its embedder, loaded once per actor) and the shard."""

    def __init__(self, step: str, verifier, shard_dir: str):
        from videostar.engine.engine import make_verifier

        self.step, self.shard_dir = step, Path(shard_dir)
        self.verifier = make_verifier(verifier) if verifier is not None else None

    def __call__(self, item: dict) -> dict:
        batch, kept = pickle.loads(item["batch"]), pickle.loads(item["kept"])
        rows = verified_rows(self.step, kept, pickle.loads(item["frames"]), pickle.loads(item["replies"]),
                             self.verifier)
        skipped = [(s.id, s.video, reason) for s, reason in pickle.loads(item["skipped"])]
        shard = write_shard(self.shard_dir, rows, skipped, "|".join(w.key for w in batch))
        return {"shard": str(shard), "done": len(batch), "kept": sum(r.passed for r in rows),
                "failed": sum(not r.passed for r in rows), "busy_s": item["busy_s"]}


class _Replies:
    """The last stage for ``ask``: the replies as they are (the driver parses and stores them)."""

    def __call__(self, item: dict) -> dict:
        return {"position": item["position"], "kept": item["kept"], "replies": item["replies"],
                "skipped": item["skipped"], "done": len(pickle.loads(item["batch"]))}
