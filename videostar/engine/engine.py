"""The in-process runner: a method's steps over a run ledger, batch by batch.

Each batch goes through the pure step (step.py) and is written to the ledger in one transaction,
so a run stopped at any point (kill -9, a backend that stays down) keeps every finished batch and
``--resume`` redoes nothing. Clips that cannot be decoded are recorded as skipped (with the reason)
and their work left out; a resumed run leaves them alone unless ``retry_skipped`` is set.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterator

from videostar.config import ConfigError, GenerateConfig
from videostar.data.manifest import Sample, load_manifest
from videostar.engine.step import generate_rows, replies
from videostar.engine.work import Clip, ClipFrames, Work, decode_batch, plan, reported
from videostar.errors import VideostarError
from videostar.models.backend import Backend, Generation
from videostar.prompts import Prompts
from videostar.store.ledger import Ledger
from videostar.store.records import Question
from videostar.verify.verifier import Verifier, VerifierConfig
from videostar.video.decode import Frames, VideoDecodeError
from videostar.video.sampling import FrameSampling

Progress = Callable[[str, int, int, dict], None]  # (step, advanced by, total, {"kept": k, "failed": f})
# Settings that change what a generation means: resuming with different ones is refused.
RESUME_KEYS = ("model", "frames", "sampling", "prompts", "questions", "samples_per_question", "rationalize_samples", "seed")
SKIPPED_FILE = "skipped.txt"


class ResumeError(VideostarError):
    """The run directory was generated with other settings."""


class Engine:
    """Runs work for one method over one ledger; ``verifier`` is only needed by verified steps.
    With ``engine: ray`` the model actors load the model and ``backend`` is None (no copy in the driver)."""

    def __init__(self, config: GenerateConfig, backend: Backend | None, ledger: Ledger, verifier: Verifier | None = None,
                 progress: Progress | None = None):
        self.config = config
        self.backend = BusyClock(backend)
        self.ledger = ledger
        self.verifier = verifier
        self.progress = progress or (lambda *a: None)
        self.load = ClipFrames(Path(config.run_dir) / "frames", max_bytes=config.frame_cache_bytes)

    # ------------------------------------------------------------------ frames and batches
    def frames(self, sample: Sample) -> Frames:
        return self.load(Clip.of(sample, self.config.frames))

    def _skip(self, samples: list[Sample], err: VideoDecodeError) -> None:
        self.ledger.add_skipped((s.id, s.video, err.reason) for s in samples)

    def batches(self, work: list[Work]) -> Iterator[tuple[list[Work], list[Frames]]]:
        """Decoded batches: in this loop, or by ``decode_workers`` processes ahead of the model."""
        config = self.config
        chunks = plan(work, config.frames, config.batch_size)
        if config.decode_workers and len(chunks) > 1:
            from videostar.engine.decode_pool import prefetched

            decoded = prefetched(chunks, config.frames, config.decode_workers, config.prefetch_batches,
                                 self.load.cache.root if self.load.cache else None, config.frame_cache_bytes)
        else:
            decoded = (decode_batch(chunk, config.frames, self.load) for chunk in chunks)
        for one in decoded:
            yield from reported(one, self._skip)

    def ask(self, step: str, work: list[Work]) -> Iterator[tuple[list[Work], list[Generation]]]:
        """Replies to per-sample work (e.g. "write questions about this video"), batch by batch; the
        caller stores what it parses from them."""
        if self.config.engine == "ray":
            from videostar.engine.ray_runner import ask

            yield from ask(self, step, work)
            return
        for batch, frames in self.batches(work):
            yield batch, replies(batch, frames, self.backend, self.config.sampling)
            self.progress(step, len(batch), len(work), {})

    def run_step(self, step: str, work: list[Work], verify: bool = True) -> None:
        """Generate every item, verify against the labels (unless ``verify`` is off), and write each
        batch to the ledger in one transaction."""
        if not work:
            return
        if self.config.engine == "ray":
            from videostar.engine.ray_runner import run_step

            return run_step(self, step, work, verify)
        settings_id = self.ledger.settings_id(self.settings())
        counts = {"kept": 0, "failed": 0}
        start, busy = time.perf_counter(), self.backend.busy_s
        for batch, frames in self.batches(work):
            rows = generate_rows(step, batch, frames, self.backend, self.config.sampling,
                                 self.verifier if verify else None)
            self.ledger.add_generations(rows, settings_id)
            counts["kept"] += sum(r.passed for r in rows)
            counts["failed"] += sum(not r.passed for r in rows)
            self.progress(step, len(batch), len(work), dict(counts))
        self.record_busy(step, self.backend.busy_s - busy, time.perf_counter() - start)

    def record_busy(self, step: str, busy_s: float, wall_s: float) -> None:
        """The share of the step's wall time the model was generating, kept in the ledger's metadata
        (``model_busy``) for the summary: low means decoding or verification starves the model."""
        shares = self.ledger.meta("model_busy", {})
        shares[step] = {"busy_s": round(busy_s, 3), "wall_s": round(wall_s, 3), "share": round(busy_s / wall_s, 3)}
        self.ledger.set_meta("model_busy", shares)

    # ------------------------------------------------------------------ what is left to do
    def pending(self, step: str, questions: list[Question], by_id: dict[str, Sample], prompt: Callable[[Question], str],
                draws: int = 1, only: set[str] | None = None) -> list[Work]:
        """Work of ``step`` not yet in the ledger: ``draws`` samples per question (of ``only``, if
        given), leaving out samples whose clip was skipped."""
        done, skipped = self.ledger.done_keys(step), self.ledger.skipped()
        return [Work(by_id[q.sample_id], prompt(q), q, k) for q in questions
                if (only is None or q.id in only) and q.sample_id not in skipped
                for k in range(draws) if (q.id, k) not in done]

    def unskipped(self, samples: list[Sample]) -> list[Sample]:
        skipped = self.ledger.skipped()
        return [s for s in samples if s.id not in skipped]

    # ------------------------------------------------------------------ run setup
    def settings(self) -> dict:
        return self.config.model_dump(mode="json", include=set(RESUME_KEYS))

    def check_settings(self) -> None:
        """Refuse to resume a run directory generated with other settings; record ours."""
        previous, settings = self.ledger.meta("settings"), self.settings()
        if previous is not None and previous != settings:
            changed = sorted(k for k in RESUME_KEYS if previous.get(k) != settings.get(k))
            raise ResumeError(f"{self.config.run_dir} was generated with other settings ({', '.join(changed)}); "
                              "resume with the same config or use a new --run-dir")
        self.ledger.set_meta("settings", settings)
        self.ledger.set_meta("frame_sampling", self.config.frames.model_dump(mode="json"))
        if self.config.retry_skipped:
            self.ledger.clear_skipped()

    def load_samples(self, require_labels: bool = True) -> list[Sample]:
        config = self.config
        samples = [s for s in load_manifest(config.manifest, allow_outside_root=config.allow_outside_root)
                   if config.splits is None or s.split in config.splits][: config.max_samples]
        if not samples:
            raise VideostarError(f"{config.manifest}: no samples in splits {config.splits}")
        unlabeled = [s.id for s in samples if not s.labels]
        if require_labels and unlabeled:
            raise VideostarError(f"{config.manifest}: {len(unlabeled)} sample(s) have no labels (first: {unlabeled[0]}); "
                                 "Video-STaR verifies against labels (VideoSAVi needs none: videostar savi)")
        self.ledger.add_samples(samples)
        return samples


class BusyClock:
    """A backend that also counts the seconds spent in ``generate`` (the model's busy time)."""

    def __init__(self, backend: Backend):
        self.inner = backend
        self.busy_s = 0.0

    def generate(self, requests, params) -> list[Generation]:
        start = time.perf_counter()
        try:
            return self.inner.generate(requests, params)
        finally:
            self.busy_s += time.perf_counter() - start

    def __getattr__(self, name):
        return getattr(self.inner, name)


def make_verifier(config: VerifierConfig) -> Verifier:
    """The verifier of a run, built before any work starts; a setting it refuses is a config error."""
    try:
        return Verifier(config)
    except ValueError as err:
        raise ConfigError(f"verifier: {err}") from None


def skip_summary(ledger: Ledger, shown: int = 5) -> dict:
    """{"videos": how many videos had unreadable clips, "samples": samples skipped, "first": the first
    ``shown`` as {"video", "reason"}, "file": where all are listed}; the list (video, reason, sample
    ids; tab-separated) is written to the run directory as ``skipped.txt``."""
    from videostar.atomic import write_text

    by_video: dict[str, list] = defaultdict(list)
    reasons: dict[str, str] = {}
    for sample_id, (video, reason) in ledger.skipped().items():
        by_video[video].append(sample_id)
        reasons[video] = reason
    out = ledger.run_dir / SKIPPED_FILE
    if by_video:
        write_text(out, "".join(f"{video}\t{reasons[video]}\t{','.join(ids)}\n" for video, ids in by_video.items()))
    else:
        out.unlink(missing_ok=True)
    return {"videos": len(by_video), "samples": sum(map(len, by_video.values())),
            "first": [{"video": video, "reason": reasons[video]} for video in list(by_video)[:shown]],
            "file": str(out) if by_video else None}


def recorded_settings(run_dir: str | Path) -> tuple[FrameSampling | None, Prompts | None]:
    """The frame sampling and prompts a generation run recorded (a loop: its first round's), read
    without taking the run's lock."""
    run_dir = Path(run_dir)
    for candidate in [run_dir, *sorted(run_dir.glob("*/generate"))]:
        if Ledger.exists(candidate):
            frames = Ledger.read_meta(candidate, "frame_sampling")
            prompts = (Ledger.read_meta(candidate, "settings") or {}).get("prompts")
            return (FrameSampling.model_validate(frames) if frames else None,
                    Prompts.model_validate(prompts) if prompts else None)
    raise VideostarError(f"{run_dir}: no run ledger here or in its rounds (*/generate)")
