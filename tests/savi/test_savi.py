import json

import numpy as np
import pytest
import torch
from datasets import load_dataset
from helpers import ScriptedSaviBackend
from typer.testing import CliRunner

from videostar.cli import app
from videostar.config import GenerateConfig
from videostar.data.manifest import load_manifest
from videostar.models.hf import load_processor_and_model
from videostar.models.tiny import build_tiny_clip
from videostar.savi.clip_filter import ClipFilter
from videostar.savi.loop import SaviConfig, SaviLoop
from videostar.store.ledger import PairRow
from videostar.toyworld.dataset import make_toy_dataset
from videostar.train.collators import FrameLoader, VideoDPOCollator
from videostar.train.trainers import TrainConfig, train_dpo
from videostar.video.sampling import FrameSampling

runner = CliRunner()


def _config(tmp_path, manifest, model, **extra):
    generate = GenerateConfig.model_validate({"model": {"path": str(model), "device": "cpu"},
                                              "manifest": str(manifest), "run_dir": str(tmp_path / "run"),
                                              "sampling": {"max_new_tokens": 64}, "batch_size": 8})
    return SaviConfig(generate=generate, savi={"questions_per_video": 4, "sources": ["self_critique", "label_verified"],
                                               "label_samples": 2},
                      train={"max_steps": 2, "batch_size": 2, "learning_rate": 1e-3, "lora": None, "save_steps": 1000},
                      **extra)


@pytest.mark.slow
def test_two_iterations_with_scripted_model_count_drops_and_train_dpo(tmp_path, tiny_model):
    manifest = make_toy_dataset(tmp_path / "toy", n=6, seed=4, tasks=["motion direction"])
    lefts = sum(s.labels[0].value in ("left", "up") for s in load_manifest(manifest))  # answered both ways
    history = SaviLoop(_config(tmp_path, manifest, tiny_model, iterations=2),
                       load_backend=lambda config: ScriptedSaviBackend()).run()
    assert len(history) == 2
    for metrics in history:
        critique = metrics["pairs"]["self_critique"]
        assert critique["kept"] == 6 and critique["questions"] == {"spatial": 12, "temporal": 12}
        assert critique["dropped"] == {"critique_found_nothing": 6, "unchanged": 6, "trivial_change": 6}
        verified = metrics["pairs"]["label_verified"]
        assert verified["kept"] == lefts and verified["dropped"] == {"all_failed": 6 - lefts}
        assert metrics["kept_pairs"] == 6 + lefts and len(metrics["train_losses"]) == 2
    assert history[1]["generated_with"] == history[0]["model"] != str(tiny_model)  # iteration 2 uses the DPO model
    pairs = [json.loads(line) for line in (tmp_path / "run" / "iteration_0" / "pairs.jsonl").open()]
    kept_critique = [p for p in pairs if p["source"] == "self_critique"]
    assert all(p["chosen"][0]["content"][0]["text"].startswith("The big object is clearly red") for p in kept_critique)
    assert {p["kind"] for p in kept_critique} == {"spatial"}
    ledger_dir = tmp_path / "run" / "iteration_0" / "generate"
    for source in ("self_critique", "label_verified"):
        for fmt in ("trl", "llamafactory"):
            out = tmp_path / f"{source}_{fmt}.jsonl"
            result = runner.invoke(app, ["export", str(ledger_dir), str(out), "--pairs", "--format", fmt,
                                         "--source", source])
            assert result.exit_code == 0, result.output
            rows = load_dataset("json", data_files=str(out), split="train")
            assert rows.num_rows == (6 if source == "self_critique" else lefts)
            assert "chosen" in rows.column_names and "rejected" in rows.column_names


def _log_probs(model, batch):
    """Summed log-probabilities of the completion tokens of each row."""
    inputs = {k: v for k, v in batch.items() if k != "completion_mask"}
    with torch.no_grad():
        logits = model(**inputs).logits[:, :-1]
    targets = batch["input_ids"][:, 1:]
    token = torch.log_softmax(logits.float(), -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (token * batch["completion_mask"][:, 1:]).sum(-1)


@pytest.mark.slow
def test_dpo_moves_the_reward_margin_on_a_fixed_batch(tmp_path, tiny_model, toy_manifest):
    samples = load_manifest(toy_manifest)
    rows = [{"video": s.video, "prompt": "Which direction does the big object move?",
             "chosen": s.labels[0].render(), "rejected": "it does not move at all"}
            for s in samples if s.task == "motion direction"]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    processor, base = load_processor_and_model(str(tiny_model), device="cpu")
    batch = VideoDPOCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)

    def margin(model):
        logps = _log_probs(model, batch) - _log_probs(base, batch)
        n = len(rows)
        return float((logps[:n] - logps[n:]).mean())

    assert abs(margin(base)) < 1e-6  # before training the policy is the reference
    result = train_dpo(TrainConfig(model=str(tiny_model), data=data, output_dir=tmp_path / "dpo", lora=None,
                                   max_steps=8, batch_size=4, learning_rate=2e-3, dpo_beta=0.1, save_steps=1000))
    _, trained = load_processor_and_model(str(result.model_dir), device="cpu")
    assert margin(trained) > 1.0
    assert result.losses[-1] < 0.69  # below log 2, where DPO starts


def test_clip_filter_swaps_or_drops_when_rejected_is_closer(tmp_path, toy_manifest):
    clip = ClipFilter(str(build_tiny_clip(tmp_path / "clip")))
    frames = np.random.default_rng(0).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    texts = ["a big red square moves left", "two blue circles", "yellow", "nothing here at all", "up down"]
    scores = dict(zip(texts, clip.scores(frames, texts)))
    ordered = sorted(texts, key=scores.get)
    low, high = ordered[0], ordered[-1]
    pair = PairRow("q", "self_critique", chosen=low, rejected=high, kept=True, reason="", info={})
    swapped = clip.apply(pair, frames)
    assert (swapped.chosen, swapped.rejected) == (high, low) and swapped.info["clip_swapped"]
    assert swapped.info["clip"]["chosen"] < swapped.info["clip"]["rejected"]  # scores as computed before the swap
    unchanged = clip.apply(PairRow("q", "self_critique", high, low, True, "", {}), frames)
    assert (unchanged.chosen, unchanged.kept) == (high, True)
    dropper = ClipFilter(str(tmp_path / "clip"), action="drop")
    assert dropper.apply(pair, frames).reason == "clip_prefers_rejected"


@pytest.mark.slow
def test_savi_cli_two_iterations_with_tiny_model(tmp_path, tiny_model):
    manifest = make_toy_dataset(tmp_path / "toy", n=3, seed=8, tasks=["motion direction"])
    result = runner.invoke(app, ["savi", "--model", str(tiny_model), "--manifest", str(manifest), "--run-dir",
                                 str(tmp_path / "run"), "--iterations", "2", "--max-new-tokens", "8",
                                 "--max-steps", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "savi_summary.json").read_text())
    assert [m["iteration"] for m in summary] == [0, 1]
    assert all("self_critique" in m["pairs"] for m in summary)
