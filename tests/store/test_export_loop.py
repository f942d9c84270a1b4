"""``videostar star`` end to end on the two kinds of clip the real datasets bring: a frame folder
(FineDiving, Something-Something) and a segment of a longer video (STAR, ActivityNet): the training
rows keep what decoding needs (``fps``, ``segment``), so training decodes the same clips."""

import json

import pytest
from PIL import Image

from media import gray_frames
from videostar.config import GenerateConfig
from videostar.data.labels import ClassLabel
from videostar.data.manifest import Sample, write_manifest
from videostar.models.backend import Generation as Reply
from videostar.star.loop import StarConfig, StarLoop
from videostar.video.encode import write_video


class AlwaysRed:
    """A stand-in model at the model boundary: answers 'red' and checks each request's frames."""

    name = "always-red"

    def __init__(self):
        self.shapes = []

    def generate(self, requests, params):
        self.shapes += [r.video.array.shape for r in requests]
        return [Reply("I see a red object.\nFinal answer: red", 10, 5) for _ in requests]


@pytest.mark.slow
def test_star_loop_on_a_frame_folder_and_a_clip(tmp_path, tiny_model):
    folder = tmp_path / "data" / "dive_0"
    folder.mkdir(parents=True)
    for i, img in enumerate(gray_frames(12, height=64, width=64, step=20)):
        Image.fromarray(img).save(folder / f"img_{i + 1}.jpg")  # natural order: img_2 before img_10
    video = write_video(tmp_path / "data" / "long.mp4", gray_frames(40, height=64, width=64, step=5), fps=8)
    label = [ClassLabel(value="red", name="colour")]
    write_manifest([Sample(id="frames", video=str(folder), task="colour", labels=label, meta={"fps": 6.0}),
                    Sample(id="clip", video=str(video), task="colour", labels=label, segment=(1.0, 3.0))],
                   tmp_path / "data" / "manifest.jsonl")
    generate = GenerateConfig.model_validate({
        "model": {"path": str(tiny_model), "device": "cpu"}, "manifest": str(tmp_path / "data" / "manifest.jsonl"),
        "run_dir": str(tmp_path / "run"), "sampling": {"max_new_tokens": 8}, "batch_size": 8,
        "frames": {"num_frames": 4}})
    config = StarConfig(generate=generate, cycles=1, forms=["cot"],
                        train={"max_steps": 2, "batch_size": 2, "learning_rate": 5e-3, "lora": None, "save_steps": 1000})
    backend = AlwaysRed()
    (result,) = StarLoop(config, load_backend=lambda _: backend).run()
    assert backend.shapes and set(backend.shapes) == {(4, 64, 64, 3)}
    rows = [json.loads(line) for line in (tmp_path / "run" / "cycle_0" / "train.jsonl").open()]
    frames_rows = [r for r in rows if r["video"] == str(folder)]
    clip_rows = [r for r in rows if r["video"] == str(video)]
    assert frames_rows and clip_rows
    assert {r["fps"] for r in frames_rows} == {6.0} and frames_rows[0]["frame_times"] == [0.25, 0.75, 1.25, 1.75]
    assert {tuple(r["segment"]) for r in clip_rows} == {(1.0, 3.0)}
    assert clip_rows[0]["messages"][0]["content"][0]["frame_times"] == [1.25, 1.75, 2.25, 2.75]
    assert len(result["train_losses"]) == 2 and result["train_rows"] == len(rows)
