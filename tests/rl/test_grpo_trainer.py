"""The video GRPO trainer with a tiny real Qwen2-VL and real toy videos: video reaches every forward
pass, advantages are group-normalised, and the loss is the clipped objective plus the KL term
(hand-computed)."""

import math

import pytest
import torch

from videostar.data.manifest import load_manifest
from videostar.rl.config import GRPORunConfig

pytestmark = pytest.mark.slow  # builds a model and a trainer (~15 s on a busy 2-core CPU)


@pytest.fixture(scope="module")
def trainer(tiny_model, toy_manifest, tmp_path_factory):
    from datasets import Dataset

    from videostar.models.hf import load_processor_and_model
    from videostar.rl.data import Clips, prompt_rows
    from videostar.rl.run import grpo_args
    from videostar.rl.trainer import VideoGRPOTrainer

    samples = [s for s in load_manifest(toy_manifest) if s.task == "motion direction"][:2]
    out = tmp_path_factory.mktemp("grpo")
    config = GRPORunConfig(model=str(tiny_model), manifest=toy_manifest, output_dir=out, group_size=2, batch_size=2,
                           steps=1, beta=0.1, epsilon=0.2, loss_type="grpo", temperature=1.0, lora=None,
                           max_completion_length=4, device="cpu", frames={"num_frames": 4})
    processor, model = load_processor_and_model(str(tiny_model), device="cpu")
    trainer = VideoGRPOTrainer(
        model=model, reward_funcs=[_fixed_rewards], args=grpo_args(config, use_vllm=False),
        train_dataset=Dataset.from_list(prompt_rows(samples, config.prompts)), processing_class=processor,
        clips=Clips(samples, config.frames, out / "frames"))
    trainer.current_gradient_accumulation_steps = 1
    return trainer


REWARDS = [1.0, 0.0, 0.5, 0.5]  # group 1 disagrees, group 2 agrees


def _fixed_rewards(prompts, completions, **kwargs):
    return REWARDS[:len(prompts)]


def _inputs(trainer):
    rows = trainer.train_dataset.to_list()
    return [rows[0], rows[0], rows[1], rows[1]]  # TRL's sampler repeats each prompt G times


def test_logprobs_see_each_rows_own_video(trainer):
    model = trainer.model
    inputs = _inputs(trainer)
    trainer._rows = trainer._encode_rows(inputs)
    assert trainer._rows[0] is trainer._rows[1] and trainer._rows[0] is not trainer._rows[2]  # encoded once per prompt
    completion = torch.tensor(trainer.processing_class.tokenizer("red blue green", add_special_tokens=False)["input_ids"][:3])
    widths = [len(r.ids) for r in trainer._rows]
    width = max(widths) + 2  # extra left padding, as TRL pads to the batch's longest prompt
    pad = trainer.processing_class.tokenizer.pad_token_id
    input_ids = torch.stack([torch.cat([torch.full((width - len(r.ids),), pad), torch.tensor(r.ids), completion])
                             for r in trainer._rows])
    attention = torch.stack([torch.cat([torch.zeros(width - len(r.ids)), torch.ones(len(r.ids) + 3)]).long()
                             for r in trainer._rows])
    with torch.no_grad():
        logps, _, _ = trainer._get_per_token_logps_and_entropies(model, input_ids, attention, 3, batch_size=3)
    # Reference: each row alone, unpadded, straight through the model with its own video tensors.
    for k, row in enumerate(trainer._rows):
        ids = torch.cat([torch.tensor(row.ids), completion]).unsqueeze(0)
        extra = {key: torch.cat([value, torch.zeros(3, dtype=value.dtype)]).unsqueeze(0)
                 for key, value in row.per_token.items()}
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), **row.visual, **extra).logits
        expected = torch.log_softmax(logits[0, -4:-1].float(), dim=-1).gather(1, completion.unsqueeze(1)).squeeze(1)
        assert torch.allclose(logps[k], expected, atol=1e-4), k
    assert "mm_token_type_ids" in trainer._rows[0].per_token  # Qwen2-VL marks its video tokens
    assert not torch.allclose(logps[0], logps[2], atol=1e-4)  # another video, another likelihood


