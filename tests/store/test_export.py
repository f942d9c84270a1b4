"""Exports, each checked with its consumer's own code (TRL, in the venv) or a replica of the
consumer's exact checks (LLaMA-Factory, Video-LLaVA, LLaVA-NeXT: not installable here), with the
source file and line each check mirrors."""

import json
import math
import os

import numpy as np
import pytest
from PIL import Image

from media import frame_index, gray_frames
from videostar.errors import VideostarError
from videostar.star.trainset import Example
from videostar.store.export import ExportError, export, export_pairs, llamafactory_video_args
from videostar.video.decode import decode, probe
from videostar.video.encode import write_video
from videostar.video.sampling import FrameSampling

SAMPLING = {"mode": "uniform", "num_frames": 4}


@pytest.fixture
def clips(tmp_path):
    """A 5 s video (40 frames at 8 fps, gray level 5*i), a 2 s frame folder (20 jpgs at 10 fps), and
    three examples: the whole video, its clip 1-3 s, and the frame folder."""
    video = write_video(tmp_path / "media" / "long.mp4", gray_frames(40, step=5), fps=8)
    folder = tmp_path / "media" / "dive_0"
    folder.mkdir()
    for i, img in enumerate(gray_frames(20, step=10)):
        Image.fromarray(img).save(folder / f"{i + 1:05d}.jpg", quality=98)
    base = dict(form="cot", source="answer", prompt="What happens?\nThink step by step.", response="A jump.",
                task="t")
    return {
        "whole": Example(id="q1/cot", sample_id="s1", video=str(video), **base),
        "clip": Example(id="q2/cot", sample_id="s2", video=str(video), segment=(1.0, 3.0), **base),
        "frames": Example(id="q3/cot", sample_id="s3", video=str(folder), fps=10.0, **base),
    }


# ---------------------------------------------------------------- TRL (its own code, in the venv)

def _trl_data_utils():
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()  # trl imports transformers, which imports torchvision
    import trl.data_utils

    return trl.data_utils


def test_trl_video_item_carries_path_segment_fps_and_frame_times(tmp_path, clips):
    out = export(list(clips.values()), tmp_path / "train.jsonl", "trl", SAMPLING)
    whole, clip, frames = [json.loads(line) for line in out.open()]
    item = clip["messages"][0]["content"][0]
    assert item["type"] == "video" and item["path"] == clips["clip"].video and item["segment"] == [1.0, 3.0]
    assert item["frame_times"] == [1.25, 1.75, 2.25, 2.75] == clip["frame_times"]  # 4 bin centres of 1-3 s
    assert clip["segment"] == [1.0, 3.0] and clip["video"] == clips["clip"].video
    assert whole["messages"][0]["content"][0]["frame_times"] == [0.625, 1.875, 3.125, 4.375]
    assert frames["fps"] == 10.0 and frames["messages"][0]["content"][0]["fps"] == 10.0  # frame folders keep fps
    assert frames["frame_times"] == [0.25, 0.75, 1.25, 1.75]


@pytest.mark.slow
def test_trl_reads_the_records_as_conversations_with_the_video(tmp_path, clips):
    from datasets import load_dataset

    trl_utils = _trl_data_utils()
    out = export(list(clips.values()), tmp_path / "train.jsonl", "trl", SAMPLING)
    rows = load_dataset("json", data_files=str(out), split="train")  # how TRL's scripts load it
    whole = rows[0]
    assert trl_utils.is_conversational(whole)
    prepared = trl_utils.prepare_multimodal_messages(whole["messages"])
    assert prepared[0]["content"][0]["path"] == clips["whole"].video
    assert rows[2]["fps"] == 10.0 and rows[1]["messages"][0]["content"][0]["segment"] == [1.0, 3.0]
    # chat templates test "'video' in content": after loading, no text item may carry a 'video' key
    assert all("video" not in part for m in whole["messages"] for part in m["content"])


def _tiny_processor(tiny_model):
    _trl_data_utils()
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_model)


def _fetch_with_videostar(processor, asked):
    """transformers loads video paths with torchcodec, which cannot load on this machine: at that
    boundary only, decode with videostar (4 frames) and record which paths were asked for."""
    def fetch(urls, sample_indices_fn=None):
        asked.extend(urls)
        arrays = [decode(u, FrameSampling(num_frames=4)).array for u in urls]
        return arrays, [None] * len(arrays)

    processor.video_processor.fetch_videos = fetch


