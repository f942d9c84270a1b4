"""GRPO run config: validation with field names, and how it maps onto TRL's GRPOConfig."""

import pytest
from pydantic import ValidationError

from videostar.rl.config import GRPORunConfig

BASE = {"model": "m", "manifest": "data.jsonl", "output_dir": "out"}


def test_micro_batches_must_divide_the_steps_completions():
    assert GRPORunConfig(**BASE, batch_size=2, group_size=8, micro_batches=4).micro_batches == 4
    with pytest.raises(ValidationError, match="micro_batches: must divide batch_size x group_size = 16"):
        GRPORunConfig(**BASE, batch_size=2, group_size=8, micro_batches=3)
    with pytest.raises(ValidationError, match="group_size"):
        GRPORunConfig(**BASE, group_size=1)  # a group of one has no advantage


@pytest.mark.slow
def test_one_generation_batch_per_optimizer_step_split_into_micro_batches():
    from videostar.rl.run import grpo_args

    config = GRPORunConfig(**BASE, batch_size=2, group_size=8, micro_batches=4, beta=0.1, epsilon=0.3,
                           temperature=0.7, max_completion_length=64, steps=7, vllm={"enabled": False})
    args = grpo_args(config, use_vllm=False)
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.steps_per_generation) == (4, 4, 4)
    assert args.generation_batch_size == 16 and args.num_generations == 8  # 2 prompts x 8, generated together
    assert (args.beta, args.epsilon, args.temperature, args.max_completion_length, args.max_steps) == \
        (0.1, 0.3, 0.7, 64, 7)
    assert args.logging_steps == 1 and not args.use_vllm


@pytest.mark.slow
def test_generation_never_samples_an_image_or_video_placeholder(tiny_model):
    """A sampled video placeholder no longer matches the video's features when the completion is
    scored (the forward pass raises); TRL suppresses only the image placeholder."""
    from transformers import AutoConfig

    from videostar.rl.run import grpo_args, placeholder_token_ids

    model_config = AutoConfig.from_pretrained(tiny_model)
    ids = placeholder_token_ids(model_config)
    assert ids == sorted({model_config.image_token_id, model_config.video_token_id}) and len(ids) == 2
    config = GRPORunConfig(**BASE, vllm={"enabled": False})
    assert grpo_args(config, use_vllm=False, suppress_tokens=ids).generation_kwargs == {"suppress_tokens": ids}
    assert grpo_args(config, use_vllm=True, suppress_tokens=ids).generation_kwargs is None  # vLLM takes none
