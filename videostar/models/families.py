"""The video LLM families videostar knows, what each needs, and which ones are tested end to end.

One row per family of the pinned transformers whose processor takes video. ``supported`` rows are
run by the test suite through batched generation, SFT and DPO collators (loss mask checked token
by token), training steps and a LoRA merge, on a tiny random model built by
``videostar models tiny OUT --arch NAME`` (videostar/models/tiny.py). Rows that are not supported
say why. What differs per family (a suitable frame setting, template and processor quirks) is
written here and nowhere else; the code path itself is the same for every family
(videostar/models/inputs.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str  # the --arch key and the tiny builder's name
    title: str
    model_type: str  # config.model_type of its checkpoints
    processors: tuple[str, ...]  # the processor class its checkpoints load (several families share one)
    supported: bool = True
    note: str = ""  # what is special about it, or why it is not supported
    frames: str = ""  # a `frames:` setting that suits it (from its processor's defaults), shown in the README


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("qwen2_vl", "Qwen2-VL", "qwen2_vl", ("Qwen2VLProcessor",),
           frames="fps 2, max_pixels 151200 (as in examples/configs)",
           note="one `<|video_pad|>` run per video, expanded to the video's tokens"),
    Family("qwen2_5_vl", "Qwen2.5-VL", "qwen2_5_vl", ("Qwen2_5_VLProcessor",), frames="as Qwen2-VL",
           note="as Qwen2-VL, plus absolute time in the rotary positions (second_per_grid_ts from the metadata's fps)"),
    Family("qwen3_vl", "Qwen3-VL", "qwen3_vl", ("Qwen3VLProcessor",), frames="fps 2 (its processor's default)",
           note="every frame pair wrapped as `<t seconds><|vision_start|>...<|vision_end|>` from the metadata "
                "(without it: 24 fps assumed, frames re-sampled)"),
    Family("qwen3_vl_moe", "Qwen3-VL-MoE", "qwen3_vl_moe", ("Qwen3VLProcessor",), frames="as Qwen3-VL",
           note="Qwen3-VL's processor; default LoRA adapts attention and the routers (the fused experts are "
                "parameters, not linear layers)"),
    Family("qwen3_5", "Qwen3.5", "qwen3_5", ("Qwen3VLProcessor",), frames="as Qwen3-VL",
           note="Qwen3-VL's processor; hybrid linear attention (reference kernels on CPU)"),
    Family("qwen3_5_moe", "Qwen3.5-MoE", "qwen3_5_moe", ("Qwen3VLProcessor",), frames="as Qwen3-VL",
           note="as Qwen3.5; default LoRA adapts attention and the routers (fused experts are parameters)"),
    Family("llava_onevision", "LLaVA-OneVision", "llava_onevision", ("LlavaOnevisionProcessor",),
           frames="max_pixels 147456 (384x384, its tower's input)",
           note="`<video>` expanded to frames x pooled patches + 1; frames resized to the tower's square"),
    Family("llava_next_video", "LLaVA-NeXT-Video", "llava_next_video", ("LlavaNextVideoProcessor",),
           frames="max_pixels 50176 (224x224 crop)",
           note="Vicuna turns (`USER: <video> ... ASSISTANT:`); the tokenizer adds BOS"),
    Family("video_llava", "Video-LLaVA", "video_llava", ("VideoLlavaProcessor",),
           frames="num_frames 8, max_pixels 50176 (224x224 crop)",
           note="Vicuna turns, BOS; the released checkpoints were trained on exactly 8 frames"),
    Family("internvl", "InternVL (-hf)", "internvl", ("InternVLProcessor",),
           frames="max_pixels 147456 (384x384 by its processor's default)",
           note="`FrameN: <img>...</img>` per frame; its processor pads left unless told (we always tell it)"),
    Family("smolvlm", "SmolVLM2", "smolvlm", ("SmolVLMProcessor",), frames="max_pixels 132496 (364x364 tiles)",
           note="`Frame from MM:SS:` per frame and the frame count in words (needs num2words)"),
    Family("glm4v", "GLM-4.1V", "glm4v", ("Glm4vProcessor",), frames="fps 2 (its processor's default)",
           note="`<|video|>` becomes image tokens + the frame's whole second per frame pair; refuses frames "
                "without metadata"),
    Family("glm4v_moe", "GLM-4.5V", "glm4v_moe", ("Glm4vProcessor",), supported=False, frames="as GLM-4.1V",
           note="tiny builder works (GLM-4.1V's processor, MoE language model); default LoRA fails: PEFT 0.21 "
                "turns the shared experts' gate/up/down_proj targets into the fused experts' parameters, "
                "which refuse lora.dropout > 0"),
    Family("glm46v", "GLM-4.6V", "glm46v", ("Glm46VProcessor",), frames="fps 2 (its processor's default)",
           note="as GLM-4.1V, the time written as 'x.x seconds'"),
    Family("video_llama_3", "VideoLLaMA3", "video_llama_3", ("VideoLlama3Processor",), frames="fps 1",
           note="`Time x.xs:` before every frame's tokens (1 fps assumed without metadata); similar "
                "consecutive frames share tokens"),
    Family("exaone4_5", "EXAONE 4.5", "exaone4_5", ("Exaone4_5_Processor",), frames="as Qwen2.5-VL",
           note="Qwen2-VL's video processor and placeholder; EXAONE 4 language model (tiny: Qwen turn markers)"),
    Family("hyperclovax_vision_v2", "HyperCLOVAX Vision V2", "hyperclovax_vision_v2",
           ("HyperCLOVAXVisionV2Processor",), frames="as Qwen2.5-VL",
           note="Qwen2-VL's video processor; the clip's duration (from the metadata) written where the template "
                "puts `<|video_duration|>` (tiny: Qwen turn markers)"),
    Family("lfm3_vl", "LFM3-VL", "lfm3_vl", ("Lfm3VlProcessor",), frames="as Qwen3-VL",
           note="Qwen3-VL's video processor and `<t seconds>` frames; LFM3 hybrid conv/attention language "
                "model (tiny: Qwen turn markers)"),
]}

# Other model types the pinned transformers (5.23) ships a video processor for, and why they are not rows above.
NOT_BUILT = {
    "not built or tested yet (generative; may work through the generic path, unverified)": (
        "cohere_compass", "cosmos3_edge", "cosmos3_omni", "dots3_note", "ernie4_5_vl_moe", "gemma4", "gemma4_unified",
        "glm5_next", "glmga", "instructblipvideo", "kimi_k25", "minicpm_ocr", "minicpmv4_6", "minicpmv4_7",
        "minimax_m3_vl", "molmo2", "muse_glimmer", "muse_spark", "nemotron_h_omni", "perception_lm", "qwen2_5_omni",
        "qwen3_omni_moe", "qwen4_exp", "videomt"),
    "video encoders, classifiers or embedders, not chat models": (
        "embedding_gemma2", "pe_audio_video", "pe_video", "sam2_video", "timesformer", "videomae", "videoprism",
        "vivit", "vjepa2"),
}

def markdown_table() -> str:
    """The README's family table, generated from ``FAMILIES``."""
    rows = ["| family | `--arch` | tested end to end | frames | notes |", "|---|---|---|---|---|"]
    for f in FAMILIES.values():
        note = f.note.replace("|", "\\|")  # a pipe inside a table cell, even in code
        rows.append(f"| {f.title} | `{f.name}` | {'yes' if f.supported else 'no'} | {f.frames} | {note} |")
    rows += ["", *(f"Also with a video processor in transformers 5.23, {why}: {', '.join(names)}."
                   for why, names in NOT_BUILT.items())]
    return "\n".join(rows)
