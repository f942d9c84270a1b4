"""Questions whose correct answer must contain a sample's labels (Video-STaR step 1).

Three sources: the dataset's own question (``meta.question``, e.g. STAR-benchmark), templates per
label type (several paraphrases, the label's name filled in), and questions the model writes when
told the labels and the task. A question about a choice label lists its options with their letters
(``labels.question_extras``), so answers can pick by letter. Template choice is seeded by (seed, sample id), so a resumed or
re-run generation asks exactly the same questions.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from videostar.data.manifest import Sample
from videostar.labels import question_extras
from videostar.prompts import QUESTION_TEMPLATES, label_question
from videostar.store.records import Question

_LIST_MARK_RE = re.compile(r"^\s*(?:\d{1,3}[.):]|[-*•]|q\d{1,3}[.:)]|question\s*\d{0,3}\s*[.:)])\s*", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")
_KEY_RE = re.compile(r"[^a-z0-9 ]")


def _rng(seed: int, sample_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{sample_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def template_questions(sample: Sample, per_sample: int = 1, seed: int = 0) -> list[Question]:
    """The dataset's question (if any) and ``per_sample`` distinct template questions."""
    out = []
    if isinstance(sample.meta.get("question"), str) and sample.meta["question"].strip():
        text = sample.meta["question"].strip() + question_extras(sample.labels)  # a choice lists its options
        out.append(Question(f"{sample.id}/d0", sample.id, "dataset", text))
    rng = _rng(seed, sample.id)
    orders = [rng.permutation(len(QUESTION_TEMPLATES[label.type])) for label in sample.labels]
    for k in range(min(per_sample, min(len(o) for o in orders))):
        parts = [label_question(label, QUESTION_TEMPLATES[label.type][order[k]])
                 for label, order in zip(sample.labels, orders)]
        out.append(Question(f"{sample.id}/t{k}", sample.id, "template", " ".join(parts)))
    return out


def parse_model_questions(text: str, limit: int, max_chars: int = 200, min_chars: int = 10) -> list[str]:
    """Questions from a model's list: one per line, list markers stripped, must end with '?',
    length-limited, duplicates (ignoring case and punctuation) dropped, at most ``limit``."""
    found, seen = [], set()
    for line in text.splitlines():
        question = _SPACE_RE.sub(" ", _LIST_MARK_RE.sub("", line)).strip(" \"'`").replace(" ?", "?")
        if not question.endswith("?") or not min_chars <= len(question) <= max_chars:
            continue
        key = " ".join(_KEY_RE.sub(" ", question.lower()).split())
        if key in seen:
            continue
        seen.add(key)
        found.append(question)
        if len(found) == limit:
            break
    return found
