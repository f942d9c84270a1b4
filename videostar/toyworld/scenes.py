"""Procedural toy scenes with exact labels: the data source of the demo and of every test.

A scene is 16 frames of 64x64 at 8 fps: one large salient object that moves left, right, up or
down (and may appear late or leave early), plus up to two static distractors. The signals are
deliberately coarse (a few colours, big shapes, whole-frame motion) because a small model trained
on two CPU cores learns coarse signals and not fine ones (see DESIGN.md's probe facts).

Every label type is covered, each as its own task so one sample tests one skill:
motion direction (class), when the main object is visible (temporal_range), where it is at a
moment (bbox), how many objects appear (score), when the last object appears (timestamp), a
caption (text), the order of appear/leave events (sequence) and the big object's colour among
the four colours, always listed in the same order (choice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videostar.data.labels import (
    BBoxLabel,
    ChoiceLabel,
    ClassLabel,
    Label,
    ScoreLabel,
    SequenceLabel,
    TemporalRangeLabel,
    TextLabel,
    TimestampLabel,
)

SIZE = 64
NUM_FRAMES = 16
FPS = 8
BACKGROUND = (24, 24, 24)
COLORS = {"red": (230, 40, 40), "green": (40, 210, 60), "blue": (50, 100, 240), "yellow": (235, 215, 40)}
SHAPES = ("square", "circle")
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
MAIN_HALF = 10  # half-size in pixels of the moving object
DISTRACTOR_HALF = 6

TASKS = {
    "motion direction": "class",
    "appearance interval": "temporal_range",
    "object location": "bbox",
    "object counting": "score",
    "last appearance": "timestamp",
    "video captioning": "text",
    "event order": "sequence",
    "color choice": "choice",
}


@dataclass(frozen=True)
class ToyObject:
    color: str
    shape: str
    half: int  # half-size in pixels
    appear: int  # first frame visible
    leave: int  # first frame no longer visible (NUM_FRAMES: stays to the end)
    x0: float  # centre at the appear frame
    y0: float
    dx: float = 0.0  # pixels per frame
    dy: float = 0.0

    @property
    def noun(self) -> str:
        return f"{self.color} {self.shape}"

    def centre(self, frame: int) -> tuple[float, float]:
        steps = frame - self.appear
        return self.x0 + self.dx * steps, self.y0 + self.dy * steps

    def visible(self, frame: int) -> bool:
        return self.appear <= frame < self.leave

    def box(self, frame: int) -> tuple[float, float, float, float]:
        """Normalized [x1, y1, x2, y2] of the object's pixels at ``frame``."""
        x, y = self.centre(frame)
        x1, y1 = round(x) - self.half, round(y) - self.half
        x2, y2 = x1 + 2 * self.half, y1 + 2 * self.half
        return tuple(round(min(max(c / SIZE, 0.0), 1.0), 4) for c in (x1, y1, x2, y2))


@dataclass(frozen=True)
class Scene:
    main: ToyObject
    distractors: tuple[ToyObject, ...]
    direction: str
    box_frame: int  # the frame the location task asks about

    @property
    def objects(self) -> tuple[ToyObject, ...]:
        return (self.main, *self.distractors)