@pytest.mark.slow
def test_trl_dpo_tokenization_sees_the_video_of_a_pair(tmp_path, clips, tiny_model):
    """TRL's DPOTrainer tokenizes conversational pairs with trl.data_utils._tokenize (dpo_trainer.py
    _prepare_dataset): the prompt's video item must reach the processor as video tokens."""
    from videostar.store.export import video_item

    trl_utils = _trl_data_utils()
    _tokenize, is_conversational = trl_utils._tokenize, trl_utils.is_conversational
    processor = _tiny_processor(tiny_model)
    asked = []
    _fetch_with_videostar(processor, asked)
    video = clips["whole"].video
    row = {"prompt": [{"role": "user", "content": [video_item(video, None, None, [0.5]), {"type": "text", "text": "Q?"}]}],
           "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "left"}]}],
           "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "up"}]}]}
    export_pairs([{**row, "id": "p", "video": video, "segment": None, "fps": None, "frame_sampling": SAMPLING}],
                 tmp_path / "pairs.jsonl", "trl")
    (loaded,) = [json.loads(line) for line in (tmp_path / "pairs.jsonl").open()]
    assert is_conversational(loaded)
    prompt_ids = _tokenize(processor, loaded["prompt"], add_generation_prompt=True)["input_ids"]
    chosen_ids = _tokenize(processor, loaded["prompt"] + loaded["chosen"])["input_ids"]
    assert asked == [video, video]
    assert int((np.asarray(prompt_ids) == processor.video_token_id).sum()) > 0
    assert int((np.asarray(chosen_ids) == processor.video_token_id).sum()) > 0
    # the old export (a bare {"type": "video"} item, no path) gives the processor no video at all
    bare = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Q?"}]}]
    with pytest.raises(ValueError, match="no videos were passed"):
        _tokenize(processor, bare, add_generation_prompt=True)


# ---------------------------------------------------------------- LLaMA-Factory (replica of its checks)
# hiyouga/LLaMA-Factory at ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30

def _llamafactory_load(folder, name):
    """The checks LLaMA-Factory makes between dataset_info.json and a training batch."""
    info = json.loads((folder / "dataset_info.json").read_text())
    # src/llamafactory/data/parser.py:125 (undefined dataset) and :144 (a local file_name)
    assert name in info, f"Undefined dataset {name} in dataset_info.json"
    attr = info[name]
    # parser.py:56-64 DatasetAttr defaults, overridden by "columns" / "tags" (join, :80-90)
    columns = {"messages": "conversations", **attr.get("columns", {})}
    tags = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
            **attr.get("tags", {})}
    ranking = attr.get("ranking", False)
    rows = [json.loads(line) for line in (folder / attr["file_name"]).open()]
    for row in rows:
        messages = row[columns["messages"]]
        # converter.py:160-164: odd turns from the user, even turns from the assistant
        for turn, message in enumerate(messages):
            assert message[tags["role_tag"]] == (tags["user_tag"] if turn % 2 == 0 else tags["assistant_tag"])
        # converter.py:173-177: an even count of turns, odd for ranking data (the answers are chosen/rejected)
        assert len(messages) % 2 == (1 if ranking else 0)
        if ranking:  # converter.py:189-200: chosen / rejected are single assistant messages
            for key in ("chosen", "rejected"):
                assert row[columns[key]][tags["role_tag"]] == tags["assistant_tag"]
        videos = row[columns["videos"]]
        # mm_plugin.py:200-210 (_validate_input): as many videos as <video> placeholders
        assert sum(m[tags["content_tag"]].count("<video>") for m in messages) == len(videos)
    return rows


def _llamafactory_frames(video, args):
    """mm_plugin.py:278-305 (_regularize_videos): a list of frame paths is used as is (each must exist,
    :284-288); a file is opened with PyAV and sampled by _get_video_sample_indices (:237-247)."""
    import av

    if isinstance(video, list):  # mm_plugin.py:135-137 _check_video_is_nested_images
        assert all(os.path.exists(frame) for frame in video), "Invalid image found in video frames."
        return len(video)
    with av.open(video) as container:
        stream = container.streams.video[0]
        total = stream.frames
        count = max(1, math.floor(float(stream.duration * stream.time_base) * args["video_fps"]))
        return len(np.linspace(0, total - 1, min(total, args["video_maxlen"], count)).astype(np.int32))


