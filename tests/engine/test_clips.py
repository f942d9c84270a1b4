"""Two clips of one video are two clips: each gets its own frames, in generation, evaluation and
training, through the transformers backend and through the OpenAI-compatible one."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from helpers import ScriptedBackend, decode_request_frames, local_openai_server

from videostar.config import GenerateConfig
from videostar.data.manifest import load_manifest
from videostar.eval.evaluate import evaluate
from videostar.models import load_backend
from videostar.star.generate import Generation
from videostar.star.loop import StarConfig, StarLoop
from videostar.store.ledger import Ledger
from videostar.train.collators import FrameLoader
from videostar.verify.verifier import Verifier
from videostar.video.sampling import FrameSampling

FOUR = FrameSampling(num_frames=4)


class Spy:
    """At the backend boundary: records every request, then lets the real backend answer it."""

    def __init__(self, backend):
        self.backend, self.name, self.requests = backend, backend.name, []

    def generate(self, requests, params):
        self.requests += requests
        return self.backend.generate(requests, params)


def _brightness(requests) -> dict[str, tuple[float, float]]:
    """clip name -> (darkest, brightest) mean level of the videos sent with a prompt about that clip."""
    seen = defaultdict(list)
    for request in requests:
        for name in ("first", "second"):
            if f"clip {name}?" in request.messages[0]["content"]:
                seen[name].append(float(request.video.array.mean()))
    return {name: (min(levels), max(levels)) for name, levels in seen.items()}


def _config(tmp_path, manifest, model: dict) -> GenerateConfig:
    return GenerateConfig.model_validate({
        "model": model, "manifest": str(manifest), "run_dir": str(tmp_path / "run"), "frames": FOUR.model_dump(),
        "sampling": {"max_new_tokens": 4}, "batch_size": 8, "questions": {"templates_per_sample": 0}})


def _assert_black_then_white(requests) -> None:
    seen = _brightness(requests)
    assert seen["first"][1] < 30, seen  # every request about the first clip carried black frames
    assert seen["second"][0] > 225, seen  # every request about the second clip carried white frames


def test_transformers_backend_gets_each_segments_frames_in_generation_and_evaluation(tmp_path, two_clips, tiny_backend):
    manifest, _ = two_clips
    config = _config(tmp_path, manifest, {"path": "unused"})
    spy = Spy(tiny_backend)
    with Ledger(config.run_dir) as ledger:
        Generation(config, spy, Verifier(), ledger).run()
    assert len(spy.requests) >= 2
    _assert_black_then_white(spy.requests)
    spy.requests.clear()
    evaluate(spy, load_manifest(manifest), FOUR, max_new_tokens=4, swapped=False)
    assert len(spy.requests) == 4  # an open and a multiple-choice question per clip
    _assert_black_then_white(spy.requests)


def test_openai_backend_local_http_server_gets_each_segments_frames(tmp_path, two_clips):
    manifest, _ = two_clips
    with local_openai_server() as (url, bodies):
        config = _config(tmp_path, manifest, {"backend": "openai", "path": "served", "base_url": url})
        with Ledger(config.run_dir) as ledger:
            table = Generation(config, load_backend(config.model), Verifier(), ledger).run()
            answers = {r["sample_id"]: r for r in ledger.generations(step="answer")}
        result = evaluate(load_backend(config.model), load_manifest(manifest), FOUR, swapped=False)
    # the server saw black frames for the first clip and white ones for the second, and said so
    assert answers["first"]["text"].endswith("black") and answers["second"]["text"].endswith("white")
    assert table["color"]["kept_answer"] == 2 and table["color"]["failed"] == 0
    assert result["tasks"]["color"] == {"n": 2, "majority": 50.0, "open": 100.0, "mc": 100.0}
    # the clip travels as one video of exactly the 4 sampled frames (issue 15: served models get the video)
    assert all(len(decode_request_frames(b["messages"][0]["content"])) == 4 for b in bodies)
    assert all([p["type"] for p in b["messages"][0]["content"]] == ["video_url", "text"] for b in bodies)


def test_evaluation_reads_seconds_against_the_segments_length(tmp_path, two_clips):
    """A label at 1 s of the clip [2, 4] s is half way through the clip (not a quarter of the video)."""
    manifest, video = two_clips
    record = {"id": "second", "video": str(video), "task": "moment", "segment": [2, 4],
              "labels": [{"type": "timestamp", "value": 1.0, "unit": "seconds", "name": "the light is on"}]}
    manifest.write_text(json.dumps(record) + "\n")
    with local_openai_server(lambda text, frames: "Final answer: 0.5") as (url, _):
        backend = load_backend(_config(tmp_path, manifest, {"backend": "openai", "path": "m", "base_url": url}).model)
        result = evaluate(backend, load_manifest(manifest), FOUR, modes=("open",))
    assert result["tasks"]["moment"]["open"] == 100.0


@pytest.mark.slow
def test_training_rows_carry_the_segment_and_load_its_frames(tmp_path, two_clips, tiny_model):
    manifest, _ = two_clips
    generate = _config(tmp_path, manifest, {"path": str(tiny_model), "device": "cpu"})
    config = StarConfig(generate=generate, cycles=1, forms=["cot"],
                        train={"max_steps": 1, "batch_size": 2, "lora": None, "save_steps": 1000})
    with local_openai_server() as (url, _):
        served = load_backend(_config(tmp_path, manifest, {"backend": "openai", "path": "m", "base_url": url}).model)
        StarLoop(config, load_backend=lambda model: served).run()
    rows = [json.loads(line) for line in (tmp_path / "run" / "cycle_0" / "train.jsonl").open()]
    by_clip = {row["id"].split("/")[0]: row for row in rows}
    assert by_clip["first"]["segment"] == [0, 2] and by_clip["second"]["segment"] == [2, 4]
    load = FrameLoader(FrameSampling.model_validate(rows[0]["frame_sampling"]), tmp_path / "frames")
    assert load(by_clip["first"]).array.mean() < 30 and load(by_clip["second"]).array.mean() > 225


def test_scripted_batches_decode_each_clip_once_and_never_mix_segments(tmp_path, two_clips):
    manifest, _ = two_clips
    config = _config(tmp_path, manifest, {"path": "unused"}).model_copy(update={"samples_per_question": 3})
    backend = ScriptedBackend(frames_shape=(4, 64, 64, 3))
    with Ledger(config.run_dir) as ledger:
        generation = Generation(config, backend, Verifier(), ledger)
        generation.run()
        decoded = generation.engine.load.cache.size_bytes()
    _assert_black_then_white(backend.requests)
    assert backend.calls[0] == 6  # both clips' draws in one batch
    assert len(list((tmp_path / "run" / "frames").glob("*.npz"))) == 2 and decoded > 0  # one entry per clip
