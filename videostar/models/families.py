"""The video LLM families videostar knows, what each needs, and which ones are tested end to end.

One row per family of the pinned transformers whose processor takes video. ``supported`` rows are
run by the test suite through batched generation, SFT and DPO collators (loss mask checked token
by token), training steps and a LoRA merge, on a tiny random model built by
``videostar models tiny OUT --arch NAME`` (videostar/models/tiny.py). Rows that are not supported
say why. Per-family defaults (frame rate and pixel budget of the released checkpoints, processor
keyword arguments) live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    name: str  # the --arch key and the tiny builder's name
    title: str
    model_type: str  # config.model_type of its checkpoints
    processors: tuple[str, ...]  # processor class names that identify the family
    supported: bool = True
    note: str = ""  # what is special about it, or why it is not supported
    fps: float | None = None  # frame rate the released checkpoints were trained at (a suggestion)
    max_pixels: int | None = None  # pixels per frame of the released checkpoints (a suggestion)
    video_kwargs: dict = field(default_factory=dict)  # extra processor keyword arguments for video

    def render(self, processor, messages: list[dict], add_generation_prompt: bool) -> str:
        """The chat template's text for structured messages (the video as a ``{"type": "video"}`` part)."""
        return processor.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=False)


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("qwen2_vl", "Qwen2-VL", "qwen2_vl", ("Qwen2VLProcessor",), fps=2.0, max_pixels=360 * 420,
           note="one <|video_pad|> run per video, expanded to the video's tokens"),
    Family("qwen2_5_vl", "Qwen2.5-VL", "qwen2_5_vl", ("Qwen2_5_VLProcessor",), fps=2.0, max_pixels=360 * 420,
           note="as Qwen2-VL, plus absolute time in the rotary positions (second_per_grid_ts from the fps)"),
    Family("qwen3_vl", "Qwen3-VL", "qwen3_vl", ("Qwen3VLProcessor",), fps=2.0, max_pixels=360 * 420,
           note="every frame pair wrapped as '<t seconds><|vision_start|>...<|vision_end|>' from the metadata"),
    Family("qwen3_vl_moe", "Qwen3-VL-MoE", "qwen3_vl_moe", ("Qwen3VLProcessor",), fps=2.0, max_pixels=360 * 420,
           note="Qwen3-VL's processor; default LoRA adapts attention and the routers (the fused experts are "
                "parameters, not linear layers)"),
    Family("qwen3_5", "Qwen3.5", "qwen3_5", ("Qwen3VLProcessor",), fps=2.0, max_pixels=360 * 420,
           note="Qwen3-VL's processor; hybrid linear attention (reference kernels on CPU)"),
    Family("exaone4_5", "EXAONE 4.5", "exaone4_5", ("Exaone4_5_Processor",), max_pixels=360 * 420,
           note="Qwen2-VL's video processor and placeholder; EXAONE 4 language model (tiny: Qwen turn markers)"),
    Family("hyperclovax_vision_v2", "HyperCLOVAX Vision V2", "hyperclovax_vision_v2",
           ("HyperCLOVAXVisionV2Processor",), max_pixels=360 * 420,
           note="Qwen2-VL's video processor; the clip's duration (from the metadata) written where the template "
                "puts <|video_duration|> (tiny: Qwen turn markers)"),
    Family("lfm3_vl", "LFM3-VL", "lfm3_vl", ("Lfm3VlProcessor",), fps=2.0,
           note="Qwen3-VL's video processor and '<t seconds>' frames; LFM3 hybrid conv/attention language "
                "model (tiny: Qwen turn markers)"),
    Family("llava_onevision", "LLaVA-OneVision", "llava_onevision", ("LlavaOnevisionProcessor",), max_pixels=384 * 384,
           note="<video> expanded to frames x pooled patches + 1; frames resized to the tower's square"),
    Family("llava_next_video", "LLaVA-NeXT-Video", "llava_next_video", ("LlavaNextVideoProcessor",),
           max_pixels=336 * 336, note="Vicuna turns ('USER: <video>\\n... ASSISTANT:'); the tokenizer adds BOS"),
    Family("video_llava", "Video-LLaVA", "video_llava", ("VideoLlavaProcessor",), max_pixels=224 * 224,
           note="Vicuna turns, BOS; the released checkpoints were trained on exactly 8 frames"),
    Family("internvl", "InternVL (-hf)", "internvl", ("InternVLProcessor",), max_pixels=448 * 448,
           note="'FrameN: <img>...</img>' per frame; its processor pads left unless told (we always tell it)"),
    Family("smolvlm", "SmolVLM2", "smolvlm", ("SmolVLMProcessor",), max_pixels=384 * 384,
           note="'Frame from MM:SS:' per frame and the frame count in words (needs num2words)"),
    Family("glm4v", "GLM-4.1V", "glm4v", ("Glm4vProcessor",), fps=2.0,
           note="<|video|> becomes image tokens + the frame's whole second per frame pair; refuses frames "
                "without metadata"),
    Family("glm46v", "GLM-4.6V", "glm46v", ("Glm46VProcessor",), fps=2.0,
           note="as GLM-4.1V, the time written as 'x.x seconds'"),
    Family("video_llama_3", "VideoLLaMA3", "video_llama_3", ("VideoLlama3Processor",), fps=1.0,
           note="'Time x.xs:' before every frame's tokens (it assumes 1 fps without metadata); similar "
                "consecutive frames share tokens"),
]}

GENERIC = Family("generic", "other", "", (), supported=False, note="not in the table: default processor call")


def family_of(processor) -> Family:
    """The family of a loaded processor (by class name); unknown processors get the generic call."""
    name = type(processor).__name__
    return next((f for f in FAMILIES.values() if name in f.processors), GENERIC)


def markdown_table() -> str:
    """The README's family table, generated from ``FAMILIES``."""
    rows = ["| family | `--arch` | tested end to end | notes |", "|---|---|---|---|"]
    rows += [f"| {f.title} | `{f.name}` | {'yes' if f.supported else 'no'} | {f.note} |" for f in FAMILIES.values()]
    return "\n".join(rows)