def test_advantages_are_normalised_within_each_group(trainer, monkeypatch):
    monkeypatch.setattr(trainer, "_generate_single_turn",
                        lambda prompt_ids, *a, **k: ([[40, 41, 42]] * len(prompt_ids), None))  # the sampler is not under test
    trainer.model.train()
    output = trainer._generate_and_score_completions(_inputs(trainer))
    std = math.sqrt(((1 - 0.5) ** 2 + (0 - 0.5) ** 2) / (2 - 1))  # unbiased, as TRL
    expected = torch.tensor([0.5 / (std + 1e-4), -0.5 / (std + 1e-4), 0.0, 0.0])
    assert torch.allclose(output["advantages"], expected, atol=1e-6)
    assert len(output["video_rows"]) == 4 and output["video_rows"][2] is trainer._rows[2]
    assert output["ref_per_token_logps"].shape == (4, 3)  # beta > 0: the reference scored them, with video


def test_loss_is_the_clipped_ratio_objective_plus_kl(trainer, monkeypatch):
    log = math.log
    policy = torch.tensor([[log(0.5), log(0.5)], [log(0.5), log(0.5)]], requires_grad=True)
    monkeypatch.setattr(trainer, "_get_per_token_logps_and_entropies",
                        lambda *a, **k: (policy, torch.zeros(2, 2), None))  # the model is not under test here
    inputs = {
        "prompt_ids": torch.tensor([[1, 2], [1, 2]]), "prompt_mask": torch.ones(2, 2, dtype=torch.long),
        "completion_ids": torch.tensor([[5, 6], [5, 6]]), "completion_mask": torch.tensor([[1, 1], [1, 0]]),
        "advantages": torch.tensor([1.0, -1.0]),
        "old_per_token_logps": torch.tensor([[log(0.25), log(0.5)], [log(0.25), log(0.5)]]),  # ratios 2 and 1
        "ref_per_token_logps": torch.tensor([[log(0.25), log(0.25)], [log(0.5), log(0.5)]]),
        "num_items_in_batch": torch.tensor(3), "video_rows": [None, None],
    }
    loss = trainer._compute_loss(trainer.model, inputs)
    kl_half = 0.5 - log(0.5) - 1  # exp(ref - logp) - (ref - logp) - 1 with ref/policy = 1/2
    beta, eps = 0.1, 0.2
    # row 1, advantage +1: ratio 2 is clipped to 1 + eps; the KL term is weighted by the (unclipped) ratio
    row1 = ((-(1 + eps) + beta * 2 * kl_half) + (-1.0 + beta * 1 * kl_half)) / 2
    # row 2, advantage -1: the pessimistic (unclipped) 2 x -1 wins; its second token is masked out
    row2 = 2.0
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-5)
    assert trainer._metrics["train"]["kl"][-1] == pytest.approx((2 * kl_half + kl_half + 0) / 3, abs=1e-5)


def test_vllm_generation_sends_each_rows_video_in_one_call_with_fake_vllm_engine(trainer, monkeypatch):
    """vLLM is CUDA-only: the engine and its module are faked at that boundary; what is checked is
    what videostar hands it (token ids + the row's frames, one call for the batch) and what it keeps."""
    import sys
    import types
    from types import SimpleNamespace as NS

    calls = []

    class FakeLLM:
        def generate(self, requests, sampling_params, use_tqdm):
            calls.append((requests, sampling_params))
            return [NS(prompt_token_ids=r["prompt_token_ids"], outputs=[NS(
                token_ids=(40 + k, 41), logprobs=[{40 + k: NS(logprob=-0.5, rank=1)}, {41: NS(logprob=-1.5, rank=1)}])])
                for k, r in enumerate(requests)]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(SamplingParams=lambda **kw: kw))
    engine = NS(mode="colocate", tensor_parallel_size=1, enable_sleep_mode=False, temperature=0.9, top_p=1.0,
                top_k=0, min_p=None, repetition_penalty=1.0, max_completion_length=4, llm=FakeLLM(),
                sync_weights=lambda: calls.append("sync"))
    monkeypatch.setattr(trainer, "vllm_generation", engine, raising=False)
    monkeypatch.setattr(trainer, "use_vllm", True)
    monkeypatch.setattr(trainer, "_last_loaded_step", -1, raising=False)
    trainer._rows = trainer._encode_rows(_inputs(trainer))
    ids, logprobs = trainer._generate_single_turn([r.ids for r in trainer._rows], None, {}, 2)
    assert calls[0] == "sync" and len(calls) == 2  # weights synced once, then ONE generate call for all 4 rows
    requests, params = calls[1]
    assert [r["prompt_token_ids"] for r in requests] == [r.ids for r in trainer._rows]
    assert all(r["multi_modal_data"]["video"] is row.frames.array for r, row in zip(requests, trainer._rows))
    assert params["temperature"] == 0.9 and params["max_tokens"] == 4 and params["n"] == 1
    assert ids == [[40, 41], [41, 41], [42, 41], [43, 41]] and logprobs == [[-0.5, -1.5]] * 4
