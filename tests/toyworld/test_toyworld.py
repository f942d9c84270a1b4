import json

import numpy as np
import pytest

from videostar.data.labels import LABEL_TYPES
from videostar.data.manifest import load_manifest
from videostar.toyworld.dataset import make_toy_dataset
from videostar.toyworld.scenes import COLORS, NUM_FRAMES, TASKS, render, sample_scene, scene_labels
from videostar.video.decode import decode
from videostar.video.sampling import FrameSampling


def _mask(frames: np.ndarray, color: str) -> np.ndarray:
    """Pixels close to ``color`` in each frame (H.264 shifts colours slightly)."""
    return np.abs(frames.astype(int) - np.array(COLORS[color])).sum(-1) < 60


def test_same_seed_same_bytes_and_manifest_other_seed_differs(tmp_path):
    a = make_toy_dataset(tmp_path / "a", n=5, seed=3)
    b = make_toy_dataset(tmp_path / "b", n=5, seed=3, workers=2)
    c = make_toy_dataset(tmp_path / "c", n=5, seed=4)
    strip = lambda m: [{k: v for k, v in json.loads(line).items()} for line in m.read_text().splitlines()]
    assert strip(a) == strip(b)
    for i in range(5):
        name = f"videos/toy_{i:05d}.mp4"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert strip(a) != strip(c)
    # video i depends only on (seed, i): a bigger dataset starts with the smaller one
    d = make_toy_dataset(tmp_path / "d", n=7, seed=3)
    assert strip(d)[: len(strip(a))] == strip(a)


def test_manifest_covers_every_label_type_and_validates(toy_manifest):
    samples = load_manifest(toy_manifest)
    assert {label.type for s in samples for label in s.labels} == set(LABEL_TYPES)
    assert {s.task for s in samples} == set(TASKS)
    assert len(samples) == 4 * len(TASKS)


@pytest.mark.parametrize("seed", range(25))
def test_labels_match_the_rendered_pixels(seed):
    scene = sample_scene(np.random.default_rng([99, seed]))
    frames = render(scene)
    labels = scene_labels(scene)
    main = scene.main
    visible = [bool(_mask(frames[f], main.color).any()) for f in range(NUM_FRAMES)]
    start, end = labels["appearance interval"].value
    assert visible == [start * NUM_FRAMES <= f < end * NUM_FRAMES for f in range(NUM_FRAMES)]
    # the box is exactly the main object's pixel extent at the labelled time
    f = int(labels["object location"].time * NUM_FRAMES)
    ys, xs = np.nonzero(_mask(frames[f], main.color))
    x1, y1, x2, y2 = (round(c * 64) for c in labels["object location"].value)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x1, y1, x2, y2)
    # direction: the centroid moves that way
    ys0, xs0 = np.nonzero(_mask(frames[main.appear], main.color))
    ys1, xs1 = np.nonzero(_mask(frames[main.leave - 1], main.color))
    dx, dy = xs1.mean() - xs0.mean(), ys1.mean() - ys0.mean()
    moved = ("right" if dx > 0 else "left") if abs(dx) > abs(dy) else ("down" if dy > 0 else "up")
    assert labels["motion direction"].value == moved
    colours_seen = {c for c in COLORS if _mask(frames, c).any()}
    assert labels["object counting"].value == len(colours_seen)
    first_seen = {c: min(i for i in range(NUM_FRAMES) if _mask(frames[i], c).any()) for c in colours_seen}
    assert labels["last appearance"].value == max(first_seen.values()) / NUM_FRAMES
    order = [e for e in labels["event order"].value if e.endswith(" appears")]
    assert [e.split()[1] for e in order] == sorted(first_seen, key=first_seen.get)
    assert main.color in labels["video captioning"].value and scene.direction in labels["video captioning"].value
    # the big object's colour is the most common object colour in the frames, one of the fixed options
    assert labels["color choice"].value == max(COLORS, key=lambda c: _mask(frames, c).sum())
    assert labels["color choice"].options == ["red", "green", "blue", "yellow"]


def test_decoded_video_matches_render(toy_manifest):
    sample = load_manifest(toy_manifest)[0]
    scene = sample_scene(np.random.default_rng([sample.meta["seed"], sample.meta["index"]]))
    decoded = decode(sample.video, FrameSampling(mode="fps", fps=8, max_frames=16)).array
    assert decoded.shape == (16, 64, 64, 3)
    assert np.abs(decoded.astype(int) - render(scene).astype(int)).mean() < 4  # lossy but faithful
