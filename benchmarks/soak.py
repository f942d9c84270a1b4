"""Soak test: random ``kill -9`` during ``videostar generate``, ``star`` (its generation and training
phases, full fine-tuning and LoRA) and ``savi``, each killed run resumed with ``--resume`` until it
finishes, then compared with an uninterrupted run of the same config:

- the ledger has no duplicate and no missing generation (same keys as the uninterrupted run),
- the exports (``videostar export``) are byte-identical (greedy decoding: temperature 0),
- every round's trained model equals the uninterrupted run's bit for bit (CPU, one thread).

    python benchmarks/soak.py --work /tmp/soak --generate-kills 20 --star-kills 8 --savi-kills 2

Prints a JSON summary. Kills are timed per phase: a kill aims at a phase (e.g. "train"), waits until
the run is in it, then a random part of that phase's length in the uninterrupted run. Training saves a
checkpoint every 3 steps, so kills also land inside checkpoint saves. The CLI is driven by subprocess,
as a user would. The model is ``assets/toy-base`` (it keeps some answers, so every cycle trains); a
random ``videostar models tiny`` model keeps none and would never reach training. The toy videos use
the demo's tasks (``make_toy_dataset(labeler="demo")``), the ones toy-base answers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
GENERATE = {"frames": {"mode": "uniform", "num_frames": 8}, "batch_size": 4,
            "sampling": {"temperature": 0.0, "max_new_tokens": 48}, "steps": ["answer", "rationalize"]}
TRAIN_FULL = {"lora": None, "learning_rate": 0.002, "max_steps": 12, "batch_size": 4, "save_steps": 3}
TRAIN_LORA = {**TRAIN_FULL, "lora": {"r": 4, "alpha": 8}, "learning_rate": 0.01}


def videostar(*args: str, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen([sys.executable, "-m", "videostar.cli", *args], env=ENV, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def finish(*args: str, log: Path) -> None:
    process = videostar(*args, log=log)
    if process.wait() != 0:
        raise SystemExit(f"videostar {' '.join(args)} failed; see {log}:\n{log.read_text()[-3000:]}")


def phase(run_dir: Path, name: str) -> str:
    """Where a run is: 'setup' (nothing recorded), 'generate' or 'train' (of the current round), 'done'."""
    if name == "generate":
        return "generate" if (run_dir / "ledger.sqlite").exists() else "setup"
    try:
        rounds = json.loads((run_dir / f"{name}_state.json").read_text())["rounds"]
    except (OSError, ValueError):
        return "generate" if run_dir.exists() else "setup"
    if rounds and "trained" not in rounds[-1]:
        return "train" if "generated" in rounds[-1] else "generate"
    return "generate"  # the next round's generation (or the summary of the last one)


def timed_run(command: list[str], run_dir: Path, name: str, log: Path) -> dict[str, float]:
    """Run to the end uninterrupted; return the seconds spent in each phase (for the kill timing)."""
    process, spent, last = videostar(*command, log=log), {}, time.monotonic()
    while process.poll() is None:
        time.sleep(0.02)
        now = time.monotonic()
        current = phase(run_dir, name)
        spent[current] = spent.get(current, 0.0) + now - last
        last = now
    if process.returncode != 0:
        raise SystemExit(f"uninterrupted {name} failed; see {log}")
    return spent


def killed_run(command: list[str], run_dir: Path, name: str, wanted: int, aims: list[str], windows: dict,
               rng: random.Random, log: Path) -> list[dict]:
    """Start, kill -9 at a random moment of the aimed phase, restart with --resume; repeat until
    ``wanted`` kills or the run finishes; then finish it. Returns one record per kill."""
    kills: list[dict] = []
    while len(kills) < wanted:
        aim = aims[len(kills) % len(aims)]
        process, started, delay = videostar(*command, "--resume", log=log), None, 0.0
        while process.poll() is None:
            if phase(run_dir, name) == aim:
                if started is None:
                    started, delay = time.monotonic(), rng.uniform(0, windows.get(aim, 1.0))
                elif time.monotonic() - started >= delay:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    kills.append({"aim": aim, "after_s": round(delay, 2), "phase": phase(run_dir, name)})
                    break
            time.sleep(0.02)
        else:
            if process.returncode != 0:
                raise SystemExit(f"resumed {name} failed; see {log}")
            return kills  # it finished before the next kill
    finish(*command, "--resume", log=log)
    return kills


def ledger_rows(db: Path) -> tuple[dict, int]:
    """(question_id, step, sample_index) -> (text, passed), and how many keys appear more than once."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT question_id, step, sample_index, text, passed FROM generations").fetchall()
    keys = [r[:3] for r in rows]
    return {r[:3]: r[3:] for r in rows}, len(keys) - len(set(keys))


def exported(run_dir: Path, out: Path, log: Path, pairs: bool = False) -> bytes:
    finish("export", str(run_dir), str(out), *(["--pairs"] if pairs else []), log=log)
    return out.read_bytes()


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    tensors = {}
    for file in sorted(model_dir.glob("*.safetensors")):
        tensors.update(load_file(file))
    return tensors


