"""Tiny video LLMs of every supported family (see families.py) built from scratch, offline, in well under a second.

Tests use them everywhere, and the demo's small base model starts from the same builder: a
byte-level BPE tokenizer trained locally on a small corpus, Qwen's chat template, a processor
whose patch sizes match the vision tower, and random weights. The result is a normal model
directory that loads with AutoProcessor / AutoModelForImageTextToText and nothing from a hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from videostar.atomic import atomic_dir

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>"]
# Qwen's chat template, reduced to what videostar sends (text and video/image parts).
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
DEFAULT_CORPUS = [
    "system user assistant You are a helpful assistant that watches videos and answers questions.",
    "Think step by step about what you see in the video, then give the final answer on the last line.",
    "Final answer: The correct answer is . Explain how one arrives at this answer.",
    "A big red square moves left. A small blue circle stays still. A green circle and a yellow square.",
    "up down left right appears disappears first then finally visible from to at between seconds",
    "What is the direction? When does it happen? Where is the object? How many objects are there?",
    "0 1 2 3 4 5 6 7 8 9 0.25 0.5 0.75 [0.1, 0.2, 0.5, 0.6] yes no",
]


class TinyModelSpec(BaseModel):
    """Sizes of a tiny model; defaults give ~170k parameters (under 1 MB)."""

    model_config = ConfigDict(extra="forbid")
    arch: str = "qwen2_vl"  # a family name of videostar.models.families.FAMILIES
    vocab_size: int = Field(600, ge=300)
    hidden_size: int = 64
    layers: int = 2
    heads: int = 2
    kv_heads: int = 1  # key/value heads of the language model (grouped-query attention); divides heads
    vision_depth: int = 2
    vision_embed: int = 32
    patch_size: int = 8
    temporal_patch_size: int = 2
    merge_size: int = 2
    min_pixels: int = 32 * 32
    max_pixels: int = 64 * 64
    seed: int = 0

    @field_validator("arch")
    @classmethod
    def _known(cls, arch: str) -> str:
        if arch not in BUILDERS:
            raise ValueError(f"unknown arch {arch!r}; tiny builders exist for: {', '.join(BUILDERS)}")
        return arch


def train_tokenizer(corpus: Iterable[str], vocab_size: int, special_tokens: list[str] = SPECIAL_TOKENS,
                    chat_template: str = CHAT_TEMPLATE, eos: str = "<|im_end|>", pad: str = "<|endoftext|>",
                    **named_tokens):
    """A byte-level BPE tokenizer (any text encodes) with a family's special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(list(corpus), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=eos, pad_token=pad,
                                   chat_template=chat_template, **named_tokens)
    fast.padding_side = "left"
    return fast


def _ids(tokenizer, tokens: list[str]) -> dict[str, int]:
    return {t: tokenizer.convert_tokens_to_ids(t) for t in tokens}


def _qwen_text(spec: TinyModelSpec, token_ids: dict[str, int], vocab: int, **extra) -> dict:
    head_dim = spec.hidden_size // spec.heads
    return dict(vocab_size=vocab, hidden_size=spec.hidden_size, intermediate_size=2 * spec.hidden_size,
                num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.kv_heads,
                max_position_embeddings=8192,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": _mrope(head_dim)},
                bos_token_id=token_ids["<|endoftext|>"], eos_token_id=token_ids["<|im_end|>"],
                pad_token_id=token_ids["<|endoftext|>"], **extra)


def _mrope(head_dim: int) -> list[int]:
    """Split half the head dimension over (time, height, width) as Qwen does (1 : 1.5 : 1.5)."""
    half = head_dim // 2
    time = half // 4
    height = (half - time) // 2
    return [time, height, half - time - height]


