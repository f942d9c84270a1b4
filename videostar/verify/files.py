"""`videostar verify IN.jsonl OUT.jsonl`: verify answers stored one per line.

Each input line holds ``labels`` (the manifest's label schema) and ``answer`` (text), optionally
``duration`` (seconds), ``frame_size`` ([width, height], for boxes answered in pixels) and ``task``
(selects per-task thresholds); other fields pass through.
Each output line is the input plus ``passed``, ``score`` and ``label_verdicts``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videostar.atomic import atomic_open
from videostar.data.labels import Label
from videostar.data.manifest import ManifestError, Problem, jsonl_records, validation_problems
from videostar.verify.verifier import Verifier, VerifyItem


class _VerifyLine(BaseModel):
    model_config = ConfigDict(extra="allow")
    labels: list[Label] = Field(min_length=1)
    answer: str
    duration: float | None = Field(None, gt=0)
    task: str | None = None
    frame_size: tuple[int, int] | None = None  # (width, height): boxes answered in pixels


def read_items(path: Path) -> tuple[list[dict], list[VerifyItem]]:
    """Records and their verify items; raises ManifestError listing every bad line."""
    records, items, problems = [], [], []
    for where, raw in jsonl_records(path):
        if isinstance(raw, Problem):
            problems.append(raw)
            continue
        try:
            line = _VerifyLine.model_validate(raw)
        except ValidationError as err:
            problems.extend(validation_problems(where, err))
            continue
        records.append(raw)
        items.append(VerifyItem(line.labels, line.answer, line.duration, line.task, line.frame_size))
    if problems:
        raise ManifestError(problems)
    return records, items


def verify_file(in_path: str | Path, out_path: str | Path, verifier: Verifier, batch_size: int = 512,
                on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Verify every line of ``in_path`` into ``out_path``; returns counts per label type."""
    records, items = read_items(Path(in_path))
    out_path = Path(out_path)
    summary = {"lines": len(items), "passed": 0, "per_type": {}}
    with atomic_open(out_path) as out:
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            for record, verdict in zip(records[start:start + batch_size], verifier.verify_many(batch)):
                summary["passed"] += verdict.passed
                for lv in verdict.labels:
                    counts = summary["per_type"].setdefault(lv.type, {"passed": 0, "failed": 0})
                    counts["passed" if lv.passed else "failed"] += 1
                result = verdict.to_json()
                out.write(json.dumps({**record, "passed": result["passed"], "score": result["score"],
                                      "label_verdicts": result["labels"]}, ensure_ascii=False) + "\n")
            if on_progress:
                on_progress(min(start + batch_size, len(items)), len(items))
    return summary
