"""Generate with a Hugging Face ``AutoModelForImageTextToText`` whose processor takes video (the
families in models/families.py are tested end to end; others take the same generic path, untested).

Loads from a hub id or a local directory, safetensors only, ``trust_remote_code`` off unless
asked. Inputs come from ``models.inputs.model_inputs`` (the sampled frames with their timestamps,
never re-sampled); batches are left-padded so every row's continuation starts at the same position.
"""

from __future__ import annotations

from typing import Sequence

from videostar.errors import VideostarError
from videostar.models.backend import Generation, GenRequest, SamplingParams
from videostar.models.inputs import model_inputs


def pick_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_processor_and_model(model: str, dtype: str = "auto", device: str | None = "auto",
                             trust_remote_code: bool = False):
    """(processor, model) on ``device``, eval mode, left padding. ``device=None`` leaves the model
    where it was loaded (on the CPU) for a trainer / accelerate to place, one copy per process."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    try:
        processor = AutoProcessor.from_pretrained(model, trust_remote_code=trust_remote_code)
        net = AutoModelForImageTextToText.from_pretrained(
            model, dtype=torch_dtype, use_safetensors=True, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as err:  # no such directory / hub id, offline, no safetensors, unknown type
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(f"{model}: cannot load this model (a local directory or a hub id with "
                             f"safetensors weights): {reason}") from err
    processor.tokenizer.padding_side = "left"
    net.eval()
    return processor, net if device is None else net.to(pick_device(device))


class ModelLoadError(VideostarError):
    """The model or its processor could not be loaded; the message names the path or hub id."""


class HFBackend:
    name = "hf"

    def __init__(self, model: str, dtype: str = "auto", device: str = "auto", batch_size: int = 8,
                 trust_remote_code: bool = False):
        self.model_id = model
        self.batch_size = batch_size
        self.processor, self.model = load_processor_and_model(model, dtype, device, trust_remote_code)
        self.device = self.model.device

    def encode(self, requests: Sequence[GenRequest], add_generation_prompt: bool = True):
        """Processor inputs (on the model's device) for a batch of requests."""
        return model_inputs(self.processor, [r.messages for r in requests], [r.video for r in requests],
                            add_generation_prompt=add_generation_prompt, padding_side="left").to(self.device)

    def generate(self, requests: Sequence[GenRequest], params: SamplingParams) -> list[Generation]:
        import torch

        tokenizer = self.processor.tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        out: list[Generation] = []
        for start in range(0, len(requests), self.batch_size):
            chunk = requests[start:start + self.batch_size]
            inputs = self.encode(chunk)
            torch.manual_seed(params.seed + start)
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p} \
                if params.temperature > 0 else {"do_sample": False}
            with torch.inference_mode():
                tokens = self.model.generate(**inputs, max_new_tokens=params.max_new_tokens, pad_token_id=pad_id,
                                             **sampling)
            new = tokens[:, inputs["input_ids"].shape[1]:]
            texts = self.processor.batch_decode(new, skip_special_tokens=True)
            prompt_lengths = inputs["attention_mask"].sum(dim=1).tolist()
            for text, row, prompt_len in zip(texts, new, prompt_lengths):
                completion = int((row != pad_id).sum())
                out.append(Generation(text=text.strip(), prompt_tokens=int(prompt_len), completion_tokens=completion))
        return out
