"""Every supported family trains: a few SFT and DPO steps with LoRA on the language model only,
merged into a standalone model that loads and generates."""

import json

import pytest
import torch

from videostar.data.manifest import load_manifest
from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.families import FAMILIES
from videostar.models.hf import HFBackend, load_processor_and_model
from videostar.train.trainers import LoraSettings, TrainConfig, lora_targets, train_dpo, train_sft
from videostar.video.decode import decode
from videostar.video.sampling import FrameSampling

SUPPORTED = [name for name, family in FAMILIES.items() if family.supported]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rows(toy_manifest):
    samples = load_manifest(toy_manifest)[:4]
    return [{"video": s.video, "prompt": "What do you see?", "response": s.labels[0].render(),
             "chosen": s.labels[0].render(), "rejected": "nothing at all", "frame_sampling": {"num_frames": 8}}
            for s in samples]


@pytest.mark.parametrize("arch", SUPPORTED)
def test_lora_targets_are_the_language_model_only(arch, family_models):
    _, model = load_processor_and_model(str(family_models(arch)), device=None)
    language = lora_targets(model, LoraSettings())
    everything = lora_targets(model, LoraSettings(vision=True))
    decoder = next(n for n, m in model.named_modules() if m is model.get_decoder())
    assert language and all(n.startswith(decoder + ".") for n in language)
    assert set(language) < set(everything)  # vision: true adds the vision tower (and projector)
    linear = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    assert set(everything) == linear - {n for n, m in model.named_modules() if m is model.get_output_embeddings()}


@pytest.mark.slow
@pytest.mark.parametrize("arch", SUPPORTED)
def test_sft_and_dpo_steps_then_merge_loads_and_generates(arch, family_models, toy_manifest, tmp_path):
    base = str(family_models(arch))
    data = _write(tmp_path / "rows.jsonl", _rows(toy_manifest))
    settings = dict(model=base, data=data, max_steps=2, batch_size=2, learning_rate=1e-2, save_steps=1000,
                    lora=LoraSettings(r=4, alpha=8), device="cpu")
    sft = train_sft(TrainConfig(output_dir=tmp_path / "sft", **settings))
    dpo = train_dpo(TrainConfig(output_dir=tmp_path / "dpo", **settings))
    assert len(sft.losses) == 2 and len(dpo.losses) == 2
    assert all(torch.isfinite(torch.tensor(sft.losses + dpo.losses)))

    _, before = load_processor_and_model(base, device="cpu")
    _, merged = load_processor_and_model(str(sft.model_dir), device="cpu")
    assert not any("lora" in n for n, _ in merged.named_parameters())
    old, new = dict(before.named_parameters()), dict(merged.named_parameters())
    decoder = next(n for n, m in before.named_modules() if m is before.get_decoder())
    changed = [n for n in old if not torch.equal(old[n], new[n])]
    assert changed and all(n.startswith(decoder + ".") for n in changed)  # vision tower untouched

    video = decode(load_manifest(toy_manifest)[0].video, FrameSampling(num_frames=8))
    for model_dir in (sft.model_dir, dpo.model_dir):
        (gen,) = HFBackend(str(model_dir), device="cpu").generate(
            [GenRequest([{"role": "user", "content": "What do you see?"}], video)],
            SamplingParams(temperature=0, max_new_tokens=3))
        assert gen.prompt_tokens > 8 and gen.completion_tokens <= 3  # (a random model may stop at once)
