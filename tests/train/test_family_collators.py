"""Every supported family: the loss mask covers the answer's tokens exactly, nothing of the prompt,
no padding, on a batch of unequal lengths; the processor sees the frames the run sampled."""

import pytest
import torch

from videostar.data.manifest import load_manifest
from videostar.models.families import FAMILIES
from videostar.train.collators import FrameLoader, VideoDPOCollator, VideoSFTCollator
from videostar.video.sampling import FrameSampling

SUPPORTED = [name for name, family in FAMILIES.items() if family.supported]


def _answer_ids(processor, prompt, answer):
    """The answer as the chat template renders it after the prompt (answer + end of turn), tokenized
    from text: independent of the processor's video expansion."""
    user = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
    answered = user + [{"role": "assistant", "content": [{"type": "text", "text": answer}]}]
    full = processor.apply_chat_template(answered, tokenize=False)
    head = processor.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    assert full.startswith(head)
    return processor.tokenizer(full[len(head):], add_special_tokens=False)["input_ids"]


def _check_row(batch, i, mask, expected):
    real = batch["attention_mask"][i].nonzero().squeeze(1).tolist()
    assert real == list(range(len(real)))  # right padding
    ids = batch["input_ids"][i].tolist()
    start = len(real) - len(expected)
    assert mask[i].tolist() == [0] * start + [1] * len(expected) + [0] * (len(ids) - len(real))
    assert ids[start:len(real)] == expected


@pytest.mark.parametrize("arch", SUPPORTED)
def test_sft_labels_are_exactly_the_answers(arch, family_processors, toy_manifest):
    processor = family_processors(arch)
    samples = load_manifest(toy_manifest)
    rows = [{"video": samples[0].video, "prompt": "Which way?", "response": "left"},
            {"video": samples[9].video, "prompt": "Describe the whole video in detail, please.",
             "response": "A big red square moves up. Then it stops."}]
    batch = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()
    mask = (batch["labels"] != -100).long()
    for i, row in enumerate(rows):
        expected = _answer_ids(processor, row["prompt"], row["response"])
        _check_row(batch, i, mask, expected)
        assert batch["labels"][i][mask[i] == 1].tolist() == expected


@pytest.mark.parametrize("arch", SUPPORTED)
def test_dpo_rows_are_chosen_then_rejected(arch, family_processors, toy_manifest):
    processor = family_processors(arch)
    samples = load_manifest(toy_manifest)
    rows = [{"video": samples[0].video, "prompt": "Which way?", "chosen": "left, clearly", "rejected": "up"},
            {"video": samples[7].video, "prompt": "How many objects are there?", "chosen": "three",
             "rejected": "one object only"}]
    batch = VideoDPOCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)
    assert batch["input_ids"].shape[0] == 4
    prompts = [r["prompt"] for r in rows] * 2
    for i, text in enumerate(["left, clearly", "three", "up", "one object only"]):
        _check_row(batch, i, batch["completion_mask"], _answer_ids(processor, prompts[i], text))
    video = next(k for k in ("pixel_values_videos", "pixel_values") if k in batch)
    half = batch[video].shape[0] // 2
    assert torch.equal(batch[video][:half], batch[video][half:])


def test_a_template_that_changes_the_prompt_is_refused(family_processors, toy_manifest):
    """A template that renders the prompt differently once an answer follows cannot be masked: error."""
    import copy

    processor = copy.deepcopy(family_processors("qwen2_vl"))
    processor.chat_template = processor.chat_template.replace(
        "{% for message in messages %}", "{% for message in messages %}{% if messages|length > 1 %}!{% endif %}")
    rows = [{"video": load_manifest(toy_manifest)[0].video, "prompt": "q", "response": "a"}]
    with pytest.raises(ValueError, match="not a prefix"):
        VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)
