"""Write a toy dataset: N rendered mp4 videos and a manifest with one sample per (video, task).

Video i depends only on (seed, i), so a dataset of 100 videos is the first 100 of one with 1,000,
and rendering can be split across processes without changing a byte.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from videostar.data.manifest import Sample, write_manifest
from videostar.toyworld.instructions import ADAPTED_TASKS, GENERAL_QUESTIONS, GENERAL_TASKS, demo_labels
from videostar.toyworld.scenes import FPS, TASKS, render, sample_scene, scene_labels
from videostar.video.encode import write_video

LABELERS = {"standard": scene_labels, "demo": demo_labels}
TASK_SETS = {"standard": tuple(TASKS), "demo": GENERAL_TASKS + ADAPTED_TASKS}


def _video_name(index: int) -> str:
    return f"toy_{index:05d}"


def _make_one(args) -> list[Sample]:
    out, seed, index, tasks, split, labeler = args
    scene = sample_scene(np.random.default_rng([seed, index]))
    video = write_video(out / "videos" / f"{_video_name(index)}.mp4", render(scene), fps=FPS)
    labels = LABELERS[labeler](scene)
    return [
        Sample(id=f"{_video_name(index)}_{task.replace(' ', '_')}", video=str(video.resolve()), task=task,
               labels=[labels[task]], split=split, meta={"seed": seed, "index": index, **_dataset_question(task, index)})
        for task in tasks
    ]


def _dataset_question(task: str, index: int) -> dict:
    """The demo's general tasks come with the dataset's own question, worded as the base model learned
    it (as a real dataset's questions would be); other tasks get template questions."""
    questions = GENERAL_QUESTIONS.get(task)
    return {"question": questions[index % len(questions)]} if questions else {}


def make_toy_dataset(
    out: str | Path,
    n: int,
    seed: int = 0,
    tasks: Iterable[str] | None = None,
    split: str = "train",
    workers: int = 1,
    on_video: Callable[[], None] | None = None,
    labeler: str = "standard",
) -> Path:
    """Render ``n`` videos under ``out/videos`` and write ``out/manifest.jsonl``; returns its path.

    ``labeler``: "standard" (one task per label type) or "demo" (the demo's general + adapted tasks).
    """
    out = Path(out)
    known = TASK_SETS[labeler]
    tasks = tuple(tasks) if tasks is not None else known
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise ValueError(f"unknown toy task(s) {unknown}; choose from {list(known)}")
    jobs = [(out, seed, i, tasks, split, labeler) for i in range(n)]
    samples: list[Sample] = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for result in pool.map(_make_one, jobs, chunksize=16):
                samples.extend(result)
                if on_video:
                    on_video()
    else:
        for job in jobs:
            samples.extend(_make_one(job))
            if on_video:
                on_video()
    manifest = out / "manifest.jsonl"
    write_manifest(samples, manifest)
    return manifest
