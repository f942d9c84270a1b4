"""The decode pool: batches decoded by worker processes come back in order, with the same frames and
the same skipped clips (and reasons) as decoding in the loop; the engine reports the model's busy share."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from helpers import ScriptedBackend

from videostar.config import GenerateConfig
from videostar.data.manifest import load_manifest
from videostar.engine.decode_pool import prefetched
from videostar.engine.work import ClipFrames, Work, decode_batch, plan
from videostar.star.generate import Generation
from videostar.store.ledger import Ledger
from videostar.verify.verifier import Verifier
from videostar.toyworld.scenes import TASKS
from videostar.video.sampling import FrameSampling


class _SlowScripted(ScriptedBackend):
    """The scripted model taking 20 ms per call, so its busy time is measurable."""

    def generate(self, requests, params):
        time.sleep(0.02)
        return super().generate(requests, params)


def _with_corrupt_video(tmp_path, toy_manifest):
    """The toy set with toy_00001.mp4 corrupt: its clips must be skipped, not fail the batch."""
    shutil.copytree(toy_manifest.parent, tmp_path / "toy")
    (tmp_path / "toy" / "videos" / "toy_00001.mp4").write_bytes(b"\x00" * 200)
    return tmp_path / "toy" / toy_manifest.name


def test_pool_batches_match_the_loop_in_order_with_the_same_skips(tmp_path, toy_manifest):
    samples = load_manifest(_with_corrupt_video(tmp_path, toy_manifest))[:14]
    sampling = FrameSampling(num_frames=4)
    chunks = plan([Work(s, "Describe.") for s in samples], sampling, batch_size=3)
    in_loop = [decode_batch(chunk, sampling, ClipFrames()) for chunk in chunks]
    pooled = list(prefetched(chunks, sampling, workers=2, depth=2))
    assert len(pooled) == len(in_loop) == 5
    for (kept, frames, skips), (kept_p, frames_p, skips_p) in zip(in_loop, pooled):
        assert [w.key for w in kept_p] == [w.key for w in kept]
        assert all(np.array_equal(a.array, b.array) and np.allclose(a.times, b.times) for a, b in zip(frames, frames_p))
        assert [([s.id for s in ss], e.path, e.reason) for ss, e in skips_p] == \
               [([s.id for s in ss], e.path, e.reason) for ss, e in skips]
    skipped = [s.id for _, _, skips in pooled for ss, _ in skips for s in ss]
    assert skipped and all(s.startswith("toy_00001") for s in skipped)


@pytest.mark.slow
def test_engine_with_decode_pool_writes_the_same_rows_and_reports_busy_share(tmp_path, toy_manifest):
    manifest = _with_corrupt_video(tmp_path, toy_manifest)
    results = {}
    for workers in (0, 2):
        config = GenerateConfig.model_validate({"model": {"path": "unused"}, "manifest": str(manifest),
                                                "run_dir": str(tmp_path / f"run{workers}"), "batch_size": 4,
                                                "decode_workers": workers})
        with Ledger(config.run_dir) as ledger:
            table = Generation(config, _SlowScripted(), Verifier(), ledger).run()
            rows = [(g["question_id"], g["step"], g["text"], g["passed"]) for g in ledger.generations()]
            results[workers] = table, sorted(rows), ledger.skipped(), ledger.meta("model_busy")
    assert results[2][:3] == results[0][:3]
    assert sum(row["skipped"] for row in results[2][0].values()) == len(TASKS)  # every task of the corrupt video
    for _, _, _, busy in results.values():
        assert set(busy) == {"answer", "rationalize"}
        assert all(0 < b["share"] <= 1 and b["busy_s"] <= b["wall_s"] for b in busy.values())
