"""Manifests: labeled videos as JSONL (one sample a line), CSV, or a Hugging Face Dataset.

A sample is ``{"id", "video", "task", "labels", "split", "segment"?, "duration"?, "meta"?}``. The
video path is relative to the manifest, and is either a file or a directory of frame images with
``meta.fps``. Loading collects every problem (file, line, field) before raising, so a user fixes a
whole manifest in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videostar.data.labels import LABEL_TYPES, Label, label_to_json
from videostar.errors import VideostarError


class Sample(BaseModel):
    """One labeled video clip (see module docstring for the JSON shape)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    video: str = Field(min_length=1)
    task: str = Field(min_length=1)
    labels: list[Label] = []  # VideoSAVi needs none; Video-STaR refuses samples without labels
    split: str = "train"
    segment: tuple[float, float] | None = None  # seconds: only this part of the video is the clip
    duration: float | None = Field(None, gt=0)  # seconds; probed from the video when absent
    meta: dict[str, Any] = {}

    @model_validator(mode="after")
    def _valid_segment(self) -> "Sample":
        if self.segment is not None and not 0 <= self.segment[0] < self.segment[1]:
            raise ValueError(f"segment: need 0 <= start < end, got {list(self.segment)}")
        return self

    @property
    def fps(self) -> float | None:
        """Frame rate of a frame-directory video (``meta.fps``)."""
        fps = self.meta.get("fps")
        return float(fps) if fps is not None else None

    def needs_duration(self) -> bool:
        return any(getattr(label, "unit", "normalized") == "seconds" for label in self.labels)

    def clip_duration(self) -> float | None:
        """Length of the labeled clip in seconds: the segment's, else the video's (if known)."""
        if self.segment is not None:
            return self.segment[1] - self.segment[0]
        return self.duration

    def normalized_labels(self) -> list[Label]:
        """Labels with every time in 0..1 of the clip (raises ValueError if the duration is unknown)."""
        return [label.normalized(self.clip_duration()) for label in self.labels]

    def to_json(self, root: Path | None = None) -> dict:
        """The sample as written in a manifest, with ``video`` relative to ``root`` when inside it."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["split"] = self.split
        data["labels"] = [label_to_json(label) for label in self.labels]
        if root is not None:
            try:
                data["video"] = Path(self.video).relative_to(root.resolve()).as_posix()
            except ValueError:
                pass
        return data


@dataclass(frozen=True)
class Problem:
    where: str  # "manifest.jsonl:3" or "dataset row 3"
    field: str  # "labels[1].value", or "" for the whole record
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field + ': ' if self.field else ''}{self.message}"


class ManifestError(VideostarError, ValueError):
    """Every problem found in a manifest, reported together."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the manifest:\n{lines}")


