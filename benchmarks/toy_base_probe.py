"""What a toy base model sees: where the big object's colour is lost between pixels and answer.

Three cheap checks on fresh toy scenes (a few CPU minutes, no training of the model):
- ``vision``: a linear probe on the vision tower's output (mean and max over video tokens, each
  token scaled to unit norm as the language model's RMSNorm reads it), for the big object's colour
  and the object count; with the same probe on a freshly initialised model of the same config;
- ``readout``: a linear probe for the colour on the hidden state at the answer position of the
  direct colour question, per layer, beside the model's own first-token answer;
- ``loss``: per-token loss on the pretraining forms (instructions.py) with the real and a swapped
  video, split into visual words (colours, shapes, numbers, option letters) and the rest.
Probes train on 360 scenes and score the other 120. Prints JSON.

    python benchmarks/toy_base_probe.py [--model assets/toy-base] [--scenes 480]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np

COLORS = ["red", "green", "blue", "yellow"]
VISUAL = set(COLORS) | {"square", "circle", "1", "2", "3", "A", "B", "C", "D", "big", "small", "one", "two", "three"}


def linear_probe(x, y: np.ndarray, train: int) -> float:
    """Held-out accuracy (%) of a softmax regression fitted on the first ``train`` rows."""
    import torch

    x = (x - x[:train].mean(0)) / (x[:train].std(0) + 1e-6)
    k = int(y.max()) + 1
    w = torch.zeros(x.shape[1], k, requires_grad=True)
    b = torch.zeros(k, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=1e-2)
    target = torch.tensor(y)
    for _ in range(500):
        loss = torch.nn.functional.cross_entropy(x[:train] @ w + b, target[:train]) + 1e-3 * (w**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return round(100 * float(((x[train:] @ w + b).argmax(1) == target[train:]).float().mean()), 1)


def vision_features(model, processor, videos: list[np.ndarray], chunk: int = 48):
    import torch

    out = []
    for start in range(0, len(videos), chunk):
        batch = processor.video_processor(videos=videos[start:start + chunk], return_tensors="pt")
        with torch.no_grad():
            feats = model.model.get_video_features(pixel_values_videos=batch["pixel_values_videos"],
                                                   video_grid_thw=batch["video_grid_thw"])
        feats = getattr(feats, "pooler_output", feats)
        feats = torch.cat(list(feats)).view(len(videos[start:start + chunk]), -1, model.config.text_config.hidden_size)
        norm = float(feats.norm(dim=-1).mean())
        feats = feats / feats.norm(dim=-1, keepdim=True)
        out.append(torch.cat([feats.mean(1), feats.max(1).values], -1))
    return torch.cat(out), norm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="assets/toy-base")
    parser.add_argument("--scenes", type=int, default=480)
    args = parser.parse_args()

    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch

    from videostar.models.hf import load_processor_and_model
    from videostar.prompts import Prompts
    from videostar.toyworld.instructions import demo_labels, general_examples
    from videostar.toyworld.scenes import render, sample_scene
    from videostar.train.collators import VideoSFTCollator

    processor, model = load_processor_and_model(args.model, device="cpu")
    model.eval()
    torch.manual_seed(0)
    fresh = type(model)(model.config).eval()
    scenes = [sample_scene(np.random.default_rng([777, i])) for i in range(args.scenes)]
    videos = {str(i): render(s)[::2] for i, s in enumerate(scenes)}  # 8 of 16 frames, as the demo samples
    train = args.scenes * 3 // 4
    color = np.array([COLORS.index(demo_labels(s)["object color"].value) for s in scenes])
    count = np.array([int(demo_labels(s)["object count"].value) - 1 for s in scenes])
    report = {"model": args.model, "held_out": args.scenes - train,
              "majority": {name: round(100 * np.bincount(y[train:]).max() / (args.scenes - train), 1)
                           for name, y in (("color", color), ("count", count))}}
    for name, net in (("vision", model), ("vision_fresh_init", fresh)):
        feats, norm = vision_features(net, processor, list(videos.values()))
        report[name] = {"color": linear_probe(feats, color, train), "count": linear_probe(feats, count, train),
                        "feature_norm": round(norm, 2)}
    report["text_embedding_norm"] = round(float(model.get_input_embeddings().weight.detach().norm(dim=-1).mean()), 2)

    collate = VideoSFTCollator(processor, lambda row: videos[row["video"]])
    ids = [processor.tokenizer(c, add_special_tokens=False)["input_ids"][0] for c in COLORS]
    question = Prompts().direct.format(question="What is the color of the big object in this video?")
    hidden, answers = [], []
    for start in range(0, args.scenes, 48):
        rows = [{"video": str(i), "prompt": question, "response": COLORS[color[i]]}
                for i in range(start, min(args.scenes, start + 48))]
        batch = collate(rows)
        with torch.no_grad():
            out = model(**batch, output_hidden_states=True)
        at = (batch["labels"] != -100).float().argmax(1) - 1  # the position that predicts the answer
        hidden.append(torch.stack([h[torch.arange(len(rows)), at] for h in out.hidden_states], 1))
        answers += out.logits[torch.arange(len(rows)), at][:, ids].argmax(1).tolist()
    hidden = torch.cat(hidden)
    report["readout"] = {"answer": round(100 * float(np.mean(np.array(answers[train:]) == color[train:])), 1),
                         "probe_per_layer": [linear_probe(hidden[:, layer], color, train)
                                             for layer in range(hidden.shape[1])]}

    rng = np.random.default_rng(5)
    rows = [{**e, "video": str(i)} for i, s in enumerate(scenes[:24]) for e in general_examples(s, rng, Prompts())]
    losses = defaultdict(list)
    for swapped in (False, True):
        for start in range(0, len(rows), 40):
            chunk = [{**r, "video": str((int(r["video"]) + swapped) % 24)} for r in rows[start:start + 40]]
            batch = collate(chunk)
            with torch.no_grad():
                logits = model(**batch).logits
            labels = batch["labels"][:, 1:]
            token_loss = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), labels,
                                                           reduction="none", ignore_index=-100)
            for row, row_labels, row_loss in zip(chunk, labels, token_loss):
                for pos in (row_labels != -100).nonzero().flatten().tolist():
                    word = processor.tokenizer.decode([int(row_labels[pos])]).strip().strip("().")
                    kind = "visual" if word in VISUAL else "other"
                    losses[(swapped, f"{row['form']}/{row['task']}", kind)].append(float(row_loss[pos]))
    real_total = sum(sum(v) for k, v in losses.items() if not k[0])
    report["loss"] = {
        form: {"other": round(float(np.mean(losses[(False, form, "other")] or [0.0])), 3),
               "visual_real": round(float(np.mean(losses[(False, form, "visual")] or [0.0])), 3),
               "visual_swapped": round(float(np.mean(losses[(True, form, "visual")] or [0.0])), 3),
               "share_of_loss": round(sum(losses[(False, form, "visual")] + losses[(False, form, "other")]) / real_total, 3)}
        for form in sorted({k[1] for k in losses})}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