def _qwen(spec: TinyModelSpec, corpus):
    """Qwen2-VL, Qwen2.5-VL and Qwen3-VL share tokens and template; they differ in vision tower and processor."""
    import transformers

    tokenizer = train_tokenizer(corpus, spec.vocab_size)
    token_ids = _ids(tokenizer, SPECIAL_TOKENS)
    vision = dict(depth=spec.vision_depth, num_heads=2, patch_size=spec.patch_size,
                  spatial_merge_size=spec.merge_size, temporal_patch_size=spec.temporal_patch_size)
    ids = dict(image_token_id=token_ids["<|image_pad|>"], video_token_id=token_ids["<|video_pad|>"],
               vision_start_token_id=token_ids["<|vision_start|>"], vision_end_token_id=token_ids["<|vision_end|>"])
    pixels = dict(patch_size=spec.patch_size, temporal_patch_size=spec.temporal_patch_size,
                  merge_size=spec.merge_size)
    qwen2_pixels = dict(pixels, min_pixels=spec.min_pixels, max_pixels=spec.max_pixels)
    text = _qwen_text(spec, token_ids, len(tokenizer))
    if spec.arch == "qwen2_vl":
        vision.update(embed_dim=spec.vision_embed, hidden_size=spec.hidden_size, mlp_ratio=2)
        config = transformers.Qwen2VLConfig(text_config=text, vision_config=vision, **ids)
        processor_cls = transformers.Qwen2VLProcessor
    elif spec.arch == "qwen2_5_vl":
        vision.update(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                      out_hidden_size=spec.hidden_size, window_size=spec.patch_size * spec.merge_size * 2,
                      fullatt_block_indexes=[spec.vision_depth - 1])
        config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision, **ids)
        processor_cls = transformers.Qwen2_5_VLProcessor
    else:  # Qwen3-VL, Qwen3.5 (hybrid linear attention) and their MoEs: the Qwen3-VL processor
        text.update(head_dim=spec.hidden_size // spec.heads)
        text["rope_parameters"]["mrope_interleaved"] = True
        vision.update(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                      out_hidden_size=spec.hidden_size, num_position_embeddings=64)
        if spec.arch == "qwen3_vl_moe":
            text.update(moe_intermediate_size=spec.hidden_size // 2, num_experts=4, num_experts_per_tok=2)
        if spec.arch == "qwen3_5_moe":
            half = spec.hidden_size // 2
            text.update(moe_intermediate_size=half, shared_expert_intermediate_size=half, num_experts=4,
                        num_experts_per_tok=2)
        if spec.arch in ("qwen3_5", "qwen3_5_moe"):
            text.update(linear_key_head_dim=16, linear_value_head_dim=16, linear_num_key_heads=2,
                        linear_num_value_heads=2, layer_types=["linear_attention", "full_attention"][:spec.layers])
            text["rope_parameters"]["partial_rotary_factor"] = 0.5
            text["rope_parameters"]["mrope_section"] = _mrope(text["head_dim"] // 2)
        else:
            vision["deepstack_visual_indexes"] = [spec.vision_depth - 1]
        config_cls = {"qwen3_vl": transformers.Qwen3VLConfig, "qwen3_vl_moe": transformers.Qwen3VLMoeConfig,
                      "qwen3_5": transformers.Qwen3_5Config, "qwen3_5_moe": transformers.Qwen3_5MoeConfig}[spec.arch]
        config = config_cls(text_config=text, vision_config=vision, **ids)
        size = {"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels}
        processor = transformers.Qwen3VLProcessor(
            image_processor=transformers.Qwen2VLImageProcessor(**qwen2_pixels),
            video_processor=transformers.Qwen3VLVideoProcessor(**pixels, size=size, cap_pixels_per_frame=True),
            tokenizer=tokenizer, chat_template=CHAT_TEMPLATE)
        return config, processor
    processor = processor_cls(
        image_processor=transformers.Qwen2VLImageProcessor(**qwen2_pixels),
        video_processor=transformers.Qwen2VLVideoProcessor(**qwen2_pixels, cap_pixels_per_frame=True),
        tokenizer=tokenizer, chat_template=CHAT_TEMPLATE)
    return config, processor


# LLaVA-style templates: one placeholder token per video part, the media before the text.
_MEDIA = ("{% for part in message['content'] %}{% if part['type'] == 'video' %}<video>\n"
          "{% elif part['type'] == 'image' %}<image>\n{% endif %}{% endfor %}")
_TEXT = "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}"
# LLaVA-OneVision (Qwen2 text): Qwen's turns with <video>/<image> placeholders.
LLAVA_QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n" + _MEDIA + _TEXT + "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
# LLaVA-NeXT-Video and Video-LLaVA (Vicuna text): "USER: <video>\n... ASSISTANT: ...</s>", BOS first.
VICUNA_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}" + _TEXT + " {% else %}"
    "{{ message['role'].upper() }}: " + _MEDIA + _TEXT +
    "{% if message['role'] == 'assistant' %}</s>{% endif %} {% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}")
VICUNA_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<image>", "<video>"]


def _text_config(model_type: str, spec: TinyModelSpec, vocab: int, bos: int, eos: int, pad: int) -> dict:
    return dict(model_type=model_type, vocab_size=vocab, hidden_size=spec.hidden_size,
                intermediate_size=2 * spec.hidden_size, num_hidden_layers=spec.layers,
                num_attention_heads=spec.heads, num_key_value_heads=1, max_position_embeddings=8192,
                bos_token_id=bos, eos_token_id=eos, pad_token_id=pad)


def _vision_config(model_type: str, spec: TinyModelSpec, image_size: int) -> dict:
    return dict(model_type=model_type, hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                num_hidden_layers=spec.vision_depth, num_attention_heads=2, image_size=image_size,
                patch_size=spec.patch_size, projection_dim=spec.vision_embed)


def _vicuna_tokenizer(spec: TinyModelSpec, corpus):
    """A Llama-style tokenizer: adds <s> in front of every text, as the released ones do."""
    from tokenizers import processors

    tokenizer = train_tokenizer(corpus, spec.vocab_size, VICUNA_TOKENS, VICUNA_TEMPLATE, eos="</s>", pad="<pad>",
                                bos_token="<s>", unk_token="<unk>")
    bos = tokenizer.convert_tokens_to_ids("<s>")
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return tokenizer


def _llava(spec: TinyModelSpec, corpus):
    """LLaVA-OneVision (SigLIP + Qwen2), LLaVA-NeXT-Video and Video-LLaVA (CLIP + Llama), 32x32 frames."""
    import transformers

    side = 32
    square = {"height": side, "width": side}
    if spec.arch == "llava_onevision":
        tokenizer = train_tokenizer(corpus, spec.vocab_size, SPECIAL_TOKENS + ["<image>", "<video>"],
                                    LLAVA_QWEN_TEMPLATE)
        ids = _ids(tokenizer, ["<|endoftext|>", "<|im_end|>", "<image>", "<video>"])
        text = _text_config("qwen2", spec, len(tokenizer), ids["<|endoftext|>"], ids["<|im_end|>"],
                            ids["<|endoftext|>"])
        config = transformers.LlavaOnevisionConfig(
            vision_config=_vision_config("siglip_vision_model", spec, side), text_config=text,
            image_token_index=ids["<image>"], video_token_index=ids["<video>"], image_grid_pinpoints=[[side, side]])
        processor = transformers.LlavaOnevisionProcessor(
            image_processor=transformers.LlavaOnevisionImageProcessor(size=square, image_grid_pinpoints=[[side, side]]),
            video_processor=transformers.LlavaOnevisionVideoProcessor(size=square),
            tokenizer=tokenizer, chat_template=LLAVA_QWEN_TEMPLATE,
            num_image_tokens=(side // spec.patch_size) ** 2, vision_feature_select_strategy="full")
        return config, processor
    tokenizer = _vicuna_tokenizer(spec, corpus)
    ids = _ids(tokenizer, VICUNA_TOKENS)
    text = _text_config("llama", spec, len(tokenizer), ids["<s>"], ids["</s>"], ids["<pad>"])
    vision = _vision_config("clip_vision_model", spec, side)
    crop = dict(size={"shortest_edge": side}, crop_size=square)
    common = dict(tokenizer=tokenizer, chat_template=VICUNA_TEMPLATE, patch_size=spec.patch_size,
                  vision_feature_select_strategy="default", num_additional_image_tokens=1)
    tokens = dict(image_token_index=ids["<image>"], video_token_index=ids["<video>"])
    if spec.arch == "llava_next_video":
        config = transformers.LlavaNextVideoConfig(vision_config=vision, text_config=text, **tokens,
                                                   image_grid_pinpoints=[[side, side]])
        processor = transformers.LlavaNextVideoProcessor(
            image_processor=transformers.LlavaNextImageProcessor(**crop, image_grid_pinpoints=[[side, side]]),
            video_processor=transformers.LlavaNextVideoVideoProcessor(**crop), **common)
        return config, processor
    config = transformers.VideoLlavaConfig(vision_config=vision, text_config=text, **tokens)
    processor = transformers.VideoLlavaProcessor(
        image_processor=transformers.VideoLlavaImageProcessor(**crop),
        video_processor=transformers.VideoLlavaVideoProcessor(**crop), **common)
    return config, processor


def _internvl(spec: TinyModelSpec, corpus):
    """InternVL (InternViT + Qwen2): '<video>' becomes 'FrameN: <img><IMG_CONTEXT>...</img>' per frame."""
    import transformers

    side = 32
    square = {"height": side, "width": side}
    named = dict(start_image_token="<img>", end_image_token="</img>", context_image_token="<IMG_CONTEXT>",
                 video_token="<video>")
    tokenizer = train_tokenizer(corpus, spec.vocab_size, SPECIAL_TOKENS + list(named.values()), LLAVA_QWEN_TEMPLATE,
                                extra_special_tokens=named)
    ids = _ids(tokenizer, ["<|endoftext|>", "<|im_end|>", "<IMG_CONTEXT>"])
    text = _text_config("qwen2", spec, len(tokenizer), ids["<|endoftext|>"], ids["<|im_end|>"], ids["<|endoftext|>"])
    vision = dict(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                  num_hidden_layers=spec.vision_depth, num_attention_heads=2, image_size=[side, side],
                  patch_size=[spec.patch_size, spec.patch_size])
    seq = (side // spec.patch_size // 2) ** 2  # patches per frame after the 0.5 pixel shuffle
    config = transformers.InternVLConfig(vision_config=vision, text_config=text, image_token_id=ids["<IMG_CONTEXT>"],
                                         image_seq_length=seq)
    processor = transformers.InternVLProcessor(
        image_processor=transformers.GotOcr2ImageProcessor(size=square, crop_to_patches=False),
        video_processor=transformers.InternVLVideoProcessor(size=square), tokenizer=tokenizer,
        image_seq_length=seq, chat_template=LLAVA_QWEN_TEMPLATE)
    return config, processor


def _smolvlm(spec: TinyModelSpec, corpus):
    """SmolVLM2 (SigLIP-like tower + Llama): a spoken intro ('... eight frames from a 0:00:02 video')
    and 'Frame from MM:SS:' before every frame, from the metadata; its released chat template."""
    import transformers
    from transformers.models.smolvlm.processing_smolvlm import DEFAULT_CHAT_TEMPLATE

    side = 32
    named = dict(fake_image_token="<fake_token_around_image>", image_token="<image>",
                 end_of_utterance_token="<end_of_utterance>", global_image_token="<global-img>", video_token="<video>")
    tokenizer = train_tokenizer(corpus, spec.vocab_size, ["<|endoftext|>", "<|im_start|>"] + list(named.values()),
                                DEFAULT_CHAT_TEMPLATE, eos="<end_of_utterance>", extra_special_tokens=named)
    ids = _ids(tokenizer, ["<|endoftext|>", "<end_of_utterance>", "<image>"])
    text = _text_config("llama", spec, len(tokenizer), ids["<|endoftext|>"], ids["<end_of_utterance>"],
                        ids["<|endoftext|>"])
    vision = dict(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                  num_hidden_layers=spec.vision_depth, num_attention_heads=2, image_size=side,
                  patch_size=spec.patch_size)
    config = transformers.SmolVLMConfig(vision_config=vision, text_config=text, image_token_id=ids["<image>"],
                                        scale_factor=2)
    sizes = dict(size={"longest_edge": side}, max_image_size={"longest_edge": side})
    processor = transformers.SmolVLMProcessor(
        image_processor=transformers.SmolVLMImageProcessor(**sizes, do_image_splitting=False),
        video_processor=transformers.SmolVLMVideoProcessor(**sizes), tokenizer=tokenizer,
        image_seq_len=(side // spec.patch_size // 2) ** 2, chat_template=DEFAULT_CHAT_TEMPLATE)
    return config, processor


GLM_TOKENS = ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|begin_of_image|>",
              "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>", "<|image|>", "<|video|>"]
# GLM-4.1V's turns ('[gMASK]<sop><|user|>\n...<|assistant|>\n'), the video wrapped in begin/end of video.
GLM_TEMPLATE = (
    "[gMASK]<sop>{% for message in messages %}<|{{ message['role'] }}|>\n{% for part in message['content'] %}"
    "{% if part['type'] == 'video' %}<|begin_of_video|><|video|><|end_of_video|>"
    "{% elif part['type'] == 'image' %}<|begin_of_image|><|image|><|end_of_image|>"
    "{% else %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% if message['role'] == 'assistant' %}<|endoftext|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def _glm4v(spec: TinyModelSpec, corpus):
    """GLM-4.1V / GLM-4.6V: every frame pair becomes '<|begin_of_image|>' image tokens '<|end_of_image|>'
    and its time (4.1V: the whole second; 4.6V: 'x.x seconds')."""
    import transformers

    tokenizer = train_tokenizer(corpus, spec.vocab_size, GLM_TOKENS, GLM_TEMPLATE, eos="<|endoftext|>")
    ids = _ids(tokenizer, GLM_TOKENS)
    head_dim = spec.hidden_size // spec.heads
    text = dict(_text_config("glm4v_text", spec, len(tokenizer), ids["<|endoftext|>"], ids["<|endoftext|>"],
                             ids["<|endoftext|>"]),
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                                 "mrope_section": _mrope(head_dim // 2)})
    if spec.arch == "glm4v":
        text.pop("model_type")
    if spec.arch == "glm4v_moe":
        text.update(model_type="glm4v_moe_text", moe_intermediate_size=spec.hidden_size // 2, n_routed_experts=4,
                    num_experts_per_tok=2, n_shared_experts=1, first_k_dense_replace=1)
    vision = dict(depth=spec.vision_depth, hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                  num_heads=2, image_size=32, patch_size=spec.patch_size, spatial_merge_size=spec.merge_size,
                  temporal_patch_size=spec.temporal_patch_size, out_hidden_size=spec.hidden_size)
    glm46 = spec.arch == "glm46v"
    config_cls = {"glm4v": transformers.Glm4vConfig, "glm4v_moe": transformers.Glm4vMoeConfig,
                  "glm46v": transformers.Glm46VConfig}[spec.arch]
    config = config_cls(
        text_config=text, vision_config=vision, image_token_id=ids["<|image|>"], video_token_id=ids["<|video|>"],
        image_start_token_id=ids["<|begin_of_image|>"], image_end_token_id=ids["<|end_of_image|>"],
        video_start_token_id=ids["<|begin_of_video|>"], video_end_token_id=ids["<|end_of_video|>"])
    pixels = dict(patch_size=spec.patch_size, temporal_patch_size=spec.temporal_patch_size,
                  merge_size=spec.merge_size, size={"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels})
    processor_cls, image_cls, video_cls = (
        (transformers.Glm46VProcessor, transformers.Glm46VImageProcessor, transformers.Glm46VVideoProcessor) if glm46
        else (transformers.Glm4vProcessor, transformers.Glm4vImageProcessor, transformers.Glm4vVideoProcessor))
    processor = processor_cls(
        image_processor=image_cls(**pixels),
        video_processor=video_cls(**pixels, max_image_size={"longest_edge": spec.max_pixels}),
        tokenizer=tokenizer, chat_template=GLM_TEMPLATE)
    return config, processor


# VideoLLaMA3 (Qwen2 text): Qwen's turns, a bare <|video_pad|> that becomes 'Time x.xs:' + tokens per frame.
VIDEOLLAMA3_TEMPLATE = CHAT_TEMPLATE.replace("<|vision_start|><|video_pad|><|vision_end|>", "<|video_pad|>\n").replace(
    "<|vision_start|><|image_pad|><|vision_end|>", "<|image_pad|>\n")


def _videollama3(spec: TinyModelSpec, corpus):
    """VideoLLaMA3 (SigLIP-style tower with 2-D rope + Qwen2); similar consecutive frames share tokens."""
    import transformers

    tokenizer = train_tokenizer(corpus, spec.vocab_size, SPECIAL_TOKENS, VIDEOLLAMA3_TEMPLATE)
    ids = _ids(tokenizer, SPECIAL_TOKENS)
    text = _text_config("qwen2", spec, len(tokenizer), ids["<|endoftext|>"], ids["<|im_end|>"], ids["<|endoftext|>"])
    vision = dict(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                  num_hidden_layers=spec.vision_depth, num_attention_heads=2, patch_size=spec.patch_size)
    config = transformers.VideoLlama3Config(text_config=text, vision_config=vision,
                                            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"])
    pixels = dict(patch_size=spec.patch_size, merge_size=spec.merge_size,
                  size={"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels})
    processor = transformers.VideoLlama3Processor(
        image_processor=transformers.VideoLlama3ImageProcessor(**pixels),
        video_processor=transformers.VideoLlama3VideoProcessor(**pixels), tokenizer=tokenizer,
        chat_template=VIDEOLLAMA3_TEMPLATE)
    return config, processor


# HyperCLOVAX Vision V2: the processor writes the clip's duration where the template puts <|video_duration|>.
HYPERCLOVAX_TEMPLATE = CHAT_TEMPLATE.replace(
    "<|vision_start|><|video_pad|><|vision_end|>",
    "{\"video_duration\": <|video_duration|>}<|vision_start|><|video_pad|><|vision_end|>")


def _qwen_processor_families(spec: TinyModelSpec, corpus):
    """Families with a Qwen-style processor around another language model: EXAONE 4.5 (Qwen2-VL
    video processor, Qwen2.5-VL-like tower), HyperCLOVAX Vision V2 (Qwen2-VL video processor, Qwen2.5-VL
    tower, the clip's duration written into the prompt) and LFM3-VL (Qwen3-VL video processor, timestamps)."""
    import transformers

    tokenizer = train_tokenizer(corpus, spec.vocab_size)
    ids = _ids(tokenizer, SPECIAL_TOKENS)
    text = _text_config("", spec, len(tokenizer), ids["<|endoftext|>"], ids["<|im_end|>"], ids["<|endoftext|>"])
    text.update(head_dim=spec.hidden_size // spec.heads, sliding_window=16)
    tokens = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"])
    pixels = dict(patch_size=spec.patch_size, temporal_patch_size=spec.temporal_patch_size,
                  merge_size=spec.merge_size)
    size = {"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels}
    image = transformers.Qwen2VLImageProcessor(**pixels, min_pixels=spec.min_pixels, max_pixels=spec.max_pixels)
    if spec.arch in ("exaone4_5", "hyperclovax_vision_v2"):  # Qwen2.5-VL-like tower, Qwen2-VL video processor
        vision = dict(depth=spec.vision_depth, hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                      num_heads=2, patch_size=spec.patch_size, spatial_merge_size=spec.merge_size,
                      temporal_patch_size=spec.temporal_patch_size, window_size=spec.patch_size * spec.merge_size * 2,
                      out_hidden_size=spec.hidden_size, fullatt_block_indexes=[spec.vision_depth - 1])
        if spec.arch == "exaone4_5":
            text.update(model_type="exaone4", layer_types=["sliding_attention", "full_attention"][:spec.layers])
            vision.update(num_key_value_heads=2)
            config_cls = transformers.Exaone4_5_Config
            processor_cls = transformers.Exaone4_5_Processor
        else:
            text.update(model_type="hyperclovax")
            vision.update(model_type="qwen2_5_vl_vision")
            config_cls = transformers.HyperCLOVAXVisionV2Config
            processor_cls = transformers.HyperCLOVAXVisionV2Processor
        template = HYPERCLOVAX_TEMPLATE if spec.arch == "hyperclovax_vision_v2" else CHAT_TEMPLATE
        video = transformers.Qwen2VLVideoProcessor(**pixels, min_pixels=spec.min_pixels, max_pixels=spec.max_pixels,
                                                   cap_pixels_per_frame=True)
        processor = processor_cls(image_processor=image, video_processor=video, tokenizer=tokenizer,
                                  chat_template=template)
        return config_cls(text_config=text, vision_config=vision, **tokens), processor
    text.update(model_type="lfm3", layer_types=["conv", "full_attention"][:spec.layers])
    vision = dict(hidden_size=spec.vision_embed, intermediate_size=2 * spec.vision_embed,
                  num_hidden_layers=spec.vision_depth, num_attention_heads=2, num_key_value_heads=2,
                  patch_size=spec.patch_size, spatial_merge_size=spec.merge_size,
                  temporal_patch_size=spec.temporal_patch_size)
    config = transformers.Lfm3VlConfig(text_config=text, vision_config=vision, projector_hidden_size=spec.hidden_size,
                                       vision_start_token_id=ids["<|vision_start|>"],
                                       vision_end_token_id=ids["<|vision_end|>"], **tokens)
    processor = transformers.Lfm3VlProcessor(
        image_processor=image, video_processor=transformers.Qwen3VLVideoProcessor(**pixels, size=size,
                                                                                  cap_pixels_per_frame=True),
        tokenizer=tokenizer, chat_template=CHAT_TEMPLATE)
    return config, processor


# family name -> (spec, corpus) -> (config, processor); the model class comes from the config.
BUILDERS = {
    "qwen2_vl": _qwen, "qwen2_5_vl": _qwen, "qwen3_vl": _qwen, "qwen3_vl_moe": _qwen, "qwen3_5": _qwen,
    "qwen3_5_moe": _qwen,
    "llava_onevision": _llava, "llava_next_video": _llava, "video_llava": _llava, "internvl": _internvl,
    "smolvlm": _smolvlm, "glm4v": _glm4v, "glm4v_moe": _glm4v, "glm46v": _glm4v, "video_llama_3": _videollama3,
    "exaone4_5": _qwen_processor_families, "hyperclovax_vision_v2": _qwen_processor_families,
    "lfm3_vl": _qwen_processor_families,
}


def build_tiny_model(out: str | Path, spec: TinyModelSpec | None = None, corpus: Iterable[str] | None = None) -> Path:
    """Write a tiny random-weight video LLM (model + processor) of ``spec.arch`` to ``out``; returns ``out``."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch
    from transformers import AutoModelForImageTextToText

    spec = spec or TinyModelSpec()
    out = Path(out)
    config, processor = BUILDERS[spec.arch](spec, list(corpus) if corpus is not None else DEFAULT_CORPUS)
    torch.manual_seed(spec.seed)
    model = AutoModelForImageTextToText.from_config(config)
    with atomic_dir(out) as tmp:
        processor.save_pretrained(tmp)
        model.save_pretrained(tmp, safe_serialization=True)
    return out


def build_tiny_clip(out: str | Path, seed: int = 0, corpus: Iterable[str] | None = None) -> Path:
    """A tiny random CLIP (text + vision towers, tokenizer, image processor) for the SAVi filter's tests."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch
    import transformers
    from tokenizers import processors

    tokenizer = train_tokenizer(corpus if corpus is not None else DEFAULT_CORPUS, 400)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    # CLIP pools the text at its end token: append one to every text.
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", eos)])
    config = transformers.CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=77, eos_token_id=eos,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=eos),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8),
        projection_dim=16)
    torch.manual_seed(seed)
    model = transformers.CLIPModel(config)
    out = Path(out)
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(tmp)
    return out
