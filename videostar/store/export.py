"""Write training examples for the trainers people use: TRL (conversational ``messages``),
LLaMA-Factory (sharegpt with ``videos``) and LLaVA (``conversations`` JSON). Every record carries
its video path and the run's frame-sampling spec, so training sees the frames generation saw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from videostar.prompts import Prompts
from videostar.store.ledger import Ledger
from videostar.store.records import Example

EXPORT_FORMATS = ("trl", "llamafactory", "llava")
PAIR_FORMATS = ("trl", "llamafactory")


def trl_record(example: Example, frame_sampling: dict) -> dict:
    return {
        "id": example.id,
        "messages": [
            {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": example.prompt}]},
            {"role": "assistant", "content": [{"type": "text", "text": example.response}]},
        ],
        "video": example.video,
        "segment": list(example.segment) if example.segment else None,
        "frame_sampling": frame_sampling,
        "form": example.form,
        "source": example.source,
        "task": example.task,
    }


def _write_jsonl(records: Iterable[dict], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def export(examples: list[Example], out: str | Path, fmt: str, frame_sampling: dict) -> Path:
    """Write ``examples`` to ``out`` in ``fmt``; returns the data file written."""
    out = Path(out)
    if fmt == "trl":
        _write_jsonl((trl_record(e, frame_sampling) for e in examples), out)
    elif fmt == "llamafactory":
        _write_jsonl(({
            "messages": [{"role": "user", "content": "<video>" + e.prompt}, {"role": "assistant", "content": e.response}],
            "videos": [e.video], "frame_sampling": frame_sampling, "id": e.id, "form": e.form,
        } for e in examples), out)
        info = {out.stem: {"file_name": out.name, "formatting": "sharegpt",
                           "columns": {"messages": "messages", "videos": "videos"},
                           "tags": {"role_tag": "role", "content_tag": "content",
                                    "user_tag": "user", "assistant_tag": "assistant"}}}
        (out.parent / "dataset_info.json").write_text(json.dumps(info, indent=2))
    elif fmt == "llava":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps([{
            "id": e.id, "video": e.video, "frame_sampling": frame_sampling, "form": e.form,
            "conversations": [{"from": "human", "value": "<video>\n" + e.prompt}, {"from": "gpt", "value": e.response}],
        } for e in examples], ensure_ascii=False, indent=1))
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    return out


def pair_rows(ledger: Ledger, frame_sampling: dict, source: str | None = None, prompts: Prompts | None = None) -> list[dict]:
    """Kept preference pairs as TRL preference rows: prompt (the run's answer prompt), chosen, rejected, video."""
    prompts = prompts or Prompts()
    questions = {q.id: q for q in ledger.questions()}
    samples = ledger.samples()
    rows = []
    for pair in ledger.pairs(kept=True):
        if source is not None and pair.source != source:
            continue
        question = questions[pair.question_id]
        sample = samples[question.sample_id]
        rows.append({"id": f"{pair.question_id}/{pair.source}", "prompt": prompts.answer.format(question=question.text),
                     "chosen": pair.chosen, "rejected": pair.rejected, "video": sample.video,
                     "segment": list(sample.segment) if sample.segment else None, "fps": sample.fps,
                     "frame_sampling": frame_sampling, "source": pair.source, "kind": question.source})
    return rows


def export_pairs(rows: list[dict], out: str | Path, fmt: str) -> Path:
    """TRL preference JSONL, or LLaMA-Factory's ranking format (with dataset_info.json)."""
    out = Path(out)
    if fmt == "trl":
        _write_jsonl(rows, out)
    elif fmt == "llamafactory":
        _write_jsonl(({"conversations": [{"from": "human", "value": "<video>" + r["prompt"]}],
                       "chosen": {"from": "gpt", "value": r["chosen"]}, "rejected": {"from": "gpt", "value": r["rejected"]},
                       "videos": [r["video"]], "frame_sampling": r["frame_sampling"], "id": r["id"]} for r in rows), out)
        info = {out.stem: {"file_name": out.name, "formatting": "sharegpt", "ranking": True,
                           "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
                                       "videos": "videos"}}}
        (out.parent / "dataset_info.json").write_text(json.dumps(info, indent=2))
    else:
        raise ValueError(f"unknown pair format {fmt!r}; choose from {', '.join(PAIR_FORMATS)}")
    return out