def _field_path(loc: tuple) -> str:
    """pydantic's ('labels', 0, 'bbox', 'value', 1) -> 'labels[0].value[1]' (drops the union tag)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in LABEL_TYPES and i > 0 and isinstance(loc[i - 1], int):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_problems(where: str, err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        message = e["msg"].removeprefix("Value error, ")
        field = _field_path(e["loc"])
        # Validators that check several fields put the field name in the message ("value: ...").
        head, sep, rest = message.partition(": ")
        if sep and head.isidentifier() and head in ("value", "scale", "time", "segment"):
            field, message = f"{field}.{head}" if field else head, rest
        problems.append(Problem(where, field, message))
    return problems


def parse_records(
    records: Iterable[tuple[str, Any]], root: Path, check_videos: bool = True
) -> tuple[list[Sample], list[Problem]]:
    """Validate (where, raw record) pairs into samples with absolute video paths, collecting problems."""
    samples: list[Sample] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for where, raw in records:
        if isinstance(raw, Problem):
            problems.append(raw)
            continue
        raw_id = raw.get("id")
        if isinstance(raw_id, str) and raw_id in first_seen:
            problems.append(Problem(where, "id", f"duplicate id {raw_id!r} (first at {first_seen[raw_id]})"))
        elif isinstance(raw_id, str):
            first_seen[raw_id] = where
        try:
            sample = Sample.model_validate(raw)
        except ValidationError as err:
            problems.extend(validation_problems(where, err))
            continue
        sample = sample.model_copy(update={"video": str((root / sample.video).resolve())})
        problems.extend(_check_sample_files(where, sample, check_videos))
        samples.append(sample)
    return samples, problems


def _check_sample_files(where: str, sample: Sample, check_videos: bool) -> list[Problem]:
    video = Path(sample.video)
    if not check_videos:
        return []
    if not video.exists():
        return [Problem(where, "video", f"video not found: {video}")]
    if video.is_dir() and sample.fps is None:
        return [Problem(where, "meta.fps", f"video {video} is a frame directory: meta.fps is required")]
    return []


def jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield where, Problem(where, "", f"invalid JSON: {err.msg} (column {err.colno})")
                continue
            if not isinstance(record, dict):
                yield where, Problem(where, "", "each line must be a JSON object")
                continue
            yield where, record


_CSV_JSON_COLUMNS = ("labels", "meta", "segment")


def _csv_records(path: Path) -> Iterator[tuple[str, Any]]:
    """CSV rows with the same fields; ``labels``, ``meta`` and ``segment`` cells hold JSON."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            where = f"{path}:{reader.line_num}"
            record: dict[str, Any] = {}
            bad = None
            for key, cell in row.items():
                if key is None or cell is None or cell == "":
                    continue
                if key in _CSV_JSON_COLUMNS:
                    try:
                        record[key] = json.loads(cell)
                    except json.JSONDecodeError as err:
                        bad = Problem(where, key, f"invalid JSON in column: {err.msg}")
                        break
                elif key == "duration":
                    record[key] = cell  # pydantic converts and validates
                else:
                    record[key] = cell
            yield where, bad or record


def _drop_nones(value: Any) -> Any:
    """Arrow gives every struct every field (missing ones as None); labels must not see those."""
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value]
    return value


def dataset_records(dataset) -> Iterator[tuple[str, Any]]:
    """Rows of a Hugging Face ``datasets.Dataset`` (labels as a list of dicts or a JSON string)."""
    for index, row in enumerate(dataset):
        where = f"dataset row {index}"
        record = _drop_nones(dict(row))
        for key in _CSV_JSON_COLUMNS:
            if isinstance(record.get(key), str):
                try:
                    record[key] = json.loads(record[key])
                except json.JSONDecodeError as err:
                    record = Problem(where, key, f"invalid JSON: {err.msg}")
                    break
        yield where, record


def load_manifest(path: str | Path, check_videos: bool = True) -> list[Sample]:
    """Load and validate a manifest: ``.jsonl``/``.json`` lines, ``.csv``, or a saved HF dataset dir.

    Raises ``ManifestError`` listing every problem; returns samples with absolute video paths.
    """
    path = Path(path)
    if not path.exists():
        raise ManifestError([Problem(str(path), "", "manifest not found")])
    if path.is_dir():
        from datasets import load_from_disk

        records: Iterable[tuple[str, Any]] = dataset_records(load_from_disk(str(path)))
    elif path.suffix.lower() == ".csv":
        records = _csv_records(path)
    else:
        records = jsonl_records(path)
    samples, problems = parse_records(records, path.parent if path.is_file() else path, check_videos)
    if problems:
        raise ManifestError(problems)
    return samples


def load_dataset_manifest(dataset, root: str | Path, check_videos: bool = True) -> list[Sample]:
    """Samples from an in-memory ``datasets.Dataset``; video paths are relative to ``root``."""
    samples, problems = parse_records(dataset_records(dataset), Path(root), check_videos)
    if problems:
        raise ManifestError(problems)
    return samples


def write_manifest(samples: Iterable[Sample], path: str | Path) -> int:
    """Write samples as JSONL with video paths relative to the manifest's folder; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = path.parent.resolve()
    count = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for sample in samples:
            f.write(json.dumps(sample.to_json(root), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count