def compare(reference: Path, killed: Path, name: str, log: Path) -> dict:
    """Ledgers, exports and trained models of every round of ``killed`` against ``reference``."""
    if name == "generate":
        rounds = [(reference, killed, None)]
    else:
        unit = "cycle" if name == "star" else "iteration"
        states = [json.loads((d / f"{name}_state.json").read_text())["rounds"] for d in (reference, killed)]
        rounds = [(reference / f"{unit}_{k}" / "generate", killed / f"{unit}_{k}" / "generate",
                   (states[0][k]["trained"]["model"], states[1][k]["trained"]["model"]))
                  for k in range(len(states[0]))]
    result = {"rounds": len(rounds), "ledger_rows": 0, "duplicates": 0, "missing": 0, "extra": 0,
              "texts_differ": 0, "exports_equal": True, "trained_rounds": 0, "weights_equal": True}
    for k, (ref_dir, run_dir, models) in enumerate(rounds):
        (ref, _), (got, duplicates) = ledger_rows(ref_dir / "ledger.sqlite"), ledger_rows(run_dir / "ledger.sqlite")
        result["ledger_rows"] += len(got)
        result["duplicates"] += duplicates
        result["missing"] += len(ref.keys() - got.keys())
        result["extra"] += len(got.keys() - ref.keys())
        result["texts_differ"] += sum(ref[key] != got[key] for key in ref.keys() & got.keys())
        for pairs in ([False, True] if name == "savi" else [False]):
            files = [exported(d, log.parent / f"{name}-{d.parent.name}-{k}-{pairs}-{i}.jsonl", log, pairs)
                     for i, d in enumerate((ref_dir, run_dir))]
            result["exports_equal"] &= (files[0].replace(str(reference).encode(), b"")
                                        == files[1].replace(str(killed).encode(), b""))
        if models and Path(models[0]).is_relative_to(reference):  # else training was skipped (nothing kept)
            a, b = weights(Path(models[0])), weights(Path(models[1]))
            result["trained_rounds"] += 1
            result["weights_equal"] &= a.keys() == b.keys() and all((a[n] == b[n]).all().item() for n in a)
    return result


def soak(name: str, config: dict, work: Path, wanted: int, aims: list[str], rng: random.Random,
         max_runs: int) -> dict:
    log = work / f"{name}.log"
    command = ["generate" if name == "generate" else name.split("_")[0]]

    def configured(run_dir: Path) -> list[str]:
        file = run_dir.parent / f"{run_dir.name}.yaml"
        body = {**config, "run_dir": str(run_dir)} if name == "generate" else \
            {**config, "generate": {**config["generate"], "run_dir": str(run_dir)}}
        file.write_text(json.dumps(body))  # JSON is YAML
        return [*command, "--config", str(file)]

    reference = work / f"{name}-reference"
    started = time.monotonic()
    rounds = config.get("cycles") or config.get("iterations") or 1
    windows = {p: s / rounds for p, s in timed_run(configured(reference), reference, command[0], log).items()}
    reference_s = time.monotonic() - started
    summary = {"kills": 0, "kills_by_phase": {}, "runs": 0, "reference_s": round(reference_s, 1), "checks": []}
    while summary["kills"] < wanted and summary["runs"] < max_runs:
        run_dir = work / f"{name}-killed-{summary['runs']}"
        kills = killed_run(configured(run_dir), run_dir, command[0], wanted - summary["kills"], aims, windows, rng,
                           log)
        summary["runs"] += 1
        summary["kills"] += len(kills)
        for kill in kills:
            summary["kills_by_phase"][kill["phase"]] = summary["kills_by_phase"].get(kill["phase"], 0) + 1
        summary["checks"].append(compare(reference, run_dir, command[0], log))
    checks = summary["checks"]
    summary["ok"] = all(c["duplicates"] == c["missing"] == c["extra"] == c["texts_differ"] == 0
                        and c["exports_equal"] and c["weights_equal"] for c in checks)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (created)")
    parser.add_argument("--model", default=str(REPO / "assets" / "toy-base"))
    parser.add_argument("--videos", type=int, default=8, help="toy videos (6 questions each)")
    parser.add_argument("--generate-kills", type=int, default=20)
    parser.add_argument("--star-kills", type=int, default=8, help="split between full fine-tuning and LoRA")
    parser.add_argument("--savi-kills", type=int, default=2)
    parser.add_argument("--max-runs", type=int, default=8, help="killed runs per command at most")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    started = time.monotonic()
    from videostar.toyworld.dataset import make_toy_dataset

    # The demo's tasks: the ones toy-base was pretrained to answer, so some answers are kept.
    make_toy_dataset(work / "toy", args.videos, seed=3, labeler="demo")
    generate = {**GENERATE, "model": {"path": args.model, "device": "cpu"}, "manifest": str(work / "toy" / "manifest.jsonl")}
    summary = {"model": args.model, "videos": args.videos}
    plans = [
        ("generate", generate, args.generate_kills, ["generate"]),
        ("star_full", {"generate": generate, "train": TRAIN_FULL, "cycles": 2}, (args.star_kills + 1) // 2,
         ["generate", "train"]),
        ("star_lora", {"generate": generate, "train": TRAIN_LORA, "cycles": 2}, args.star_kills // 2,
         ["train", "generate"]),
        ("savi", {"generate": generate, "savi": {"questions_per_video": 2, "sources": ["self_critique", "label_verified"],
                                                 "label_samples": 2},
                  "train": {**TRAIN_FULL, "max_steps": 6, "batch_size": 2, "save_steps": 2}, "iterations": 2},
         args.savi_kills, ["generate", "train"]),
    ]
    for name, config, wanted, aims in plans:
        if wanted > 0:
            summary[name] = soak(name, config, work, wanted, aims, rng, args.max_runs)
    summary["ok"] = all(v["ok"] for v in summary.values() if isinstance(v, dict))
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
