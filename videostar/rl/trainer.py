"""TRL's GRPOTrainer, taught video (TRL's GRPO takes images, not video: trl issues 4144, 5373).

Each prompt row names a sample; its frames (the run's ``FrameSampling``, with timestamps and clip
info) are encoded once by ``encode_prompt`` and the same tensors are used three ways:

- generation: the B x G rows of a step (each prompt repeated G times by TRL's sampler) go to the
  model in ONE batched call (transformers ``generate``, or colocated vLLM with the video as
  multi-modal data), never one completion after another;
- log-probabilities of the policy, the old policy and the reference: the per-row video tensors
  travel with the batch (``video_rows``) through TRL's shuffling and splitting, so every forward
  pass sees each completion's own video;
- everything else (group-normalised advantages, clipped ratio, KL term, logging, checkpoints) is
  TRL's, unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from videostar.compat import ensure_torchvision_importable

ensure_torchvision_importable()  # TRL imports transformers, which imports torchvision

import torch  # noqa: E402
from trl import GRPOTrainer  # noqa: E402

from videostar.rl.inputs import encode_prompt  # noqa: E402
from videostar.video.decode import Frames  # noqa: E402


@dataclass(frozen=True)
class PromptVideo:
    """One prompt's encoding: token ids, per-token fields (e.g. ``mm_token_type_ids``), and the
    per-video tensors (``pixel_values_videos``, ``video_grid_thw``, ...) concatenated across rows."""

    ids: list[int]
    per_token: dict[str, torch.Tensor]
    visual: dict[str, torch.Tensor]
    frames: Frames


def split_encoding(encoded: dict, frames: Frames) -> PromptVideo:
    ids = encoded["input_ids"]
    per_token, visual = {}, {}
    for key, value in encoded.items():
        if key in ("input_ids", "attention_mask") or not isinstance(value, torch.Tensor):
            continue
        if value.shape == ids.shape:
            per_token[key] = value[0]
        else:
            visual[key] = value
    return PromptVideo(ids[0].tolist(), per_token, visual, frames)


def video_model_inputs(rows: list[PromptVideo], prompt_width: int, total_width: int, device) -> dict:
    """Visual tensors for a chunk of rows whose prompts are left-padded to ``prompt_width`` and followed
    by completions up to ``total_width``: per-video tensors concatenated, per-token fields aligned."""
    out = {key: torch.cat([r.visual[key] for r in rows]).to(device) for key in rows[0].visual}
    for key in rows[0].per_token:
        aligned = torch.zeros(len(rows), total_width, dtype=rows[0].per_token[key].dtype)
        for k, row in enumerate(rows):
            values = row.per_token[key]
            aligned[k, prompt_width - len(values):prompt_width] = values
        out[key] = aligned.to(device)
    return out


class VideoGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose dataset rows are ``{"prompt": messages, "sample_id": id}``; ``clips``
    gives each sample's frames (``videostar.rl.data.Clips``)."""

    def __init__(self, *args, clips, encode=encode_prompt, **kwargs):
        self.clips = clips
        self.encode = encode
        self._rows: list[PromptVideo] | None = None
        super().__init__(*args, **kwargs)

    def _encode_rows(self, inputs: list[dict]) -> list[PromptVideo]:
        """Encode each distinct (sample, prompt) once; the G copies of a prompt share its tensors."""
        done: dict[tuple, PromptVideo] = {}
        rows = []
        for x in inputs:
            key = (x["sample_id"], json.dumps(x["prompt"], sort_keys=True))
            if key not in done:
                frames = self.clips.frames(x["sample_id"])
                done[key] = split_encoding(self.encode(self.processing_class, x["prompt"], frames), frames)
            rows.append(done[key])
        return rows

    def _generate_and_score_completions(self, inputs):
        self._rows = self._encode_rows(inputs)
        output = super()._generate_and_score_completions(inputs)
        output["video_rows"] = self._rows  # a list: TRL shuffles and splits it with the tensors
        return output

    def _compute_loss(self, model, inputs):
        self._rows = inputs["video_rows"]
        return super()._compute_loss(model, inputs)

    def _tokenize_prompts(self, prompts: list):
        rows = self._rows
        fields: dict = {key: torch.cat([r.visual[key] for r in rows]) for key in rows[0].visual}
        fields.update({key: [r.per_token[key].tolist() for r in rows] for key in rows[0].per_token})
        return [r.ids for r in rows], None, fields

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if not self.use_vllm:
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations)
        return self._vllm_generate(prompt_ids)

    def _vllm_generate(self, prompt_ids):
        """Colocated vLLM with each row's frames as video data: one ``generate`` call for the whole batch."""
        from trl.generation.vllm_generation import extract_logprobs
        from vllm import SamplingParams

        engine = self.vllm_generation
        if engine.mode != "colocate" or engine.tensor_parallel_size != 1:
            raise ValueError("video GRPO generates through colocated vLLM with tensor_parallel_size 1 "
                             "(TRL's vLLM server client sends images only)")
        if self.state.global_step != self._last_loaded_step:
            engine.sync_weights()
            self._last_loaded_step = self.state.global_step
        if engine.enable_sleep_mode:
            engine.llm.wake_up(tags=["kv_cache"])
        params = SamplingParams(n=1, temperature=engine.temperature, top_p=engine.top_p, top_k=engine.top_k,
                                min_p=engine.min_p or 0.0, repetition_penalty=engine.repetition_penalty,
                                max_tokens=engine.max_completion_length, logprobs=0)
        requests = [{"prompt_token_ids": ids, "multi_modal_data": {"video": row.frames.array}}
                    for ids, row in zip(prompt_ids, self._rows)]
        outputs = engine.llm.generate(requests, sampling_params=params, use_tqdm=False)
        if engine.enable_sleep_mode:
            engine.llm.sleep(level=2)
            engine._llm_weights_sleeping = True
        logprobs, _ = extract_logprobs(outputs)
        return [list(o.outputs[0].token_ids) for o in outputs], [[lp[0] for lp in seq] for seq in logprobs]

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None,
                                           compute_entropy=False, compute_aux_loss=False, **_image_fields):
        """TRL's chunked log-probabilities, with each row's video tensors in the forward pass."""
        batch_size = batch_size or input_ids.size(0)
        prompt_width = input_ids.size(1) - logits_to_keep
        logps, entropies, aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            ids, mask = input_ids[start:start + batch_size], attention_mask[start:start + batch_size]
            inputs = {"input_ids": ids, "attention_mask": mask,
                      **video_model_inputs(self._rows[start:start + batch_size], prompt_width, ids.size(1), ids.device)}
            if compute_aux_loss:
                inputs["output_router_logits"] = True
            labels = ids.masked_fill(mask == 0, -100)
            labels[:, :-logits_to_keep] = -100
            with self.accelerator.autocast():
                outputs = model(**inputs, labels=labels, fused_lm_head=True)
            logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                entropies.append(outputs.entropy[:, -logits_to_keep:])
            if compute_aux_loss:
                aux.append(outputs.aux_loss)
        return (torch.cat(logps), torch.cat(entropies) if compute_entropy else None,
                torch.stack(aux).mean() if compute_aux_loss else None)