def _swept_box(obj: ToyObject) -> tuple[float, float, float, float]:
    """Normalized box covering the object at every frame it is visible (1 px margin)."""
    boxes = [obj.box(f) for f in range(obj.appear, obj.leave)]
    margin = 1 / SIZE
    return (min(b[0] for b in boxes) - margin, min(b[1] for b in boxes) - margin,
            max(b[2] for b in boxes) + margin, max(b[3] for b in boxes) + margin)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def sample_scene(rng: np.random.Generator) -> Scene:
    """A random scene whose event frames are distinct, so every label is unambiguous."""
    colors = list(rng.permutation(list(COLORS)))
    direction = str(rng.choice(list(DIRECTIONS)))
    appear = int(rng.integers(0, 5))
    leave = int(rng.choice([NUM_FRAMES, int(rng.integers(appear + 10, NUM_FRAMES + 1))]))
    speed = float(rng.uniform(1.5, 2.2))
    travel = speed * (leave - 1 - appear)
    ux, uy = DIRECTIONS[direction]
    lo, hi = MAIN_HALF + 1, SIZE - MAIN_HALF - 1

    def start_coord(u: int) -> float:
        if u > 0:
            return float(rng.uniform(lo, hi - travel))
        if u < 0:
            return float(rng.uniform(lo + travel, hi))
        return float(rng.uniform(lo, hi))

    main = ToyObject(str(colors[0]), str(rng.choice(SHAPES)), MAIN_HALF, appear, leave,
                     start_coord(ux), start_coord(uy), ux * speed, uy * speed)
    used_frames = {appear} | ({leave} if leave < NUM_FRAMES else set())
    # Distractors never overlap the main object's whole path or each other: nothing is ever
    # hidden, so "appears at frame f" is true of the pixels, not just of the scene description.
    taken = [_swept_box(main)]
    distractors = []
    for color in colors[1 : 1 + int(rng.integers(0, 3))]:
        d_appear = int(rng.choice([f for f in range(0, 10) if f not in used_frames]))
        options = [f for f in range(d_appear + 4, NUM_FRAMES) if f not in used_frames] + [NUM_FRAMES]
        d_leave = int(rng.choice(options))
        for _ in range(50):
            x, y = (float(v) for v in rng.uniform(DISTRACTOR_HALF + 1, SIZE - DISTRACTOR_HALF - 1, size=2))
            candidate = ToyObject(str(color), str(rng.choice(SHAPES)), DISTRACTOR_HALF, d_appear, d_leave, x, y)
            if not any(_overlap(_swept_box(candidate), box) for box in taken):
                break
        else:
            continue  # no free spot: fewer distractors
        used_frames |= {d_appear} | ({d_leave} if d_leave < NUM_FRAMES else set())
        taken.append(_swept_box(candidate))
        distractors.append(candidate)
    box_frame = int(rng.integers(appear, leave))
    return Scene(main, tuple(distractors), direction, box_frame)


def render(scene: Scene) -> np.ndarray:
    """uint8 frames (NUM_FRAMES, SIZE, SIZE, 3); the main object is drawn last (never occluded)."""
    frames = np.empty((NUM_FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
    frames[:] = BACKGROUND
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    for obj in (*scene.distractors, scene.main):
        for f in range(obj.appear, obj.leave):
            x1, y1, x2, y2 = (round(c * SIZE) for c in obj.box(f))
            if obj.shape == "square":
                frames[f, y1:y2, x1:x2] = COLORS[obj.color]
            else:
                cx, cy = (x1 + x2 - 1) / 2, (y1 + y2 - 1) / 2
                mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= obj.half**2
                frames[f][mask] = COLORS[obj.color]
    return frames


def _events(scene: Scene) -> list[tuple[int, str]]:
    events = []
    for obj in scene.objects:
        events.append((obj.appear, f"the {obj.noun} appears"))
        if obj.leave < NUM_FRAMES:
            events.append((obj.leave, f"the {obj.noun} disappears"))
    return sorted(events)


def caption(scene: Scene) -> str:
    main = scene.main
    text = f"A big {main.noun} moves {scene.direction}."
    if scene.distractors:
        others = " and ".join(f"a small {d.noun}" for d in scene.distractors)
        text += f" {others[0].upper()}{others[1:]} {'stays' if len(scene.distractors) == 1 else 'stay'} still."
    return text


def scene_labels(scene: Scene) -> dict[str, Label]:
    """The label of each task in TASKS, exact by construction; times normalized to the clip."""
    main = scene.main
    last = max(scene.objects, key=lambda o: o.appear)
    return {
        "motion direction": ClassLabel(value=scene.direction, name=f"direction the {main.noun} moves"),
        "appearance interval": TemporalRangeLabel(
            value=(main.appear / NUM_FRAMES, main.leave / NUM_FRAMES), name=f"the {main.noun} is visible"
        ),
        "object location": BBoxLabel(
            value=main.box(scene.box_frame), time=round((scene.box_frame + 0.5) / NUM_FRAMES, 4), name=f"the {main.noun}"
        ),
        "object counting": ScoreLabel(value=len(scene.objects), scale=(1, 3), name="number of objects"),
        "last appearance": TimestampLabel(value=last.appear / NUM_FRAMES, name=f"the {last.noun} appears"),
        "video captioning": TextLabel(value=caption(scene), name="caption"),
        "event order": SequenceLabel(value=[text for _, text in _events(scene)], name="events in order"),
        "color choice": ChoiceLabel(value=main.color, options=list(COLORS), name="color of the big object"),
    }
