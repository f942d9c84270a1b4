"""Training sets in the formats trainers read, written so that each trainer's OWN loading code sees
the clip and the frames generation used:

- ``trl``: conversational ``messages``; the ``{"type": "video"}`` content item carries the video's
  ``path`` (and ``segment``, ``fps``, ``frame_times``), as do top-level columns. The item uses
  ``path``, not ``video``: a ``video`` key would be added to every text item as null when the JSONL
  is loaded with ``datasets``, and chat templates test ``'video' in content``. Preference pairs are
  conversational too (``prompt`` holds the user turn with the video), so TRL's DPO tokenization
  passes the video to the processor instead of training on text alone.
- ``llamafactory``: sharegpt with ``videos``; ``dataset_info.json`` is merged (other datasets kept);
  frame folders become frame lists (the frames videostar samples); a clip of a longer video is cut
  to its own file (``clips_dir``) or refused, since LLaMA-Factory reads whole files; the
  ``video_fps`` / ``video_maxlen`` that make LLaMA-Factory take the same number of frames are
  written next to the data (``<name>.video_args.yaml``).
- ``llava`` (Video-LLaVA: ``<video>``) and ``llava_next`` (LLaVA-NeXT / LLaVA-OneVision: ``<image>``
  stands for the video): JSON lists with ``video`` and ``conversations``; they decode whole video
  files, so clips and frame folders are cut to files (``clips_dir``) or refused.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from videostar.atomic import write_json, write_jsonl, write_text
from videostar.errors import VideostarError
from videostar.prompts import Prompts
from videostar.store.ledger import Ledger
from videostar.store.records import Example
from videostar.video.sampling import FrameSampling

EXPORT_FORMATS = ("trl", "llamafactory", "llava", "llava_next")
PAIR_FORMATS = ("trl", "llamafactory")
# The token each LLaVA code base expects for a video in the first human turn.
LLAVA_VIDEO_TOKENS = {"llava": "<video>", "llava_next": "<image>"}


class ExportError(VideostarError, ValueError):
    """An export that would make a trainer see something else than the clip (the message says why)."""


# ---------------------------------------------------------------- clips: frames, times, files

@lru_cache(maxsize=65536)
def _probe(video: str, fps: float | None, mtime_ns: int):
    from videostar.video.decode import VideoDecodeError, probe

    try:
        return probe(video, fps)
    except VideoDecodeError as err:
        raise ExportError(f"cannot export {video}: {err}") from None


def _info(video: str, fps: float | None):
    try:
        mtime = Path(video).stat().st_mtime_ns
    except OSError:
        raise ExportError(f"cannot export: video not found: {video}") from None
    return _probe(video, fps, mtime)


def _bounds(video: str, segment, fps: float | None) -> tuple[float, float]:
    duration = _info(video, fps).duration
    start, end = segment if segment else (0.0, duration)
    return start, min(end, duration)


def frame_times(video: str, segment, fps: float | None, sampling: FrameSampling) -> list[float]:
    """Seconds (of the whole video) of the frames ``sampling`` takes from the clip: what generation saw."""
    return [round(float(t), 4) for t in sampling.times(*_bounds(video, segment, fps))]


def frame_files(video: str, segment, fps: float, sampling: FrameSampling) -> list[str]:
    """The frame images of a frame folder that ``sampling`` picks, by the rule decoding uses."""
    from videostar.video.decode import _frame_files

    files = _frame_files(Path(video))
    return [str(files[min(int(t * fps), len(files) - 1)]) for t in frame_times(video, segment, fps, sampling)]


def _clip_file(video: str, segment, fps: float | None, clips_dir: Path | None, consumer: str) -> str:
    """A file holding exactly the clip: the video itself, or a cut copy in ``clips_dir``."""
    if not segment and not Path(video).is_dir():
        return video
    what = "a frame folder" if Path(video).is_dir() else f"the clip {list(segment)} s of a longer video"
    if clips_dir is None:
        raise ExportError(f"{video}: {consumer} reads whole video files, but this example is {what}; pass "
                          "--materialize-clips DIR to cut each clip to its own file (exporting the whole video "
                          "would train on other frames than the ones generation used)")
    from videostar.video.encode import write_clip

    key = hashlib.sha256(json.dumps([video, list(segment) if segment else None, fps]).encode()).hexdigest()[:16]
    out = Path(clips_dir) / f"{Path(video).stem}_{key}.mp4"
    if not out.exists():
        write_clip(video, out, tuple(segment) if segment else None, fps)
    return str(out.resolve())


# ---------------------------------------------------------------- TRL

def video_item(video: str, segment, fps: float | None, times: list[float]) -> dict:
    item = {"type": "video", "path": video}
    if segment:
        item["segment"] = list(segment)
    if fps:
        item["fps"] = fps
    item["frame_times"] = times
    return item


def _clip_columns(video: str, segment, fps: float | None, sampling: dict) -> tuple[dict, dict]:
    """(top-level clip columns, the matching video content item)."""
    times = frame_times(video, segment, fps, FrameSampling.model_validate(sampling or {}))
    return {"video": video, "segment": list(segment) if segment else None, "fps": fps, "frame_times": times,
            "frame_sampling": sampling}, video_item(video, segment, fps, times)


def trl_record(example: Example, frame_sampling: dict) -> dict:
    columns, item = _clip_columns(example.video, example.segment, example.fps, frame_sampling)
    return {
        "id": example.id,
        "messages": [
            {"role": "user", "content": [item, {"type": "text", "text": example.prompt}]},
            {"role": "assistant", "content": [{"type": "text", "text": example.response}]},
        ],
        **columns, "form": example.form, "source": example.source, "task": example.task,
    }


def pair_rows(ledger: Ledger, frame_sampling: dict, source: str | None = None,
              prompts: Prompts | None = None) -> list[dict]:
    """Kept preference pairs as TRL conversational preference rows: ``prompt`` = the user turn (the
    video item and the run's answer prompt), ``chosen`` / ``rejected`` = assistant turns."""
    prompts = prompts or Prompts()
    questions = {q.id: q for q in ledger.questions()}
    samples = ledger.samples()
    rows = []
    for pair in ledger.pairs(kept=True):
        if source is not None and pair.source != source:
            continue
        question = questions[pair.question_id]
        sample = samples[question.sample_id]
        columns, item = _clip_columns(sample.video, sample.segment, sample.fps, frame_sampling)
        rows.append({
            "id": f"{pair.question_id}/{pair.source}",
            "prompt": [{"role": "user", "content": [
                item, {"type": "text", "text": prompts.answer.format(question=question.text)}]}],
            "chosen": [{"role": "assistant", "content": [{"type": "text", "text": pair.chosen}]}],
            "rejected": [{"role": "assistant", "content": [{"type": "text", "text": pair.rejected}]}],
            **columns, "source": pair.source, "kind": question.source,
        })
    return rows


def turn_text(turns: list[dict]) -> str:
    """The text of the first turn of a conversational column (text parts joined)."""
    content = turns[0]["content"]
    return content if isinstance(content, str) else "".join(p.get("text") or "" for p in content if p["type"] == "text")


# ---------------------------------------------------------------- LLaMA-Factory

def merge_dataset_info(folder: Path, name: str, entry: dict) -> Path:
    """Add (or replace) ``name`` in ``folder/dataset_info.json``, keeping every other dataset there."""
    from videostar.data.importers.base import read_json

    path = folder / "dataset_info.json"
    info = read_json(path, dict, "a JSON object of datasets (fix or move it: it is not overwritten)") \
        if path.exists() else {}
    info[name] = entry
    return write_json(path, info)


def llamafactory_video_args(sampling: FrameSampling, durations: Iterable[float]) -> dict:
    """``video_fps`` / ``video_maxlen`` with which LLaMA-Factory (mm_plugin ``_get_video_sample_indices``:
    min(video_maxlen, floor(duration * video_fps)) frames, evenly from first to last) takes as many
    frames from every exported video file as ``sampling`` does."""
    if sampling.mode == "fps":
        args = {"video_fps": sampling.fps, "video_maxlen": sampling.max_frames}
    else:
        shortest = min(durations, default=None)
        fps = math.ceil(sampling.num_frames / shortest * 100) / 100 if shortest else 2.0
        args = {"video_fps": fps, "video_maxlen": sampling.num_frames}
    if sampling.max_pixels:
        args["video_max_pixels"] = sampling.max_pixels
    return args


class _LlamaFactoryMedia:
    """``videos`` entries: frame lists for frame folders, whole (or cut) files for videos."""

    def __init__(self, frame_sampling: dict, clips_dir: Path | None):
        self.sampling = FrameSampling.model_validate(frame_sampling or {})
        self.clips_dir = clips_dir
        self.durations: list[float] = []

    def __call__(self, video: str, segment, fps: float | None):
        if Path(video).is_dir():
            return frame_files(video, segment, fps, self.sampling)
        start, end = _bounds(video, segment, fps)
        self.durations.append(end - start)
        return _clip_file(video, segment, fps, self.clips_dir, "LLaMA-Factory")

    def write_args(self, out: Path) -> Path:
        args = llamafactory_video_args(self.sampling, self.durations)
        lines = ["# LLaMA-Factory settings that take as many frames per video as videostar's frame sampling",
                 f"# ({self.sampling.key()}); add them to your training YAML. Frame folders are exported",
                 "# as the exact frame lists videostar samples."] + [f"{k}: {v}" for k, v in args.items()]
        return write_text(out.parent / f"{out.stem}.video_args.yaml", "\n".join(lines) + "\n")


def _llamafactory_sft(examples: list[Example], out: Path, frame_sampling: dict, clips_dir: Path | None) -> None:
    media = _LlamaFactoryMedia(frame_sampling, clips_dir)
    write_jsonl(out, [{
        "messages": [{"role": "user", "content": "<video>" + e.prompt}, {"role": "assistant", "content": e.response}],
        "videos": [media(e.video, e.segment, e.fps)], "id": e.id, "form": e.form,
    } for e in examples])
    merge_dataset_info(out.parent, out.stem, {
        "file_name": out.name, "formatting": "sharegpt", "columns": {"messages": "messages", "videos": "videos"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}})
    media.write_args(out)


# ---------------------------------------------------------------- entry points

def export(examples: list[Example], out: str | Path, fmt: str, frame_sampling: dict,
           clips_dir: str | Path | None = None) -> Path:
    """Write ``examples`` to ``out`` in ``fmt`` (``EXPORT_FORMATS``); returns the data file written.

    ``clips_dir``: where clips (segments, frame folders) are cut to files of their own for trainers
    that read only whole files; without it such examples raise ``ExportError``.
    """
    out = Path(out)
    clips = Path(clips_dir) if clips_dir else None
    if fmt == "trl":
        write_jsonl(out, (trl_record(e, frame_sampling) for e in examples))
    elif fmt == "llamafactory":
        _llamafactory_sft(examples, out, frame_sampling, clips)
    elif fmt in LLAVA_VIDEO_TOKENS:
        token = LLAVA_VIDEO_TOKENS[fmt]
        consumer = "Video-LLaVA" if fmt == "llava" else "LLaVA-NeXT / LLaVA-OneVision"
        write_text(out, json.dumps([{
            "id": e.id, "video": _clip_file(e.video, e.segment, e.fps, clips, consumer),
            "conversations": [{"from": "human", "value": f"{token}\n{e.prompt}"}, {"from": "gpt", "value": e.response}],
            "frame_sampling": frame_sampling, "form": e.form,
        } for e in examples], ensure_ascii=False, indent=1))
    else:
        raise ExportError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    return out


def export_pairs(rows: list[dict], out: str | Path, fmt: str, clips_dir: str | Path | None = None) -> Path:
    """``pair_rows`` as TRL conversational preference JSONL, or LLaMA-Factory's ranking format."""
    out = Path(out)
    if fmt == "trl":
        write_jsonl(out, rows)
    elif fmt == "llamafactory":
        media = _LlamaFactoryMedia(rows[0]["frame_sampling"] if rows else {}, Path(clips_dir) if clips_dir else None)
        write_jsonl(out, [{
            "conversations": [{"from": "human", "value": "<video>" + turn_text(r["prompt"])}],
            "chosen": {"from": "gpt", "value": turn_text(r["chosen"])},
            "rejected": {"from": "gpt", "value": turn_text(r["rejected"])},
            "videos": [media(r["video"], r["segment"], r["fps"])], "id": r["id"]} for r in rows])
        merge_dataset_info(out.parent, out.stem, {
            "file_name": out.name, "formatting": "sharegpt", "ranking": True,
            "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected", "videos": "videos"}})
        media.write_args(out)
    else:
        raise ExportError(f"unknown pair format {fmt!r}; choose from {', '.join(PAIR_FORMATS)}")
    return out
