"""The CLIP filter of VideoSAVi's first version: score each answer's text against the video's frames
with a contrastive image-text model, and swap (or drop) a pair whose rejected answer is closer to
the video than its chosen one. Any CLIP checkpoint directory or hub id works (safetensors only).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np

from videostar.store.ledger import PairRow


class ClipFilter:
    def __init__(self, model: str, action: Literal["swap", "drop"] = "swap", margin: float = 0.0,
                 device: str = "cpu"):
        from videostar.compat import ensure_torchvision_importable

        ensure_torchvision_importable()
        from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

        self.model = CLIPModel.from_pretrained(model, use_safetensors=True).to(device).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.images = CLIPImageProcessor.from_pretrained(model)
        self.action = action
        self.margin = margin
        self.device = device

    def scores(self, frames: np.ndarray, texts: list[str]) -> np.ndarray:
        """Mean cosine similarity of each text to the frames."""
        import torch

        max_len = self.model.config.text_config.max_position_embeddings
        with torch.inference_mode():
            pixels = self.images(images=list(frames), return_tensors="pt")["pixel_values"].to(self.device)
            image = self.model.get_image_features(pixel_values=pixels)
            tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            text = self.model.get_text_features(**{k: v.to(self.device) for k, v in tokens.items()
                                                   if k in ("input_ids", "attention_mask")})
        image = torch.nn.functional.normalize(getattr(image, "pooler_output", image), dim=-1)
        text = torch.nn.functional.normalize(getattr(text, "pooler_output", text), dim=-1)
        return (text @ image.T).mean(dim=1).cpu().numpy()

    def apply(self, pair: PairRow, frames: np.ndarray) -> PairRow:
        chosen, rejected = (float(x) for x in self.scores(frames, [pair.chosen, pair.rejected]))
        info = {**pair.info, "clip": {"chosen": round(chosen, 4), "rejected": round(rejected, 4)}}
        if rejected <= chosen + self.margin:
            return replace(pair, info=info)
        if self.action == "drop":
            return replace(pair, kept=False, reason="clip_prefers_rejected", info=info)
        return replace(pair, chosen=pair.rejected, rejected=pair.chosen, info={**info, "clip_swapped": True})
