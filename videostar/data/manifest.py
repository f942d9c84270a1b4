"""Manifests: labeled videos as JSONL (one sample a line), CSV, or a Hugging Face Dataset.

A sample is ``{"id", "video", "task", "labels", "split", "segment"?, "duration"?, "meta"?}``. The
video path is relative to the manifest, and is either a file or a directory of frame images with
``meta.fps``. Loading collects every problem (file, line, field) before raising, so a user fixes a
whole manifest in one pass rather than one error per run.

Hostile or broken files end in the same kind of report, never a traceback, in bounded time and
memory: JSON nested deeper than ``MAX_JSON_DEPTH``, bytes that are not UTF-8 (the byte offset is
named), CSV cells longer than ``MAX_CSV_CELL`` characters (the ``csv`` module's own limit), unknown
fields or columns (listed once), NaN or infinite numbers, video paths that are symlink loops, and
relative video paths that climb out of the manifest's folder (``../../etc/passwd``; refused unless
``allow_outside_root``; absolute paths, which importers write, stay allowed). At most
``MAX_PROBLEMS_PER_KIND`` problems of one kind are kept; the rest are counted.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videostar.atomic import atomic_open
from videostar.data.labels import LABEL_TYPES, Label, label_to_json
from videostar.errors import VideostarError

MAX_JSON_DEPTH = 32  # a manifest line is a sample with labels: a few levels deep
MAX_CSV_CELL = csv.field_size_limit()  # characters; 131,072 (128 KiB) unless a program changed it
MAX_PROBLEMS_PER_KIND = 20
_SHOWN_NAMES = 10  # unknown fields or columns named in a problem


class Sample(BaseModel):
    """One labeled video clip (see module docstring for the JSON shape)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
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
        fps = self.meta.get("fps")
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < float("inf")):
            raise ValueError(f"meta.fps: must be a finite number > 0, got {fps!r}")
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


def _kind(problem: Problem) -> str:
    return re.sub(r"\[\d+\]", "[]", problem.field)


class Problems:
    """Problems as they are found, keeping the first ``per_kind`` of each kind (the field, without
    indices) and counting the rest: a CSV with a million bad cells reports in seconds."""

    def __init__(self, per_kind: int = MAX_PROBLEMS_PER_KIND):
        self.per_kind = per_kind
        self.shown: list[Problem] = []
        self.counts: Counter[str] = Counter()

    def add(self, problem: Problem) -> None:
        kind = _kind(problem)
        if kind not in self.counts and len(self.counts) >= self.per_kind:
            kind = "other kinds"  # field names can come from the input: keep the kinds bounded too
        if self.counts[kind] < self.per_kind:
            self.shown.append(problem)
        self.counts[kind] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        more = [f"and {count - self.per_kind:,} more of the same kind ({kind or 'whole record'})"
                for kind, count in self.counts.items() if count > self.per_kind]
        return [str(p) for p in self.shown] + more


class ManifestError(VideostarError, ValueError):
    """Every problem found in a manifest, reported together (the first few of each kind)."""

    def __init__(self, problems: list[Problem] | Problems):
        if not isinstance(problems, Problems):
            collected = Problems()
            collected.extend(problems)
            problems = collected
        self.problems = problems.shown
        lines = "\n".join(f"  {line}" for line in problems.lines())
        super().__init__(f"{len(problems):,} problem(s) in the manifest:\n{lines}")


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN_NAMES])
    return shown + (f" and {len(names) - _SHOWN_NAMES:,} more" if len(names) > _SHOWN_NAMES else "")


def parse_json(text: str, where: str, field: str = "") -> Any:
    """``json.loads`` that returns a Problem for invalid or too deeply nested JSON."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        return Problem(where, field, f"invalid JSON: {err.msg} (column {err.colno})")
    except RecursionError:
        return Problem(where, field, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return Problem(where, field, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return value


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
    for e in err.errors(include_url=False, include_context=False, include_input=False):
        message = e["msg"].removeprefix("Value error, ")
        field = _field_path(e["loc"])
        # Validators that check several fields put the field name in the message ("value: ...").
        head, sep, rest = message.partition(": ")
        if sep and head in ("value", "scale", "time", "segment", "meta.fps"):
            field, message = f"{field}.{head}" if field else head, rest
        problems.append(Problem(where, field, message))
    return problems


def parse_records(
    records: Iterable[tuple[str, Any]], root: Path, check_videos: bool = True, allow_outside_root: bool = False
) -> tuple[list[Sample], Problems]:
    """Validate (where, raw record) pairs into samples with absolute video paths, collecting problems."""
    samples: list[Sample] = []
    problems = Problems()
    fields = set(Sample.model_fields)
    first_seen: dict[str, str] = {}
    for where, raw in records:
        if isinstance(raw, Problem):
            problems.add(raw)
            continue
        unknown = [key for key in raw if key not in fields]
        if unknown:
            problems.add(Problem(where, "", f"unknown field(s) {_names(unknown)}"))
            raw = {key: value for key, value in raw.items() if key in fields}
        raw_id = raw.get("id")
        if isinstance(raw_id, str) and raw_id in first_seen:
            problems.add(Problem(where, "id", f"duplicate id {raw_id!r} (first at {first_seen[raw_id]})"))
        elif isinstance(raw_id, str):
            first_seen[raw_id] = where
        try:
            sample = Sample.model_validate(raw)
        except ValidationError as err:
            problems.extend(validation_problems(where, err))
            continue
        video = _video_path(where, root, sample.video, allow_outside_root)
        if isinstance(video, Problem):
            problems.add(video)
            continue
        sample = sample.model_copy(update={"video": video})
        problems.extend(_check_sample_files(where, sample, check_videos))
        samples.append(sample)
    return samples, problems


def _video_path(where: str, root: Path, video: str, allow_outside_root: bool) -> str | Problem:
    """The absolute video path, or a Problem: a relative path that leaves ``root``, or a symlink loop."""
    if not Path(video).is_absolute() and not allow_outside_root and os.path.normpath(video).startswith(".."):
        return Problem(where, "video", f"{video!r} leaves the manifest's folder {root}; use an absolute path, "
                                       "or allow it (--allow-outside-root, allow_outside_root=True)")
    try:
        return str((root / video).resolve())
    except (OSError, RuntimeError) as err:  # Python < 3.13 raises RuntimeError for a symlink loop
        return Problem(where, "video", f"cannot resolve {root / video}: {getattr(err, 'strerror', None) or err}")


def _check_sample_files(where: str, sample: Sample, check_videos: bool) -> list[Problem]:
    video = Path(sample.video)
    if not check_videos:
        return []
    try:
        video.stat()
    except FileNotFoundError:
        return [Problem(where, "video", f"video not found: {video}")]
    except OSError as err:
        reason = "symbolic link loop" if err.errno == errno.ELOOP else err.strerror
        return [Problem(where, "video", f"cannot read {video}: {reason}")]
    if video.is_dir() and sample.fps is None:
        return [Problem(where, "meta.fps", f"video {video} is a frame directory: meta.fps is required")]
    return []


def _lines(path: Path) -> Iterator[tuple[int, str | Problem]]:
    """(line number, text) of a UTF-8 file; a line with bytes that are not UTF-8 is a Problem naming
    the byte's offset in the file."""
    offset = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield number, Problem(f"{path}:{number}", "", f"not UTF-8 text: byte 0x{raw[err.start]:02x} at "
                                                             f"byte offset {offset + err.start} of the file")
            offset += len(raw)


def jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    for number, line in _lines(path):
        where = f"{path}:{number}"
        if isinstance(line, Problem):
            yield where, line
            continue
        if not line.strip():
            continue
        record = parse_json(line, where)
        if not isinstance(record, (dict, Problem)):
            record = Problem(where, "", "each line must be a JSON object")
        yield where, record


_CSV_JSON_COLUMNS = ("labels", "meta", "segment")


def _csv_records(path: Path) -> Iterator[tuple[str, Any]]:
    """CSV rows with the same fields; ``labels``, ``meta`` and ``segment`` cells hold JSON. Reading stops
    at the first line that is not UTF-8 or holds a cell longer than ``MAX_CSV_CELL``."""
    stop: list[Problem] = []

    def text_lines():
        for _, line in _lines(path):
            if isinstance(line, Problem):
                stop.append(line)
                return
            yield line

    reader = csv.reader(text_lines())
    try:
        header = next(reader, None)
        if header is None:
            return
        fields = set(Sample.model_fields)
        columns = {name: index for index, name in enumerate(header) if name in fields}
        unknown = [name for name in header if name not in fields]
        if unknown:
            yield f"{path}:1", Problem(f"{path}:1", "", f"unknown column(s) {_names(unknown)}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if len(row) > len(header):
                yield where, Problem(where, "", f"{len(row) - len(header):,} more cell(s) than the header's columns")
                continue
            yield where, _csv_record(where, {name: row[i] for name, i in columns.items() if i < len(row)})
    except csv.Error as err:
        where = f"{path}:{reader.line_num}"
        reason = (f"a cell is longer than {MAX_CSV_CELL:,} characters (the limit)" if "field limit" in str(err)
                  else f"invalid CSV: {err}")
        yield where, Problem(where, "", reason)
    for problem in stop:
        yield problem.where, problem


def _csv_record(where: str, cells: dict[str, str]) -> dict | Problem:
    record: dict[str, Any] = {}
    for key, cell in cells.items():
        if cell == "":
            continue
        record[key] = parse_json(cell, where, key) if key in _CSV_JSON_COLUMNS else cell
        if isinstance(record[key], Problem):
            return record[key]
    return record


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
                record[key] = parse_json(record[key], where, key)
                if isinstance(record[key], Problem):
                    record = record[key]
                    break
        yield where, record


def load_manifest(path: str | Path, check_videos: bool = True, allow_outside_root: bool = False) -> list[Sample]:
    """Load and validate a manifest: ``.jsonl``/``.json`` lines, ``.csv``, or a saved HF dataset dir.

    Raises ``ManifestError`` listing every problem; returns samples with absolute video paths.
    ``allow_outside_root`` admits relative video paths that leave the manifest's folder.
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
    samples, problems = parse_records(records, path.parent if path.is_file() else path, check_videos,
                                      allow_outside_root)
    if problems:
        raise ManifestError(problems)
    return samples


def load_dataset_manifest(dataset, root: str | Path, check_videos: bool = True,
                          allow_outside_root: bool = False) -> list[Sample]:
    """Samples from an in-memory ``datasets.Dataset``; video paths are relative to ``root``."""
    samples, problems = parse_records(dataset_records(dataset), Path(root), check_videos, allow_outside_root)
    if problems:
        raise ManifestError(problems)
    return samples


def write_manifest(samples: Iterable[Sample], path: str | Path) -> int:
    """Write samples as JSONL with video paths relative to the manifest's folder; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = path.parent.resolve()
    count = 0
    with atomic_open(path) as f:
        for sample in samples:
            f.write(json.dumps(sample.to_json(root), ensure_ascii=False) + "\n")
            count += 1
    return count
