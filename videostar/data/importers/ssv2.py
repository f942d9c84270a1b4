"""Something-Something v2: ``something-something-v2-{train,validation,test}.json`` + ``-labels.json``.

Entries are ``{"id": "78687", "label": "holding potato next to vicks vaporub bottle", "template":
"Holding [something] next to [something]", "placeholders": ["potato", "vicks vaporub bottle"]}``; the
test file holds only ``{"id": ...}`` (skipped, counted). The labels file maps each template, brackets
removed ("Holding something next to something"), to its class id. The label is the template with
its placeholders filled in order ("Holding potato next to vicks vaporub bottle"); template and class
id go to ``meta``. Videos are ``78687.webm`` (12 fps) or a folder of extracted frames ``78687/``
(``meta.fps`` = ``fps``, 12 by default).
"""

from __future__ import annotations

import re
from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, read_json, video_or_default
from videostar.data.labels import ClassLabel
from videostar.data.manifest import Sample

DEFAULT_FPS = 12.0
_SLOT = re.compile(r"\[[^\]]*\]")


def fill_template(template: str, placeholders: list[str]) -> str | None:
    """``Holding [something] next to [something]`` + ["potato", "a bottle"]; None if the counts differ."""
    if len(_SLOT.findall(template)) != len(placeholders):
        return None
    filled = iter(placeholders)
    return _SLOT.sub(lambda _: next(filled).strip(), template)


def _class_ids(src: Path) -> dict[str, str]:
    for name in ("something-something-v2-labels.json", "labels.json"):
        if (src.parent / name).exists():
            return {k: str(v) for k, v in read_json(src.parent / name, dict, "{template: class id}").items()}
    return {}


def import_ssv2(src: Path, video_dir: Path, skip_missing: bool = False, fps: float = DEFAULT_FPS) -> ImportResult:
    entries = read_json(src, list, "a Something-Something v2 list of {id, label, template, placeholders}")
    stem = src.stem.lower()
    split = "val" if "validation" in stem else "test" if "test" in stem else "train"
    class_ids = _class_ids(src)
    index = VideoIndex(video_dir, frame_dirs=True)
    result = ImportResult()
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry:
            raise DatasetFormatError(f"{src}: entry {number}: expected an object with 'id', found {entry!r:.80}")
        if "template" not in entry:
            result.skipped["no label (test split)"] += 1
            continue
        video_id = str(entry["id"])
        video = video_or_default(index, result, skip_missing, video_dir / f"{video_id}.webm", video_id)
        if video is None:
            continue
        value = fill_template(entry["template"], entry.get("placeholders") or []) or entry.get("label", "")
        if not value.strip():
            result.skipped["empty label"] += 1
            continue
        template = _SLOT.sub(lambda m: m.group(0)[1:-1], entry["template"])
        meta = {"template": template, "placeholders": entry.get("placeholders") or []}
        if template in class_ids:
            meta["class_id"] = class_ids[template]
        if video.is_dir():
            meta["fps"] = fps
        result.samples.append(Sample(id=f"ssv2_{video_id}", video=str(video.resolve()), task="action recognition",
                                     split=split, labels=[ClassLabel(value=value, name="action")], meta=meta))
    return result