def _video_args(path):
    args = dict(line.split(": ") for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {"video_fps": float(args["video_fps"]), "video_maxlen": int(args["video_maxlen"])}


def test_llamafactory_refuses_clips_without_materialize(tmp_path, clips):
    with pytest.raises(ExportError, match=r"clip \[1.0, 3.0\] s.*--materialize-clips DIR"):
        export(list(clips.values()), tmp_path / "lf" / "sft.jsonl", "llamafactory", SAMPLING)
    assert not (tmp_path / "lf" / "sft.jsonl").exists()


def test_llamafactory_merges_info_lists_frames_and_cuts_clips(tmp_path, clips):
    data = tmp_path / "LLaMA-Factory" / "data"
    data.mkdir(parents=True)
    (data / "dataset_info.json").write_text(json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}}))
    export(list(clips.values()), data / "videostar_sft.jsonl", "llamafactory", SAMPLING, clips_dir=tmp_path / "cut")
    pairs = [{"id": "p1", "prompt": [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Q?"}]}],
              "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "left"}]}],
              "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "up"}]}],
              "video": clips["whole"].video, "segment": None, "fps": None, "frame_sampling": SAMPLING}]
    export_pairs(pairs, data / "videostar_pairs.jsonl", "llamafactory")
    info = json.loads((data / "dataset_info.json").read_text())
    assert set(info) == {"alpaca_en_demo", "videostar_sft", "videostar_pairs"}  # merged, nothing lost
    whole, clip, frames = _llamafactory_load(data, "videostar_sft")
    args = _video_args(data / "videostar_sft.video_args.yaml")
    assert args["video_maxlen"] == 4
    assert whole["videos"] == [clips["whole"].video]
    cut = clip["videos"][0]
    assert cut.startswith(str(tmp_path / "cut")) and probe(cut).duration == pytest.approx(2.0, abs=0.15)
    first = decode(cut, FrameSampling(num_frames=1), segment=(0.0, 0.1)).array[0]
    assert frame_index(first, step=5) == 8  # the cut starts at 1 s = frame 8 of the long video
    # the frame folder: exactly the frames videostar samples (2 s, 4 bin centres at 10 fps: 3, 8, 13, 18)
    assert [os.path.basename(f) for f in frames["videos"][0]] == ["00003.jpg", "00008.jpg", "00013.jpg", "00018.jpg"]
    assert [_llamafactory_frames(row["videos"][0], args) for row in (whole, clip, frames)] == [4, 4, 4]
    (pair,) = _llamafactory_load(data, "videostar_pairs")
    assert pair["conversations"][0]["value"] == "<video>Q?" and pair["chosen"]["value"] == "left"


def test_llamafactory_video_args_reproduce_the_frame_count():
    assert llamafactory_video_args(FrameSampling(num_frames=8), [2.0, 5.0]) == {"video_fps": 4.0, "video_maxlen": 8}
    assert llamafactory_video_args(FrameSampling(mode="fps", fps=2.0, max_frames=16, max_pixels=50176), [3.0]) == {
        "video_fps": 2.0, "video_maxlen": 16, "video_max_pixels": 50176}
    args = llamafactory_video_args(FrameSampling(num_frames=7), [3.3])
    assert min(args["video_maxlen"], math.floor(3.3 * args["video_fps"])) == 7


def test_llamafactory_does_not_overwrite_a_broken_dataset_info(tmp_path, clips):
    (tmp_path / "dataset_info.json").write_text("{not json")
    with pytest.raises(VideostarError, match="dataset_info.json:1: not valid JSON.*not overwritten"):
        export([clips["whole"]], tmp_path / "sft.jsonl", "llamafactory", SAMPLING)
    assert (tmp_path / "dataset_info.json").read_text() == "{not json"


# ---------------------------------------------------------------- LLaVA (replicas of the loaders)

def test_video_llava_format(tmp_path, clips):
    """PKU-YuanGroup/Video-LLaVA@984e65bf videollava/train/train.py:738-745: 'video' (a path or a list),
    joined to --video_folder and decoded as a file; :327 the human turn starts with <video>."""
    out = export([clips["whole"], clips["clip"]], tmp_path / "vllava.json", "llava", SAMPLING, clips_dir=tmp_path / "cut")
    for record in json.loads(out.read_text()):
        files = record["video"] if isinstance(record["video"], list) else [record["video"]]
        assert all(os.path.isfile(os.path.join("/data/video_folder", f)) for f in files)
        assert record["conversations"][0]["value"].startswith("<video>\n")
        assert "<image>" not in record["conversations"][0]["value"]


def test_llava_next_onevision_format(tmp_path, clips):
    """LLaVA-VL/LLaVA-NeXT@df179663 llava/train/train.py:1156-1162: 'video' joined to video_folder and
    decoded as a file (folders of frames only for 'shareVideoGPTV' paths, :1165); :389-394 one <image>
    per turn stands for the video, <video> is not recognised."""
    out = export(list(clips.values()), tmp_path / "onevision.json", "llava_next", SAMPLING, clips_dir=tmp_path / "cut")
    records = json.loads(out.read_text())
    for record in records:
        assert os.path.isfile(os.path.join("/data/video_folder", record["video"]))
        first = record["conversations"][0]["value"]
        assert first.count("<image>") == 1 and first.startswith("<image>\n") and "<video>" not in first
    assert records[0]["video"] == clips["whole"].video
    assert probe(records[2]["video"]).duration == pytest.approx(2.0, abs=0.15)  # the frame folder, encoded
    with pytest.raises(ExportError, match="LLaVA-NeXT.*frame folder"):
        export([clips["frames"]], tmp_path / "x.json", "llava_next", SAMPLING)


def test_cut_clip_keeps_rotation_and_only_the_segment(tmp_path):
    from videostar.video.encode import write_clip

    rotated = write_video(tmp_path / "phone.mp4", gray_frames(24, height=48, width=64, step=10), fps=8, rotation=90)
    cut = write_clip(rotated, tmp_path / "cut" / "phone_1-2.mp4", (1.0, 2.0))
    frames = decode(cut, FrameSampling(num_frames=8))
    assert frames.array.shape == (8, 64, 48, 3)  # shown upright, as the source is
    assert [frame_index(f, step=10) for f in frames.array] == list(range(8, 16))  # frames 8..15 = 1 s to 2 s


def test_cli_export_of_a_clip_run_refuses_or_cuts(tmp_path, clips):
    """``videostar export`` on a run whose sample is a segment: LLaMA-Factory needs --materialize-clips."""
    from typer.testing import CliRunner

    from videostar.cli import app
    from videostar.data.labels import ClassLabel
    from videostar.data.manifest import Sample
    from videostar.star.questions import Question
    from videostar.store.ledger import GenerationRow, Ledger

    run = tmp_path / "run"
    with Ledger(run) as ledger:
        ledger.set_meta("frame_sampling", SAMPLING)
        ledger.add_samples([Sample(id="s2", video=clips["clip"].video, task="t", segment=(1.0, 3.0),
                                   labels=[ClassLabel(value="jump")])])
        ledger.add_questions([Question("s2/d0", "s2", "dataset", "What happens?")])
        ledger.add_generations([GenerationRow("s2/d0", "answer", 0, "A jump.\nFinal answer: jump", 5, 5, True, 1.0, {})],
                               ledger.settings_id({}))
    runner = CliRunner()
    out = tmp_path / "lf" / "sft.jsonl"
    refused = runner.invoke(app, ["export", str(run), str(out), "--format", "llamafactory", "--forms", "cot"])
    assert refused.exit_code == 1 and "--materialize-clips" in refused.output and not out.exists()
    cut = runner.invoke(app, ["export", str(run), str(out), "--format", "llamafactory", "--forms", "cot",
                              "--materialize-clips", str(tmp_path / "clips")])
    assert cut.exit_code == 0, cut.output
    (row,) = [json.loads(line) for line in out.open()]
    assert row["videos"][0].startswith(str(tmp_path / "clips"))
    assert probe(row["videos"][0]).duration == pytest.approx(2.0, abs=0.15)
