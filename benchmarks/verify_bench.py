"""Verifications per second per label type, with the real rules and the bundled MiniLM embedder.

Rule-based types (choice included) run 100,000 checks each (varied answers, half passing); embedding types run
fewer (they are bound by the model) and report both a cold pass (embedding everything) and a
warm pass (embeddings cached, as when a label is checked against many answers). Also compares
batched verification (``verify_many``) with one call per answer on the embedding types. Prints JSON.

    python benchmarks/verify_bench.py [--n 100000] [--n-embed 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import time

from videostar.data.labels import parse_label
from videostar.verify.embed import Embedder
from videostar.verify.verifier import Verifier, VerifyItem

CLASSES = ["cartwheel", "playing ukulele", "jumping jacks", "riding a bike", "tying knot", "moving left"]


def make_items(kind: str, n: int, rng: random.Random) -> list[VerifyItem]:
    items = []
    for i in range(n):
        if kind == "temporal_range":
            s = rng.uniform(0, 0.5)
            label = {"type": kind, "value": [round(s, 3), round(s + 0.3, 3)]}
            d = rng.choice([0.02, 0.3])
            answer = (f"Step by step: the action kicks off near {s + d:.2f}. It is over by {s + 0.3 + d:.2f}."
                      if i % 2 else f"Step by step: it starts around {s + d:.2f}. "
                                    f"Final answer: from {s + d:.2f} to {s + 0.3 + d:.2f}.")
        elif kind == "bbox":
            x, y = rng.uniform(0, 0.5), rng.uniform(0, 0.5)
            label = {"type": kind, "value": [round(x, 3), round(y, 3), round(x + 0.3, 3), round(y + 0.3, 3)]}
            d = rng.choice([0.02, 0.25])
            answer = f"The object is at [{x + d:.2f}, {y:.2f}, {x + 0.3 + d:.2f}, {y + 0.3:.2f}] in the frame."
        elif kind == "score":
            g = rng.uniform(20, 100)
            label = {"type": kind, "value": round(g, 1), "scale": [0, 100]}
            answer = f"Judging execution, I give {g * rng.choice([1.03, 1.4]):.1f} out of 100."
        elif kind == "timestamp":
            g = rng.uniform(0, 1)
            label = {"type": kind, "value": round(g, 3)}
            answer = f"It appears at {min(1, g + rng.choice([0.05, 0.3])):.2f} of the video."
        elif kind == "class":
            g = rng.choice(CLASSES)
            label = {"type": kind, "value": g}
            shown = g if rng.random() < 0.5 else rng.choice(CLASSES)
            answer = f"Looking at the motion frame by frame, the person is {shown}. Final answer: {shown}."
        elif kind == "choice":
            options = rng.sample(CLASSES, 4)
            label = {"type": kind, "value": options[0], "options": options}
            shown = rng.choice(options[:2])
            answer = f"Comparing the options with the video, it is {shown}. Final answer: ({'ABCD'[options.index(shown)]})"
        elif kind == "text":
            g = f"A {rng.choice(['red', 'blue', 'green'])} {rng.choice(['square', 'circle'])} moves {rng.choice(['left', 'up'])} number {i}."
            label = {"type": kind, "value": g}
            answer = f"The video shows a {rng.choice(['red', 'yellow'])} shape moving {rng.choice(['left', 'down'])}, clip {i}."
        else:
            steps = [f"the {c} object appears" for c in rng.sample(["red", "blue", "green", "yellow"], 3)]
            label = {"type": kind, "value": steps}
            order = steps if rng.random() < 0.5 else steps[::-1]
            answer = f"First {order[0]}, then {order[1]}, then {order[2]} (clip {i})."
        items.append(VerifyItem([parse_label(label)], answer))
    return items


def rate(verifier: Verifier, items: list[VerifyItem], batch: int) -> tuple[float, float]:
    start = time.perf_counter()
    passed = 0
    for i in range(0, len(items), batch):
        passed += sum(v.passed for v in verifier.verify_many(items[i:i + batch]))
    seconds = time.perf_counter() - start
    return len(items) / seconds, passed / len(items)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--n-embed", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(0)
    embedder = Embedder()
    embedder.encode(["warm up"])
    results = {}
    for kind in ("temporal_range", "bbox", "score", "timestamp", "class", "choice"):
        items = make_items(kind, args.n, rng)
        per_second, pass_rate = rate(Verifier(embedder=embedder), items, batch=1024)
        results[kind] = {"checks": args.n, "per_second": round(per_second), "pass_rate": round(pass_rate, 3)}
    for kind in ("text", "sequence"):
        items = make_items(kind, args.n_embed, rng)
        cold_batched, pass_rate = rate(Verifier(embedder=Embedder()), items, batch=256)
        cold_single, _ = rate(Verifier(embedder=Embedder()), items[: args.n_embed // 4], batch=1)
        verifier = Verifier(embedder=Embedder())
        rate(verifier, items, batch=256)
        warm, _ = rate(verifier, items, batch=256)
        results[kind] = {"checks": args.n_embed, "per_second_cold_batched": round(cold_batched),
                         "per_second_cold_one_at_a_time": round(cold_single),
                         "per_second_warm_cache": round(warm), "pass_rate": round(pass_rate, 3)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
